"""Search and listing criteria, checked once and turned into :class:`Criteria`.

Which sessions is a :class:`~claude_sessions.model.filters.SessionFilter`,
checked when it is made; here the rest: the page (limit, offset, a keyset
cursor that must be ours), the order, the trash. Every mistake becomes
:class:`InvalidQueryError` (a ``ValueError``) before any SQL runs.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from claude_sessions.model.exceptions import InvalidQueryError
from claude_sessions.model.filters import SessionFilter, specs

if TYPE_CHECKING:
    from claude_sessions.model import text_query

# The largest integer SQLite and PostgreSQL (bigint) can hold.
MAX_INTEGER = 2**63 - 1


# A newest-first text search's sort values lie at or below minus this; ranks (bm25,
# -ts_rank: small negative numbers; tool text scores in (0, 1]) lie far above it.
NEWEST_BELOW_RANKS = 2**40


@dataclass(frozen=True)
class Cursor:
    """Where a page ends, for keyset paging: the sort value and the row of its last session.

    The sort value is ``updated_at`` (epoch seconds, newest first) for a
    listing and the rank (lower first) for a full-text search; a full-text search
    answered newest first (its words are common) has values at or below
    ``-NEWEST_BELOW_RANKS``, so its later pages go the same way.
    """

    ranked: bool
    value: float | int
    ref: int

    @property
    def newest_first(self) -> bool:
        """Whether the page's full-text search went newest first, not ranked."""
        return self.value <= -NEWEST_BELOW_RANKS

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
    """A checked search or listing: which sessions (``where``), which page, in what order."""

    where: SessionFilter = field(default_factory=SessionFilter)
    limit: int | None = None
    offset: int = 0
    cursor: Cursor | None = None
    trashed: bool = False
    by_cost: bool = False
    visible_to: str | None = None  # only what a viewer sees (see store.visibility)

    @property
    def text(self) -> text_query.Node | None:
        return self.where.parsed_text


def session_filter(where: SessionFilter | None, criteria: Mapping[str, Any]) -> SessionFilter:
    """``where`` narrowed further by keyword ``criteria`` (the filters' field names)."""
    unknown = set(criteria) - set(specs())
    if unknown:
        raise InvalidQueryError(
            f"unknown filter {sorted(unknown)[0]!r}; the filters are {', '.join(specs())}"
        )
    if where is None:
        return SessionFilter(**criteria)
    if not isinstance(where, SessionFilter):
        raise InvalidQueryError(f"where must be a SessionFilter, not {type(where).__name__}")
    return replace(where, **criteria) if criteria else where


PERIODS = ("day", "week", "month")
GROUPINGS = (*PERIODS, "hour", "model", "project", "tag", "user", "machine")
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def period_key(period: str, day: int) -> str:
    """The key of the period holding UTC day ``day`` (days since 1970-01-01):
    ``2026-03-01``, the Monday of its week, or ``2026-03``."""
    moment = date(1970, 1, 1) + timedelta(days=day)
    if period == "week":
        moment -= timedelta(days=moment.weekday())
    return moment.strftime("%Y-%m") if period == "month" else moment.isoformat()


def hour_key(hour: int) -> str:
    """The key of hour ``hour`` of the week (counted from Thursday 00:00 UTC, as
    1970-01-01 began, or any hour since then): its weekday and hour, ``Mon 09``."""
    return f"{WEEKDAYS[(hour // 24 + 3) % 7]} {hour % 24:02d}"


def check_grouping(by: Any) -> tuple[str, ...]:
    """``by`` of ``SessionStore.usage``: one grouping name or a pair of them."""
    found = (by,) if isinstance(by, str) else tuple(by)
    if len(found) > 2 or len(set(found)) != len(found):
        raise InvalidQueryError(f"group by at most two different things, not {by!r}")
    for name in found:
        if name not in GROUPINGS:
            raise InvalidQueryError(f"cannot group by {name!r}; choose from {', '.join(GROUPINGS)}")
    return found


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
    where: SessionFilter,
    *,
    limit: Any = None,
    offset: Any = 0,
    cursor: Any = None,
    trashed: bool = False,
    order: Any = "updated",
) -> Criteria:
    """Paging and order checked, beside the (already checked) filter."""
    position: Cursor | None = None
    if cursor is not None:
        if not isinstance(cursor, str):
            raise InvalidQueryError(f"cursor must be a string, not {type(cursor).__name__}")
        position = Cursor.decode(cursor)
        if position.ranked != (where.text is not None):
            raise InvalidQueryError("this page cursor belongs to a different search")
    if order not in ("updated", "cost"):
        raise InvalidQueryError(f"order must be 'updated' or 'cost', not {order!r}")
    if order == "cost" and (where.text is not None or cursor is not None):
        raise InvalidQueryError("order='cost' goes with neither a text search nor a cursor")
    skip = _count(offset, "offset", allow_none=False)
    assert skip is not None
    if position is not None and skip:
        raise InvalidQueryError("give a cursor or an offset, not both")
    return Criteria(
        where=where,
        limit=_count(limit, "limit", allow_none=True),
        offset=skip,
        cursor=position,
        trashed=trashed,
        by_cost=order == "cost",
    )
