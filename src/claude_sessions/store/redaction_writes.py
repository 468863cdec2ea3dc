"""Redacting stored sessions in place, and the store's redaction policy.

A session's redaction rewrites every copy of its text the store keeps, in one
transaction: its entries (main transcript and subagents), the summaries of its
leaves, its description, the SDK's summary sidecar, the fold state and the
figures derived from it (first prompt, title), its full-text row, and the findings
a scan kept of it (their previews). The session then records when it was redacted
and by which rules. Erasing the old bytes from the database files is the driver's
part (:meth:`scrub`), after the transactions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from claude_sessions.model.derive import combine, facts_of, fold_subagents
from claude_sessions.model.entries import encode_entry
from claude_sessions.model.redaction import redact_entry, redact_value
from claude_sessions.store import secret_findings
from claude_sessions.store.dialect import Dialect, SessionRow, meta_text
from claude_sessions.store.entry_writes import FIGURES, derive_figures, figures
from claude_sessions.store.plan import Op, Stmt
from claude_sessions.store.reads import by_ref, load_entries, subagent_entries

POLICY_KEY = "redact_on_capture"


@dataclass(frozen=True)
class SessionRedaction:
    """What redacting one session did: the rules whose secrets it replaced."""

    session_id: str
    rules: tuple[str, ...]


def live_refs(d: Dialect, session_ids: Sequence[str] | None) -> Op[list[int]]:
    """The row ids of the live sessions ``session_ids`` names (``None``: all of them)."""
    if session_ids is None:
        rows = yield Stmt(
            d.sql("SELECT id FROM sessions WHERE trashed_at IS NULL ORDER BY id"), (), "all"
        )
        return [int(row["id"]) for row in rows]
    refs: list[int] = []
    for session_id in session_ids:
        rows = yield Stmt(
            d.sql("SELECT id FROM sessions WHERE session_id = ? AND trashed_at IS NULL"),
            (d.text(session_id),),
            "all",
        )
        refs.extend(int(row["id"]) for row in rows)
    return refs


def redact_session(d: Dialect, ref: int, now: float) -> Op[SessionRedaction]:
    """Replace every secret found in session ``ref``'s stored text."""
    rules = yield from _redact_entries(d, ref)
    if rules:
        yield from d.reindex_aside(ref)
    row = yield from by_ref(d, ref)
    rules |= yield from _redact_summaries(d, ref)
    description = redact_value(row.metadata.description)
    sidecar = redact_value(row.sdk_summary)
    rules |= description.rules | sidecar.rules
    yield from _refold(d, row, description.value, sidecar.value)
    if rules:  # the stored findings name what is gone: the next scan starts afresh
        yield from secret_findings.forget(d, ref)
        every = sorted(rules | set(row.metadata.redacted_rules))
        yield Stmt(
            d.sql("UPDATE sessions SET redacted_at = ?, redacted_rules = ? WHERE id = ?"),
            (d.time(now), d.text(",".join(every)), ref),
        )
    return SessionRedaction(row.metadata.session_id, tuple(sorted(rules)))


def _redact_entries(d: Dialect, ref: int) -> Op[set[str]]:
    rows = yield Stmt(
        d.sql(
            f"SELECT subpath, seq, {d.entry_columns()} FROM entries WHERE session_ref = ? "
            "ORDER BY subpath, seq"
        ),
        (ref,),
        "all",
    )
    rules: set[str] = set()
    for row in rows:
        subpath = str(row["subpath"])
        redacted = redact_entry(d.entry(row), subagent=bool(subpath))
        if redacted.rules:
            rules |= redacted.rules
            text = encode_entry(redacted.value)
            yield d.rewrite_entry(ref, subpath, int(row["seq"]), text)
    return rules


def _redact_summaries(d: Dialect, ref: int) -> Op[set[str]]:
    """The summaries titling this session (whichever session's file brought them)."""
    rows = yield Stmt(
        d.sql("SELECT leaf_key, summary FROM summaries WHERE session_ref = ?"), (ref,), "all"
    )
    rules: set[str] = set()
    for row in rows:
        redacted = redact_value(str(row["summary"]))
        if redacted.rules:
            rules |= redacted.rules
            yield Stmt(
                d.sql("UPDATE summaries SET summary = ? WHERE leaf_key = ?"),
                (d.text(redacted.value), row["leaf_key"]),
            )
    return rules


def _refold(
    d: Dialect, row: SessionRow, description: str | None, sidecar: dict[str, Any] | None
) -> Op[None]:
    """Fold the redacted entries again: the state, the figures read from it (first
    prompt, title) and the full-text row hold no copy of the old text."""
    ref = row.ref
    main = yield from load_entries(d, ref, "")
    facts = facts_of(main)
    agents = yield from subagent_entries(d, ref)
    state = combine(None, facts.state)
    state = fold_subagents(state, agents) if agents else state
    if facts.summaries:
        yield Stmt(
            d.sql("UPDATE summaries SET summary = ? WHERE leaf_key = ?"),
            [(d.text(text), d.text(leaf)) for leaf, text in facts.summaries.items()],
            many=True,
        )
    derived = yield from derive_figures(d, ref, state, row.metadata.forked_from)
    yield Stmt(
        d.sql(
            f"UPDATE sessions SET {FIGURES}, fold_state = ?, description = ?, sdk_summary = ? "
            "WHERE id = ?"
        ),
        (
            *figures(d, derived),
            state.to_json(),
            d.text(description),
            None if sidecar is None else encode_entry(sidecar),
            ref,
        ),
    )
    yield from d.set_text(ref, facts.body, meta_text(description, derived.title))


def read_policy(d: Dialect) -> Op[bool]:
    """Whether this store redacts what capture and import bring (``secrets policy``)."""
    found = yield Stmt(d.sql("SELECT value FROM store_meta WHERE key = ?"), (POLICY_KEY,), "one")
    return found is not None and found["value"] == "on"


def write_policy(d: Dialect, on: bool) -> Op[bool]:
    yield Stmt(
        d.sql(
            "INSERT INTO store_meta (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value"
        ),
        (POLICY_KEY, "on" if on else "off"),
    )
    return on
