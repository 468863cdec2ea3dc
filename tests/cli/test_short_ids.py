"""Ids shown short are the shortest prefix (8 characters at least, as git shows commits)
that names the session alone, and every command taking an id takes it back: ids that
share their first 8 characters (``session-1``, ``agent-tests-a``) stay apart. Through
click's CliRunner, the web app and the MCP tools, on both databases."""

from __future__ import annotations

import re

from starlette.testclient import TestClient

from claude_sessions.mcp.tools import available_tools, call_tool
from claude_sessions.web import create_app

from ..store_samples import run
from ..transcript_samples import sid

# Ids as hand-made, legacy and generated sessions have them, and the prefix that names each.
SHOWN = {
    "session-1": "session-1",  # also the start of session-10: the whole id (exact wins)
    "session-10": "session-10",
    "session-2b": "session-2",
    "agent-tests-a": "agent-tests-a",
    "agent-tests-b": "agent-tests-b",
    "agent-te0001": "agent-te0",
    sid(0xABC): "00000abc",
}


def _save_all(store) -> None:
    for session_id in SHOWN:
        store.save_session(session_id, run(session_id, text=f"work of {session_id}"))


def test_the_store_finds_the_shortest_unique_prefix(store) -> None:
    _save_all(store)
    assert store.unique_prefixes(SHOWN) == SHOWN
    for session_id, prefix in SHOWN.items():
        assert store.resolve_id(prefix) == session_id
    store.delete_session("agent-tests-a")  # among the trash it stands alone
    assert store.unique_prefixes(["agent-tests-a"], trashed=True) == {"agent-tests-a": "agent-te"}
    assert store.unique_prefixes(["agent-tests-b"]) == {"agent-tests-b": "agent-tes"}


def _ids_column(output: str) -> list[str]:
    cells = [line.split("│")[0].strip() for line in output.splitlines() if "│" in line]
    return [cell for cell in cells if cell]  # a snippet's line leaves the cell empty


def test_list_shows_ids_every_command_takes_back(invoke, store) -> None:
    _save_all(store)
    listed = invoke("list")
    assert listed.exit_code == 0, listed.output
    assert sorted(_ids_column(listed.output)) == sorted(SHOWN.values())
    for session_id, prefix in SHOWN.items():
        shown = invoke("show", prefix)
        assert shown.exit_code == 0 and f"Session: {session_id}\n" in shown.output
        tagged = invoke("tag", prefix, "+seen")
        assert tagged.output == f"{prefix}: seen\n"
    assert all("seen" in store.get_metadata(session_id).tags for session_id in SHOWN)
    searched = invoke("search", "work")
    assert sorted(_ids_column(searched.output)) == sorted(SHOWN.values())


def test_the_trash_names_what_restore_takes(invoke, store) -> None:
    _save_all(store)
    assert "(claude-sessions trash restore agent-te)" in invoke("delete", "agent-tests-a").output
    deleted = invoke("delete", "agent-te0001")  # now two in the trash share 8 characters
    assert "(claude-sessions trash restore agent-te0)" in deleted.output
    listed = invoke("trash", "list")
    assert sorted(line.split("  ")[0] for line in listed.stdout.splitlines()) == [
        "agent-te0",
        "agent-tes",
    ]
    restored = invoke("trash", "restore", "agent-tes")
    assert restored.exit_code == 0 and restored.output == "Restored agent-tests-a\n"


def test_the_web_lineage_and_mcp_take_the_shown_prefix(store) -> None:
    _save_all(store)
    store.save_session("session-3", run("session-3"), forked_from="session-2b")
    client = TestClient(create_app(store))
    svg = client.get("/s/session-3/lineage").text
    assert re.search(r'class="node-meta"[^>]*>session-2 · ', svg)
    assert "forked from session-2<" in svg
    page = client.get("/s/session-2", follow_redirects=False)
    assert page.status_code == 302 and page.headers["location"] == "/s/session-2b"
    outcome = call_tool(store, "get_session", {"session_id": "agent-te0"}, available_tools())
    assert not outcome.is_error and "agent-te0001" in outcome.text
