"""A member's listing merges their own sessions and the shared ones, each read from an
index of its own in order: page by page (cursor or offset) it is the plain listing of
what they may see, on both databases."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from claude_sessions import SessionFilter, SessionStore
from claude_sessions.model.identity import USER_ENV_VAR
from claude_sessions.store import users, visibility
from claude_sessions.store.criteria import build_criteria
from claude_sessions.store.plan import Stmt, Txn, single

from .store_samples import run


def _fill(store: SessionStore, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """24 sessions of alice, bob and carol, every third of the others shared, one of
    alice's trashed; what alice may see, newest first."""
    people = {name: users.add_user(store, name)[0] for name in ("alice", "bob", "carol")}
    for n in range(24):
        owner = ("alice", "bob", "carol")[n % 3]
        monkeypatch.setenv(USER_ENV_VAR, owner)
        store.save_session(f"s{n:02d}", run(f"s{n:02d}", cost=0.01 * n), tags=["all"])
        if n % 4 == 1:
            visibility.share_session(visibility.seen_by(store, people[owner]), f"s{n:02d}")
    monkeypatch.delenv(USER_ENV_VAR)
    store.trash_session("s03")
    every = store.search(limit=None)
    return [m.session_id for m in every if m.user == "alice" or m.shared]


def _alice(store: SessionStore) -> SessionStore:
    alice = next(u for u in users.list_users(store) if u.name == "alice")
    return visibility.seen_by(store, alice)


def test_a_members_pages_are_the_listing_of_what_they_may_see(
    store: SessionStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = _fill(store, monkeypatch)
    seen = _alice(store)
    assert len(expected) > 10
    assert [m.session_id for m in seen.search(limit=None)] == expected
    by_cursor, cursor = [], None
    while True:
        page = seen.search_page(limit=4, cursor=cursor)
        by_cursor += [m.session_id for m in page.sessions]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert by_cursor == expected
    by_offset = [m.session_id for k in range(0, 24, 5) for m in seen.search(limit=5, offset=k)]
    assert by_offset == expected
    bobs = [m.session_id for m in seen.search(user="bob", limit=None)]
    assert bobs == [sid for sid in expected if int(sid[1:]) % 3 == 1]


def test_a_members_listing_reads_their_index_and_the_shared_one(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    with SessionStore(tmp_path / "s", cleanup_after_days=None) as store:
        _fill(store, monkeypatch)
        criteria = replace(build_criteria(SessionFilter(), limit=10), visible_to="alice")
        listing = next(store.core.d.search(criteria))

        def explain(stmt: Stmt = listing) -> Any:
            rows = yield Stmt("EXPLAIN QUERY PLAN " + stmt.sql, stmt.params, "all")
            return [row["detail"] for row in rows]

        steps = store.run(single(Txn(explain)))
    assert any("INDEX sessions_of_user (user_name=?)" in step for step in steps), steps
    assert any("INDEX sessions_shared" in step for step in steps), steps
    assert not any("sessions_by_updated" in step for step in steps), steps
