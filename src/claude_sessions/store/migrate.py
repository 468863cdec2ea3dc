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
from typing import Any

from ..exceptions import StoreError
from .backend import Backend
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


def _refs(backend: Backend) -> Iterator[int]:
    after = 0
    while True:
        refs = backend.export_refs(after, BATCH)
        yield from refs
        if len(refs) < BATCH:
            return
        after = refs[-1]


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
        reader, writer = source.backend, destination.backend
        digests: list[tuple[str, str, str]] = []
        for ref in _refs(reader):
            record = reader.export_session(ref)
            if record is None:  # deleted while we copy
                continue
            writer.import_session(record)
            digests.append((record["session_id"], record["project_key"], checksum(record)))
            report.sessions += 1
            report.entries += len(record["entries"])
            if progress is not None:
                progress(report.sessions)
        overall = hashlib.sha256()
        for session_id, project_key, digest in sorted(digests):
            copied_ref = writer.find_ref(session_id, project_key)
            copied = writer.export_session(copied_ref) if copied_ref is not None else None
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
