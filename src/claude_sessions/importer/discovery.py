"""Finding the CLI's transcripts, and ordering them so forks come after their origins.

Links are followed only while they stay inside the tree being imported: a
symlinked project directory or transcript that points elsewhere (another
user's files, ``/etc/passwd``) is reported as skipped, never read.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

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


@dataclass(frozen=True)
class TranscriptFile:
    """One transcript on disk and where it goes in the store."""

    path: Path
    session_id: str
    project_key: str
    subpath: str | None = None  # "subagents/.../agent-<id>" for a subagent transcript


@dataclass
class Found:
    """What :func:`discover` found: transcripts, and files it left alone (with why)."""

    files: list[TranscriptFile]
    skipped: list[str]


class _Walk:
    """Transcripts under one root, refusing links that leave it."""

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

    def children(self, directory: Path) -> list[Path]:
        try:
            return sorted(directory.iterdir())
        except OSError:
            return []

    def project(self, project_dir: Path) -> Iterator[TranscriptFile]:
        key = project_dir.name
        children = self.children(project_dir)
        for child in children:
            if child.suffix == ".jsonl" and child.is_file() and self.inside(child):
                yield TranscriptFile(child, child.stem, key)
        for child in children:
            subagents = child / "subagents"
            if child.is_dir() and subagents.is_dir() and self.inside(subagents):
                yield from self.subagents(subagents, child.name, key)

    def subagents(self, directory: Path, session_id: str, key: str) -> Iterator[TranscriptFile]:
        """Subagent transcripts, also in nested folders (``subagents/workflows/<id>/``)."""
        for path in sorted(directory.rglob("*.jsonl")):
            if path.is_file() and self.inside(path):
                relative = path.relative_to(directory).with_suffix("")
                yield TranscriptFile(path, session_id, key, f"subagents/{relative.as_posix()}")


def _single_file(path: Path) -> TranscriptFile:
    parts = path.parts
    if "subagents" in parts[:-1]:
        at = len(parts) - 1 - parts[::-1].index("subagents")
        session_dir = Path(*parts[:at])
        relative = Path(*parts[at + 1 :]).with_suffix("")
        return TranscriptFile(
            path, session_dir.name, session_dir.parent.name, f"subagents/{relative.as_posix()}"
        )
    return TranscriptFile(path, path.stem, path.parent.name)


def discover(paths: Iterable[str | os.PathLike[str]] | None = None) -> Found:
    """The transcripts under ``paths`` (default: the CLI's projects directory).

    A path may be a ``.jsonl`` file, a project directory (holding ``.jsonl``
    files), a projects root (holding project directories), or a config
    directory (holding ``projects/``). Missing paths are ignored.
    """
    roots = [Path(p).expanduser() for p in paths] if paths else [default_projects_dir()]
    found = Found([], [])
    seen: set[Path] = set()
    for root in roots:
        if root.is_file():
            candidates: Iterable[TranscriptFile] = [_single_file(root)]
        elif not root.is_dir():
            continue
        else:
            if (root / "projects").is_dir():
                root = root / "projects"
            walk = _Walk(root, found)
            if any(root.glob("*.jsonl")):
                candidates = walk.project(root)
            else:
                candidates = (
                    item
                    for project in walk.children(root)
                    if project.is_dir() and walk.inside(project)
                    for item in walk.project(project)
                )
        for item in candidates:
            resolved = item.path.resolve()
            if resolved not in seen:
                seen.add(resolved)
                found.files.append(item)
    return found


def session_files(transcript: str | os.PathLike[str]) -> Found:
    """One session's transcript and its subagent transcripts (``<session>/subagents/``),
    as the CLI names them to its hooks: its project directory is the tree walked."""
    path = Path(transcript).expanduser()
    found = Found([], [])
    walk = _Walk(path.parent, found)
    if path.is_file() and walk.inside(path):
        found.files.append(TranscriptFile(path, path.stem, path.parent.name))
    subagents = path.with_suffix("") / "subagents"
    if subagents.is_dir() and walk.inside(subagents):
        found.files.extend(walk.subagents(subagents, path.stem, path.parent.name))
    return found


def fork_origins(path: Path, session_id: str) -> set[str]:
    """Session ids named by ``requestSessionId`` near the start of a transcript."""
    try:
        with path.open("rb") as handle:
            head = handle.read(_FORK_SCAN_BYTES)
    except OSError:
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
