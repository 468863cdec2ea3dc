"""Every exception claude-sessions raises, in one hierarchy.

ClaudeSessionsError
├── CLIError
│   ├── CLINotFoundError
│   └── CLIProcessError
│       ├── CLITimeoutError
│       └── ConversationNotFoundError   (also a SessionNotFoundError)
├── ResultError                         (an ``is_error`` result, on request)
│   └── APIError                        (... that carries an API status)
├── SessionNotFoundError                (also a LookupError)
├── PriceTableError                     (a bad $CLAUDE_SESSIONS_PRICES file)
└── StoreError
    ├── InvalidSessionIdError           (also a ValueError)
    ├── InvalidQueryError               (also a ValueError)
    └── StoreConnectionError
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .message import Message


class ClaudeSessionsError(Exception):
    """Base class of every error raised by claude-sessions."""


class CLIError(ClaudeSessionsError):
    """The Claude Code CLI could not be found, started or completed."""


class CLINotFoundError(CLIError):
    """No Claude Code CLI at the chosen path, in the SDK wheel or on PATH."""


class CLIProcessError(CLIError):
    """The CLI exited with a non-zero status."""

    def __init__(self, message: str, *, exit_code: int | None, stderr: str = "") -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.stderr = stderr


class CLITimeoutError(CLIProcessError):
    """The CLI ran longer than ``Options.timeout`` and was killed."""


class SessionNotFoundError(ClaudeSessionsError, LookupError):
    """No session with that id (in the store, or known to the CLI)."""

    def __init__(self, session_id: str, message: str | None = None) -> None:
        super().__init__(message or f"session not found: {session_id}")
        self.session_id = session_id


class ConversationNotFoundError(CLIProcessError, SessionNotFoundError):
    """``resume`` named a session the CLI has no transcript for."""

    def __init__(self, session_id: str, *, exit_code: int | None, stderr: str = "") -> None:
        # Both bases take different arguments: set their state directly.
        Exception.__init__(self, f"No conversation found with session ID: {session_id}")
        self.session_id = session_id
        self.exit_code = exit_code
        self.stderr = stderr


class ResultError(ClaudeSessionsError):
    """A run ended with an ``is_error`` result and ``raise_on_error`` was set."""

    def __init__(self, message: str, *, result: Message) -> None:
        super().__init__(message)
        self.result = result


class APIError(ResultError):
    """The model API answered with an error status (``api_error_status``)."""

    def __init__(self, message: str, *, status: int, result: Message) -> None:
        super().__init__(message, result=result)
        self.status = status


class PriceTableError(ClaudeSessionsError):
    """A price file (``$CLAUDE_SESSIONS_PRICES``) that is missing, unreadable or malformed.

    ``path`` is the file; the message names the entry and field at fault.
    """

    def __init__(self, message: str, *, path: str | None = None) -> None:
        super().__init__(message)
        self.path = path


class StoreError(ClaudeSessionsError):
    """The session store could not do what was asked."""


class InvalidSessionIdError(StoreError, ValueError):
    """A session id that is empty, too long, or could escape a directory."""


class InvalidQueryError(StoreError, ValueError):
    """Search criteria that make no sense, or full-text syntax the engine rejects."""


class AmbiguousSessionIdError(StoreError, LookupError):
    """A session id prefix that matches more than one stored session."""

    def __init__(self, prefix: str, candidates: list[str] | tuple[str, ...]) -> None:
        shown = ", ".join(candidates)
        super().__init__(f"session id prefix {prefix!r} is ambiguous: {shown}")
        self.prefix = prefix
        self.candidates = tuple(candidates)


class StoreConnectionError(StoreError):
    """The store's database could not be opened or reached."""


SessionNotFound = SessionNotFoundError
