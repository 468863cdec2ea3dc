"""Reading transcript files line by line into batches of entries, counting bad lines."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import orjson

BATCH_ENTRIES = 1000
BATCH_BYTES = 8 * 1024 * 1024

KNOWN_ENTRY_TYPES = frozenset(
    {
        "user",
        "assistant",
        "system",
        "summary",
        "attachment",
        "queue-operation",
        "last-prompt",
        "mode",
        "cost-state",
        "custom-title",
        "tag",
        "result",
        "file-history-snapshot",
        "api-request",
        "api-request-blob",
        "api-request-shape",
        "atis-latch",
        "progress",
        "agent-name",
        "pr-link",
    }
)


@dataclass
class ImportProgress:
    """What :func:`import_transcripts` reports to its ``progress`` callback."""

    files_done: int
    files_total: int
    bytes_done: int
    bytes_total: int
    current: Path | None


@dataclass
class ImportReport:
    """What one import did. ``entries_imported`` counts entries handed to the store."""

    files_seen: int = 0
    files_unchanged: int = 0
    files_read: int = 0
    sessions_new: int = 0
    sessions_updated: int = 0
    sessions_unchanged: int = 0
    entries_imported: int = 0
    bad_lines: int = 0
    repaired_lines: int = 0
    unknown_types: dict[str, int] = field(default_factory=dict)
    bytes_read: int = 0
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def mb_per_second(self) -> float:
        return self.bytes_read / 1e6 / self.seconds if self.seconds > 0 else 0.0


@dataclass
class FileResult:
    offset: int
    entries: int = 0


def parse_line(line: bytes, report: ImportReport) -> dict[str, Any] | None:
    try:
        value = _fast_loads(line)
    except ValueError:
        try:
            value = _careful_loads(line, report)
        except ValueError:
            report.bad_lines += 1
            return None
    if not isinstance(value, dict):
        report.bad_lines += 1
        return None
    kind = value.get("type")
    if kind not in KNOWN_ENTRY_TYPES:
        name = kind if isinstance(kind, str) else repr(kind)
        report.unknown_types[name] = report.unknown_types.get(name, 0) + 1
    return value


def _fast_loads(line: bytes) -> Any:
    """orjson: several times faster than json, and it refuses (ValueError) what it
    cannot give back exactly (bad UTF-8, NaN tokens, integers past 64 bits)."""
    return orjson.loads(line)


def _careful_loads(line: bytes, report: ImportReport) -> Any:
    """The standard parser, repairing invalid UTF-8; raises ValueError on bad JSON."""
    try:
        return json.loads(line)
    except UnicodeDecodeError:
        value = json.loads(line.decode("utf-8", "replace"))
        report.repaired_lines += 1
        return value


def read_batches(
    path: Path,
    start: int,
    report: ImportReport,
    done: FileResult,
) -> Iterator[list[dict[str, Any]]]:
    """Entries from ``start`` on, in batches; ``done.offset`` follows complete lines."""
    batch: list[dict[str, Any]] = []
    batch_bytes = 0
    offset = start
    with path.open("rb") as handle:
        handle.seek(start)
        for line in handle:
            size = len(line)
            report.bytes_read += size
            complete = line.endswith(b"\n")
            stripped = line.strip()
            if stripped:
                entry = parse_line(stripped, report)
                if entry is None and not complete:
                    # A truncated last line (the CLI may be writing it): not
                    # consumed, so the next import reads it again.
                    break
                if entry is not None:
                    batch.append(entry)
                    batch_bytes += size
            offset += size
            if len(batch) >= BATCH_ENTRIES or batch_bytes >= BATCH_BYTES:
                done.offset = offset  # saved by the caller once the batch is stored
                yield batch
                batch, batch_bytes = [], 0
    done.offset = offset
    if batch:
        yield batch
