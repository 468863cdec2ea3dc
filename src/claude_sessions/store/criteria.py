"""Search and listing criteria: checked and turned into a backend :class:`Query`.

Every mistake becomes :class:`InvalidQueryError` (a ``ValueError``) here,
before any SQL runs.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from ..exceptions import InvalidQueryError
from .backend import Query


def _bound(value: Any, name: str, *, end_of_day: bool) -> float | None:
    """Epoch seconds of a date or datetime (naive = UTC); a date ``before`` covers its day."""
    if value is None:
        return None
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
        return moment.timestamp()
    if isinstance(value, date):
        start = datetime.combine(value, time(), tzinfo=timezone.utc)
        if end_of_day:
            return (start + timedelta(days=1)).timestamp() - 1e-6
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


def page(limit: Any, offset: Any) -> tuple[int | None, int]:
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
        raise InvalidQueryError(f"limit must be None or an integer >= 0, not {limit!r}")
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise InvalidQueryError(f"offset must be an integer >= 0, not {offset!r}")
    return limit, offset


def build_query(
    *,
    tags: Any = None,
    match_all_tags: Any = False,
    after: Any = None,
    before: Any = None,
    min_cost: Any = None,
    max_cost: Any = None,
    model: Any = None,
    project: Any = None,
    text: Any = None,
    limit: Any = None,
    offset: Any = 0,
) -> Query:
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
    size, skip = page(limit, offset)
    return Query(
        tags=_tags(tags),
        match_all_tags=match_all_tags,
        after=low,
        before=high,
        min_cost=cheap,
        max_cost=dear,
        model=_text(model, "model"),
        project=_text(project, "project"),
        text=_text(text, "text"),
        limit=size,
        offset=skip,
    )
