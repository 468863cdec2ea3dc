"""query/continue/resume/fork with ``store=``: sessions saved as runs complete, on the real CLI."""

import asyncio

import pytest

from claude_sessions import (
    AsyncSessionStore,
    Session,
    SessionStore,
    aquery,
    aresume,
    continue_conversation,
    fork,
    query,
    resume,
)

pytestmark = pytest.mark.e2e


def test_runs_are_saved_and_accumulate(fake_claude, tmp_path):
    with SessionStore(tmp_path / "store") as store:
        first = list(query("Design a users API", store=store, tags=["api"], description="Users"))
        session_id = Session.extract_session_id(first)
        assert store.load_session(session_id).messages == first

        second = list(continue_conversation("Add pagination", store=store, tags=["paging"]))
        third = list(resume(session_id, "Add indexes", store=store))
        data = store.load_session(session_id)
        assert data.messages == first + second + third
        assert data.metadata.turns == 3
        assert data.metadata.tags == ("api", "paging")
        assert data.metadata.description == "Users"
        assert data.metadata.total_cost == pytest.approx(Session.calculate_cost(third))
        # The runs' own totals (their lines under-record output tokens).
        usage = [m.to_dict()["usage"] for m in data.messages if m.is_result]
        assert data.metadata.input_tokens >= sum(u["input_tokens"] for u in usage) > 0
        assert data.metadata.output_tokens == sum(u["output_tokens"] for u in usage) > 0

        branch = list(fork(session_id, "Use GraphQL instead", store=store, tags=["graphql"]))
        fork_id = Session.extract_session_id(branch)
        forked = store.load_session(fork_id)
        assert forked.metadata.forked_from == session_id
        assert forked.messages == branch
        assert store.load_session(session_id).messages == first + second + third
        assert [m.session_id for m in store.search(text="GraphQL")] == [fork_id]


def test_async_runs_are_saved(fake_claude, tmp_path):
    async def flow():
        async with AsyncSessionStore(tmp_path / "store") as store:
            first = [m async for m in aquery("hello async", store=store, tags=["async"])]
            session_id = Session.extract_session_id(first)
            second = [m async for m in aresume(session_id, "again", store=store)]
            return session_id, first + second, await store.load_session(session_id)

    session_id, messages, data = asyncio.run(flow())
    assert data.session_id == session_id
    assert data.messages == messages
    assert data.metadata.tags == ("async",)


def test_a_failed_run_is_not_half_saved(fake_claude, tmp_path):
    with SessionStore(tmp_path / "store") as store:
        iterator = query("stop early", store=store)
        next(iterator)
        iterator.close()
        assert store.list_sessions() == []
