"""``compute_stats``: the totals agree whatever the breakdowns; unpriced sessions are named."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from claude_sessions.views.stats import compute_stats

from .store_samples import run


@pytest.fixture
def mixed(store_factory, fake_clock):
    store = store_factory(clock=fake_clock)
    plan = [
        ("a", datetime(2026, 3, 1, 10), "claude-sonnet-4-5", ["x"], "/p1"),
        ("b", datetime(2026, 3, 2, 10), "claude-sonnet-4-5", ["x", "y"], "/p2"),
        ("c", datetime(2026, 3, 9, 1), "claude-unreleased-9", [], "/p1"),  # no price known
    ]
    for sid, moment, model, tags, cwd in plan:
        fake_clock.now = moment.replace(tzinfo=timezone.utc)
        store.save_session(sid, run(sid, model=model, cwd=cwd), tags=tags)
    return store


@pytest.mark.parametrize(
    "by", [(), ("day",), ("model",), ("project",), ("tag",), ("week", "tag", "model", "project")]
)
def test_totals_are_the_same_whatever_the_breakdown(mixed, by):
    stats = compute_stats(mixed, by=by)
    assert (stats.sessions, stats.turns, stats.input_tokens, stats.output_tokens) == (3, 3, 30, 15)
    assert stats.unpriced_sessions == 1
    assert stats.total_cost == pytest.approx(
        sum(m.total_cost for m in mixed.list_sessions()), abs=1e-9
    )
    assert list(stats.by) == list(by)


def test_breakdowns(mixed):
    stats = compute_stats(mixed, by=("tag", "model", "project", "week"))
    assert {b.key: b.sessions for b in stats.by["tag"]} == {"x": 2, "y": 1, "(none)": 1}
    models = {b.key: (b.sessions, b.unpriced_sessions) for b in stats.by["model"]}
    assert models == {"claude-sonnet-4-5": (2, 0), "claude-unreleased-9": (1, 1)}
    assert {b.key: b.sessions for b in stats.by["project"]} == {"/p1": 2, "/p2": 1}
    # Weeks start on Monday: 1 March 2026 is a Sunday.
    assert [b.key for b in stats.by["week"]] == ["2026-03-09", "2026-03-02", "2026-02-23"]
    costs = [m.total_cost for m in stats.top]
    assert len(costs) == 3 and costs == sorted(costs, reverse=True)
