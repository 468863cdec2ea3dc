"""Resuming a teammate's session (``sync --pull`` brought it) continues it as one's own
fork: Claude Code's ``--fork-session`` copies its history into a new session, which is
the current user's, with its origin recorded; the teammate's session stays as it was
(a team server would refuse new turns in it: it is theirs)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from claude_sessions.model.identity import UNKNOWN, current_identity

if TYPE_CHECKING:
    from claude_sessions.store.records import SessionMetadata

log = logging.getLogger("claude_sessions.runs")


def other_owner(metadata: SessionMetadata | None) -> str | None:
    """The user a stored session belongs to, when that is not the current user (``None``:
    one's own, not stored, or stored before users were kept)."""
    if metadata is None or metadata.user in (UNKNOWN, current_identity().user):
        return None
    return metadata.user


def fork_line(session_id: str, owner: str, fork_id: str | None = None) -> str:
    """The one line that says a resume became a fork."""
    new = f"your own fork {fork_id}" if fork_id else "your own fork (a new session)"
    return f"session {session_id} is {owner}'s: it continues as {new}, with its history"
