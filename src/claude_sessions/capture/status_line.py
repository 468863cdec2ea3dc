"""Claude Code's status line: ``claude-sessions statusline`` prints one line of figures.

Claude Code runs the status line command after each reply with JSON on stdin
(``session_id``, ``transcript_path``, ``model``, ``workspace``, ``cost``, ...) and
shows the first line it prints, ANSI colours included. :func:`render` answers
with the model, this session's cost (stored, else counted from its transcript),
today's cost, the active 5-hour block and the budgets past 80% or spent. It
never raises and never creates a store: what it cannot find it leaves out.

``install`` sets the ``statusLine`` setting of a ``settings.json`` (backup,
merge, idempotent, as the capture hook's ``install``); ``uninstall`` removes it
only when it is ours.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, TextIO

from claude_sessions.capture.claude_config import (
    ConfigChange,
    Scope,
    read_config,
    refuse_password,
    settings_path,
    write_config,
)
from claude_sessions.store.location import default_location, is_server_location, sqlite_path

if TYPE_CHECKING:
    from claude_sessions.store import SessionStore
    from claude_sessions.views.budgets import BudgetState

MARK = "-m claude_sessions statusline"
BUSY_SECONDS = 0.2  # a status line that waits is worse than one that leaves a figure out
TRANSCRIPT_MAX_BYTES = 8_000_000  # a bigger transcript is too slow to count in time
SEPARATOR = " | "
_YELLOW, _RED, _RESET = "\x1b[33m", "\x1b[1;31m", "\x1b[0m"


def status_command(location: str | os.PathLike[str] | None = None) -> str:
    """The shell command Claude Code runs: this Python, so no PATH is needed.

    A ``location`` holding a database password is refused (:func:`refuse_password`)."""
    refuse_password(location)
    words = [sys.executable, "-m", "claude_sessions", "statusline"]
    if location is not None:
        text = os.fspath(location)
        words += ["--store", text if is_server_location(text) else os.path.abspath(text)]
    return shlex.join(words)


def _ours(setting: Any) -> bool:
    return isinstance(setting, Mapping) and MARK in str(setting.get("command", ""))


def install(
    scope: Scope = "user",
    *,
    location: str | os.PathLike[str] | None = None,
    project_dir: str | os.PathLike[str] | None = None,
) -> ConfigChange:
    """Make our command Claude Code's status line; the setting it replaces (another
    status line) stays in the backup."""
    path = settings_path(scope, project_dir=project_dir)
    config = read_config(path, objects=("statusLine",))
    ours = {"type": "command", "command": status_command(location), "padding": 0}
    if config.get("statusLine") == ours:
        return ConfigChange(path, scope, False, ours)
    config["statusLine"] = ours
    return ConfigChange(path, scope, True, ours, write_config(path, config, private=True))


def uninstall(
    scope: Scope = "user", *, project_dir: str | os.PathLike[str] | None = None
) -> ConfigChange:
    """Remove the ``statusLine`` setting when it runs our command (another is left alone)."""
    path = settings_path(scope, project_dir=project_dir)
    config = read_config(path, objects=("statusLine",))
    if not _ours(config.get("statusLine")):
        return ConfigChange(path, scope, False, None)
    removed = config.pop("statusLine")
    return ConfigChange(path, scope, True, removed, write_config(path, config, private=True))


# -- the line -----------------------------------------------------------------------------


def render(
    stdin: TextIO,
    location: str | os.PathLike[str] | None = None,
    *,
    colour: bool = True,
    now: datetime | None = None,
) -> str:
    """The status line for the JSON on ``stdin``; never raises."""
    try:
        payload = json.loads(stdin.read() or "{}")
        if not isinstance(payload, dict):
            payload = {}
    except (ValueError, OSError, UnicodeDecodeError):
        payload = {}
    try:
        return SEPARATOR.join(_segments(payload, location, colour, now or _now()))
    except Exception as error:  # a status line must never break Claude Code
        return f"claude-sessions: {type(error).__name__}"


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _segments(
    payload: dict[str, Any], location: str | os.PathLike[str] | None, colour: bool, now: datetime
) -> list[str]:
    model = payload.get("model")
    name = model.get("display_name") or model.get("id") if isinstance(model, dict) else None
    segments = [_printable(str(name or "Claude"))]
    store = None
    try:
        store = _open_existing(location)
        session_cost = _session_cost(store, payload)
        if session_cost is not None:
            segments.append(f"session {_dollars(session_cost)}")
        segments += _store_segments(store, now, colour) if store else ["no sessions stored yet"]
    except Exception as error:  # the store is down or busy: show what is known
        segments.append(f"store unavailable ({type(error).__name__})")
    finally:
        if store is not None:
            store.close()
    return segments


def _store_segments(store: SessionStore, now: datetime, colour: bool) -> list[str]:
    from claude_sessions.views.blocks import active_block
    from claude_sessions.views.budgets import budget_status, spent_today

    today = spent_today(store, now)
    segments = [f"today {_dollars(today)}"]
    active = active_block(store, now=now.timestamp())
    block_cost = active.block.cost if active is not None else 0.0
    if active is not None:
        segments.append(f"block {_dollars(block_cost)}, {_duration(active.seconds_left)} left")
    for state in budget_status(store, now=now, counted={"daily": today, "block": block_cost}):
        if state.level in ("near", "over"):
            segments.append(_budget_segment(state, colour))
    return segments


def _budget_segment(state: BudgetState, colour: bool) -> str:
    share = state.share or 0.0
    if state.level == "over":
        text, paint = f"OVER {state.kind} budget ({share:.0%} of ${state.limit:,.2f})", _RED
    else:
        text, paint = f"{state.kind} budget {share:.0%} used (${state.limit:,.2f})", _YELLOW
    return f"{paint}{text}{_RESET}" if colour else text


def _open_existing(location: str | os.PathLike[str] | None) -> SessionStore | None:
    """The store, when there is one (a status line never creates one)."""
    chosen = os.fspath(location) if location is not None else default_location()
    if not is_server_location(chosen):
        found = sqlite_path(chosen)
        if found is None or not found.exists():
            return None
    from claude_sessions.store import SessionStore

    return SessionStore(chosen, cleanup_after_days=None, trash_days=None, busy_timeout=BUSY_SECONDS)


def _session_cost(store: SessionStore | None, payload: dict[str, Any]) -> float | None:
    """This session's cost: stored, else counted from its transcript, else Claude Code's own."""
    session_id = payload.get("session_id")
    if store is not None and isinstance(session_id, str) and session_id:
        from claude_sessions.model.exceptions import InvalidInputError

        try:
            stored = store.get_metadata(session_id)
        except InvalidInputError:  # not a session id we could store
            stored = None
        if stored is not None:
            return stored.total_cost
    transcript = payload.get("transcript_path")
    if isinstance(transcript, str) and transcript:
        counted = _transcript_cost(transcript)
        if counted is not None:
            return counted
    cost = payload.get("cost")
    reported = cost.get("total_cost_usd") if isinstance(cost, dict) else None
    return float(reported) if isinstance(reported, int | float) else None


def _transcript_cost(transcript: str) -> float | None:
    """The cost a transcript's lines record; ``None`` when there is none, it is too big
    to read in time, or it is not where a capture hook may read (:func:`.hooks.admitted`)."""
    from claude_sessions.capture.hooks import admitted, transcript_dirs
    from claude_sessions.model.derive import derive, fold
    from claude_sessions.model.exceptions import InvalidInputError

    try:
        path = admitted(transcript, transcript_dirs())
        if path.stat().st_size > TRANSCRIPT_MAX_BYTES:
            return None
        with path.open("rb") as lines:
            entries = [entry for entry in map(_entry, lines) if entry is not None]
    except (OSError, InvalidInputError):
        return None
    return derive(fold(None, entries)).total_cost


def _entry(line: bytes) -> dict[str, Any] | None:
    try:
        found = json.loads(line)
    except (ValueError, RecursionError):
        return None  # a line still being written, or not JSON: not counted
    return found if isinstance(found, dict) else None


def _dollars(cost: float) -> str:
    return f"${cost:,.2f}"


def _duration(seconds: float) -> str:
    minutes = max(0, round(seconds / 60))
    return f"{minutes // 60}h{minutes % 60:02d}m"


def _printable(text: str) -> str:
    """Text from the JSON made safe to print: no escapes or control characters."""
    return "".join(character for character in text if character.isprintable())[:40]
