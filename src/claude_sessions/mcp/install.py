"""Register the MCP server with Claude Code, as ``claude mcp add`` does, and remove it again.

Claude Code keeps stdio MCP servers under ``mcpServers`` in a JSON file:

- scope ``user``: ``~/.claude.json`` (``$CLAUDE_CONFIG_DIR/.claude.json`` when that is set),
  for every project of this user;
- scope ``project``: ``.mcp.json`` in the project directory, meant to be shared
  (Claude Code asks each user to approve its servers).

Each entry is ``{"type": "stdio", "command": ..., "args": [...], "env": {...}}``.
Installing merges our entry into the file and keeps everything else (see
:mod:`claude_sessions.capture.claude_config`); uninstalling removes only our entry.
Neither imports the MCP SDK.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from claude_sessions.capture.claude_config import (
    ConfigChange,
    Scope,
    check_scope,
    read_config,
    refuse_password,
    user_state_path,
    write_config,
)
from claude_sessions.store.location import is_server_location

SERVER_NAME = "claude-sessions"
STORE_ENV_VAR = "CLAUDE_SESSIONS_STORE"


def config_path(scope: Scope, *, project_dir: str | os.PathLike[str] | None = None) -> Path:
    """The file Claude Code keeps ``scope``'s MCP servers in."""
    if check_scope(scope) == "user":
        return user_state_path()
    return Path(project_dir if project_dir is not None else os.getcwd()).absolute() / ".mcp.json"


def server_entry(
    location: str | os.PathLike[str] | None = None,
    *,
    allow_write: bool = False,
    python: str | None = None,
) -> dict[str, Any]:
    """The entry that runs ``python -m claude_sessions mcp`` on the store at ``location``.

    A path is made absolute (Claude Code starts servers in other directories)
    and passed as ``--store``; a URL (or ``host=...`` string) travels in the
    entry's environment, where neither process listings nor ``claude mcp
    list`` show it. A URL holding a password is refused (:func:`refuse_password`):
    ``~/.claude.json`` is no place for database credentials. ``None`` leaves the
    choice to the server's environment.
    """
    refuse_password(location)
    args = ["-m", "claude_sessions", "mcp"]
    env: dict[str, str] = {}
    if location is not None:
        text = os.fspath(location)
        if is_server_location(text):
            env[STORE_ENV_VAR] = text
        else:
            args += ["--store", os.path.abspath(os.path.expanduser(text))]
    if allow_write:
        args.append("--allow-write")
    return {"type": "stdio", "command": python or sys.executable, "args": args, "env": env}


def install(
    scope: Scope = "user",
    *,
    location: str | os.PathLike[str] | None = None,
    allow_write: bool = False,
    project_dir: str | os.PathLike[str] | None = None,
    python: str | None = None,
) -> ConfigChange:
    """Register (or update) the ``claude-sessions`` server in ``scope``'s configuration."""
    path = config_path(scope, project_dir=project_dir)
    config = read_config(path, objects=("mcpServers",))
    entry = server_entry(location, allow_write=allow_write, python=python)
    servers = config.setdefault("mcpServers", {})
    if servers.get(SERVER_NAME) == entry:
        return ConfigChange(path, scope, False, entry)
    servers[SERVER_NAME] = entry
    backup = write_config(path, config, private=scope == "user")
    return ConfigChange(path, scope, True, entry, backup)


def uninstall(
    scope: Scope = "user", *, project_dir: str | os.PathLike[str] | None = None
) -> ConfigChange:
    """Remove the ``claude-sessions`` server from ``scope``'s configuration, and nothing else."""
    path = config_path(scope, project_dir=project_dir)
    config = read_config(path, objects=("mcpServers",))
    servers = config.get("mcpServers") or {}
    if SERVER_NAME not in servers:
        return ConfigChange(path, scope, False, None)
    removed = servers.pop(SERVER_NAME)
    backup = write_config(path, config, private=scope == "user")
    return ConfigChange(path, scope, True, removed, backup)
