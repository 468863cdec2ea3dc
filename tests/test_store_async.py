"""AsyncSessionStore: the same methods as coroutines, on the store's own thread pool."""

from __future__ import annotations

import asyncio

import pytest

from claude_sessions import AsyncSessionStore, SessionNotFoundError

from .store_samples import run


def test_async_store(store_location):
    async def main():
        async with AsyncSessionStore(store_location, cleanup_after_days=None) as store:
            await asyncio.gather(
                *(store.save_session(f"s-{i}", run(f"s-{i}"), tags=["t"]) for i in range(20))
            )
            assert len(await store.list_sessions()) == 20
            assert (await store.load_session("s-3")).metadata.message_count == 3
            assert await store.get_session("nope") is None
            with pytest.raises(SessionNotFoundError):
                await store.load_session("nope")
            assert len(await store.search(tags=["t"], limit=5)) == 5
            assert (await store.add_tags("s-1", ["x"])).tags == ("t", "x")
            assert (await store.remove_tags("s-1", ["x"])).tags == ("t",)
            assert (await store.set_description("s-1", "d")).description == "d"
            assert await store.resolve_id("s-19") == "s-19"
            assert (await store.append_messages("s-1", [{"type": "x"}])).message_count == 4
            assert await store.cleanup_old_sessions(1, dry_run=True) == []
            assert await store.cleanup_old_sessions(1) == 0
            assert await store.delete_session("s-1") is True
            assert (await store.get_metadata("s-2")).session_id == "s-2"
            assert store.sync.location == store.location

    asyncio.run(main())
