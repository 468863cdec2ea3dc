"""Claude Code's own JSON configuration files, changed with care.

Hooks live in ``settings.json`` (``~/.claude/`` for the user, ``.claude/`` in a
project), MCP servers in ``~/.claude.json`` and ``.mcp.json``. Whatever we add
is merged into what is there; the file is written only when something
changes, after a backup copy (``<file>.claude-sessions.bak``), and replaced
atomically, keeping its mode (through a symlink, its target is written). A
file that is not a JSON object is never touched.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from claude_sessions.importer.discovery import claude_config_dir
from claude_sessions.model.exceptions import ClaudeConfigError, InvalidInputError
from claude_sessions.store.location import holds_password

BACKUP_SUFFIX = ".claude-sessions.bak"
SCOPES = ("user", "project")

Scope = Literal["user", "project"]

PASSWORD_REFUSED = (
    "a store URL with a password is never written into Claude Code's settings: send "
    "captures to a team server (--server URL --token T) or keep the password in "
    "~/.pgpass (PGPASSFILE) or a service file (PGSERVICEFILE) and drop it from the URL"
)


def refuse_password(location: str | os.PathLike[str] | None) -> None:
    """Raise :class:`InvalidInputError` when ``location`` carries a database password:
    Claude Code's settings are plain files, copied and shared, and a laptop should hold
    no database credentials there."""
    if location is not None and holds_password(os.fspath(location)):
        raise InvalidInputError(PASSWORD_REFUSED)


@dataclass(frozen=True)
class ConfigChange:
    """What an install or uninstall did to which file.

    ``changed`` is false when the file already said what was asked (nothing
    was written); ``added`` is what now stands there (our hook command, our
    MCP server entry) or what was removed; ``backup`` is the copy of the file
    as it was before.
    """

    path: Path
    scope: Scope
    changed: bool
    added: Any = None
    backup: Path | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "scope": self.scope,
            "changed": self.changed,
            "added": self.added,
            "backup": str(self.backup) if self.backup else None,
        }


def check_scope(scope: str) -> Scope:
    if scope not in SCOPES:
        raise InvalidInputError(f"unknown scope {scope!r}; choose one of {', '.join(SCOPES)}")
    return scope  # type: ignore[return-value]


def user_state_path() -> Path:
    """``~/.claude.json`` (``$CLAUDE_CONFIG_DIR/.claude.json`` when that is set): Claude
    Code's per-user state, with the user's MCP servers and the folders they trust."""
    home = os.environ.get("CLAUDE_CONFIG_DIR") or os.path.expanduser("~")
    return Path(home) / ".claude.json"


def trusted_folder(directory: str | os.PathLike[str] | None = None) -> Path | None:
    """The folder trusted in Claude Code (its trust dialog accepted) that covers
    ``directory`` (by default the working directory): itself or a folder above it.

    Claude Code checks and starts MCP servers only in a trusted folder.
    """
    projects = read_config(user_state_path(), objects=("projects",)).get("projects") or {}
    start = Path(directory if directory is not None else os.getcwd()).absolute()
    for candidate in (start, *start.parents):
        entry = projects.get(str(candidate))
        if isinstance(entry, dict) and entry.get("hasTrustDialogAccepted") is True:
            return candidate
    return None


def settings_path(scope: Scope, *, project_dir: str | os.PathLike[str] | None = None) -> Path:
    """The ``settings.json`` of the user, or of a project (``.claude/settings.json``)."""
    if check_scope(scope) == "user":
        return claude_config_dir() / "settings.json"
    return Path(project_dir if project_dir is not None else os.getcwd()).absolute() / (
        ".claude/settings.json"
    )


def read_config(path: Path, *, objects: tuple[str, ...] = ()) -> dict[str, Any]:
    """The JSON object in ``path`` (``{}`` when there is none); ``objects`` name keys
    that must hold JSON objects when present."""
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
    for key in objects:
        if key in config and not isinstance(config[key], dict):
            raise ClaudeConfigError(f"{key} in {path} is not a JSON object; nothing was changed")
    return config


def _new_file_mode(private: bool) -> int:
    if private:  # the user's own files: Claude Code keeps them private
        return 0o600
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def write_config(path: Path, config: dict[str, Any], *, private: bool) -> Path | None:
    """Replace ``path`` with ``config`` (2-space JSON, as Claude Code writes it); returns
    the backup of the file it replaced, if there was one."""
    import shutil  # with what they load (compression modules), only for a write
    import tempfile

    target = path.resolve()
    backup = None
    if target.exists():
        mode = target.stat().st_mode & 0o777
        backup = target.with_name(target.name + BACKUP_SUFFIX)
        shutil.copy2(target, backup)
    else:
        mode = _new_file_mode(private)
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
