"""What the store hands back: ``SessionMetadata``, ``SessionData``, ``SessionPage`` and the
other reports (frozen)."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from claude_sessions.model.identity import UNKNOWN
from claude_sessions.model.message import Message


def _kept(column: str | None = None, *, read: str = "") -> dict[str, Any]:
    """A field's metadata: the ``sessions`` column keeping it (``column``, when not its
    own name), and how a row's value becomes it (``read``: ``moment``, ``tags``, ``names``,
    ``source``: a 0/1 flag, 1 for ``result``; ``flag``: a 0/1 flag)."""
    return {"column": column, "read": read}


@dataclass(frozen=True)
class SessionMetadata:
    """Facts about one stored session, derived from its messages.

    ``created_at`` and ``updated_at`` are timezone-aware UTC datetimes.
    ``total_cost``, ``input_tokens`` and ``output_tokens`` count the main
    transcript and the subagents; ``subagent_*`` is the subagents' part.
    ``input_tokens`` counts everything the model read: the part of it that was
    written to the cache (``cache_write_5m_tokens``, ``cache_write_1h_tokens``)
    and read from it (``cache_read_tokens``) included.
    ``unpriced_models`` names the models whose requests have no price (their
    tokens are counted, their cost is not: the total is then a lower bound).
    ``figures_from``: where its main token figures came from, ``result`` (the CLI's
    own run totals, for sessions run through this library) or ``transcript`` (the
    transcript lines, which under-record output tokens).
    ``snippet`` and ``rank`` are set only on results of a full-text search:
    the snippet marks each match as ``[match]``, and a lower rank is a better
    match; ``match_uuid`` and ``match_where`` say which message holds the first match
    and where it was said (``reply``, ``tool result of Bash``, ``subagent a93ccab``).
    ``forked_at`` is the uuid of the message a fork branched after,
    when it was not the last one. ``trashed_at`` is set on sessions in the
    trash (see ``SessionStore.list_trash``). ``user`` and ``machine`` say who first
    stored the session and where (see :mod:`claude_sessions.model.identity`);
    ``unknown`` on sessions stored before they were kept. ``redacted_at`` and
    ``redacted_rules`` record when the secrets of a session were last replaced
    and the rules that found them (see ``secrets redact``). ``shared``: the owner's team
    sees it too (see :mod:`claude_sessions.store.visibility`).

    This class is the one list of a session's facts: the store's columns, the
    rows it reads, ``to_dict``, a copy between stores and the web app's panel
    all follow its fields (see :func:`stored_fields`).
    """

    session_id: str
    created_at: datetime = field(metadata=_kept(read="moment"))
    updated_at: datetime = field(metadata=_kept(read="moment"))
    message_count: int = 0
    turns: int = 0
    total_cost: float = 0.0
    input_tokens: int = 0
    output_tokens: int = 0
    subagent_cost: float = 0.0
    subagent_input_tokens: int = 0
    subagent_output_tokens: int = 0
    cache_write_5m_tokens: int = 0
    cache_write_1h_tokens: int = 0
    cache_read_tokens: int = 0
    unpriced_models: tuple[str, ...] = field(default=(), metadata=_kept("unpriced", read="names"))
    tags: tuple[str, ...] = field(default=(), metadata=_kept(read="tags"))
    description: str | None = None
    model: str | None = None
    project: str | None = None
    project_key: str = ""
    first_prompt: str | None = None
    title: str | None = None
    git_branch: str | None = None
    forked_from: str | None = None
    forked_at: str | None = None
    trashed_at: datetime | None = field(default=None, metadata=_kept(read="moment"))
    figures_from: str = field(default="transcript", metadata=_kept("from_result", read="source"))
    user: str = field(default=UNKNOWN, metadata=_kept("user_name"))
    machine: str = UNKNOWN
    redacted_at: datetime | None = field(default=None, metadata=_kept(read="moment"))
    redacted_rules: tuple[str, ...] = field(default=(), metadata=_kept(read="names"))
    shared: bool = field(default=False, metadata=_kept(read="flag"))
    # Set on search results only: not kept.
    snippet: str | None = field(default=None, compare=False, metadata={"kept": False})
    rank: float | None = field(default=None, compare=False, metadata={"kept": False})
    match_uuid: str | None = field(default=None, compare=False, metadata={"kept": False})
    match_where: str | None = field(default=None, compare=False, metadata={"kept": False})

    @property
    def uncached_input_tokens(self) -> int:
        """Plain input: what the model read neither from nor into the cache."""
        cached = self.cache_write_5m_tokens + self.cache_write_1h_tokens + self.cache_read_tokens
        return self.input_tokens - cached

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: datetimes as ISO 8601 strings, tags as a list."""
        return {item.name: _json_ready(getattr(self, item.name)) for item in fields(self)}


def _json_ready(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return list(value) if isinstance(value, tuple) else value


@dataclass(frozen=True)
class StoredField:
    """A :class:`SessionMetadata` field as the ``sessions`` table keeps it."""

    name: str
    column: str
    read: str  # how a row's value becomes it: "", "moment", "tags", "names", "source", "flag"


@functools.cache
def stored_fields() -> tuple[StoredField, ...]:
    """The fields of :class:`SessionMetadata` kept in ``sessions`` columns, in order."""
    return tuple(
        StoredField(
            item.name, item.metadata.get("column") or item.name, item.metadata.get("read", "")
        )
        for item in fields(SessionMetadata)
        if item.metadata.get("kept", True)
    )


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
    """One page of a listing: its sessions and the cursor of the next page (``None``: last).

    ``newest_first``: a text search whose words are so common that its matches come
    newest first, not ranked (see the README's full-text search)."""

    sessions: list[SessionMetadata]
    next_cursor: str | None
    newest_first: bool = False


# The sums of a usage bucket, as the usage queries name them (in UsageBucket's order).
SUM_COLUMNS = (
    "sessions",
    "messages",
    "turns",
    "cost",
    "input_tokens",
    "output_tokens",
    "unpriced",
    "cache_write_5m_tokens",
    "cache_write_1h_tokens",
    "cache_read_tokens",
    "from_result",
)


@dataclass(frozen=True)
class UsageBucket:
    """Sessions, turns, cost and tokens of one group of sessions (see ``SessionStore.usage``).

    ``key`` holds one value per grouping asked for: a day (``2026-03-01``), a week
    (its Monday), a month (``2026-03``), a model, a project or a tag; ``(none)``
    when a session has none. A session with several tags counts under each.
    By model, each API request counts under its own model: a session counts
    under every model it made requests of, with those requests' cost and tokens
    (its turns there: those requests). ``unpriced_sessions``: how many of them
    have requests without a price. ``input_tokens`` counts everything the model
    read, the cache writes (5-minute, 1-hour) and reads, also given apart, included.
    ``result_figures_sessions``: how many sessions' main token figures are the CLI's
    own ``result`` totals rather than their transcript lines' (see ``derive``).
    """

    key: tuple[str, ...]
    sessions: int
    messages: int
    turns: int
    cost: float
    input_tokens: int
    output_tokens: int
    unpriced_sessions: int = 0
    cache_write_5m_tokens: int = 0
    cache_write_1h_tokens: int = 0
    cache_read_tokens: int = 0
    result_figures_sessions: int = 0

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
            "cache_write_5m_tokens": self.cache_write_5m_tokens,
            "cache_write_1h_tokens": self.cache_write_1h_tokens,
            "cache_read_tokens": self.cache_read_tokens,
            "result_figures_sessions": self.result_figures_sessions,
        }


@dataclass(frozen=True)
class ApiRequest:
    """One API request a stored session counts (see ``SessionStore.api_requests``):
    its session, time (epoch seconds), model (``None``: unknown), tokens (plain input,
    cache writes and reads apart), cost (``None``: its model has no price) and
    whether a subagent made it."""

    session_id: str
    at: float
    model: str | None
    uncached_input_tokens: int
    output_tokens: int
    cache_write_5m_tokens: int
    cache_write_1h_tokens: int
    cache_read_tokens: int
    cost: float | None
    subagent: bool = False

    @property
    def input_tokens(self) -> int:
        """Everything the model read: plain input, cache writes and reads."""
        return (
            self.uncached_input_tokens
            + self.cache_write_5m_tokens
            + self.cache_write_1h_tokens
            + self.cache_read_tokens
        )


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
