"""Searches by one tag, and sorting by cost, read indexes that stop at the page's end
(both databases), and return exactly what a straightforward recount of the stored
sessions gives, through writes, tag changes, the trash and an upgrade."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

import pytest

from claude_sessions import SessionFilter
from claude_sessions.store.criteria import build_criteria
from claude_sessions.store.plan import Stmt, Txn, single

from .store_samples import run

TAGS = ["red", "green", "blue"]
START = datetime(2026, 3, 1, tzinfo=timezone.utc)


def _postgres(store: Any) -> bool:
    return "%s" in store.core.d.sql("?")


def _plan(store: Any, where: SessionFilter, **page: Any) -> str:
    """The database's plan of the first statement of this search."""
    stmt = next(store.core.d.search(build_criteria(where, **page)))
    postgres = _postgres(store)

    def explain() -> Any:
        if postgres:  # whether an index can give the order, whatever the table's size
            yield Stmt("SET LOCAL enable_seqscan = off")
            yield Stmt("SET LOCAL enable_sort = off")
        prefix = "EXPLAIN " if postgres else "EXPLAIN QUERY PLAN "
        rows = yield Stmt(prefix + stmt.sql, stmt.params, "all")
        return [row["QUERY PLAN"] if postgres else row["detail"] for row in rows]

    return "\n".join(store.run(single(Txn(explain))))


@pytest.fixture
def tagged(store_factory, fake_clock):
    store = store_factory(clock=fake_clock)
    fake_clock.now = START
    for n in range(12):
        fake_clock.advance(hours=1)
        store.save_session(f"s{n}", run(f"s{n}", cost=n / 10), tags=[TAGS[n % 3]])
    return store


def _page_plan(store: Any, plan: str) -> list[str]:
    """The plan's steps that find the page's ids (the page's few rows are read and put
    in order after them)."""
    lines = plan.splitlines()
    if _postgres(store):  # from the Limit of the page down to the first scan below it
        start = next(n for n, line in enumerate(lines) if "Limit" in line)
        end = next(n for n, line in enumerate(lines) if n > start and "Scan" in line)
        return lines[start : end + 1]
    return lines[lines.index("MATERIALIZE page") + 1 : lines.index("SCAN page")]


def test_one_tag_newest_first_reads_the_tag_index_in_order(tagged):
    plan = _plan(tagged, SessionFilter(tags=["red"]), limit=5)
    page = _page_plan(tagged, plan)
    assert "tags_feed" in page[-1], plan
    assert not [step for step in page if "Sort" in step or "TEMP B-TREE" in step], plan
    if not _postgres(tagged):
        assert "COVERING INDEX" in page[-1], plan


def test_one_tag_with_a_date_and_cost_range_reads_one_covering_index(store_factory, tmp_path):
    store = store_factory(location=tmp_path / "plain")
    where = SessionFilter(tags=["red"], after=date(2026, 3, 1), min_cost=0.5)
    plan = _plan(store, where, limit=5)
    page = _page_plan(store, plan)
    if _postgres(store):  # the planner picks one of the tag indexes by its statistics
        assert "using tags_" in page[-1], plan
    else:
        assert "COVERING INDEX tags_by_created" in page[0], plan


def test_sort_by_cost_walks_the_cost_index(tagged):
    for where in (SessionFilter(), SessionFilter(min_cost=0.2, max_cost=0.8)):
        plan = _plan(tagged, where, limit=5, order="cost")
        assert "sessions_by_cost" in plan, plan
        assert "CTE" not in plan, plan


def _recount(store: Any, where: dict[str, Any]) -> list[str]:
    """The live sessions ``where`` selects, newest first, filtered here in Python."""
    everything = store.search(limit=None)
    after, before = (
        None if where.get(name) is None else datetime.combine(where[name], time(), timezone.utc)
        for name in ("after", "before")
    )
    low, high = where.get("min_cost"), where.get("max_cost")
    chosen = [
        m
        for m in everything
        if set(where["tags"]) & set(m.tags)
        and (after is None or m.created_at >= after)
        and (before is None or m.created_at < before + timedelta(days=1))
        and (low is None or m.total_cost >= low)
        and (high is None or m.total_cost <= high)
        and (where.get("model") is None or m.model == where["model"])
    ]
    chosen.sort(key=lambda m: m.updated_at, reverse=True)
    return [m.session_id for m in chosen]


WHERE = [
    {"tags": ["red"]},
    {"tags": ["green", "green"]},
    {"tags": ["blue"], "after": date(2026, 3, 3)},
    {"tags": ["red"], "min_cost": 0.5, "max_cost": 1.5},
    {"tags": ["red"], "after": date(2026, 3, 2), "before": date(2026, 3, 6), "min_cost": 0.3},
    {"tags": ["green"], "model": "claude-opus-4-1"},
]


def _churn(store: Any, clock: Any, rng: random.Random) -> None:
    """Sessions written, re-tagged, appended to, trashed and restored in random order."""
    for _ in range(40):
        clock.advance(minutes=rng.randint(1, 600))
        sid = f"c{rng.randrange(25)}"
        action = rng.choice(["save", "save", "tag", "untag", "trash", "restore"])
        live = store.get_metadata(sid) is not None
        if action == "restore":
            if not live and sid in {m.session_id for m in store.list_trash()}:
                store.restore_session(sid)
        elif action == "save" or not live:
            model = rng.choice(["claude-opus-4-1", "claude-sonnet-4-5"])
            cost = round(rng.uniform(0, 2), 3)
            tags = rng.sample(TAGS, rng.randint(0, 2))
            store.save_session(sid, run(sid, cost=cost, model=model), tags=tags)
        elif action == "tag":
            store.add_tags(sid, [rng.choice(TAGS)])
        elif action == "untag":
            store.remove_tags(sid, [rng.choice(TAGS)])
        else:
            store.trash_session(sid)


def test_one_tag_searches_equal_a_recount_through_changes(store_factory, fake_clock):
    store = store_factory(clock=fake_clock)
    fake_clock.now = START
    rng = random.Random(28)
    for _ in range(4):
        _churn(store, fake_clock, rng)
        for where in WHERE:
            expected = _recount(store, where)
            assert [m.session_id for m in store.search(**where)] == expected, where
            pages: list[str] = []
            cursor = None
            while True:
                page = store.search_page(limit=3, cursor=cursor, **where)
                pages += [m.session_id for m in page.sessions]
                cursor = page.next_cursor
                if cursor is None:
                    break
            assert pages == expected, where
            assert [m.session_id for m in store.search(limit=2, offset=1, **where)] == (
                expected[1:3]
            )


def test_sort_by_cost_equals_a_recount(store_factory, fake_clock):
    store = store_factory(clock=fake_clock)
    fake_clock.now = START
    rng = random.Random(3)
    for n in range(30):
        fake_clock.advance(minutes=5)
        store.save_session(f"k{n}", run(f"k{n}", cost=rng.choice([0.1, 0.25, 0.5, 1.0, 2.0])))
    saved = [f"k{n}" for n in range(30)]  # a tie goes to the later saved (the higher row)
    costs = {m.session_id: m.total_cost for m in store.search(limit=None)}
    expected = sorted(saved, key=lambda sid: (costs[sid], saved.index(sid)), reverse=True)
    assert [m.session_id for m in store.search(order="cost")] == expected
    assert [m.session_id for m in store.search(order="cost", limit=7, offset=4)] == (expected[4:11])
    ranged = [sid for sid in expected if 0.25 <= costs[sid] <= 1.0]
    found = store.search(order="cost", min_cost=0.25, max_cost=1.0, limit=None)
    assert [m.session_id for m in found] == ranged


def _copies_astray(store: Any) -> int:
    """Tag rows whose copies differ from their session's columns."""
    differ = "IS DISTINCT FROM" if _postgres(store) else "IS NOT"
    columns = ("updated_at", "created_at", "total_cost", "trashed_at")
    astray = " OR ".join(f"t.{c} {differ} s.{c}" for c in columns)

    def count() -> Any:
        row = yield Stmt(
            f"SELECT count(*) AS n FROM tags t JOIN sessions s ON s.id = t.session_ref "
            f"WHERE {astray}",
            (),
            "one",
        )
        return int(row["n"])

    return int(store.run(single(Txn(count))))


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_the_upgrade_copies_each_sessions_columns_into_its_tags(backend, request, tmp_path):
    from claude_sessions import SessionStore

    from .store_fixtures import FakeClock

    postgres = backend == "postgresql"
    location = request.getfixturevalue("postgres_database") if postgres else str(tmp_path / "s")
    clock = FakeClock(START)
    with SessionStore(location, cleanup_after_days=None, clock=clock) as store:
        _churn(store, clock, random.Random(13))
        before = [[m.session_id for m in store.search(**where)] for where in WHERE]
        assert store.list_trash() and store.search(tags=["red"])  # both kinds were made
    from .older_store import set_back, undo_tag_copies

    set_back(
        location, sqlite=15, postgres=11, undo=lambda run, pg: undo_tag_copies(run, postgres=pg)
    )
    with SessionStore(location, cleanup_after_days=None, clock=clock) as store:
        assert _copies_astray(store) == 0
        for where in WHERE:
            assert [m.session_id for m in store.search(**where)] == _recount(store, where)
        assert [[m.session_id for m in store.search(**where)] for where in WHERE] == before
        assert "tags_feed" in _plan(store, SessionFilter(tags=["red"]), limit=5)
        _churn(store, clock, random.Random(14))  # the triggers keep them after it
        assert _copies_astray(store) == 0


PERIOD = {"after": date(2026, 3, 3), "before": date(2026, 3, 5)}


def _fill_days(store: Any, clock: Any) -> Any:
    """Sessions every five hours over eight days, of two models, tags and projects."""
    clock.now = START
    for n in range(40):
        clock.advance(hours=5)
        model = ["claude-opus-4-1", "claude-sonnet-4-5"][n % 2]
        cwd = f"/work/p{n % 3}"
        store.save_session(
            f"d{n}", run(f"d{n}", cost=0.5 + n, model=model, cwd=cwd), tags=[TAGS[n % 3]]
        )
    return store


@pytest.fixture
def days(store_factory, fake_clock):
    return _fill_days(store_factory(clock=fake_clock), fake_clock)


def test_usage_of_a_period_reads_only_its_days_on_sqlite(tmp_path, fake_clock):
    """A period's figures by day or tag read its range of the usage sums, which lead with
    the day, not a whole index (their cost grows with the period, not with the store)."""
    from claude_sessions import SessionStore

    with SessionStore(tmp_path / "s", cleanup_after_days=None, clock=fake_clock) as store:
        _fill_days(store, fake_clock)
        for by in [(), ("day",), ("tags",), ("day", "model"), ("tags", "model")]:
            stmt = next(store.core.d.usage(build_criteria(SessionFilter(**PERIOD)), by))

            def explain(stmt: Stmt = stmt) -> Any:
                rows = yield Stmt("EXPLAIN QUERY PLAN " + stmt.sql, stmt.params, "all")
                return [row["detail"] for row in rows]

            steps = store.run(single(Txn(explain)))
            assert steps[0].startswith("SEARCH s USING PRIMARY KEY (day>? AND day<?)"), (by, steps)


def test_usage_of_a_period_equals_a_recount(days):
    low = datetime.combine(PERIOD["after"], time(), timezone.utc)
    high = datetime.combine(PERIOD["before"], time(), timezone.utc) + timedelta(days=1)
    inside = [m for m in days.search(limit=None) if low <= m.created_at < high]
    assert 0 < len(inside) < 40
    groups = {
        "model": lambda m: [m.model],
        "tag": lambda m: list(m.tags),
        "project": lambda m: [m.project],
        "day": lambda m: [m.created_at.date().isoformat()],
    }
    for name, keys in groups.items():
        expected: dict[str, tuple[int, float]] = {}
        for m in inside:
            for key in keys(m):
                count, cost = expected.get(key, (0, 0.0))
                expected[key] = (count + 1, round(cost + m.total_cost, 6))
        found = {
            bucket.key[0]: (bucket.sessions, round(bucket.cost, 6))
            for bucket in days.usage(name, **PERIOD)
        }
        assert found == expected, name
    (total,) = days.usage((), **PERIOD)
    assert total.sessions == len(inside)
