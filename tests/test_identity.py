"""Each session's user and machine: where they come from, how every write records them,
and how they filter, group, show and copy (both databases)."""

from __future__ import annotations

import asyncio
import getpass
import json
import socket
import subprocess

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from claude_sessions import SessionFilter, SessionStore
from claude_sessions.cli import cli
from claude_sessions.mcp.tools import available_tools, call_tool, session_summary
from claude_sessions.model import identity
from claude_sessions.store import core
from claude_sessions.store.transfer import copy_store
from claude_sessions.views.render import export_session
from claude_sessions.views.stats import compute_stats
from claude_sessions.web import create_app

from .older_store import set_back, undo_identities, undo_tag_copies
from .store_fixtures import BACKENDS
from .store_samples import run, transcript


@pytest.fixture(autouse=True)
def fresh_identity(monkeypatch):
    """No identity from this machine's environment, and nothing cached between tests."""
    monkeypatch.delenv(identity.USER_ENV_VAR, raising=False)
    monkeypatch.delenv(identity.MACHINE_ENV_VAR, raising=False)
    identity._default_user.cache_clear()
    identity._host_name.cache_clear()
    yield
    identity._default_user.cache_clear()
    identity._host_name.cache_clear()


def _as(monkeypatch, user, machine):
    monkeypatch.setenv("CLAUDE_SESSIONS_USER", user)
    monkeypatch.setenv("CLAUDE_SESSIONS_MACHINE", machine)


@pytest.fixture
def git_config(tmp_path, monkeypatch):
    """A git whose only configuration is a file of this test's (``None``: no e-mail),
    run from a folder outside any repository."""

    def configure(email):
        config = tmp_path / "gitconfig"
        config.write_text(f"[user]\n\temail = {email}\n" if email else "")
        monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
        monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
        outside = tmp_path / "outside"
        outside.mkdir(exist_ok=True)
        monkeypatch.chdir(outside)

    return configure


# -- where they come from ---------------------------------------------------------------


def test_the_environment_comes_first(monkeypatch, git_config):
    git_config("from-git@example.com")
    _as(monkeypatch, " alice@example.com\n", "build-7")
    assert identity.current_identity() == identity.Identity("alice@example.com", "build-7")


def test_then_git_then_the_os_user_and_the_host_name(monkeypatch, git_config):
    git_config("bob@example.com")
    found = identity.current_identity()
    assert found == identity.Identity("bob@example.com", socket.gethostname())
    identity._default_user.cache_clear()
    git_config(None)
    monkeypatch.setenv("LOGNAME", "os-carol")  # what getpass reads first
    assert identity.current_identity().user == "os-carol" == getpass.getuser()


def test_git_runs_once_per_process(monkeypatch, git_config):
    git_config("dan@example.com")
    calls = []
    real = subprocess.run
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: calls.append(a) or real(*a, **k))
    assert [identity.current_identity().user for _ in range(3)] == ["dan@example.com"] * 3
    assert len(calls) == 1


def test_git_is_asked_only_when_a_session_is_created(store, monkeypatch):
    asked = []
    monkeypatch.setattr(
        core, "current_identity", lambda: asked.append(1) or identity.Identity("eve", "m1")
    )
    store.append_messages("s-1", transcript("s-1")[:2])
    assert len(asked) == 1
    store.append_messages("s-1", transcript("s-1")[2:])  # the session is stored: no need
    store.add_tags("s-1", "x")
    assert len(asked) == 1
    assert (store.get_metadata("s-1").user, store.get_metadata("s-1").machine) == ("eve", "m1")


# -- every write records them -----------------------------------------------------------


def test_every_kind_of_write_records_who_created_the_session(store, monkeypatch, tmp_path):
    _as(monkeypatch, "alice@example.com", "laptop")
    store.save_session("saved", run("saved"))
    store.record_run("ran", run("ran"))
    store.append_messages("appended", transcript("appended"))
    asyncio.run(
        store.sdk_store().append(
            {"project_key": "-p", "session_id": "mirrored"}, transcript("mirrored")
        )
    )
    for sid in ("saved", "ran", "appended", "mirrored"):
        found = store.get_metadata(sid)
        assert (found.user, found.machine) == ("alice@example.com", "laptop"), sid


def test_a_session_keeps_the_user_who_created_it(store, monkeypatch):
    _as(monkeypatch, "alice", "laptop")
    store.append_messages("s-1", transcript("s-1")[:2])
    _as(monkeypatch, "bob", "desk")
    store.append_messages("s-1", transcript("s-1")[2:])
    store.record_run("s-1", run("s-1"))
    assert (store.get_metadata("s-1").user, store.get_metadata("s-1").machine) == (
        "alice",
        "laptop",
    )


@pytest.fixture
def team(store, monkeypatch):
    """Sessions of alice on two machines and of bob on one, with their costs."""
    for sid, user, machine, cost in [
        ("a-lap", "alice", "laptop", 1.0),
        ("a-desk", "alice", "desk", 2.0),
        ("b-desk", "bob", "desk", 4.0),
    ]:
        _as(monkeypatch, user, machine)
        store.save_session(sid, run(sid, cost=cost))
    return store


def test_filters_and_groupings(team):
    assert {m.session_id for m in team.list_sessions(user="alice")} == {"a-lap", "a-desk"}
    assert {m.session_id for m in team.search(machine="desk")} == {"a-desk", "b-desk"}
    where = SessionFilter(user="alice", machine="desk")
    assert [m.session_id for m in team.list_sessions(where=where)] == ["a-desk"]
    assert team.list_sessions(user="ALICE") == []  # a user is matched exactly
    by_user = {b.key: (b.sessions, b.cost) for b in team.usage("user")}
    assert by_user == {("alice",): (2, 3.0), ("bob",): (1, 4.0)}
    by_both = {b.key: b.sessions for b in team.usage(("user", "machine"))}
    assert by_both == {("alice", "laptop"): 1, ("alice", "desk"): 1, ("bob", "desk"): 1}
    stats = compute_stats(team, by=("machine",), top=0)
    assert (stats.sessions, stats.total_cost) == (3, 7.0)
    assert {b.key: b.cost for b in stats.by["machine"]} == {"desk": 6.0, "laptop": 1.0}


def test_they_show_in_exports_and_mcp_results(team):
    metadata = team.get_metadata("b-desk")
    assert (metadata.to_dict()["user"], metadata.to_dict()["machine"]) == ("bob", "desk")
    summary = session_summary(metadata)
    assert (summary["user"], summary["machine"]) == ("bob", "desk")
    assert "User: bob on desk" in export_session(team, "b-desk", "text")
    assert "**User:** bob on desk" in export_session(team, "b-desk", "markdown")
    assert json.loads(export_session(team, "b-desk", "json"))["session"]["machine"] == "desk"


def test_the_mcp_tools_filter_and_group_by_them(team):
    tools = available_tools()
    listed = call_tool(team, "list_sessions", {"user": "alice", "machine": "desk"}, tools)
    assert not listed.is_error, listed.text
    assert [s["session_id"] for s in json.loads(listed.text)["sessions"]] == ["a-desk"]
    stats = call_tool(team, "session_stats", {"by": ["user"], "top": 0}, tools)
    assert not stats.is_error, stats.text
    by_user = {b["key"]: b["cost_usd"] for b in json.loads(stats.text)["by"]["user"]}
    assert by_user == {"bob": 4.0, "alice": 3.0}


def test_the_web_app_lists_filters_and_shows_them(team):
    client = TestClient(create_app(team))
    page = client.get("/", params={"user": "bob"})
    assert page.status_code == 200
    assert "b-desk" in page.text and "a-desk" not in page.text and "a-lap" not in page.text
    assert '<td class="user"' not in page.text  # one owner on the page: no column for it
    everyone = client.get("/").text
    assert '<td class="user" title="bob on desk">' in everyone
    assert '<td class="user" title="alice on laptop">' in everyone
    only_laptop = client.get("/", params={"machine": "laptop"}).text
    assert "a-lap" in only_laptop and "a-desk" not in only_laptop
    panel = client.get("/s/a-desk").text
    assert "<dt>User</dt>" in panel and ">alice</a>" in panel and ">desk</a>" in panel


def test_a_copy_between_stores_carries_them(team, store_factory):
    copy = store_factory()
    copy_store(team, copy)
    found = {m.session_id: (m.user, m.machine) for m in copy.list_sessions()}
    assert found == {
        "a-lap": ("alice", "laptop"),
        "a-desk": ("alice", "desk"),
        "b-desk": ("bob", "desk"),
    }


# -- the command line -----------------------------------------------------------------


def _cli(where, *args):
    done = CliRunner().invoke(cli, [*args, "--store", str(where)])
    assert done.exit_code == 0, done.output
    return done.output


def test_the_command_line_filters_groups_and_lists_them(tmp_path, monkeypatch):
    where = tmp_path / "store"
    with SessionStore(where, cleanup_after_days=None) as store:
        for sid, user, machine in [("a1", "alice", "lap"), ("b1", "bob", "desk")]:
            _as(monkeypatch, user, machine)
            store.save_session(sid, run(sid, cost=1.5 if user == "bob" else 0.5))
    listed = json.loads(_cli(where, "list", "--user", "bob", "--json"))
    assert [(m["session_id"], m["user"], m["machine"]) for m in listed] == [("b1", "bob", "desk")]
    assert [
        m["session_id"] for m in json.loads(_cli(where, "search", "--machine", "lap", "--json"))
    ] == ["a1"]
    stats = json.loads(_cli(where, "stats", "--by", "user", "--json"))
    assert {b["key"]: b["cost"] for b in stats["by"]["user"]} == {"bob": 1.5, "alice": 0.5}
    table = _cli(where, "list")
    assert "bob on desk" in table and "alice on lap" in table
    alone = _cli(where, "list", "--user", "bob")  # one owner: no column to repeat it
    assert "b1" in alone and "User" not in alone and "bob on desk" not in alone


# -- stores from before -----------------------------------------------------------------


def _without_identities(run, postgres):
    undo_tag_copies(run, postgres=postgres)
    undo_identities(run)


@pytest.mark.parametrize("backend", BACKENDS)
def test_sessions_stored_before_read_unknown(backend, request, tmp_path, monkeypatch):
    if backend == "sqlite":
        location = str(tmp_path / "old")
    else:
        location = request.getfixturevalue("postgres_database")
    with SessionStore(location, cleanup_after_days=None) as store:
        store.save_session("old", run("old", cost=1.5))
    set_back(location, sqlite=12, postgres=8, undo=_without_identities)
    _as(monkeypatch, "alice", "laptop")
    with SessionStore(location, cleanup_after_days=None) as store:
        old = store.get_metadata("old")
        assert (old.user, old.machine, old.total_cost) == ("unknown", "unknown", 1.5)
        store.save_session("new", run("new"))
        assert store.get_metadata("new").user == "alice"
        assert [m.session_id for m in store.list_sessions(user="unknown")] == ["old"]
