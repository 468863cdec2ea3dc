"""claude-sessions: manage Claude agent sessions on the real Claude Code CLI."""

import importlib
from typing import TYPE_CHECKING, Any

from claude_sessions.model.exceptions import (
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
    SessionNotFoundError,
    StoreConnectionError,
    StoreError,
    StoreReadOnlyError,
    StoreVersionError,
    TranscriptExistsError,
)

if TYPE_CHECKING:
    from claude_sessions.model.filters import SessionFilter
    from claude_sessions.model.message import Message
    from claude_sessions.model.session import Session
    from claude_sessions.runs.options import Options
    from claude_sessions.runs.run import (
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
    from claude_sessions.store import (
        AsyncSessionStore,
        SessionData,
        SessionMetadata,
        SessionPage,
        SessionStore,
    )

# Imported on first use, so a command (a hook above all) loads only what it runs.
_LAZY = {
    "Message": "model.message",
    "Options": "runs.options",
    "Session": "model.session",
    "SessionFilter": "model.filters",
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
        "runs.run",
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
    "SessionFilter",
    "SessionMetadata",
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
