"""Capture every turn: Claude Code hooks that import the session's transcript as it grows.

``install`` adds one command hook for each of :data:`EVENTS` to a
``settings.json`` (the user's, or a project's), merged with the hooks already
there (see :mod:`claude_sessions.capture.claude_config`); ``uninstall`` removes only
ours; ``status`` says what is installed and what the last capture did.

The hook command (:func:`capture`) gets the hook's JSON on stdin (with
``session_id``, ``transcript_path``, ``cwd``, ``hook_event_name``, and for
``SubagentStop`` the subagent's ``agent_transcript_path``) and imports that
transcript and its subagents incrementally. It reads only what looks like
a transcript where transcripts live (:func:`admitted`): a ``.jsonl`` file under
Claude Code's ``projects`` folder or a folder the user named. It must never slow
down or break Claude Code: when another capture or an import is reading the same
transcript it hands over and leaves at once (:mod:`.handover`), it waits at most
:data:`BUSY_SECONDS` for the store, always exits 0, and writes what it did (or
what went wrong) to a log beside the store.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from claude_sessions.capture.claude_config import (
    ConfigChange,
    Scope,
    read_config,
    refuse_password,
    settings_path,
    write_config,
)
from claude_sessions.importer.discovery import claude_config_dir
from claude_sessions.importer.handover import Desk, capture_dir
from claude_sessions.model.exceptions import ClaudeSessionsError, InvalidInputError
from claude_sessions.store.location import is_server_location

if TYPE_CHECKING:
    from claude_sessions.store import SessionStore

EVENTS = ("Stop", "SubagentStop", "PreCompact", "SessionEnd")
MARK = "-m claude_sessions hooks capture"
HOOK_TIMEOUT_SECONDS = 30
BUSY_SECONDS = 2.0
# No batch to a team server starts later than this after the hook started (each waits
# at most the client's 2 s): what is left waits for the next capture or `sync`.
SEND_SECONDS = 5.0
LOG_NAME = "capture.log"
LOG_KEEP_BYTES = 1_000_000
TRANSCRIPT_DIRS_VAR = "CLAUDE_SESSIONS_TRANSCRIPT_DIRS"
_HEAD_BYTES = 64 * 1024

Folders = Iterable[str | os.PathLike[str]]


def _absolute(path: str | os.PathLike[str]) -> str:
    return os.path.abspath(os.path.expanduser(os.fspath(path)))


def hook_command(
    location: str | os.PathLike[str] | None = None,
    *,
    python: str | None = None,
    transcripts: Folders = (),
    redact: bool = False,
) -> str:
    """The shell command a hook runs: this Python, so no PATH is needed.

    A ``location`` holding a database password is refused (:func:`refuse_password`)."""
    refuse_password(location)
    words = [python or sys.executable, "-m", "claude_sessions", "hooks", "capture"]
    if location is not None:
        text = os.fspath(location)
        words += ["--store", text if is_server_location(text) else _absolute(text)]
    for folder in transcripts:
        words += ["--transcripts", _absolute(folder)]
    if redact:
        words.append("--redact")
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
    transcripts: Folders = (),
    redact: bool = False,
) -> ConfigChange:
    """Add (or update) our capture hook for every event in :data:`EVENTS`;
    ``transcripts``: folders it may also capture from (see :func:`transcript_dirs`);
    ``redact``: it stores each secret found as ``[REDACTED:rule]``."""
    path = settings_path(scope, project_dir=project_dir)
    config = read_config(path, objects=("hooks",))
    command = hook_command(location, python=python, transcripts=transcripts, redact=redact)
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
    return capture_dir(location) / LOG_NAME


def transcript_dirs(extra: Folders = ()) -> list[Path]:
    """The folders a hook captures from, links resolved: Claude Code's ``projects``
    (under ``$CLAUDE_CONFIG_DIR`` or ``~/.claude``), those in
    ``$CLAUDE_SESSIONS_TRANSCRIPT_DIRS`` (separated by ``os.pathsep``) and ``extra``."""
    named = [claude_config_dir() / "projects", *extra]
    named += [entry for entry in os.environ.get(TRANSCRIPT_DIRS_VAR, "").split(os.pathsep) if entry]
    return [Path(os.path.realpath(os.path.expanduser(os.fspath(folder)))) for folder in named]


def admitted(transcript: str, folders: list[Path]) -> Path:
    """``transcript``, links resolved, when a hook may read it: a ``.jsonl`` file
    inside one of ``folders`` (or not there yet) whose first line is a JSON object.
    Anything else raises :class:`InvalidInputError`: a hook's input names the
    file, and it must not make us store ``/etc/passwd``. Its subagents' transcripts
    are looked for beside the real file, inside ``folders`` too."""
    real = Path(os.path.realpath(os.path.expanduser(transcript)))
    refused = f"refused {transcript!r}"
    if not (transcript.endswith(".jsonl") and real.name.endswith(".jsonl")):
        raise InvalidInputError(f"{refused}: not a .jsonl file")
    if not any(folder in real.parents for folder in folders):
        where = ", ".join(str(folder) for folder in folders)
        raise InvalidInputError(
            f"{refused}: {real} is not inside {where}; name its folder with "
            f"`hooks install --transcripts DIR` or ${TRANSCRIPT_DIRS_VAR}"
        )
    if not real.exists():
        return real  # nothing written yet: nothing to import, nothing to vet
    if not real.is_file():
        raise InvalidInputError(f"{refused}: not a regular file")
    with real.open("rb") as file:
        head = file.read(_HEAD_BYTES).lstrip()
    if not head:
        raise InvalidInputError(f"{refused}: it holds no line yet")
    first, whole, _ = head.partition(b"\n")
    # A first line longer than what was read counts by its first character.
    if not first.startswith(b"{") or (whole and not _json_object(first)):
        raise InvalidInputError(f"{refused}: its first line is not a JSON object")
    return real


def _json_object(line: bytes) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except (ValueError, RecursionError):
        return False


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
            log.writelines(f"{stamp} {part}\n" for part in line.splitlines())
    except OSError:
        pass  # a hook must never fail: a log we cannot write is a lost line, nothing more


def capture(
    stdin: TextIO,
    location: str | os.PathLike[str] | None = None,
    *,
    transcripts: Folders = (),
    redact: bool = False,
) -> str:
    """Import the transcript a hook names (its JSON on ``stdin``); returns the log line.

    ``transcripts``: folders to capture from besides those of
    :func:`transcript_dirs`' defaults; ``redact``: secrets are stored redacted.
    Never raises: whatever goes wrong is logged and returned.
    """
    event, session = "?", "?"
    started = time.perf_counter()
    try:
        payload = json.loads(stdin.read() or "{}")
        if not isinstance(payload, dict):
            raise ValueError("the hook's input is not a JSON object")
        event = str(payload.get("hook_event_name") or "?")
        session = str(payload.get("session_id") or "?")
        transcript = payload.get("transcript_path")
        if not isinstance(transcript, str) or not transcript:
            raise ValueError("the hook's input names no transcript_path")
        folders = transcript_dirs(transcripts)
        agent = payload.get("agent_transcript_path")  # SubagentStop's, from CLI 2.0.42
        agent_path = admitted(agent, folders) if isinstance(agent, str) and agent else None
        line = f"{event} {session}: " + _import(
            admitted(transcript, folders), location, started, agent_path, redact=redact
        )
        line += _send(location, session, started)
    except BaseException as error:  # a hook must never break Claude Code
        line = f"{event} {session}: error: {type(error).__name__}: {error}"
    _log(location, line)
    return line


def _import(
    transcript: Path,
    location: str | os.PathLike[str] | None,
    started: float,
    agent_transcript: Path | None = None,
    *,
    redact: bool = False,
) -> str:
    """What importing ``transcript`` (and the subagent's ``agent_transcript`` a
    SubagentStop hook names) did, or that another process reads it for us."""
    claim = Desk(location).claim(transcript)
    if claim is None:
        if agent_transcript is None or "subagents" in agent_transcript.parts:
            took = (time.perf_counter() - started) * 1000
            return f"handed over to the capture or import reading it, in {took:.0f} ms"
        # The session's reader reads its subagents' folder, not a transcript beside the
        # session's (Claude Code 2.0 wrote them there): that one is read here.
        transcript, agent_transcript = agent_transcript, None
    try:  # claimed before the store is opened: others hand over meanwhile
        from claude_sessions.importer import import_session_files
        from claude_sessions.store import SessionStore
        from claude_sessions.store.search_index import update_search_index

        # No automatic cleanup here: it is a daily job for commands that write, and a
        # hook must not pay for checking it (or, once a day, for running it).
        with SessionStore(
            location, cleanup_after_days=None, trash_days=None, busy_timeout=BUSY_SECONDS
        ) as store:
            report = import_session_files(
                store, transcript, claim=claim, agent_transcript=agent_transcript, redact=redact
            )
            # A few lines: their tool text is indexed here (SQLite), not left for later.
            update_search_index(store, session_ids=[transcript.stem])
            warning = _budget_warning(store)
    except BaseException:
        if claim is not None:
            claim.release()  # the mark stays, for the next capture or import
        raise
    took = (time.perf_counter() - started) * 1000
    problems = report.errors + report.skipped
    line = (
        f"+{report.entries_imported} entries from "
        f"{report.files_read} of {report.files_seen} file(s) in {took:.0f} ms"
    )
    if report.handed_over:
        line += f"; {len(report.handed_over)} handed over to the capture or import reading it"
    if problems:
        line += f"; {len(problems)} problem(s): {problems[0]}"
    return line + (f"\n{warning}" if warning else "")


def _send(location: str | os.PathLike[str] | None, session_id: str, started: float) -> str:
    """Send the captured session, and what earlier captures could not, to the team
    server ``hooks install --server`` named (nothing when none): a line for the log."""
    from claude_sessions.capture import server_config

    try:
        config = server_config.load(location)
        if config is None:
            return ""
        from claude_sessions.capture.syncing import send_captured
        from claude_sessions.capture.team_server import TeamServer
        from claude_sessions.store import SessionStore

        with SessionStore(
            location, cleanup_after_days=None, trash_days=None, busy_timeout=BUSY_SECONDS
        ) as store:
            server = TeamServer(config.url, config.token)
            deadline = started - time.perf_counter() + time.monotonic() + SEND_SECONDS
            sent = send_captured(store, server, session_id, deadline=deadline)
    except Exception as error:  # the turn is stored here: the log keeps what was done
        sent = f"not sent: {type(error).__name__}: {error}"
    return f"\nteam server: {sent}"


def _budget_warning(store: SessionStore) -> str | None:
    """One line for the log when a budget is past 80% or spent (nothing is stopped)."""
    from claude_sessions.views.budgets import budget_status

    try:
        passed = [state for state in budget_status(store) if state.level in ("near", "over")]
    except ClaudeSessionsError as error:  # the capture itself is done: say why, go on
        return f"budget: not checked: {error}"
    return "budget: " + "; ".join(state.describe() for state in passed) if passed else None


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
