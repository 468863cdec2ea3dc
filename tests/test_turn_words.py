"""One meaning per word: "turns" are Claude's messages (the seed's ``count_turns``)
everywhere; the chat's items are "exchanges" and the model calls "API requests", both
shown in the session panel beside the turns. Counted on the real transcripts by the
independent ledger (tests/transcript_ledger.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from claude_sessions import SessionStore
from claude_sessions.importer import import_transcripts
from claude_sessions.views.conversation import build_conversation
from claude_sessions.web import create_app

from .transcript_ledger import build_ledger

FIXTURES = Path(__file__).parent / "fixtures" / "transcripts"
WITH_SUBAGENT = "ae4a77f8-aedd-4bc1-888f-c94edc91af04"


@pytest.fixture(scope="module")
def ledger():
    return build_ledger(FIXTURES, sdk=False)


def _panel(html: str) -> dict[str, str]:
    start = html.index('<dl id="facts"')
    facts = html[start : html.index("</dl>", start)]
    return dict(re.findall(r"<dt[^>]*>([^<]+)</dt><dd[^>]*>([^<]*)</dd>", facts))


def test_the_panel_counts_turns_exchanges_and_api_requests(store: SessionStore, ledger) -> None:
    import_transcripts(store, [FIXTURES / "projects"])
    client = TestClient(create_app(store))
    for session in ledger.sessions.values():
        html = client.get(f"/s/{session.session_id}").text
        panel = _panel(html)
        main_requests = sum(1 for r in session.requests.values() if not r.in_subagent)
        assert panel["Turns"] == f"{session.assistant_lines_main:,}", session.session_id
        assert panel["API requests"] == f"{main_requests:,}", session.session_id
        exchanges = int(panel["Exchanges"].replace(",", ""))
        shown = len(re.findall(r'<article class="turn [^"]*" id="[^"]+" data-index=', html))
        assert shown == min(exchanges, 100)  # the chat's first slice (subagents' are inside)
        assert _panel(client.get(f"/s/{session.session_id}/facts").text) == panel


def test_the_chat_and_subagents_count_exchanges(store: SessionStore) -> None:
    import_transcripts(store, [FIXTURES / "projects"])
    html = TestClient(create_app(store)).get(f"/s/{WITH_SUBAGENT}").text
    assert re.search(r"Subagent transcript · \d+ exchanges", html)
    assert " turns</summary>" not in html


def test_a_result_counts_the_cli_s_api_requests() -> None:
    """The CLI's ``num_turns`` counts its requests to the model (measured with the bundled
    CLI: a run of 3 requests, two of them tool calls, has num_turns 3 and 5 assistant
    messages)."""
    result = {"type": "result", "subtype": "success", "num_turns": 3, "total_cost_usd": 0.0004}
    (turn,) = build_conversation([result]).turns
    assert turn.blocks[0].text == "Result: success, 3 API request(s), $0.0004"
