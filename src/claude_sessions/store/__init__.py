"""The persistent session store (SQLite by default, or PostgreSQL) and its official-SDK adapter.

The layers, from the top: the faces (:mod:`.session_store`), the decisions
they share (:mod:`.core`, and the writes' own in :mod:`.write_rules`), the
transactions written once for both databases (:mod:`.writes`,
:mod:`.entry_writes`, :mod:`.imports`, :mod:`.trash`, :mod:`.reads`), and per
database a dialect (SQL spelling, full text) and a driver (connections,
transactions). The pure pieces they use live in :mod:`claude_sessions.model`.
"""

from typing import TYPE_CHECKING

from claude_sessions.store.async_session_store import AsyncSessionStore
from claude_sessions.store.cleanup_policy import CleanupPolicy, cleanup_policy
from claude_sessions.store.location import default_location, mask_password, sqlite_path
from claude_sessions.store.records import (
    ApiRequest,
    RestoreReport,
    SessionData,
    SessionMetadata,
    SessionPage,
    UsageBucket,
)
from claude_sessions.store.session_store import SessionStore

if TYPE_CHECKING:
    from claude_sessions.store.imports import FileBatch, FileState, Landed
    from claude_sessions.store.redacting import (
        RedactReport,
        record_redaction,
        redact_stored,
        redaction_policy,
        set_redaction_policy,
    )

_REDACTING = (
    "RedactReport",
    "record_redaction",
    "redact_stored",
    "redaction_policy",
    "set_redaction_policy",
)

__all__ = [
    "ApiRequest",
    "AsyncSessionStore",
    "CleanupPolicy",
    "FileBatch",
    "FileState",
    "Landed",
    "RedactReport",
    "RestoreReport",
    "SessionData",
    "SessionMetadata",
    "SessionPage",
    "SessionStore",
    "UsageBucket",
    "cleanup_policy",
    "default_location",
    "mask_password",
    "record_redaction",
    "redact_stored",
    "redaction_policy",
    "set_redaction_policy",
    "sqlite_path",
]


def __getattr__(name: str) -> object:
    # What only an import uses, loaded by the first import.
    if name in ("FileBatch", "FileState", "Landed"):
        from claude_sessions.store import imports

        return getattr(imports, name)
    if name in _REDACTING:
        from claude_sessions.store import redacting

        return getattr(redacting, name)
    # The adapter imports the official SDK (most of a second): only when asked for.
    if name == "SDKSessionStore":
        from claude_sessions.store.sdk_adapter import SDKSessionStore

        return SDKSessionStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
