"""The store's write transactions, written once for every database.

Each function is an :data:`~.plan.Op`: the body of ONE transaction, so a
writer killed half-way leaves nothing half-written, and two writers of the
same session queue up (SQLite's write lock; PostgreSQL's advisory lock on the
session id, :meth:`Dialect.lock`) instead of losing each other's work.
Metadata, the official SDK's summary sidecar, tags and the full-text index
are all brought up to date inside the same transaction (the steps every write
shares are in :mod:`.entry_writes`, what they decide in :mod:`.write_rules`).
The trash's transactions (delete, restore, cleanup) are in :mod:`.trash`,
importing files' lines in :mod:`.imports`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TypeVar

from claude_sessions.model.derive import combine, derive, facts_of
from claude_sessions.model.entries import entry_uuid
from claude_sessions.model.fold_state import FoldState
from claude_sessions.model.identity import Who
from claude_sessions.store import secret_findings
from claude_sessions.store.dialect import ROW_COLUMNS, Dialect, SessionRow, meta_text, session_row
from claude_sessions.store.entry_writes import (
    Settling,
    add_user_tags,
    apply_main,
    apply_subagent,
    body_text,
    merge_batch,
    refresh_others,
    sdk_summary,
    settle,
    stored_state,
    sync_tags,
    touch,
    with_subagents_of,
    write_derived,
)
from claude_sessions.store.plan import Op, Stmt
from claude_sessions.store.reads import by_ref, find_live
from claude_sessions.store.records import SessionMetadata
from claude_sessions.store.write_rules import (
    NOT_FORKED,
    ForkLink,
    Keyed,
    adopted_project_key,
    created_after_save,
    job_due,
    numbered,
    store_version,
)

T = TypeVar("T")


@dataclass(frozen=True)
class NewTranscript:
    """A whole main transcript to store, with what the caller says about it."""

    session_id: str
    batch: Sequence[Keyed]
    project_key: str
    project: str | None = None
    tags: Sequence[str] = ()
    description: str | None = None
    forked_from: str | None = None
    forked_at: str | None = None

    @property
    def fork(self) -> ForkLink:
        return ForkLink(self.forked_from, self.forked_at)


# -- storing transcripts ------------------------------------------------------------------


def _find_for_save(d: Dialect, session_id: str, project_key: str) -> Op[SessionRow | None]:
    """The live session under this project key, else the newest with this id."""
    row = yield Stmt(
        d.sql(
            f"SELECT {ROW_COLUMNS} FROM sessions s WHERE s.session_id = ? "
            "AND s.trashed_at IS NULL "
            "ORDER BY (s.project_key = ?) DESC, s.updated_at DESC, s.id DESC LIMIT 1"
        ),
        (session_id, d.text(project_key)),
        "one",
    )
    return None if row is None else session_row(d, row)


def _store_transcript(
    d: Dialect, ref: int, row: SessionRow | None, project_key: str, new: NewTranscript, now: float
) -> Op[SessionRow]:
    """Write ``new`` as the whole main transcript of session ``ref`` (new or replaced)."""
    entries = [entry for _, entry, _ in new.batch]
    rows = numbered(new.batch)
    if row is not None:
        yield Stmt(d.sql("DELETE FROM entries WHERE session_ref = ? AND subpath = ''"), (ref,))
        yield from secret_findings.forget(d, ref, "")
        yield from d.forget_aside(ref, "")
    if rows:
        yield d.insert_entries(ref, "", rows)
        yield from d.index_aside(ref, "", rows)
    facts = facts_of(entries)
    state = combine(FoldState(project=new.project) if new.project else None, facts.state)
    state = with_subagents_of(row, state)
    own = derive(state)
    root_key = entry_uuid(facts.root) if facts.root is not None else None
    current = row if row is not None else (yield from by_ref(d, ref))
    link, others = yield from settle(
        d,
        replace(current, root_key=None),  # a whole new transcript: a new root
        state,
        Settling(
            held=NOT_FORKED,
            reported=new.fork,
            root_key=root_key,
            newly_rooted=root_key is not None,
            summaries=facts.summaries,
            new=rows,
        ),
    )
    old = stored_state(row) if row is not None else None
    yield from sync_tags(
        d, ref, replace=new.tags, add=(), old=derive(old) if old is not None else None, new=own
    )
    derived = yield from write_derived(
        d,
        ref,
        project_key,
        state,
        sdk_summary(project_key, new.session_id, None, entries, fresh=True),
        created_at=created_after_save(
            row.created_at if row is not None else None, own.first_timestamp, now
        ),
        message_count=len(rows),
        link=link,
        root_key=root_key,
        now=now,
        describe=True,
        description=new.description,
    )
    yield from d.set_text(ref, body_text(entries), meta_text(new.description, derived.title))
    before = old if old is not None else FoldState()
    yield from refresh_others(d, current, others, before, state, now)
    return (yield from by_ref(d, ref))


def save(d: Dialect, new: NewTranscript, now: float, who: Who) -> Op[SessionMetadata]:
    """Create or replace a session's main transcript, tags and description.

    An existing session keeps its ``created_at``. One without a project key
    adopts the new one (the same session first saved without a directory).
    """
    yield from d.lock(new.session_id)
    row = yield from _find_for_save(d, new.session_id, new.project_key)
    if row is None:
        ref = yield from d.insert_session(new.session_id, new.project_key, now, who())
        project_key = new.project_key
    else:
        ref = row.ref
        project_key = adopted_project_key(row.metadata.project_key, new.project_key)
        if project_key != row.metadata.project_key:  # no live row holds that key yet
            yield Stmt(
                d.sql("UPDATE sessions SET project_key = ? WHERE id = ?"),
                (d.text(project_key), ref),
            )
    stored = yield from _store_transcript(d, ref, row, project_key, new, now)
    return stored.metadata


def record_run(
    d: Dialect, new: NewTranscript, now: float, *, lookup_key: str | None, who: Who
) -> Op[SessionMetadata]:
    """One completed run: a new session is stored whole; a stored one (under
    ``lookup_key``, or the newest with the id) gets the run's entries merged in
    (earlier runs stay), ``tags`` added and ``description`` set when given.
    Create-or-append is one transaction, so two processes recording the same new
    session both land."""
    yield from d.lock(new.session_id)
    row = yield from find_live(d, new.session_id, lookup_key)
    if row is None:
        ref = yield from d.insert_session(new.session_id, new.project_key, now, who())
        stored = yield from _store_transcript(d, ref, None, new.project_key, new, now)
        return stored.metadata
    merge = yield from merge_batch(d, row.ref, "", new.batch)
    final = yield from apply_main(d, row, merge, now, add_tags=new.tags, fork=new.fork)
    if new.description is not None:
        final = yield from _describe(d, final, new.description)
    return final.metadata


def append(
    d: Dialect,
    session_id: str,
    batch: Sequence[Keyed],
    *,
    project_key: str | None,
    new_key: str,
    subpath: str,
    now: float,
    who: Who,
) -> Op[SessionMetadata]:
    """Add entries (upserting by uuid) to a transcript; a new session gets ``new_key``
    and is ``who``'s.

    ``project_key=None`` picks the newest live session with this id.
    """
    yield from d.lock(session_id)
    row = yield from find_live(d, session_id, project_key)
    if row is None:
        ref = yield from d.insert_session(session_id, project_key or new_key, now, who())
        row = yield from by_ref(d, ref)
    if not batch:
        return row.metadata
    merge = yield from merge_batch(d, row.ref, subpath, batch)
    if subpath:
        final = yield from apply_subagent(d, row, subpath, merge, now)
    else:
        final = yield from apply_main(d, row, merge, now)
    return final.metadata


# -- tags and description -----------------------------------------------------------------


def _describe(d: Dialect, row: SessionRow, description: str | None) -> Op[SessionRow]:
    yield Stmt(
        d.sql("UPDATE sessions SET description = ? WHERE id = ?"), (d.text(description), row.ref)
    )
    yield from d.set_meta_text(row.ref, meta_text(description, row.metadata.title))
    return (yield from by_ref(d, row.ref))


def update(
    d: Dialect,
    session_id: str,
    *,
    add_tags: Sequence[str] = (),
    remove_tags: Sequence[str] = (),
    describe: bool = False,
    description: str | None = None,
    now: float,
) -> Op[SessionMetadata | None]:
    """Add and remove user tags and set the description of the newest live session."""
    yield from d.lock(session_id)
    row = yield from find_live(d, session_id, None)
    if row is None:
        return None
    yield from touch(d, row.ref, row.metadata.project_key, now)
    if add_tags:
        yield add_user_tags(d, row.ref, add_tags)
    if remove_tags:
        yield Stmt(
            d.sql("DELETE FROM tags WHERE session_ref = ? AND tag = ?"),
            [(row.ref, d.text(tag)) for tag in remove_tags],
            many=True,
        )
    yield d.refresh_tags(row.ref)
    if describe:
        row = yield from _describe(d, row, description)
    final = yield from by_ref(d, row.ref)
    return final.metadata


# -- subagent transcripts -----------------------------------------------------------------


def delete_subpath(d: Dialect, session_id: str, project_key: str, subpath: str) -> Op[bool]:
    """Delete one subagent transcript of a live session (the official protocol's ``delete``)."""
    yield from d.lock(session_id)
    row = yield from find_live(d, session_id, project_key)
    if row is None:
        return False
    count = yield Stmt(
        d.sql("DELETE FROM entries WHERE session_ref = ? AND subpath = ?"),
        (row.ref, d.text(subpath)),
        "rowcount",
    )
    yield from secret_findings.forget(d, row.ref, subpath)
    return bool(count)


# -- periodic jobs and the store version --------------------------------------------------


def claim(d: Dialect, name: str, now: float, interval: float, *, take: bool) -> Op[bool]:
    """Whether the periodic job ``name`` is due (not run for ``interval`` seconds);
    with ``take``, also record that it runs now."""
    if take:
        yield from d.lock("claim", name)
    found = yield Stmt(d.sql("SELECT value FROM store_meta WHERE key = ?"), (name,), "one")
    due = job_due(found["value"] if found is not None else None, now, interval)
    if due and take:
        yield Stmt(
            d.sql(
                "INSERT INTO store_meta (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value"
            ),
            (name, repr(now)),
        )
    return due


def version(d: Dialect) -> Op[str]:
    """A value that changes whenever a session is written, tagged, trashed or deleted.

    Two index probes, whatever the store's size (live pages poll it): the newest
    storage time, and the write counter each write transaction moves (see
    :func:`counted`).
    """
    row = yield Stmt(
        d.sql(
            "SELECT coalesce((SELECT max(mtime_ms) FROM sessions), 0) AS top, "
            "(SELECT value FROM store_meta WHERE key = 'writes') AS writes"
        ),
        (),
        "one",
    )
    return store_version(int(row["top"]), row["writes"])


def counted(d: Dialect, op: Op[T]) -> Op[T]:
    """``op``, then one more write to the store's write counter, in the same transaction.

    Last, so that on PostgreSQL the counter's row is locked only from there to the
    commit: a writer holding it waits for no other lock, so no two writers deadlock.
    """
    result = yield from op
    yield Stmt(
        d.sql(
            "INSERT INTO store_meta (key, value) VALUES ('writes', '1') "
            "ON CONFLICT (key) DO UPDATE SET "
            "value = CAST(CAST(store_meta.value AS BIGINT) + 1 AS TEXT)"
        )
    )
    notice = d.change_notice()
    if notice is not None:
        yield notice
    return result
