"""Import the Claude Code CLI's own transcripts into a session store.

The CLI writes every session to ``<config>/projects/<project>/<session_id>.jsonl``
(``<config>`` is ``$CLAUDE_CONFIG_DIR`` or ``~/.claude``), subagent transcripts
to ``<project>/<session_id>/subagents/*.jsonl``, and deletes them after
``cleanupPeriodDays``. :func:`import_transcripts` copies every entry verbatim
into the store (``store.append_messages``), so the history outlives the files.

- Streaming: files are read line by line and appended in batches, so memory
  stays flat whatever the file size.
- Incremental and idempotent: a file whose size and mtime did not change is
  skipped; a file that only grew is read from where the last import stopped;
  a rewritten file is read again from the start (entries with a ``uuid`` are
  upserted by the store, so nothing is duplicated). A file deleted on disk
  stays in the store.
- Forgiving: corrupt lines, a truncated last line, invalid UTF-8 and unknown
  entry types are counted in the :class:`ImportReport`, never fatal.
- Forks: a ``--fork-session`` transcript copies its origin's entries (same
  uuids). New files are imported origins first (the fork's copied entries
  name the origin in ``requestSessionId``), so the store links the fork.

Where the previous import stopped in each file is kept in a small SQLite
sidecar beside the store (:func:`import_state_path`): the store has no API
for per-file bookkeeping.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..exceptions import InvalidSessionIdError
from ..store.store import IMPORTED_TAG
from .discovery import (
    TranscriptFile,
    claude_config_dir,
    default_projects_dir,
    discover,
    origins_first,
)
from .reading import (
    KNOWN_ENTRY_TYPES,
    FileResult,
    ImportProgress,
    ImportReport,
    read_batches,
)
from .state import FileState, ImportState, head_hash, import_state_path

if TYPE_CHECKING:
    from ..store import SessionStore

__all__ = [
    "KNOWN_ENTRY_TYPES",
    "ImportProgress",
    "ImportReport",
    "TranscriptFile",
    "claude_config_dir",
    "default_projects_dir",
    "discover",
    "import_state_path",
    "import_transcripts",
]


@dataclass
class _Pending:
    file: TranscriptFile
    stat: os.stat_result
    start: int


# What reading hands the store: a batch (entries, offset after it),
# the end of a file (None, final offset), or a file it could not read (the error).
_Item = tuple[_Pending, "list[dict[str, Any]] | OSError | None", int]


def _plan(
    item: TranscriptFile,
    stat: os.stat_result,
    previous: FileState | None,
    resolved: Path,
    in_store: Callable[[str], bool],
) -> _Pending | None:
    """What to read of one file: ``None`` when it has not changed since the last import."""
    if previous is None:
        return _Pending(item, stat, 0)
    if not in_store(item.session_id):  # the store lost it (deleted, or a new store)
        return _Pending(item, stat, 0)
    if stat.st_size == previous.size and stat.st_mtime_ns == previous.mtime_ns:
        return None
    if stat.st_size >= previous.offset and head_hash(resolved, previous.offset) == previous.head:
        return _Pending(item, stat, previous.offset)  # it only grew
    return _Pending(item, stat, 0)  # rewritten


def _items(jobs: list[_Pending], report: ImportReport) -> Iterator[_Item]:
    """Each file's batches, then its end (or the error that stopped reading it).

    Reading on a separate thread, ahead of the store, was measured: no gain
    (parsing and the store's own Python work share the GIL), so it stays simple.
    """
    for job in jobs:
        done = FileResult(job.start)
        try:
            for batch in read_batches(job.file.path, job.start, report, done):
                yield job, batch, done.offset
        except OSError as error:
            yield job, error, done.offset
            continue
        yield job, None, done.offset


def import_transcripts(
    store: SessionStore,
    paths: Iterable[str | os.PathLike[str]] | None = None,
    *,
    progress: Callable[[ImportProgress], None] | None = None,
) -> ImportReport:
    """Copy the CLI's transcripts under ``paths`` into ``store``; see the module docstring.

    ``paths`` defaults to ``$CLAUDE_CONFIG_DIR/projects`` or ``~/.claude/projects``.
    ``progress`` is called as files and batches complete.
    """
    started = time.perf_counter()
    report = ImportReport()
    files = discover(paths)
    report.files_seen = len(files)
    state = ImportState(import_state_path(store))
    known: dict[str, bool] = {}  # session id -> it was in the store before this import
    touched: set[str] = set()

    def in_store(session_id: str) -> bool:
        if session_id not in known:
            known[session_id] = store.get_metadata(session_id) is not None
        return known[session_id]

    try:
        jobs: list[_Pending] = []
        for item in files:
            try:
                stat = item.path.stat()
                planned = _plan(item, stat, state.get(item.path.resolve()), item.path, in_store)
            except (InvalidSessionIdError, OSError) as error:
                report.errors.append(f"{item.path}: {error}")
                continue
            if planned is None:
                report.files_unchanged += 1
            else:
                jobs.append(planned)
        order = {f: i for i, f in enumerate(origins_first([job.file for job in jobs]))}
        jobs.sort(key=lambda job: order[job.file])
        _run_jobs(store, state, jobs, report, in_store, touched, progress)
    finally:
        state.close()
    every = {f.session_id for f in files}
    report.sessions_new = sum(1 for sid in touched if not known.get(sid, False))
    report.sessions_updated = len(touched) - report.sessions_new
    report.sessions_unchanged = len(every - touched)
    report.seconds = time.perf_counter() - started
    return report


def _run_jobs(
    store: SessionStore,
    state: ImportState,
    jobs: list[_Pending],
    report: ImportReport,
    in_store: Callable[[str], bool],
    touched: set[str],
    progress: Callable[[ImportProgress], None] | None,
) -> None:
    total = sum(max(job.stat.st_size - job.start, 0) for job in jobs)
    done_bytes = 0
    position = {id(job): job.start for job in jobs}
    failed: set[int] = set()

    def tell(current: Path | None) -> None:
        if progress is not None:
            progress(ImportProgress(report.files_read, len(jobs), done_bytes, total, current))

    for job, payload, offset in _items(jobs, report):
        file = job.file
        done_bytes += max(offset - position[id(job)], 0)
        position[id(job)] = offset
        if id(job) in failed:
            continue
        if isinstance(payload, OSError):
            report.errors.append(f"{file.path}: {payload}")
            continue
        if payload is None:  # the end of this file
            _save_position(state, file.path, job.stat.st_size, job.stat.st_mtime_ns, offset)
            report.files_read += 1
            tell(None)
            continue
        try:
            is_new = not in_store(file.session_id)  # whether it existed before we add to it
            store.append_messages(
                file.session_id, payload, project_key=file.project_key, subpath=file.subpath
            )
            if is_new and file.session_id not in touched:
                store.add_tags(file.session_id, [IMPORTED_TAG])
        except InvalidSessionIdError as error:
            report.errors.append(f"{file.path}: {error}")
            failed.add(id(job))
            continue
        report.entries_imported += len(payload)
        touched.add(file.session_id)
        # Mid-file: a size no file has, so an interrupted import resumes here.
        _save_position(state, file.path, -1, job.stat.st_mtime_ns, offset)
        tell(file.path)
    tell(None)


def _save_position(state: ImportState, path: Path, size: int, mtime_ns: int, offset: int) -> None:
    resolved = path.resolve()
    state.put(resolved, FileState(size, mtime_ns, offset, head_hash(resolved, offset)))
