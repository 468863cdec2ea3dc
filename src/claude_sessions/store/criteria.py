"""Search and listing criteria, checked once and turned into :class:`Criteria`.

Every mistake becomes :class:`InvalidQueryError` (a ``ValueError``) here,
before any SQL runs: wrong types, ranges upside down, numbers no database
column can hold, a page cursor that was not ours, and full-text queries that
are malformed or too costly (see :mod:`.text_query`).
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from claude_sessions.model import text_query
from claude_sessions.model.exceptions import InvalidQueryError

# The largest integer SQLite and PostgreSQL (bigint) can hold.
MAX_INTEGER = 2**63 - 1
_EARLIEST = datetime(1, 1, 1, tzinfo=timezone.utc).timestamp()
_LATEST = datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=timezone.utc).timestamp()


@dataclass(frozen=True)
class Cursor:
    """Where a page ends, for keyset paging: the sort value and the row of its last session.

    The sort value is ``updated_at`` (epoch seconds, newest first) for a
    listing and the rank (lower first) for a full-text search.
    """

    ranked: bool
    value: float | int
    ref: int

    def encode(self) -> str:
        raw = json.dumps(["r" if self.ranked else "u", self.value, self.ref]).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str) -> Cursor:
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            kind, value, ref = json.loads(raw)
            if kind not in ("r", "u") or isinstance(value, bool) or isinstance(ref, bool):
                raise ValueError(kind)
            if not isinstance(value, int | float):
                raise TypeError(value)
            cursor = cls(kind == "r", value, int(ref))
        except (ValueError, TypeError, UnicodeDecodeError):
            raise InvalidQueryError(f"not a page cursor: {token[:40]!r}") from None
        if not math.isfinite(cursor.value) or not 0 <= cursor.ref <= MAX_INTEGER:
            raise InvalidQueryError(f"not a page cursor: {token[:40]!r}")
        return cursor


@dataclass(frozen=True)
class Criteria:
    """Validated search criteria (see ``SessionStore.search``). Times in epoch seconds."""

    tags: tuple[str, ...] = ()
    match_all_tags: bool = False
    after: float | None = None
    before: float | None = None
    min_cost: float | None = None
    max_cost: float | None = None
    model: str | None = None
    project: str | None = None
    forked_from: str | None = None
    text: text_query.Node | None = None
    text_source: str | None = None
    limit: int | None = None
    offset: int = 0
    cursor: Cursor | None = None
    trashed: bool = False
    by_cost: bool = False


PERIODS = ("day", "week", "month")
GROUPINGS = (*PERIODS, "model", "project", "tag")


def period_key(period: str, day: int) -> str:
    """The key of the period holding UTC day ``day`` (days since 1970-01-01):
    ``2026-03-01``, the Monday of its week, or ``2026-03``."""
    moment = date(1970, 1, 1) + timedelta(days=day)
    if period == "week":
        moment -= timedelta(days=moment.weekday())
    return moment.strftime("%Y-%m") if period == "month" else moment.isoformat()


def check_grouping(by: Any) -> tuple[str, ...]:
    """``by`` of ``SessionStore.usage``: one grouping name or a pair of them."""
    found = (by,) if isinstance(by, str) else tuple(by)
    if len(found) > 2 or len(set(found)) != len(found):
        raise InvalidQueryError(f"group by at most two different things, not {by!r}")
    for name in found:
        if name not in GROUPINGS:
            raise InvalidQueryError(f"cannot group by {name!r}; choose from {', '.join(GROUPINGS)}")
    return found


def _bound(value: Any, name: str, *, end_of_day: bool) -> float | None:
    """Epoch seconds of a date or datetime (naive = UTC); a date ``before`` covers its day."""
    if value is None:
        return None
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
        try:
            return min(max(moment.timestamp(), _EARLIEST), _LATEST)
        except (OverflowError, ValueError):  # an offset pushes it past year 1 or 9999
            return _EARLIEST if moment.year < 5000 else _LATEST
    if isinstance(value, date):
        start = datetime.combine(value, time(), tzinfo=timezone.utc)
        if end_of_day:
            return min(start.timestamp() + timedelta(days=1).total_seconds() - 1e-6, _LATEST)
        return start.timestamp()
    raise InvalidQueryError(f"{name} must be a date or datetime, not {type(value).__name__}")


def _cost(value: Any, name: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidQueryError(f"{name} must be a number, not {type(value).__name__}")
    if not math.isfinite(value) or value < 0:
        raise InvalidQueryError(f"{name} must be a finite number >= 0, not {value!r}")
    return float(value)


def _text(value: Any, name: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidQueryError(f"{name} must be a string, not {type(value).__name__}")
    if not value.strip():
        raise InvalidQueryError(f"{name} cannot be empty")
    return value.strip()


def _tags(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, Iterable):
        raise InvalidQueryError(f"tags must be a list of strings, not {type(value).__name__}")
    tags: list[str] = []
    for tag in value:
        if not isinstance(tag, str):
            raise InvalidQueryError(f"a tag is a string, not {type(tag).__name__}")
        if tag.strip() and tag.strip() not in tags:
            tags.append(tag.strip())
    return tuple(tags)


def _count(value: Any, name: str, *, allow_none: bool) -> int | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        wanted = "None or an integer >= 0" if allow_none else "an integer >= 0"
        raise InvalidQueryError(f"{name} must be {wanted}, not {value!r}")
    if value > MAX_INTEGER:
        raise InvalidQueryError(f"{name} must be at most {MAX_INTEGER}, not {value}")
    return value


def build_criteria(
    *,
    tags: Any = None,
    match_all_tags: Any = False,
    after: Any = None,
    before: Any = None,
    min_cost: Any = None,
    max_cost: Any = None,
    model: Any = None,
    project: Any = None,
    forked_from: Any = None,
    text: Any = None,
    limit: Any = None,
    offset: Any = 0,
    cursor: Any = None,
    trashed: bool = False,
    order: Any = "updated",
) -> Criteria:
    if not isinstance(match_all_tags, bool):
        raise InvalidQueryError("match_all_tags must be True or False")
    low = _bound(after, "after", end_of_day=False)
    high = _bound(before, "before", end_of_day=True)
    if low is not None and high is not None and low > high:
        raise InvalidQueryError(f"after ({after}) is later than before ({before})")
    cheap = _cost(min_cost, "min_cost")
    dear = _cost(max_cost, "max_cost")
    if cheap is not None and dear is not None and cheap > dear:
        raise InvalidQueryError(f"min_cost ({min_cost}) is greater than max_cost ({max_cost})")
    words = _text(text, "text")
    parsed = text_query.parse(words) if words is not None else None
    position: Cursor | None = None
    if cursor is not None:
        if not isinstance(cursor, str):
            raise InvalidQueryError(f"cursor must be a string, not {type(cursor).__name__}")
        position = Cursor.decode(cursor)
        if position.ranked != (parsed is not None):
            raise InvalidQueryError("this page cursor belongs to a different search")
    if order not in ("updated", "cost"):
        raise InvalidQueryError(f"order must be 'updated' or 'cost', not {order!r}")
    if order == "cost" and (words is not None or cursor is not None):
        raise InvalidQueryError("order='cost' goes with neither a text search nor a cursor")
    skip = _count(offset, "offset", allow_none=False)
    assert skip is not None
    if position is not None and skip:
        raise InvalidQueryError("give a cursor or an offset, not both")
    return Criteria(
        tags=_tags(tags),
        match_all_tags=match_all_tags,
        after=low,
        before=high,
        min_cost=cheap,
        max_cost=dear,
        model=_text(model, "model"),
        project=_text(project, "project"),
        forked_from=_text(forked_from, "forked_from"),
        text=parsed,
        text_source=words,
        limit=_count(limit, "limit", allow_none=True),
        offset=skip,
        cursor=position,
        trashed=trashed,
        by_cost=order == "cost",
    )
