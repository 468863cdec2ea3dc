"""5-hour usage blocks (``stats --by block``, the usage page, ``active_block``): built from
the stored requests' own times, with boundaries, gaps and the active block's burn rate
checked against figures worked out by hand."""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from claude_sessions import SessionStore
from claude_sessions.cli import cli
from claude_sessions.importer import import_transcripts
from claude_sessions.model.filters import SessionFilter
from claude_sessions.views.blocks import active_block, usage_blocks
from claude_sessions.web.app import create_app

FIXTURES = Path(__file__).parent / "fixtures" / "transcripts"
# Sonnet 4.5: $3 per million tokens in, $15 out; each request below reads 1,000 tokens
# and writes 100: 0.003 + 0.0015.
REQUEST_COST = 0.0045
DAY = datetime(2026, 3, 2, tzinfo=timezone.utc).timestamp()  # a Monday, 00:00 UTC
HOUR = 3600.0


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def timed_requests(
    session_id: str,
    times: list[float],
    *,
    started: float | None = None,
    tokens: tuple[int, int] = (1000, 100),
) -> list[dict[str, Any]]:
    """One prompt (at ``started``, else a second before the first request), then one API
    request to Sonnet 4.5 at each time, with ``tokens`` in and out."""
    entries: list[dict[str, Any]] = [
        {
            "type": "user",
            "uuid": f"{session_id}-u",
            "sessionId": session_id,
            "timestamp": _iso(times[0] - 1 if started is None else started),
            "message": {"role": "user", "content": "go"},
        }
    ]
    for n, moment in enumerate(times):
        entries.append(
            {
                "type": "assistant",
                "uuid": f"{session_id}-a{n}",
                "sessionId": session_id,
                "requestId": f"req-{session_id}-{n}",
                "timestamp": _iso(moment),
                "message": {
                    "id": f"msg-{session_id}-{n}",
                    "role": "assistant",
                    "model": "claude-sonnet-4-5",
                    "content": [{"type": "text", "text": "ok"}],
                    "usage": {"input_tokens": tokens[0], "output_tokens": tokens[1]},
                },
            }
        )
    return entries


# Two sessions interleaved. Block 1 starts at 09:00 (first request 09:20) and holds the
# requests up to its end at 14:00, 14:00 itself included; 14:30 starts block 2 at 14:00.
# After 18:00 comes a gap of over five hours: 23:10 starts block 3 at 23:00.
FIRST = [DAY + 9 * HOUR + 20 * 60, DAY + 11 * HOUR, DAY + 14 * HOUR]
SECOND = [DAY + 10 * HOUR, DAY + 14 * HOUR + 30 * 60, DAY + 18 * HOUR, DAY + 23 * HOUR + 600]


@pytest.fixture
def timed(store: SessionStore) -> SessionStore:
    store.append_messages("11111111-1111-4111-8111-111111111111", timed_requests("a", FIRST))
    store.append_messages("22222222-2222-4222-8222-222222222222", timed_requests("b", SECOND))
    return store


def test_blocks_start_at_the_hour_last_five_hours_and_restart_after_a_gap(
    timed: SessionStore,
) -> None:
    now = DAY + 2 * 24 * HOUR  # long after: nothing is active
    blocks = usage_blocks(timed, now=now)
    found = [
        (b.start - DAY, b.first_request - DAY, b.last_request - DAY, b.turns, b.sessions)
        for b in reversed(blocks)
    ]
    assert found == [
        (9 * HOUR, 9 * HOUR + 1200, 14 * HOUR, 4, 2),
        (14 * HOUR, 14 * HOUR + 1800, 18 * HOUR, 2, 1),
        (23 * HOUR, 23 * HOUR + 600, 23 * HOUR + 600, 1, 1),
    ]
    assert [b.cost for b in reversed(blocks)] == pytest.approx(
        [4 * REQUEST_COST, 2 * REQUEST_COST, REQUEST_COST]
    )
    assert [b.input_tokens for b in reversed(blocks)] == [4000, 2000, 1000]
    assert not any(b.active for b in blocks)
    assert active_block(timed, now=now) is None


def test_the_active_block_burns_and_projects(timed: SessionStore) -> None:
    # At 16:00, block 2 (14:00-19:00) holds 14:30 only; at 18:30 it holds 14:30 and 18:00.
    early = active_block(timed, now=DAY + 16 * HOUR)
    assert early is not None
    assert (early.block.start, early.block.turns) == (DAY + 14 * HOUR, 1)
    assert early.seconds_left == 3 * HOUR
    assert early.cost_per_hour is None and early.projected_cost is None
    late = active_block(timed, now=DAY + 18 * HOUR + 1800)
    assert late is not None
    assert late.block.turns == 2 and late.block.cost == pytest.approx(2 * REQUEST_COST)
    assert late.seconds_left == 1800
    # Two requests 3.5 hours apart: the cost per hour, and half an hour more of it.
    rate = 2 * REQUEST_COST / 3.5
    assert late.cost_per_hour == pytest.approx(rate)
    assert late.projected_cost == pytest.approx(2 * REQUEST_COST + rate / 2)
    assert late.tokens_per_hour == pytest.approx(2 * 1100 / 3.5)
    assert late.projected_tokens == round(2 * 1100 + 2 * 1100 / 3.5 / 2)
    # Past 19:00 the block has ended; before 23:10 nothing new has started.
    assert active_block(timed, now=DAY + 20 * HOUR) is None


def test_the_active_block_looks_back_as_far_as_the_blocks_reach(store: SessionStore) -> None:
    """Requests every four hours for four days never leave a five-hour gap: where the
    active block starts depends on the first of them, days before."""
    times = [DAY + n * 4 * HOUR + 900 for n in range(24)]
    store.append_messages("33333333-3333-4333-8333-333333333333", timed_requests("c", times))
    now = times[-1] + 60
    active = active_block(store, now=now)
    every = usage_blocks(store, now=now)
    assert every[0].active and active is not None
    assert active.block.start == every[0].start
    # Blocks: 00:00 (00:15, 04:15), then 08:00 (08:15, 12:15), ...: two requests each.
    assert [b.turns for b in every] == [2] * 12
    assert active.block.start == times[-2] - 900


def test_blocks_follow_the_session_filter(timed: SessionStore) -> None:
    """Each session alone makes other blocks: session b's 14:30 now lies within 4.5 hours
    of its block's start at 10:00."""
    later = DAY + 3 * 24 * HOUR
    only_a = SessionFilter(max_cost=3.5 * REQUEST_COST)  # a made 3 requests, b 4
    blocks = usage_blocks(timed, only_a, now=later)
    assert [(b.start - DAY, b.turns) for b in blocks] == [(9 * HOUR, 3)]
    only_b = SessionFilter(min_cost=3.5 * REQUEST_COST)
    blocks = usage_blocks(timed, only_b, now=later)
    assert [(b.start - DAY, b.turns) for b in reversed(blocks)] == [
        (10 * HOUR, 2),
        (18 * HOUR, 1),
        (23 * HOUR, 1),
    ]


def test_stats_by_block_totals_equal_the_stats_totals(store_location: str, tmp_path: Path) -> None:
    root = tmp_path / "config"
    shutil.copytree(FIXTURES / "projects", root / "projects")
    with SessionStore(store_location, cleanup_after_days=None) as store:
        assert import_transcripts(store, [root]).errors == []
    runner = CliRunner()
    args = ["stats", "--store", store_location, "--json"]
    whole = json.loads(runner.invoke(cli, args).output)
    shown = runner.invoke(cli, [*args, "--by", "block"])
    assert shown.exit_code == 0, shown.output
    blocks = json.loads(shown.output)["by"]["block"]
    assert len(blocks) > 1
    assert sum(b["cost"] for b in blocks) == pytest.approx(whole["total_cost"], abs=1e-9)
    for name in ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_1h_tokens"):
        assert sum(b[name] for b in blocks) == whole[name], name
    starts = [b["start"] for b in blocks]
    assert starts == sorted(starts, reverse=True)
    assert all(b["start"].endswith(":00:00+00:00") for b in blocks)
    table = runner.invoke(cli, ["stats", "--store", store_location, "--by", "block"])
    assert table.exit_code == 0 and "By block" in table.output
    assert ("Active block since" in table.output) != ("No active block" in table.output)


def test_the_usage_page_shows_the_blocks_and_the_active_one(timed: SessionStore) -> None:
    now = datetime.now(timezone.utc).timestamp()
    timed.append_messages(
        "44444444-4444-4444-8444-444444444444", timed_requests("d", [now - 2 * HOUR, now - HOUR])
    )
    with TestClient(create_app(timed)) as client:
        html = client.get("/usage", params={"last": "all"}).text
    assert "By block" in html
    assert "Active 5-hour block since" in html
    start = datetime.fromtimestamp(now - 2 * HOUR, tz=timezone.utc)
    assert start.strftime("%Y-%m-%d %H:00 UTC") in html
