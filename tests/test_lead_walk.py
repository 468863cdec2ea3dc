"""A list of a model reads the model index (``sessions_by_model``), and a model no session
has reads no session; on SQLite a list of a project reads its two project indexes; on
both databases the answers are those of a recount from every session, newest first,
and an older store gets the indexes on upgrade."""

from __future__ import annotations

import re
from typing import Any

import pytest

from claude_sessions import SessionFilter, SessionStore
from claude_sessions.store.criteria import build_criteria
from claude_sessions.store.plan import Stmt, Txn, single

from .older_store import set_back
from .store_fixtures import FakeClock
from .transcript_samples import conversation, sid

MODELS = ["claude-sonnet-4-5", "claude-opus-4-1", "claude-3-5-Sonnet", "claude-haiku-4-5"]
PROJECTS = ["/work/alpha", "/work/beta", "/work/gamma"]
COUNT = 14


def _fill(store: SessionStore, clock: FakeClock) -> None:
    for n in range(1, COUNT + 1):
        entries = conversation(sid(n), [f"task {n}"], model=MODELS[n % len(MODELS)])
        for entry in entries:
            entry["cwd"] = PROJECTS[n % len(PROJECTS)]
        store.save_session(sid(n), entries)
        clock.advance(minutes=1)


def _recount(store: SessionStore, model: str | None = None, project: str | None = None) -> list:
    """The sessions a filter keeps, from every session's own row, newest first."""
    every = sorted(store.search(), key=lambda m: (m.updated_at, m.session_id), reverse=True)
    return [
        m.session_id
        for m in every
        if (model is None or model.lower() in (m.model or "").lower())
        and (project is None or project in (m.project, m.project_key))
    ]


def _listing_plan(store: SessionStore, **wanted: Any) -> str:
    """The database's plan for the listing statement of a search (the last statement the
    search runs; sequential scans off on PostgreSQL, as a table this small would be read
    whole whatever its indexes)."""
    criteria = build_criteria(SessionFilter(**wanted), limit=5)
    postgres = "postgres" in type(store.core.d).__name__.lower()

    def explain() -> Any:
        search = store.core.d.search(criteria)
        statements: list[Stmt] = []
        try:
            stmt = next(search)
            while True:
                statements.append(stmt)
                stmt = search.send((yield stmt))
        except StopIteration:
            pass
        if postgres:  # its statistics, as autovacuum keeps them
            yield Stmt("ANALYZE sessions")
            yield Stmt("SET LOCAL enable_seqscan = off")
        last = statements[-1]
        prefix = "EXPLAIN " if postgres else "EXPLAIN QUERY PLAN "
        rows = yield Stmt(prefix + last.sql, last.params, "all")
        if postgres:
            return "\n".join(str(next(iter(dict(row).values()))) for row in rows)
        return "\n".join(row["detail"] for row in rows)

    plan: str = store.run(single(Txn(explain)))
    return plan


@pytest.mark.parametrize("model", ["sonnet", "OPUS", "haiku-4", "gpt", "claude"])
def test_a_model_list_is_a_recount_newest_first(store_factory: Any, model: str) -> None:
    clock = FakeClock()
    store = store_factory(clock=clock)
    _fill(store, clock)
    expected = _recount(store, model=model)
    assert [m.session_id for m in store.search(model=model)] == expected
    pages, cursor = [], None
    while True:  # the same, a page of 2 at a time by its cursor
        page = store.search_page(model=model, limit=2, cursor=cursor)
        pages += [m.session_id for m in page.sessions]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert pages == expected
    assert [m.session_id for m in store.search(model=model, limit=3, offset=1)] == expected[1:4]


def test_a_model_list_reads_the_model_index(store_factory: Any) -> None:
    clock = FakeClock()
    store = store_factory(clock=clock)
    _fill(store, clock)
    plan = _listing_plan(store, model="sonnet")
    assert "sessions_by_model" in plan, plan


def test_a_model_no_session_has_reads_no_session(store_factory: Any) -> None:
    clock = FakeClock()
    store = store_factory(clock=clock)
    _fill(store, clock)
    # The search runs only the look-up of model names: no statement reads the sessions' rows.
    criteria = build_criteria(SessionFilter(model="gpt"), limit=5)
    search = store.core.d.search(criteria)
    first = next(search)
    plan = _plan(store, first)
    if "postgres" in type(store.core.d).__name__.lower():
        assert "sessions_by_model" in plan, plan
    else:  # a seek from each name to the next in an index led by the model
        assert "(model>?)" in plan, plan
        assert not re.search(r"SCAN n\b", plan), plan
    result = store.run(single(Txn(lambda: _run_rest(search, first))))
    assert result == []


def _run_rest(search: Any, first: Stmt) -> Any:
    stmt = first
    try:
        while True:
            stmt = search.send((yield stmt))
            raise AssertionError(f"a second statement: {stmt.sql}")
    except StopIteration as done:
        return done.value


def _plan(store: SessionStore, stmt: Stmt) -> str:
    postgres = "postgres" in type(store.core.d).__name__.lower()

    def explain() -> Any:
        if postgres:
            yield Stmt("SET LOCAL enable_seqscan = off")
            rows = yield Stmt("EXPLAIN " + stmt.sql, stmt.params, "all")
            return "\n".join(str(next(iter(dict(row).values()))) for row in rows)
        rows = yield Stmt("EXPLAIN QUERY PLAN " + stmt.sql, stmt.params, "all")
        return "\n".join(row["detail"] for row in rows)

    found: str = store.run(single(Txn(explain)))
    return found


@pytest.mark.parametrize("project", ["/work/beta", "-work-gamma", "/work/nowhere"])
def test_a_project_list_is_a_recount_newest_first(store_factory: Any, project: str) -> None:
    clock = FakeClock()
    store = store_factory(clock=clock)
    _fill(store, clock)
    expected = _recount(store, project=project)
    assert [m.session_id for m in store.search(project=project)] == expected
    assert [m.session_id for m in store.search(project=project, limit=2, offset=1)] == (
        expected[1:3]
    )
    both = _recount(store, model="sonnet", project=project)
    assert [m.session_id for m in store.search(project=project, model="sonnet")] == both


def test_a_project_list_reads_the_project_indexes_on_sqlite(store_factory: Any) -> None:
    clock = FakeClock()
    store = store_factory(clock=clock)
    _fill(store, clock)
    plan = _listing_plan(store, project="/work/nowhere")
    if "postgres" in type(store.core.d).__name__.lower():
        assert "sessions_by_project" in plan, plan  # its own two indexes, read by itself
    else:
        assert "sessions_of_project " in plan + " ", plan
        assert "sessions_of_project_key" in plan, plan
        assert "sessions_by_updated" not in plan, plan


def test_an_older_store_gets_the_lead_indexes(store_location: str) -> None:
    clock = FakeClock()
    with SessionStore(store_location, cleanup_after_days=None, clock=clock) as store:
        _fill(store, clock)

    def undo(run: Any, postgres: bool) -> None:
        run("DROP INDEX sessions_by_model")
        if not postgres:
            run("DROP INDEX sessions_of_project")
            run("DROP INDEX sessions_of_project_key")

    set_back(store_location, sqlite=25, postgres=22, undo=undo)
    with SessionStore(store_location, cleanup_after_days=None) as store:
        assert "sessions_by_model" in _listing_plan(store, model="opus")
        assert [m.session_id for m in store.search(model="opus")] == _recount(store, model="opus")


def test_a_model_with_dates_seeks_by_model(store_factory: Any) -> None:
    clock = FakeClock()
    store = store_factory(clock=clock)
    _fill(store, clock)
    every = store.search()
    first, last = min(m.created_at for m in every), max(m.created_at for m in every)
    newest_first = sorted(every, key=lambda m: (m.updated_at, m.session_id), reverse=True)
    expected = [
        m.session_id
        for m in newest_first
        if "sonnet" in (m.model or "").lower()
        and first.date() <= m.created_at.date() <= last.date()
    ]
    wanted = {"model": "sonnet", "after": first.date(), "before": last.date()}
    assert [m.session_id for m in store.search(**wanted)] == expected
    if "postgres" not in type(store.core.d).__name__.lower():
        # SQLite: the model's own days (an index led by the model), not every session of
        # the range. (PostgreSQL picks by its statistics, which a store this small lacks.)
        plan = _listing_plan(store, **wanted)
        assert "model=? AND created_at>?" in plan, plan
