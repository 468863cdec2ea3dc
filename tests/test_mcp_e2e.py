"""The real Claude Code CLI calls our MCP server when the (fake) model asks for a tool."""

from __future__ import annotations

import json
import sys

import pytest

from claude_sessions import Options, SessionStore, query
from claude_sessions.mcp import server_entry
from claude_sessions.testing import Reply, ToolUse

from .mcp_samples import LOGIN, fill

pytestmark = pytest.mark.e2e

SEARCH = "mcp__claude-sessions__search_sessions"
GET = "mcp__claude-sessions__get_session"


def test_claude_searches_its_history_through_the_server(fake_claude, tmp_path):
    location = str(tmp_path / "store")
    with SessionStore(location, cleanup_after_days=None) as store:
        fill(store)
    config = tmp_path / "mcp.json"
    entry = server_entry(location, python=sys.executable)
    config.write_text(json.dumps({"mcpServers": {"claude-sessions": entry}}))

    search = ToolUse(SEARCH, {"text": "CSRF login", "limit": 5}, id="toolu_search")
    missing = ToolUse(GET, {"session_id": "feedbeef"}, id="toolu_missing")

    def script(request):
        if not request.tool_results:
            return Reply("Let me look that up.", tool_use=[search, missing])
        return Reply("We rotated the CSRF secret on each deploy.")

    fake_claude.set_script(script)
    options = Options(
        extra_args=["--mcp-config", str(config), "--strict-mcp-config"],
        allowed_tools=[SEARCH, GET],
        timeout=120,
    )
    messages = list(query("How did we fix the login bug last week?", options))

    result = messages[-1]
    assert result.is_result and not result.is_error, result.to_dict()
    assert result.get("result") == "We rotated the CSRF secret on each deploy."
    calls = [call["name"] for m in messages if m.type == "assistant" for call in m.tool_uses]
    assert calls == [SEARCH, GET]

    first, second = fake_claude.model_requests
    offered = json.dumps(first.body)
    assert SEARCH in offered and GET in offered  # listed among the deferred tools
    assert "searches the user's saved Claude Code sessions" in offered  # our instructions
    assert first.tool_results == []
    found = second.tool_result("toolu_search")
    assert not found.is_error
    assert [s["session_id"] for s in json.loads(found.text)["sessions"]] == [LOGIN]
    refused = second.tool_result("toolu_missing")
    assert refused.is_error and "no session id stored starts with 'feedbeef'" in refused.text
