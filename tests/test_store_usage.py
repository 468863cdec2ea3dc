"""Aggregates, keyset pages, forks by origin, cost order and the change version (both databases)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from claude_sessions import InvalidQueryError

from .store_samples import run


@pytest.fixture
def spread(store_factory, fake_clock):
    """Five sessions over two weeks of March 2026 and one in April."""
    store = store_factory(clock=fake_clock)
    plan = [
        ("a", datetime(2026, 3, 1, 10), "claude-opus-4-1", ["x"], 1.0),
        ("b", datetime(2026, 3, 2, 10), "claude-sonnet-4-5", ["x", "y"], 2.0),
        ("c", datetime(2026, 3, 2, 23), "claude-sonnet-4-5", [], 0.5),
        ("d", datetime(2026, 3, 9, 1), "claude-sonnet-4-5", ["y"], 0.25),
        ("e", datetime(2026, 4, 1, 0), "claude-opus-4-1", [], 4.0),
    ]
    for sid, moment, model, tags, cost in plan:
        fake_clock.now = moment.replace(tzinfo=timezone.utc)
        store.save_session(sid, run(sid, model=model, cost=cost), tags=tags)
    return store


def _by_key(buckets):
    return {b.key: (b.sessions, b.cost) for b in buckets}


def test_usage_by_period_model_and_tag(spread):
    assert _by_key(spread.usage()) == {(): (5, 7.75)}
    assert _by_key(spread.usage("day")) == {
        ("2026-03-01",): (1, 1.0),
        ("2026-03-02",): (2, 2.5),
        ("2026-03-09",): (1, 0.25),
        ("2026-04-01",): (1, 4.0),
    }
    # Weeks start on Monday: 2026-03-01 is a Sunday.
    assert _by_key(spread.usage("week")) == {
        ("2026-02-23",): (1, 1.0),
        ("2026-03-02",): (2, 2.5),
        ("2026-03-09",): (1, 0.25),
        ("2026-03-30",): (1, 4.0),
    }
    assert _by_key(spread.usage("month")) == {("2026-03",): (4, 3.75), ("2026-04",): (1, 4.0)}
    assert _by_key(spread.usage("tag")) == {
        ("x",): (2, 3.0),
        ("y",): (2, 2.25),
        ("(none)",): (2, 4.5),
    }
    assert _by_key(spread.usage(("month", "model"))) == {
        ("2026-03", "claude-opus-4-1"): (1, 1.0),
        ("2026-03", "claude-sonnet-4-5"): (3, 2.75),
        ("2026-04", "claude-opus-4-1"): (1, 4.0),
    }
    narrowed = spread.usage("model", tags=["y"], before=datetime(2026, 3, 5))
    assert _by_key(narrowed) == {("claude-sonnet-4-5",): (1, 2.0)}
    tokens = spread.usage("project")
    assert tokens[0].key == ("/work/app",) and tokens[0].input_tokens == 50


def test_usage_refuses_what_it_cannot_do(spread):
    with pytest.raises(InvalidQueryError, match="group by"):
        spread.usage(("day", "model", "tag"))
    with pytest.raises(InvalidQueryError, match="cannot group by"):
        spread.usage("minute")
    with pytest.raises(InvalidQueryError, match="text"):
        spread.usage("day", text="hello")


def test_keyset_pages_cover_everything_once_even_with_equal_times(store_factory, fake_clock):
    store = store_factory(clock=fake_clock)  # frozen: every session has the same updated_at
    for n in range(23):
        store.save_session(f"s{n:02d}", run(f"s{n:02d}", text="common words"))
    seen, cursor = [], None
    while True:
        page = store.search_page(limit=5, cursor=cursor)
        seen += [m.session_id for m in page.sessions]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == [m.session_id for m in store.list_sessions()] and len(set(seen)) == 23
    ranked, cursor = [], None
    while True:
        page = store.search_page(limit=4, cursor=cursor, text="common")
        ranked += [m.session_id for m in page.sessions]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert sorted(ranked) == sorted(seen)
    listing_cursor = store.search_page(limit=5).next_cursor
    with pytest.raises(InvalidQueryError, match="different search"):
        store.search_page(limit=5, cursor=listing_cursor, text="common")
    with pytest.raises(InvalidQueryError, match="not a page cursor"):
        store.search_page(limit=5, cursor="garbage!")


def test_forks_by_origin_and_cost_order(spread):
    spread.save_session("f1", run("f1"), forked_from="a")
    spread.save_session("f2", run("f2"), forked_from="a")
    assert sorted(m.session_id for m in spread.search(forked_from="a")) == ["f1", "f2"]
    assert [m.session_id for m in spread.search(order="cost", limit=3)] == ["e", "b", "a"]
    with pytest.raises(InvalidQueryError):
        spread.search(order="cost", text="hello")


def test_version_moves_on_every_kind_of_write(spread):
    seen = {spread.version()}
    for change in (
        lambda: spread.save_session("n", run("n")),
        lambda: spread.add_tags("n", ["t"]),
        lambda: spread.set_description("n", "d"),
        lambda: spread.delete_session("n"),
        lambda: spread.restore_session("n"),
        lambda: spread.delete_session("n", purge=True),
    ):
        change()
        assert spread.version() not in seen
        seen.add(spread.version())


@pytest.mark.parametrize(
    "by", [(), ("day",), ("model",), ("project",), ("tags",), ("day", "model")]
)
def test_sqlite_usage_reads_an_index_in_group_order(tmp_path, by):
    """Grouping by day, model, project or tags reads a covering index in that order:
    no sort (SQLite's GROUP BY otherwise sorts every session, most of the time taken).
    By model, so do the sessions whose requests were all of their own model; the
    others' figures by model come from their sessions, from the other grouping's
    index, and each one's models by key."""
    import sqlite3

    from claude_sessions import SessionStore
    from claude_sessions.model.filters import SessionFilter
    from claude_sessions.store.dialect import usage_sql
    from claude_sessions.store.sqlite.dialect import _DAY, USAGE_INDEXES, SQLiteDialect
    from claude_sessions.store.where import conditions

    SessionStore(tmp_path / "s", cleanup_after_days=None).close()
    dialect = SQLiteDialect()
    where = SessionFilter(after=datetime(2026, 1, 1))
    clauses, params = conditions(dialect, where, trashed=False)
    index = USAGE_INDEXES[by[0] if by else "day"]
    other = USAGE_INDEXES[next((name for name in by if name != "model"), "day")]
    queries = usage_sql(
        _DAY,
        by,
        clauses,
        table=f"sessions s INDEXED BY {index}",
        joined=f"sessions s INDEXED BY {other}",
        join="CROSS JOIN",
    )
    with sqlite3.connect(tmp_path / "s" / "sessions.db") as conn:
        plans = [
            " | ".join(row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", params))
            for sql in queries
        ]
    assert f"USING COVERING INDEX {index}" in plans[0] and "TEMP B-TREE" not in plans[0]
    if "model" in by:
        assert len(plans) == 2 and f"USING COVERING INDEX {other}" in plans[1], plans
        assert "SEARCH m USING PRIMARY KEY (session_ref=?)" in plans[1], plans
    else:
        assert len(plans) == 1
