"""Redaction on a ``SessionStore``: rewrite stored sessions in place, record what capture
redacted, and the store's redact-on-capture policy (see :mod:`.redaction_writes`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from claude_sessions.store import redaction_writes as rw
from claude_sessions.store.dialect import Dialect
from claude_sessions.store.plan import Op, Stmt, Txn, single

if TYPE_CHECKING:
    from claude_sessions.store.session_store import SessionStore


@dataclass(frozen=True)
class RedactReport:
    """What ``secrets redact`` did: the sessions it looked at, those it changed (with
    the rules whose secrets it replaced), and whether the old text is gone from the
    database's files (``scrubbed``: False when a reader kept SQLite's log)."""

    sessions_seen: int
    redacted: tuple[rw.SessionRedaction, ...]
    scrubbed: bool

    def to_dict(self) -> dict[str, object]:
        return {
            "sessions_seen": self.sessions_seen,
            "sessions_redacted": len(self.redacted),
            "redacted": [
                {"session_id": one.session_id, "rules": list(one.rules)} for one in self.redacted
            ],
            "scrubbed": self.scrubbed,
        }


def redact_stored(store: SessionStore, session_ids: Sequence[str] | None) -> RedactReport:
    """Replace the secrets of the live sessions ``session_ids`` (``None``: every one) in
    place, one transaction per session, then erase the old text from the files. This
    cannot be undone."""
    d = store.core.d
    refs = store.run(single(Txn(lambda: rw.live_refs(d, session_ids))))
    done: list[rw.SessionRedaction] = []
    for ref in refs:
        now = store.core.now()
        result = store.run(single(Txn(partial(rw.redact_session, d, ref, now), write=True)))
        if result.rules:
            done.append(result)
    scrubbed = store.scrub()
    return RedactReport(len(refs), tuple(done), scrubbed)


def redaction_policy(store: SessionStore) -> bool:
    """Whether capture and import store the redacted text only (``secrets policy``)."""
    return bool(store.run(single(Txn(lambda: rw.read_policy(store.core.d)))))


def set_redaction_policy(store: SessionStore, on: bool) -> bool:
    return bool(store.run(single(Txn(lambda: rw.write_policy(store.core.d, on), write=True))))


def record_redaction(store: SessionStore, rules_by_session: Mapping[str, Iterable[str]]) -> None:
    """Record on each session that capture redacted what it stored, by which rules."""
    chosen = {name: sorted(set(rules)) for name, rules in rules_by_session.items() if rules}
    if not chosen:
        return
    d, now = store.core.d, store.core.now()
    store.run(single(Txn(lambda: _record(d, chosen, now), write=True)))


def _record(d: Dialect, chosen: Mapping[str, list[str]], now: float) -> Op[None]:
    for session_id, rules in chosen.items():
        rows = yield Stmt(
            d.sql(
                "SELECT id, redacted_rules FROM sessions WHERE session_id = ? "
                "AND trashed_at IS NULL"
            ),
            (d.text(session_id),),
            "all",
        )
        for row in rows:
            known = str(row["redacted_rules"] or "").split(",")
            every = sorted({*rules, *(rule for rule in known if rule)})
            yield Stmt(
                d.sql("UPDATE sessions SET redacted_at = ?, redacted_rules = ? WHERE id = ?"),
                (d.time(now), d.text(",".join(every)), int(row["id"])),
            )
