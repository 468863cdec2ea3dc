"""Dates and ages as people type them, for every face: ``2026-01-31``, an ISO time, ``7d``."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

_AGE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$", re.IGNORECASE)
_AGE_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 7 * 86400.0, "": 86400.0}
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_age(text: str) -> timedelta:
    """``30d``, ``12h``, ``2w``, ``90m``, ``45s`` (a bare number is days)."""
    match = _AGE_RE.match(text)
    if match is None:
        raise ValueError(f"not an age: {text!r} (use e.g. 30d, 12h, 2w)")
    try:
        return timedelta(seconds=float(match.group(1)) * _AGE_UNITS[match.group(2).lower()])
    except OverflowError:
        raise ValueError(f"age too large: {text!r}") from None


def parse_when(text: str, *, now: datetime | None = None) -> date | datetime:
    """``YYYY-MM-DD`` (a date), an ISO 8601 datetime (naive is UTC), or an age ago (``7d``)."""
    value = text.strip()
    if _DATE_RE.match(value):
        return date.fromisoformat(value)
    if _AGE_RE.match(value):
        try:
            return (now or datetime.now(timezone.utc)) - parse_age(value)
        except OverflowError:
            raise ValueError(f"{text!r} reaches back before the year 1") from None
    iso = value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        raise ValueError(
            f"not a date, datetime or age: {text!r} (use 2026-01-31, 2026-01-31T12:00, or 7d)"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
