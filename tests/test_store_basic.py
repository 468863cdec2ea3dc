"""SessionStore: save, load, list, tags, delete, ids, locations."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from claude_sessions import (
    AmbiguousSessionIdError,
    InvalidSessionIdError,
    Message,
    SessionData,
    SessionMetadata,
    SessionNotFoundError,
    SessionStore,
    StoreError,
)
from claude_sessions.store.sqlite.driver import SQLiteDriver

from .store_samples import run

BAD_IDS = ["", "a" * 256, "a/b", "a\\b", ".", "..", "a\x00b", "a\nb", "a\x1fb", "a\x7fb"]


def test_save_and_load_round_trip(store):
    messages = run("s-1")
    meta = store.save_session("s-1", messages, tags=["b", "a", "a"], description="auth work")
    assert isinstance(meta, SessionMetadata)
    assert meta.session_id == "s-1"
    assert meta.message_count == 3
    assert meta.turns == 1
    assert meta.total_cost == pytest.approx(0.01)
    assert meta.tags == ("a", "b")
    assert meta.description == "auth work"
    assert meta.model == "claude-sonnet-4-5-20250929"
    assert meta.project == "/work/app"
    assert meta.project_key == "-work-app"
    assert meta.created_at.tzinfo is not None
    assert meta.snippet is None and meta.rank is None
    data = store.load_session("s-1")
    assert isinstance(data, SessionData)
    assert data.messages == [Message(m) for m in messages]
    assert [m.to_dict() for m in data.messages] == messages
    assert data.metadata == meta


def test_accepts_message_objects_and_sdk_messages(store):
    from claude_agent_sdk import AssistantMessage, TextBlock

    sdk = AssistantMessage(content=[TextBlock(text="hi there")], model="claude-haiku-4-5")
    meta = store.save_session("s-2", [Message(run("s-2")[0]), sdk])
    assert meta.turns == 1
    assert store.load_session("s-2").messages[1].text == "hi there"


def test_resave_keeps_created_at_and_replaces(store_factory, fake_clock):
    store = store_factory(clock=fake_clock)
    first = store.save_session("s-1", run("s-1"), tags=["old"], description="one")
    fake_clock.advance(hours=2)
    second = store.save_session("s-1", run("s-1", cost=0.5)[:1], tags=["new"])
    assert second.created_at == first.created_at
    assert second.updated_at > first.updated_at
    assert second.message_count == 1
    assert second.tags == ("new",)
    assert second.description is None
    assert len(store.load_session("s-1").messages) == 1
    assert len(store.list_sessions()) == 1


def test_unknown_session(store):
    with pytest.raises(SessionNotFoundError):
        store.load_session("nope")
    assert store.get_session("nope") is None
    assert store.get_metadata("nope") is None
    assert store.delete_session("nope") is False
    with pytest.raises(SessionNotFoundError):
        store.add_tags("nope", ["x"])


def test_list_sessions_newest_first_with_paging(store_factory, fake_clock):
    store = store_factory(clock=fake_clock)
    for i in range(5):
        store.save_session(f"s-{i}", run(f"s-{i}"), tags=["even"] if i % 2 == 0 else [])
        fake_clock.advance(minutes=1)
    assert [m.session_id for m in store.list_sessions()] == [f"s-{i}" for i in range(4, -1, -1)]
    assert [m.session_id for m in store.list_sessions(2, 1)] == ["s-3", "s-2"]
    assert [m.session_id for m in store.list_sessions(tags="even")] == ["s-4", "s-2", "s-0"]
    assert len(store.list_sessions(project="/work/app")) == 5
    assert store.list_sessions(project="/elsewhere") == []


def test_tags_and_description_without_resending(store):
    store.save_session("s-1", run("s-1"), tags=["a"])
    assert store.add_tags("s-1", ["c", "b"]).tags == ("a", "b", "c")
    assert store.remove_tags("s-1", "a").tags == ("b", "c")
    assert store.set_description("s-1", "hello").description == "hello"
    assert store.set_description("s-1", None).description is None
    assert store.load_session("s-1").metadata.tags == ("b", "c")
    assert len(store.load_session("s-1").messages) == 3


def test_delete(store):
    store.save_session("s-1", run("s-1"))
    assert store.delete_session("s-1") is True
    assert store.get_session("s-1") is None
    assert store.search(text="Alice") == []


def test_resolve_id(store):
    for sid in ("abc123", "abd456", "xyz"):
        store.save_session(sid, run(sid))
    assert store.resolve_id("x") == "xyz"
    assert store.resolve_id("abc") == "abc123"
    assert store.resolve_id("xyz") == "xyz"
    with pytest.raises(AmbiguousSessionIdError) as caught:
        store.resolve_id("ab")
    assert caught.value.candidates == ("abc123", "abd456")
    assert isinstance(caught.value, LookupError)
    with pytest.raises(SessionNotFoundError):
        store.resolve_id("q")


@pytest.mark.parametrize("bad", BAD_IDS)
def test_invalid_ids_write_nothing(store, bad):
    store.save_session("keep", run("keep"))
    with pytest.raises(InvalidSessionIdError):
        store.save_session(bad, run("x"))
    with pytest.raises(InvalidSessionIdError):
        store.append_messages(bad, run("x"))
    with pytest.raises(InvalidSessionIdError):
        store.delete_session(bad)
    with pytest.raises(InvalidSessionIdError):
        store.load_session(bad)
    with pytest.raises(InvalidSessionIdError):
        store.add_tags(bad, ["x"])
    with pytest.raises(InvalidSessionIdError):
        store.resolve_id(bad)
    assert [m.session_id for m in store.list_sessions()] == ["keep"]
    assert isinstance(InvalidSessionIdError("x"), ValueError)


def test_unicode_and_long_valid_ids(store):
    for sid in ("a" * 255, "café-ü-日本", "with space"):
        store.save_session(sid, run(sid))
        assert store.load_session(sid).session_id == sid


def test_metadata_to_dict_is_json(store):
    meta = store.save_session("s-1", run("s-1"), tags=["t"])
    data = json.loads(json.dumps(meta.to_dict()))
    assert data["session_id"] == "s-1"
    assert data["tags"] == ["t"]
    assert data["created_at"].endswith("+00:00")


def test_files_are_private(tmp_path):
    with SessionStore(tmp_path / "new" / "dir", cleanup_after_days=None) as store:
        store.save_session("s-1", run("s-1"))
        db = Path(store.location)
    assert db.name == "sessions.db"
    assert stat.S_IMODE(os.stat(db.parent).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(db).st_mode) == 0o600


def test_locations(tmp_path, monkeypatch):
    file_store = SessionStore(f"sqlite://{tmp_path}/x.db", cleanup_after_days=None)
    assert file_store.location == str(tmp_path / "x.db")
    file_store.close()
    path_store = SessionStore(tmp_path / "y.sqlite3", cleanup_after_days=None)
    assert path_store.location == str(tmp_path / "y.sqlite3")
    path_store.close()
    with pytest.raises(StoreError, match="PostgreSQL"):
        SessionStore("postgresql://me:secret@db/x")
    with pytest.raises(StoreError) as caught:
        SessionStore("redis://me:secret@host/0")
    assert "secret" not in str(caught.value)
    monkeypatch.setenv("CLAUDE_SESSIONS_STORE", str(tmp_path / "env"))
    env_store = SessionStore(cleanup_after_days=None)
    assert env_store.location == str(tmp_path / "env" / "sessions.db")
    env_store.close()


def test_mask_password():
    from claude_sessions.store.location import mask_password

    assert mask_password("postgresql://me:s3cret@db:5432/x") == "postgresql://me:***@db:5432/x"
    assert mask_password("postgresql://db/x") == "postgresql://db/x"


def test_default_is_shared_per_location(tmp_path, monkeypatch):
    monkeypatch.setenv("CLAUDE_SESSIONS_STORE", str(tmp_path / "d1"))
    first = SessionStore.default()
    assert SessionStore.default() is first
    monkeypatch.setenv("CLAUDE_SESSIONS_STORE", str(tmp_path / "d2"))
    other = SessionStore.default()
    assert other is not first
    first.close()
    other.close()
    monkeypatch.setenv("CLAUDE_SESSIONS_STORE", str(tmp_path / "d1"))
    assert SessionStore.default() is not first  # a closed default is re-made
    SessionStore.default().close()


def test_closed_store_raises(tmp_path):
    store = SessionStore(tmp_path, cleanup_after_days=None)
    store.close()
    store.close()
    with pytest.raises(StoreError):
        store.list_sessions()


def test_store_is_usable_from_threads(store):
    from concurrent.futures import ThreadPoolExecutor

    def work(i):
        store.save_session(f"t-{i}", run(f"t-{i}"))
        return store.load_session(f"t-{i}").metadata.message_count

    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(work, range(40))) == [3] * 40
    assert len(store.list_sessions()) == 40


def test_sqlite_pragmas(tmp_path):
    store = SessionStore(tmp_path, cleanup_after_days=None)
    driver = store._driver
    assert isinstance(driver, SQLiteDriver)
    conn = driver._connect()
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 10_000
    store.close()


def test_record_run_saves_then_appends(store):
    first = store.record_run("r-1", run("r-1"), tags=["a"], description="first")
    assert first.message_count == 3
    second_run = [*run("r-1", cost=0.03)[:1], {**run("r-1")[1], "uuid": "r-1-b"}, run("r-1")[2]]
    meta = store.record_run("r-1", second_run, tags=["b"])
    assert meta.message_count == 6
    assert meta.tags == ("a", "b")
    assert meta.description == "first"
    assert store.record_run("r-2", run("r-2"), forked_from="r-1").forked_from == "r-1"
