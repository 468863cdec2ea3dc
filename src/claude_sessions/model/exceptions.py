"""Every exception claude-sessions raises, in one hierarchy.

ClaudeSessionsError
├── InvalidInputError                   (also a ValueError: bad input, never a bug)
│   ├── InvalidSessionIdError           (also a StoreError)
│   ├── InvalidQueryError               (also a StoreError)
│   │   └── QueryTooExpensiveError      (a full-text query stopped at its time limit)
│   ├── InvalidMessageError             (also a StoreError: a message JSON cannot hold)
│   └── MessageNotFoundError            (also a LookupError: no message with that uuid)
├── CLIError
│   ├── CLINotFoundError
│   └── CLIProcessError
│       ├── CLITimeoutError
│       └── ConversationNotFoundError   (also a SessionNotFoundError)
├── ResultError                         (an ``is_error`` result, on request)
│   └── APIError                        (... that carries an API status)
├── SessionNotFoundError                (also a LookupError)
├── PriceTableError                     (a bad $CLAUDE_SESSIONS_PRICES file)
├── ClaudeConfigError                   (a Claude Code settings file we cannot safely change)
├── TranscriptExistsError               (write-back would replace a transcript on disk)
└── StoreError
    ├── AmbiguousSessionIdError         (also a LookupError)
    ├── SessionConflictError            (restoring or moving over a live session, same id)
    ├── StoreConnectionError
    ├── StoreReadOnlyError              (a write to a store opened read-only)
    └── StoreVersionError               (the store was written by a newer claude-sessions)

The command line turns ``InvalidInputError``, ``SessionNotFoundError`` and
``AmbiguousSessionIdError`` into exit status 2 and every other
``ClaudeSessionsError`` into 1, as it does an ``OSError`` (a full disk, a file
in the way); anything else is a bug and shows its traceback.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from claude_sessions.model.message import Message


class ClaudeSessionsError(Exception):
    """Base class of every error raised by claude-sessions."""


class InvalidInputError(ClaudeSessionsError, ValueError):
    """An argument that makes no sense: the caller's mistake, not a failure."""


class StoreError(ClaudeSessionsError):
    """The session store could not do what was asked."""


class InvalidSessionIdError(InvalidInputError, StoreError):
    """A session id that is empty, too long, or could escape a directory."""


class InvalidQueryError(InvalidInputError, StoreError):
    """Search criteria that make no sense, or full-text syntax we cannot run."""


class QueryTooExpensiveError(InvalidQueryError):
    """A full-text query ran past its time limit and was stopped."""


class InvalidMessageError(InvalidInputError, StoreError):
    """A message the store cannot keep exactly (NaN, nesting too deep, not JSON)."""


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


class MessageNotFoundError(InvalidInputError, LookupError):
    """No message of the session has that uuid (or the uuid prefix names several)."""


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


class ClaudeConfigError(ClaudeSessionsError):
    """A Claude Code configuration file we cannot safely read or change."""


class TranscriptExistsError(ClaudeSessionsError):
    """Writing a stored session back would replace a transcript already on disk.

    ``path`` is that transcript. Without ``force`` nothing is replaced; with
    it a transcript holding entries the store lacks is still kept.
    """

    def __init__(self, message: str, *, path: str) -> None:
        super().__init__(message)
        self.path = path


class AmbiguousSessionIdError(StoreError, LookupError):
    """A session id prefix that matches more than one stored session."""

    def __init__(self, prefix: str, candidates: list[str] | tuple[str, ...]) -> None:
        shown = ", ".join(candidates)
        super().__init__(f"session id prefix {prefix!r} is ambiguous: {shown}")
        self.prefix = prefix
        self.candidates = tuple(candidates)


class SessionConflictError(StoreError):
    """A live session already holds the id (and project) being restored from the trash,
    or moved into a project (``move``)."""


class StoreConnectionError(StoreError):
    """The store's database could not be opened or reached."""


class StoreReadOnlyError(StoreError):
    """A write to a store opened read-only (or whose files we may not write)."""


class NotAllowedError(StoreError):
    """The viewer may see the session (or the page) but not do this: only a session's
    owner and the admins change it, only admins read the audit log."""


class StoreVersionError(StoreError):
    """The store's schema is newer than this claude-sessions understands."""


class UserNotFoundError(InvalidInputError, LookupError):
    """No user of the store has that name (see ``claude_sessions.store.users``)."""


class IngestRefusedError(NotAllowedError):
    """A batch sent to a team server for a session another user owns, or one in its trash:
    nothing of it is stored (the server answers 409)."""


class TeamServerError(ClaudeSessionsError):
    """A team server (``serve --auth``) could not take or give what was asked."""


class ServerUnreachable(TeamServerError):  # noqa: N818 (the name the sync side uses)
    """The team server could not be reached: connection refused, unknown host, timeout."""


class ServerRefused(TeamServerError):  # noqa: N818 (the name the sync side uses)
    """The team server answered with a status other than 2xx: ``status`` and the server's
    one-line ``reason``."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"the team server refused ({status}): {reason}")
        self.status = status
        self.reason = reason
