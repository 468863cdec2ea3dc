"""claude-sessions: manage Claude agent sessions on the real Claude Code CLI."""

from .exceptions import (
    APIError,
    ClaudeSessionsError,
    CLIError,
    CLINotFoundError,
    CLIProcessError,
    ConversationNotFoundError,
    InvalidQueryError,
    InvalidSessionIdError,
    SessionNotFound,
    SessionNotFoundError,
    StoreConnectionError,
    StoreError,
)
from .message import Message
from .session import Session

__version__ = "0.1.0"

__all__ = [
    "APIError",
    "CLIError",
    "CLINotFoundError",
    "CLIProcessError",
    "ClaudeSessionsError",
    "ConversationNotFoundError",
    "InvalidQueryError",
    "InvalidSessionIdError",
    "Message",
    "Session",
    "SessionNotFound",
    "SessionNotFoundError",
    "StoreConnectionError",
    "StoreError",
    "__version__",
]
