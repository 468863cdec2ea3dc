"""A project that lives at another path: its transcripts re-keyed for Claude Code.

Claude Code keeps a project's sessions in ``<config>/projects/<key>``, the key made
from the project's absolute path (``project_key_for_directory``: ``/`` and ``_``
become ``-``, long paths hashed), and each transcript entry records the
directory it ran in as ``cwd``. ``claude --resume`` and ``/resume`` look only in
the folder of the directory they run in, so a project moved (or resumed on a
machine where it lives elsewhere) needs both rewritten: :func:`relocated` does an
entry, :func:`plan_move` and :func:`apply_move` a whole project folder.

A move never overwrites: a file already at the target that differs from what
would be written there stops it before anything changes. It copies the old folder
to a backup first, writes the new folder's files atomically, and only then
removes the old folder.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from claude_sessions.importer.discovery import claude_config_dir
from claude_sessions.model.exceptions import InvalidInputError, TranscriptExistsError
from claude_sessions.model.moved_path import rebased

BACKUP_FOLDER = "claude-sessions-backups"


def absolute(directory: str | os.PathLike[str]) -> str:
    """``directory`` as an absolute path, ``~`` expanded, links left as they are."""
    return os.path.abspath(os.path.expanduser(os.fspath(directory)))


def project_folder(directory: str, config_dir: str | os.PathLike[str] | None = None) -> Path:
    """The folder Claude Code keeps ``directory``'s sessions in."""
    from claude_agent_sdk import project_key_for_directory  # the CLI's own folder naming

    root = Path(config_dir).expanduser() if config_dir is not None else claude_config_dir()
    return root / "projects" / project_key_for_directory(directory)


def relocated(entry: Mapping[str, Any], old: str, new: str) -> dict[str, Any]:
    """``entry`` with its ``cwd`` moved from ``old`` to ``new`` (when it was there)."""
    moved = rebased(entry.get("cwd"), old, new)
    return {**entry, "cwd": moved} if moved is not None else dict(entry)


def _relocated_line(line: str, old: str, new: str) -> tuple[str, bool]:
    """One transcript line with its entry's ``cwd`` moved, and whether it changed.
    A line that is no JSON object is kept as it is: a move loses nothing."""
    try:
        entry = json.loads(line)
    except ValueError:
        return line, False
    if not isinstance(entry, dict) or rebased(entry.get("cwd"), old, new) is None:
        return line, False
    text = json.dumps(relocated(entry, old, new), ensure_ascii=False, separators=(",", ":"))
    return text + "\n" if line.endswith("\n") else text, True


def relocated_text(data: bytes, old: str, new: str) -> tuple[bytes, int]:
    """A transcript's bytes with every entry's ``cwd`` moved, and how many entries moved."""
    lines, changed = [], 0
    for line in data.decode("utf-8", "surrogateescape").splitlines(keepends=True):
        text, moved = _relocated_line(line, old, new)
        lines.append(text)
        changed += moved
    return "".join(lines).encode("utf-8", "surrogateescape"), changed


@dataclass(frozen=True)
class MovedFile:
    """One file of the project folder: where it goes and how many entries change."""

    source: Path
    target: Path
    entries_rewritten: int
    already_there: bool  # the target holds exactly this already (a move run again)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": str(self.source),
            "target": str(self.target),
            "entries_rewritten": self.entries_rewritten,
            "already_there": self.already_there,
        }


@dataclass(frozen=True)
class MovePlan:
    """What moving a project from ``old_dir`` to ``new_dir`` changes (or changed)."""

    old_dir: str
    new_dir: str
    source: Path
    target: Path
    files: list[MovedFile] = field(default_factory=list)
    session_ids: list[str] = field(default_factory=list)
    backup: Path | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "old_dir": self.old_dir,
            "new_dir": self.new_dir,
            "source": str(self.source),
            "target": str(self.target),
            "files": [moved.to_dict() for moved in self.files],
            "session_ids": self.session_ids,
            "backup": str(self.backup) if self.backup else None,
        }


def _contents(folder: Path, old: str, new: str) -> dict[Path, tuple[bytes, int]]:
    """Every file under the project folder, relative, with what it becomes."""
    found = {}
    for path in sorted(folder.rglob("*")):
        if path.is_symlink() or not path.is_file():
            continue
        data = path.read_bytes()
        found[path.relative_to(folder)] = (
            relocated_text(data, old, new) if path.suffix == ".jsonl" else (data, 0)
        )
    return found


def plan_move(
    old_dir: str | os.PathLike[str],
    new_dir: str | os.PathLike[str],
    *,
    config_dir: str | os.PathLike[str] | None = None,
) -> tuple[MovePlan, dict[Path, bytes]]:
    """What moving the project at ``old_dir`` to ``new_dir`` would change, and the bytes
    each target file gets. Raises :class:`InvalidInputError` (nothing to move) or
    :class:`TranscriptExistsError` (a different file is in the way); changes nothing."""
    old, new = absolute(old_dir), absolute(new_dir)
    source, target = project_folder(old, config_dir), project_folder(new, config_dir)
    if source == target:
        raise InvalidInputError(f"{old} and {new} share Claude Code's project folder {source}")
    files: list[MovedFile] = []
    contents: dict[Path, bytes] = {}
    if not source.is_dir():  # its transcripts are gone: only the store's sessions move
        return MovePlan(old, new, source, target), contents
    for relative, (data, changed) in _contents(source, old, new).items():
        destination = target / relative
        there = destination.exists() or destination.is_symlink()
        if there and (destination.is_symlink() or destination.read_bytes() != data):
            raise TranscriptExistsError(
                f"{destination} exists and differs from {source / relative}; nothing was "
                "changed (move or merge it first)",
                path=str(destination),
            )
        files.append(MovedFile(source / relative, destination, changed, there))
        contents[destination] = data
    sessions = sorted(p.stem for p in source.glob("*.jsonl") if p.is_file())
    return MovePlan(old, new, source, target, files, sessions), contents


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=path.name + ".", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def _backup(source: Path) -> Path:
    """A copy of the project folder beside Claude Code's ``projects`` folder (where its
    session list does not see it)."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    backup = source.parent.parent / BACKUP_FOLDER / f"move-{stamp}-{os.getpid()}" / source.name
    shutil.copytree(source, backup, symlinks=True)
    return backup


def apply_move(plan: MovePlan, contents: dict[Path, bytes]) -> MovePlan:
    """Carry out :func:`plan_move`'s plan: back the old folder up, write the new one,
    then remove the old one. Returns the plan with where the backup is."""
    if not plan.source.is_dir():
        return plan
    backup = _backup(plan.source)
    for moved in plan.files:
        if not moved.already_there:
            _write_atomically(moved.target, contents[moved.target])
    shutil.rmtree(plan.source)
    return MovePlan(
        plan.old_dir, plan.new_dir, plan.source, plan.target, plan.files, plan.session_ids, backup
    )
