"""Several tags all required: the listing walks the rarest tag's index entries, newest
first, and looks the other tags up by session, and finds what a recount finds."""

from __future__ import annotations

from typing import Any

from claude_sessions import SessionFilter, SessionStore
from claude_sessions.store.criteria import build_criteria
from claude_sessions.store.plan import Stmt, Txn, single

from .store_samples import run


def _fill(store: SessionStore) -> dict[str, set[str]]:
    """60 sessions with "common", every third with "mid", four with "rare"; their tags."""
    tags: dict[str, set[str]] = {}
    for n in range(60):
        mine = (
            {"common"} | ({"mid"} if n % 3 == 0 else set()) | ({"rare"} if n % 15 == 0 else set())
        )
        store.save_session(f"s{n}", run(f"s{n}", cost=0.01 * n), tags=sorted(mine))
        tags[f"s{n}"] = mine
    store.trash_session("s15")  # one with every tag, in the trash
    del tags["s15"]
    return tags


def _statements(store: SessionStore, where: SessionFilter) -> list[Stmt]:
    """The statements a search runs, as run."""
    seen: list[Stmt] = []

    def recorded() -> Any:
        op = store.core.d.search(build_criteria(where, limit=10))
        result: Any = None
        try:
            while True:
                stmt = op.send(result)
                seen.append(stmt)
                result = yield stmt
        except StopIteration as done:
            return done.value

    store.run(single(Txn(recorded)))
    return seen


def test_all_of_several_tags_is_what_a_recount_finds(store: SessionStore) -> None:
    tags = _fill(store)
    for wanted in (["common", "rare"], ["mid", "common", "rare"], ["mid", "common"]):
        expected = sorted(sid for sid, mine in tags.items() if set(wanted) <= mine)
        found = store.search(tags=wanted, match_all_tags=True, limit=None)
        assert sorted(m.session_id for m in found) == expected
        updated = [m.updated_at for m in found]
        assert updated == sorted(updated, reverse=True)
        first = store.search_page(tags=wanted, match_all_tags=True, limit=2)
        rest = store.search(tags=wanted, match_all_tags=True, limit=None, cursor=first.next_cursor)
        assert [m.session_id for m in [*first.sessions, *rest]] == [m.session_id for m in found]


def test_all_of_several_tags_walks_the_rarest_ones_index(tmp_path: Any) -> None:
    with SessionStore(tmp_path / "s", cleanup_after_days=None) as store:
        _fill(store)
        where = SessionFilter(tags=["common", "mid", "rare"], match_all_tags=True)
        listing = _statements(store, where)[-1]

        def explain() -> Any:
            rows = yield Stmt("EXPLAIN QUERY PLAN " + listing.sql, listing.params, "all")
            return [row["detail"] for row in rows]

        steps = store.run(single(Txn(explain)))
    assert listing.params[0] == "rare", listing
    assert any("INDEX tags_feed (tag=?)" in step for step in steps), steps
    # each other tag: one lookup by the session's key, not a list of every session with it
    assert not any("GROUP BY" in step or "tags_by_tag" in step for step in steps), steps
