"""``claude-sessions mcp`` over stdio, spoken to by the official MCP client."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from claude_sessions import SessionStore
from claude_sessions.views.render import CONTINUED, render_markdown

from .cli.samples import add_session
from .mcp_samples import JWT, LOGIN, LONG, POSTGRES, answer, error, fill, talk, text
from .transcript_samples import sid

READ_TOOLS = {"search_sessions", "list_sessions", "get_session", "session_stats", "session_lineage"}
WRITE_TOOLS = {"tag_session", "describe_session"}


@pytest.fixture
def filled(store_location):
    with SessionStore(store_location, cleanup_after_days=None) as store:
        fill(store)
    return store_location


@pytest.fixture
def log(tmp_path):
    return tmp_path / "server.log"


def ids(found):
    return [session["session_id"] for session in found["sessions"]]


def test_read_only_server_lists_described_tools_and_no_write_tools(tmp_path, log):
    location = str(tmp_path / "store")
    with SessionStore(location, cleanup_after_days=None) as store:
        fill(store)

    async def body(session):
        tools = {tool.name: tool for tool in (await session.list_tools()).tools}
        assert set(tools) == READ_TOOLS
        for tool in tools.values():
            assert len(tool.description) > 150 and tool.title
            schema = tool.input_schema
            assert schema["type"] == "object" and schema["additionalProperties"] is False
            assert schema["properties"] and all(
                spec["description"] for spec in schema["properties"].values()
            )
            assert tool.annotations.read_only_hint is True
        assert tools["get_session"].input_schema["required"] == ["session_id"]
        assert "cursor" in tools["search_sessions"].input_schema["properties"]
        refused = await session.call_tool("tag_session", {"session_id": LOGIN[:8], "add": ["x"]})
        assert error(refused).startswith("unknown tool 'tag_session'")

    talk(location, log, body)
    with SessionStore(location, read_only=True) as store:
        assert store.get_metadata(LOGIN).tags == ("auth", "bug")


def test_every_tool_answers_from_the_store(filled, log):
    async def body(session):
        call = session.call_tool
        found = answer(await call("search_sessions", {"text": "CSRF"}))
        assert set(ids(found)) == {LOGIN, JWT} and "next_cursor" not in found
        login = next(s for s in found["sessions"] if s["session_id"] == LOGIN)
        assert login["title"] == "Login bug fixed by rotating the CSRF secret"
        assert login["first_prompt"].startswith("Fix the login bug")
        assert login["tags"] == ["auth", "bug"] and login["cost_usd"] == 0.42
        assert login["created_at"].startswith("2026-03-10T")
        assert all("[CSRF]" in s["snippet"] for s in found["sessions"])

        recent_auth = {"tags": ["auth"], "after": "2026-03-11"}
        assert ids(answer(await call("search_sessions", recent_auth))) == [JWT]
        pricey = {"min_cost": 1, "max_cost": 1.5, "model": "opus"}
        assert ids(answer(await call("search_sessions", pricey))) == [POSTGRES]
        early = {"text": "login", "before": "2026-03-10"}
        assert ids(answer(await call("search_sessions", early))) == [LOGIN]
        both_tags = {"tags": ["auth", "bug"], "match_all_tags": True}
        assert ids(answer(await call("search_sessions", both_tags))) == [LOGIN]

        assert ids(answer(await call("list_sessions", {}))) == [LONG, JWT, POSTGRES, LOGIN]
        assert ids(answer(await call("list_sessions", {"tags": ["auth"]}))) == [JWT, LOGIN]

        markdown = text(await call("get_session", {"session_id": LOGIN[:8]}))
        assert markdown.startswith("# Login bug fixed by rotating the CSRF secret\n")
        assert f"- **Session:** {LOGIN}" in markdown
        assert "## User\n\nFix the login bug: the CSRF token expired" in markdown
        assert "## Assistant (" in markdown and "\n\nAnswer to: Rotate the secret" in markdown
        assert markdown.endswith("this is the end of the session.]")

        stats = answer(await call("session_stats", {}))
        assert stats["sessions"] == 4 and stats["cost_usd"] == pytest.approx(3.77)
        assert set(stats["by"]) == {"day", "model", "tag", "project"}
        models = {row["key"]: row["sessions"] for row in stats["by"]["model"]}
        assert models == {"claude-sonnet-4-5-20250929": 3, "claude-opus-4-1": 1}
        assert [s["session_id"] for s in stats["most_expensive"]][:2] == [LONG, POSTGRES]
        narrowed = answer(await call("session_stats", {"after": "2026-03-12", "by": ["tag"]}))
        assert narrowed["sessions"] == 3 and list(narrowed["by"]) == ["tag"]
        assert {row["key"] for row in narrowed["by"]["tag"]} == {"infra", "auth", "(none)"}
        totals = answer(await call("session_stats", {"by": [], "top": 0, "model": "opus"}))
        assert totals["sessions"] == 1 and totals["by"] == {} and totals["most_expensive"] == []

        family = answer(await call("session_lineage", {"session_id": JWT[:8]}))
        assert family["focus"] == JWT
        root = family["tree"]
        assert root["session_id"] == LOGIN and "this_session" not in root
        (fork,) = root["forks"]
        assert fork["session_id"] == JWT and fork["this_session"] is True

    talk(filled, log, body)


def test_search_and_list_page_with_a_cursor(store_location, log):
    with SessionStore(store_location, cleanup_after_days=None) as store:
        for n in range(25):
            add_session(store, 0x200 + n, [f"note {n} about paging"], day=f"2026-04-{n + 1:02d}")

    async def every_page(session, tool, arguments):
        pages = [answer(await session.call_tool(tool, {**arguments, "limit": 10}))]
        while "next_cursor" in pages[-1]:
            assert "cursor set to next_cursor" in pages[-1]["note"]
            cursor = pages[-1]["next_cursor"]
            pages.append(
                answer(await session.call_tool(tool, {**arguments, "limit": 10, "cursor": cursor}))
            )
        return pages

    async def body(session):
        for tool, arguments in [("search_sessions", {"text": "paging"}), ("list_sessions", {})]:
            pages = await every_page(session, tool, arguments)
            assert [len(page["sessions"]) for page in pages] == [10, 10, 5]
            found = [i for page in pages for i in ids(page)]
            assert sorted(found) == sorted(sid(0x200 + n) for n in range(25))
        listed = await every_page(session, "list_sessions", {})
        assert ids(listed[0])[0] == sid(0x200 + 24)  # newest first

    talk(store_location, log, body)


def test_a_page_of_sessions_keeps_to_the_character_budget(tmp_path, log):
    location = str(tmp_path / "store")
    with SessionStore(location, cleanup_after_days=None) as store:
        for n in range(50):
            prompt = f"Budget check {n}: " + "a long first prompt " * 30
            add_session(store, 0x300 + n, [prompt], description=f"Budget {n} " + "words " * 80)

    async def body(session):
        arguments = {"text": "budget", "limit": 50}
        result = await session.call_tool("search_sessions", arguments)
        first = answer(result)
        assert len(text(result)) <= 20_000
        assert 5 < len(first["sessions"]) < 50 and first["next_cursor"]
        seen = ids(first)
        page = first
        while "next_cursor" in page:
            result = await session.call_tool(
                "search_sessions", {**arguments, "cursor": page["next_cursor"]}
            )
            assert len(text(result)) <= 20_000
            page = answer(result)
            seen += ids(page)
        assert sorted(seen) == sorted(sid(0x300 + n) for n in range(50))

    talk(location, log, body)


def test_get_session_pages_a_long_transcript(tmp_path, log):
    location = str(tmp_path / "store")
    with SessionStore(location, cleanup_after_days=None) as store:
        fill(store)
        whole = render_markdown(store.load_session(LONG))
    assert len(whole) > 45_000

    async def body(session):
        pages, cursor = [], None
        while True:
            arguments = {"session_id": LONG[:8]} | ({"cursor": cursor} if cursor else {})
            page = text(await session.call_tool("get_session", arguments))
            assert len(page) <= 20_000
            pages.append(page)
            more = re.search(r'and cursor="([^"]+)"\.\]$', page)
            if more is None:
                assert page.endswith("this is the end of the session.]")
                break
            assert f'session_id="{LONG}"' in page
            cursor = more.group(1)
        assert len(pages) >= 3 and pages[0].rsplit("\n", 1)[1].startswith("[Blocks 1-")
        glued = ""
        for page in pages:
            body_text = page.rsplit("\n\n---\n[", 1)[0]
            if body_text.startswith(CONTINUED):
                glued += body_text[len(CONTINUED) :]
            else:
                glued += ("\n\n" if glued else "") + body_text
        assert glued + "\n" == whole
        small = text(
            await session.call_tool("get_session", {"session_id": LONG, "max_chars": 1000})
        )
        assert len(small) <= 1000 and 'cursor="' in small

    talk(location, log, body)


def test_failures_are_one_line_tool_errors_and_the_server_goes_on(tmp_path, log):
    location = str(tmp_path / "store")
    with SessionStore(location, cleanup_after_days=None) as store:
        fill(store)

    async def body(session):
        call = session.call_tool
        assert "feedbeef" in error(await call("get_session", {"session_id": "feedbeef"}))
        assert "ambiguous" in error(await call("session_lineage", {"session_id": "0000010"}))
        bad_date = error(await call("search_sessions", {"after": "last tuesday"}))
        assert bad_date.startswith("after: not a date")
        assert "not a page cursor" in error(await call("search_sessions", {"cursor": "garbage"}))
        text_cursor = answer(await call("search_sessions", {"text": "the", "limit": 1}))
        mixed = error(await call("list_sessions", {"cursor": text_cursor["next_cursor"]}))
        assert "different search" in mixed
        bad_cursor = error(await call("get_session", {"session_id": LOGIN, "cursor": "nope"}))
        assert "not a get_session cursor" in bad_cursor
        past_end = error(await call("get_session", {"session_id": LOGIN, "cursor": "999:0"}))
        assert "outside this transcript" in past_end
        too_small = error(await call("search_sessions", {"limit": 0}))
        assert too_small.startswith("invalid arguments: limit: 0 is less than the minimum")
        unknown = error(await call("search_sessions", {"query": "x"}))
        assert "'query' was unexpected" in unknown
        missing = error(await call("get_session", {}))
        assert "'session_id' is a required property" in missing
        assert "unknown tool" in error(await call("delete_session", {"session_id": LOGIN}))
        assert len(answer(await call("list_sessions", {}))["sessions"]) == 4

    talk(location, log, body)


def test_write_tools_with_allow_write(filled, log):
    async def body(session):
        tools = {tool.name: tool for tool in (await session.list_tools()).tools}
        assert set(tools) == READ_TOOLS | WRITE_TOOLS
        assert tools["tag_session"].annotations.read_only_hint is False
        assert tools["tag_session"].annotations.destructive_hint is False
        tagged = await session.call_tool(
            "tag_session", {"session_id": POSTGRES[:8], "add": ["db", "keep"], "remove": ["infra"]}
        )
        assert answer(tagged) == {"session_id": POSTGRES, "tags": ["db", "keep"]}
        described = await session.call_tool(
            "describe_session", {"session_id": JWT[:8], "description": " JWT tried, dropped "}
        )
        assert answer(described) == {"session_id": JWT, "description": "JWT tried, dropped"}
        assert ids(answer(await session.call_tool("search_sessions", {"tags": ["db"]}))) == [
            POSTGRES
        ]
        cleared = await session.call_tool(
            "describe_session", {"session_id": LOGIN, "description": ""}
        )
        assert answer(cleared)["description"] is None
        assert "ambiguous" in error(
            await session.call_tool("tag_session", {"session_id": "0000010", "add": ["x"]})
        )

    talk(filled, log, body, "--allow-write")
    with SessionStore(filled, read_only=True) as store:
        assert store.get_metadata(POSTGRES).tags == ("db", "keep")
        assert store.get_metadata(JWT).description == "JWT tried, dropped"
        assert store.get_metadata(LOGIN).description is None


def test_every_answer_keeps_to_the_budget_whatever_the_store_and_the_caller_hold(tmp_path, log):
    """A 300,000-character tag, a 1 MB tag, a 2 MB description: the answers stay small.
    (SQLite: PostgreSQL's index refuses tags this long.)"""
    location = str(tmp_path / "store")
    huge_tag = "t" * 300_000
    with SessionStore(location, cleanup_after_days=None) as store:
        fill(store)
        store.add_tags(LOGIN, [huge_tag])

    async def body(session):
        call = session.call_tool
        answers = [
            await call("list_sessions", {}),
            await call("search_sessions", {"text": "login"}),
            await call("session_stats", {"by": ["tag"], "top": 20}),
            await call("tag_session", {"session_id": JWT, "add": ["m" * 1_000_000]}),
        ]
        for result in answers:
            assert len(text(result)) <= 20_000
            assert "characters in all]" in text(result)
            answer(result)  # whole JSON: cut field by field
        refusals = [
            await call("describe_session", {"session_id": JWT, "description": "d" * 2_000_000}),
            await call("search_sessions", {"after": "a" * 2_000_000}),
            await call("n" * 1_000_000, {}),
        ]
        for result in refusals:
            assert len(error(result)) <= 500

    talk(location, log, body, "--allow-write")
    with SessionStore(location, read_only=True) as store:
        assert huge_tag in store.get_metadata(LOGIN).tags
        assert "m" * 1_000_000 in store.get_metadata(JWT).tags
        assert store.get_metadata(JWT).description is None


@pytest.mark.parametrize("options", [(), ("--allow-write",)])
def test_the_server_never_cleans_up(tmp_path, log, options):
    """Sessions months old stay, whatever the automatic cleanup age says."""
    location = str(tmp_path / "store")
    with SessionStore(location, cleanup_after_days=None) as store:
        fill(store)

    async def body(session):
        assert len(answer(await session.call_tool("list_sessions", {}))["sessions"]) == 4

    talk(location, log, body, *options, env={"CLAUDE_SESSIONS_CLEANUP_DAYS": "1"})
    with SessionStore(location, read_only=True) as store:
        assert len(store.list_sessions()) == 4 and not store.list_trash()


def test_a_server_on_a_missing_store_answers_empty_with_a_hint_until_one_appears(tmp_path, log):
    """Right after ``mcp install`` on a new machine: no store yet, the server still serves
    (and makes none); once an import makes one, it is served."""
    location = str(tmp_path / "nothing")
    hint = "run `claude-sessions import`"

    async def body(session):
        listed = await session.list_tools()
        assert {tool.name for tool in listed.tools} == READ_TOOLS
        for name, asked in (("search_sessions", {"text": "CSRF"}), ("list_sessions", {})):
            found = answer(await session.call_tool(name, asked))
            assert found["sessions"] == [] and hint in found["hint"]
        stats = answer(await session.call_tool("session_stats", {}))
        assert stats["sessions"] == 0 and hint in stats["hint"]
        for name in ("get_session", "session_lineage"):
            refused = error(await session.call_tool(name, {"session_id": LOGIN}))
            assert "no session id stored" in refused and hint in refused
        assert not (tmp_path / "nothing").exists()
        with SessionStore(location, cleanup_after_days=None) as store:
            fill(store)
        found = answer(await session.call_tool("search_sessions", {"text": "CSRF login"}))
        assert ids(found) == [LOGIN] and "hint" not in found

    talk(location, log, body)


def test_importing_the_command_line_leaves_the_server_unloaded():
    code = (
        "import sys, claude_sessions, claude_sessions.cli; "
        "print(sorted(m for m in sys.modules if m.startswith('claude_sessions.mcp')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
