"""Storing entries and folding them into their session's row: the steps every write shares.

Each function here runs inside a transaction that :mod:`.writes` or
:mod:`.imports` opened: entries land in the ``entries`` table, the fold state
(:class:`~claude_sessions.model.fold_state.FoldState`) and the figures derived
from it, the tags, the official SDK's summary sidecar and the full-text index
are brought up to date in the same transaction. What to write is decided in
:mod:`.write_rules`; this module runs the SQL.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import replace
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
from claude_sessions.model.entries import Merge, clean_text, entry_uuid, merge_upserts, parsed
from claude_sessions.model.fold_state import FoldState
from claude_sessions.store.dialect import Dialect, SessionRow, meta_text
from claude_sessions.store.plan import Op, Stmt
from claude_sessions.store.reads import (
    by_ref,
    find_live,
    load_entries,
    stored_entries,
    subagent_entries,
)
from claude_sessions.store.write_rules import (
    NOT_FORKED,
    ForkLink,
    Keyed,
    cli_tag_change,
    created_after_batch,
    fork_link,
    same_root,
    seek_shared_root,
    updated_at,
)


def stored_state(row: SessionRow) -> FoldState:
    """The fold state a session's row holds."""
    return FoldState.from_dict(row.fold_state)


def with_subagents_of(row: SessionRow | None, state: FoldState) -> FoldState:
    """``state``, a main transcript's folded anew, with the subagent transcripts' part that
    ``row`` holds (their entries stay where they are)."""
    return state if row is None else replace(state, sub=stored_state(row).sub)


def body_text(entries: Sequence[dict[str, Any]]) -> str:
    return clean_text(entries_text(entries))


# -- the storage clock --------------------------------------------------------------------


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


# -- tags ---------------------------------------------------------------------------------


def add_user_tags(d: Dialect, ref: int, tags: Sequence[str]) -> Stmt:
    return Stmt(
        d.sql(
            "INSERT INTO tags (session_ref, tag, source) VALUES (?, ?, 'user') "
            "ON CONFLICT (session_ref, tag) DO UPDATE SET source = 'user'"
        ),
        [(ref, d.text(tag)) for tag in tags],
        many=True,
    )


def sync_tags(
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
        yield add_user_tags(d, ref, add)
    change = cli_tag_change(old.cli_tag if old is not None else None, new.cli_tag)
    if change.remove is not None:
        yield Stmt(
            d.sql("DELETE FROM tags WHERE session_ref = ? AND tag = ? AND source = 'cli'"),
            (ref, d.text(change.remove)),
        )
    if change.add is not None:
        yield Stmt(
            d.sql(
                "INSERT INTO tags (session_ref, tag, source) VALUES (?, ?, 'cli') "
                "ON CONFLICT (session_ref, tag) DO NOTHING"
            ),
            (ref, d.text(change.add)),
        )
    yield d.refresh_tags(ref)


# -- the session's figures ----------------------------------------------------------------

FIGURES = (
    "turns = ?, total_cost = ?, input_tokens = ?, output_tokens = ?, subagent_cost = ?, "
    "subagent_input_tokens = ?, subagent_output_tokens = ?, unpriced = ?, model = ?, "
    "project = ?, first_prompt = ?, title = ?, git_branch = ?"
)


def figures(d: Dialect, derived: Derived) -> tuple[Any, ...]:
    """The values of :data:`FIGURES`."""
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


def derive_figures(d: Dialect, state: FoldState, forked_from: str | None) -> Op[Derived]:
    """The figures of a state; a fork leaves the requests it replays to its origin."""
    if forked_from is None:
        return derive(state)
    origin = yield from find_live(d, forked_from, None)
    if origin is None:
        return derive(state)
    return derive(state, inherited=request_keys(stored_state(origin)) & request_keys(state))


def write_derived(
    d: Dialect,
    ref: int,
    project_key: str,
    state: FoldState,
    summary: dict[str, Any] | None,
    *,
    created_at: float,
    message_count: int,
    link: ForkLink,
    root_key: str | None,
    now: float,
) -> Op[Derived]:
    """Write a session's new state, its figures, times, fork link and SDK summary."""
    derived = yield from derive_figures(d, state, link.forked_from)
    mtime = yield from _next_mtime(d, project_key, now)
    if summary is not None:
        summary["mtime"] = mtime
    yield Stmt(
        d.sql(
            "UPDATE sessions SET created_at = ?, updated_at = ?, mtime_ms = ?, "
            f"message_count = ?, {FIGURES}, forked_from = ?, forked_at = ?, root_key = ?, "
            "fold_state = ?, sdk_summary = ? WHERE id = ?"
        ),
        (
            d.time(created_at),
            d.time(updated_at(created_at, derived.last_timestamp, now)),
            mtime,
            message_count,
            *figures(d, derived),
            d.text(link.forked_from),
            d.text(link.forked_at),
            d.text(root_key),
            state.to_json(),
            _json(summary) if summary is not None else None,
            ref,
        ),
    )
    return derived


def _json(value: Any) -> str:
    """The summary's JSON: orjson for speed (it is rewritten with every batch);
    ``json`` for what orjson refuses (lone surrogates), escaped to ASCII."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return json.dumps(value, separators=(",", ":"))


def sdk_summary(
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


def origin_by_shared_root(
    d: Dialect, session_id: str, root: dict[str, Any] | None
) -> Op[str | None]:
    """The oldest other stored session whose root entry ``root`` repeats (see
    :func:`.write_rules.same_root`), the weakest evidence of a fork."""
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
        if same_root(d.entry(row), root):
            return str(row["session_id"])
    return None


# -- merged batches -----------------------------------------------------------------------


def merge_batch(d: Dialect, ref: int, subpath: str, batch: Sequence[Keyed]) -> Op[Merge]:
    """A batch merged with the stored entries it upserts (by key)."""
    keys = sorted({key for key, _, _ in batch if key is not None})
    stored, next_seq = yield from stored_entries(d, ref, subpath, keys)
    return merge_upserts(batch, stored, next_seq)


def insert_merged(d: Dialect, ref: int, subpath: str, merge: Merge) -> Op[None]:
    if merge.new:
        yield d.insert_entries(ref, subpath, merge.new)
    for key, text in merge.replaced.items():
        yield d.replace_entry(ref, subpath, key, text)


def _main_fold(
    d: Dialect, row: SessionRow, merge: Merge, facts: BatchFacts | None
) -> Op[tuple[FoldState, BatchFacts, dict[str, Any] | None]]:
    """The main transcript's state after a merged batch, the facts it folded, and the
    SDK's summary."""
    if merge.changed:  # an upsert rewrote a stored entry: recompute the main transcript
        every = yield from load_entries(d, row.ref, "")
        facts = facts_of(every)
        summary = sdk_summary(
            row.metadata.project_key, row.metadata.session_id, None, every, fresh=True
        )
        return with_subagents_of(row, combine(None, facts.state)), facts, summary
    if facts is None:
        facts = facts_of([parsed(item.entry, item.text) for item in merge.new])
    new_entries = [item.entry for item in merge.new]
    was_empty = row.metadata.message_count == 0
    summary = sdk_summary(
        row.metadata.project_key,
        row.metadata.session_id,
        row.sdk_summary,
        new_entries,
        fresh=was_empty,
    )
    return combine(stored_state(row), facts.state), facts, summary


def apply_main(
    d: Dialect,
    row: SessionRow,
    merge: Merge,
    now: float,
    *,
    add_tags: Sequence[str] = (),
    fork: ForkLink = NOT_FORKED,
    facts: BatchFacts | None = None,
) -> Op[SessionRow]:
    """Store a merged batch of main-transcript entries and fold it into the metadata.

    ``fork``: the origin and branch point a run reports (see
    :func:`.write_rules.fork_link`). ``facts``: those of the new entries, worked
    out already (an import), which then need not hold their parsed entries.
    """
    yield from insert_merged(d, row.ref, "", merge)
    state, facts, summary = yield from _main_fold(d, row, merge, facts)
    derived = derive(state)
    link = fork_link(
        ForkLink(row.metadata.forked_from, row.metadata.forked_at), fork, derived.forked_from
    )
    root_key = row.root_key
    if merge.changed or root_key is None:
        root_key = entry_uuid(facts.root) if facts.root is not None else None
    if seek_shared_root(link, had_root=row.root_key is not None):
        origin = yield from origin_by_shared_root(d, row.metadata.session_id, facts.root)
        link = ForkLink(origin, link.forked_at)
    old = derive(stored_state(row))
    yield from sync_tags(d, row.ref, replace=None, add=add_tags, old=old, new=derived)
    created = created_after_batch(
        row.created_at, derived.first_timestamp, was_empty=row.metadata.message_count == 0
    )
    yield from write_derived(
        d,
        row.ref,
        row.metadata.project_key,
        state,
        summary,
        created_at=created,
        message_count=row.metadata.message_count + len(merge.new),
        link=link,
        root_key=root_key,
        now=now,
    )
    meta = meta_text(row.metadata.description, derived.title)
    if merge.changed:
        yield from d.set_text(row.ref, facts.body, meta)
    elif merge.new or derived.title != row.metadata.title:
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
    held = stored_state(row)
    if merge.changed:  # an upsert rewrote a stored entry: recount every subagent
        every = yield from subagent_entries(d, row.ref)
        state = fold_subagents(replace(held, sub=None), every)
    elif facts is not None:
        state = combine_subagents(held, facts.state)
    else:
        state = fold_subagents(held, [parsed(item.entry, item.text) for item in merge.new])
    derived = derive(state)
    empty = row.metadata.message_count == 0 and held.sub is None
    yield from write_derived(
        d,
        row.ref,
        row.metadata.project_key,
        state,
        row.sdk_summary,
        created_at=created_after_batch(row.created_at, derived.first_timestamp, was_empty=empty),
        message_count=row.metadata.message_count,
        link=ForkLink(row.metadata.forked_from, row.metadata.forked_at),
        root_key=row.root_key,
        now=now,
    )
    return (yield from by_ref(d, row.ref))


def refold(d: Dialect, ref: int) -> Op[FoldState]:
    """Session ``ref``'s state folded again from all its stored entries."""
    main = yield from load_entries(d, ref, "")
    agents = yield from subagent_entries(d, ref)
    state = fold(None, main)
    return fold_subagents(state, agents) if agents else state
