"""Who sees what through the command line and the MCP server, on both databases: both
act as the user ``$CLAUDE_SESSIONS_USER`` names when it names a user of the store
(else with no team rules); ``share``, ``users set --share-by-default`` and the admins'
``audit``; a change refused to a member is one line and a non-zero exit."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from click.testing import CliRunner

from claude_sessions import SessionStore
from claude_sessions.cli import cli
from claude_sessions.mcp.server import open_served
from claude_sessions.mcp.tools import available_tools, call_tool
from claude_sessions.model.identity import USER_ENV_VAR
from claude_sessions.store import visibility

from .team_samples import MEMBERS, SAMPLES, Team, make_team


@pytest.fixture
def team(store_location: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Team]:
    with SessionStore(store_location) as store:
        found = make_team(store, monkeypatch)
        found.location = store_location  # with its password: the store's own is masked
        yield found


def _cli(team: Team, who: str | None, *args: str) -> Any:
    # the samples are months old: automatic cleanup would move them to the trash
    env = {"CLAUDE_SESSIONS_CLEANUP_DAYS": "never", **({USER_ENV_VAR: who} if who else {})}
    return CliRunner().invoke(cli, [*args, "--store", team.location], env=env)


def _listed(team: Team, who: str | None) -> set[str]:
    listed = _cli(team, who, "list", "--json")
    assert listed.exit_code == 0, listed.output
    return {m["session_id"] for m in json.loads(listed.output)}


def _leaks(team: Team, name: str, text: str) -> list[str]:
    return [s.marker for s in team.hidden_from(name) if s.marker in text]


@pytest.mark.parametrize("name", MEMBERS)
def test_the_command_line_shows_a_member_only_what_they_may_see(team: Team, name: str) -> None:
    listed = _cli(team, name, "list", "--json")
    assert listed.exit_code == 0, listed.output
    assert {m["session_id"] for m in json.loads(listed.output)} == team.visible_to(name)
    for command in (["search", "commonword", "--json"], ["stats", "--json"], ["list"]):
        shown = _cli(team, name, *command)
        assert shown.exit_code == 0, shown.output
        assert not _leaks(team, name, shown.output), command
    for sample in team.hidden_from(name):
        hidden = _cli(team, name, "show", sample.session_id)
        missing = _cli(team, name, "show", "qx-nosuchsession")
        assert hidden.exit_code == missing.exit_code != 0
        assert hidden.output.replace(sample.session_id, "X") == missing.output.replace(
            "qx-nosuchsession", "X"
        )


def test_without_a_user_of_the_store_the_command_line_sees_everything(team: Team) -> None:
    for who in (None, "someone-else"):
        listed = _cli(team, who, "list", "--json")
        assert {m["session_id"] for m in json.loads(listed.output)} == {
            s.session_id for s in SAMPLES
        }


def test_a_refused_change_is_one_line_and_a_non_zero_exit(team: Team) -> None:
    for command in (
        ["tag", "qx-zaliceshared", "x"],
        ["describe", "qx-zaliceshared", "x"],
        ["share", "qx-zaliceshared", "--off"],
        ["delete", "qx-zaliceshared"],
    ):
        refused = _cli(team, "bob", *command)
        assert refused.exit_code != 0, command
        assert refused.output.startswith("Error: only the owner"), refused.output
        assert refused.output.count("\n") == 1
    assert team.store.get_metadata("qx-zaliceshared").shared
    assert team.store.get_metadata("qx-zaliceshared").tags == ()


def test_share_and_the_audit_log(team: Team) -> None:
    shared = _cli(team, "bob", "share", "qx-zbobhidden")
    assert shared.exit_code == 0, shared.output
    assert "qx-zbobhidden" in _listed(team, "alice")
    assert _cli(team, "bob", "share", "qx-zbobhidden", "--off").exit_code == 0
    assert "qx-zbobhidden" not in _listed(team, "alice")
    _cli(team, "bob", "export", "qx-zbobhidden", "--format", "json")
    refused = _cli(team, "bob", "audit")
    assert refused.exit_code != 0 and "only an admin" in refused.output
    log = json.loads(_cli(team, "root", "audit", "--json").output)
    made = [(e["actor"], e["action"], e["session_id"]) for e in log]
    assert made[-3:] == [
        ("bob", "share", "qx-zbobhidden"),
        ("bob", "unshare", "qx-zbobhidden"),
        ("bob", "export", "qx-zbobhidden"),
    ]
    tomorrow = (datetime.now(timezone.utc) + timedelta(days=1)).date().isoformat()
    assert json.loads(_cli(team, "root", "audit", "--since", tomorrow, "--json").output) == []
    text = _cli(team, None, "audit").output
    assert "bob  export  qx-zbobhidden  json" in text


def test_users_set_share_by_default(team: Team, monkeypatch: pytest.MonkeyPatch) -> None:
    done = _cli(team, None, "users", "set", "alice", "--share-by-default", "on")
    assert done.exit_code == 0, done.output
    monkeypatch.setenv(USER_ENV_VAR, "alice")
    team.store.save_session("qx-zalicenew", [])
    assert team.as_("bob").get_metadata("qx-zalicenew") is not None
    unknown = _cli(team, None, "users", "set", "nobody", "--share-by-default", "off")
    assert unknown.exit_code != 0 and unknown.output.startswith("Error: no user named")


@pytest.mark.parametrize("name", MEMBERS)
def test_the_mcp_server_answers_as_the_user_of_the_environment(
    team: Team, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(USER_ENV_VAR, name)
    served = open_served(team.location, allow_write=True)
    assert isinstance(served, SessionStore)
    tools = available_tools(allow_write=True)
    try:
        listed = call_tool(served, "list_sessions", {"limit": 50}, tools)
        assert not listed.is_error
        assert not _leaks(team, name, listed.text)
        assert all(s in listed.text for s in team.visible_to(name))
        for sample in team.hidden_from(name):
            hidden = call_tool(served, "get_session", {"session_id": sample.session_id}, tools)
            missing = call_tool(served, "get_session", {"session_id": "qx-nosuchsession"}, tools)
            assert hidden.is_error and missing.is_error
            assert hidden.text.replace(sample.session_id, "X") == missing.text.replace(
                "qx-nosuchsession", "X"
            )
        lineage = call_tool(served, "session_lineage", {"session_id": "qx-zalicefork"}, tools)
        assert not _leaks(team, name, lineage.text)
        tagged = call_tool(
            served, "tag_session", {"session_id": "qx-zaliceshared", "add": ["x"]}, tools
        )
        assert tagged.is_error == (name != "alice")
    finally:
        served.close()
    monkeypatch.setenv(USER_ENV_VAR, "root")
    every = open_served(team.location, allow_write=False)
    try:
        listed = call_tool(every, "list_sessions", {"limit": 50}, available_tools())
        assert all(s.session_id in listed.text for s in SAMPLES)
    finally:
        every.close()
    assert visibility.environment_viewer(team.store).name == "root"
