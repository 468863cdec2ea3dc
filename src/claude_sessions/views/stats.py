"""Usage statistics over the stored sessions, for every face (terminal, web, MCP).

The store adds up sessions, turns, cost and tokens in SQL (``store.usage``),
so the figures cost one aggregate query each, whatever the store's size.
Periods (day, week, month) are those the sessions were created in, in UTC.
By model, each API request counts under its own model. Input tokens count
everything the model read; the part written to the cache (5-minute and 1-hour
writes) and read from it is also given apart, and ``uncached_input_tokens`` is
the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import TYPE_CHECKING, Any

from claude_sessions.store.criteria import WEEKDAYS, period_key, session_filter
from claude_sessions.views.figures import Bucket, Tokens
from claude_sessions.views.titles import BLOCK

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from claude_sessions.model.filters import FilterArgs, SessionFilter
    from claude_sessions.store import SessionMetadata, SessionStore, UsageBucket
    from claude_sessions.views.blocks import ActiveBlock

PERIODS = ("day", "week", "month")
GROUPS = ("project", "model", "tag", "user", "machine")
DEFAULT_BY = ("day", "model", "tag", "project")


@dataclass
class Stats(Tokens):
    """What :func:`compute_stats` found. Periods come newest first, other groups by
    cost, highest first. A session with several tags counts under each, and under
    each model it made requests of. ``unpriced_sessions`` have requests of a model
    without a price: their tokens are counted, that part of their cost is not.
    ``figures_from``: how many sessions' token figures are the CLI's own ``result``
    totals (sessions run through this library) and how many their transcript lines',
    which under-record output tokens (see :func:`claude_sessions.model.derive.derive`)."""

    sessions: int = 0
    unpriced_sessions: int = 0
    result_figures_sessions: int = 0
    messages: int = 0
    turns: int = 0
    total_cost: float = 0.0
    by: dict[str, list[Bucket]] = field(default_factory=dict)
    top: list[SessionMetadata] = field(default_factory=list)
    active_block: ActiveBlock | None = None  # with the blocks: the one at present

    def to_dict(self) -> dict[str, Any]:
        return {
            "sessions": self.sessions,
            "unpriced_sessions": self.unpriced_sessions,
            "figures_from": self.figures_from(),
            "messages": self.messages,
            "turns": self.turns,
            "total_cost": self.total_cost,
            **self.token_dict(),
            "by": {name: [b.to_dict() for b in buckets] for name, buckets in self.by.items()},
            "top": [m.to_dict() for m in self.top],
            **({"active_block": _active(self.active_block)} if BLOCK in self.by else {}),
        }

    def figures_from(self) -> dict[str, int]:
        """Sessions by where their token figures came from."""
        result = self.result_figures_sessions
        return {"result": result, "transcript": self.sessions - result}


def _active(block: ActiveBlock | None) -> dict[str, Any] | None:
    return None if block is None else block.to_dict()


def _sorted(name: str, buckets: list[Bucket]) -> list[Bucket]:
    if name in PERIODS:
        return sorted(buckets, key=lambda b: b.key, reverse=True)
    return sorted(buckets, key=lambda b: (-b.cost, -b.sessions, b.key))


def _roll_up(buckets: Iterable[UsageBucket], key: Callable[[UsageBucket], str]) -> list[Bucket]:
    groups: dict[str, Bucket] = {}
    for found in buckets:
        name = key(found)
        bucket = groups.setdefault(name, Bucket(key=name))
        bucket.sessions += found.sessions
        bucket.turns += found.turns
        bucket.cost = round(bucket.cost + found.cost, 10)
        bucket.add_tokens(found)
        bucket.unpriced_sessions += found.unpriced_sessions
    return list(groups.values())


def _period(name: str) -> Callable[[UsageBucket], str]:
    def key(found: UsageBucket) -> str:
        day = date.fromisoformat(found.key[0])
        return period_key(name, (day - date(1970, 1, 1)).days)

    return key


def compute_stats(
    store: SessionStore,
    where: SessionFilter | None = None,
    *,
    by: Iterable[str] = DEFAULT_BY,
    top: int = 10,
    now: float | None = None,
    **criteria: Unpack[FilterArgs],
) -> Stats:
    """Statistics over the sessions ``where`` and keyword filters select (text aside, as
    in ``SessionStore.usage``); ``by`` names the groupings to break them down by
    (``block``: 5-hour usage blocks, newest first, and the one active at ``now``).

    One aggregate query for every period asked (days, rolled up into the totals,
    weeks and months) and one for each other grouping, each reading an index in
    its own order (no sorting).
    """
    chosen = session_filter(where, criteria)
    wanted = list(dict.fromkeys(by))
    found = {name: store.usage(name, chosen) for name in wanted if name not in (*PERIODS, BLOCK)}
    if set(PERIODS) & set(wanted):
        found["day"] = store.usage("day", chosen)
    # The totals: the sum of a grouping that puts each session in one bucket (days, a
    # project, a user, a machine; not tags or models, which count a session under each
    # of its own).
    whole = next(
        (found[name] for name in ("day", "project", "user", "machine") if name in found), None
    )
    stats = Stats()
    for bucket in whole if whole is not None else store.usage((), chosen):
        stats.sessions += bucket.sessions
        stats.unpriced_sessions += bucket.unpriced_sessions
        stats.result_figures_sessions += bucket.result_figures_sessions
        stats.messages += bucket.messages
        stats.turns += bucket.turns
        stats.total_cost = round(stats.total_cost + bucket.cost, 10)
        stats.add_tokens(bucket)
    for name in wanted:
        if name == BLOCK:
            stats.by[name], stats.active_block = _blocks(store, chosen, now)
            continue
        if name in PERIODS:
            buckets = _roll_up(found["day"], _period(name))
        else:
            buckets = [Bucket.of(usage) for usage in found[name]]
        stats.by[name] = _sorted(name, buckets)
    if top and stats.sessions:
        stats.top = store.search(chosen, limit=top, order="cost")
    return stats


def _blocks(
    store: SessionStore, where: SessionFilter, now: float | None
) -> tuple[list[Bucket], ActiveBlock | None]:
    from claude_sessions.views.blocks import current_of, usage_blocks  # built from requests

    moment = datetime.now(timezone.utc).timestamp() if now is None else now
    blocks = usage_blocks(store, where, now=moment)
    return list(blocks), current_of(blocks, moment)


@dataclass
class Series:
    """Figures per period, split by a second grouping (for stacked charts).

    ``periods`` run oldest first; ``cost[stack][i]``, ``tokens[stack][i]`` and
    ``sessions[stack][i]`` belong to ``periods[i]``. Stacks come most expensive first.
    """

    period: str
    stack: str
    periods: list[str]
    cost: dict[str, list[float]]
    tokens: dict[str, list[int]]
    sessions: dict[str, list[int]] = field(default_factory=dict)


def usage_series(
    store: SessionStore,
    period: str = "day",
    stack: str = "model",
    where: SessionFilter | None = None,
) -> Series:
    """Cost, tokens and sessions per ``period``, stacked by ``stack`` (model, project or
    tag; a session with several tags counts under each)."""
    found = store.usage((period, stack), where)
    periods = sorted({bucket.key[0] for bucket in found})
    index = {key: position for position, key in enumerate(periods)}
    cost: dict[str, list[float]] = {}
    tokens: dict[str, list[int]] = {}
    sessions: dict[str, list[int]] = {}
    for bucket in found:
        when, name = bucket.key
        cost.setdefault(name, [0.0] * len(periods))[index[when]] += bucket.cost
        tokens.setdefault(name, [0] * len(periods))[index[when]] += (
            bucket.input_tokens + bucket.output_tokens
        )
        sessions.setdefault(name, [0] * len(periods))[index[when]] += bucket.sessions
    order = sorted(cost, key=lambda name: -sum(cost[name]))
    return Series(
        period,
        stack,
        periods,
        {name: cost[name] for name in order},
        {name: tokens[name] for name in order},
        {name: sessions[name] for name in order},
    )


def week_hours(store: SessionStore, where: SessionFilter | None = None) -> list[list[int]]:
    """Sessions by the hour of the week they were created in (UTC): ``[weekday][hour]``,
    Monday first (one aggregate query)."""
    cells = [[0] * 24 for _ in WEEKDAYS]
    for key, sessions in store.run(store.core.week_hours(where)).items():
        weekday, hour = key.split()
        cells[WEEKDAYS.index(weekday)][int(hour)] += sessions
    return cells
