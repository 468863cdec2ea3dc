"""Register the MCP server with Claude Code, as ``claude mcp add`` does, and remove it again.

Claude Code keeps stdio MCP servers under ``mcpServers`` in a JSON file:

- scope ``user``: ``~/.claude.json`` (``$CLAUDE_CONFIG_DIR/.claude.json`` when that is set),
  for every project of this user;
- scope ``project``: ``.mcp.json`` in the project directory, meant to be shared
  (Claude Code asks each user to approve its servers).

Each entry is ``{"type": "stdio", "command": ..., "args": [...], "env": {...}}``.
Installing merges our entry into the file and keeps everything else; the
file is written only when something changes, after a backup copy
(``<file>.claude-sessions.bak``), and replaced atomically. Uninstalling removes
only our entry. Neither imports the MCP SDK.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from claude_sessions.exceptions import ClaudeSessionsError, InvalidInputError

SERVER_NAME = "claude-sessions"
SCOPES = ("user", "project")
STORE_ENV_VAR = "CLAUDE_SESSIONS_STORE"
BACKUP_SUFFIX = ".claude-sessions.bak"

Scope = Literal["user", "project"]


class ClaudeConfigError(ClaudeSessionsError):
    """A Claude Code configuration file we cannot safely read or change."""


@dataclass(frozen=True)
class Registration:
    """What :func:`install` or :func:`uninstall` did to which file.

    ``changed`` is false when the file already said what was asked (nothing
    was written); ``backup`` is the copy of the file as it was before.
    """

    path: Path
    scope: Scope
    changed: bool
    entry: dict[str, Any] | None
    backup: Path | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "scope": self.scope,
            "changed": self.changed,
            "server": self.entry,
            "backup": str(self.backup) if self.backup else None,
        }


def config_path(scope: Scope, *, project_dir: str | os.PathLike[str] | None = None) -> Path:
    """The file Claude Code keeps ``scope``'s MCP servers in."""
    if scope == "user":
        home = os.environ.get("CLAUDE_CONFIG_DIR") or os.path.expanduser("~")
        return Path(home) / ".claude.json"
    if scope == "project":
        return (
            Path(project_dir if project_dir is not None else os.getcwd()).absolute() / ".mcp.json"
        )
    raise InvalidInputError(f"unknown scope {scope!r}; choose one of {', '.join(SCOPES)}")


def server_entry(
    location: str | os.PathLike[str] | None = None,
    *,
    allow_write: bool = False,
    python: str | None = None,
) -> dict[str, Any]:
    """The entry that runs ``python -m claude_sessions mcp`` on the store at ``location``.

    A path is made absolute (Claude Code starts servers in other directories)
    and passed as ``--store``; a URL travels in the entry's environment, where
    neither process listings nor ``claude mcp list`` show it (it may hold a
    password). ``None`` leaves the choice to the server's environment.
    """
    args = ["-m", "claude_sessions", "mcp"]
    env: dict[str, str] = {}
    if location is not None:
        text = os.fspath(location)
        if "://" in text:
            env[STORE_ENV_VAR] = text
        else:
            args += ["--store", os.path.abspath(os.path.expanduser(text))]
    if allow_write:
        args.append("--allow-write")
    return {"type": "stdio", "command": python or sys.executable, "args": args, "env": env}


def _read(path: Path) -> dict[str, Any]:
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as error:
        raise ClaudeConfigError(f"cannot read {path}: {error.strerror or error}") from None
    if not raw.strip():
        return {}
    try:
        config = json.loads(raw)
    except ValueError as error:
        raise ClaudeConfigError(
            f"{path} is not valid JSON ({error}); nothing was changed"
        ) from None
    if not isinstance(config, dict):
        raise ClaudeConfigError(f"{path} does not hold a JSON object; nothing was changed")
    servers = config.get("mcpServers")
    if servers is not None and not isinstance(servers, dict):
        raise ClaudeConfigError(f"mcpServers in {path} is not a JSON object; nothing was changed")
    return config


def _new_file_mode(scope: Scope) -> int:
    if scope == "user":  # Claude Code keeps its own settings private
        return 0o600
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _write(path: Path, config: dict[str, Any], scope: Scope) -> Path | None:
    """Replace ``path`` (through a symlink, to its target) with ``config``, formatted as
    Claude Code formats it; returns the backup of the file it replaced."""
    target = path.resolve()
    backup = None
    if target.exists():
        mode = target.stat().st_mode & 0o777
        backup = target.with_name(target.name + BACKUP_SUFFIX)
        shutil.copy2(target, backup)
    else:
        mode = _new_file_mode(scope)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=target.name + ".", dir=target.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(json.dumps(config, indent=2, ensure_ascii=False))
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException:
        os.unlink(temporary)
        raise
    return backup


def install(
    scope: Scope = "user",
    *,
    location: str | os.PathLike[str] | None = None,
    allow_write: bool = False,
    project_dir: str | os.PathLike[str] | None = None,
    python: str | None = None,
) -> Registration:
    """Register (or update) the ``claude-sessions`` server in ``scope``'s configuration."""
    path = config_path(scope, project_dir=project_dir)
    config = _read(path)
    entry = server_entry(location, allow_write=allow_write, python=python)
    servers = config.setdefault("mcpServers", {})
    if servers.get(SERVER_NAME) == entry:
        return Registration(path, scope, False, entry)
    servers[SERVER_NAME] = entry
    return Registration(path, scope, True, entry, _write(path, config, scope))


def uninstall(
    scope: Scope = "user", *, project_dir: str | os.PathLike[str] | None = None
) -> Registration:
    """Remove the ``claude-sessions`` server from ``scope``'s configuration, and nothing else."""
    path = config_path(scope, project_dir=project_dir)
    config = _read(path)
    servers = config.get("mcpServers") or {}
    if SERVER_NAME not in servers:
        return Registration(path, scope, False, None)
    removed = servers.pop(SERVER_NAME)
    return Registration(path, scope, True, removed, _write(path, config, scope))
