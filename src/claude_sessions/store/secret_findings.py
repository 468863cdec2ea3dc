"""Secrets found in stored sessions: scanning the entries not scanned yet, and the findings.

A finding names where a secret is (the session, the transcript and entry, the place
and JSON path inside it, the value's offsets) and shows a masked preview, never the
value. Each transcript of a session keeps how far it was scanned (``secret_scans``:
the last entry position), so a scan reads only the entries added since. Scanning
runs in batches: a read, the detection in Python outside any transaction, then one
write of the batch's findings and its mark, so a long scan never holds the store.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from claude_sessions.store.dialect import Dialect
from claude_sessions.store.plan import Op, Plan, Stmt, Txn

BATCH = 500  # entries read, scanned and written at once


@dataclass(frozen=True)
class StoredFinding:
    """One secret in a stored session, as listed (see :mod:`claude_sessions.model.secrets`)."""

    session_id: str
    entry_uuid: str | None
    subpath: str  # the transcript: '' for the main one, else a subagent's
    seq: int  # the entry's position in its transcript
    place: str  # prompt, reply, tool input, tool result, subagent
    json_path: tuple[str | int, ...]  # to the string in the entry holding the secret
    rule: str
    confidence: str
    start: int  # the value's offsets in that string
    end: int
    preview: str  # the first 4 characters and the length

    def to_dict(self) -> dict[str, Any]:
        return {
            "session_id": self.session_id,
            "message_uuid": self.entry_uuid,
            "where": self.place,
            "transcript": self.subpath,
            "path": list(self.json_path),
            "rule": self.rule,
            "confidence": self.confidence,
            "preview": self.preview,
        }


def scan(d: Dialect, session_ids: Sequence[str] | None) -> Plan[list[StoredFinding]]:
    """Scan the live sessions ``session_ids`` (``None``: all) for entries not scanned
    yet, store what they hold, and return every finding of those sessions."""
    refs = yield Txn(lambda: _live_refs(d, session_ids))
    for ref in refs:
        while True:
            rows = yield Txn(partial(_unscanned, d, ref))
            if not rows:
                break
            found, marks = _detect(d, rows)
            yield Txn(partial(_record, d, ref, found, marks), write=True)
    result: list[StoredFinding] = yield Txn(lambda: _findings(d, session_ids))
    return result


def stored(d: Dialect, session_ids: Sequence[str] | None) -> Plan[list[StoredFinding]]:
    """The findings kept for the live sessions ``session_ids`` (``None``: all), without
    scanning (a read-only store)."""
    result: list[StoredFinding] = yield Txn(partial(_findings, d, session_ids))
    return result


def with_secrets(d: Dialect, session_ids: Iterable[str]) -> Plan[set[str]]:
    """Which of ``session_ids`` have a stored finding (the "secrets" badge)."""
    wanted = sorted(set(session_ids))
    found: set[str] = yield Txn(partial(_with_secrets, d, wanted))
    return found


def _with_secrets(d: Dialect, wanted: list[str]) -> Op[set[str]]:
    if not wanted:
        return set()
    condition, params = d.any_of("s.session_id", wanted)
    flagged = "EXISTS (SELECT 1 FROM secret_findings f WHERE f.session_ref = s.id)"
    # Kept and trashed apart: each half can use its partial index (sessions_by_key,
    # sessions_in_trash); one condition over both would read every session.
    rows = yield Stmt(
        d.sql(
            f"SELECT s.session_id FROM sessions s WHERE s.trashed_at IS NULL "
            f"AND {condition} AND {flagged} UNION "
            f"SELECT s.session_id FROM sessions s WHERE s.trashed_at IS NOT NULL "
            f"AND {condition} AND {flagged}"
        ),
        params + params,
        "all",
    )
    return {row["session_id"] for row in rows}


def forget(d: Dialect, ref: int, subpath: str | None = None) -> Op[None]:
    """Drop what scans found in one transcript of session ``ref`` (every one when
    ``subpath`` is None) and how far they read it: its stored entries were rewritten
    (replaced, upserted, deleted, redacted), so the next scan reads all of them again."""
    where, params = "session_ref = ?", list[Any]([ref])
    if subpath is not None:
        where, params = f"{where} AND subpath = ?", [ref, d.text(subpath)]
    yield Stmt(d.sql(f"DELETE FROM secret_findings WHERE {where}"), params)
    yield Stmt(d.sql(f"DELETE FROM secret_scans WHERE {where}"), params)


def _live_refs(d: Dialect, session_ids: Sequence[str] | None) -> Op[list[int]]:
    if session_ids is None:
        sql, params = "SELECT id FROM sessions WHERE trashed_at IS NULL ORDER BY id", list[Any]()
    else:
        condition, params = d.any_of("session_id", list(session_ids))
        sql = f"SELECT id FROM sessions WHERE {condition} AND trashed_at IS NULL ORDER BY id"
    rows = yield Stmt(d.sql(sql), params, "all")
    return [int(row["id"]) for row in rows]


def _unscanned(d: Dialect, ref: int) -> Op[list[tuple[str, int, dict[str, Any]]]]:
    rows = yield Stmt(
        d.sql(
            f"SELECT e.subpath, e.seq, {d.entry_columns()} FROM entries e "
            "LEFT JOIN secret_scans w ON w.session_ref = e.session_ref AND w.subpath = e.subpath "
            "WHERE e.session_ref = ? AND e.seq > COALESCE(w.scanned_seq, -1) "
            "ORDER BY e.subpath, e.seq LIMIT ?"
        ),
        (ref, BATCH),
        "all",
    )
    return [(row["subpath"], int(row["seq"]), d.entry(row)) for row in rows]


def _detect(
    d: Dialect, rows: list[tuple[str, int, dict[str, Any]]]
) -> tuple[list[tuple[Any, ...]], dict[str, int]]:
    """The findings of a batch of entries as rows (without the session), and the last
    position scanned in each transcript."""
    from claude_sessions.model.secrets import entry_findings, masked  # the rules load here

    found: list[tuple[Any, ...]] = []
    marks: dict[str, int] = {}
    for subpath, seq, entry in rows:
        marks[subpath] = max(marks.get(subpath, -1), seq)
        uuid = entry.get("uuid")
        for place, path, finding in entry_findings(entry, subagent=subpath != ""):
            text = _at(entry, path)
            value = text[finding.start : finding.end]
            found.append(
                (
                    d.text(subpath),
                    seq,
                    d.text(uuid) if isinstance(uuid, str) else None,
                    place,
                    d.text(json.dumps(list(path), ensure_ascii=False)),
                    finding.rule,
                    finding.confidence,
                    finding.start,
                    finding.end,
                    d.text(masked(value)),
                )
            )
    return found, marks


def _at(entry: Any, path: Sequence[str | int]) -> str:
    for step in path:
        entry = entry[step]
    return str(entry)


def _record(d: Dialect, ref: int, found: list[tuple[Any, ...]], marks: dict[str, int]) -> Op[None]:
    alive = yield Stmt(d.sql("SELECT 1 AS found FROM sessions WHERE id = ?"), (ref,), "one")
    if alive is None:  # deleted while it was scanned
        return
    if found:
        yield Stmt(
            d.sql(
                "INSERT INTO secret_findings (session_ref, subpath, seq, entry_uuid, place, "
                "json_path, rule, confidence, value_start, value_end, preview) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
            ),
            [(ref, *row) for row in found],
            many=True,
        )
    yield Stmt(
        d.sql(
            "INSERT INTO secret_scans (session_ref, subpath, scanned_seq) VALUES (?, ?, ?) "
            "ON CONFLICT (session_ref, subpath) DO UPDATE SET scanned_seq = CASE "
            "WHEN excluded.scanned_seq > secret_scans.scanned_seq THEN excluded.scanned_seq "
            "ELSE secret_scans.scanned_seq END"
        ),
        [(ref, d.text(subpath), seq) for subpath, seq in marks.items()],
        many=True,
    )


def _findings(d: Dialect, session_ids: Sequence[str] | None) -> Op[list[StoredFinding]]:
    condition, params = "1 = 1", list[Any]()
    if session_ids is not None:
        condition, params = d.any_of("s.session_id", list(session_ids))
    rows = yield Stmt(
        d.sql(
            "SELECT s.session_id, f.entry_uuid, f.subpath, f.seq, f.place, f.json_path, "
            "f.rule, f.confidence, f.value_start, f.value_end, f.preview "
            "FROM secret_findings f JOIN sessions s ON s.id = f.session_ref "
            f"WHERE s.trashed_at IS NULL AND {condition} "
            "ORDER BY s.session_id, f.session_ref, f.subpath, f.seq, f.json_path, f.value_start"
        ),
        params,
        "all",
    )
    return [
        StoredFinding(
            row["session_id"],
            row["entry_uuid"],
            row["subpath"],
            int(row["seq"]),
            row["place"],
            tuple(json.loads(row["json_path"])),
            row["rule"],
            row["confidence"],
            int(row["value_start"]),
            int(row["value_end"]),
            row["preview"],
        )
        for row in rows
    ]
