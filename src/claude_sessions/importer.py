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

import hashlib
import json
import os
import re
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .exceptions import InvalidSessionIdError

if TYPE_CHECKING:
    from .store import SessionStore

BATCH_ENTRIES = 1000
BATCH_BYTES = 8 * 1024 * 1024
_HEAD_BYTES = 4096
_FORK_SCAN_BYTES = 256 * 1024
_FORK_MARK_RE = re.compile(rb'"requestSessionId"\s*:\s*"([^"\\]{1,200})"')

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


def claude_config_dir() -> Path:
    """``$CLAUDE_CONFIG_DIR``, else ``~/.claude``."""
    configured = os.environ.get("CLAUDE_CONFIG_DIR")
    return Path(configured).expanduser() if configured else Path.home() / ".claude"


def default_projects_dir() -> Path:
    """Where the CLI keeps its transcripts: ``<config dir>/projects``."""
    return claude_config_dir() / "projects"


@dataclass(frozen=True)
class TranscriptFile:
    """One transcript on disk and where it goes in the store."""

    path: Path
    session_id: str
    project_key: str
    subpath: str | None = None  # "subagents/<name>" for a subagent transcript


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


# -- discovery ---------------------------------------------------------------


def _project_files(project_dir: Path) -> Iterator[TranscriptFile]:
    key = project_dir.name
    try:
        children = sorted(project_dir.iterdir())
    except OSError:
        return
    for child in children:
        if child.suffix == ".jsonl" and child.is_file():
            yield TranscriptFile(child, child.stem, key)
    for child in children:
        subagents = child / "subagents"
        if child.is_dir() and subagents.is_dir():
            for agent in sorted(subagents.glob("*.jsonl")):
                if agent.is_file():
                    yield TranscriptFile(agent, child.name, key, f"subagents/{agent.stem}")


def _single_file(path: Path) -> TranscriptFile:
    parent = path.parent
    if parent.name == "subagents":
        session_dir = parent.parent
        return TranscriptFile(
            path, session_dir.name, session_dir.parent.name, f"subagents/{path.stem}"
        )
    return TranscriptFile(path, path.stem, parent.name)


def discover(paths: Iterable[str | os.PathLike[str]] | None = None) -> list[TranscriptFile]:
    """The transcripts under ``paths`` (default: the CLI's projects directory).

    A path may be a ``.jsonl`` file, a project directory (holding ``.jsonl``
    files), a projects root (holding project directories), or a config
    directory (holding ``projects/``). Missing paths are ignored.
    """
    roots = [Path(p).expanduser() for p in paths] if paths else [default_projects_dir()]
    found: list[TranscriptFile] = []
    seen: set[Path] = set()
    for root in roots:
        if root.is_file():
            candidates: Iterable[TranscriptFile] = [_single_file(root)]
        elif not root.is_dir():
            continue
        else:
            if (root / "projects").is_dir():
                root = root / "projects"
            if any(root.glob("*.jsonl")):
                candidates = _project_files(root)
            else:
                candidates = (
                    item
                    for project in sorted(root.iterdir())
                    if project.is_dir()
                    for item in _project_files(project)
                )
        for item in candidates:
            resolved = item.path.resolve()
            if resolved not in seen:
                seen.add(resolved)
                found.append(item)
    return found


# -- bookkeeping ---------------------------------------------------------------


def import_state_path(store: SessionStore) -> Path:
    """The sidecar that remembers how far each file was imported into ``store``.

    Beside a SQLite store's database file; for a server URL, under
    ``~/.claude_sdk/import-state/`` keyed by a hash of the URL.
    """
    location = store.location
    if "://" not in location:
        db = Path(location)
        return db.with_name(db.name + ".import-state")
    digest = hashlib.sha256(location.encode()).hexdigest()[:16]
    return Path("~/.claude_sdk/import-state").expanduser() / f"{digest}.sqlite3"


@dataclass(frozen=True)
class FileState:
    size: int
    mtime_ns: int
    offset: int  # bytes consumed: up to the end of the last complete line
    head: str  # sha1 of the first min(offset, 4096) bytes: tells growth from rewrite


class ImportState:
    """Per-file import positions, in a small SQLite database."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._conn = sqlite3.connect(path, isolation_level=None, timeout=30)
        self._conn.execute("PRAGMA journal_mode = WAL")
        self._conn.execute("PRAGMA synchronous = NORMAL")
        self._conn.execute(
            "CREATE TABLE IF NOT EXISTS files (path TEXT PRIMARY KEY, size INTEGER NOT NULL, "
            "mtime_ns INTEGER NOT NULL, offset INTEGER NOT NULL, head TEXT NOT NULL)"
        )

    def get(self, path: Path) -> FileState | None:
        row = self._conn.execute(
            "SELECT size, mtime_ns, offset, head FROM files WHERE path = ?", (str(path),)
        ).fetchone()
        return FileState(*row) if row else None

    def put(self, path: Path, state: FileState) -> None:
        self._conn.execute(
            "INSERT OR REPLACE INTO files (path, size, mtime_ns, offset, head) "
            "VALUES (?, ?, ?, ?, ?)",
            (str(path), state.size, state.mtime_ns, state.offset, state.head),
        )

    def close(self) -> None:
        self._conn.close()


def _head_hash(path: Path, length: int) -> str:
    with path.open("rb") as handle:
        return hashlib.sha1(handle.read(min(length, _HEAD_BYTES))).hexdigest()


# -- reading ---------------------------------------------------------------------


@dataclass
class _FileResult:
    offset: int
    entries: int = 0


def _parse(line: bytes, report: ImportReport) -> dict[str, Any] | None:
    try:
        value = json.loads(line)
    except UnicodeDecodeError:
        try:
            value = json.loads(line.decode("utf-8", "replace"))
        except ValueError:
            report.bad_lines += 1
            return None
        report.repaired_lines += 1
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


def _read_batches(
    path: Path,
    start: int,
    report: ImportReport,
    done: _FileResult,
    on_bytes: Callable[[int], None],
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
                entry = _parse(stripped, report)
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
                on_bytes(batch_bytes)
                batch, batch_bytes = [], 0
    done.offset = offset
    if batch:
        yield batch
    on_bytes(batch_bytes)


def _fork_origins(path: Path, session_id: str) -> set[str]:
    """Session ids named by ``requestSessionId`` near the start of a transcript."""
    try:
        with path.open("rb") as handle:
            head = handle.read(_FORK_SCAN_BYTES)
    except OSError:
        return set()
    found = {m.group(1).decode("utf-8", "replace") for m in _FORK_MARK_RE.finditer(head)}
    found.discard(session_id)
    return found


def _origins_first(files: Sequence[TranscriptFile]) -> list[TranscriptFile]:
    """Main transcripts ordered so a fork comes after the sessions it was forked from."""
    by_session = {f.session_id: f for f in files if f.subpath is None}
    depth: dict[str, int] = {}

    def depth_of(session_id: str, visiting: frozenset[str]) -> int:
        if session_id in depth:
            return depth[session_id]
        origins = _fork_origins(by_session[session_id].path, session_id)
        parents = [o for o in origins if o in by_session and o not in visiting]
        value = 1 + max((depth_of(p, visiting | {session_id}) for p in parents), default=-1)
        depth[session_id] = value
        return value

    ordered = sorted(
        enumerate(files),
        key=lambda pair: (
            depth_of(pair[1].session_id, frozenset()) if pair[1].session_id in by_session else 0,
            pair[1].subpath is not None,
            pair[0],
        ),
    )
    return [f for _, f in ordered]


# -- the import ------------------------------------------------------------------


@dataclass
class _Pending:
    file: TranscriptFile
    stat: os.stat_result
    start: int


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
        pending: list[_Pending] = []
        for item in files:
            try:
                stat = item.path.stat()
                resolved = item.path.resolve()
                previous = state.get(resolved)
                pending_item = _plan(item, stat, previous, resolved, in_store)
            except InvalidSessionIdError as error:
                report.errors.append(f"{item.path}: {error}")
                continue
            except OSError as error:
                report.errors.append(f"{item.path}: {error}")
                continue
            if pending_item is None:
                report.files_unchanged += 1
            else:
                pending.append(pending_item)
        order = {f: i for i, f in enumerate(_origins_first([p.file for p in pending]))}
        pending.sort(key=lambda p: order[p.file])
        total = sum(max(p.stat.st_size - p.start, 0) for p in pending)
        done_bytes = 0

        def advance(count: int) -> None:
            nonlocal done_bytes
            done_bytes += count
            if progress is not None:
                progress(ImportProgress(report.files_read, len(pending), done_bytes, total, None))

        for job in pending:
            if progress is not None:
                progress(
                    ImportProgress(
                        report.files_read, len(pending), done_bytes, total, job.file.path
                    )
                )
            try:
                imported = _import_file(store, state, job, report, advance, in_store)
            except InvalidSessionIdError as error:
                report.errors.append(f"{job.file.path}: {error}")
                continue
            except OSError as error:
                report.errors.append(f"{job.file.path}: {error}")
                continue
            report.files_read += 1
            if imported:
                touched.add(job.file.session_id)
        if progress is not None:
            progress(ImportProgress(report.files_read, len(pending), total, total, None))
    finally:
        state.close()
    every = {f.session_id for f in files}
    report.sessions_new = sum(1 for sid in touched if not known.get(sid, False))
    report.sessions_updated = len(touched) - report.sessions_new
    report.sessions_unchanged = len(every - touched)
    report.seconds = time.perf_counter() - started
    return report


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
    if stat.st_size >= previous.offset and _head_hash(resolved, previous.offset) == previous.head:
        return _Pending(item, stat, previous.offset)  # it only grew
    return _Pending(item, stat, 0)  # rewritten


def _import_file(
    store: SessionStore,
    state: ImportState,
    item: _Pending,
    report: ImportReport,
    advance: Callable[[int], None],
    in_store: Callable[[str], bool],
) -> bool:
    """Read one file from ``item.start`` into the store; True when entries were added."""
    file = item.file
    path = file.path
    in_store(file.session_id)  # remember whether it existed before we add to it
    done = _FileResult(item.start)
    for batch in _read_batches(path, item.start, report, done, advance):
        store.append_messages(
            file.session_id, batch, project_key=file.project_key, subpath=file.subpath
        )
        done.entries += len(batch)
        report.entries_imported += len(batch)
        # Mid-file: a size no file has, so an interrupted import resumes here.
        _save_position(state, path, -1, item.stat.st_mtime_ns, done.offset)
    _save_position(state, path, item.stat.st_size, item.stat.st_mtime_ns, done.offset)
    return done.entries > 0


def _save_position(state: ImportState, path: Path, size: int, mtime_ns: int, offset: int) -> None:
    resolved = path.resolve()
    state.put(resolved, FileState(size, mtime_ns, offset, _head_hash(resolved, offset)))
