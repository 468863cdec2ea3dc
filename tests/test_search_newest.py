"""A common word's full-text search, on both databases: the newest matching sessions,
walked newest first instead of ranking every match; a rare word still ranked.

The bound between the two (``newest_text.COMMON_MATCHES``: on PostgreSQL the matches
the planner expects from the statistics ANALYZE keeps, on SQLite the matches the
full-text index gives before a limit) is lowered so that a small store has both:
every expectation is computed here from what each session said, never read back
from the store. The sessions are stored oldest first and never changed after, so
the newest by time and by order of storing are the same.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from claude_sessions import SessionStore
from claude_sessions.cli import cli
from claude_sessions.mcp.tools import available_tools, call_tool
from claude_sessions.model.identity import USER_ENV_VAR
from claude_sessions.store import users, visibility
from claude_sessions.store.search_index import update_search_index
from claude_sessions.web import create_app

from .store_fixtures import FakeClock

COMMON = "ubiquitous"
RARE = "hapaxlegomenon"
BOUND = 4  # matches from which a word counts as common, in these tests
PEOPLE = ("alice", "bob", "carol")


@dataclass(frozen=True)
class Said:
    """What one session said and who stored it, oldest first by ``n``."""

    n: int
    prompt: str
    tool_text: str
    tool: str

    @property
    def session_id(self) -> str:
        return f"s{self.n:02d}"

    @property
    def owner(self) -> str:
        return PEOPLE[self.n % 3]

    @property
    def shared(self) -> bool:
        return self.n % 4 == 1

    @property
    def tags(self) -> list[str]:
        return ["even" if self.n % 2 == 0 else "odd"]

    def holds(self, word: str, places: tuple[str, ...] = ("conversation", "tool")) -> bool:
        texts = {"conversation": self.prompt, "tool": self.tool_text}
        return any(word in texts[place].split() for place in places)


def _plan() -> list[Said]:
    """30 sessions. The common word: in the conversation of two of three sessions, in
    the tool text of every fourth, said most often in the oldest (so ranking them
    would put the oldest first). The rare word: in three sessions, most often in the
    oldest of them."""
    plan = []
    for n in range(30):
        repeats = 30 - n
        prompt = " ".join([COMMON] * repeats) + " filler" if n % 3 else "filler words only"
        if n in (5, 14, 23):
            prompt += " " + " ".join([RARE] * {5: 6, 14: 1, 23: 3}[n])
        tool_text = f"ls {COMMON}" if n % 4 == 0 else "ls elsewhere"
        plan.append(Said(n, prompt, tool_text, "Read" if n % 5 == 0 else "Bash"))
    return plan


def _messages(said: Said) -> list[dict[str, Any]]:
    sid = said.session_id
    return [
        {"type": "system", "subtype": "init", "session_id": sid, "cwd": "/work/app"},
        {
            "type": "assistant",
            "session_id": sid,
            "uuid": f"{sid}-a",
            "parent_tool_use_id": None,
            "message": {
                "id": f"msg-{sid}",
                "role": "assistant",
                "model": "claude-sonnet-4-5-20250929",
                "content": [
                    {"type": "text", "text": said.prompt},
                    {
                        "type": "tool_use",
                        "id": f"toolu-{sid}",
                        "name": said.tool,
                        "input": {"command": said.tool_text},
                    },
                ],
                "usage": {"input_tokens": 10, "output_tokens": 5},
            },
        },
        {
            "type": "user",
            "session_id": sid,
            "uuid": f"{sid}-u",
            "message": {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": f"toolu-{sid}", "content": "ok"}
                ],
            },
        },
    ]


@pytest.fixture(params=["walked", "past the walk"])
def newest(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, store_location: str
) -> Any:
    """The bound lowered; and the walk either long enough for every page or so short
    that most matches come from the indexes past it."""
    if store_location.startswith("postgresql://"):
        from claude_sessions.store.postgres import newest_text
    else:
        from claude_sessions.store.sqlite import newest_text  # type: ignore[no-redef]

    monkeypatch.setattr(newest_text, "COMMON_MATCHES", BOUND)
    if request.param == "past the walk":
        monkeypatch.setattr(newest_text, "WALK_ROWS", 3)
        if hasattr(newest_text, "ASIDE_WALK_ROWS"):
            monkeypatch.setattr(newest_text, "ASIDE_WALK_ROWS", 3)
    return newest_text


@pytest.fixture
def filled(
    store_location: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[SessionStore, list[Said]]]:
    clock = FakeClock()
    store = SessionStore(store_location, cleanup_after_days=None, clock=clock)
    people = {name: users.add_user(store, name)[0] for name in PEOPLE}
    plan = _plan()
    for said in plan:
        monkeypatch.setenv(USER_ENV_VAR, said.owner)
        store.save_session(said.session_id, _messages(said), tags=said.tags)
        if said.shared:
            visibility.share_session(visibility.seen_by(store, people[said.owner]), said.session_id)
        clock.advance(minutes=5)
    monkeypatch.delenv(USER_ENV_VAR)
    update_search_index(store)  # SQLite's side index of tool text, as a search's caller does
    if store_location.startswith("postgresql://"):
        # The words' frequencies the planner reads, as autovacuum keeps them.
        with psycopg.connect(store_location, autocommit=True) as conn:
            conn.execute("ANALYZE claude_sessions.sessions, claude_sessions.aside_text")
    with store:
        yield store, plan


def _ids(found: Any) -> list[str]:
    return [m.session_id for m in found]


def _newest(plan: list[Said], keep: Any) -> list[str]:
    return [said.session_id for said in reversed(plan) if keep(said)]


def test_a_common_word_gives_the_newest_matching_sessions(filled: Any, newest: Any) -> None:
    store, plan = filled
    everywhere = _newest(plan, lambda s: s.holds(COMMON))
    assert len(everywhere) > 2 * BOUND
    assert _ids(store.search(text=COMMON, limit=5)) == everywhere[:5]
    assert _ids(store.search(text=COMMON, limit=4, offset=3)) == everywhere[3:7]
    in_tools = _newest(plan, lambda s: s.holds(COMMON, ("tool",)))
    assert _ids(store.search(text=COMMON, places=["tool"], limit=3)) == in_tools[:3]
    in_conversation = _newest(plan, lambda s: s.holds(COMMON, ("conversation",)))
    found = store.search(text=COMMON, places=["prompt", "reply"], limit=5)
    assert _ids(found) == in_conversation[:5]
    assert all(f"[{COMMON}]" in (m.snippet or "") for m in found)
    assert all(m.match_uuid for m in found)
    # said by the assistant: replies, and no prompt holds it (each one's prompt is a tool result)
    assert _ids(store.search(text=COMMON, places=["reply"], limit=5)) == in_conversation[:5]
    assert _ids(store.search(text=COMMON, places=["prompt"], limit=5)) == []
    in_replies_or_tools = _newest(plan, lambda s: s.holds(COMMON))
    found = store.search(text=COMMON, places=["reply", "tool"], limit=6)
    assert _ids(found) == in_replies_or_tools[:6]


@pytest.mark.parametrize(
    ("filters", "keep"),
    [
        ({"tags": ["even"]}, lambda s: s.n % 2 == 0),
        ({"user": "bob"}, lambda s: s.owner == "bob"),
        ({"tool": "Read"}, lambda s: s.tool == "Read"),
        ({"tags": ["odd"], "tool": "Bash"}, lambda s: s.n % 2 == 1 and s.tool == "Bash"),
    ],
)
def test_a_common_word_keeps_every_filter(
    filled: Any, newest: Any, filters: Any, keep: Any
) -> None:
    store, plan = filled
    expected = _newest(plan, lambda s: s.holds(COMMON) and keep(s))
    assert 2 <= len(expected) < 30
    assert _ids(store.search(text=COMMON, limit=len(expected) + 5, **filters)) == expected
    assert _ids(store.search(text=COMMON, limit=2, **filters)) == expected[:2]


def test_a_member_sees_no_unshared_session_of_another_through_either_way(
    filled: Any, newest: Any
) -> None:
    store, plan = filled
    alice = next(u for u in users.list_users(store) if u.name == "alice")
    seen = visibility.seen_by(store, alice)
    may_see = {s.session_id for s in plan if s.owner == "alice" or s.shared}
    common = _newest(plan, lambda s: s.holds(COMMON) and s.session_id in may_see)
    assert _ids(seen.search(text=COMMON, limit=6)) == common[:6]
    in_tools = _newest(plan, lambda s: s.holds(COMMON, ("tool",)) and s.session_id in may_see)
    assert _ids(seen.search(text=COMMON, places=["tool"], limit=50)) == in_tools
    rare = {s.session_id for s in plan if s.holds(RARE)}
    assert rare - may_see and rare & may_see  # both kinds, so the test can fail
    assert set(_ids(seen.search(text=RARE, limit=20))) == rare & may_see


def _pages(store: SessionStore, size: int, between: Any = None) -> list[str]:
    found, cursor = [], None
    while True:
        page = store.search_page(text=COMMON, limit=size, cursor=cursor)
        found += _ids(page.sessions)
        if page.next_cursor is None:
            return found
        cursor = page.next_cursor
        if between is not None:
            between()


def test_pages_by_cursor_keep_the_way_their_search_began(
    filled: Any, newest: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, plan = filled
    everywhere = _newest(plan, lambda s: s.holds(COMMON))
    assert _pages(store, 3) == everywhere
    # Begun newest first, then the word no longer counts as common: still newest first.
    assert _pages(store, 4, lambda: monkeypatch.setattr(newest, "COMMON_MATCHES", 10**6)) == (
        everywhere
    )
    # Begun ranked, then the word counts as common: every match once, none skipped.
    ranked = _pages(store, 3, lambda: monkeypatch.setattr(newest, "COMMON_MATCHES", BOUND))
    assert ranked != everywhere  # ranked: the oldest, most repeating, first
    assert sorted(ranked) == sorted(everywhere)


def test_a_rare_word_is_still_ranked(filled: Any, newest: Any, store_location: str) -> None:
    store, plan = filled
    said = {s.session_id: s.prompt.split() for s in plan if s.holds(RARE)}
    assert 0 < len(said) < BOUND
    if store_location.startswith("postgresql://"):  # ts_rank: the most repeats first
        best_first = sorted(said, key=lambda sid: -said[sid].count(RARE))
        lowest = -1.0
    else:  # bm25 weighs the repeats by the session's length: the densest first
        best_first = sorted(said, key=lambda sid: -said[sid].count(RARE) / len(said[sid]))
        lowest = -100.0
    assert best_first != _newest(plan, lambda s: s.holds(RARE))  # so the test can fail
    page = store.search_page(text=RARE, limit=10)
    assert _ids(page.sessions) == best_first and not page.newest_first
    assert all(m.rank is not None and lowest <= m.rank <= 0.0 for m in page.sessions)


def test_every_face_says_when_matches_come_newest_first(
    filled: Any, newest: Any, store_location: str
) -> None:
    store, _ = filled
    with TestClient(create_app(store)) as client:
        assert "Newest matches first" in client.get("/", params={"text": COMMON}).text
        rare = client.get("/", params={"text": RARE}).text
    assert "Best matches first" in rare and "Newest matches first" not in rare

    def mcp(word: str) -> dict[str, Any]:
        outcome = call_tool(store, "search_sessions", {"text": word}, available_tools())
        assert not outcome.is_error, outcome.text
        answer: dict[str, Any] = json.loads(outcome.text)
        return answer

    assert "not ranked" in mcp(COMMON)["order"]
    assert "order" not in mcp(RARE)

    def cli_search(word: str) -> Any:
        env = {"CLAUDE_SESSIONS_STORE": store_location, "COLUMNS": "200"}
        return CliRunner().invoke(cli, ["search", word, "--limit", "5"], env=env)

    common, rare_found = cli_search(COMMON), cli_search(RARE)
    assert common.exit_code == 0 and rare_found.exit_code == 0, common.output
    assert "not ranked" in common.stderr and "not ranked" not in rare_found.stderr


def test_a_phrase_of_common_words_is_ranked_on_sqlite(filled: Any, newest: Any) -> None:
    store, plan = filled
    phrase = f"{COMMON} {COMMON}"
    holding = [s for s in plan if f" {phrase} " in f" {s.prompt} "]
    assert len(holding) > 2 * BOUND  # as common as the word: on PostgreSQL, newest first
    page = store.search_page(text=f'"{phrase}"', limit=5)
    if str(store.location).startswith("postgresql://"):
        assert page.newest_first
        return
    # SQLite: a phrase is matched by its words' positions, and probing for its
    # matches could cost what ranking them does; it is ranked.
    assert not page.newest_first
    assert all(m.rank is not None and m.rank < 0 for m in page.sessions)
