"""claude-sessions: manage Claude agent sessions on the real Claude Code CLI."""

from .exceptions import (
    AmbiguousSessionIdError,
    APIError,
    ClaudeSessionsError,
    CLIError,
    CLINotFoundError,
    CLIProcessError,
    CLITimeoutError,
    ConversationNotFoundError,
    InvalidQueryError,
    InvalidSessionIdError,
    ResultError,
    SessionNotFound,
    SessionNotFoundError,
    StoreConnectionError,
    StoreError,
)
from .message import Message
from .options import Options
from .query import (
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
from .store import AsyncSessionStore, SessionData, SessionMetadata, SessionStore

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
    "ClaudeSessionsError",
    "ConversationNotFoundError",
    "InvalidQueryError",
    "InvalidSessionIdError",
    "Message",
    "Options",
    "ResultError",
    "Session",
    "SessionData",
    "SessionMetadata",
    "SessionNotFound",
    "SessionNotFoundError",
    "SessionStore",
    "StoreConnectionError",
    "StoreError",
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
