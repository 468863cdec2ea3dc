"""What a laptop reads of a team store (``sync --pull``): the sessions its user may see,
and each one's entries, in pages that a cursor resumes (keyset: no page shifts when
sessions are written meanwhile).

Sessions come in the order of their last write (the storage clock, then the row), so a
laptop that keeps the cursor the last page gives (``since``) is shown, next time, every
session written since (sharing one is a write). A session
the user may not see (:mod:`.visibility`) reads as missing, its id included.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from claude_sessions.model.exceptions import InvalidInputError, SessionNotFoundError
from claude_sessions.model.identity import User
from claude_sessions.model.ids import validate_session_id
from claude_sessions.model.preparing import key_place
from claude_sessions.model.team_wire import (
    EntryPage,
    PagedEntry,
    SessionHeader,
    SessionListed,
    SessionPage,
)
from claude_sessions.store.access import limited_to, may_see, visible_condition
from claude_sessions.store.dialect import META_COLUMNS, Dialect, read_metadata
from claude_sessions.store.plan import Op, Stmt, Txn, single
from claude_sessions.store.reads import find_live
from claude_sessions.store.session_store import SessionStore

MAX_SESSIONS = 500
MAX_ENTRIES = 2000
# How far back of the clock a pull's ``since`` stays: longer than a write takes from the
# moment it stamps a session to its commit.
OVERLAP_MS = 5 * 60 * 1000


def page_size(value: str | None, most: int) -> int:
    """A page's size as a request gives it (``None``: the most)."""
    if value is None:
        return most
    if not value.isdigit() or not 1 <= int(value) <= most:
        raise InvalidInputError(f"limit must be a number from 1 to {most}")
    return int(value)


def _numbers(cursor: str, parts: int) -> list[int]:
    found = cursor.split(".", parts - 1)
    if len(found) != parts or not all(part.isdigit() for part in found):
        raise InvalidInputError("not a cursor this server gave")
    return [int(part) for part in found]


# -- sessions -----------------------------------------------------------------------------


def _listed(d: Dialect, row: Mapping[str, Any]) -> SessionListed:
    meta = read_metadata(d, row)
    return SessionListed(
        meta.session_id,
        meta.project_key,
        meta.project,
        meta.user,
        meta.machine,
        meta.updated_at.isoformat(),
        int(row["entry_count"]),
    )


def _sessions(
    d: Dialect, user: str | None, after: str | None, limit: int, now_ms: int
) -> Op[SessionPage]:
    where, params = ["s.trashed_at IS NULL"], list[Any]()
    if user is not None:
        seen, seen_params = visible_condition(d, user)
        where.append(seen)
        params += seen_params
    if after is not None:
        mtime, ref = _numbers(after, 2)
        where.append("(s.mtime_ms > ? OR (s.mtime_ms = ? AND s.id > ?))")
        params += [mtime, mtime, ref]
    rows = yield Stmt(
        d.sql(
            f"SELECT {META_COLUMNS}, s.mtime_ms, "
            "(SELECT count(*) FROM entries e WHERE e.session_ref = s.id) AS entry_count "
            f"FROM sessions s WHERE {' AND '.join(where)} ORDER BY s.mtime_ms, s.id LIMIT ?"
        ),
        (*params, limit + 1),
        "all",
    )
    shown = rows[:limit]
    listed = tuple(_listed(d, row) for row in shown)
    if len(rows) > limit:
        return SessionPage(listed, f"{int(shown[-1]['mtime_ms'])}.{int(shown[-1]['id'])}")
    return SessionPage(listed, None, _since(after, shown, now_ms))


def _since(after: str | None, shown: Sequence[Mapping[str, Any]], now_ms: int) -> str:
    """Where a later pull lists from: past the last session listed, but never past what
    was written in the last :data:`OVERLAP_MS` (a write stamped earlier may commit later,
    behind an earlier page's cursor too: such a session is listed again, and a laptop
    that holds all of it fetches nothing)."""
    start = tuple(_numbers(after, 2)) if after is not None else (0, 0)
    reached = (int(shown[-1]["mtime_ms"]), int(shown[-1]["id"])) if shown else start
    mtime, ref = min(reached, (now_ms - OVERLAP_MS, 0))
    return f"{mtime}.{ref}"


def sessions_page(
    store: SessionStore, viewer: User, after: str | None = None, limit: int = MAX_SESSIONS
) -> SessionPage:
    """The sessions ``viewer`` may see, after cursor ``after``; the last page names in
    ``since`` the cursor a later pull starts from, to be shown what changed since."""
    d, user, now_ms = store.core.d, limited_to(viewer), int(store.core.now() * 1000)
    return store.run(single(Txn(lambda: _sessions(d, user, after, limit, now_ms))))


# -- one session's entries ----------------------------------------------------------------


def _entry_cursor(after: str) -> tuple[str, int]:
    """A cursor of entries: ``<seq>.<subpath>`` (a subpath may hold dots)."""
    seq, _, subpath = after.partition(".")
    if not seq.isdigit() or not _:
        raise InvalidInputError("not a cursor this server gave")
    return subpath, int(seq)


def _entries(
    d: Dialect,
    viewer: User,
    session_id: str,
    project_key: str | None,
    after: str | None,
    limit: int,
) -> Op[EntryPage]:
    row = yield from find_live(d, session_id, project_key)
    if row is None or not may_see(viewer, row.metadata.user, row.metadata.shared):
        raise SessionNotFoundError(session_id)
    meta = row.metadata
    where = "session_ref = ?"
    params: list[Any] = [row.ref]
    if after is not None:
        subpath, seq = _entry_cursor(after)
        where += " AND (subpath > ? OR (subpath = ? AND seq > ?))"
        params += [d.text(subpath), d.text(subpath), seq]
    rows = yield Stmt(
        d.sql(
            f"SELECT subpath, seq, entry_key, {d.entry_columns()} FROM entries WHERE {where} "
            "ORDER BY subpath, seq LIMIT ?"
        ),
        (*params, limit + 1),
        "all",
    )
    shown = [
        PagedEntry(r["subpath"], int(r["seq"]), d.entry(r), key_place(r["entry_key"]))
        for r in rows[:limit]
    ]
    cursor = f"{shown[-1].seq}.{shown[-1].subpath}" if len(rows) > limit else None
    header = SessionHeader(
        meta.session_id,
        meta.project_key,
        meta.project,
        meta.user,
        meta.machine,
        meta.title,
        meta.description,
        tuple(meta.tags),
    )
    return EntryPage(header, tuple(shown), cursor)


def entries_page(
    store: SessionStore,
    viewer: User,
    session_id: str,
    project_key: str | None = None,
    after: str | None = None,
    limit: int = MAX_ENTRIES,
) -> EntryPage:
    """A page of session ``session_id``'s entries (the newest live one of that id when
    ``project_key`` is ``None``), main transcript first; :class:`SessionNotFoundError`
    for a session ``viewer`` may not see, as for one that is not stored."""
    validate_session_id(session_id)
    d = store.core.d
    return store.run(
        single(Txn(lambda: _entries(d, viewer, session_id, project_key, after, limit)))
    )
