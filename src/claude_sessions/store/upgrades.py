"""Transactions that schema upgrades run over every stored session (see the
``upgrade`` of :mod:`.sqlite.schema` and :mod:`.postgres.schema`)."""

from __future__ import annotations

from claude_sessions.model.derive import combine, facts_of, fold_subagents
from claude_sessions.model.entries import entry_uuid, legacy_subagent_parent, root_entry
from claude_sessions.store.dialect import Dialect, meta_text
from claude_sessions.store.entry_writes import (
    FIGURES,
    derive_figures,
    figures,
    stored_state,
)
from claude_sessions.store.fork_writes import settle_group
from claude_sessions.store.plan import Op, Stmt
from claude_sessions.store.reads import by_ref, load_entries, subagent_entries
from claude_sessions.store.summary_writes import match_stored


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


def recount(d: Dialect) -> Op[None]:
    """Fold every session again, as today's rules count it (a schema upgrade that changes
    how figures are counted), and settle what the order sessions arrived in decided:
    fork links (the marks of copied entries, then content) and summaries matched to
    the session holding their leaf."""
    yield from adopt_legacy_subagents(d)
    rows = yield Stmt(d.sql("SELECT id FROM sessions ORDER BY id"), (), "all")
    refs = [int(row["id"]) for row in rows]
    for ref in refs:
        yield from _refold_keeping_summaries(d, ref)
    groups = yield Stmt(
        d.sql(
            "SELECT root_key FROM sessions WHERE root_key IS NOT NULL AND trashed_at IS NULL "
            "GROUP BY root_key HAVING count(*) > 1"
        ),
        (),
        "all",
    )
    for group in groups:
        yield from settle_group(d, group["root_key"])
    yield from match_stored(d)
    for ref in refs:
        row = yield from by_ref(d, ref)
        derived = yield from derive_figures(d, ref, stored_state(row), row.metadata.forked_from)
        yield Stmt(
            d.sql(f"UPDATE sessions SET {FIGURES} WHERE id = ?"), (*figures(d, derived), ref)
        )
        if derived.title != row.metadata.title:
            yield from d.set_meta_text(ref, meta_text(row.metadata.description, derived.title))


def split_result_runs(d: Dialect) -> Op[None]:
    """Fold again the sessions whose main figures are the CLI's run totals, so that each
    run's totals are split across its own requests (:mod:`..model.result_split`): the
    states stored before kept the runs' sum only, and their requests their lines'."""
    rows = yield Stmt(d.sql("SELECT id FROM sessions WHERE from_result = 1 ORDER BY id"), (), "all")
    for found in rows:
        ref = int(found["id"])
        yield from _refold_keeping_summaries(d, ref)
        row = yield from by_ref(d, ref)
        derived = yield from derive_figures(d, ref, stored_state(row), row.metadata.forked_from)
        yield Stmt(
            d.sql(f"UPDATE sessions SET {FIGURES} WHERE id = ?"), (*figures(d, derived), ref)
        )


def _refold_keeping_summaries(d: Dialect, ref: int) -> Op[None]:
    main = yield from load_entries(d, ref, "")
    facts = facts_of(main)
    agents = yield from subagent_entries(d, ref)
    state = combine(None, facts.state)
    state = fold_subagents(state, agents) if agents else state
    yield Stmt(d.sql("UPDATE sessions SET fold_state = ? WHERE id = ?"), (state.to_json(), ref))
    if facts.summaries:
        yield Stmt(
            d.sql(
                "INSERT INTO summaries (leaf_key, summary) VALUES (?, ?) "
                "ON CONFLICT (leaf_key) DO UPDATE SET summary = excluded.summary"
            ),
            [(d.text(leaf), d.text(text)) for leaf, text in facts.summaries.items()],
            many=True,
        )


def adopt_legacy_subagents(d: Dialect) -> Op[None]:
    """Put under their session the subagent transcripts Claude Code 2.0 wrote beside the
    sessions (``agent-<id>.jsonl``), which earlier imports stored as sessions of their
    own: their entries move to ``subagents/agent-<id>`` of the session their first line
    names (stored in the same project, else anywhere), and the stand-alone copy goes.
    One whose session is not stored stays as it is."""
    rows = yield Stmt(
        d.sql("SELECT id, session_id, project_key FROM sessions WHERE session_id LIKE ?"),
        ("agent-%",),
        "all",
    )
    for row in rows:
        ref, name = int(row["id"]), str(row["session_id"])
        first = yield Stmt(
            d.sql(
                f"SELECT {d.entry_columns()} FROM entries WHERE session_ref = ? "
                "AND subpath = '' ORDER BY seq LIMIT 1"
            ),
            (ref,),
            "one",
        )
        parent = legacy_subagent_parent(name, d.entry(first)) if first is not None else None
        if parent is None:
            continue
        holder = yield from _adopter(d, parent, str(row["project_key"]))
        if holder is None:
            continue
        subpath = f"subagents/{name}"
        held = yield Stmt(
            d.sql("SELECT 1 AS found FROM entries WHERE session_ref = ? AND subpath = ? LIMIT 1"),
            (holder, d.text(subpath)),
            "one",
        )
        if held is None:  # else a later import already put the transcript there
            yield Stmt(
                d.sql(
                    "UPDATE entries SET session_ref = ?, subpath = ? "
                    "WHERE session_ref = ? AND subpath = ''"
                ),
                (holder, d.text(subpath), ref),
            )
        yield Stmt(d.sql("DELETE FROM sessions WHERE id = ?"), (ref,))


def index_aside(d: Dialect) -> Op[None]:
    """Index the tool calls and subagents of every stored session (a store from before
    they were searched)."""
    rows = yield Stmt(d.sql("SELECT id FROM sessions ORDER BY id"), (), "all")
    for row in rows:
        yield from d.reindex_aside(int(row["id"]))


def _adopter(d: Dialect, session_id: str, project_key: str) -> Op[int | None]:
    rows = yield Stmt(
        d.sql(
            "SELECT id, project_key FROM sessions WHERE session_id = ? "
            "ORDER BY trashed_at IS NOT NULL, updated_at DESC"
        ),
        (d.text(session_id),),
        "all",
    )
    same = [int(r["id"]) for r in rows if r["project_key"] == project_key]
    return same[0] if same else (int(rows[0]["id"]) if rows else None)
