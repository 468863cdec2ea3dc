"""Budgets kept in the store, spend against each, and where they show (both databases)."""

from __future__ import annotations

import io
import json
import math
import sqlite3
from datetime import datetime, timezone

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from claude_sessions import InvalidInputError, SessionStore
from claude_sessions.capture import hooks
from claude_sessions.cli import cli
from claude_sessions.store.budgets import Budgets
from claude_sessions.views import budgets
from claude_sessions.web import create_app

from .older_store import undo_request_figures
from .store_fixtures import BACKENDS
from .store_samples import run

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=timezone.utc)


def test_budgets_are_kept_merged_and_cleared(store_factory, tmp_path):
    store = store_factory(location=tmp_path / "kept")
    assert budgets.read_budgets(store) == Budgets()
    budgets.set_budgets(store, daily=5)
    done = budgets.set_budgets(store, monthly=100.5)  # the daily one stays
    assert done == Budgets(daily=5.0, monthly=100.5)
    again = store_factory(location=tmp_path / "kept")  # another connection reads them
    assert budgets.read_budgets(again) == Budgets(daily=5.0, monthly=100.5)
    budgets.set_budgets(again, daily=7, block=20)
    assert budgets.read_budgets(store) == Budgets(daily=7.0, monthly=100.5, block=20.0)
    assert budgets.clear_budgets(store) == 3
    assert budgets.read_budgets(again) == Budgets()


@pytest.mark.parametrize("bad", [0, -1, math.nan, math.inf, "5", True])
def test_a_budget_is_a_positive_number(store, bad):
    budgets.set_budgets(store, daily=2)
    with pytest.raises(InvalidInputError):
        budgets.set_budgets(store, monthly=bad)
    assert budgets.read_budgets(store) == Budgets(daily=2.0)


@pytest.fixture
def spending(store_factory, fake_clock):
    """Sessions created last month, earlier this month, earlier today and today (UTC)."""
    store = store_factory(clock=fake_clock)
    for sid, moment, cost in [
        ("feb", datetime(2026, 2, 28, 23, 59), 7.0),
        ("mar1", datetime(2026, 3, 1, 0, 0), 1.0),
        ("yesterday", datetime(2026, 3, 14, 23, 59), 0.25),
        ("morning", datetime(2026, 3, 15, 0, 0), 2.0),
        ("noon", datetime(2026, 3, 15, 11, 0), 0.5),
    ]:
        fake_clock.now = moment.replace(tzinfo=timezone.utc)
        store.save_session(sid, run(sid, cost=cost))
    return store


def test_spend_is_counted_for_today_and_this_month(spending):
    budgets.set_budgets(spending, daily=3, monthly=3.75, block=10)
    found = {s.kind: s for s in budgets.budget_status(spending, now=NOW)}
    today, month = 2.0 + 0.5, 1.0 + 0.25 + 2.0 + 0.5
    assert found["daily"].spent == pytest.approx(today)
    assert found["daily"].level == "near"  # 83%
    assert found["monthly"].spent == pytest.approx(month)
    assert found["monthly"].level == "over"  # 100%
    # The block counts API requests by their own cost: these runs' replies carry no usage
    # (only their results' totals), so no request falls in the block.
    assert found["block"].spent == 0.0 and found["block"].level == "ok"
    unknown = budgets.BudgetState("block", 10.0, None)
    assert unknown.level == "unknown" and "not known yet" in unknown.describe()
    with_block = {
        s.kind: s for s in budgets.budget_status(spending, now=NOW, counted={"block": 9.5})
    }
    assert with_block["block"].level == "near" and with_block["block"].share == 0.95
    assert "OVER BUDGET" in found["monthly"].describe()
    assert "$2.50 of $3.00 spent today (83%, past 80%)" in found["daily"].describe()


def test_no_budget_no_status(spending):
    assert budgets.budget_status(spending, now=NOW) == []


def _rewind_sqlite(location: str) -> None:
    with sqlite3.connect(f"{location}/sessions.db") as db:
        undo_request_figures(db.execute, postgres=False)
        db.execute("DROP TABLE budgets")
        db.execute("PRAGMA user_version = 9")


def _rewind_postgres(location: str) -> None:
    import psycopg

    with psycopg.connect(location, autocommit=True) as conn:
        conn.execute("SET search_path TO claude_sessions")
        undo_request_figures(conn.execute, postgres=True)
        conn.execute("DROP TABLE budgets")
        conn.execute("UPDATE store_meta SET value = '5' WHERE key = 'schema_version'")


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_older_store_gains_budgets(backend, request, tmp_path):
    if backend == "sqlite":
        location, rewind = str(tmp_path / "old"), _rewind_sqlite
    else:
        location, rewind = request.getfixturevalue("postgres_database"), _rewind_postgres
    with SessionStore(location, cleanup_after_days=None) as store:
        store.save_session("kept", run("kept", cost=1.5))
    rewind(location)
    with SessionStore(location, cleanup_after_days=None) as store:
        assert budgets.set_budgets(store, daily=4) == Budgets(daily=4.0)
        assert store.get_metadata("kept").total_cost == 1.5


# -- the command line, stats, the usage page and the capture hook ------------------------


def _cli(store_path, *args):
    return CliRunner().invoke(cli, [*args, "--store", str(store_path)])


def test_budget_commands(tmp_path):
    where = tmp_path / "store"
    done = _cli(where, "budget", "set", "--daily", "5", "--block", "12.5")
    assert done.exit_code == 0, done.output
    assert done.output.splitlines() == ["daily budget: $5.00", "block budget: $12.50"]
    shown = json.loads(_cli(where, "budget", "show", "--json").output)
    assert [(s["kind"], s["limit"], s["spent"]) for s in shown] == [
        ("daily", 5.0, 0.0),
        ("block", 12.5, 0.0),  # no request in the last five hours: no active block
    ]
    assert "daily budget: $0.00 of $5.00 spent today (0%)" in _cli(where, "budget", "show").output
    for refused in (["budget", "set"], ["budget", "set", "--monthly", "-3"]):
        failed = _cli(where, *refused)
        assert failed.exit_code == 2 and failed.output.startswith("Error: ")
    assert _cli(where, "budget", "clear").output == "Removed 2 budget(s).\n"
    assert "No budget set" in _cli(where, "budget", "show").output


def test_stats_show_spend_against_each_budget(tmp_path):
    where = tmp_path / "store"
    with SessionStore(where, cleanup_after_days=None) as store:  # created now: today's
        store.save_session("s1", run("s1", cost=0.9))
        budgets.set_budgets(store, daily=1, monthly=0.5)
    found = json.loads(_cli(where, "stats", "--json").output)["budgets"]
    assert [(s["kind"], s["spent"], s["level"]) for s in found] == [
        ("daily", 0.9, "near"),
        ("monthly", 0.9, "over"),
    ]
    text = _cli(where, "stats").output
    assert "daily budget: $0.90 of $1.00 spent today (90%, past 80%)" in text
    assert "monthly budget: $0.90 of $0.50 spent this month (180%, OVER BUDGET)" in text


def test_the_usage_page_shows_the_budgets(store):
    store.save_session("s1", run("s1", cost=0.3))
    with TestClient(create_app(store)) as client:
        assert "Budgets" not in client.get("/usage").text
        budgets.set_budgets(store, daily=0.2)
        page = client.get("/usage").text
    assert 'class="budget budget-over"' in page
    assert "daily budget: $0.30 of $0.20 spent today (150%, OVER BUDGET)" in page


def _transcript(path, session_id):
    """Two replies written now (a session counts on the day it was created)."""
    stamp = datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    lines = []
    for n in range(2):
        lines.append(
            {
                "type": "assistant",
                "uuid": f"a{n}",
                "parentUuid": None,
                "sessionId": session_id,
                "timestamp": stamp,
                "cwd": "/work",
                "message": {
                    "id": f"msg_{n}",
                    "role": "assistant",
                    "model": "claude-sonnet-4-5",
                    "content": [{"type": "text", "text": "done"}],
                    "usage": {"input_tokens": 100_000, "output_tokens": 20_000},
                },
            }
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))


@pytest.mark.parametrize(
    ("daily", "said"),
    [(1000.0, None), (1.4, "past 80%"), (1.0, "OVER BUDGET")],
)
def test_the_capture_hook_logs_a_budget_past_80_percent(tmp_path, monkeypatch, daily, said):
    """Two Sonnet 4.5 replies of 100k tokens in and 20k out: 2 x ($0.30 + $0.30) = $1.20."""
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "claude"))
    where = tmp_path / "store"
    sid = "11111111-2222-4333-8444-555555555555"
    transcript = tmp_path / "claude" / "projects" / "-work" / f"{sid}.jsonl"
    _transcript(transcript, sid)
    with SessionStore(where, cleanup_after_days=None) as store:
        budgets.set_budgets(store, daily=daily)
    payload = {"session_id": sid, "transcript_path": str(transcript), "hook_event_name": "Stop"}
    hooks.capture(io.StringIO(json.dumps(payload)), where)
    logged = hooks.log_path(where).read_text().splitlines()
    assert "+2 entries" in logged[0]
    if said is None:
        assert len(logged) == 1
        return
    assert len(logged) == 2 and "budget: daily budget: $1.20" in logged[1] and said in logged[1]
    assert logged[1].split(" ", 1)[0] == logged[0].split(" ", 1)[0]  # stamped as the rest
