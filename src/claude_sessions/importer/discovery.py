"""Finding the CLI's transcripts, and ordering them so forks come after their origins.

What each file found is (a session's transcript, a subagent's, or none) is
:mod:`.identify`'s to say.

Links are followed only while they stay inside the tree being imported: a
symlinked project directory or transcript that points elsewhere (another
user's files, ``/etc/passwd``) is reported as skipped, never read.
"""

from __future__ import annotations

import os
import re
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from claude_sessions.importer.identify import TranscriptFile, identify, open_text, stem

_FORK_SCAN_BYTES = 256 * 1024
_FORK_MARK_RE = re.compile(rb'"requestSessionId"\s*:\s*"([^"\\]{1,200})"')


def claude_config_dir() -> Path:
    """``$CLAUDE_CONFIG_DIR``, else ``~/.claude``: where the user's settings live."""
    configured = os.environ.get("CLAUDE_CONFIG_DIR")
    return Path(configured).expanduser() if configured else Path.home() / ".claude"


def default_projects_dir() -> Path:
    """Where the CLI keeps its transcripts: ``<config dir>/projects``."""
    return claude_config_dir() / "projects"


def config_dir_for(env: Mapping[str, str]) -> Path:
    """The CLI's config directory for a run with ``env`` added to our environment."""
    merged = {**os.environ, **env}
    if merged.get("CLAUDE_CONFIG_DIR"):
        return Path(merged["CLAUDE_CONFIG_DIR"])
    return Path(merged.get("HOME") or Path.home(), ".claude")


def local_transcript(session_id: str, env: Mapping[str, str]) -> Path | None:
    """The CLI's transcript of ``session_id`` on disk (for a run with ``env``), if any."""
    return next(iter((config_dir_for(env) / "projects").glob(f"*/{session_id}.jsonl")), None)


def has_local_transcript(session_id: str, env: Mapping[str, str]) -> bool:
    """Whether the CLI (run with ``env``) has a transcript of ``session_id`` on disk."""
    return local_transcript(session_id, env) is not None


@dataclass
class Found:
    """What :func:`discover` found: transcripts, and files it left alone (with why)."""

    files: list[TranscriptFile]
    skipped: list[str]


class _Walk:
    """Transcripts under one root, at any depth, refusing links that leave it."""

    def __init__(self, root: Path, found: Found) -> None:
        self.root = root.resolve()
        self.found = found

    def inside(self, path: Path) -> bool:
        try:
            resolved = path.resolve()
        except (OSError, RuntimeError):  # a link loop
            self.found.skipped.append(f"{path}: unreadable link")
            return False
        if resolved == self.root or self.root in resolved.parents:
            return True
        self.found.skipped.append(f"{path}: links outside {self.root}")
        return False

    def paths(self, top: Path) -> Iterator[Path]:
        """Every ``.jsonl`` and ``.jsonl.gz`` file under ``top``: a folder's files (by
        name), then its folders'. Only links are resolved (the rest is inside by how
        it was reached); a folder two links lead to is walked once."""
        start = os.path.realpath(top)
        folders, walked = [(top, start)], {start}
        while folders:
            folder, real = folders.pop()
            try:
                with os.scandir(folder) as listing:
                    entries = sorted(listing, key=lambda entry: entry.name)
            except OSError as error:
                self.found.skipped.append(f"{folder}: unreadable folder ({error.strerror})")
                continue
            below = []
            for entry in entries:
                path = folder / entry.name
                transcript = stem(entry.name) is not None
                link = entry.is_symlink()
                if link and (transcript or entry.is_dir()) and not self.inside(path):
                    continue
                if entry.is_dir():
                    inner = os.path.realpath(path) if link else os.path.join(real, entry.name)
                    if inner not in walked:
                        walked.add(inner)
                        below.append((path, inner))
                elif transcript and entry.is_file():
                    yield path
            folders.extend(reversed(below))

    def transcripts(self, top: Path) -> Iterator[TranscriptFile]:
        for path in self.paths(top):
            item = identify(path, self.found.skipped)
            if item is not None:
                yield item


def _with_subagents(path: Path, found: Found) -> Iterator[TranscriptFile]:
    """One named file, and when it is a session's main transcript, its subagents'
    transcripts: those under ``<session>/subagents/`` and those beside it."""
    item = identify(path, found.skipped)
    if item is None:
        return
    yield item
    if item.subpath is not None:
        return
    walk = _Walk(path.parent, found)
    subagents = path.parent / item.session_id / "subagents"
    if subagents.is_dir() and walk.inside(subagents):
        yield from walk.transcripts(subagents)
    for sibling in sorted(path.parent.glob("agent-*.jsonl*")):
        if sibling.is_file() and walk.inside(sibling):
            agent = identify(sibling, found.skipped)
            if agent is not None and agent.beside and agent.session_id == item.session_id:
                yield agent


def discover(
    paths: Iterable[str | os.PathLike[str]] | None = None, *, with_subagents: bool = True
) -> Found:
    """The transcripts under ``paths`` (default: the CLI's projects directory).

    A path may be a transcript (``.jsonl`` or ``.jsonl.gz``; a session's brings its
    subagents' unless ``with_subagents`` is false), or a folder holding transcripts at
    any depth: a project directory, a projects root, a backup of either. A folder
    holding ``projects/`` (a config directory) is read from there. A transcript's
    project is the folder it lies in. ``.jsonl`` files that hold no transcript, and
    files that cannot be read, are listed in ``skipped`` with why. Missing paths are
    ignored.
    """
    roots = [Path(p).expanduser() for p in paths] if paths else [default_projects_dir()]
    found = Found([], [])
    seen: set[Path] = set()
    for root in roots:
        if root.is_file():
            candidates: Iterable[TranscriptFile] = (
                _with_subagents(root, found) if with_subagents else _one(root, found)
            )
        elif not root.is_dir():
            continue
        else:
            if (root / "projects").is_dir():
                root = root / "projects"
            candidates = _Walk(root, found).transcripts(root)
        for item in candidates:
            resolved = item.path.resolve()
            if resolved not in seen:
                seen.add(resolved)
                found.files.append(item)
    return found


def _one(path: Path, found: Found) -> list[TranscriptFile]:
    item = identify(path, found.skipped)
    return [] if item is None else [item]


def session_files(
    transcript: str | os.PathLike[str], *, agent_transcript: str | os.PathLike[str] | None = None
) -> Found:
    """One session's transcript and its subagent transcripts (``<session>/subagents/``), as
    the CLI names them to its hooks: its project directory is the tree walked. A hook
    that names a subagent's transcript (``agent_transcript``) brings it too: Claude
    Code 2.0 wrote it beside the session's, where only its first line tells whose it is."""
    path = Path(transcript).expanduser()
    found = Found([], [])
    walk = _Walk(path.parent, found)
    named = [path] if agent_transcript is None else [path, Path(agent_transcript).expanduser()]
    for each in named:
        if each.is_file() and walk.inside(each):
            item = identify(each, found.skipped)
            if item is not None and item not in found.files:
                found.files.append(item)
    name = stem(path.name)
    subagents = path.parent / name / "subagents" if name else None
    if subagents is not None and subagents.is_dir() and walk.inside(subagents):
        found.files.extend(f for f in walk.transcripts(subagents) if f not in found.files)
    return found


def fork_origins(path: Path, session_id: str) -> set[str]:
    """Session ids named by ``requestSessionId`` near the start of a transcript."""
    try:
        with open_text(path) as handle:
            head = handle.read(_FORK_SCAN_BYTES)
    except (OSError, EOFError, zlib.error):  # a damaged .gz file: its import says why
        return set()
    found = {m.group(1).decode("utf-8", "replace") for m in _FORK_MARK_RE.finditer(head)}
    found.discard(session_id)
    return found


def origins_first(files: Sequence[TranscriptFile]) -> list[TranscriptFile]:
    """Transcripts ordered so a fork comes after the sessions it was forked from.

    Iterative (a chain of thousands of forks needs no deep recursion); a cycle
    of forks is broken where it is found. Subagent transcripts follow their
    session's main transcript.
    """
    by_session = {f.session_id: f for f in files if f.subpath is None}
    parents = {
        sid: [o for o in fork_origins(f.path, sid) if o in by_session]
        for sid, f in by_session.items()
    }
    depth: dict[str, int] = {}
    for start in by_session:
        if start in depth:
            continue
        stack = [start]
        on_path = {start}
        while stack:
            current = stack[-1]
            waiting = [p for p in parents[current] if p not in depth and p not in on_path]
            if waiting:
                stack.append(waiting[0])
                on_path.add(waiting[0])
                continue
            known = [depth[p] for p in parents[current] if p in depth]
            depth[current] = 1 + max(known, default=-1)
            stack.pop()
            on_path.discard(current)
    return [
        f
        for _, f in sorted(
            enumerate(files),
            key=lambda pair: (
                depth.get(pair[1].session_id, 0),
                pair[1].subpath is not None,
                pair[0],
            ),
        )
    ]
