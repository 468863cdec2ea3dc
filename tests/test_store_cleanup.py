"""Automatic and manual cleanup, with a fake clock (no sleeping)."""

from __future__ import annotations

import pytest

from claude_sessions import InvalidInputError, SessionMetadata, SessionStore

from .store_samples import run


def save_at(store, clock, sid, days_ago, **kwargs):
    clock.advance(days=-days_ago)
    store.save_session(sid, run(sid), **kwargs)
    clock.advance(days=days_ago)


def test_manual_cleanup_and_dry_run(store_factory, fake_clock):
    store = store_factory(clock=fake_clock, cleanup_after_days=None)
    save_at(store, fake_clock, "old", 40)
    save_at(store, fake_clock, "old-kept", 40, tags=["keep"])
    save_at(store, fake_clock, "mid", 20)
    save_at(store, fake_clock, "new", 0)
    preview = store.cleanup_old_sessions(14, dry_run=True)
    assert all(isinstance(m, SessionMetadata) for m in preview)
    assert [m.session_id for m in preview] == ["old", "mid"]
    assert len(store.list_sessions()) == 4
    assert store.cleanup_old_sessions(max_age_days=30) == 1
    assert store.cleanup_old_sessions(14) == 1
    assert sorted(m.session_id for m in store.list_sessions()) == ["new", "old-kept"]
    assert store.cleanup_old_sessions() == 0  # None: the default of 30 days
    with pytest.raises(ValueError, match="negative"):
        store.cleanup_old_sessions(-1)


def test_auto_cleanup_runs_on_open_and_save_once_a_day(store_factory, fake_clock, tmp_path):
    where = tmp_path / "auto"
    store = store_factory(where, clock=fake_clock, cleanup_after_days=30)
    save_at(store, fake_clock, "a", 0)
    save_at(store, fake_clock, "keeper", 0, tags=["keep"])
    fake_clock.advance(days=31)
    store.save_session("b", run("b"))  # triggers the daily cleanup
    assert sorted(m.session_id for m in store.list_sessions()) == ["b", "keeper"]
    # Within the day nothing runs again, even from another store on the same file.
    save_at(store, fake_clock, "c", 40)
    fake_clock.advance(hours=2)
    store.save_session("d", run("d"))
    other = store_factory(where, clock=fake_clock, cleanup_after_days=30)
    assert "c" in [m.session_id for m in other.list_sessions()]
    # A day later, opening a store runs it.
    fake_clock.advance(days=1)
    third = store_factory(where, clock=fake_clock, cleanup_after_days=30)
    assert sorted(m.session_id for m in third.list_sessions()) == ["b", "d", "keeper"]


def test_configurable_age_and_protected_tags(store_factory, fake_clock, tmp_path):
    where = tmp_path / "cfg"
    store = store_factory(where, clock=fake_clock, cleanup_after_days=None)
    save_at(store, fake_clock, "x", 10)
    save_at(store, fake_clock, "pinned", 10, tags=["pin"])
    save_at(store, fake_clock, "kept-word", 10, tags=["keep"])
    reopened = store_factory(where, clock=fake_clock, cleanup_after_days=7, protected_tags=["pin"])
    assert sorted(m.session_id for m in reopened.list_sessions()) == ["pinned"]


def test_disabled_cleanup_never_deletes(store_factory, fake_clock, tmp_path):
    where = tmp_path / "off"
    store = store_factory(where, clock=fake_clock, cleanup_after_days=None)
    save_at(store, fake_clock, "ancient", 1000)
    store_factory(where, clock=fake_clock, cleanup_after_days=None)
    assert [m.session_id for m in store.list_sessions()] == ["ancient"]


def test_bad_cleanup_setting(store_factory):
    with pytest.raises(ValueError, match="negative"):
        store_factory(cleanup_after_days=-3)
    with pytest.raises(ValueError, match="number of days"):
        store_factory(cleanup_after_days="30")


@pytest.mark.parametrize(("value", "days"), [("", 30), ("7", 7.0), ("never", None), ("off", None)])
def test_cleanup_days_from_the_environment(tmp_path, monkeypatch, value, days):
    monkeypatch.setenv("CLAUDE_SESSIONS_CLEANUP_DAYS", value)
    with SessionStore(tmp_path / "a") as store:
        assert store.cleanup_after_days == days
    with SessionStore(tmp_path / "b", cleanup_after_days=3) as store:
        assert store.cleanup_after_days == 3


def test_bad_cleanup_days_in_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("CLAUDE_SESSIONS_CLEANUP_DAYS", "soon")
    with pytest.raises(InvalidInputError, match="CLAUDE_SESSIONS_CLEANUP_DAYS"):
        SessionStore(tmp_path)
