"""A list of one git branch reads its own index (``sessions_by_branch``), not every
session newest first, on both databases; an older store gets the index on upgrade."""

from __future__ import annotations

from typing import Any

from claude_sessions import SessionFilter, SessionStore
from claude_sessions.store.criteria import build_criteria
from claude_sessions.store.plan import Stmt, Txn, single

from .older_store import set_back
from .store_fixtures import FakeClock
from .transcript_samples import conversation, sid

BRANCHES = ["main", "feature/login", "main", "fix-typo", "main", "feature/login"]


def _fill(store: SessionStore, clock: FakeClock) -> None:
    for n, branch in enumerate(BRANCHES, 1):
        entries = conversation(sid(n), [f"work on {branch}"])
        for entry in entries:
            entry["gitBranch"] = branch
        store.save_session(sid(n), entries)
        clock.advance(minutes=1)


def _plan_of_branch_list(store: SessionStore, branch: str) -> str:
    """The database's plan for the newest page of ``branch`` (sequential scans off on
    PostgreSQL: a table this small would be read whole whatever its indexes)."""
    criteria = build_criteria(SessionFilter(branch=branch), limit=10)
    listing = next(store.core.d.search(criteria))
    postgres = "postgres" in type(store.core.d).__name__.lower()

    def explain(stmt: Stmt = listing) -> Any:
        if postgres:
            yield Stmt("SET LOCAL enable_seqscan = off")
            rows = yield Stmt("EXPLAIN " + stmt.sql, stmt.params, "all")
            return "\n".join(str(next(iter(dict(row).values()))) for row in rows)
        rows = yield Stmt("EXPLAIN QUERY PLAN " + stmt.sql, stmt.params, "all")
        return "\n".join(row["detail"] for row in rows)

    plan: str = store.run(single(Txn(explain)))
    return plan


def test_a_branch_list_reads_the_branch_index(store_factory: Any) -> None:
    clock = FakeClock()
    store = store_factory(clock=clock)
    _fill(store, clock)
    newest_first = range(len(BRANCHES), 0, -1)
    for branch in ("main", "feature/login", "nowhere"):
        expected = [sid(n) for n in newest_first if BRANCHES[n - 1] == branch]
        assert [m.session_id for m in store.search(branch=branch)] == expected
        plan = _plan_of_branch_list(store, branch)
        assert "sessions_by_branch" in plan, plan


def test_an_older_store_gets_the_branch_index(store_location: str) -> None:
    clock = FakeClock()
    with SessionStore(store_location, cleanup_after_days=None, clock=clock) as store:
        _fill(store, clock)
    set_back(
        store_location,
        sqlite=23,  # the previous release's last versions
        postgres=20,
        undo=lambda run, _postgres: run("DROP INDEX sessions_by_branch"),
    )
    with SessionStore(store_location, cleanup_after_days=None) as store:
        assert "sessions_by_branch" in _plan_of_branch_list(store, "main")
        assert len(store.search(branch="main")) == BRANCHES.count("main")
