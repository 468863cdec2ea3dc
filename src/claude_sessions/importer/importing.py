"""Import the Claude Code CLI's own transcripts into a session store.

The CLI writes every session to ``<config>/projects/<project>/<session_id>.jsonl``
(``<config>`` is ``$CLAUDE_CONFIG_DIR`` or ``~/.claude``), subagent transcripts
under ``<project>/<session_id>/subagents/`` (also in nested folders; Claude Code
2.0 wrote them beside the session's: see :mod:`.identify`), and deletes them
after ``cleanupPeriodDays``. :func:`import_transcripts` copies
every entry verbatim into the store, so the history outlives the files.

- Streaming: files are read line by line and stored in batches, so memory
  stays flat whatever the file size.
- Crash-safe and incremental: each batch is stored in one transaction with
  the file's new position (``import_files`` in the store; small files'
  batches share one), so an import killed at any point resumes where it
  stopped; a file whose size and mtime did not change is skipped, one that
  only grew is read from where the last import stopped, a rewritten one is
  read again (nothing is duplicated: see :mod:`claude_sessions.model.preparing`).
  Two imports at once duplicate nothing.
- One reader at a time: each session is claimed before it is read, and one
  another import, ``watch`` or capture hook is reading is left to it, which
  reads again what was asked for meanwhile (:mod:`claude_sessions.importer.handover`).
- Respectful: a session the user moved to the trash is not brought back, and
  a file deleted on disk stays in the store.
- Forgiving: a bad line (not JSON, NaN, nested too deep, ...) is counted
  with its reason, never fatal; so are unknown entry types and entries without
  one. Transcripts are found at any depth, ``.jsonl.gz`` files read as the text
  they pack, and a file that holds no transcript is named, with why.
- Forks: a ``--fork-session`` transcript copies its origin's entries (same
  uuids). The store decides which is the fork from what the files hold, in
  whatever order they arrive; one import reads origins first only to spare
  the store a second count.
- Fast when large: an import with more than :data:`LARGE_IMPORT_BYTES` to
  read parses in a second process (:mod:`.worker`) while this one stores,
  and SQLite checkpoints its log in a thread meanwhile
  (``SessionStore.bulk_writes``).
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from claude_sessions.importer import reading
from claude_sessions.importer.discovery import Found, discover, origins_first, session_files
from claude_sessions.importer.handover import Claim, Desk
from claude_sessions.importer.identify import TranscriptFile, is_packed, text_size
from claude_sessions.importer.reading import (
    Failed,
    ImportProgress,
    ImportReport,
    Job,
    Read,
    read_jobs,
)
from claude_sessions.model.exceptions import InvalidInputError
from claude_sessions.model.identity import host_name
from claude_sessions.store import (
    FileBatch,
    FileState,
    Landed,
    record_redaction,
    redaction_policy,
)

if TYPE_CHECKING:
    from claude_sessions.store import SessionStore

_HEAD_BYTES = 4096
# An import this large reads in a second process and writes with store.bulk_writes().
LARGE_IMPORT_BYTES = 32 * 1024 * 1024
# The second process needs a core of its own.
READER_CPUS = 2
# An import claims the sessions of this many files at a time: the kernel walks a
# list of every lock held on the claims' file at each lock taken.
CLAIM_FILES = 1000


def _usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))  # what this process may run on (Linux)
    except AttributeError:
        return os.cpu_count() or 1


def head_hash(path: Path, length: int) -> str:
    """sha1 of the first ``min(length, 4096)`` bytes: tells a file that grew from one rewritten."""
    with path.open("rb") as handle:
        return hashlib.sha1(handle.read(min(length, _HEAD_BYTES))).hexdigest()


class _Heads:
    """:func:`head_hash` of one file as its import goes on, read once it is whole."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.known: tuple[int, str] | None = None

    def of(self, length: int) -> str:
        length = min(length, _HEAD_BYTES)
        if self.known is None or self.known[0] != length:
            self.known = (length, head_hash(self.path, length))
        return self.known[1]


def source_name(path: Path) -> str:
    """The key of a file's import position: this machine and the file's real path
    (a PostgreSQL store is shared by machines whose paths look alike)."""
    return f"{host_name()}:{path.resolve()}"


def _start(previous: FileState | None, stat: os.stat_result, path: Path, state: str) -> int | None:
    """Where to read a file from; ``None`` when it has not changed since the last import."""
    if previous is None or state == "absent":  # new, or the store lost the session
        return 0
    if stat.st_size == previous.size and stat.st_mtime_ns == previous.mtime_ns:
        return None
    if is_packed(path):  # its positions are in the text it packs: read it whole again
        return 0
    if stat.st_size >= previous.consumed and head_hash(path, previous.consumed) == previous.head:
        return previous.consumed  # it only grew
    return 0  # rewritten


@dataclass
class _Session:
    new: bool = False
    touched: bool = False


@dataclass
class _File:
    """A file being imported: what the store knows of it, and how far it is read."""

    item: TranscriptFile
    stat: os.stat_result
    source: str
    session: _Session
    heads: _Heads
    position: int
    length: int  # of the text it holds (a .gz file's, uncompressed)


class _Pending(NamedTuple):
    batch: FileBatch
    session: _Session
    read: int  # bytes of the file this batch accounts for
    path: Path | None  # None: the file's last batch


@dataclass
class _Run:
    store: SessionStore
    report: ImportReport
    progress: Callable[[ImportProgress], None] | None
    sessions: dict[str, _Session] = field(default_factory=dict)
    bytes_total: int = 0
    bytes_done: int = 0
    files_total: int = 0
    pending: list[_Pending] = field(default_factory=list)
    pending_lines: int = 0
    pending_bytes: int = 0
    redact: bool = False
    redacted: dict[str, set[str]] = field(default_factory=dict)  # rules, by session id

    def tell(self, current: Path | None) -> None:
        if self.progress is not None:
            self.progress(
                ImportProgress(
                    self.report.files_read,
                    self.files_total,
                    self.bytes_done,
                    self.bytes_total,
                    current,
                )
            )

    def standing(self, item: TranscriptFile) -> _File | None:
        """The file to read and from where; ``None`` when there is nothing to read."""
        path = item.path
        stat = path.stat()
        source = source_name(path)
        store = self.store
        state, previous = store.run(
            store.core.file_standing(item.session_id, item.project_key, source)
        )
        if state == "trashed":
            self.report.skipped.append(f"{path}: its session is in the trash")
            return None
        start = _start(previous, stat, path, state)
        if start is None:
            self.report.files_unchanged += 1
            return None
        session = self.sessions.setdefault(item.session_id, _Session())
        length = text_size(path, stat.st_size)
        return _File(item, stat, source, session, _Heads(path), start, length)

    def land(self, file: _File, read: Read | Failed) -> None:
        """Queue a batch of the file for storing (or report why it could not be read)."""
        if isinstance(read, Failed):
            self.report.errors.append(f"{file.item.path}: {read.error}")
            return
        batch, item = read.batch, file.item
        self.report.absorb(batch.counts)
        if batch.counts.redacted_rules:
            self.redacted.setdefault(item.session_id, set()).update(batch.counts.redacted_rules)
        # Each batch lands with the file's new position; the last one also records
        # the size and time the file had when it was read.
        size = file.stat.st_size if batch.last else -1
        state = FileState(size, file.stat.st_mtime_ns, batch.end, file.heads.of(batch.end))
        lines = FileBatch(
            item.session_id,
            item.project_key,
            item.subpath or "",
            batch.lines,
            file.source,
            state,
            read.prepared,
        )
        self.add(
            _Pending(
                lines, file.session, batch.end - file.position, None if batch.last else item.path
            )
        )
        file.position = batch.end

    def add(self, pending: _Pending) -> None:
        """Queue a batch; small files' batches commit together, in one transaction."""
        self.pending.append(pending)
        self.pending_lines += len(pending.batch.lines)
        self.pending_bytes += pending.read
        if self.pending_lines >= reading.BATCH_ENTRIES or self.pending_bytes >= reading.BATCH_BYTES:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        queued, self.pending = self.pending, []
        self.pending_lines = self.pending_bytes = 0
        landed = self.store.run(self.store.core.import_batches([p.batch for p in queued]))
        for item, result in zip(queued, landed, strict=True):
            self._count(item.session, result)
            self.bytes_done += item.read
            self.report.files_read += item.path is None
        self.tell(queued[-1].path)

    def _count(self, session: _Session, landed: Landed) -> None:
        session.new = session.new or landed.created
        session.touched = session.touched or landed.created or landed.stored > 0
        self.report.entries_imported += landed.stored
        self.report.duplicates += landed.duplicates
        self.report.conflicts += landed.conflicts


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off while entries are read: parsed JSON holds
    no cycles (reference counting frees it), yet a batch of thousands of entries makes
    the collector walk every object it holds, again and again (a third of an import)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def import_transcripts(
    store: SessionStore,
    paths: Iterable[str | os.PathLike[str]] | None = None,
    *,
    progress: Callable[[ImportProgress], None] | None = None,
    redact: bool = False,
) -> ImportReport:
    """Copy the CLI's transcripts under ``paths`` into ``store``; see the module docstring.

    ``paths`` defaults to ``$CLAUDE_CONFIG_DIR/projects`` or ``~/.claude/projects``.
    ``progress`` is called as files and batches complete. ``redact``: store each
    secret found as ``[REDACTED:rule]`` (so does a store whose policy says so).
    """
    return import_found(store, discover(paths), progress=progress, redact=redact)


def import_session_files(
    store: SessionStore,
    transcript: str | os.PathLike[str],
    *,
    claim: Claim | None = None,
    agent_transcript: str | os.PathLike[str] | None = None,
    redact: bool = False,
) -> ImportReport:
    """Copy one session's transcript and its subagent transcripts (what a hook names:
    ``agent_transcript`` too); ``claim``: the caller's claim on ``transcript``, which
    the import takes over; ``redact``: as :func:`import_transcripts`."""
    found = session_files(transcript, agent_transcript=agent_transcript)
    return import_found(store, found, claimed=[claim] if claim else [], redact=redact)


def import_found(
    store: SessionStore,
    found: Found,
    *,
    progress: Callable[[ImportProgress], None] | None = None,
    claimed: Iterable[Claim] = (),
    redact: bool = False,
) -> ImportReport:
    """Copy the transcripts :func:`discover` (or :func:`session_files`) found.

    Each session is claimed first (see :mod:`claude_sessions.importer.handover`;
    ``claimed``: claims the caller holds, which the import takes over): one that
    another capture or import is reading is left to it (``handed_over``), and one
    asked for meanwhile is read again before this returns. ``redact``, or the
    store's redact-on-capture policy: secrets never reach the store, and each session
    redacted records it.
    """
    started = time.perf_counter()
    report = ImportReport()
    report.files_seen = len(found.files)
    report.skipped.extend(found.skipped)
    redact = redact or redaction_policy(store)
    run = _Run(store, report, progress, files_total=len(found.files), redact=redact)
    for item in found.files:
        with contextlib.suppress(OSError):
            run.bytes_total += text_size(item.path, item.path.stat().st_size)
    desk, ordered, every = Desk(store.location), origins_first(found.files), set()
    given = list(claimed)
    for start in range(0, max(len(ordered), 1), CLAIM_FILES):  # once at least, for ``given``
        chunk = ordered[start : start + CLAIM_FILES]
        held, mine = _claim(desk, chunk, report, given if start == 0 else [])
        every |= {f.session_id for f in mine}
        _read_claimed(run, held, mine)
    record_redaction(store, run.redacted)
    report.sessions_new = sum(1 for s in run.sessions.values() if s.new)
    report.sessions_updated = sum(1 for s in run.sessions.values() if s.touched and not s.new)
    report.sessions_unchanged = len(every) - report.sessions_new - report.sessions_updated
    report.seconds = time.perf_counter() - started
    return report


def _read_claimed(run: _Run, held: dict[str, Claim], mine: list[TranscriptFile]) -> None:
    """Read ``mine`` while ``held`` is held, then again the sessions asked for meanwhile."""
    try:
        _read_and_store(run, mine)
        while held := {real: claim for real, claim in held.items() if claim.let_go()}:
            for claim in held.values():
                claim.start_reading()
            files = [item for claim in held.values() for item in session_files(claim.path).files]
            again = _Run(run.store, ImportReport(), None, run.sessions, files_total=len(files))
            _read_and_store(again, origins_first(files))
            run.report.add_again(again.report)
    finally:  # an error: let go of what is still held, the marks left for the next holder
        for claim in held.values():
            claim.release()


def _claim(
    desk: Desk, files: list[TranscriptFile], report: ImportReport, claimed: Iterable[Claim]
) -> tuple[dict[str, Claim], list[TranscriptFile]]:
    """Each session's claim (by its main transcript's :meth:`Desk.real` name), and the
    files of the sessions claimed; the others' files go to ``report.handed_over``."""
    claims: dict[str, Claim | None] = {claim.real: claim for claim in claimed}
    mine = []
    for item in files:
        main = item.claimed_as
        real = desk.real(main)
        if real not in claims:
            claims[real] = desk.claim(main, real)
        if claims[real] is None:
            report.handed_over.append(str(item.path))
        else:
            mine.append(item)
    held = {real: claim for real, claim in claims.items() if claim is not None}
    for claim in held.values():
        claim.start_reading()
    return held, mine


def _read_and_store(run: _Run, items: list[TranscriptFile]) -> None:
    """Read what is new in ``items`` (forks after their origins) and store it."""
    store, report = run.store, run.report
    files: list[_File] = []
    for item in items:
        try:
            planned = run.standing(item)
        except (InvalidInputError, OSError) as error:
            report.errors.append(f"{item.path}: {error}")
            continue
        if planned is not None:
            files.append(planned)
    jobs = [Job(file.item.path, file.position, run.redact) for file in files]
    # A hook's import of one session, or an import that finds little new, pays for
    # neither a reading process nor a checkpoint thread.
    to_read = sum(max(file.length - file.position, 0) for file in files)
    large = bool(jobs) and to_read >= LARGE_IMPORT_BYTES
    if large and _usable_cpus() >= READER_CPUS:
        from claude_sessions.importer.worker import (
            read_in_worker,  # a process: what a hook never pays for
        )

        reads = read_in_worker(jobs)
    else:
        reads = read_jobs(jobs)
    bulk = store.bulk_writes() if large else contextlib.nullcontext()
    with bulk, _collector_paused():
        for read in reads:
            run.land(files[read.job], read)
        run.flush()
