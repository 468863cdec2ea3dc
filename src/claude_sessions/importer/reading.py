"""Reading transcript files line by line into batches of entries, and accounting for every line.

Each line read is stored, found already stored (a duplicate), or counted bad
with its reason; the :class:`ImportReport` adds up: ``lines_read ==
entries_imported + duplicates + bad_lines``.
"""

from __future__ import annotations

import json
import math
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import orjson

from claude_sessions.importer.identify import is_packed, open_text
from claude_sessions.model.entries import MAX_DEPTH, encode_entry
from claude_sessions.model.preparing import Line, Prepared, Preparing
from claude_sessions.model.redaction import redact_entry

BATCH_ENTRIES = 5000
BATCH_BYTES = 8 * 1024 * 1024
READ_BYTES = 1024 * 1024
FOLD_LINES = 256  # lines parsed before they are merged and folded (see Preparing)

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
    """What one import did.

    Every non-blank line read is accounted for: ``lines_read ==
    entries_imported + duplicates + bad_lines``. ``conflicts`` counts stored
    lines whose uuid another stored line already had with other content
    (both are kept). ``bad_reasons`` says why lines were bad; ``unknown_types``
    counts the entries of each type this version does not know, ``untyped_entries``
    those without a type (all are kept); ``skipped`` lists files left alone, with
    why (not a transcript, unreadable, links leaving the tree, sessions in the trash);
    ``handed_over``, files another capture or import was reading, which it
    reads for this one too (see :mod:`claude_sessions.importer.handover`).
    ``redacted_lines``: lines stored with their secrets redacted (``import --redact``),
    and ``redacted_rules`` how many lines each rule redacted.
    """

    files_seen: int = 0
    files_unchanged: int = 0
    files_read: int = 0
    sessions_new: int = 0
    sessions_updated: int = 0
    sessions_unchanged: int = 0
    lines_read: int = 0
    entries_imported: int = 0
    duplicates: int = 0
    conflicts: int = 0
    bad_lines: int = 0
    bad_reasons: dict[str, int] = field(default_factory=dict)
    repaired_lines: int = 0
    redacted_lines: int = 0
    redacted_rules: dict[str, int] = field(default_factory=dict)
    unknown_types: dict[str, int] = field(default_factory=dict)
    untyped_entries: int = 0
    bytes_read: int = 0
    seconds: float = 0.0
    skipped: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    handed_over: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def mb_per_second(self) -> float:
        return self.bytes_read / 1e6 / self.seconds if self.seconds > 0 else 0.0

    def absorb(self, counts: ImportReport) -> None:
        """Add what reading lines counted in ``counts`` (another process's, say)."""
        self.lines_read += counts.lines_read
        self.bytes_read += counts.bytes_read
        self.bad_lines += counts.bad_lines
        self.repaired_lines += counts.repaired_lines
        self.redacted_lines += counts.redacted_lines
        self.untyped_entries += counts.untyped_entries
        for mine, theirs in (
            (self.bad_reasons, counts.bad_reasons),
            (self.unknown_types, counts.unknown_types),
            (self.redacted_rules, counts.redacted_rules),
        ):
            for name, count in theirs.items():
                mine[name] = mine.get(name, 0) + count

    def add_again(self, again: ImportReport) -> None:
        """Add what reading files this report counts once more found: lines, entries
        and problems (the files and sessions are counted already)."""
        self.absorb(again)
        self.entries_imported += again.entries_imported
        self.duplicates += again.duplicates
        self.conflicts += again.conflicts
        self.skipped += again.skipped
        self.errors += again.errors

    def bad(self, reason: str) -> None:
        self.bad_lines += 1
        self.bad_reasons[reason] = self.bad_reasons.get(reason, 0) + 1


class _BadLineError(ValueError):
    """Why a line cannot be imported."""


def _refuse_constant(name: str) -> Any:
    raise _BadLineError(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _BadLineError(f"{text[:20]} is out of range for a number")
    return value


def _careful(raw: bytes, report: ImportReport) -> tuple[Any, str]:
    """The standard parser, for what orjson refuses: integers past 64 bits, escaped lone
    surrogates, invalid UTF-8 (repaired). NaN, infinities and overflowing numbers are bad."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("utf-8", "replace")
        report.repaired_lines += 1
        value = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite)
        return value, json.dumps(value, separators=(",", ":"))
    return json.loads(text, parse_constant=_refuse_constant, parse_float=_finite), text


def parse_line(
    raw: bytes, length: int, offset: int, report: ImportReport, *, redact: bool = False
) -> tuple[Line, dict[str, Any]] | None:
    """A non-blank line whose JSON text is its first ``length`` bytes (the rest is white
    space), without its entry, and the entry; ``None`` when it is bad (counted).
    ``redact``: its secrets replaced (the text is then the redacted entry's)."""
    try:
        try:
            value: Any = orjson.loads(raw)
            # orjson took it, so it is valid UTF-8; decoded in place, not copied first
            text = str(memoryview(raw)[:length], "utf-8")
        except orjson.JSONDecodeError:
            value, text = _careful(raw[:length], report)
    except _BadLineError as error:
        report.bad(str(error))
        return None
    except RecursionError:
        report.bad(f"nested deeper than {MAX_DEPTH} levels")
        return None
    except ValueError:
        report.bad("not JSON")
        return None
    if type(value) is not dict:
        report.bad("not a JSON object")
        return None
    if raw.count(b"{") + raw.count(b"[") > MAX_DEPTH:  # cheap: deep nesting needs brackets
        try:
            orjson.dumps(value)
        except orjson.JSONEncodeError:
            report.bad(f"nested deeper than {MAX_DEPTH} levels")
            return None
    kind = value.get("type")
    if not isinstance(kind, str):  # missing, null, or no name at all (a list, say)
        report.untyped_entries += 1
    elif kind not in KNOWN_ENTRY_TYPES:
        report.unknown_types[kind] = report.unknown_types.get(kind, 0) + 1
    if redact:
        value, text = _redacted(value, text, report)
    uuid = value.get("uuid")
    return Line(offset, None, text, uuid if type(uuid) is str and uuid else None), value


def _redacted(value: dict[str, Any], text: str, report: ImportReport) -> tuple[Any, str]:
    """The entry with its secrets redacted, and its text (unchanged when it had none)."""
    found = redact_entry(value)
    if not found.rules:
        return value, text
    report.redacted_lines += 1
    for rule in found.rules:
        report.redacted_rules[rule] = report.redacted_rules.get(rule, 0) + 1
    return found.value, encode_entry(found.value)


class Batch(NamedTuple):
    """Lines read from ``start`` to ``end``, whether the file ends there, and what reading
    them counted (lines, bytes, bad lines and why, unknown entry types). Offsets are in
    the text read: a ``.gz`` file's, uncompressed.

    ``sizes`` and ``crc`` are kept only when asked for (``locate``): the bytes each
    line's text takes in the file at its offset (-1: its text is not those bytes, as
    read: indented, repaired, or packed in a .gz file), and the CRC-32 of the bytes
    from ``start`` to ``end``. So another process can take the text from the file, and
    tell if it changed.
    """

    lines: list[Line]
    start: int
    end: int
    last: bool
    counts: ImportReport
    sizes: list[int]
    crc: int


def read_batches(
    path: Path, start: int, *, locate: bool = False, redact: bool = False
) -> Iterator[tuple[Batch, Prepared]]:
    """The lines from ``start`` on, in batches, each prepared (see :class:`Preparing`);
    the last batch (``last``, perhaps with no lines) ends where the complete lines end.
    ``redact``: each line's secrets are replaced before anything is made of it."""
    counts = ImportReport()
    batch: list[Line] = []
    entries: list[dict[str, Any]] = []  # those of the lines not yet folded
    preparing = Preparing()
    sizes: list[int] = []
    batch_bytes = bytes_read = lines_read = crc = 0
    offset = begun = start
    limit_entries, limit_bytes = BATCH_ENTRIES, BATCH_BYTES
    # Where the text is a .gz file's, no line's text is the file's bytes: each is sent.
    verbatim_file = not is_packed(path)
    # A large buffer: the file is split into lines in far fewer, larger reads.
    with open_text(path, READ_BYTES) as handle:
        handle.seek(start)
        for raw in handle:
            size = len(raw)
            # Nearly every line is an object and a newline (123: "{", 125: "}", 10: a
            # newline): it is parsed as it is, not stripped into a copy first.
            plain = size > 2 and raw[0] == 123 and raw[-2] == 125 and raw[-1] == 10
            stripped = raw if plain else raw.strip()
            if stripped:
                if raw[-1] != 10 and not _complete(stripped):
                    break  # a truncated last line (the CLI may be writing it): read it again
                lines_read += 1
                changed = counts.repaired_lines + counts.redacted_lines if locate else 0
                length = size - 1 if plain else len(stripped)
                read = parse_line(stripped, length, offset, counts, redact=redact)
                if read is not None:
                    batch.append(read[0])
                    entries.append(read[1])
                    batch_bytes += size
                    if locate:
                        same = counts.repaired_lines + counts.redacted_lines == changed
                        verbatim = raw[0] == stripped[0] and same
                        sizes.append(length if verbatim and verbatim_file else -1)
                    if len(entries) >= FOLD_LINES:
                        preparing.add(batch[-len(entries) :], entries)
                        entries = []
            if locate:
                crc = zlib.crc32(raw, crc)
            bytes_read += size
            offset += size
            if len(batch) >= limit_entries or batch_bytes >= limit_bytes:
                counts.bytes_read, counts.lines_read = bytes_read, lines_read
                if entries:
                    preparing.add(batch[-len(entries) :], entries)
                yield Batch(batch, begun, offset, False, counts, sizes, crc), preparing.prepared()
                counts, batch, entries, sizes = ImportReport(), [], [], []
                preparing = Preparing()
                batch_bytes = bytes_read = lines_read = crc = 0
                begun = offset
    counts.bytes_read, counts.lines_read = bytes_read, lines_read
    if entries:
        preparing.add(batch[-len(entries) :], entries)
    yield Batch(batch, begun, offset, True, counts, sizes, crc), preparing.prepared()


def _complete(line: bytes) -> bool:
    """Whether a line the file does not end with a newline is whole JSON."""
    try:
        orjson.loads(line)
    except orjson.JSONDecodeError:
        return False
    return True


class Job(NamedTuple):
    """Read ``path`` from byte ``start`` on (``redact``: its lines' secrets redacted)."""

    path: Path
    start: int
    redact: bool = False


class Read(NamedTuple):
    """One batch of a job's file, prepared."""

    job: int  # its index among the jobs
    batch: Batch
    prepared: Prepared


class Failed(NamedTuple):
    """A job's file could not be read further (what its unfinished batch held is not
    counted: it is not stored either)."""

    job: int
    error: str


def read_jobs(jobs: Sequence[Job], *, locate: bool = False) -> Iterator[Read | Failed]:
    """Each job's batches, in order, prepared in this process (``locate``: see :class:`Batch`)."""
    for index, job in enumerate(jobs):
        yield from read_job(index, job, locate=locate)


def read_job(index: int, job: Job, *, locate: bool = False) -> Iterator[Read | Failed]:
    try:
        for batch, prepared in read_batches(job.path, job.start, locate=locate, redact=job.redact):
            yield Read(index, batch, prepared)
    except (OSError, EOFError, zlib.error) as error:  # a .gz file's damage is one of these
        yield Failed(index, str(error))
