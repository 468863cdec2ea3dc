"""Finding the Claude Code CLI to run."""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path

from .exceptions import CLINotFoundError

CLI_ENV_VAR = "CLAUDE_SESSIONS_CLI"


def bundled_cli() -> Path | None:
    """The native CLI shipped inside the ``claude-agent-sdk`` wheel, if present.

    Found without importing the SDK (which costs most of a second): only its location.
    """
    spec = importlib.util.find_spec("claude_agent_sdk")
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / "_bundled" / "claude"
    return path if path.is_file() and os.access(path, os.X_OK) else None


def find_cli(explicit: str | os.PathLike[str] | None = None) -> str:
    """The CLI to run: ``explicit``, else ``$CLAUDE_SESSIONS_CLI``, else the bundled one,
    else ``claude`` on PATH.

    A bare name (``"claude"``) is looked up on PATH; anything with a slash is a path.
    """
    chosen = explicit if explicit is not None else os.environ.get(CLI_ENV_VAR) or None
    if chosen is not None:
        name = os.fspath(chosen)
        found = shutil.which(name) if os.sep not in name else name
        if found and os.path.isfile(found) and os.access(found, os.X_OK):
            return found
        raise CLINotFoundError(f"Claude Code CLI not found or not executable: {name}")
    bundled = bundled_cli()
    if bundled is not None:
        return str(bundled)
    on_path = shutil.which("claude")
    if on_path:
        return on_path
    raise CLINotFoundError(
        "Claude Code CLI not found: install claude-agent-sdk (it bundles the CLI), "
        f"put `claude` on PATH, or set {CLI_ENV_VAR} or Options(cli_path=...)"
    )
