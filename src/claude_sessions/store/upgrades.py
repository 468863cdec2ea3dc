"""Transactions that schema upgrades run over every stored session (see the
``upgrade`` of :mod:`.sqlite.schema` and :mod:`.postgres.schema`)."""

from __future__ import annotations

from claude_sessions.model.derive import combine, facts_of, fold_subagents
from claude_sessions.model.entries import entry_uuid, root_entry
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
