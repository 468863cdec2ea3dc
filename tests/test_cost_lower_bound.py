"""A session with usage of a model without a price shows its cost as a lower bound
("at least $X") in every face: the command line (list, search, show, export, stats),
the web app (list, panel, usage page) and the MCP tools, on both stores."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from claude_sessions import SessionStore
from claude_sessions.cli import cli
from claude_sessions.mcp.tools import available_tools, call_tool
from claude_sessions.web import create_app

from .cli.samples import ENV

PRICED = "claude-sonnet-4-5-20250929"  # $3 per million input tokens (pricing page)
UNPRICED = "claude-x-9"  # parses as a model, but none such is priced
MIXED, PRICED_ONLY, UNPRICED_ONLY = "mixed-usage", "paid-usage", "free-usage"
# USD from the published input price, independent of the table: 100k and 200k tokens in.
MIXED_COST = 100_000 * 3 / 1_000_000
PRICED_COST = 200_000 * 3 / 1_000_000


def _exchange(session_id: str, n: int, model: str, tokens_in: int) -> list[dict[str, Any]]:
    common = {"sessionId": session_id, "timestamp": f"2026-03-01T10:{n:02d}:00Z"}
    prompt = {
        **common,
        "type": "user",
        "uuid": f"{session_id}-u{n}",
        "message": {"role": "user", "content": f"question {n} about lanterns"},
    }
    reply = {
        **common,
        "type": "assistant",
        "uuid": f"{session_id}-a{n}",
        "parentUuid": prompt["uuid"],
        "message": {
            "id": f"msg-{session_id}-{n}",
            "role": "assistant",
            "model": model,
            "content": [{"type": "text", "text": "an answer"}],
            "usage": {"input_tokens": tokens_in, "output_tokens": 0},
        },
    }
    return [prompt, reply]


def _fill(store: SessionStore) -> None:
    sessions = {
        MIXED: _exchange(MIXED, 1, PRICED, 100_000) + _exchange(MIXED, 2, UNPRICED, 50_000),
        PRICED_ONLY: _exchange(PRICED_ONLY, 3, PRICED, 200_000),
        UNPRICED_ONLY: _exchange(UNPRICED_ONLY, 4, UNPRICED, 10_000),
    }
    for session_id, entries in sessions.items():
        store.append_messages(session_id, entries, project_key="-p")


@pytest.fixture
def filled(store_location: str) -> str:
    with SessionStore(store_location, cleanup_after_days=None) as store:
        _fill(store)
    return store_location


@pytest.fixture
def filled_store(store: SessionStore) -> SessionStore:
    _fill(store)
    return store


def _run(location: str, *args: str) -> str:
    result = CliRunner().invoke(cli, list(args), env=ENV | {"CLAUDE_SESSIONS_STORE": location})
    assert result.exit_code == 0, result.output
    return result.stdout


def _line_of(text: str, session_id: str) -> str:
    return next(line for line in text.splitlines() if session_id[:8] in line)


def _plain(cost: float) -> re.Pattern[str]:
    """The terminal's figure for ``cost``, with nothing bounding it."""
    return re.compile(rf"(?<!at least )\${cost:.4f}")


def test_the_list_and_search_say_at_least(filled: str) -> None:
    for args in (("list",), ("search", "lanterns")):
        shown = _run(filled, *args)
        assert f"at least ${MIXED_COST:.4f}" in _line_of(shown, MIXED)
        assert "at least $0.0000" in _line_of(shown, UNPRICED_ONLY)
        priced = _line_of(shown, PRICED_ONLY)
        assert _plain(PRICED_COST).search(priced) and "at least" not in priced


def test_the_json_listing_flags_the_lower_bound(filled: str) -> None:
    found = {m["session_id"]: m for m in json.loads(_run(filled, "list", "--json"))}
    assert found[MIXED]["cost_is_lower_bound"] is True
    assert found[MIXED]["total_cost"] == pytest.approx(MIXED_COST)
    assert found[UNPRICED_ONLY]["cost_is_lower_bound"] is True
    assert found[PRICED_ONLY]["cost_is_lower_bound"] is False


def test_show_and_the_exports_say_at_least(filled: str) -> None:
    bound = f"at least ${MIXED_COST:.4f}, no price for {UNPRICED}"
    assert f"Cost: {bound}" in _run(filled, "show", MIXED)
    assert f"**Cost:** {bound}" in _run(filled, "export", MIXED, "--format", "markdown")
    assert "at least" in _run(filled, "export", MIXED, "--format", "html")
    exported = json.loads(_run(filled, "export", MIXED, "--format", "json"))
    assert exported["session"]["cost_is_lower_bound"] is True
    assert "at least" not in _run(filled, "show", PRICED_ONLY)


def test_stats_say_at_least(filled: str) -> None:
    shown = _run(filled, "stats", "--by", "day")
    assert f"total cost at least ${MIXED_COST + PRICED_COST:.4f}" in shown
    assert f"at least ${MIXED_COST + PRICED_COST:.4f}" in _line_of(shown, "2026-03-01")


def test_the_web_app_says_at_least(filled_store: SessionStore) -> None:
    with TestClient(create_app(filled_store)) as client:
        listing = client.get("/").text
        row = next(r for r in listing.split("<tr") if MIXED in r)
        assert f"at least ${MIXED_COST:.2f}" in row
        assert "at least" not in next(r for r in listing.split("<tr") if PRICED_ONLY in r)
        panel = client.get(f"/s/{MIXED}").text
        assert f"<dt>Cost</dt><dd>at least ${MIXED_COST:.2f}" in panel
        assert f"no price for {UNPRICED}" in panel
        assert "<dt>Cost</dt><dd>at least $0 " in client.get(f"/s/{UNPRICED_ONLY}").text
        usage = client.get("/usage", params={"last": "all"}).text
        total = f'<span class="figure">at least ${MIXED_COST + PRICED_COST:.2f}</span>'
        assert total in usage
        assert f'<td class="num">at least ${MIXED_COST:.2f}</td>' in usage  # a top session


def _tool(store: SessionStore, name: str, **arguments: Any) -> Any:
    outcome = call_tool(store, name, arguments, available_tools())
    assert not outcome.is_error, outcome.text
    return json.loads(outcome.text)


def test_the_mcp_tools_flag_the_lower_bound(filled_store: SessionStore) -> None:
    listed = _tool(filled_store, "list_sessions")
    found = {s["session_id"]: s for s in listed["sessions"]}
    assert found[MIXED]["cost_usd"] == pytest.approx(MIXED_COST)
    assert found[MIXED]["cost_usd_is_lower_bound"] is True
    assert found[MIXED]["unpriced_models"] == [UNPRICED]
    assert found[UNPRICED_ONLY]["cost_usd_is_lower_bound"] is True
    assert "cost_usd_is_lower_bound" not in found[PRICED_ONLY]
    assert _tool(filled_store, "session_lineage", session_id=MIXED)["tree"][
        "cost_usd_is_lower_bound"
    ]
    stats = _tool(filled_store, "session_stats", by=["day"])
    assert stats["cost_usd_is_lower_bound"] is True
    assert stats["by"]["day"][0]["cost_usd_is_lower_bound"] is True
