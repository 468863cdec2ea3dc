"""The trash's transactions: moving sessions aside, bringing them back, deleting for good.

A trashed session keeps its row (``trashed_at`` set) and leaves the full-text
index. A session id names at most one live session after a restore: the
restore of an id that a live session holds (under any project key) is
refused, and of the copies one delete took (one per project key) only the
one a reader saw, the most recently updated, comes back. Work on many
sessions runs in batches of :data:`CLEANUP_BATCH`, each its own short
transaction, so other writers are never held up for long.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from claude_sessions.model.exceptions import SessionConflictError
from claude_sessions.store.dialect import (
    META_COLUMNS,
    ROW_COLUMNS,
    Dialect,
    SessionRow,
    meta_text,
    read_metadata,
    session_row,
)
from claude_sessions.store.entry_writes import body_text, touch
from claude_sessions.store.plan import Op, Stmt
from claude_sessions.store.reads import by_ref, find_live, load_entries
from claude_sessions.store.records import SessionMetadata

CLEANUP_BATCH = 500
_NEWEST_FIRST = "s.trashed_at DESC, s.updated_at DESC, s.id DESC"


def trash(
    d: Dialect, session_id: str, *, project_key: str | None, now: float, reason: str
) -> Op[int]:
    """Move the live sessions with this id (under ``project_key``, or all) to the trash."""
    yield from d.lock(session_id)
    sql = "SELECT id, project_key FROM sessions WHERE session_id = ? AND trashed_at IS NULL"
    params: tuple[Any, ...] = (session_id,)
    if project_key is not None:
        sql += " AND project_key = ?"
        params += (d.text(project_key),)
    rows = yield Stmt(d.sql(sql), params, "all")
    yield from _to_trash(d, rows, now, reason)
    return len(rows)


def _to_trash(d: Dialect, rows: Sequence[Any], now: float, reason: str) -> Op[None]:
    """Trash the sessions of ``rows`` (each with ``id`` and ``project_key``)."""
    if not rows:
        return
    refs = [int(row["id"]) for row in rows]
    yield Stmt(
        d.sql("UPDATE sessions SET trashed_at = ?, trash_reason = ? WHERE id = ?"),
        [(d.time(now), reason, ref) for ref in refs],
        many=True,
    )
    for row in rows:
        yield from touch(d, int(row["id"]), row["project_key"], now)
    yield from d.drop_text(refs)


# -- restoring ----------------------------------------------------------------------------


def restore(d: Dialect, session_id: str, now: float) -> Op[SessionMetadata | None]:
    """Bring back the session the latest trashing of this id took (``None``: none in
    the trash); refused while a live session holds the id."""
    yield from d.lock(session_id)
    row = yield Stmt(
        d.sql(
            f"SELECT {ROW_COLUMNS} FROM sessions s WHERE s.session_id = ? "
            f"AND s.trashed_at IS NOT NULL ORDER BY {_NEWEST_FIRST} LIMIT 1"
        ),
        (session_id,),
        "one",
    )
    if row is None:
        return None
    live = yield from find_live(d, session_id, None)
    if live is not None:
        raise SessionConflictError(
            f"cannot restore {session_id}: a live session has this id"
            + (f" (project key {live.metadata.project_key})" if live.metadata.project_key else "")
            + "; trash or purge it first"
        )
    restored = session_row(d, row)
    yield from _bring_back(d, restored, now)
    final = yield from by_ref(d, restored.ref)
    return final.metadata


def _bring_back(d: Dialect, row: SessionRow, now: float) -> Op[None]:
    """Make a trashed session live again, back in the full-text index."""
    yield Stmt(
        d.sql("UPDATE sessions SET trashed_at = NULL, trash_reason = NULL WHERE id = ?"),
        (row.ref,),
    )
    yield from touch(d, row.ref, row.metadata.project_key, now)
    entries = yield from load_entries(d, row.ref, "")
    yield from d.set_text(
        row.ref, body_text(entries), meta_text(row.metadata.description, row.metadata.title)
    )


@dataclass(frozen=True)
class RestoredBatch:
    """What :func:`restore_batch` did: how many sessions came back, the ids left in the
    trash because a live session holds them, and the last id looked at (``None``: the
    trash holds no more)."""

    restored: int
    conflicts: list[str]
    last: str | None


def _trashed_where(d: Dialect, since: float | None, tags: Sequence[str]) -> tuple[str, list[Any]]:
    """Trashed sessions, trashed at or after ``since``, with any of ``tags``."""
    where, params = "s.trashed_at IS NOT NULL", []
    if since is not None:
        where += " AND s.trashed_at >= ?"
        params.append(d.time(since))
    if tags:
        condition, tagged = d.any_of("t.tag", [d.text(tag) for tag in tags])
        where += f" AND EXISTS (SELECT 1 FROM tags t WHERE t.session_ref = s.id AND {condition})"
        params.extend(tagged)
    return where, params


def restore_batch(
    d: Dialect, after: str | None, since: float | None, tags: Sequence[str], now: float
) -> Op[RestoredBatch]:
    """Restore, as :func:`restore` would one by one, the trashed sessions of the next
    :data:`CLEANUP_BATCH` session ids after ``after`` (in id order) that match ``since``
    and ``tags``; an id a live session holds is left in the trash and reported."""
    where, params = _trashed_where(d, since, tags)
    page, page_params = where, list(params)
    if after is not None:
        page += " AND s.session_id > ?"
        page_params.append(after)
    found = yield Stmt(
        d.sql(
            f"SELECT DISTINCT s.session_id FROM sessions s WHERE {page} "
            f"ORDER BY s.session_id LIMIT {CLEANUP_BATCH}"
        ),
        page_params,
        "all",
    )
    ids = [str(row["session_id"]) for row in found]
    if not ids:
        return RestoredBatch(0, [], None)
    for session_id in ids:  # always in id order: two bulk restores cannot deadlock
        yield from d.lock(session_id)
    newest = yield from _newest_trashed(d, where, params, ids)
    live = yield from _live_ids(d, ids)
    conflicts = [session_id for session_id in ids if session_id in live and session_id in newest]
    for session_id in ids:
        if session_id in newest and session_id not in live:
            yield from _bring_back(d, newest[session_id], now)
    restored = len(newest) - len(conflicts)
    return RestoredBatch(restored, conflicts, ids[-1] if len(ids) == CLEANUP_BATCH else None)


def _newest_trashed(
    d: Dialect, where: str, params: Sequence[Any], ids: Sequence[str]
) -> Op[dict[str, SessionRow]]:
    """The latest trashed copy of each of ``ids`` matching ``where`` (read under their
    locks: one restored or emptied meanwhile by another process is not there)."""
    condition, listed = d.any_of("s.session_id", list(ids))
    rows = yield Stmt(
        d.sql(
            f"SELECT {ROW_COLUMNS} FROM sessions s WHERE {where} AND {condition} "
            f"ORDER BY s.session_id, {_NEWEST_FIRST}"
        ),
        (*params, *listed),
        "all",
    )
    newest: dict[str, SessionRow] = {}
    for row in rows:
        newest.setdefault(str(row["session_id"]), session_row(d, row))
    return newest


def _live_ids(d: Dialect, ids: Sequence[str]) -> Op[set[str]]:
    condition, listed = d.any_of("session_id", list(ids))
    rows = yield Stmt(
        d.sql(f"SELECT session_id FROM sessions WHERE trashed_at IS NULL AND {condition}"),
        listed,
        "all",
    )
    return {str(row["session_id"]) for row in rows}


# -- deleting for good --------------------------------------------------------------------


def purge(d: Dialect, session_id: str, *, trashed: bool) -> Op[int]:
    """Delete for good the live (or, with ``trashed``, the trashed) sessions with this id."""
    yield from d.lock(session_id)
    state = "IS NOT NULL" if trashed else "IS NULL"
    count = yield Stmt(
        d.sql(f"DELETE FROM sessions WHERE session_id = ? AND trashed_at {state}"),
        (session_id,),
        "rowcount",
    )
    return int(count)


def empty_trash_batch(d: Dialect, cutoff: float | None) -> Op[int]:
    """Delete up to :data:`CLEANUP_BATCH` sessions trashed before ``cutoff`` (all: None)."""
    where = "trashed_at IS NOT NULL"
    params: tuple[Any, ...] = ()
    if cutoff is not None:
        where += " AND trashed_at < ?"
        params = (d.time(cutoff),)
    count = yield Stmt(
        d.sql(
            f"DELETE FROM sessions WHERE id IN (SELECT id FROM sessions WHERE {where} "
            f"LIMIT {CLEANUP_BATCH})"
        ),
        params,
        "rowcount",
    )
    return int(count)


# -- cleanup ------------------------------------------------------------------------------


def _expired_where(d: Dialect, protected: Sequence[str]) -> tuple[str, list[Any]]:
    where = "s.trashed_at IS NULL AND s.updated_at < ?"
    if not protected:
        return where, []
    condition, params = d.any_of("t.tag", [d.text(tag) for tag in protected])
    return (
        where + " AND NOT EXISTS (SELECT 1 FROM tags t WHERE t.session_ref = s.id "
        f"AND {condition})",
        params,
    )


def expired(d: Dialect, cutoff: float, protected: Sequence[str]) -> Op[list[SessionMetadata]]:
    where, params = _expired_where(d, protected)
    rows = yield Stmt(
        d.sql(f"SELECT {META_COLUMNS} FROM sessions s WHERE {where} ORDER BY s.updated_at, s.id"),
        (d.time(cutoff), *params),
        "all",
    )
    return [read_metadata(d, row) for row in rows]


def trash_expired_batch(
    d: Dialect, cutoff: float, protected: Sequence[str], now: float, reason: str
) -> Op[int]:
    """Trash up to :data:`CLEANUP_BATCH` expired sessions (one short transaction)."""
    where, params = _expired_where(d, protected)
    rows = yield Stmt(
        d.sql(f"SELECT s.id, s.project_key FROM sessions s WHERE {where} LIMIT {CLEANUP_BATCH}"),
        (d.time(cutoff), *params),
        "all",
    )
    yield from _to_trash(d, rows, now, reason)
    return len(rows)
