"""Today's and this month's spend (budgets, the status line) count API requests by their
own time: a session started before midnight that made requests after it spends today.
Days and months are UTC ones, as everywhere else."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import pytest

from claude_sessions import SessionStore
from claude_sessions.capture import status_line
from claude_sessions.views import budgets

from .test_usage_blocks import timed_requests

# Sonnet 4.5: $3 per million tokens in, $15 out; each request reads 100,000 tokens and
# writes 10,000: $0.30 + $0.15.
REQUEST_COST = 0.45
NOW = datetime(2026, 3, 1, 1, 0, tzinfo=timezone.utc)  # a new day and a new month


def _session(session_id: str, started: datetime, requests: list[datetime]) -> list[dict[str, Any]]:
    return timed_requests(
        session_id,
        [moment.timestamp() for moment in requests],
        started=started.timestamp(),
        tokens=(100_000, 10_000),
    )


@pytest.fixture
def across_midnight(store_location: str) -> Iterator[SessionStore]:
    """Session a starts at 23:30 on the last day of February, makes a request at 23:40
    and another at 00:20 on March 1st; session b starts at 00:30 and makes one at 00:40.
    Session c ran on February 27th."""
    yesterday = datetime(2026, 2, 28, tzinfo=timezone.utc)
    today = datetime(2026, 3, 1, tzinfo=timezone.utc)
    store = SessionStore(store_location)
    store.append_messages(
        "a",
        _session(
            "a",
            yesterday.replace(hour=23, minute=30),
            [yesterday.replace(hour=23, minute=40), today.replace(minute=20)],
        ),
    )
    store.append_messages("b", _session("b", today.replace(minute=30), [today.replace(minute=40)]))
    earlier = datetime(2026, 2, 27, 12, tzinfo=timezone.utc)
    store.append_messages("c", _session("c", earlier, [earlier]))
    with store:
        yield store


def test_today_and_this_month_count_requests_by_their_time(across_midnight: SessionStore) -> None:
    budgets.set_budgets(across_midnight, daily=1.0, monthly=10.0)
    found = {s.kind: s for s in budgets.budget_status(across_midnight, now=NOW)}
    # a's 00:20 request and b's 00:40 one; a's 23:40 request was yesterday's.
    assert found["daily"].spent == pytest.approx(2 * REQUEST_COST, abs=1e-9)
    assert found["monthly"].spent == pytest.approx(2 * REQUEST_COST, abs=1e-9)
    assert found["daily"].level == "near"  # 90%
    yesterday = datetime(2026, 2, 28, 12, tzinfo=timezone.utc)
    feb = {s.kind: s for s in budgets.budget_status(across_midnight, now=yesterday)}
    assert feb["daily"].spent == pytest.approx(REQUEST_COST, abs=1e-9)  # only a's 23:40
    assert feb["monthly"].spent == pytest.approx(2 * REQUEST_COST, abs=1e-9)  # and c's


def test_the_status_line_counts_today_by_request_time(
    across_midnight: SessionStore, store_location: str
) -> None:
    line = status_line.render(io.StringIO("{}"), store_location, colour=False, now=NOW)
    assert f"today ${2 * REQUEST_COST:,.2f}" in line
