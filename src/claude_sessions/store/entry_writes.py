"""Storing entries and folding them into their session's row: the steps every write shares.

Each function here runs inside a transaction that :mod:`.writes` or
:mod:`.imports` opened: entries land in the ``entries`` table, the fold state
(:class:`~claude_sessions.model.fold_state.FoldState`) and the figures derived
from it, the tags, the official SDK's summary sidecar and the full-text index
are brought up to date in the same transaction. So are the other sessions a
write concerns: those sharing its root entry, whose fork links are settled again
(:mod:`.fork_writes`), its forks, which leave their origin's requests to it, and
those a summary it brings titles (:mod:`.summary_writes`). What to write is
decided in :mod:`.write_rules`; this module runs the SQL.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import orjson

from claude_sessions.model.derive import (
    RESULT,
    BatchFacts,
    Derived,
    ModelFigures,
    combine,
    combine_subagents,
    counted_requests,
    derive,
    entries_text,
    facts_of,
    fold_subagents,
    model_figures,
    request_keys,
    requests_apart,
)
from claude_sessions.model.entries import (
    Merge,
    NewEntry,
    clean_text,
    entry_uuid,
    merge_upserts,
    parsed,
)
from claude_sessions.model.fold_state import FoldState
from claude_sessions.model.result_split import RequestFigures
from claude_sessions.store import secret_findings
from claude_sessions.store.dialect import Dialect, SessionRow, meta_text
from claude_sessions.store.fork_writes import forks_replaying, settle_forks, write_link
from claude_sessions.store.plan import Op, Stmt
from claude_sessions.store.reads import (
    by_ref,
    find_live,
    load_entries,
    stored_entries,
    subagent_entries,
)
from claude_sessions.store.summary_writes import (
    claim_leaves,
    keep_summaries,
    leaf_summary,
    rehome,
)
from claude_sessions.store.write_rules import (
    NOT_FORKED,
    ForkLink,
    Keyed,
    cli_tag_change,
    created_after_batch,
    fork_link,
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
    """User tags (``replace`` all, or ``add``) and the tag the CLI's ``tag`` entries set;
    ``sessions.tags`` follows in :func:`write_derived`, which every caller runs next (one
    UPDATE of the session row instead of two: on PostgreSQL each fires the usage sums'
    trigger and writes a new row version into every index)."""
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


# -- the session's figures ----------------------------------------------------------------

FIGURES = (
    "turns = ?, total_cost = ?, input_tokens = ?, output_tokens = ?, subagent_cost = ?, "
    "subagent_input_tokens = ?, subagent_output_tokens = ?, cache_write_5m_tokens = ?, "
    "cache_write_1h_tokens = ?, cache_read_tokens = ?, requests = ?, models_apart = ?, "
    "unpriced = ?, from_result = ?, model = ?, "
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
        derived.cache_write_5m_tokens,
        derived.cache_write_1h_tokens,
        derived.cache_read_tokens,
        derived.requests,
        int(derived.models_apart),
        d.text(",".join(derived.unpriced_models)) or None,
        int(derived.figures_from == RESULT),
        d.text(derived.model),
        d.text(derived.project),
        d.text(derived.first_prompt),
        d.text(derived.title),
        d.text(derived.git_branch),
    )


def derive_figures(
    d: Dialect,
    ref: int,
    state: FoldState,
    forked_from: str | None,
    *,
    previous: FoldState | None = None,
) -> Op[Derived]:
    """Session ``ref``'s figures from its state: a fork leaves the requests it replays
    to its origin, and the title falls back to the summary of the session's leaf.
    The requests it counts are written too (:func:`write_requests`): ``previous``, the
    state its stored requests were counted from, lets only those that changed be
    written, unless the session is a fork (what it inherits changes with its origin's
    writes, so its requests are written whole)."""
    summary = yield from leaf_summary(d, ref)
    inherited: set[str] = set()
    if forked_from is not None:
        previous = None
        origin = yield from find_live(d, forked_from, None)
        if origin is not None:
            inherited = request_keys(stored_state(origin)) & request_keys(state)
    yield from write_requests(d, ref, state, inherited, previous=previous)
    return derive(state, inherited=inherited, summary=summary)


_REQUEST_COLUMNS = (
    "session_ref, request_key, at, model, input_tokens, output_tokens, "
    "cache_write_5m_tokens, cache_write_1h_tokens, cache_read_tokens, cost, subagent"
)
_UPSERT_REQUEST = (
    f"INSERT INTO api_requests ({_REQUEST_COLUMNS}) VALUES (?{', ?' * 10}) "
    "ON CONFLICT (session_ref, subagent, request_key) DO UPDATE SET at = excluded.at, "
    "model = excluded.model, input_tokens = excluded.input_tokens, "
    "output_tokens = excluded.output_tokens, "
    "cache_write_5m_tokens = excluded.cache_write_5m_tokens, "
    "cache_write_1h_tokens = excluded.cache_write_1h_tokens, "
    "cache_read_tokens = excluded.cache_read_tokens, cost = excluded.cost"
)


def write_requests(
    d: Dialect,
    ref: int,
    state: FoldState,
    inherited: set[str],
    *,
    previous: FoldState | None = None,
) -> Op[None]:
    """Keep the API requests session ``ref`` counts (``api_requests``) and their sums by
    model (``session_models``). ``previous``: the state its rows were counted from, when
    they rest on nothing else (not a fork): only the rows that differ are written, so
    adding a turn to a long session writes that turn's rows, not all of them.
    Otherwise they are rewritten whole, as a change of lineage may change any."""
    requests = counted_requests(state, inherited=inherited)
    if previous is None:
        yield Stmt(d.sql("DELETE FROM api_requests WHERE session_ref = ?"), (ref,))
        changed = requests
    else:
        gone, changed = _changed_requests(previous, state, requests)
        if gone:
            yield Stmt(
                d.sql(
                    "DELETE FROM api_requests WHERE session_ref = ? AND subagent = ? "
                    "AND request_key = ?"
                ),
                [(ref, int(subagent), d.text(key)) for subagent, key in gone],
                many=True,
            )
    if changed:
        yield Stmt(
            d.sql(_UPSERT_REQUEST), [_request_row(d, ref, one) for one in changed], many=True
        )
    yield from _write_model_sums(d, ref, model_figures(state, requests))


def _changed_requests(
    previous: FoldState, state: FoldState, requests: list[RequestFigures]
) -> tuple[list[tuple[bool, str]], list[RequestFigures]]:
    """The requests (by subagent and key) ``previous`` counted and ``state`` does not, and
    those of ``requests`` (``state``'s) that ``previous`` did not count as they are.

    Without the CLI's run totals a request's figures are its own: those whose fold
    entry is the one kept before are unchanged (most often the very same object).
    With them, a run's totals are shared among its requests (see
    :mod:`..model.result_split`), so the figures are compared."""
    old, new = requests_apart(previous), requests_apart(state)
    gone = [key for key in old if key not in new]
    if state.result_runs or previous.result_runs:
        held = {(one.subagent, one.key): one for one in counted_requests(previous)}
        return gone, [one for one in requests if held.get((one.subagent, one.key)) != one]
    fresh = {key for key, request in new.items() if old.get(key) is not request}
    fresh = {key for key in fresh if old.get(key) != new[key]}
    return gone, [one for one in requests if (one.subagent, one.key) in fresh]


def _request_row(d: Dialect, ref: int, one: RequestFigures) -> tuple[Any, ...]:
    return (
        ref,
        d.text(one.key),
        one.at,
        d.text(one.model or ""),
        one.input,
        one.output,
        one.cache_write_5m,
        one.cache_write_1h,
        one.cache_read,
        one.cost,
        int(one.subagent),
    )


def _write_model_sums(d: Dialect, ref: int, by_model: list[ModelFigures]) -> Op[None]:
    """A session's requests added up by model: a few rows, rewritten whole."""
    yield Stmt(d.sql("DELETE FROM session_models WHERE session_ref = ?"), (ref,))
    if not by_model:
        return
    yield Stmt(
        d.sql(
            "INSERT INTO session_models (session_ref, model, requests, cost, "
            "unpriced_requests, input_tokens, output_tokens, cache_write_5m_tokens, "
            "cache_write_1h_tokens, cache_read_tokens) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        ),
        [
            (
                ref,
                d.text(one.model),
                one.requests,
                one.cost,
                one.unpriced_requests,
                one.input,
                one.output,
                one.cache_write_5m,
                one.cache_write_1h,
                one.cache_read,
            )
            for one in by_model
        ],
        many=True,
    )


def refresh(d: Dialect, ref: int, now: float) -> Op[None]:
    """Derive session ``ref``'s figures again: another session's write changed what they
    rest on (its fork link, its origin's requests, the summary of its leaf)."""
    found = yield Stmt(d.sql("SELECT session_id FROM sessions WHERE id = ?"), (ref,), "one")
    if found is None:
        return
    yield from d.lock(str(found["session_id"]))
    row = yield from by_ref(d, ref)
    derived = yield from derive_figures(d, ref, stored_state(row), row.metadata.forked_from)
    mtime = yield from _next_mtime(d, row.metadata.project_key, now)
    yield Stmt(
        d.sql(f"UPDATE sessions SET {FIGURES}, mtime_ms = ? WHERE id = ?"),
        (*figures(d, derived), mtime, ref),
    )
    if derived.title != row.metadata.title:
        yield from d.set_meta_text(ref, meta_text(row.metadata.description, derived.title))


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
    previous: FoldState | None = None,
    describe: bool = False,
    description: str | None = None,
) -> Op[Derived]:
    """Write a session's new state, its figures, times, fork link, SDK summary and tags (as
    its ``tags`` rows hold them), and with ``describe`` its ``description`` (``previous``:
    as for :func:`derive_figures`), in one UPDATE."""
    derived = yield from derive_figures(d, ref, state, link.forked_from, previous=previous)
    mtime = yield from _next_mtime(d, project_key, now)
    if summary is not None:
        summary["mtime"] = mtime
    yield Stmt(
        d.sql(
            "UPDATE sessions SET created_at = ?, updated_at = ?, mtime_ms = ?, "
            f"message_count = ?, {FIGURES}, forked_from = ?, forked_at = ?, root_key = ?, "
            f"fold_state = ?, sdk_summary = ?, tags = {d.tags_value()}"
            f"{', description = ?' if describe else ''} WHERE id = ?"
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
            *([d.text(description)] if describe else []),
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


# -- merged batches -----------------------------------------------------------------------


def merge_batch(d: Dialect, ref: int, subpath: str, batch: Sequence[Keyed]) -> Op[Merge]:
    """A batch merged with the stored entries it upserts (by key)."""
    keys = sorted({key for key, _, _ in batch if key is not None})
    stored, next_seq = yield from stored_entries(d, ref, subpath, keys)
    return merge_upserts(batch, stored, next_seq)


def insert_merged(d: Dialect, ref: int, subpath: str, merge: Merge) -> Op[None]:
    if merge.new:
        yield d.insert_entries(ref, subpath, merge.new)
        yield from d.index_aside(ref, subpath, merge.new)
    for key, text in merge.replaced.items():
        yield d.replace_entry(ref, subpath, key, text)
    if merge.replaced:
        yield from secret_findings.forget(d, ref, subpath)


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
    own = derive(state)
    root_key = row.root_key
    if merge.changed or root_key is None:
        root_key = entry_uuid(facts.root) if facts.root is not None else None
    link, others = yield from settle(
        d,
        row,
        state,
        Settling(
            held=ForkLink(row.metadata.forked_from, row.metadata.forked_at),
            reported=fork,
            root_key=root_key,
            newly_rooted=row.root_key is None and root_key is not None,
            summaries=facts.summaries,
            new=merge.new,
        ),
    )
    old = stored_state(row)
    yield from sync_tags(d, row.ref, replace=None, add=add_tags, old=derive(old), new=own)
    same_lineage = link.forked_from is None and row.metadata.forked_from is None
    created = created_after_batch(
        row.created_at, own.first_timestamp, was_empty=row.metadata.message_count == 0
    )
    derived = yield from write_derived(
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
        previous=old if same_lineage else None,
    )
    meta = meta_text(row.metadata.description, derived.title)
    if merge.changed:
        yield from d.set_text(row.ref, facts.body, meta)
    elif merge.new or derived.title != row.metadata.title:
        yield from d.append_text(row.ref, facts.body, meta)
    yield from refresh_others(d, row, others, old, state, now)
    return (yield from by_ref(d, row.ref))


@dataclass(frozen=True)
class Settling:
    """What a main-transcript write brings to :func:`settle`: the link the session
    held, the one a run reports, its root entry's key (``newly_rooted``: found in
    this write), the summaries among its new entries (by leaf), and those entries."""

    held: ForkLink
    reported: ForkLink
    root_key: str | None
    newly_rooted: bool
    summaries: dict[str, str]
    new: Sequence[NewEntry]


def settle(
    d: Dialect, row: SessionRow, state: FoldState, what: Settling
) -> Op[tuple[ForkLink, set[int]]]:
    """Before a session's new figures are written: settle its fork link with the
    sessions sharing its root entry, and match summaries to the sessions holding
    their leaf. Returns its link, and the other sessions whose figures must be
    derived again (:func:`refresh_others`)."""
    marker = state.forked_from
    own = fork_link(what.held, what.reported, marker)
    pinned = marker is not None or (own.forked_from or "") == what.reported.forked_from
    if what.root_key != row.root_key or own != what.held:
        yield Stmt(
            d.sql("UPDATE sessions SET root_key = ?, forked_from = ?, forked_at = ? WHERE id = ?"),
            (d.text(what.root_key), d.text(own.forked_from), d.text(own.forked_at), row.ref),
        )
        row = replace(row, root_key=what.root_key)
    settled = yield from settle_forks(d, row, own, pinned=pinned, newly_rooted=what.newly_rooted)
    if settled.link != own:
        yield write_link(d, row.ref, settled.link)
    others = set(settled.relinked)
    moved = dict(settled.relinked)
    if settled.link != what.held:
        moved[row.ref] = settled.link
    for ref, link in moved.items():
        if link.forked_from is not None:
            others |= yield from _rehome(d, ref, link.forked_from)
    others |= yield from keep_summaries(d, row, what.summaries)
    others |= yield from claim_leaves(d, row, settled.link.forked_from, what.new)
    others.discard(row.ref)
    return settled.link, others


def _rehome(d: Dialect, fork: int, origin_id: str) -> Op[set[int]]:
    origin = yield from find_live(d, origin_id, None)
    if origin is None or origin.ref == fork:
        return set()
    return (yield from rehome(d, fork, origin.ref))


def refresh_others(
    d: Dialect,
    row: SessionRow,
    others: set[int],
    before: FoldState,
    after: FoldState,
    now: float,
) -> Op[None]:
    """Derive again the figures of ``others`` and of ``row``'s forks that replay its
    new requests (a fork stored before its origin counted them as its own)."""
    fresh = sorted(request_keys(after) - request_keys(before))
    forks = yield from forks_replaying(d, row.metadata.session_id, fresh)
    for ref in sorted((others | forks) - {row.ref}):
        yield from refresh(d, ref, now)


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
        previous=held,
    )
    return (yield from by_ref(d, row.ref))
