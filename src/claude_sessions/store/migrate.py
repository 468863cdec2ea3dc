"""Copy a whole store between backends (SQLite <-> PostgreSQL), losslessly, and prove it.

``migrate_store(src, dst)`` copies every session as it is stored: every
entry of the main transcript and of subagent transcripts (in order, with
its uuid), tags with their origin (user or the CLI's ``tag`` entry), the
description, ``created_at``/``updated_at``, the SDK's ``mtime`` and summary,
and the derived metadata. Nothing is re-derived, so a session saved with an
explicit ``project`` keeps it. A session already in the destination under the
same (session id, project key) is replaced; others are left alone.

Afterwards each session is read back from the destination and its checksum
(SHA-256 of a canonical JSON form: keys sorted, timestamps at microsecond
precision, which is PostgreSQL's) compared with the source's; the report
lists any difference and ``ok`` is False then. Automatic cleanup is off on
both sides while copying, so old sessions are not deleted on the way.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..exceptions import StoreError
from .metadata import entries_text
from .store import Location, SessionStore

Record = dict[str, Any]
BATCH = 200


@dataclass
class MigrationReport:
    """What ``migrate_store`` copied and whether the copy checks out."""

    source: str
    destination: str
    sessions: int = 0
    entries: int = 0
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
            f"copied {self.sessions} sessions ({self.entries} entries) from {self.source} "
            f"to {self.destination} in {self.seconds:.1f}s; {self.verified} {state}; "
            f"checksum {self.checksum[:16]}"
        )


class _Port(Protocol):
    def refs(self) -> Iterator[Any]: ...

    def export(self, key: Any) -> Record | None: ...

    def import_(self, record: Record) -> None: ...

    def find(self, session_id: str, project_key: str) -> Any: ...


def checksum(record: Record) -> str:
    """SHA-256 of a session record in canonical form (see the module docstring)."""
    canonical = {
        **record,
        "created_at": round(record["created_at"], 6),
        "updated_at": round(record["updated_at"], 6),
        "total_cost": float(record["total_cost"]),
        "tags": sorted([list(pair) for pair in record["tags"]]),
        "entries": [list(item) for item in record["entries"]],
    }
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


# -- SQLite ----------------------------------------------------------------------------------


def _sqlite_dumps(entry: Any) -> str:
    text = json.dumps(entry, ensure_ascii=False, separators=(",", ":"))
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates: SQLite stores UTF-8 only
        text = json.dumps(entry, separators=(",", ":"))
    return text


def _sqlite_text(text: str) -> str:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")
    return text


class _SQLitePort:
    _COLUMNS = (
        "session_id, project_key, created_at, updated_at, mtime_ms, message_count, turns, "
        "total_cost, description, model, project, first_prompt, title, git_branch, "
        "forked_from, fold_state, sdk_summary"
    )

    def __init__(self, backend: Any) -> None:
        self._b = backend

    def refs(self) -> Iterator[int]:
        after = 0
        while True:
            with self._b._read() as conn:
                refs = [
                    ref
                    for (ref,) in conn.execute(
                        "SELECT id FROM sessions WHERE id > ? ORDER BY id LIMIT ?", (after, BATCH)
                    )
                ]
            yield from refs
            if len(refs) < BATCH:
                return
            after = refs[-1]

    def find(self, session_id: str, project_key: str) -> int | None:
        with self._b._read() as conn:
            row = conn.execute(
                "SELECT id FROM sessions WHERE session_id = ? AND project_key = ?",
                (session_id, project_key),
            ).fetchone()
        return None if row is None else int(row[0])

    def export(self, ref: int) -> Record | None:
        with self._b._read() as conn:
            row = conn.execute(
                f"SELECT {self._COLUMNS} FROM sessions WHERE id = ?", (ref,)
            ).fetchone()
            if row is None:
                return None
            tags = conn.execute(
                "SELECT tag, source FROM tags WHERE session_ref = ? ORDER BY tag", (ref,)
            ).fetchall()
            entries = conn.execute(
                "SELECT subpath, seq, uuid, data FROM entries WHERE session_ref = ? "
                "ORDER BY subpath, seq",
                (ref,),
            ).fetchall()
        record: Record = {key: row[key] for key in row.keys()}  # noqa: SIM118 - sqlite3.Row
        record["fold_state"] = json.loads(row["fold_state"])
        record["sdk_summary"] = json.loads(row["sdk_summary"]) if row["sdk_summary"] else None
        record["tags"] = [(tag, source) for tag, source in tags]
        record["entries"] = [
            (subpath, seq, uuid, json.loads(data)) for subpath, seq, uuid, data in entries
        ]
        return record

    def import_(self, record: Record) -> None:
        from .sqlite_schema import meta_text

        main = [entry for subpath, _, _, entry in record["entries"] if subpath == ""]
        tags = [tag for tag, _ in record["tags"]]
        with self._b._write() as conn:
            conn.execute(
                "DELETE FROM sessions WHERE session_id = ? AND project_key = ?",
                (record["session_id"], record["project_key"]),
            )
            cursor = conn.execute(
                f"INSERT INTO sessions ({self._COLUMNS}, tags) VALUES "
                "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    record["session_id"],
                    record["project_key"],
                    record["created_at"],
                    record["updated_at"],
                    record["mtime_ms"],
                    record["message_count"],
                    record["turns"],
                    record["total_cost"],
                    record["description"],
                    record["model"],
                    record["project"],
                    record["first_prompt"],
                    record["title"],
                    record["git_branch"],
                    record["forked_from"],
                    json.dumps(record["fold_state"], ensure_ascii=False),
                    json.dumps(record["sdk_summary"], ensure_ascii=False)
                    if record["sdk_summary"] is not None
                    else None,
                    json.dumps(tags, ensure_ascii=False),
                ),
            )
            ref = cursor.lastrowid
            conn.executemany(
                "INSERT INTO tags (session_ref, tag, source) VALUES (?, ?, ?)",
                [(ref, tag, source) for tag, source in record["tags"]],
            )
            conn.executemany(
                "INSERT INTO entries (session_ref, subpath, seq, uuid, data) "
                "VALUES (?, ?, ?, ?, ?)",
                [
                    (ref, subpath, seq, uuid, _sqlite_dumps(entry))
                    for subpath, seq, uuid, entry in record["entries"]
                ],
            )
            conn.execute(
                "INSERT INTO sessions_fts (rowid, body, meta) VALUES (?, ?, ?)",
                (
                    ref,
                    _sqlite_text(entries_text(main)),
                    meta_text(record["description"], record["title"]),
                ),
            )


# -- PostgreSQL ------------------------------------------------------------------------------


class _PostgresPort:
    def __init__(self, backend: Any) -> None:
        self._b = backend

    def refs(self) -> Iterator[int]:
        after = 0
        while True:
            refs: list[int] = self._b.export_refs(after, BATCH)
            yield from refs
            if len(refs) < BATCH:
                return
            after = refs[-1]

    def find(self, session_id: str, project_key: str) -> int | None:
        from . import postgres_sql as q

        def op() -> q.Op[int | None]:
            row = yield q.Stmt(
                "SELECT id FROM sessions WHERE session_id = %s AND project_key = %s",
                (session_id, q.clean_text(project_key)),
                fetch="one",
            )
            return None if row is None else int(row["id"])

        result: int | None = self._b._run(op)
        return result

    def export(self, ref: int) -> Record | None:
        record: Record | None = self._b.export_session(ref)
        return record

    def import_(self, record: Record) -> None:
        self._b.import_session(record)


def _port(store: SessionStore) -> _Port:
    backend = store.backend
    if type(backend).__name__ == "SQLiteBackend":
        return _SQLitePort(backend)
    if type(backend).__name__ == "PostgresBackend":
        return _PostgresPort(backend)
    raise StoreError(f"cannot migrate a {type(backend).__name__} store")


def _open(location: Location | SessionStore) -> tuple[SessionStore, bool]:
    if isinstance(location, SessionStore):
        return location, False
    return SessionStore(location, cleanup_after_days=None), True


def migrate_store(
    src: Location | SessionStore,
    dst: Location | SessionStore,
    *,
    progress: Callable[[int], None] | None = None,
) -> MigrationReport:
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
        report = MigrationReport(source.location, destination.location)
        reader, writer = _port(source), _port(destination)
        digests: list[tuple[str, str, str]] = []
        for key in reader.refs():
            record = reader.export(key)
            if record is None:  # deleted while we copy
                continue
            writer.import_(record)
            digests.append((record["session_id"], record["project_key"], checksum(record)))
            report.sessions += 1
            report.entries += len(record["entries"])
            if progress is not None:
                progress(report.sessions)
        overall = hashlib.sha256()
        for session_id, project_key, digest in sorted(digests):
            copied_key = writer.find(session_id, project_key)
            copied = writer.export(copied_key) if copied_key is not None else None
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
