"""The store's read transactions, written once for every database (see :mod:`.writes`):
finding a session's row and reading its entries, for the faces and for the writes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from claude_sessions.store.dialect import ROW_COLUMNS, Dialect, SessionRow, session_row
from claude_sessions.store.plan import Op, Stmt


@dataclass(frozen=True)
class ProjectSession:
    """One main transcript under a project key, as the official SDK protocol lists it."""

    session_id: str
    mtime_ms: int
    summary: dict[str, Any] | None


# -- finding rows -------------------------------------------------------------------------


def by_ref(d: Dialect, ref: int) -> Op[SessionRow]:
    row = yield Stmt(d.sql(f"SELECT {ROW_COLUMNS} FROM sessions s WHERE s.id = ?"), (ref,), "one")
    return session_row(d, row)


def find_live(d: Dialect, session_id: str, project_key: str | None) -> Op[SessionRow | None]:
    """The live session with this id (and project key; ``None``: the newest of any)."""
    if project_key is None:
        sql = (
            f"SELECT {ROW_COLUMNS} FROM sessions s WHERE s.session_id = ? "
            "AND s.trashed_at IS NULL ORDER BY s.updated_at DESC, s.id DESC LIMIT 1"
        )
        params: tuple[Any, ...] = (session_id,)
    else:
        sql = (
            f"SELECT {ROW_COLUMNS} FROM sessions s WHERE s.session_id = ? "
            "AND s.project_key = ? AND s.trashed_at IS NULL"
        )
        params = (session_id, d.text(project_key))
    row = yield Stmt(d.sql(sql), params, "one")
    return None if row is None else session_row(d, row)


# -- reading entries ----------------------------------------------------------------------


def load_entries(d: Dialect, ref: int, subpath: str) -> Op[list[dict[str, Any]]]:
    rows = yield Stmt(
        d.sql(
            f"SELECT {d.entry_columns()} FROM entries WHERE session_ref = ? AND subpath = ? "
            "ORDER BY seq"
        ),
        (ref, d.text(subpath)),
        "all",
    )
    return [d.entry(row) for row in rows]


def subagent_entries(d: Dialect, ref: int) -> Op[list[dict[str, Any]]]:
    """Every subagent entry of session ``ref``, one transcript after another."""
    rows = yield Stmt(
        d.sql(
            f"SELECT {d.entry_columns()} FROM entries WHERE session_ref = ? AND subpath <> '' "
            "ORDER BY subpath, seq"
        ),
        (ref,),
        "all",
    )
    return [d.entry(row) for row in rows]


def stored_entries(
    d: Dialect, ref: int, subpath: str, keys: Sequence[str]
) -> Op[tuple[dict[str, dict[str, Any]], int]]:
    """The stored entries of a transcript under ``keys``, and its next free position
    (an empty transcript, as every new one is, is not searched)."""
    top = yield Stmt(
        d.sql(
            "SELECT coalesce(max(seq) + 1, 0) AS next FROM entries "
            "WHERE session_ref = ? AND subpath = ?"
        ),
        (ref, d.text(subpath)),
        "one",
    )
    next_seq = int(top["next"])
    stored: dict[str, dict[str, Any]] = {}
    for start in range(0, len(keys) if next_seq else 0, 500):
        chunk = [d.text(key) for key in keys[start : start + 500]]
        condition, params = d.any_of("entry_key", chunk)
        rows = yield Stmt(
            d.sql(
                f"SELECT entry_key, {d.entry_columns()} FROM entries "
                f"WHERE session_ref = ? AND subpath = ? AND {condition}"
            ),
            (ref, d.text(subpath), *params),
            "all",
        )
        stored.update((r["entry_key"], d.entry(r)) for r in rows)
    return stored, next_seq


# -- for the faces ------------------------------------------------------------------------


def load(
    d: Dialect, session_id: str, *, project_key: str | None = None, subpath: str = ""
) -> Op[tuple[SessionRow, list[dict[str, Any]]] | None]:
    """A live session's row and the entries of one of its transcripts (``None``: no
    session, or a subpath without entries)."""
    row = yield from find_live(d, session_id, project_key)
    if row is None:
        return None
    entries = yield from load_entries(d, row.ref, subpath)
    if subpath and not entries:
        return None
    return row, entries


def load_subagents(d: Dialect, ref: int) -> Op[dict[str, list[dict[str, Any]]]]:
    """Every subagent transcript of session ``ref``, by subpath."""
    rows = yield Stmt(
        d.sql(
            f"SELECT subpath, {d.entry_columns()} FROM entries WHERE session_ref = ? "
            "AND subpath <> '' ORDER BY subpath, seq"
        ),
        (ref,),
        "all",
    )
    found: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        found.setdefault(row["subpath"], []).append(d.entry(row))
    return found


def find_ids(
    d: Dialect, prefix: str, limit: int, *, trashed: bool = False, visible_to: str | None = None
) -> Op[list[str]]:
    """Distinct session ids starting with ``prefix``; an exact match alone when there is one
    (``visible_to``: among the sessions a viewer seeing that user's may see)."""
    state, params = _state(d, trashed, visible_to)
    exact = yield Stmt(
        d.sql(f"SELECT 1 AS found FROM sessions WHERE session_id = ? AND trashed_at {state}"),
        (prefix, *params),
        "one",
    )
    if exact is not None:
        return [prefix]
    return (yield from _ids_starting(d, prefix, limit, state, params))


def _state(d: Dialect, trashed: bool, visible_to: str | None) -> tuple[str, tuple[Any, ...]]:
    """What follows ``trashed_at`` in a condition on a session: in the trash or not, and
    (``visible_to``) one a viewer seeing that user's may see."""
    state = "IS NOT NULL" if trashed else "IS NULL"
    if visible_to is None:
        return state, ()
    return f"{state} AND (user_name = ? OR shared = 1)", (d.text(visible_to),)


def _ids_starting(
    d: Dialect, prefix: str, limit: int, state: str, visible: tuple[Any, ...]
) -> Op[list[str]]:
    condition, params = d.starts_with("session_id", prefix)
    rows = yield Stmt(
        d.sql(
            f"SELECT DISTINCT session_id FROM sessions WHERE {condition} AND trashed_at {state} "
            "ORDER BY session_id LIMIT ?"
        ),
        (*params, *visible, limit),
        "all",
    )
    return sorted(row["session_id"] for row in rows)


def unique_prefixes(
    d: Dialect,
    session_ids: Sequence[str],
    shortest: int,
    *,
    trashed: bool = False,
    visible_to: str | None = None,
) -> Op[dict[str, str]]:
    """Each id's shortest prefix, of at least ``shortest`` characters, that :func:`find_ids`
    resolves to it alone among the live (or trashed) sessions (``visible_to``: that a viewer
    may see); an id that is the prefix of another comes whole (an exact id always wins)."""
    state, visible = _state(d, trashed, visible_to)
    found: dict[str, str] = {}
    for session_id in session_ids:
        low, high = min(shortest, len(session_id)), len(session_id)
        while low < high:  # the shortest length naming it alone (the whole id always does)
            middle = (low + high) // 2
            named = yield from _ids_starting(d, session_id[:middle], 2, state, visible)
            low, high = (low, middle) if len(named) <= 1 else (middle + 1, high)
        found[session_id] = session_id[:low]
    return found


def project_sessions(d: Dialect, project_key: str) -> Op[list[ProjectSession]]:
    """The live sessions with entries under a project key (the SDK protocol's listing)."""
    rows = yield Stmt(
        d.sql(
            f"SELECT {ROW_COLUMNS} FROM sessions s WHERE s.project_key = ? "
            "AND s.message_count > 0 AND s.trashed_at IS NULL"
        ),
        (d.text(project_key),),
        "all",
    )
    found = [session_row(d, row) for row in rows]
    return [ProjectSession(s.metadata.session_id, s.mtime_ms, s.sdk_summary) for s in found]


def subkeys(d: Dialect, project_key: str, session_id: str) -> Op[list[str]]:
    row = yield from find_live(d, session_id, project_key)
    if row is None:
        return []
    rows = yield Stmt(
        d.sql("SELECT DISTINCT subpath FROM entries WHERE session_ref = ? AND subpath <> ''"),
        (row.ref,),
        "all",
    )
    return sorted(r["subpath"] for r in rows)
