"""Restoring the trash in bulk: ``restore_sessions`` on both databases, both faces."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from claude_sessions import AsyncSessionStore, InvalidQueryError
from claude_sessions.store import RestoreReport, trash

from .store_samples import run


def live_ids(store):
    """Every live session's id, one entry per live row (a duplicate would show twice)."""
    return sorted(m.session_id for m in store.search(limit=None))


def trashed_ids(store):
    return sorted(m.session_id for m in store.list_trash())


@pytest.fixture
def small_batches(monkeypatch):
    """Batches of 3 sessions, so a handful of sessions crosses several batch boundaries."""
    monkeypatch.setattr(trash, "CLEANUP_BATCH", 3)


def test_restore_sessions_brings_back_every_id_once_and_reports_live_ids(
    store_factory, fake_clock, small_batches
):
    store = store_factory(clock=fake_clock)
    ids = [f"s{n:02d}" for n in range(10)]
    for sid in ids:
        store.save_session(sid, run(sid), tags=["t"])
    store.save_session("s03", run("s03"), description="older copy")
    store.delete_session("s03")  # trashed twice: the later copy comes back
    store.save_session("s03", run("s03"), description="newer copy")
    fake_clock.advance(minutes=1)
    store.append_messages("s05", [{"type": "user", "uuid": "u-5"}], project_key="other-key")
    fake_clock.advance(minutes=1)
    for sid in ids:
        store.delete_session(sid)  # s05: both project keys at once
    store.save_session("s02", run("s02"), description="saved since")
    store.save_session("s07", run("s07"), description="saved since")
    assert len(store.list_trash()) == 12

    report = store.restore_sessions()

    assert report == RestoreReport(restored=8, conflicts=("s02", "s07"))
    assert live_ids(store) == ids  # one live session per id
    assert store.get_metadata("s02").description == "saved since"
    assert store.get_metadata("s03").description == "newer copy"
    assert store.get_metadata("s05").project_key == "other-key"  # the one updated last
    assert trashed_ids(store) == ["s02", "s03", "s05", "s07"]
    assert store.restore_sessions() == RestoreReport(0, ("s02", "s03", "s05", "s07"))
    assert live_ids(store) == ids


def test_each_batch_commits_on_its_own(store_factory, small_batches, monkeypatch):
    store = store_factory()
    ids = [f"b{n:02d}" for n in range(10)]
    for sid in ids:
        store.save_session(sid, run(sid))
        store.delete_session(sid)
    bring_back = trash._bring_back
    calls = []

    def failing_on_the_eighth(*args):
        calls.append(args)
        if len(calls) == 8:
            raise RuntimeError("the connection dropped")
        return (yield from bring_back(*args))

    monkeypatch.setattr(trash, "_bring_back", failing_on_the_eighth)
    with pytest.raises(RuntimeError):
        store.restore_sessions()
    # Batches of 3: the first two committed; the third, holding the failure, did not.
    assert live_ids(store) == ids[:6]
    assert trashed_ids(store) == ids[6:]


def test_since_restores_what_was_trashed_at_or_after_it(store_factory, fake_clock):
    store = store_factory(clock=fake_clock)
    first_day = fake_clock.now
    for n, sid in enumerate(("day0", "day1", "day2")):
        store.save_session(sid, run(sid))
        fake_clock.now = first_day + timedelta(days=n)
        store.delete_session(sid)
    fake_clock.advance(days=1)
    exactly_day1 = (first_day + timedelta(days=1)).replace(tzinfo=None)  # naive: UTC
    assert store.restore_sessions(since=exactly_day1) == RestoreReport(2)
    assert trashed_ids(store) == ["day0"]
    later = first_day + timedelta(days=5)
    assert store.restore_sessions(since=later) == RestoreReport(0)
    assert store.restore_sessions(since=first_day.date()) == RestoreReport(1)  # from midnight
    assert live_ids(store) == ["day0", "day1", "day2"] and trashed_ids(store) == []


def test_tags_restore_sessions_with_any_of_them(store_factory, fake_clock):
    store = store_factory(clock=fake_clock)
    for sid, tags in (("a", ["red"]), ("b", ["blue"]), ("c", ["green", "red"]), ("d", [])):
        store.save_session(sid, run(sid), tags=tags)
        store.delete_session(sid)
    assert store.restore_sessions(tags=["red", "blue"]) == RestoreReport(3)
    assert trashed_ids(store) == ["d"]
    assert store.restore_sessions(tags="red") == RestoreReport(0)
    assert live_ids(store) == ["a", "b", "c"]


def test_since_and_tags_together(store_factory, fake_clock):
    store = store_factory(clock=fake_clock)
    for sid, tags in (("old-red", ["red"]), ("new-red", ["red"]), ("new-blue", ["blue"])):
        store.save_session(sid, run(sid), tags=tags)
    store.delete_session("old-red")
    fake_clock.advance(hours=2)
    cutoff = fake_clock.now
    store.delete_session("new-red")
    store.delete_session("new-blue")
    assert store.restore_sessions(since=cutoff, tags=["red"]) == RestoreReport(1)
    assert live_ids(store) == ["new-red"]


def test_bad_filters_are_refused_before_anything_is_restored(store):
    store.save_session("x", run("x"))
    store.delete_session("x")
    with pytest.raises(InvalidQueryError):
        store.restore_sessions(since="yesterday")
    with pytest.raises(InvalidQueryError):
        store.restore_sessions(tags=[3])
    assert trashed_ids(store) == ["x"]


def test_the_async_store_restores_in_bulk_too(store_location):
    async def main():
        async with AsyncSessionStore(store_location, cleanup_after_days=None) as store:
            for sid in ("p", "q", "r"):
                await store.save_session(sid, run(sid), tags=["t"] if sid != "r" else [])
                await store.delete_session(sid)
            await store.save_session("q", run("q"))
            report = await store.restore_sessions(tags=["t"])
            assert report == RestoreReport(1, ("q",))
            assert sorted(m.session_id for m in await store.list_trash()) == ["q", "r"]

    asyncio.run(main())
