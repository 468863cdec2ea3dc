"""The MCP tools in-process: budgets of the larger answers, and failures of any kind."""

from __future__ import annotations

import json
import logging

import pytest

from claude_sessions import SessionStore
from claude_sessions.mcp.tools import CHAR_BUDGET, STATS_ROWS, Tool, available_tools, call_tool

from .cli.samples import add_session
from .transcript_samples import conversation, sid

TOOLS = available_tools()


def run(store, name, **arguments):
    outcome = call_tool(store, name, arguments, TOOLS)
    assert not outcome.is_error, outcome.text
    assert len(outcome.text) <= CHAR_BUDGET
    return json.loads(outcome.text)


def test_a_large_fork_family_is_cut_to_the_budget(store):
    root = add_session(store, 1, ["the original approach"], description="Root " + "x" * 100)
    for n in range(150):
        add_session(store, 0x100 + n, [f"variant {n}"], forked_from=root, day="2026-03-02")
    family = run(store, "session_lineage", session_id=sid(0x100 + 7))
    shown = family["tree"]["forks"]
    assert family["tree"]["session_id"] == root and 20 < len(shown) < 150
    assert family["note"].startswith(f"{len(shown) + 1} of the 151 sessions of this family shown")
    assert [fork["session_id"] for fork in shown] == [sid(0x100 + n) for n in range(len(shown))]


def test_stats_rows_are_capped_with_a_note(store):
    for n in range(STATS_ROWS + 5):
        add_session(store, 0x200 + n, [f"day {n}"], day=f"2026-05-{n + 1:02d}", tags=(f"t{n}",))
    stats = run(store, "session_stats", by=["day", "tag"], top=20)
    assert stats["sessions"] == STATS_ROWS + 5
    assert [row["key"] for row in stats["by"]["day"]][:2] == ["2026-05-25", "2026-05-24"]
    assert len(stats["by"]["day"]) == len(stats["by"]["tag"]) == STATS_ROWS
    assert stats["notes"] == [
        f"by {name}: {STATS_ROWS} of {STATS_ROWS + 5} rows shown; narrow with after, before, "
        "project, tags or model to see the others."
        for name in ("day", "tag")
    ]
    assert len(stats["most_expensive"]) == 20


def test_a_failing_tool_is_an_error_answer_and_is_logged(store, caplog):
    def broken(store, arguments):
        raise RuntimeError("disk on fire\nsecond line")

    tools = [Tool("broken", "Broken", "Fails.", {"type": "object"}, broken)]
    with caplog.at_level(logging.ERROR, logger="claude_sessions.mcp.tools"):
        outcome = call_tool(store, "broken", None, tools)
    assert outcome.is_error
    assert outcome.text == "internal error in broken: RuntimeError: disk on fire"
    assert "tool broken failed" in caplog.text and "Traceback" in caplog.text


# -- every answer within its bound, whatever the store and the caller hold -------------------

ANSWER_BOUND = 20_000  # the README: an answer holds at most 20,000 characters
ERROR_BOUND = 500  # an error quotes a bounded part of what it was given
WRITE_TOOLS = available_tools(allow_write=True)


@pytest.fixture
def sqlite_store(tmp_path):
    """SQLite: PostgreSQL's index refuses a tag of more than about 2,700 bytes, and these
    tests are about what the tools make of any stored value, not about the store."""
    with SessionStore(tmp_path / "store", cleanup_after_days=None) as store:
        yield store


def bounded(store, name, arguments, tools=TOOLS):
    outcome = call_tool(store, name, arguments, tools)
    assert not outcome.is_error, outcome.text[:500]
    assert len(outcome.text) <= ANSWER_BOUND
    return json.loads(outcome.text)  # bounded field by field, not by cutting the JSON


def test_a_huge_tag_is_cut_in_every_listing(sqlite_store):
    store = sqlite_store
    huge = "long-tag-" + "x" * 299_991
    add_session(store, 0x400, ["The session with the huge tag"], tags=("auth", huge))
    found = [
        bounded(store, "list_sessions", {})["sessions"][0],
        bounded(store, "search_sessions", {"text": "huge"})["sessions"][0],
        bounded(store, "search_sessions", {"tags": ["auth"]})["sessions"][0],
        bounded(store, "session_stats", {"by": ["tag"], "top": 20})["most_expensive"][0],
    ]
    for summary in found:
        auth, cut = summary["tags"]
        assert auth == "auth"
        assert cut.startswith("long-tag-xxx") and len(cut) <= 100
        assert cut.endswith("[cut: 300,000 characters in all]\u2026")
    assert huge in store.get_metadata(sid(0x400)).tags  # the store keeps it whole


def worst_session(store, n, forked_from=None):
    """A session whose every stored text is long and made of what JSON escapes the most."""
    nasty = '"\\\x01'  # a quote, a backslash, a control character: 2 + 2 + 6 characters in JSON
    session_id = sid(n)
    entries = conversation(
        session_id, [f"prompt {n} " + nasty * 30_000], model=nasty * 30_000, title=nasty * 30_000
    )
    for entry in entries:
        if "cwd" in entry:
            entry.update(cwd="/" + nasty * 30_000, gitBranch=nasty * 30_000)
    tags = [f"{t:03d}" + nasty * 2_000 for t in range(300)]
    store.save_session(
        session_id, entries, tags=tags, description=nasty * 30_000, forked_from=forked_from
    )
    return session_id


def test_no_stored_value_makes_an_answer_too_long(sqlite_store, caplog):
    store = sqlite_store
    root = worst_session(store, 0x500)
    for n in range(1, 8):
        worst_session(store, 0x500 + n, forked_from=root)
    with caplog.at_level(logging.WARNING, logger="claude_sessions.mcp.tools"):
        seen, page = [], bounded(store, "list_sessions", {"limit": 50})
        while True:
            seen += [summary["session_id"] for summary in page["sessions"]]
            if "next_cursor" not in page:
                break
            page = bounded(store, "list_sessions", {"limit": 50, "cursor": page["next_cursor"]})
        assert sorted(seen) == [sid(0x500 + n) for n in range(8)]
        found = bounded(store, "search_sessions", {"text": "prompt", "limit": 50})["sessions"]
        stats = bounded(store, "session_stats", {"by": ["tag", "model", "project"], "top": 20})
        bounded(store, "session_lineage", {"session_id": root})
        page = call_tool(store, "get_session", {"session_id": root}, TOOLS).text
        assert len(page) <= ANSWER_BOUND and page.endswith('cursor="0:19840".]')
    assert caplog.records == []  # each field kept to its size: the last-resort cut never ran
    for summary in [*found, *stats["most_expensive"]]:
        assert 0 < len(summary["tags"]) < 300
        assert summary["tags_not_shown"] == 300 - len(summary["tags"])
        for name in ("model", "project", "git_branch"):
            assert summary[name].endswith(" characters in all]\u2026")


def test_tag_session_answers_a_megabyte_tag_in_brief(sqlite_store):
    store = sqlite_store
    session_id = add_session(store, 0x600, ["Tag me"], tags=("keep",))
    huge = "m" * 1_000_000
    tagged = bounded(store, "tag_session", {"session_id": session_id, "add": [huge]}, WRITE_TOOLS)
    assert tagged["tags"][0] == "keep"
    assert tagged["tags"][1].endswith("[cut: 1,000,000 characters in all]\u2026")
    assert store.get_metadata(session_id).tags == ("keep", huge)
    store.add_tags(session_id, [f"tag-{n:04d}" for n in range(2_000)])
    tagged = bounded(store, "tag_session", {"session_id": session_id, "add": ["more"]}, WRITE_TOOLS)
    assert tagged["tags_not_shown"] == 2_003 - len(tagged["tags"]) > 0


@pytest.mark.parametrize(
    ("name", "arguments", "starts", "ends"),
    [
        (
            "describe_session",
            {"session_id": sid(1), "description": "d" * 2_000_000},
            "invalid arguments: description: 'ddd",
            "ddd' is too long",
        ),
        (
            "get_session",
            {"session_id": "s" * 2_000_000},
            "invalid arguments: session_id: 'sss",
            "sss' is too long",
        ),
        (
            "search_sessions",
            {"p" * 2_000_000: 1},
            "invalid arguments: Additional properties are not allowed ('ppp",
            "ppp' was unexpected)",
        ),
        (
            "search_sessions",
            {"after": "a" * 2_000_000},
            "after: not a date",
            "aaa' (use 2026-01-31, 2026-01-31T12:00, or 7d)",
        ),
        (
            "list_sessions",
            {"limit": "l" * 2_000_000},
            "invalid arguments: limit: 'lll",
            "lll' is not of type 'integer'",
        ),
        (
            "n" * 2_000_000,
            {},
            "unknown tool 'nnn",
            "this server offers " + ", ".join(tool.name for tool in WRITE_TOOLS),
        ),
    ],
)
def test_an_error_quotes_only_a_bounded_part_of_the_input(
    sqlite_store, name, arguments, starts, ends
):
    outcome = call_tool(sqlite_store, name, arguments, WRITE_TOOLS)
    assert outcome.is_error and "\n" not in outcome.text
    assert len(outcome.text) <= ERROR_BOUND
    assert outcome.text.startswith(starts) and outcome.text.endswith(ends)
    assert "characters in all]" in outcome.text


def test_an_answer_over_the_budget_is_cut_and_logged(store, caplog):
    tools = [
        Tool("chatty", "Chatty", "Says too much.", {"type": "object"}, lambda s, a: "y" * 50_000)
    ]
    with caplog.at_level(logging.WARNING, logger="claude_sessions.mcp.tools"):
        outcome = call_tool(store, "chatty", {}, tools)
    assert not outcome.is_error
    assert len(outcome.text) == ANSWER_BOUND
    assert outcome.text.startswith("yyy") and outcome.text.endswith(
        "[cut: 50,000 characters in all]\u2026"
    )
    assert "tool chatty answered 50000 characters" in caplog.text
