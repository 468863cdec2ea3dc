"""The store's write transactions, written once for every database.

Each function is an :data:`~.plan.Op`: the body of ONE transaction, so a
writer killed half-way leaves nothing half-written, and two writers of the
same session queue up (SQLite's write lock; PostgreSQL's advisory lock on the
session id, :meth:`Dialect.lock`) instead of losing each other's work.
Metadata, the official SDK's summary sidecar, tags and the full-text index
are all brought up to date inside the same transaction. The trash's
transactions (delete, restore, cleanup) are in :mod:`.trash`.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import orjson

from claude_sessions.model.derive import (
    BatchFacts,
    Derived,
    combine,
    combine_subagents,
    derive,
    entries_text,
    facts_of,
    fold,
    fold_subagents,
    request_keys,
)
from claude_sessions.model.entries import (
    Merge,
    NewEntry,
    clean_text,
    entry_uuid,
    merge_upserts,
    parsed,
    root_entry,
)
from claude_sessions.model.fold_state import FoldState
from claude_sessions.store.dialect import ROW_COLUMNS, Dialect, SessionRow, meta_text, session_row
from claude_sessions.store.plan import Op, Stmt
from claude_sessions.store.records import SessionMetadata

Keyed = tuple[str | None, dict[str, Any], str]  # (idempotency key, entry, JSON text)


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


def _origin(d: Dialect, session_id: str, root: dict[str, Any] | None) -> Op[str | None]:
    """The stored session this one was forked from, on real evidence only.

    The CLI's ``--fork-session`` copies the earlier entries into the new
    session's file with the same uuids, the same message and the same time
    (only ``sessionId`` changes). So this session's root entry must match the
    root entry of another stored session in all three; a uuid alone is no
    evidence (two unrelated files can share one). When several sessions hold
    it, the oldest is taken.
    """
    if root is None:
        return None
    rows = yield Stmt(
        d.sql(
            f"SELECT s.session_id, {d.entry_columns()} FROM sessions s JOIN entries e "
            "ON e.session_ref = s.id AND e.subpath = '' AND e.entry_key = s.root_key "
            "WHERE s.root_key = ? AND s.session_id <> ? ORDER BY s.id"
        ),
        (d.text(entry_uuid(root)), session_id),
        "all",
    )
    for row in rows:
        stored = d.entry(row)
        if stored.get("message") == root.get("message") and stored.get("timestamp") == root.get(
            "timestamp"
        ):
            return str(row["session_id"])
    return None


def fill_root_keys(d: Dialect) -> Op[None]:
    """Find every stored session's root entry (a schema upgrade adding ``root_key``);
    entries are read a few at a time: the root is almost always among the first."""
    refs = yield Stmt(d.sql("SELECT id FROM sessions ORDER BY id"), (), "all")
    for item in refs:
        ref, after, root = int(item["id"]), -1, None
        while root is None:
            rows = yield Stmt(
                d.sql(
                    f"SELECT seq, {d.entry_columns()} FROM entries WHERE session_ref = ? "
                    "AND subpath = '' AND seq > ? ORDER BY seq LIMIT 16"
                ),
                (ref, after),
                "all",
            )
            if not rows:
                break
            after = int(rows[-1]["seq"])
            root = root_entry(d.entry(row) for row in rows)
        if root is not None:
            yield Stmt(
                d.sql("UPDATE sessions SET root_key = ? WHERE id = ?"),
                (d.text(entry_uuid(root)), ref),
            )


def stored_state(row: SessionRow) -> FoldState:
    """The fold state a session's row holds."""
    return FoldState.from_dict(row.fold_state)


# -- the shared steps of every write -----------------------------------------------------


def _next_mtime(d: Dialect, project_key: str, now: float) -> Op[int]:
    """Storage write time in epoch ms, strictly increasing per project key.

    The official SDK lists a project's sessions by this value: two writes in
    the same millisecond must not tie.
    """
    yield from d.lock("mtime", project_key)
    top = yield Stmt(
        d.sql("SELECT coalesce(max(mtime_ms), 0) AS top FROM sessions WHERE project_key = ?"),
        (d.text(project_key),),
        "one",
    )
    return max(int(now * 1000), int(top["top"]) + 1)


def touch(d: Dialect, ref: int, project_key: str, now: float) -> Op[None]:
    """Record a write that changed no entry (tags, description, trash): the storage
    clock moves, so listings and live views see the change."""
    mtime = yield from _next_mtime(d, project_key, now)
    yield Stmt(d.sql("UPDATE sessions SET mtime_ms = ? WHERE id = ?"), (mtime, ref))


def _sync_tags(
    d: Dialect,
    ref: int,
    *,
    replace: Sequence[str] | None,
    add: Sequence[str],
    old: Derived | None,
    new: Derived,
) -> Op[None]:
    """User tags (``replace`` all, or ``add``) and the tag the CLI's ``tag`` entries set."""
    if replace is not None:
        yield Stmt(d.sql("DELETE FROM tags WHERE session_ref = ? AND source = 'user'"), (ref,))
        add = replace
    if add:
        yield Stmt(
            d.sql(
                "INSERT INTO tags (session_ref, tag, source) VALUES (?, ?, 'user') "
                "ON CONFLICT (session_ref, tag) DO UPDATE SET source = 'user'"
            ),
            [(ref, d.text(tag)) for tag in add],
            many=True,
        )
    old_cli = old.cli_tag if old is not None else None
    if old_cli and old_cli != new.cli_tag:
        yield Stmt(
            d.sql("DELETE FROM tags WHERE session_ref = ? AND tag = ? AND source = 'cli'"),
            (ref, d.text(old_cli)),
        )
    if new.cli_tag:
        yield Stmt(
            d.sql(
                "INSERT INTO tags (session_ref, tag, source) VALUES (?, ?, 'cli') "
                "ON CONFLICT (session_ref, tag) DO NOTHING"
            ),
            (ref, d.text(new.cli_tag)),
        )
    yield d.refresh_tags(ref)


def _write_derived(
    d: Dialect,
    ref: int,
    project_key: str,
    state: FoldState,
    summary: dict[str, Any] | None,
    *,
    created_at: float,
    message_count: int,
    forked_from: str | None,
    forked_at: str | None,
    root_key: str | None,
    now: float,
) -> Op[Derived]:
    derived = yield from _derive(d, state, forked_from)
    updated = derived.last_timestamp if derived.last_timestamp is not None else now
    mtime = yield from _next_mtime(d, project_key, now)
    if summary is not None:
        summary["mtime"] = mtime
    yield Stmt(
        d.sql(
            "UPDATE sessions SET created_at = ?, updated_at = ?, mtime_ms = ?, "
            f"message_count = ?, {_FIGURES}, forked_from = ?, forked_at = ?, root_key = ?, "
            "fold_state = ?, sdk_summary = ? WHERE id = ?"
        ),
        (
            d.time(created_at),
            d.time(max(updated, created_at)),
            mtime,
            message_count,
            *_figures(d, derived),
            d.text(forked_from),
            d.text(forked_at),
            d.text(root_key),
            state.to_json(),
            _json(summary) if summary is not None else None,
            ref,
        ),
    )
    return derived


_FIGURES = (
    "turns = ?, total_cost = ?, input_tokens = ?, output_tokens = ?, subagent_cost = ?, "
    "subagent_input_tokens = ?, subagent_output_tokens = ?, unpriced = ?, model = ?, "
    "project = ?, first_prompt = ?, title = ?, git_branch = ?"
)


def _figures(d: Dialect, derived: Derived) -> tuple[Any, ...]:
    """The values of :data:`_FIGURES`."""
    return (
        derived.turns,
        derived.total_cost,
        derived.input_tokens,
        derived.output_tokens,
        derived.subagent_cost,
        derived.subagent_input_tokens,
        derived.subagent_output_tokens,
        d.text(",".join(derived.unpriced_models)) or None,
        d.text(derived.model),
        d.text(derived.project),
        d.text(derived.first_prompt),
        d.text(derived.title),
        d.text(derived.git_branch),
    )


def _derive(d: Dialect, state: FoldState, forked_from: str | None) -> Op[Derived]:
    """The figures of a state; a fork leaves the requests it replays to its origin."""
    if forked_from is None:
        return derive(state)
    origin = yield from find_live(d, forked_from, None)
    if origin is None:
        return derive(state)
    return derive(state, inherited=request_keys(stored_state(origin)) & request_keys(state))


def recount(d: Dialect) -> Op[None]:
    """Fold every session again (a schema upgrade that changes how figures are counted)."""
    rows = yield Stmt(d.sql("SELECT id, forked_from FROM sessions ORDER BY id"), (), "all")
    for row in rows:
        ref = int(row["id"])
        main = yield from load_entries(d, ref, "")
        agents = yield from _subagent_entries(d, ref)
        state = fold(None, main)
        if agents:
            state = fold_subagents(state, agents)
        derived = yield from _derive(d, state, row["forked_from"])
        yield Stmt(
            d.sql(f"UPDATE sessions SET {_FIGURES}, fold_state = ? WHERE id = ?"),
            (*_figures(d, derived), state.to_json(), ref),
        )


def _subagent_entries(d: Dialect, ref: int) -> Op[list[dict[str, Any]]]:
    rows = yield Stmt(
        d.sql(
            f"SELECT {d.entry_columns()} FROM entries WHERE session_ref = ? AND subpath <> '' "
            "ORDER BY subpath, seq"
        ),
        (ref,),
        "all",
    )
    return [d.entry(row) for row in rows]


def _json(value: Any) -> str:
    """The summary's JSON: orjson for speed (it is rewritten with every batch);
    ``json`` for what orjson refuses (lone surrogates), escaped to ASCII."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return json.dumps(value, separators=(",", ":"))


def _summary(
    row_key: str,
    session_id: str,
    previous: dict[str, Any] | None,
    entries: Sequence[Any],
    *,
    fresh: bool,
) -> dict[str, Any] | None:
    """The official SDK's summary sidecar after ``entries``, or ``None`` (to be folded
    when the SDK asks for it, see :mod:`.sdk_adapter`).

    It is folded here only when the SDK is already loaded: importing it costs
    most of a second, which a capture hook cannot spend. ``fresh``: fold from
    nothing (``previous`` is ignored); otherwise a missing ``previous`` stays
    missing, since an incremental fold needs it. Entries parsed in another process
    come without their parsed form (``None``): the summary waits for the SDK too.
    """
    if "claude_agent_sdk" not in sys.modules or (previous is None and not fresh):
        return None
    if any(entry is None for entry in entries):
        return None
    from claude_agent_sdk import SessionKey, fold_session_summary

    key: SessionKey = {"project_key": row_key, "session_id": session_id}
    start = None if fresh else previous
    return dict(fold_session_summary(start, key, list(entries)))  # type: ignore[arg-type]


def body_text(entries: Sequence[dict[str, Any]]) -> str:
    return clean_text(entries_text(entries))


# -- storing transcripts ------------------------------------------------------------------


def _store_transcript(
    d: Dialect, ref: int, row: SessionRow | None, project_key: str, new: NewTranscript, now: float
) -> Op[SessionRow]:
    """Write ``new`` as the whole main transcript of session ``ref`` (new or replaced)."""
    entries = [entry for _, entry, _ in new.batch]
    rows: list[NewEntry] = []
    seen: set[str] = set()
    for seq, (key, entry, text) in enumerate(new.batch):
        if key is not None and key in seen:
            key = None  # the key column is unique: the first entry with a uuid keeps it
        elif key is not None:
            seen.add(key)
        rows.append(NewEntry(seq, key, entry, text))
    if row is not None:
        yield Stmt(d.sql("DELETE FROM entries WHERE session_ref = ? AND subpath = ''"), (ref,))
    if rows:
        yield d.insert_entries(ref, "", rows)
    state = fold(FoldState(project=new.project) if new.project else None, entries)
    derived = derive(state)
    root = root_entry(entries)
    origin = new.forked_from or derived.forked_from
    if origin is None:
        origin = yield from _origin(d, new.session_id, root)
    created = row.created_at if row is not None else derived.first_timestamp or now
    old = derive(stored_state(row)) if row is not None else None
    yield from _sync_tags(d, ref, replace=new.tags, add=(), old=old, new=derived)
    yield from _write_derived(
        d,
        ref,
        project_key,
        state,
        _summary(project_key, new.session_id, None, entries, fresh=True),
        created_at=created,
        message_count=len(rows),
        forked_from=origin,
        forked_at=new.forked_at if new.forked_from else None,
        root_key=entry_uuid(root) if root is not None else None,
        now=now,
    )
    yield Stmt(
        d.sql("UPDATE sessions SET description = ? WHERE id = ?"), (d.text(new.description), ref)
    )
    yield from d.set_text(ref, body_text(entries), meta_text(new.description, derived.title))
    return (yield from by_ref(d, ref))


def save(d: Dialect, new: NewTranscript, now: float) -> Op[SessionMetadata]:
    """Create or replace a session's main transcript, tags and description.

    An existing session keeps its ``created_at``. One without a project key
    adopts the new one (the same session first saved without a directory).
    """
    yield from d.lock(new.session_id)
    row = yield from _find_for_save(d, new.session_id, new.project_key)
    if row is None:
        ref = yield from d.insert_session(new.session_id, new.project_key, now)
        project_key = new.project_key
    else:
        ref, project_key = row.ref, row.project_key
        if project_key == "" and new.project_key:  # no live row holds that key yet
            yield Stmt(
                d.sql("UPDATE sessions SET project_key = ? WHERE id = ?"),
                (d.text(new.project_key), ref),
            )
            project_key = new.project_key
    stored = yield from _store_transcript(d, ref, row, project_key, new, now)
    return stored.metadata()


def record_run(
    d: Dialect, new: NewTranscript, now: float, *, lookup_key: str | None
) -> Op[SessionMetadata]:
    """One completed run: a new session is stored whole; a stored one (under
    ``lookup_key``, or the newest with the id) gets the run's entries merged in
    (earlier runs stay), ``tags`` added and ``description`` set when given.
    Create-or-append is one transaction, so two processes recording the same new
    session both land."""
    yield from d.lock(new.session_id)
    row = yield from find_live(d, new.session_id, lookup_key)
    if row is None:
        ref = yield from d.insert_session(new.session_id, new.project_key, now)
        stored = yield from _store_transcript(d, ref, None, new.project_key, new, now)
        return stored.metadata()
    merge = yield from _merge(d, row.ref, "", new.batch)
    final = yield from apply_main(
        d, row, merge, now, add_tags=new.tags, fork=(new.forked_from, new.forked_at)
    )
    if new.description is not None:
        final = yield from _describe(d, final, new.description)
    return final.metadata()


def append(
    d: Dialect,
    session_id: str,
    batch: Sequence[Keyed],
    *,
    project_key: str | None,
    new_key: str,
    subpath: str,
    now: float,
) -> Op[SessionMetadata]:
    """Add entries (upserting by uuid) to a transcript; a new session gets ``new_key``.

    ``project_key=None`` picks the newest live session with this id.
    """
    yield from d.lock(session_id)
    row = yield from find_live(d, session_id, project_key)
    if row is None:
        ref = yield from d.insert_session(session_id, project_key or new_key, now)
        row = yield from by_ref(d, ref)
    if not batch:
        return row.metadata()
    merge = yield from _merge(d, row.ref, subpath, batch)
    if subpath:
        final = yield from apply_subagent(d, row, subpath, merge, now)
    else:
        final = yield from apply_main(d, row, merge, now)
    return final.metadata()


def _merge(d: Dialect, ref: int, subpath: str, batch: Sequence[Keyed]) -> Op[Merge]:
    keys = sorted({key for key, _, _ in batch if key is not None})
    stored, next_seq = yield from stored_entries(d, ref, subpath, keys)
    return merge_upserts(batch, stored, next_seq)


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


def insert_merged(d: Dialect, ref: int, subpath: str, merge: Merge) -> Op[None]:
    if merge.new:
        yield d.insert_entries(ref, subpath, merge.new)
    for key, text in merge.replaced.items():
        yield d.replace_entry(ref, subpath, key, text)


def apply_main(
    d: Dialect,
    row: SessionRow,
    merge: Merge,
    now: float,
    *,
    add_tags: Sequence[str] = (),
    fork: tuple[str | None, str | None] = (None, None),
    facts: BatchFacts | None = None,
) -> Op[SessionRow]:
    """Store a merged batch of main-transcript entries and fold it into the metadata.

    ``fork``: the origin and branch point a run reports, recorded unless the
    session has another origin or a branch point already (a hook may have
    captured the fork first, linking it by its shared entries). ``facts``: those
    of the new entries, worked out already (an import), which then need not
    hold their parsed entries.
    """
    yield from insert_merged(d, row.ref, "", merge)
    was_empty = row.message_count == 0
    every: list[dict[str, Any]] = []
    if merge.changed:  # an upsert rewrote a stored entry: recompute from everything
        every = yield from load_entries(d, row.ref, "")
        facts = facts_of(every)
        state = combine(None, facts.state)
        summary = _summary(row.project_key, row.session_id, None, every, fresh=True)
    else:
        new_entries = [item.entry for item in merge.new]
        if facts is None:
            facts = facts_of([parsed(item.entry, item.text) for item in merge.new])
        state = combine(stored_state(row), facts.state)
        summary = _summary(
            row.project_key, row.session_id, row.sdk_summary, new_entries, fresh=was_empty
        )
    derived = derive(state)
    created = row.created_at
    if derived.first_timestamp is not None:
        created = derived.first_timestamp if was_empty else min(created, derived.first_timestamp)
    forked_from, forked_at = row.forked_from, row.forked_at
    if fork[0] is not None and forked_from in (None, fork[0]) and forked_at is None:
        forked_from, forked_at = fork
    forked_from = forked_from or derived.forked_from
    root_key = row.root_key
    if merge.changed or root_key is None:
        root = facts.root
        root_key = entry_uuid(root) if root is not None else None
        if forked_from is None and row.root_key is None:
            forked_from = yield from _origin(d, row.session_id, root)
    yield from _sync_tags(
        d, row.ref, replace=None, add=add_tags, old=derive(stored_state(row)), new=derived
    )
    yield from _write_derived(
        d,
        row.ref,
        row.project_key,
        state,
        summary,
        created_at=created,
        message_count=row.message_count + len(merge.new),
        forked_from=forked_from,
        forked_at=forked_at,
        root_key=root_key,
        now=now,
    )
    meta = meta_text(row.description, derived.title)
    if merge.changed:
        yield from d.set_text(row.ref, facts.body, meta)
    elif merge.new or derived.title != row.title:
        yield from d.append_text(row.ref, facts.body, meta)
    return (yield from by_ref(d, row.ref))


def apply_subagent(
    d: Dialect,
    row: SessionRow,
    subpath: str,
    merge: Merge,
    now: float,
    *,
    facts: BatchFacts | None = None,
) -> Op[SessionRow]:
    """Store a merged batch of a subagent transcript and fold it into the session's
    figures (its subagent cost and tokens, and its times when it has no main transcript).
    ``facts``: as for :func:`apply_main`."""
    yield from insert_merged(d, row.ref, subpath, merge)
    if merge.changed:  # an upsert rewrote a stored entry: recount every subagent
        every = yield from _subagent_entries(d, row.ref)
        state = fold_subagents(replace(stored_state(row), sub=None), every)
    elif facts is not None:
        state = combine_subagents(stored_state(row), facts.state)
    else:
        state = fold_subagents(
            stored_state(row), [parsed(item.entry, item.text) for item in merge.new]
        )
    derived = derive(state)
    created = row.created_at
    if derived.first_timestamp is not None:
        empty = row.message_count == 0 and stored_state(row).sub is None
        created = derived.first_timestamp if empty else min(created, derived.first_timestamp)
    yield from _write_derived(
        d,
        row.ref,
        row.project_key,
        state,
        row.sdk_summary,
        created_at=created,
        message_count=row.message_count,
        forked_from=row.forked_from,
        forked_at=row.forked_at,
        root_key=row.root_key,
        now=now,
    )
    return (yield from by_ref(d, row.ref))


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


# -- tags and description -----------------------------------------------------------------


def _describe(d: Dialect, row: SessionRow, description: str | None) -> Op[SessionRow]:
    yield Stmt(
        d.sql("UPDATE sessions SET description = ? WHERE id = ?"), (d.text(description), row.ref)
    )
    yield from d.set_meta_text(row.ref, meta_text(description, row.title))
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
    yield from touch(d, row.ref, row.project_key, now)
    if add_tags:
        yield Stmt(
            d.sql(
                "INSERT INTO tags (session_ref, tag, source) VALUES (?, ?, 'user') "
                "ON CONFLICT (session_ref, tag) DO UPDATE SET source = 'user'"
            ),
            [(row.ref, d.text(tag)) for tag in add_tags],
            many=True,
        )
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
    return final.metadata()


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
    return bool(count)


# -- periodic jobs and the store version --------------------------------------------------


def claim(d: Dialect, name: str, now: float, interval: float, *, take: bool) -> Op[bool]:
    """Whether the periodic job ``name`` is due (not run for ``interval`` seconds);
    with ``take``, also record that it runs now."""
    if take:
        yield from d.lock("claim", name)
    found = yield Stmt(d.sql("SELECT value FROM store_meta WHERE key = ?"), (name,), "one")
    due = True
    if found is not None:
        try:
            due = not 0 <= now - float(found["value"]) < interval
        except ValueError:
            due = True
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
    """A value that changes whenever a session is written, trashed or deleted."""
    row = yield Stmt(
        d.sql(
            "SELECT coalesce(max(mtime_ms), 0) AS top, count(*) AS sessions, "
            "(SELECT value FROM store_meta WHERE key = 'purges') AS purges FROM sessions"
        ),
        (),
        "one",
    )
    return f"{int(row['top'])}.{int(row['sessions'])}.{row['purges'] or 0}"
