"""The usage sums kept per day and group always equal a recount from the sessions, after
any sequence of writes (saves, appends, forks, tags, trash, restore, deletes, purges,
project moves, redactions), on both databases; usage reports read them and agree with the recount;
an older store gets them filled on upgrade. The sums by hour too (spend by the requests'
own times, sessions by the hour they were created in), against a recount from the raw
session and request rows, and the spend and hour-of-week grid read from them."""

from __future__ import annotations

import math
import shutil
from collections import defaultdict
from contextlib import suppress
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from claude_sessions import SessionFilter, SessionStore
from claude_sessions.importer import import_transcripts
from claude_sessions.model.exceptions import ClaudeSessionsError
from claude_sessions.store.plan import Stmt, Txn, single
from claude_sessions.store.project_moves import move_project
from claude_sessions.store.redacting import redact_stored

from .older_store import (
    set_back,
    undo_coarse_usage_sums,
    undo_usage_hours,
    undo_usage_rollups,
)
from .secret_samples import planted
from .store_samples import run

MODELS = ("claude-sonnet-4-5-20250929", "claude-opus-4-1-20250805", "claude-haiku-4-5-20251001")
TAGS = ("auth", "api", "ui")
PROJECTS = ("/work/a", "/work/b")
SUMS = ("sessions", "messages", "turns", "cost", "input", "output", "unpriced", "cache")
GROUPINGS = (
    (),
    ("day",),
    ("month",),
    ("model",),
    ("project",),
    ("tag",),
    ("user",),
    ("machine",),
    ("day", "model"),
    ("week", "tag"),
    ("model", "project"),
    ("tag", "model"),
    ("tag", "user"),
)
FILTERS: tuple[dict[str, Any], ...] = (
    {},
    {"tags": ["auth"]},
    {"tags": ["auth", "api"], "match_all_tags": True},
    {"tags": ["api"], "match_all_tags": True},
    {"tags": ["ui"], "user": "nobody"},
    {"project": "/work/a"},
    {"after": date(2000, 1, 1)},
    {"after": date(2100, 1, 1)},
)


def _all(store: SessionStore, sql: str) -> list[Any]:
    return store.run(single(Txn(lambda: (yield Stmt(sql, (), "all")))))  # type: ignore[misc]


def _period(name: str, epoch: float) -> str:
    day = datetime.fromtimestamp(epoch, timezone.utc).date()
    if name == "day":
        return day.isoformat()
    if name == "month":
        return day.strftime("%Y-%m")
    return (day - timedelta(days=day.weekday())).isoformat()  # a week: its Monday


def recount(store: SessionStore, by: tuple[str, ...], keep: dict[str, Any]) -> dict[Any, Any]:
    """Usage grouped ``by``, counted here from the live sessions' rows and their model rows."""
    d = store.core.d
    sessions = _all(
        store,
        "SELECT s.id, s.created_at, s.model, s.project, s.project_key, s.tags, s.user_name, "
        "s.machine, s.message_count, s.turns, s.requests, s.models_apart, s.total_cost, "
        "s.input_tokens, s.output_tokens, s.unpriced, s.cache_write_5m_tokens, "
        "s.cache_write_1h_tokens, s.cache_read_tokens FROM sessions s WHERE s.trashed_at IS NULL",
    )
    models: dict[int, list[Any]] = defaultdict(list)
    for row in _all(store, "SELECT * FROM session_models"):
        models[int(row["session_ref"])].append(row)
    totals: dict[Any, list[float]] = {}
    for s in sessions:
        epoch, tags = d.epoch(s["created_at"]), d.tags(s["tags"])
        if not _kept(s, epoch, tags, keep):
            continue
        cache = s["cache_write_5m_tokens"] + s["cache_write_1h_tokens"] + s["cache_read_tokens"]
        own = [1, s["message_count"], s["turns"], s["total_cost"], s["input_tokens"]]
        own += [s["output_tokens"], s["unpriced"] is not None, cache]
        shares: list[tuple[str, list[float]]] = [(s["model"] or "(none)", own)]
        if "model" in by:
            own = [*own[:2], s["requests"], *own[3:]]
            shares = [(s["model"] or "(none)", own)]
            if s["models_apart"]:
                shares = [(m["model"] or "(none)", _model_share(s, m)) for m in models[s["id"]]]
        for model, share in shares:
            for key in _keys(by, s, epoch, tags, model):
                sums = totals.setdefault(key, [0] * len(SUMS))
                for position, value in enumerate(share):
                    sums[position] += value
    if not by:  # the totals: one bucket, of nothing when no session counts
        totals.setdefault((), [0] * len(SUMS))
    return {key: _rounded(sums) for key, sums in totals.items()}


def _kept(s: Any, epoch: float, tags: tuple[str, ...], keep: dict[str, Any]) -> bool:
    if "tags" in keep:
        wanted = set(keep["tags"])
        if not (wanted <= set(tags) if keep.get("match_all_tags") else wanted & set(tags)):
            return False
    if "project" in keep and keep["project"] not in (s["project"], s["project_key"]):
        return False
    if "user" in keep and keep["user"] != s["user_name"]:
        return False
    if "after" in keep:
        start = datetime.combine(keep["after"], datetime.min.time(), timezone.utc).timestamp()
        return epoch >= start
    return True


def _model_share(s: Any, m: Any) -> list[float]:
    cache = m["cache_write_5m_tokens"] + m["cache_write_1h_tokens"] + m["cache_read_tokens"]
    return [
        1,
        s["message_count"],
        m["requests"],
        m["cost"],
        m["input_tokens"] + cache,
        m["output_tokens"],
        m["unpriced_requests"] != 0,
        cache,
    ]


def _keys(
    by: tuple[str, ...], s: Any, epoch: float, tags: tuple[str, ...], model: str
) -> list[tuple[str, ...]]:
    keys: list[tuple[str, ...]] = [()]
    for name in by:
        if name in ("day", "week", "month"):
            choices = [_period(name, epoch)]
        elif name == "tag":
            choices = list(tags) or ["(none)"]
        elif name == "model":
            choices = [model]
        elif name == "project":
            choices = [s["project"] or s["project_key"] or "(none)"]
        else:
            choices = [str(s["user_name" if name == "user" else "machine"])]
        keys = [(*key, choice) for key in keys for choice in choices]
    return keys


def _rounded(sums: list[float]) -> tuple[Any, ...]:
    return tuple(float(value) if n == 3 else int(value) for n, value in enumerate(sums))


def same(found: dict[Any, Any], counted: dict[Any, Any]) -> bool:
    """The same groups with the same counts, and costs equal but for the last bits of a
    float (a sum kept by adding and taking out is not added in the recount's order)."""
    return found.keys() == counted.keys() and all(
        len(found[key]) == len(counted[key])
        and all(
            math.isclose(a, b, abs_tol=1e-9) if isinstance(a, float) else a == b
            for a, b in zip(found[key], counted[key], strict=True)
        )
        for key in found
    )


def reported(store: SessionStore, by: tuple[str, ...], keep: dict[str, Any]) -> dict[Any, Any]:
    found = {}
    for b in store.usage(by, **keep):
        cache = b.cache_write_5m_tokens + b.cache_write_1h_tokens + b.cache_read_tokens
        sums = [b.sessions, b.messages, b.turns, b.cost, b.input_tokens, b.output_tokens]
        found[b.key] = _rounded([*sums, b.unpriced_sessions, cache])
    return found


def assert_reports_equal_a_recount(store: SessionStore) -> None:
    for keep in FILTERS:
        for by in GROUPINGS:
            found, counted = reported(store, by, keep), recount(store, by, keep)
            assert same(found, counted), (by, keep, found, counted)


# Each table of sums, the grouping it keeps beside the day (``''``: none) and that
# group's name in its columns.
KEPT = (
    ("usage_rollup_models", "model", "model"),
    ("usage_rollup_tags", "tag", "tag"),
    ("usage_rollup_day_models", "model", "model"),
    ("usage_rollup_day_totals", "", "''"),
    ("usage_rollup_day_projects", "project", "coalesce(nullif(project, ''), project_key)"),
)


def kept_sums(store: SessionStore) -> dict[Any, Any]:
    """What the store's sums hold by model and day, by tag and day, and by day alone,
    read from their own tables."""
    found: dict[Any, Any] = {}
    for table, _, name in KEPT:
        rows = _all(
            store,
            f"SELECT day, {name} AS name, sum(sessions) AS n, sum(cost) AS cost, "
            f"sum(turns) AS turns, sum(output_tokens) AS output FROM {table} "
            "WHERE sessions <> 0 GROUP BY 1, 2",
        )
        for r in rows:
            sums = (int(r["n"]), float(r["cost"]), int(r["turns"]), int(r["output"]))
            found[table, int(r["day"]), r["name"] or "(none)"] = sums
    return found


def counted_sums(store: SessionStore) -> dict[Any, Any]:
    found = {}
    for table, column, _ in KEPT:
        for key, sums in recount(store, ("day", column) if column else ("day",), {}).items():
            day = (date.fromisoformat(key[0]) - date(1970, 1, 1)).days
            name = key[1] if column else "(none)"
            found[table, day, name] = (sums[0], float(sums[3]), sums[2], sums[5])
    return found


def _assistant(n: int, model: str) -> dict[str, Any]:
    return {
        "type": "assistant",
        "uuid": f"appended-{n}",
        "message": {
            "id": f"msg-appended-{n}",
            "model": model,
            "role": "assistant",
            "content": [{"type": "text", "text": "more"}],
            "usage": {"input_tokens": 7 + n, "output_tokens": 3, "cache_read_input_tokens": n},
        },
    }


HOURS_FROM = datetime(2026, 3, 2, 9, 30, tzinfo=timezone.utc)  # a Monday


def _at(hours: int) -> str:
    return (HOURS_FROM + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _timed_run(who: str, model: str, cost: float, hours: tuple[int, ...]) -> list[Any]:
    """A run whose lines were written ``hours`` after HOURS_FROM (its request: the second)."""
    messages = run(who, cost=cost, model=model)
    for message, offset in zip(messages, hours, strict=True):
        message["timestamp"] = _at(offset)
    return messages


def _apply(store: SessionStore, step: tuple[Any, ...], n: int) -> None:
    kind, who = step[0], f"s{step[1]}"
    if kind == "timed":
        store.save_session(who, _timed_run(who, step[2], step[3], step[4]))
    elif kind == "append_at":
        store.append_messages(who, [{**_assistant(n, step[2]), "timestamp": _at(step[3])}])
    elif kind == "save":
        _, _, model, cost, tags, project = step
        store.save_session(who, run(who, cost=cost, model=model, cwd=project), tags=tags)
    elif kind == "append":
        store.append_messages(who, [_assistant(n, step[2])])
    elif kind == "fork":
        fork = f"f{n}"
        store.save_session(fork, run(fork, model=step[2]), forked_from=who, tags=["ui"])
    elif kind == "tag":
        store.add_tags(who, [step[2]])
    elif kind == "untag":
        store.remove_tags(who, [step[2]])
    elif kind == "trash":
        store.trash_session(who)
    elif kind == "restore":
        store.restore_session(who)
    elif kind == "delete":
        store.delete_session(who, purge=step[2])
    elif kind == "move":
        move_project(store, step[1], step[2])
    elif kind == "redact":  # a secret in a reply, replaced in place
        secret = planted()[0].text
        store.save_session(who, run(who, text=f"the key {secret}", model=step[2]), tags=["api"])
        redact_stored(store, [who])


ids = st.integers(0, 4)
steps = st.one_of(
    st.tuples(
        st.just("save"),
        ids,
        st.sampled_from(MODELS),
        st.sampled_from([0.0, 0.01, 0.25, 1.5]),
        st.lists(st.sampled_from(TAGS), unique=True, max_size=2),
        st.sampled_from(PROJECTS),
    ),
    st.tuples(st.sampled_from(["append", "fork"]), ids, st.sampled_from(MODELS)),
    st.tuples(st.sampled_from(["tag", "untag"]), ids, st.sampled_from(TAGS)),
    st.tuples(st.sampled_from(["trash", "restore"]), ids),
    st.tuples(st.just("delete"), ids, st.booleans()),
    st.tuples(st.just("move"), st.sampled_from(PROJECTS), st.sampled_from(PROJECTS)),
    st.tuples(st.just("redact"), ids, st.sampled_from(MODELS)),
    st.tuples(
        st.just("timed"),
        ids,
        st.sampled_from(MODELS),
        st.sampled_from([0.0, 0.25, 1.5]),
        st.tuples(*[st.integers(0, 50)] * 3),
    ),
    st.tuples(st.just("append_at"), ids, st.sampled_from(MODELS), st.integers(0, 50)),
)


def _epoch(value: Any) -> float:
    """A time as each database returns it (PostgreSQL: a datetime)."""
    return value.timestamp() if isinstance(value, datetime) else float(value)


def raw_rows(store: SessionStore) -> tuple[dict[int, tuple[float, float]], list[Any]]:
    """The live sessions (created, total cost) by row, and every timed request (its
    session's row, time, cost), read from their own tables."""
    live = {
        int(r["id"]): (_epoch(r["created_at"]), float(r["total_cost"]))
        for r in _all(
            store, "SELECT id, created_at, total_cost FROM sessions WHERE trashed_at IS NULL"
        )
    }
    requests = [
        (int(r["session_ref"]), float(r["at"]), r["cost"])
        for r in _all(store, "SELECT session_ref, at, cost FROM api_requests WHERE at IS NOT NULL")
    ]
    return live, requests


def recounted_spend(
    raw: tuple[dict[int, tuple[float, float]], list[Any]], since: float, until: float
) -> float:
    """Each timed request of a live session made in [since, until), and of each live
    session created then, its cost that no timed request carries."""
    live, requests = raw
    spent = sum(c for ref, at, c in requests if ref in live and c and since <= at < until)
    for ref, (created, total) in live.items():
        if since <= created < until:
            spent += total - sum(c for r, _, c in requests if r == ref and c)
    return spent


def assert_hour_sums_equal_a_recount(store: SessionStore) -> None:
    raw = raw_rows(store)
    live, requests = raw
    hours = {int(created // 3600) for created, _ in live.values()}
    hours |= {int(at // 3600) for ref, at, _ in requests if ref in live}
    counted = {}
    for hour in hours:
        sessions = sum(1 for created, _ in live.values() if int(created // 3600) == hour)
        spent = round(recounted_spend(raw, hour * 3600, hour * 3600 + 3600), 9)
        if sessions or spent:
            counted[hour] = (sessions, spent)
    rows = _all(store, "SELECT hour, sessions, spent FROM usage_rollup_hours")
    kept = {int(r["hour"]): (int(r["sessions"]), round(float(r["spent"]), 9)) for r in rows}
    assert {h: v for h, v in kept.items() if v != (0, 0)} == counted
    day = HOURS_FROM.replace(hour=0, minute=0).timestamp()
    ranges = [(day + n * 86400, day + (n + 1) * 86400) for n in range(-1, 4)]
    ranges += [(day + 3600 * 10, day + 3600 * 30), (day + 1800, day + 86400 + 7), (0, 4e9)]
    for since, until in ranges:  # whole days and hours (the sums), and not (the requests)
        found = store.run(store.core.spend(since, until))
        assert found == pytest.approx(recounted_spend(raw, since, until), abs=1e-9)
    grid: dict[str, int] = defaultdict(int)
    for created, _ in live.values():
        grid[datetime.fromtimestamp(created, timezone.utc).strftime("%a %H")] += 1
    assert store.run(store.core.week_hours()) == grid
    after = SessionFilter(after=date(2026, 3, 3))
    later: dict[str, int] = defaultdict(int)
    for created, _ in live.values():
        if created >= datetime(2026, 3, 3, tzinfo=timezone.utc).timestamp():
            later[datetime.fromtimestamp(created, timezone.utc).strftime("%a %H")] += 1
    assert store.run(store.core.week_hours(after)) == later


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(sequence=st.lists(steps, min_size=1, max_size=8))
def test_the_sums_always_equal_a_recount(store: SessionStore, sequence: list[Any]) -> None:
    for n, step in enumerate(sequence):
        with suppress(ClaudeSessionsError):  # a session that is not there, a clash
            _apply(store, step, n)
        assert same(kept_sums(store), counted_sums(store))
        assert_reports_equal_a_recount(store)
        assert_hour_sums_equal_a_recount(store)


def _without_sums(execute: Any, postgres: bool) -> None:
    undo_usage_rollups(execute, postgres=postgres)


def test_an_older_store_gets_its_sums_on_upgrade(store_location: str) -> None:
    with SessionStore(store_location) as opened:
        opened.save_session("a", run("a", cost=0.5), tags=["auth"])
        opened.save_session("b", run("b", cost=0.25, model=MODELS[1]), tags=["api"])
        opened.append_messages("b", [_assistant(1, MODELS[2])])
        opened.save_session("c", run("c", cost=2.0))
        opened.trash_session("c")
    set_back(store_location, sqlite=18, postgres=14, undo=_without_sums)
    with SessionStore(store_location) as opened:
        assert same(kept_sums(opened), counted_sums(opened))
        kept = kept_sums(opened).items()
        by_model = [sums[0] for (table, _, _), sums in kept if table == "usage_rollup_models"]
        assert sum(by_model) == 3  # a, and b under two models
        assert_reports_equal_a_recount(opened)


def test_reports_without_a_place_read_the_sums_by_day_alone(store: SessionStore) -> None:
    store.save_session("a", run("a", cost=0.5, cwd="/work/a"))
    store.save_session("b", run("b", cost=0.25, model=MODELS[1], cwd="/work/b"))
    before = {by: reported(store, by, {}) for by in GROUPINGS}
    # Marked apart: each coarse row's cost up by 1000, so a report shows which sums it read.
    for table in (
        "usage_rollup_day_totals",
        "usage_rollup_day_models",
        "usage_rollup_day_projects",
    ):
        store.run(single(Txn(lambda t=table: (yield Stmt(f"UPDATE {t} SET cost = cost + 1000")))))
    for by in GROUPINGS:
        after = reported(store, by, {})
        finer = {"user", "machine", "tag"} & set(by) or {"project", "model"} <= set(by)
        costs = sum(sums[3] for sums in after.values()) - sum(s[3] for s in before[by].values())
        # one day: the day's row, or each model's or project's row of it, marked
        assert costs == pytest.approx(0 if finer else 1000 * len(after)), by
    one = {"project": "/work/a"}  # a project filter: by day and project, or with models
    cost = recount(store, (), one)[()][3]
    assert reported(store, (), one)[()][3] == pytest.approx(cost + 1000)
    assert sum(s[3] for s in reported(store, ("model",), one).values()) == pytest.approx(cost)


def _without_coarse_sums(execute: Any, postgres: bool) -> None:
    undo_coarse_usage_sums(execute, postgres=postgres)


def test_an_older_store_gets_its_sums_by_day_alone_on_upgrade(store_location: str) -> None:
    with SessionStore(store_location) as opened:
        opened.save_session("a", run("a", cost=0.5), tags=["auth"])
        opened.save_session("b", run("b", cost=0.25, model=MODELS[1]), tags=["api"])
        opened.append_messages("b", [_assistant(1, MODELS[2])])
        opened.save_session("c", run("c", cost=2.0))
        opened.trash_session("c")
    set_back(store_location, sqlite=25, postgres=22, undo=_without_coarse_sums)
    with SessionStore(store_location) as opened:
        assert same(kept_sums(opened), counted_sums(opened))
        kept = kept_sums(opened).items()
        by_day = [sums[0] for (table, _, _), sums in kept if table == "usage_rollup_day_totals"]
        assert by_day == [2]  # a and b, one day
        assert_reports_equal_a_recount(opened)
        opened.restore_session("c")  # and the triggers keep them from then on
        opened.append_messages("a", [_assistant(2, MODELS[1])])
        assert same(kept_sums(opened), counted_sums(opened))
        assert_reports_equal_a_recount(opened)


def _without_hour_sums(execute: Any, postgres: bool) -> None:
    undo_usage_hours(execute, postgres=postgres)


def test_an_older_store_gets_its_hour_sums_on_upgrade(store_location: str) -> None:
    with SessionStore(store_location) as opened:
        opened.save_session("a", _timed_run("a", MODELS[0], 0.5, (0, 3, 4)))
        opened.save_session("b", _timed_run("b", MODELS[1], 0.25, (30, 30, 31)))
        opened.append_messages("b", [{**_assistant(1, MODELS[2]), "timestamp": _at(40)}])
        opened.save_session("c", _timed_run("c", MODELS[0], 2.0, (1, 2, 2)))
        opened.trash_session("c")
    # the previous release's last versions: every step after them must still run
    set_back(store_location, sqlite=23, postgres=20, undo=_without_hour_sums)
    with SessionStore(store_location) as opened:
        assert _all(opened, "SELECT count(*) AS n FROM usage_rollup_hours")[0]["n"] >= 4
        assert_hour_sums_equal_a_recount(opened)
        opened.delete_session("a", purge=True)  # and they are kept from then on
        assert_hour_sums_equal_a_recount(opened)


def test_an_import_of_real_transcripts_keeps_its_sums(
    store: SessionStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    root = tmp_path / "config"
    shutil.copytree(
        Path(__file__).parent / "fixtures" / "transcripts" / "projects", root / "projects"
    )
    report = import_transcripts(store, [root])
    assert report.sessions_new > 0
    assert same(kept_sums(store), counted_sums(store))
    assert_reports_equal_a_recount(store)
    store.trash_session(store.search(limit=1)[0].session_id)
    assert same(kept_sums(store), counted_sums(store))
    assert_reports_equal_a_recount(store)
