"""A date or cost range, newest first, is read from its index alone on PostgreSQL (the
index holds the row id); SQLite's indexes hold it already. Both databases answer the
same sessions."""

from __future__ import annotations

from datetime import date
from typing import Any

from claude_sessions import SessionFilter, SessionStore
from claude_sessions.store.criteria import build_criteria
from claude_sessions.store.plan import Stmt, Txn, single

from .store_fixtures import FakeClock
from .transcript_samples import conversation, sid

RANGES = {
    "sessions_by_created": SessionFilter(after=date(2026, 1, 1), before=date(2026, 12, 31)),
    "sessions_by_cost": SessionFilter(min_cost=0.0, max_cost=100.0),
}


def _plan(store: SessionStore, where: SessionFilter) -> str:
    """The plan of the newest page of ``where``, the table left out where an index can
    answer (PostgreSQL: a table this small would be read whole whatever its indexes)."""
    listing = next(store.core.d.search(build_criteria(where, limit=10)))
    postgres = "postgres" in type(store.core.d).__name__.lower()

    def explain(stmt: Stmt = listing) -> Any:
        if postgres:
            for setting in ("enable_seqscan", "enable_bitmapscan"):
                yield Stmt(f"SET LOCAL {setting} = off")
            rows = yield Stmt("EXPLAIN " + stmt.sql, stmt.params, "all")
            return "\n".join(str(next(iter(dict(row).values()))) for row in rows)
        rows = yield Stmt("EXPLAIN QUERY PLAN " + stmt.sql, stmt.params, "all")
        return "\n".join(row["detail"] for row in rows)

    plan: str = store.run(single(Txn(explain)))
    return plan


def _vacuumed(location: str) -> None:
    """Mark the table's pages all-visible (as autovacuum does on a live store), so the
    planner counts an index-only read as one."""
    import psycopg

    with psycopg.connect(location, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE claude_sessions.sessions")


def test_a_range_is_read_from_its_index(store_location: str) -> None:
    clock = FakeClock()
    store = SessionStore(store_location, cleanup_after_days=None, clock=clock)
    for n in range(1, 7):
        store.save_session(sid(n), conversation(sid(n), [f"task {n}"]))
        clock.advance(minutes=1)
    newest_first = [sid(n) for n in range(6, 0, -1)]
    postgres = store_location.startswith("postgresql://")
    if postgres:
        _vacuumed(store_location)
    for index, where in RANGES.items():
        assert [m.session_id for m in store.search(where)] == newest_first
        plan = _plan(store, where)
        expected = f"Index Only Scan using {index}" if postgres else f"INDEX {index}"
        assert expected in plan, plan
    store.close()
