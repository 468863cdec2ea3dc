"""On PostgreSQL, the prompts and replies of sessions stored before they were indexed
apart (``aside_text.own``) are filled in by the indexer, not while the store opens:
in batches, resumable, counted by the notes a search kept to them shows."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from claude_sessions import SessionStore
from claude_sessions.store.search_index import not_indexed, update_search_index

from .older_store import set_back
from .test_search_apart import _session
from .transcript_samples import sid

pytestmark = pytest.mark.postgres

PROMPTED = "ocelot"  # said in prompts only
REPLIED = "pangolin"  # said in replies only

# Each session's turns: which of them say which word (none says both in one place).
SAID: dict[int, list[tuple[str, str]]] = {
    1: [("user", f"find the {PROMPTED}"), ("assistant", "done")],
    2: [("user", "hello"), ("assistant", f"a {REPLIED} appears")],
    3: [("user", f"{PROMPTED} please"), ("assistant", f"here is a {REPLIED}")],
    4: [("user", "nothing"), ("assistant", "nothing either"), ("user", "still nothing")],
    5: [("assistant", f"{REPLIED} first"), ("user", "then a question")],
}


def _saying(word: str, kind: str, said: dict[int, list[tuple[str, str]]] = SAID) -> set[str]:
    return {sid(n) for n, turns in said.items() if any(k == kind and word in t for k, t in turns)}


@pytest.fixture
def older_store(postgres_server: Any) -> Iterator[str]:
    """A store holding SAID's sessions as PostgreSQL 20 (the previous release's last
    version) left it: no prompts or replies apart."""
    url = postgres_server.create_database()
    with SessionStore(url, cleanup_after_days=None) as store:
        for n, turns in SAID.items():
            store.save_session(sid(n), _session(sid(n), turns))

    def undo(run: Any, postgres: bool) -> None:
        run("DROP TABLE IF EXISTS own_text_pending")
        run("ALTER TABLE aside_text DROP COLUMN IF EXISTS own")

    set_back(url, sqlite=23, postgres=20, undo=undo)
    yield url
    postgres_server.drop_database(url.rsplit("/", 1)[1])


def _own_rows(url: str) -> dict[str, int]:
    """How many rows of each session hold prompt or reply words."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT s.session_id, count(*) FROM claude_sessions.aside_text a "
            "JOIN claude_sessions.sessions s ON s.id = a.session_ref "
            "WHERE a.own <> ''::tsvector GROUP BY s.session_id"
        ).fetchall()
    return {str(session_id): int(count) for session_id, count in rows}


def _found(store: SessionStore, word: str, place: str) -> set[str]:
    found = store.search(text=word, places=[place])
    assert all(s.match_where == place for s in found)
    return {s.session_id for s in found}


def _check_found(store: SessionStore) -> None:
    assert _found(store, PROMPTED, "prompt") == _saying(PROMPTED, "user")
    assert _found(store, REPLIED, "reply") == _saying(REPLIED, "assistant")
    assert _found(store, PROMPTED, "reply") == _saying(PROMPTED, "assistant") == set()
    assert _found(store, REPLIED, "prompt") == _saying(REPLIED, "user") == set()


def test_the_upgrade_lists_the_stored_sessions_and_fills_none(older_store):
    with SessionStore(older_store, cleanup_after_days=None) as store:
        assert not_indexed(store) == len(SAID)
        assert _own_rows(older_store) == {}
        assert store.search(text=PROMPTED, places=["prompt"]) == []


def test_the_indexer_fills_them_in_with_progress(older_store):
    calls: list[tuple[int, int]] = []
    entries = sum(len(turns) for turns in SAID.values())  # one entry per turn
    with SessionStore(older_store, cleanup_after_days=None) as store:
        # A capture's own sessions are indexed as saved: it leaves the fill alone.
        assert update_search_index(store, session_ids=[sid(1)]).sessions == 0
        assert not_indexed(store) == len(SAID)
        run = update_search_index(store, progress=lambda done, total: calls.append((done, total)))
        assert (run.sessions, run.entries) == (len(SAID), entries)
        assert calls and calls[-1] == (entries, entries)
        assert [done for done, _ in calls] == sorted(done for done, _ in calls)
        assert not_indexed(store) == 0
        _check_found(store)
        assert update_search_index(store).sessions == 0  # nothing left to do
    assert _own_rows(older_store) == {sid(n): 1 for n in SAID}


def test_an_interrupted_fill_resumes_without_indexing_twice(older_store, monkeypatch):
    from claude_sessions.store.postgres import own_fill  # a batch of two sessions

    monkeypatch.setattr(own_fill, "BATCH", 2)

    def interrupt(done: int, total: int) -> None:
        raise KeyboardInterrupt

    with SessionStore(older_store, cleanup_after_days=None) as store:
        with pytest.raises(KeyboardInterrupt):
            update_search_index(store, progress=interrupt)
        assert not_indexed(store) == len(SAID) - 2  # the first batch is kept
        assert len(_own_rows(older_store)) == 2
        # A session saved again while listed: its save indexes its new line itself.
        more = [*SAID[4], ("user", f"one more {PROMPTED}")]
        store.save_session(sid(4), _session(sid(4), more))
        assert _own_rows(older_store)[sid(4)] == 1
        run = update_search_index(store)
        assert run.sessions == len(SAID) - 2
        assert not_indexed(store) == 0
        prompted = _saying(PROMPTED, "user", {**SAID, 4: more})
        assert sid(4) in prompted
        assert _found(store, PROMPTED, "prompt") == prompted
        assert _found(store, REPLIED, "reply") == _saying(REPLIED, "assistant")
    assert _own_rows(older_store) == {sid(n): 1 for n in SAID}


def test_a_search_kept_to_prompts_says_how_many_sessions_are_not_indexed(older_store):
    from starlette.testclient import TestClient

    from claude_sessions.mcp.tools import TOOLS, call_tool
    from claude_sessions.web import create_app

    with SessionStore(older_store, cleanup_after_days=None) as store:
        arguments = {"text": PROMPTED, "places": ["reply"]}
        answer = json.loads(call_tool(store, "search_sessions", arguments, TOOLS).text)
        expected = f"reply text of {len(SAID)} sessions not indexed yet"
        assert answer["not_indexed"].startswith(expected)
        with TestClient(create_app(store)) as client:
            page = client.get("/", params={"text": PROMPTED, "in": "prompt"}).text
        assert f"Prompt text of {len(SAID)} sessions not indexed yet" in page
        # Tool text is indexed as it is stored there: a search of it says nothing.
        plain = json.loads(call_tool(store, "search_sessions", {"text": PROMPTED}, TOOLS).text)
        assert "not_indexed" not in plain
        update_search_index(store)
        answer = json.loads(call_tool(store, "search_sessions", arguments, TOOLS).text)
        assert "not_indexed" not in answer


def test_the_index_command_fills_them_in(older_store):
    from click.testing import CliRunner

    from claude_sessions.cli import cli

    env = {"CLAUDE_SESSIONS_STORE": older_store}
    entries = sum(len(turns) for turns in SAID.values())
    done = CliRunner().invoke(cli, ["index"], env=env)
    assert done.exit_code == 0, done.output
    assert done.output.strip() == f"Indexed {entries} entries of {len(SAID)} sessions."
    with SessionStore(older_store, cleanup_after_days=None) as store:
        assert not_indexed(store) == 0
        _check_found(store)
    again = CliRunner().invoke(cli, ["index"], env=env)
    assert again.output.strip() == "Indexed 0 entries of 0 sessions."


def test_a_search_catches_up_first_only_when_kept_to_prompts_or_replies(older_store):
    from click.testing import CliRunner

    from claude_sessions.cli import cli

    env = {"CLAUDE_SESSIONS_STORE": older_store}
    plain = CliRunner().invoke(cli, ["search", PROMPTED, "--json"], env=env)
    assert plain.exit_code == 0, plain.output
    with SessionStore(older_store, cleanup_after_days=None) as store:
        assert not_indexed(store) == len(SAID)  # tool text needs no catching up there
    kept = CliRunner().invoke(cli, ["search", PROMPTED, "--in", "prompt", "--json"], env=env)
    assert kept.exit_code == 0, kept.output
    assert {item["session_id"] for item in json.loads(kept.stdout)} == _saying(PROMPTED, "user")
    with SessionStore(older_store, cleanup_after_days=None) as store:
        assert not_indexed(store) == 0


def test_a_store_without_the_list_has_nothing_to_fill(older_store):
    with SessionStore(older_store, cleanup_after_days=None) as store:
        update_search_index(store)
    with psycopg.connect(older_store, autocommit=True) as conn:  # as a build before it left it
        conn.execute("DROP TABLE claude_sessions.own_text_pending")
    with SessionStore(older_store, cleanup_after_days=None) as store:
        assert not_indexed(store) == 0
        assert update_search_index(store).sessions == 0
        _check_found(store)
