"""What the store hands back: ``SessionMetadata``, ``SessionData``, ``SessionPage`` and the
other reports (frozen)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from claude_sessions.model.message import Message


@dataclass(frozen=True)
class SessionMetadata:
    """Facts about one stored session, derived from its messages.

    ``created_at`` and ``updated_at`` are timezone-aware UTC datetimes.
    ``total_cost``, ``input_tokens`` and ``output_tokens`` count the main
    transcript and the subagents; ``subagent_*`` is the subagents' part.
    ``unpriced_models`` names the models whose requests have no price (their
    tokens are counted, their cost is not: the total is then a lower bound).
    ``snippet`` and ``rank`` are set only on results of a full-text search:
    the snippet marks each match as ``[match]``, and a lower rank is a better
    match. ``forked_at`` is the uuid of the message a fork branched after,
    when it was not the last one. ``trashed_at`` is set on sessions in the
    trash (see ``SessionStore.list_trash``).
    """

    session_id: str
    created_at: datetime
    updated_at: datetime
    message_count: int = 0
    turns: int = 0
    total_cost: float = 0.0
    input_tokens: int = 0
    output_tokens: int = 0
    subagent_cost: float = 0.0
    subagent_input_tokens: int = 0
    subagent_output_tokens: int = 0
    unpriced_models: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    description: str | None = None
    model: str | None = None
    project: str | None = None
    project_key: str = ""
    first_prompt: str | None = None
    title: str | None = None
    git_branch: str | None = None
    forked_from: str | None = None
    forked_at: str | None = None
    trashed_at: datetime | None = None
    snippet: str | None = field(default=None, compare=False)
    rank: float | None = field(default=None, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: datetimes as ISO 8601 strings, tags as a list."""
        return {
            "session_id": self.session_id,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "message_count": self.message_count,
            "turns": self.turns,
            "total_cost": self.total_cost,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "subagent_cost": self.subagent_cost,
            "subagent_input_tokens": self.subagent_input_tokens,
            "subagent_output_tokens": self.subagent_output_tokens,
            "unpriced_models": list(self.unpriced_models),
            "tags": list(self.tags),
            "description": self.description,
            "model": self.model,
            "project": self.project,
            "project_key": self.project_key,
            "first_prompt": self.first_prompt,
            "title": self.title,
            "git_branch": self.git_branch,
            "forked_from": self.forked_from,
            "forked_at": self.forked_at,
            "trashed_at": self.trashed_at.isoformat() if self.trashed_at else None,
            "snippet": self.snippet,
            "rank": self.rank,
        }


@dataclass(frozen=True)
class SessionData:
    """One loaded session: its id, its main-transcript messages and its metadata.

    ``subagents`` maps each subagent transcript (``subagents/agent-<id>``) to
    its messages; it is filled by ``load_session(..., subagents=True)``.
    """

    session_id: str
    messages: list[Message]
    metadata: SessionMetadata
    subagents: dict[str, list[Message]] = field(default_factory=dict)


@dataclass(frozen=True)
class SessionPage:
    """One page of a listing: its sessions and the cursor of the next page (``None``: last)."""

    sessions: list[SessionMetadata]
    next_cursor: str | None


@dataclass(frozen=True)
class UsageBucket:
    """Sessions, turns, cost and tokens of one group of sessions (see ``SessionStore.usage``).

    ``key`` holds one value per grouping asked for: a day (``2026-03-01``), a week
    (its Monday), a month (``2026-03``), a model, a project or a tag; ``(none)``
    when a session has none. A session with several tags counts under each.
    ``unpriced_sessions``: how many of them have requests without a price.
    """

    key: tuple[str, ...]
    sessions: int
    messages: int
    turns: int
    cost: float
    input_tokens: int
    output_tokens: int
    unpriced_sessions: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": list(self.key),
            "sessions": self.sessions,
            "messages": self.messages,
            "turns": self.turns,
            "cost": self.cost,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "unpriced_sessions": self.unpriced_sessions,
        }


@dataclass(frozen=True)
class RestoreReport:
    """What a bulk restore from the trash did (see ``SessionStore.restore_sessions``).

    ``restored``: how many sessions came back. ``conflicts``: the ids left in
    the trash because a live session holds them (a session id names at most one
    live session); trash or purge that one, then restore again.
    """

    restored: int
    conflicts: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"restored": self.restored, "conflicts": list(self.conflicts)}
