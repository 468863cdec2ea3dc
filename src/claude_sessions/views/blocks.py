"""5-hour usage blocks: the windows Claude's subscription limits count, built from the API
requests the store keeps (their own times, not their sessions').

Built the way ccusage's ``blocks`` report builds them: a block starts at the
hour (UTC) of its first request and lasts five hours; the first request past
its end, or more than five hours after the request before it, starts the next.
A block is active while it has not ended and its last request is less than
five hours old. The active block's burn rate is its cost (and tokens) per hour between its
first and last request, and its projection what it would reach by its end at
that rate.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from itertools import pairwise
from typing import TYPE_CHECKING, Any

from claude_sessions.views.figures import Bucket

if TYPE_CHECKING:
    from claude_sessions.model.filters import SessionFilter
    from claude_sessions.store import ApiRequest, SessionStore

BLOCK_SECONDS = 5 * 3600
_HOUR = 3600
# How far back the active block is first looked for: doubled until a gap of five
# hours (after which blocks start afresh) or the first request is in sight.
_FIRST_LOOK_SECONDS = 24 * 3600


def _moment(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, tz=timezone.utc)


@dataclass
class UsageBlock(Bucket):
    """One block: its start and end, its first and last request, and its figures
    (``turns``: its requests; ``sessions``: those that made them)."""

    start: float = 0.0
    first_request: float = 0.0
    last_request: float = 0.0
    active: bool = False
    models: list[str] = field(default_factory=list)
    session_ids: set[str] = field(default_factory=set)
    unpriced: set[str] = field(default_factory=set)

    @property
    def end(self) -> float:
        return self.start + BLOCK_SECONDS

    def add(self, request: ApiRequest) -> None:
        self.turns += 1
        self.last_request = request.at
        self.input_tokens += request.input_tokens
        self.output_tokens += request.output_tokens
        self.cache_write_5m_tokens += request.cache_write_5m_tokens
        self.cache_write_1h_tokens += request.cache_write_1h_tokens
        self.cache_read_tokens += request.cache_read_tokens
        if request.cost is None:
            self.unpriced.add(request.session_id)
        else:
            self.cost = round(self.cost + request.cost, 10)
        if request.model and request.model not in self.models:
            self.models.append(request.model)
        self.session_ids.add(request.session_id)
        self.sessions = len(self.session_ids)
        self.unpriced_sessions = len(self.unpriced)

    def to_dict(self) -> dict[str, Any]:
        return {
            **super().to_dict(),
            "start": _moment(self.start).isoformat(),
            "end": _moment(self.end).isoformat(),
            "first_request": _moment(self.first_request).isoformat(),
            "last_request": _moment(self.last_request).isoformat(),
            "requests": self.turns,
            "models": list(self.models),
            "active": self.active,
        }


def _new_block(request: ApiRequest) -> UsageBlock:
    start = request.at - request.at % _HOUR
    return UsageBlock(
        key=_moment(start).strftime("%Y-%m-%d %H:%M UTC"),
        start=start,
        first_request=request.at,
        last_request=request.at,
    )


def build_blocks(requests: Iterable[ApiRequest], now: float) -> list[UsageBlock]:
    """The blocks of ``requests`` (oldest first, as they come), oldest first; the last
    is marked active when it is at ``now`` (epoch seconds)."""
    blocks: list[UsageBlock] = []
    for request in requests:
        current = blocks[-1] if blocks else None
        if (
            current is None
            or request.at > current.end
            or request.at - current.last_request > BLOCK_SECONDS
        ):
            current = _new_block(request)
            blocks.append(current)
        current.add(request)
    if blocks:
        last = blocks[-1]
        last.active = now < last.end and now - last.last_request < BLOCK_SECONDS
    return blocks


def usage_blocks(
    store: SessionStore, where: SessionFilter | None = None, *, now: float | None = None
) -> list[UsageBlock]:
    """Every block of the requests of the sessions ``where`` selects, newest first."""
    moment = datetime.now(timezone.utc).timestamp() if now is None else now
    return build_blocks(store.api_requests(where), moment)[::-1]


@dataclass(frozen=True)
class ActiveBlock:
    """The block at ``now``: its figures so far, the seconds left in it, its burn rate
    (``None`` until two requests lie apart in time) and the cost and tokens it would
    reach by its end at that rate."""

    block: UsageBlock
    now: float
    seconds_left: float
    cost_per_hour: float | None
    tokens_per_hour: float | None
    projected_cost: float | None
    projected_tokens: int | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "block": self.block.to_dict(),
            "seconds_left": round(self.seconds_left),
            "cost_per_hour": self.cost_per_hour,
            "tokens_per_hour": self.tokens_per_hour,
            "projected_cost": self.projected_cost,
            "projected_tokens": self.projected_tokens,
        }


def _burn(block: UsageBlock, now: float) -> ActiveBlock:
    spent = block.last_request - block.first_request
    left = max(block.end - now, 0.0)
    tokens = block.input_tokens + block.output_tokens
    if spent <= 0:
        return ActiveBlock(block, now, left, None, None, None, None)
    cost_rate = block.cost / spent * _HOUR
    token_rate = tokens / spent * _HOUR
    return ActiveBlock(
        block,
        now,
        left,
        round(cost_rate, 10),
        round(token_rate, 3),
        round(block.cost + cost_rate * left / _HOUR, 10),
        round(tokens + token_rate * left / _HOUR),
    )


def current_of(blocks: list[UsageBlock], now: float | None = None) -> ActiveBlock | None:
    """The active block among ``blocks`` (as :func:`usage_blocks` gives them), if any."""
    moment = datetime.now(timezone.utc).timestamp() if now is None else now
    active = [block for block in blocks if block.active]
    return _burn(active[0], moment) if active else None


def active_block(
    store: SessionStore, where: SessionFilter | None = None, *, now: float | None = None
) -> ActiveBlock | None:
    """The block at ``now`` (default: the present) of the sessions ``where`` selects, or
    ``None``. Reads only the recent requests: a block's start depends on the requests
    back to the last gap of over five hours, so the look back widens until one is
    found (or the first request)."""
    moment = datetime.now(timezone.utc).timestamp() if now is None else now
    look = _FIRST_LOOK_SECONDS
    while True:
        since = moment - look
        recent = store.api_requests(where, since=since, until=moment + 1e-6)
        before = store.api_requests(where, until=since, newest_first=True, limit=1)
        times = [request.at for request in [*before, *recent]]
        if not before or any(b - a > BLOCK_SECONDS for a, b in pairwise(times)):
            break
        look *= 2
    blocks = build_blocks(_after_last_gap([*before, *recent]), moment)
    if not blocks or not blocks[-1].active:
        return None
    return _burn(blocks[-1], moment)


def _after_last_gap(requests: list[ApiRequest]) -> list[ApiRequest]:
    """The requests after the last gap of over five hours between two (all when none)."""
    for position in range(len(requests) - 1, 0, -1):
        if requests[position].at - requests[position - 1].at > BLOCK_SECONDS:
            return requests[position:]
    return requests
