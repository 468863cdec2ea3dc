"""Every face that shows token figures says where they came from: the CLI's own run totals
(a session run through this library, which kept its ``result`` messages) or the
transcript lines (which under-record output tokens)."""

from __future__ import annotations

import json
from typing import Any

from starlette.testclient import TestClient

from claude_sessions import SessionStore
from claude_sessions.mcp.tools import available_tools, call_tool
from claude_sessions.store.transfer import copy_store
from claude_sessions.web.app import create_app

RUN = "11111111-1111-4111-8111-111111111111"
IMPORTED = "22222222-2222-4222-8222-222222222222"


def _assistant(session_id: str, output_tokens: int) -> dict[str, Any]:
    return {
        "type": "assistant",
        "session_id": session_id,
        "message": {
            "id": f"m-{session_id}",
            "role": "assistant",
            "model": "claude-sonnet-4-5-20250929",
            "content": [{"type": "text", "text": "ok"}],
            "usage": {"input_tokens": 10, "output_tokens": output_tokens},
        },
    }


def _two_sessions(store: SessionStore) -> None:
    """One run through this library (its result kept), one known from its lines only."""
    result = {
        "type": "result",
        "subtype": "success",
        "session_id": RUN,
        "usage": {"input_tokens": 10, "output_tokens": 300},
    }
    store.save_session(RUN, [_assistant(RUN, 1), result])
    store.save_session(IMPORTED, [_assistant(IMPORTED, 7)])


def test_each_session_knows_where_its_figures_came_from(store: SessionStore, tmp_path) -> None:
    _two_sessions(store)
    assert store.get_metadata(RUN).figures_from == "result"
    assert store.get_metadata(IMPORTED).figures_from == "transcript"
    assert {m.session_id: m.figures_from for m in store.list_sessions()} == {
        RUN: "result",
        IMPORTED: "transcript",
    }
    with SessionStore(tmp_path / "copy") as copy:
        copy_store(store, copy)
        assert copy.get_metadata(RUN).figures_from == "result"


def test_the_panel_and_the_usage_page_name_the_source(store: SessionStore) -> None:
    _two_sessions(store)
    with TestClient(create_app(store)) as client:
        run = client.get(f"/s/{RUN}/facts").text
        imported = client.get(f"/s/{IMPORTED}/facts").text
        usage = client.get("/usage", params={"last": "all"}).text
    assert "Token figures</dt><dd>from the CLI&#39;s own run totals" in run
    assert "Token figures</dt><dd>from transcript lines" in imported
    assert (
        "Token figures: 1 session(s) from the CLI&#39;s own run totals, 1 from transcript lines"
        in usage
    )


def test_mcp_session_stats_names_the_source(store: SessionStore) -> None:
    _two_sessions(store)
    outcome = call_tool(store, "session_stats", {}, available_tools())
    assert not outcome.is_error, outcome.text
    found = json.loads(outcome.text)
    assert found["figures_from"] == {"result": 1, "transcript": 1}
    assert "1 session(s) from the CLI's own run totals" in found["token_figures"]
