"""claude-sessions: manage Claude agent sessions on the real Claude Code CLI."""

import importlib
from typing import TYPE_CHECKING, Any

from .exceptions import (
    AmbiguousSessionIdError,
    APIError,
    ClaudeConfigError,
    ClaudeSessionsError,
    CLIError,
    CLINotFoundError,
    CLIProcessError,
    CLITimeoutError,
    ConversationNotFoundError,
    InvalidInputError,
    InvalidMessageError,
    InvalidQueryError,
    InvalidSessionIdError,
    MessageNotFoundError,
    QueryTooExpensiveError,
    ResultError,
    SessionConflictError,
    SessionNotFound,
    SessionNotFoundError,
    StoreConnectionError,
    StoreError,
    StoreReadOnlyError,
    StoreVersionError,
    TranscriptExistsError,
)

if TYPE_CHECKING:
    from .message import Message
    from .options import Options
    from .runs import (
        CONTINUE_PROMPT,
        acontinue_conversation,
        afork,
        aquery,
        aresume,
        continue_conversation,
        fork,
        query,
        resume,
    )
    from .session import Session
    from .store import AsyncSessionStore, SessionData, SessionMetadata, SessionPage, SessionStore

# Imported on first use, so a command (a hook above all) loads only what it runs.
_LAZY = {
    "Message": "message",
    "Options": "options",
    "Session": "session",
    **dict.fromkeys(
        ["AsyncSessionStore", "SessionData", "SessionMetadata", "SessionPage", "SessionStore"],
        "store",
    ),
    **dict.fromkeys(
        [
            "CONTINUE_PROMPT",
            "acontinue_conversation",
            "afork",
            "aquery",
            "aresume",
            "continue_conversation",
            "fork",
            "query",
            "resume",
        ],
        "runs",
    ),
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


__version__ = "0.1.0"

__all__ = [
    "CONTINUE_PROMPT",
    "APIError",
    "AmbiguousSessionIdError",
    "AsyncSessionStore",
    "CLIError",
    "CLINotFoundError",
    "CLIProcessError",
    "CLITimeoutError",
    "ClaudeConfigError",
    "ClaudeSessionsError",
    "ConversationNotFoundError",
    "InvalidInputError",
    "InvalidMessageError",
    "InvalidQueryError",
    "InvalidSessionIdError",
    "Message",
    "MessageNotFoundError",
    "Options",
    "QueryTooExpensiveError",
    "ResultError",
    "Session",
    "SessionConflictError",
    "SessionData",
    "SessionMetadata",
    "SessionNotFound",
    "SessionNotFoundError",
    "SessionPage",
    "SessionStore",
    "StoreConnectionError",
    "StoreError",
    "StoreReadOnlyError",
    "StoreVersionError",
    "TranscriptExistsError",
    "__version__",
    "acontinue_conversation",
    "afork",
    "aquery",
    "aresume",
    "continue_conversation",
    "fork",
    "query",
    "resume",
]
