"""Search by the place words were said in, on the real fixtures: the sessions expected
for a word are read from the raw lines, and the library, the command line, the MCP
tool and the web app are each asked, on both databases."""

from __future__ import annotations

import html
import json
import re
import shutil
from typing import Any
from urllib.parse import quote

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from claude_sessions import SessionStore
from claude_sessions.cli import cli
from claude_sessions.importer import import_transcripts
from claude_sessions.mcp.tools import TOOLS, call_tool
from claude_sessions.store.search_index import update_search_index
from claude_sessions.web import create_app

from .fixture_words import FIXTURES, WORD, only_in, tool_callers, words_by_place

PLACES = ("prompt", "reply", "tool", "subagent")


@pytest.fixture(scope="module")
def found() -> dict[str, dict[str, set[str]]]:
    return words_by_place()


@pytest.fixture
def imported(store_location, tmp_path):
    """The fixtures imported (and indexed) into a store the faces open by location."""
    root = tmp_path / "config"
    shutil.copytree(FIXTURES / "projects", root / "projects")
    with SessionStore(store_location, cleanup_after_days=None) as store:
        import_transcripts(store, [root])
        update_search_index(store)
        yield store, store_location


def _titles(store: SessionStore) -> set[str]:
    """The words of titles and descriptions (a session's own text, not a place's)."""
    return {
        word
        for session in store.list_sessions()
        for part in (session.title, session.description)
        for word in WORD.findall((part or "").lower())
    }


def _cli(location: str, *args: str) -> set[str]:
    result = CliRunner().invoke(
        cli, ["search", *args, "--json"], env={"CLAUDE_SESSIONS_STORE": location}
    )
    assert result.exit_code == 0, result.output
    return {item["session_id"] for item in json.loads(result.stdout)}


def _mcp(store: SessionStore, arguments: dict[str, Any]) -> list[dict[str, Any]]:
    outcome = call_tool(store, "search_sessions", {**arguments, "limit": 50}, TOOLS)
    assert not outcome.is_error, outcome.text
    answer = json.loads(outcome.text)
    assert "not_indexed" not in answer
    sessions: list[dict[str, Any]] = answer["sessions"]
    return sessions


def _web(store: SessionStore, query: dict[str, str]) -> str:
    with TestClient(create_app(store)) as client:
        page = client.get("/", params=query)
    assert page.status_code == 200
    return page.text


@pytest.mark.parametrize("place", ["tool", "subagent", "prompt", "reply"])
def test_a_word_said_in_one_place_is_found_there_and_nowhere_else(imported, found, place):
    store, location = imported
    word = only_in(found, place, _titles(store))
    expected = found[word][place]
    others = [p for p in PLACES if p != place]
    assert {s.session_id for s in store.search(text=word)} == expected
    there = store.search(text=word, places=[place])
    assert {s.session_id for s in there} == expected
    assert all(s.match_uuid and s.match_where.startswith(place) for s in there)
    assert store.search(text=word, places=others) == []
    # The command line, the MCP tool and the web app, each with the same filter.
    assert _cli(location, word) == expected
    assert _cli(location, word, "--in", place) == expected
    assert _cli(location, word, *(f"--in={p}" for p in others)) == set()
    answers = _mcp(store, {"text": word, "places": [place]})
    assert {item["session_id"] for item in answers} == expected
    assert all(item["match_where"].startswith(place) for item in answers)
    assert _mcp(store, {"text": word, "places": others}) == []
    page = _web(store, {"text": word, "in": place})
    for session in there:
        assert f"/s/{session.session_id}?q={quote(word)}#m-{session.match_uuid}" in page
        assert html.escape(session.match_where) in page
    assert sum(page.count(f"/s/{sid}?q={quote(word)}#m-") for sid in expected) == len(expected)
    assert "No sessions" in _web(store, {"text": word, "in": ",".join(others)})


def _said_apart(found: dict[str, dict[str, set[str]]], avoid: set[str]) -> str:
    """The word said in prompts and in replies whose sessions differ most between the
    two (not a title's or a description's word)."""
    both = [
        (len(places["prompt"] ^ places["reply"]), word)
        for word, places in found.items()
        if places.get("prompt")
        and places.get("reply")
        and word.isalpha()
        and len(word) > 4
        and word not in avoid
    ]
    return max(both)[1]


def test_prompts_and_replies_are_searched_apart(imported, found):
    store, location = imported
    word = _said_apart(found, _titles(store))
    assert found[word]["prompt"] != found[word]["reply"]
    every = {s.session_id for s in store.list_sessions()}
    for place in ("prompt", "reply"):
        expected = found[word][place]
        there = store.search(text=word, places=[place], limit=50)
        assert {s.session_id for s in there} == expected
        assert all(s.match_where == place for s in there)
        assert _cli(location, word, "--in", place) == expected
        answers = _mcp(store, {"text": word, "places": [place]})
        assert {item["session_id"] for item in answers} == expected
        page = _web(store, {"text": word, "in": place})
        linked = {sid for sid in every if f"/s/{sid}?q={quote(word)}#m-" in page}
        assert linked == expected


def test_the_message_a_match_names_holds_the_word(imported, found):
    store, _ = imported
    for place in ("tool", "subagent"):
        word = only_in(found, place, _titles(store))
        for result in store.search(text=word, places=[place]):
            loaded = store.load_session(result.session_id, subagents=True)
            messages = [*loaded.messages, *(m for ms in loaded.subagents.values() for m in ms)]
            holding = [m for m in messages if m.uuid == result.match_uuid]
            assert holding, (word, result.match_where)
            assert word in json.dumps(holding[0].to_dict(), ensure_ascii=False).lower()


def test_a_match_in_a_tool_call_names_the_tool(imported, found):
    store, _ = imported
    word = only_in(found, "tool", _titles(store))
    wheres = {s.match_where for s in store.search(text=word, places=["tool"])}
    assert wheres and all(re.fullmatch(r"tool (input|result) of \w+", w) for w in wheres)


def test_a_search_by_tool_name_finds_the_sessions_that_called_it(imported):
    store, location = imported
    callers = tool_callers()
    for name in ("Bash", "Read", "Task"):
        assert callers[name]
        assert {s.session_id for s in store.list_sessions(tool=name)} == callers[name]
        assert {m["session_id"] for m in _mcp(store, {"tool": name})} == callers[name]
        assert _cli(location, "--tool", name) == callers[name]
        page = _web(store, {"tool": name})
        assert all(f"/s/{session_id}" in page for session_id in callers[name])
        others = {s.session_id for s in store.list_sessions()} - callers[name]
        assert others and not any(f"/s/{session_id}" in page for session_id in others)
    assert store.list_sessions(tool="Bas") == []  # a whole name, not a piece of one
