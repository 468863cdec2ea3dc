"""Finding the CLI's transcripts, and ordering them so forks come after their origins."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

_FORK_SCAN_BYTES = 256 * 1024
_FORK_MARK_RE = re.compile(rb'"requestSessionId"\s*:\s*"([^"\\]{1,200})"')


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
    """Main transcripts ordered so a fork comes after the sessions it was forked from."""
    by_session = {f.session_id: f for f in files if f.subpath is None}
    depth: dict[str, int] = {}

    def depth_of(session_id: str, visiting: frozenset[str]) -> int:
        if session_id in depth:
            return depth[session_id]
        origins = fork_origins(by_session[session_id].path, session_id)
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
