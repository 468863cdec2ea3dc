"""The trash: delete and cleanup move sessions aside, whole and restorable, until emptied."""

from __future__ import annotations

import logging
import uuid

import pytest

from claude_sessions import SessionConflictError, SessionNotFoundError

from .store_samples import run


def save_at(store, clock, sid, days_ago, **kwargs):
    clock.advance(days=-days_ago)
    store.save_session(sid, run(sid), **kwargs)
    clock.advance(days=days_ago)


def test_delete_moves_a_session_to_the_trash_and_restore_brings_it_back_whole(
    store_factory, fake_clock
):
    store = store_factory(clock=fake_clock)
    store.save_session("s1", run("s1"), tags=["alpha", "beta"], description="the one")
    store.append_messages("s1", [{"type": "user", "uuid": "sub-1"}], subpath="subagents/agent-a")
    before = store.load_session("s1", subagents=True)
    fake_clock.advance(hours=1)
    assert store.delete_session("s1") is True
    assert store.get_session("s1") is None
    assert store.list_sessions() == [] and store.search(tags=["alpha"]) == []
    trashed = store.list_trash()
    assert [m.session_id for m in trashed] == ["s1"]
    assert trashed[0].trashed_at == fake_clock.now
    assert trashed[0].tags == ("alpha", "beta") and trashed[0].description == "the one"
    assert store.resolve_id("s", trashed=True) == "s1"
    with pytest.raises(SessionNotFoundError):
        store.resolve_id("s")
    restored = store.restore_session("s1")
    assert restored.trashed_at is None
    after = store.load_session("s1", subagents=True)
    assert after.messages == before.messages and after.subagents == before.subagents
    assert after.metadata == before.metadata  # times, tags, description, figures: all kept
    assert store.list_trash() == []
    with pytest.raises(SessionNotFoundError):
        store.restore_session("s1")  # not in the trash any more


def test_purge_and_empty_trash(store_factory, fake_clock):
    store = store_factory(clock=fake_clock)
    for sid in ("a", "b", "c", "d"):
        store.save_session(sid, run(sid))
    assert store.delete_session("a", purge=True) is True
    assert store.list_trash() == [] and store.get_session("a") is None
    store.trash_session("b")
    fake_clock.advance(days=10)
    store.trash_session("c")
    store.trash_session("d")
    assert store.empty_trash(older_than_days=5) == 1  # b only
    assert {m.session_id for m in store.list_trash()} == {"c", "d"}
    assert store.empty_trash(session_id="c") == 1
    assert store.empty_trash() == 1
    assert store.list_trash() == [] and store.list_sessions() == []
    assert store.delete_session("nope") is False


def test_restore_refuses_to_replace_a_live_session_with_the_same_id(store_factory):
    store = store_factory()
    store.save_session("same", run("same"), description="old")
    store.delete_session("same")
    store.save_session("same", run("same"), description="new")
    with pytest.raises(SessionConflictError):
        store.restore_session("same")
    assert store.get_metadata("same").description == "new"
    assert [m.description for m in store.list_trash()] == ["old"]


def test_saving_a_trashed_id_starts_a_new_session_and_leaves_the_trash_alone(store_factory):
    store = store_factory()
    store.save_session("again", run("again"), tags=["first"])
    store.delete_session("again")
    store.save_session("again", run("again"), tags=["second"])
    assert store.get_metadata("again").tags == ("second",)
    assert [m.tags for m in store.list_trash()] == [("first",)]


def test_automatic_cleanup_moves_to_the_trash_logs_it_and_empties_after_the_grace_period(
    store_factory, fake_clock, tmp_path, caplog
):
    where = tmp_path / "auto"
    store = store_factory(where, clock=fake_clock, cleanup_after_days=30, trash_days=30)
    save_at(store, fake_clock, "old", 40)
    save_at(store, fake_clock, "kept", 40, tags=["keep"])
    save_at(store, fake_clock, "fresh", 1)
    fake_clock.advance(days=1)
    with caplog.at_level(logging.INFO, logger="claude_sessions.store"):
        again = store_factory(where, clock=fake_clock, cleanup_after_days=30, trash_days=30)
    assert "moved 1 sessions not updated for 30 days to the trash" in caplog.text
    assert {m.session_id for m in again.list_sessions()} == {"kept", "fresh"}
    assert [m.session_id for m in again.list_trash()] == ["old"]
    caplog.clear()
    fake_clock.advance(days=31)  # the grace period ends: the trash is emptied for real
    with caplog.at_level(logging.INFO, logger="claude_sessions.store"):
        later = store_factory(where, clock=fake_clock, cleanup_after_days=None, trash_days=30)
    assert "deleted 1 sessions that were in the trash" in caplog.text
    assert later.list_trash() == []


def test_a_read_only_store_never_cleans_up(store_factory, fake_clock, tmp_path):
    where = tmp_path / "ro"
    store = store_factory(where, clock=fake_clock, cleanup_after_days=None)
    save_at(store, fake_clock, "old", 90)
    fake_clock.advance(days=1)
    reader = store_factory(where, clock=fake_clock, cleanup_after_days=1, read_only=True)
    assert [m.session_id for m in reader.list_sessions()] == ["old"]
    assert reader.list_trash() == []


def test_twenty_two_thousand_sessions_nothing_lost(store_factory, fake_clock, tmp_path, request):
    """A store of 22,000 sessions, most idle for over 30 days (2,200 on PostgreSQL, the
    same shape): reading moves nothing; cleanup moves the idle ones to the trash, no
    more, and restoring brings each back whole."""
    postgres = "postgresql" in request.node.callspec.id
    total = 2_200 if postgres else 22_000
    idle = total * 21_384 // 22_000
    protected = total // 100
    where = tmp_path / "big"
    store = store_factory(where, clock=fake_clock, cleanup_after_days=None)
    ids = [str(uuid.UUID(int=n + 1)) for n in range(total)]
    fake_clock.advance(days=-45)
    for n, sid in enumerate(ids[:idle]):
        tags = ["keep"] if n < protected else ["batch"]
        store.save_session(sid, run(sid), tags=tags)
    fake_clock.advance(days=44)
    for sid in ids[idle:]:
        store.save_session(sid, run(sid), tags=["batch"])
    fake_clock.advance(days=1)

    reader = store_factory(where, clock=fake_clock, cleanup_after_days=None)
    assert len(reader.list_sessions()) == total  # a reader moves nothing

    sample = ids[protected + 7]
    before = store.load_session(sample)
    writer = store_factory(where, clock=fake_clock, cleanup_after_days=30)  # cleanup runs here
    live = writer.search(limit=None)
    trashed = writer.list_trash()
    assert len(trashed) == idle - protected
    assert len(live) == total - idle + protected
    assert {m.session_id for m in live} | {m.session_id for m in trashed} == set(ids)
    assert writer.restore_session(sample).tags == ("batch",)
    after = writer.load_session(sample)
    assert after.messages == before.messages and after.metadata == before.metadata
    assert len(writer.list_trash()) == idle - protected - 1


def test_the_command_line_says_what_automatic_cleanup_moved_and_reading_moves_nothing(tmp_path):
    from datetime import datetime, timezone

    from click.testing import CliRunner

    from claude_sessions import SessionStore
    from claude_sessions.cli import cli

    where = tmp_path / "cli"
    long_ago = SessionStore(
        where, cleanup_after_days=None, clock=lambda: datetime(2025, 1, 1, tzinfo=timezone.utc)
    )
    for sid in ("old-1", "old-2", "old-3"):
        long_ago.save_session(sid, run(sid))
    long_ago.close()
    with SessionStore(where, cleanup_after_days=None) as now:
        now.save_session("fresh", run("fresh"))
    env = {"CLAUDE_SESSIONS_STORE": str(where), "CLAUDE_SESSIONS_CLEANUP_DAYS": "30"}
    runner = CliRunner()
    listed = runner.invoke(cli, ["list", "--json"], env=env)
    assert listed.exit_code == 0 and len(listed.stdout.split('"session_id"')) == 5
    assert "trash" not in listed.stderr
    tagged = runner.invoke(cli, ["tag", "fresh", "+seen"], env=env)
    assert tagged.exit_code == 0
    assert tagged.stderr.strip() == (
        "moved 3 sessions not updated for 30 days to the trash; "
        "`claude-sessions trash list` shows them"
    )
    trash = runner.invoke(cli, ["trash", "list"], env=env)
    assert trash.stdout.count("old-") == 3 and "3 session(s) in the trash." in trash.stderr


def live_copies(store, session_id):
    """How many live sessions hold this id (every row a listing holds, read independently)."""
    return [m for m in store.search(limit=None) if m.session_id == session_id]


def test_restore_refuses_when_the_id_is_live_under_another_project(store_factory):
    store = store_factory()
    store.save_session("moved", run("moved"), project="/work/a", description="trashed")
    store.delete_session("moved")
    store.save_session("moved", run("moved"), project="/work/b", description="saved since")
    with pytest.raises(SessionConflictError, match="moved"):
        store.restore_session("moved")
    assert [m.description for m in live_copies(store, "moved")] == ["saved since"]
    assert [m.description for m in store.list_trash()] == ["trashed"]


def test_restore_refuses_when_the_sdk_wrote_the_id_under_another_project_key(store_factory):
    store = store_factory()
    store.append_messages("sdk", [{"type": "user", "uuid": "u-1"}], project_key="key-a")
    store.delete_session("sdk")
    store.append_messages("sdk", [{"type": "user", "uuid": "u-2"}], project_key="key-b")
    with pytest.raises(SessionConflictError):
        store.restore_session("sdk")
    assert [m.project_key for m in live_copies(store, "sdk")] == ["key-b"]
    assert [m.project_key for m in store.list_trash()] == ["key-a"]


def test_a_session_trashed_under_two_project_keys_comes_back_as_one(store_factory, fake_clock):
    """The copy a reader saw before the delete (the one updated last) comes back; the
    other stays in the trash, since a session id names at most one live session."""
    store = store_factory(clock=fake_clock)
    store.append_messages("twice", [{"type": "user", "uuid": "u-1"}], project_key="key-old")
    fake_clock.advance(minutes=5)
    store.append_messages("twice", [{"type": "user", "uuid": "u-2"}], project_key="key-new")
    shown = store.get_metadata("twice")
    assert shown.project_key == "key-new" and len(live_copies(store, "twice")) == 2
    fake_clock.advance(minutes=5)
    assert store.delete_session("twice") is True
    assert store.restore_session("twice") == shown
    assert live_copies(store, "twice") == [shown]
    assert [m.project_key for m in store.list_trash()] == ["key-old"]
    with pytest.raises(SessionConflictError):
        store.restore_session("twice")
    assert live_copies(store, "twice") == [shown]
