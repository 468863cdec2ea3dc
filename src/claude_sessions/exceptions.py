"""Every exception claude-sessions raises, in one hierarchy.

    ClaudeSessionsError
    ├── CLIError
    │   ├── CLINotFoundError
    │   └── CLIProcessError
    │       └── ConversationNotFoundError   (also a SessionNotFoundError)
    ├── APIError                            (an ``is_error`` result, on request)
    ├── SessionNotFoundError                (also a LookupError)
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


class SessionNotFoundError(ClaudeSessionsError, LookupError):
    """No session with that id (in the store, or known to the CLI)."""

    def __init__(self, session_id: str, message: str | None = None) -> None:
        super().__init__(message or f"session not found: {session_id}")
        self.session_id = session_id


class ConversationNotFoundError(CLIProcessError, SessionNotFoundError):
    """``resume`` named a session the CLI has no transcript for."""

    def __init__(self, session_id: str, *, exit_code: int | None, stderr: str = "") -> None:
        CLIProcessError.__init__(
            self,
            f"No conversation found with session ID: {session_id}",
            exit_code=exit_code,
            stderr=stderr,
        )
        self.session_id = session_id


class APIError(ClaudeSessionsError):
    """The model API failed; raised for ``is_error`` results when ``raise_on_error`` is set."""

    def __init__(self, message: str, *, status: int | None, result: Message | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.result = result


class StoreError(ClaudeSessionsError):
    """The session store could not do what was asked."""


class InvalidSessionIdError(StoreError, ValueError):
    """A session id that is empty, too long, or could escape a directory."""


class InvalidQueryError(StoreError, ValueError):
    """Search criteria that make no sense, or full-text syntax the engine rejects."""


class StoreConnectionError(StoreError):
    """The store's database could not be opened or reached."""


SessionNotFound = SessionNotFoundError
