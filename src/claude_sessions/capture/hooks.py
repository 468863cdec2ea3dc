"""Capture every turn: Claude Code hooks that import the session's transcript as it grows.

``install`` adds one command hook for each of :data:`EVENTS` to a
``settings.json`` (the user's, or a project's), merged with the hooks already
there (see :mod:`claude_sessions.claude_config`); ``uninstall`` removes only
ours; ``status`` says what is installed and what the last capture did.

The hook command (:func:`capture`) gets the hook's JSON on stdin (with
``session_id``, ``transcript_path``, ``cwd``, ``hook_event_name``) and imports
that transcript and its subagents incrementally. It must never slow down or
break Claude Code: it waits at most :data:`BUSY_SECONDS` for the store, always
exits 0, and writes what it did (or what went wrong) to a log beside the store.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from ..claude_config import ConfigChange, Scope, read_config, settings_path, write_config
from ..store.location import default_location, is_server_location, sqlite_path

EVENTS = ("Stop", "SubagentStop", "PreCompact", "SessionEnd")
MARK = "-m claude_sessions hooks capture"
HOOK_TIMEOUT_SECONDS = 30
BUSY_SECONDS = 2.0
LOG_NAME = "capture.log"
LOG_KEEP_BYTES = 1_000_000


def hook_command(
    location: str | os.PathLike[str] | None = None, *, python: str | None = None
) -> str:
    """The shell command a hook runs: this Python, so no PATH is needed."""
    words = [python or sys.executable, "-m", "claude_sessions", "hooks", "capture"]
    if location is not None:
        text = os.fspath(location)
        server = is_server_location(text)
        words += ["--store", text if server else os.path.abspath(os.path.expanduser(text))]
    return shlex.join(words)


def _ours(hook: Any) -> bool:
    return isinstance(hook, Mapping) and MARK in str(hook.get("command", ""))


def _without_ours(groups: Any) -> list[Any]:
    """An event's matcher groups with our hooks taken out (and groups left empty dropped)."""
    kept = []
    for group in groups if isinstance(groups, list) else []:
        if not isinstance(group, Mapping) or not isinstance(group.get("hooks"), list):
            kept.append(group)
            continue
        hooks = [hook for hook in group["hooks"] if not _ours(hook)]
        if hooks:
            kept.append({**group, "hooks": hooks})
    return kept


def install(
    scope: Scope = "user",
    *,
    location: str | os.PathLike[str] | None = None,
    project_dir: str | os.PathLike[str] | None = None,
    python: str | None = None,
) -> ConfigChange:
    """Add (or update) our capture hook for every event in :data:`EVENTS`."""
    path = settings_path(scope, project_dir=project_dir)
    config = read_config(path, objects=("hooks",))
    command = hook_command(location, python=python)
    hooks = dict(config.get("hooks") or {})
    ours = {"type": "command", "command": command, "timeout": HOOK_TIMEOUT_SECONDS}
    for event in EVENTS:
        hooks[event] = [*_without_ours(hooks.get(event)), {"hooks": [ours]}]
    if config.get("hooks") == hooks:
        return ConfigChange(path, scope, False, command)
    config["hooks"] = hooks
    return ConfigChange(path, scope, True, command, write_config(path, config, private=True))


def uninstall(
    scope: Scope = "user", *, project_dir: str | os.PathLike[str] | None = None
) -> ConfigChange:
    """Remove our hooks, and nothing else, from a ``settings.json``."""
    path = settings_path(scope, project_dir=project_dir)
    config = read_config(path, objects=("hooks",))
    hooks = dict(config.get("hooks") or {})
    cleaned = {event: _without_ours(groups) for event, groups in hooks.items()}
    cleaned = {event: groups for event, groups in cleaned.items() if groups}
    if cleaned == hooks:
        return ConfigChange(path, scope, False, None)
    if cleaned:
        config["hooks"] = cleaned
    else:
        config.pop("hooks", None)
    return ConfigChange(path, scope, True, None, write_config(path, config, private=True))


def installed(scope: Scope, *, project_dir: str | os.PathLike[str] | None = None) -> list[str]:
    """The events of ``scope``'s settings that run our capture hook."""
    config = read_config(settings_path(scope, project_dir=project_dir), objects=("hooks",))
    found = []
    for event, groups in (config.get("hooks") or {}).items():
        for group in groups if isinstance(groups, list) else []:
            hooks = group.get("hooks") if isinstance(group, Mapping) else None
            if isinstance(hooks, list) and any(_ours(hook) for hook in hooks):
                found.append(event)
                break
    return found


# -- the hook itself ----------------------------------------------------------------------


def log_path(location: str | os.PathLike[str] | None = None) -> Path:
    """Where captures are logged: beside a SQLite store's database, else under
    ``~/.claude_sdk``."""
    path = sqlite_path(location if location is not None else default_location())
    return (
        path.parent / LOG_NAME
        if path is not None
        else Path("~/.claude_sdk").expanduser() / LOG_NAME
    )


def _log(location: str | os.PathLike[str] | None, line: str) -> None:
    path = log_path(location)
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if path.exists() and path.stat().st_size > LOG_KEEP_BYTES:  # keep the newest half
            tail = path.read_bytes()[-LOG_KEEP_BYTES // 2 :]
            path.write_bytes(tail[tail.find(b"\n") + 1 :])
        descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(descriptor, "a", encoding="utf-8") as log:
            stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            log.write(f"{stamp} {line}\n")
    except OSError:
        pass  # a hook must never fail: a log we cannot write is a lost line, nothing more


def capture(stdin: TextIO, location: str | os.PathLike[str] | None = None) -> str:
    """Import the transcript a hook names (its JSON on ``stdin``); returns the log line.

    Never raises: whatever goes wrong is logged and returned.
    """
    event, session = "?", "?"
    try:
        payload = json.loads(stdin.read() or "{}")
        if not isinstance(payload, dict):
            raise ValueError("the hook's input is not a JSON object")
        event = str(payload.get("hook_event_name") or "?")
        session = str(payload.get("session_id") or "?")
        transcript = payload.get("transcript_path")
        if not isinstance(transcript, str) or not transcript:
            raise ValueError("the hook's input names no transcript_path")
        from ..importer import import_session_files
        from ..store import SessionStore

        started = time.perf_counter()
        # No automatic cleanup here: it is a daily job for commands that write, and a
        # hook must not pay for checking it (or, once a day, for running it).
        with SessionStore(
            location, cleanup_after_days=None, trash_days=None, busy_timeout=BUSY_SECONDS
        ) as store:
            report = import_session_files(store, transcript)
        took = (time.perf_counter() - started) * 1000
        problems = report.errors + report.skipped
        line = (
            f"{event} {session}: +{report.entries_imported} entries from "
            f"{report.files_read} of {report.files_seen} file(s) in {took:.0f} ms"
        )
        if problems:
            line += f"; {len(problems)} problem(s): {problems[0]}"
    except BaseException as error:  # a hook must never break Claude Code
        line = f"{event} {session}: error: {type(error).__name__}: {error}"
    _log(location, line)
    return line


@dataclass
class HookStatus:
    """Which scopes run our hook, and what the latest capture logged."""

    user: list[str] = field(default_factory=list)
    project: list[str] = field(default_factory=list)
    log: Path | None = None
    last: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "user": self.user,
            "project": self.project,
            "log": str(self.log) if self.log else None,
            "last_capture": self.last,
        }


def status(
    location: str | os.PathLike[str] | None = None,
    *,
    project_dir: str | os.PathLike[str] | None = None,
) -> HookStatus:
    path = log_path(location)
    last = None
    try:
        with path.open("rb") as log:
            log.seek(max(0, path.stat().st_size - 4096))
            lines = log.read().decode("utf-8", "replace").strip().splitlines()
            last = lines[-1] if lines else None
    except OSError:
        pass
    return HookStatus(installed("user"), installed("project", project_dir=project_dir), path, last)
