"""Keeping the full text of tool calls and subagents caught up with the store.

On SQLite that text lives in a side index the store's writes leave alone (see
:mod:`claude_sessions.store.sqlite.side_index`): :func:`update_search_index`
indexes what was stored since, and :func:`not_indexed` says how many
sessions' text is not in it yet, so a search can say so. On PostgreSQL it is
indexed with the rest of a session's text, in the same transaction, but for the
prompts and replies of sessions stored before they were indexed apart: those are
what both catch up with and count there (see :mod:`.postgres.own_fill`).
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING

from claude_sessions.store.location import sqlite_path
from claude_sessions.store.sqlite.side_indexer import IndexRun, Progress

if TYPE_CHECKING:
    from claude_sessions.model.filters import SessionFilter
    from claude_sessions.store.postgres.dialect import PostgresDialect
    from claude_sessions.store.session_store import SessionStore

__all__ = [
    "IndexRun",
    "Progress",
    "indexed_text",
    "indexer_running",
    "missing_note",
    "not_indexed",
    "not_indexed_for",
    "not_indexed_note",
    "update_search_index",
]


def _database(store: SessionStore) -> Path | None:
    """The store's SQLite file (``None`` on PostgreSQL)."""
    return sqlite_path(store.location)


def _postgres(store: SessionStore) -> PostgresDialect | None:
    from claude_sessions.store.postgres.dialect import PostgresDialect

    dialect = store.core.d
    return dialect if isinstance(dialect, PostgresDialect) else None


def update_search_index(
    store: SessionStore,
    *,
    session_ids: Collection[str] | None = None,
    progress: Progress | None = None,
) -> IndexRun:
    """Index the tool calls, tool results and subagent text stored since the last run
    (``session_ids``: only those sessions'), with a connection of its own, in batches;
    ``progress(done, total)`` counts entries. Returns at once, with ``busy`` set, while
    another process indexes this store. A read-only store is left as it is."""
    if store.read_only:
        return IndexRun()
    path = _database(store)
    if path is None:
        # A capture's sessions (``session_ids``) were indexed as they were saved: it
        # never waits for the fill of an older store's sessions.
        return _fill_postgres(store, progress) if session_ids is None else IndexRun()
    from claude_sessions.store.sqlite.side_indexer import catch_up

    return catch_up(path, session_ids=session_ids, progress=progress)


def _fill_postgres(store: SessionStore, progress: Progress | None) -> IndexRun:
    """The prompts and replies of the sessions stored before they were indexed apart."""
    dialect = _postgres(store)
    if dialect is None:
        return IndexRun()
    from claude_sessions.store.postgres.own_fill import fill

    sessions, entries = store.run(fill(dialect, progress))
    return IndexRun(sessions=sessions, entries=entries)


def not_indexed(store: SessionStore) -> int:
    """How many sessions hold text a search does not find yet: tool or subagent text on
    SQLite, prompts and replies of sessions stored before on PostgreSQL."""
    path = _database(store)
    if path is None:
        from claude_sessions.store.postgres.own_fill import pending as own_pending

        return store.run(own_pending())
    from claude_sessions.store.sqlite.side_indexer import not_indexed as pending

    return pending(path)


def _own_places(where: SessionFilter) -> list[str]:
    return [place for place in where.aside_places if place in ("prompt", "reply")]


def not_indexed_for(store: SessionStore, where: SessionFilter) -> int:
    """How many sessions hold text a search by ``where`` may not find yet."""
    if where.text is None and where.tool is None:
        return 0
    if _database(store) is None and not _own_places(where):
        return 0  # PostgreSQL indexes tool text as it stores it
    return not_indexed(store)


def not_indexed_note(store: SessionStore, where: SessionFilter) -> str | None:
    """What a search by ``where`` says it may miss (``None``: nothing): every face of
    search says it the same way."""
    # A search kept to prompts or to replies reads them from that index too.
    own = _own_places(where)
    return missing_note(not_indexed_for(store, where), f"{own[0]} text" if own else "tool text")


def indexed_text(store: SessionStore) -> str:
    """What the indexer catches up with on this store's database, for its messages."""
    return "tool text" if _database(store) is not None else "prompt and reply text"


def missing_note(count: int, what: str = "tool text") -> str | None:
    """``tool text of 12 sessions not indexed yet`` (``None`` for none)."""
    if not count:
        return None
    return f"{what} of {count} session{'s' * (count != 1)} not indexed yet"


def indexer_running(store: SessionStore) -> bool:
    """Whether another process is indexing this store now."""
    path = _database(store)
    if path is None or store.read_only:
        return False
    from claude_sessions.store.sqlite.side_index import held_by_another

    return held_by_another(path)
