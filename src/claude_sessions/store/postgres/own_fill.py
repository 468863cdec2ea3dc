"""Filling in the prompts and replies (``aside_text.own``) of the sessions stored
before PostgreSQL indexed them apart.

The upgrade that added ``own`` lists the stored sessions in ``own_text_pending``
and leaves their text to this indexer, so the store opens at once. It fills a
batch of sessions per transaction and removes them from the list in the same
one: interrupted, it resumes with the sessions left, none indexed twice. Each
batch takes the sessions' write locks (a save of one of them waits for the
batch, a fraction of a second) so a line saved meanwhile, which its save indexes
itself, is not indexed again. Sessions saved since the upgrade never enter the
list: their saves index them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from claude_sessions.store.plan import Op, Plan, Stmt, Txn
from claude_sessions.store.postgres.dialect import PostgresDialect
from claude_sessions.store.postgres.schema import FILL_OWN_TEXT
from claude_sessions.store.postgres.tsqueries import PUNCTUATION, SPACES

# Sessions per transaction: about 4 ms each, so a save waits a fraction of a second.
BATCH = 50


@dataclass(frozen=True)
class Filled:
    """One batch: ``found``: the list was not empty; sessions filled, entries read."""

    found: bool
    sessions: int = 0
    entries: int = 0


def _listed() -> Op[bool]:
    """Whether the list exists (a store made by a build before it had none to fill)."""
    row = yield Stmt("SELECT to_regclass('own_text_pending') IS NOT NULL AS present", fetch="one")
    return bool(row["present"])


def _pending_sessions() -> Op[int]:
    if not (yield from _listed()):
        return 0
    row = yield Stmt("SELECT count(*) AS n FROM own_text_pending", fetch="one")
    return int(row["n"])


def pending() -> Plan[int]:
    """How many stored sessions' prompts and replies are not indexed yet."""
    count: int = yield Txn(_pending_sessions)
    return count


def _pending_entries() -> Op[int | None]:
    """The entries of the listed sessions (``None``: no list)."""
    if not (yield from _listed()):
        return None
    row = yield Stmt(
        "SELECT count(*) AS n FROM entries WHERE subpath = '' "
        "AND session_ref IN (SELECT session_ref FROM own_text_pending)",
        fetch="one",
    )
    return int(row["n"])


def _fill_batch(d: PostgresDialect) -> Op[Filled]:
    listed = yield Stmt(
        "SELECT p.session_ref, s.session_id FROM own_text_pending p "
        "JOIN sessions s ON s.id = p.session_ref ORDER BY p.session_ref LIMIT %s",
        (BATCH,),
        fetch="all",
    )
    if not listed:
        return Filled(found=False)
    # The locks a save takes, in one order (two batches never wait on each other
    # crosswise), before the list's rows: a purge holding a session's lock deletes them.
    for session_id in sorted({str(row["session_id"]) for row in listed}):
        yield from d.lock(session_id)
    claimed = yield Stmt(
        "DELETE FROM own_text_pending WHERE session_ref = ANY(%s) RETURNING session_ref",
        ([int(row["session_ref"]) for row in listed],),
        fetch="all",
    )
    refs = [int(row["session_ref"]) for row in claimed]  # another indexer took the rest
    if not refs:
        return Filled(found=True)
    # A save or a redaction since the upgrade indexed some of their lines: the fill
    # below reads every line again, so theirs are not counted twice.
    yield Stmt("UPDATE aside_text SET own = '' WHERE session_ref = ANY(%s) AND own <> ''", (refs,))
    yield Stmt(FILL_OWN_TEXT, (*(PUNCTUATION, SPACES) * 2, refs))
    row = yield Stmt(
        "SELECT count(*) AS n FROM entries WHERE subpath = '' AND session_ref = ANY(%s)",
        (refs,),
        fetch="one",
    )
    return Filled(found=True, sessions=len(refs), entries=int(row["n"]))


def fill(
    d: PostgresDialect, progress: Callable[[int, int], None] | None = None
) -> Plan[tuple[int, int]]:
    """Fill in every listed session, a batch per transaction; ``progress(done, total)``
    counts entries after each batch. Returns the sessions filled and entries read."""
    total = yield Txn(_pending_entries)
    sessions = entries = 0
    if total is None:
        return sessions, entries
    while True:
        batch: Filled = yield Txn(lambda: _fill_batch(d), write=True)
        if not batch.found:
            return sessions, entries
        sessions += batch.sessions
        entries += batch.entries
        if progress is not None:
            progress(entries, max(total, entries))
