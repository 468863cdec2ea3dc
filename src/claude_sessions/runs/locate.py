"""Finding the Claude Code CLI to run."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from claude_sessions.model.exceptions import CLINotFoundError

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


@dataclass(frozen=True)
class ClaudeCode:
    """One Claude Code CLI found on this machine: where, how it was found, its version."""

    path: str
    source: str  # "$CLAUDE_SESSIONS_CLI", "claude-agent-sdk" (bundled) or "PATH"
    version: str | None  # None when ``--version`` did not answer

    def describe(self) -> str:
        version = self.version or "version unknown"
        return f"Claude Code {version} ({self.source}: {self.path})"

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "source": self.source, "version": self.version}


def cli_version(path: str) -> str | None:
    """What ``path --version`` says its version is (``2.1.337``), or None."""
    environment = {**os.environ, "DISABLE_AUTOUPDATER": "1", "DISABLE_TELEMETRY": "1"}
    try:
        done = subprocess.run(
            [path, "--version"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
            env=environment,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    words = done.stdout.split()
    return words[0] if done.returncode == 0 and words else None


def installed_clis() -> list[ClaudeCode]:
    """Every Claude Code CLI :func:`find_cli` could pick, in its order of preference.

    ``claude`` on PATH is the one a user runs by hand, which reads the hooks
    and MCP servers we register; the bundled one is what this library runs.
    """
    candidates: list[tuple[str, str]] = []
    chosen = os.environ.get(CLI_ENV_VAR)
    if chosen:
        found = shutil.which(chosen) if os.sep not in chosen else chosen
        if found:
            candidates.append((found, f"${CLI_ENV_VAR}"))
    bundled = bundled_cli()
    if bundled is not None:
        candidates.append((str(bundled), "claude-agent-sdk"))
    on_path = shutil.which("claude")
    if on_path:
        candidates.append((on_path, "PATH"))
    seen: set[str] = set()
    clis = []
    for path, source in candidates:
        if os.path.realpath(path) not in seen:
            seen.add(os.path.realpath(path))
            clis.append(ClaudeCode(path, source, cli_version(path)))
    return clis
