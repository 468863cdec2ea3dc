"""A search kept to prompts or to replies is answered by an index holding them apart
(SQLite: the side index; PostgreSQL: ``aside_text.own``), on both databases: full
pages, no match missed however deep in a session it lies, and for older stores."""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner

from claude_sessions import SessionStore
from claude_sessions.cli import cli
from claude_sessions.store.search_index import update_search_index

from .transcript_samples import _common, sid

WORD = "ocelot"
DEEP = 1_005  # entries holding the word before the one in the place searched (> 1,000)


def _said(session_id: str, n: int, parent: str | None, kind: str, text: str) -> dict[str, Any]:
    entry = _common(session_id, n, parent, n % 60)
    if kind == "user":
        entry.update(type="user", message={"role": "user", "content": text})
    else:
        entry.update(
            type="assistant",
            message={
                "id": f"msg_{session_id}_{n}",
                "type": "message",
                "role": "assistant",
                "model": "claude-sonnet-4-5-20250929",
                "content": [{"type": "text", "text": text}],
            },
        )
    return entry


def _session(session_id: str, said: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """Entries saying each ``(kind, text)`` in turn, each the next one's parent."""
    entries: list[dict[str, Any]] = []
    for n, (kind, text) in enumerate(said):
        parent = entries[-1]["uuid"] if entries else None
        entries.append(_said(session_id, n, parent, kind, text))
    return entries


def _deep(session_id: str, place: str) -> list[dict[str, Any]]:
    """The word said DEEP times in the other place first, then once in ``place``."""
    kind, other = ("user", "assistant") if place == "prompt" else ("assistant", "user")
    return _session(session_id, [(other, f"the {WORD} {n}") for n in range(DEEP)] + [(kind, WORD)])


def _found(store: SessionStore, place: str, **more: Any) -> list[str]:
    return [s.session_id for s in store.search(text=WORD, places=[place], **more)]


def test_a_match_past_a_thousand_entries_holding_the_word_is_found_and_named(store):
    store.save_session(sid(1), _deep(sid(1), "prompt"))
    store.save_session(sid(2), _deep(sid(2), "reply"))
    update_search_index(store)
    for place in ("prompt", "reply"):
        found = store.search(text=WORD, places=[place])
        assert {s.session_id for s in found} == {sid(1), sid(2)}
        assert all(s.match_where == place for s in found)
        prefix = store.search(text=f"{WORD[:4]}*", places=[place])  # a word's start
        assert {s.session_id for s in prefix} == {sid(1), sid(2)}
        phrase = store.search(text=f'"the {WORD}"', places=[place])
        assert {s.session_id for s in phrase} == {sid(2) if place == "prompt" else sid(1)}


def test_a_page_kept_to_prompts_is_full(store):
    # Replies saying the word often rank first in the conversation's own index.
    for n in range(1, 5):
        said = [("user", "hi"), ("assistant", f"{WORD} {WORD} {WORD}")]
        store.save_session(sid(n), _session(sid(n), said))
    for n in range(5, 8):
        said = [("user", f"a long prompt about many things and one {WORD} among them")]
        store.save_session(sid(n), _session(sid(n), [*said, ("assistant", "done")]))
    update_search_index(store)
    prompts = {sid(n) for n in range(5, 8)}
    first = store.search_page(text=WORD, places=["prompt"], limit=2)
    assert len(first.sessions) == 2 and {s.session_id for s in first.sessions} <= prompts
    rest = store.search_page(text=WORD, places=["prompt"], limit=2, cursor=first.next_cursor)
    assert {s.session_id for s in [*first.sessions, *rest.sessions]} == prompts
    assert set(_found(store, "reply")) == {sid(n) for n in range(1, 5)}


# PostgreSQL 19: before this; 20: main's last version before this one took 20 (the
# last step keeps the last number).
@pytest.mark.parametrize("postgres_version", [19, 20])
def test_an_older_store_searches_prompts_and_replies_apart_once_upgraded(
    store_location, postgres_version
):
    from .older_store import set_back

    with SessionStore(store_location, cleanup_after_days=None) as store:
        store.save_session(sid(1), _deep(sid(1), "prompt"))
        store.save_session(sid(2), _session(sid(2), [("user", "hi"), ("assistant", WORD)]))
        update_search_index(store)

    def undo(run: Any, postgres: bool) -> None:
        if postgres:  # as PostgreSQL 19 left it: no prompts or replies apart
            run("ALTER TABLE aside_text DROP COLUMN IF EXISTS own")

    set_back(store_location, sqlite=23, postgres=postgres_version, undo=undo)
    if not store_location.startswith("postgresql://"):  # a side index of version 1
        import sqlite3
        from pathlib import Path

        with sqlite3.connect(Path(store_location) / "sessions.search.db") as conn:
            conn.execute("PRAGMA user_version = 1")
    env = {"CLAUDE_SESSIONS_STORE": store_location}
    for place, expected in (("prompt", {sid(1)}), ("reply", {sid(1), sid(2)})):
        # PostgreSQL fills them in as it upgrades; SQLite's first search indexes them.
        result = CliRunner().invoke(cli, ["search", WORD, "--in", place, "--json"], env=env)
        assert result.exit_code == 0, result.output
        assert {item["session_id"] for item in json.loads(result.stdout)} == expected
        assert all(item["match_where"] == place for item in json.loads(result.stdout))


def _tool_call(session_id: str, command: str) -> list[dict[str, Any]]:
    entry = _said(session_id, 0, None, "assistant", "")
    entry["message"]["content"] = [
        {"type": "tool_use", "id": "toolu_1", "name": "Bash", "input": {"command": command}}
    ]
    return [entry]


def test_a_purged_sessions_tool_words_never_find_another_session(tmp_path):
    """The side index keeps a dropped chunk's words (it holds no text to delete them
    by): a chunk indexed after must not take its number."""
    with SessionStore(tmp_path / "store", cleanup_after_days=None) as store:
        store.save_session(sid(1), _tool_call(sid(1), f"ls {WORD}"))
        update_search_index(store)
        assert [s.session_id for s in store.search(text=WORD)] == [sid(1)]
        assert store.delete_session(sid(1), purge=True)
        update_search_index(store)
        store.save_session(sid(2), _tool_call(sid(2), "ls elsewhere"))
        update_search_index(store)
        assert store.search(text=WORD) == []
        assert [s.session_id for s in store.search(text="elsewhere")] == [sid(2)]


def test_a_search_kept_to_prompts_says_what_is_not_indexed_yet(tmp_path):
    from starlette.testclient import TestClient

    from claude_sessions.mcp.tools import TOOLS, call_tool
    from claude_sessions.web import create_app

    with SessionStore(tmp_path / "store", cleanup_after_days=None) as store:
        store.save_session(sid(1), _session(sid(1), [("user", f"the {WORD} prompt")]))
        arguments = {"text": WORD, "places": ["prompt"]}
        answer = json.loads(call_tool(store, "search_sessions", arguments, TOOLS).text)
        assert answer["sessions"] == []  # not in the index of prompts apart yet
        assert answer["not_indexed"].startswith("prompt text of 1 session not indexed yet")
        with TestClient(create_app(store)) as client:
            page = client.get("/", params={"text": WORD, "in": "prompt"}).text
        assert "Prompt text of 1 session not indexed yet" in page
        update_search_index(store)
        answer = json.loads(call_tool(store, "search_sessions", arguments, TOOLS).text)
        assert "not_indexed" not in answer
        assert [item["session_id"] for item in answer["sessions"]] == [sid(1)]


def test_the_snippet_of_a_search_kept_to_prompts_is_of_a_prompt(store):
    said = [("assistant", f"the {WORD} replied first"), ("user", f"an {WORD} asked later")]
    store.save_session(sid(1), _session(sid(1), said))
    update_search_index(store)
    (prompt,) = store.search(text=WORD, places=["prompt"])
    (reply,) = store.search(text=WORD, places=["reply"])
    assert "asked" in (prompt.snippet or "") and "replied" not in (prompt.snippet or "")
    assert "replied" in (reply.snippet or "") and "asked" not in (reply.snippet or "")
