"""Copy a whole store between databases (SQLite <-> PostgreSQL), losslessly, and prove it.

``copy_store(src, dst)`` copies every session as it is stored, the trash
included: every entry of the main transcript and of subagent transcripts (in
order, with its key), tags with their origin (user or the CLI's ``tag``
entry), the description, ``created_at``/``updated_at``, the SDK's ``mtime``
and summary, the derived metadata (the API requests it counts and their sums by
model included), the summaries it holds the leaf of, the sync marks (how far each
team server has it: a copied laptop store sends nothing again), and
where a trashed session stands; then the summaries still waiting for theirs,
and what the store keeps beside its sessions (users, sign-ins, budgets, the
redaction policy, the audit log, the last send to each team server:
:mod:`.transfer_records`).
Nothing is re-derived, so a session saved with an explicit ``project`` keeps
it. A live session already in the destination under the same (session id,
project key) is replaced; others are left alone.

Afterwards each session is read back from the destination and its checksum
(SHA-256 of a canonical JSON form: keys sorted, times at microsecond
precision, which is PostgreSQL's) compared with the source's; the report
lists any difference and ``ok`` is False then. Automatic cleanup is off on
both sides while copying, so old sessions are not trashed on the way.
"""

from __future__ import annotations

import functools
import hashlib
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from claude_sessions.model.derive import entries_text
from claude_sessions.model.entries import NewEntry, encode_entry
from claude_sessions.model.exceptions import StoreError
from claude_sessions.model.identity import Identity
from claude_sessions.store.dialect import ROW_ONLY, Dialect, meta_text
from claude_sessions.store.plan import Op, Stmt, Txn, single
from claude_sessions.store.reads import load_entries
from claude_sessions.store.records import stored_fields
from claude_sessions.store.session_store import Location, SessionStore
from claude_sessions.store.sync_marks import marks_of, restore_marks
from claude_sessions.store.transfer_records import export_records, import_records, records_missing
from claude_sessions.store.writes import counted

Record = dict[str, Any]
BATCH = 200

_IDENTITY = ("session_id", "project_key")
# What a copy carries of a session: its identity first, then every column SessionMetadata
# keeps (but the tags, copied with their origin from the tags table), what writes keep
# beside them, why it is in the trash, and what figures by model read.
_COLUMNS = (
    *_IDENTITY,
    *(kept.column for kept in stored_fields() if kept.column not in (*_IDENTITY, "tags")),
    *ROW_ONLY,
    "trash_reason",
    "requests",
    "models_apart",
)
_TIMES = tuple(kept.column for kept in stored_fields() if kept.read == "moment")
# The tables of a session's figures by request, copied row by row (key columns first).
_FIGURE_TABLES = {
    "api_requests": (
        "subagent, request_key, at, model, input_tokens, output_tokens, "
        "cache_write_5m_tokens, cache_write_1h_tokens, cache_read_tokens, cost"
    ),
    "session_models": (
        "model, requests, cost, unpriced_requests, input_tokens, output_tokens, "
        "cache_write_5m_tokens, cache_write_1h_tokens, cache_read_tokens"
    ),
}
_JSON = ("fold_state", "sdk_summary")


@dataclass
class CopyReport:
    """What ``copy_store`` copied and whether the copy checks out."""

    source: str
    destination: str
    sessions: int = 0
    entries: int = 0
    users: int = 0
    verified: int = 0
    mismatches: list[str] = field(default_factory=list)
    checksum: str = ""
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.mismatches and self.verified == self.sessions

    def summary(self) -> str:
        state = "verified" if self.ok else f"{len(self.mismatches)} MISMATCHED"
        return (
            f"copied {self.sessions} sessions ({self.entries} entries) and {self.users} users "
            f"from {self.source} "
            f"to {self.destination} in {self.seconds:.1f}s; {self.verified} {state}; "
            f"checksum {self.checksum[:16]}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "destination": self.destination,
            "sessions": self.sessions,
            "entries": self.entries,
            "users": self.users,
            "verified": self.verified,
            "mismatches": self.mismatches,
            "checksum": self.checksum,
            "seconds": round(self.seconds, 3),
            "ok": self.ok,
        }


def checksum(record: Record) -> str:
    """SHA-256 of a session record in canonical form (see the module docstring)."""
    canonical = {
        **record,
        **{name: round(record[name], 6) for name in _TIMES if record[name] is not None},
        "total_cost": float(record["total_cost"]),
        "tags": sorted([list(pair) for pair in record["tags"]]),
        "entries": [list(item) for item in record["entries"]],
    }
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


# -- the transactions ------------------------------------------------------------------------


def _refs(d: Dialect, after: int, limit: int) -> Op[list[int]]:
    rows = yield Stmt(
        d.sql("SELECT id FROM sessions WHERE id > ? ORDER BY id LIMIT ?"), (after, limit), "all"
    )
    return [int(row["id"]) for row in rows]


def _find(
    d: Dialect, session_id: str, project_key: str, trashed_at: float | None
) -> Op[int | None]:
    if trashed_at is None:
        row = yield Stmt(
            d.sql(
                "SELECT id FROM sessions WHERE session_id = ? AND project_key = ? "
                "AND trashed_at IS NULL"
            ),
            (session_id, d.text(project_key)),
            "one",
        )
    else:
        row = yield Stmt(
            d.sql(
                "SELECT id FROM sessions WHERE session_id = ? AND project_key = ? "
                "AND trashed_at = ? ORDER BY id DESC LIMIT 1"
            ),
            (session_id, d.text(project_key), d.time(trashed_at)),
            "one",
        )
    return None if row is None else int(row["id"])


def _export(d: Dialect, ref: int) -> Op[Record | None]:
    """One session as plain data: its row, its tags with their source, every entry."""
    row = yield Stmt(
        d.sql(f"SELECT {', '.join(_COLUMNS)} FROM sessions WHERE id = ?"), (ref,), "one"
    )
    if row is None:
        return None
    record: Record = {name: row[name] for name in _COLUMNS}
    for name in _TIMES:
        if record[name] is not None:
            record[name] = d.epoch(record[name])
    for name in _JSON:
        record[name] = json.loads(record[name]) if record[name] else None
    tags = yield Stmt(d.sql("SELECT tag, source FROM tags WHERE session_ref = ?"), (ref,), "all")
    record["tags"] = sorted((t["tag"], t["source"]) for t in tags)
    entries = yield Stmt(
        d.sql(
            f"SELECT subpath, seq, entry_key, {d.entry_columns()} FROM entries "
            "WHERE session_ref = ?"
        ),
        (ref,),
        "all",
    )
    found = [(e["subpath"], e["seq"], e["entry_key"], d.entry(e)) for e in entries]
    record["entries"] = sorted(
        found, key=lambda item: (item[0].encode("utf-8", "replace"), item[1])
    )
    held = yield Stmt(
        d.sql("SELECT leaf_key, summary, leaf_seq FROM summaries WHERE session_ref = ?"),
        (ref,),
        "all",
    )
    record["summaries"] = sorted((h["leaf_key"], h["summary"], h["leaf_seq"]) for h in held)
    for table, columns in _FIGURE_TABLES.items():
        rows = yield Stmt(
            d.sql(f"SELECT {columns} FROM {table} WHERE session_ref = ?"), (ref,), "all"
        )
        record[table] = sorted([_plain(value) for value in row.values()] for row in map(dict, rows))
    # what each team server acknowledged: a copied laptop store sends them nothing again
    record["sync_marks"] = yield from marks_of(d, ref)
    return record


def _plain(value: Any) -> Any:
    """A figure as both databases give it back (PostgreSQL sums come as decimals)."""
    return float(value) if isinstance(value, Decimal) else value


def _counted_import(d: Dialect, record: Record) -> Op[None]:
    """:func:`_import`, counted as a write: a live page on the destination sees it."""
    return counted(d, _import(d, record))


def _import(d: Dialect, record: Record) -> Op[None]:
    """Write an exported session as it was (replacing a live one with the same key)."""
    session_id = record["session_id"]
    yield from d.lock(session_id)
    if record["trashed_at"] is None:
        yield Stmt(
            d.sql(
                "DELETE FROM sessions WHERE session_id = ? AND project_key = ? "
                "AND trashed_at IS NULL"
            ),
            (session_id, d.text(record["project_key"])),
        )
    # The copy's user and machine are the original's: the UPDATE below sets them.
    ref = yield from d.insert_session(
        session_id, record["project_key"], record["created_at"], Identity()
    )
    values: list[Any] = []
    for name in _COLUMNS[len(_IDENTITY) :]:
        value = record[name]
        if name in _TIMES and value is not None:
            value = d.time(value)
        elif name in _JSON and value is not None:
            value = json.dumps(value, separators=(",", ":"))
        elif isinstance(value, str):
            value = d.text(value)
        values.append(value)
    assignments = ", ".join(f"{name} = ?" for name in _COLUMNS[len(_IDENTITY) :])
    yield Stmt(d.sql(f"UPDATE sessions SET {assignments} WHERE id = ?"), (*values, ref))
    if record["tags"]:
        yield Stmt(
            d.sql("INSERT INTO tags (session_ref, tag, source) VALUES (?, ?, ?)"),
            [(ref, d.text(tag), source) for tag, source in record["tags"]],
            many=True,
        )
    yield d.refresh_tags(ref)
    by_subpath: dict[str, list[NewEntry]] = {}
    for subpath, seq, key, entry in record["entries"]:
        by_subpath.setdefault(subpath, []).append(NewEntry(seq, key, entry, encode_entry(entry)))
    for subpath, rows in by_subpath.items():
        yield d.insert_entries(ref, subpath, rows)
        yield from d.index_aside(ref, subpath, rows)
    if record["summaries"]:
        yield Stmt(
            d.sql(
                "INSERT INTO summaries (leaf_key, summary, session_ref, leaf_seq) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (leaf_key) DO UPDATE SET "
                "summary = excluded.summary, session_ref = excluded.session_ref, "
                "leaf_seq = excluded.leaf_seq"
            ),
            [(d.text(leaf), d.text(text), ref, seq) for leaf, text, seq in record["summaries"]],
            many=True,
        )
    for table, columns in _FIGURE_TABLES.items():
        if record[table]:
            marks = ", ".join("?" * (columns.count(",") + 2))
            yield Stmt(
                d.sql(f"INSERT INTO {table} (session_ref, {columns}) VALUES ({marks})"),
                [
                    (ref, *(d.text(v) if isinstance(v, str) else v for v in row))
                    for row in record[table]
                ],
                many=True,
            )
    yield from restore_marks(d, ref, record["sync_marks"])
    if record["trashed_at"] is None:
        main = yield from load_entries(d, ref, "")
        meta = meta_text(record["description"], record["title"])
        yield from d.set_text(ref, entries_text(main), meta)
    else:
        yield from d.drop_text([ref])


def _waiting(d: Dialect) -> Op[list[tuple[str, str]]]:
    """The summaries no stored session holds the leaf of yet."""
    rows = yield Stmt(
        d.sql("SELECT leaf_key, summary FROM summaries WHERE session_ref IS NULL"), (), "all"
    )
    return [(row["leaf_key"], row["summary"]) for row in rows]


def _keep_waiting(d: Dialect, waiting: list[tuple[str, str]]) -> Op[None]:
    if waiting:
        yield Stmt(
            d.sql(
                "INSERT INTO summaries (leaf_key, summary) VALUES (?, ?) "
                "ON CONFLICT (leaf_key) DO NOTHING"
            ),
            [(d.text(leaf), d.text(text)) for leaf, text in waiting],
            many=True,
        )


# -- the copy -------------------------------------------------------------------------------


def _all_refs(store: SessionStore) -> Iterator[int]:
    d = store.core.d
    after = 0
    while True:
        refs = store.run(single(Txn(functools.partial(_refs, d, after, BATCH))))
        yield from refs
        if len(refs) < BATCH:
            return
        after = refs[-1]


def _open(location: Location | SessionStore) -> tuple[SessionStore, bool]:
    if isinstance(location, SessionStore):
        return location, False
    return SessionStore(location, cleanup_after_days=None, trash_days=None), True


def _copy_records(source: SessionStore, destination: SessionStore, report: CopyReport) -> None:
    """The store's own records (users, sign-ins, budgets, settings, audit log), checked."""
    read, write = source.core.d, destination.core.d
    records = source.run(single(Txn(functools.partial(export_records, read))))
    destination.run(single(Txn(functools.partial(import_records, write, records), write=True)))
    found = destination.run(single(Txn(functools.partial(export_records, write))))
    report.users = len(records["users"])
    report.mismatches.extend(records_missing(records, found))


def copy_store(
    src: Location | SessionStore,
    dst: Location | SessionStore,
    *,
    progress: Callable[[int], None] | None = None,
) -> CopyReport:
    """Copy every session of ``src`` into ``dst`` and verify the copy (see the module doc).

    ``src``/``dst``: store locations (a path, ``sqlite:///...``,
    ``postgresql://...``) or open ``SessionStore`` objects. ``progress`` is
    called with the number of sessions copied so far.
    """
    started = time.monotonic()
    source, close_source = _open(src)
    try:
        destination, close_destination = _open(dst)
    except BaseException:
        if close_source:
            source.close()
        raise
    try:
        if source.location == destination.location:
            raise StoreError("source and destination are the same store")
        report = CopyReport(source.location, destination.location)
        read, write = source.core.d, destination.core.d
        digests: list[tuple[str, str, float | None, str]] = []
        for ref in _all_refs(source):
            record = source.run(single(Txn(functools.partial(_export, read, ref))))
            if record is None:  # deleted while we copy
                continue
            copy = functools.partial(_counted_import, write, record)
            destination.run(single(Txn(copy, write=True)))
            key = (record["session_id"], record["project_key"], record["trashed_at"])
            digests.append((*key, checksum(record)))
            report.sessions += 1
            report.entries += len(record["entries"])
            if progress is not None:
                progress(report.sessions)
        waiting = source.run(single(Txn(functools.partial(_waiting, read))))
        destination.run(single(Txn(functools.partial(_keep_waiting, write, waiting), write=True)))
        _copy_records(source, destination, report)
        overall = hashlib.sha256()
        for session_id, project_key, trashed_at, digest in sorted(
            digests, key=lambda item: (item[0], item[1], item[2] or 0.0)
        ):
            find = functools.partial(_find, write, session_id, project_key, trashed_at)
            copied_ref = destination.run(single(Txn(find)))
            copied = None
            if copied_ref is not None:
                export = functools.partial(_export, write, copied_ref)
                copied = destination.run(single(Txn(export)))
            if copied is None or checksum(copied) != digest:
                report.mismatches.append(f"{session_id} ({project_key or 'no project key'})")
            else:
                report.verified += 1
            overall.update(f"{session_id}\x00{project_key}\x00{digest}\n".encode())
        report.checksum = overall.hexdigest()
        report.seconds = time.monotonic() - started
        return report
    finally:
        if close_source:
            source.close()
        if close_destination:
            destination.close()
