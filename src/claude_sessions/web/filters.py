"""The filters a page's URL carries, read into store criteria.

A filter travels as a query parameter so a page can be bookmarked and
shared; an empty one counts as absent (forms send every field). A value that
is not a date or a number raises :class:`InvalidQueryError` with a message
for the reader, as the store does for criteria it cannot take.
"""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass, field, fields
from datetime import date, datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlencode

from starlette.datastructures import QueryParams

from claude_sessions.model.exceptions import InvalidQueryError

_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TAG_SPLIT_RE = re.compile(r"[,\s]+")
PERIODS = ("day", "week", "month")
STACKS = ("model", "project", "tag")
# How far back the usage page looks by default: a month reads well as daily bars, and
# adding up every session ever stored costs the store a full pass over them.
LAST_DAYS = ("7", "30", "90", "365", "all")
DEFAULT_LAST = "30"


def parse_date(text: str, name: str) -> date | datetime:
    """``YYYY-MM-DD`` (a whole day) or an ISO 8601 datetime (naive means UTC)."""
    value = text.strip()
    try:
        if _DATE_RE.match(value):
            return date.fromisoformat(value)
        moment = datetime.fromisoformat(value[:-1] + "+00:00" if value.endswith("Z") else value)
    except ValueError:
        raise InvalidQueryError(f"{name} is not a date: {text!r} (use 2026-01-31)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def parse_cost(text: str, name: str) -> float:
    try:
        value = float(text.strip().lstrip("$"))
    except ValueError:
        raise InvalidQueryError(f"{name} is not a number of dollars: {text!r}") from None
    if not math.isfinite(value) or value < 0:
        raise InvalidQueryError(f"{name} must be a number of dollars >= 0, not {text!r}")
    return value


def split_tags(text: str) -> list[str]:
    return [tag for tag in _TAG_SPLIT_RE.split(text.strip()) if tag]


def _value(params: QueryParams, name: str) -> str:
    return params.get(name, "").strip()


@dataclass(frozen=True)
class Filters:
    """What narrows the sessions shown: the text of each field, as the URL has it."""

    q: str = ""
    tags: str = ""
    all_tags: bool = False
    after: str = ""
    before: str = ""
    min_cost: str = ""
    max_cost: str = ""
    model: str = ""
    project: str = ""

    @classmethod
    def read(cls, params: QueryParams) -> Filters:
        return cls(
            q=_value(params, "q"),
            tags=_value(params, "tags"),
            all_tags=_value(params, "all_tags") in ("1", "on", "true"),
            after=_value(params, "after"),
            before=_value(params, "before"),
            min_cost=_value(params, "min_cost"),
            max_cost=_value(params, "max_cost"),
            model=_value(params, "model"),
            project=_value(params, "project"),
        )

    def criteria(self, *, text: bool = True) -> dict[str, Any]:
        """Keyword arguments for ``store.search_page`` (and, without ``text``, for
        ``store.usage``); raises :class:`InvalidQueryError` on a bad value."""
        found: dict[str, Any] = {}
        if text and self.q:
            found["text"] = self.q
        if self.tags:
            found["tags"] = split_tags(self.tags)
            found["match_all_tags"] = self.all_tags
        if self.after:
            found["after"] = parse_date(self.after, "after")
        if self.before:
            found["before"] = parse_date(self.before, "before")
        if self.min_cost:
            found["min_cost"] = parse_cost(self.min_cost, "min cost")
        if self.max_cost:
            found["max_cost"] = parse_cost(self.max_cost, "max cost")
        if self.model:
            found["model"] = self.model
        if self.project:
            found["project"] = self.project
        return found

    def params(self) -> list[tuple[str, str]]:
        """The non-empty filters as query parameters."""
        found: list[tuple[str, str]] = []
        for item in fields(self):
            value = getattr(self, item.name)
            if value is True:
                found.append((item.name, "1"))
            elif value:
                found.append((item.name, value))
        return found

    def query(self, **extra: str | None) -> str:
        """A query string of these filters and ``extra`` (``None`` values left out)."""
        pairs = self.params() + [(k, v) for k, v in extra.items() if v is not None]
        return urlencode(pairs)

    @property
    def active(self) -> bool:
        return bool(self.params())


@dataclass(frozen=True)
class UsageView:
    """The usage page's choices: the period of a bar, what its stack splits by, how many
    days back it looks (``last``; dates given in ``after``/``before`` win), and the list's
    filters but the text (``claude-sessions stats`` takes the same)."""

    period: str = "day"
    stack: str = "model"
    last: str = DEFAULT_LAST
    filters: Filters = field(default_factory=Filters)
    since: date | None = None

    @classmethod
    def read(cls, params: QueryParams, today: date) -> UsageView:
        period = _value(params, "period") or "day"
        stack = _value(params, "stack") or "model"
        last = _value(params, "last") or DEFAULT_LAST
        if period not in PERIODS:
            raise InvalidQueryError(f"period must be one of {', '.join(PERIODS)}, not {period!r}")
        if stack not in STACKS:
            raise InvalidQueryError(f"stack must be one of {', '.join(STACKS)}, not {stack!r}")
        if last not in LAST_DAYS:
            raise InvalidQueryError(f"last must be one of {', '.join(LAST_DAYS)}, not {last!r}")
        kept = dataclasses.replace(Filters.read(params), q="")  # usage is not narrowed by text
        since = None
        if last != "all" and not kept.after:
            since = today - timedelta(days=int(last) - 1)
        return cls(period, stack, last, kept, since)

    def criteria(self) -> dict[str, Any]:
        """Keyword arguments for ``store.usage`` and
        :func:`~claude_sessions.views.stats.usage_series`."""
        found = self.filters.criteria(text=False)
        if self.since is not None:
            found["after"] = self.since
        return found

    def stats_criteria(self) -> dict[str, Any]:
        """Keyword arguments for :func:`claude_sessions.views.stats.compute_stats`."""
        found = self.criteria()
        renamed = {"after": "since", "before": "until"}
        return {renamed.get(name, name): value for name, value in found.items()}
