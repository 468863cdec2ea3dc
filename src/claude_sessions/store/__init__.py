"""The persistent session store (SQLite by default) and its official-SDK adapter."""

from .models import SessionData, SessionMetadata
from .sdk_adapter import SDKSessionStore
from .store import AsyncSessionStore, SessionStore, default_location

__all__ = [
    "AsyncSessionStore",
    "SDKSessionStore",
    "SessionData",
    "SessionMetadata",
    "SessionStore",
    "default_location",
]
