"""``Options``: how to run the Claude Code CLI for one query."""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from claude_sessions.model.exceptions import InvalidInputError

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")

# Pythonic spellings accepted for the CLI's camelCase permission modes.
_PERMISSION_MODES = {
    "default": "default",
    "accept_edits": "acceptEdits",
    "acceptEdits": "acceptEdits",
    "bypass_permissions": "bypassPermissions",
    "bypassPermissions": "bypassPermissions",
    "plan": "plan",
    "dont_ask": "dontAsk",
    "dontAsk": "dontAsk",
    "auto": "auto",
}


@dataclass(frozen=True)
class Options:
    """Settings for one CLI run; every field is optional.

    ``env`` is added to the process environment; ``extra_args`` go to the CLI
    verbatim (for flags this class does not name). ``raise_on_error`` turns an
    ``is_error`` result into a :class:`~claude_sessions.ResultError` after the
    result has been yielded. ``timeout`` (seconds) bounds the whole run.

    ``resume_session_at`` (a message uuid) resumes from that message: the
    model is shown the history up to and including it, and what came later is
    left out. With ``fork_session`` (see :func:`~claude_sessions.fork`'s
    ``at=``) the original stays whole; without it the CLI rewrites the
    session's own transcript without the later turns (a store keeps them).
    ``resume_drops_turn`` (the prompt uuid of the turn being dropped) asks
    the CLI to refuse when the cut would drop anything else.
    """

    model: str | None = None
    max_turns: int | None = None
    allowed_tools: Sequence[str] = ()
    disallowed_tools: Sequence[str] = ()
    permission_mode: str | None = None
    system_prompt: str | None = None
    append_system_prompt: str | None = None
    cwd: str | os.PathLike[str] | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    fork_session: bool = False
    resume_session_at: str | None = None
    resume_drops_turn: str | None = None
    session_id: str | None = None
    cli_path: str | os.PathLike[str] | None = None
    extra_args: Sequence[str] = ()
    include_partial_messages: bool = False
    raise_on_error: bool = False
    timeout: float | None = None

    def __post_init__(self) -> None:
        if self.max_turns is not None and (
            not isinstance(self.max_turns, int) or self.max_turns < 1
        ):
            raise InvalidInputError(f"max_turns must be a positive integer, not {self.max_turns!r}")
        if self.permission_mode is not None and self.permission_mode not in _PERMISSION_MODES:
            choices = ", ".join(sorted(set(_PERMISSION_MODES)))
            raise InvalidInputError(
                f"unknown permission_mode {self.permission_mode!r}; choose one of {choices}"
            )
        if self.resume_drops_turn is not None and self.resume_session_at is None:
            raise InvalidInputError("resume_drops_turn needs resume_session_at")
        for name in ("resume_session_at", "resume_drops_turn"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, str) or not _UUID.fullmatch(value)):
                raise InvalidInputError(f"{name} must be a message uuid, not {value!r}")
        if self.timeout is not None and self.timeout <= 0:
            raise InvalidInputError(f"timeout must be positive, not {self.timeout!r}")
        for name in ("allowed_tools", "disallowed_tools", "extra_args"):
            if isinstance(getattr(self, name), str):
                raise TypeError(f"{name} takes a list of strings, not one string")

    def replace(self, **changes: Any) -> Options:
        return dataclasses.replace(self, **changes)

    def cli_flags(self) -> list[str]:
        """The CLI flags these options stand for (not the resume/continue ones)."""
        flags: list[str] = []
        if self.model:
            flags += ["--model", self.model]
        if self.max_turns is not None:
            flags += ["--max-turns", str(self.max_turns)]
        if self.allowed_tools:
            flags += ["--allowedTools", ",".join(self.allowed_tools)]
        if self.disallowed_tools:
            flags += ["--disallowedTools", ",".join(self.disallowed_tools)]
        if self.permission_mode:
            flags += ["--permission-mode", _PERMISSION_MODES[self.permission_mode]]
        if self.system_prompt is not None:
            flags += ["--system-prompt", self.system_prompt]
        if self.append_system_prompt:
            flags += ["--append-system-prompt", self.append_system_prompt]
        if self.session_id:
            flags += ["--session-id", self.session_id]
        if self.include_partial_messages:
            flags.append("--include-partial-messages")
        return flags + list(self.extra_args)
