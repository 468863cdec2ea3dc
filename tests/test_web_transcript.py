"""The session page's reading of real Claude Code transcripts (the third-party fixtures)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from claude_sessions import Message, SessionStore
from claude_sessions.importer import import_transcripts
from claude_sessions.web import create_app
from claude_sessions.web.transcript import Conversation, build_conversation, settled

FIXTURES = Path(__file__).parent / "fixtures" / "transcripts" / "projects"
WITH_SUBAGENT = "ae4a77f8-aedd-4bc1-888f-c94edc91af04"
WITH_COMPACTION = "8463c716-a2ea-4c14-9efa-87158ebd9f20"
TOOL_HEAVY = "d6e0bada-1959-4eec-a9d2-0bfade768d8f"


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SessionStore]:
    with SessionStore(tmp_path_factory.mktemp("s"), cleanup_after_days=None) as store:
        import_transcripts(store, [FIXTURES])
        yield store


def conversation(store: SessionStore, session_id: str) -> Conversation:
    data = store.load_session(session_id, subagents=True)
    return build_conversation(data.messages, data.subagents)


def test_turn_figures_add_up_to_the_stored_ones(imported: SessionStore) -> None:
    sessions = imported.list_sessions()
    assert len(sessions) == 7
    for metadata in sessions:
        turns = conversation(imported, metadata.session_id).turns
        assert sum(t.input_tokens or 0 for t in turns) == metadata.input_tokens
        assert sum(t.output_tokens or 0 for t in turns) == metadata.output_tokens


def test_tool_calls_carry_their_results(imported: SessionStore) -> None:
    blocks = [b for t in conversation(imported, TOOL_HEAVY).turns for b in t.blocks]
    calls = [b for b in blocks if b.kind == "tool_use"]
    assert len(calls) > 5
    assert all(call.result is not None for call in calls)
    assert not [b for b in blocks if b.kind == "tool_result"]  # none left on its own


def test_a_task_call_holds_its_subagents_transcript(imported: SessionStore) -> None:
    calls = [b for t in conversation(imported, WITH_SUBAGENT).turns for b in t.blocks if b.subagent]
    assert [call.name for call in calls] == ["Task"]
    nested = calls[0].subagent
    assert nested is not None and len(nested.turns) > 3
    html = TestClient(create_app(imported)).get(f"/s/{WITH_SUBAGENT}").text
    assert f"Subagent transcript · {len(nested.turns)} turns" in html


def test_compaction_shows_as_a_marker_and_a_folded_summary(imported: SessionStore) -> None:
    turns = conversation(imported, WITH_COMPACTION).turns
    assert [t.marker for t in turns if t.marker] == ["compact", "summary"]
    html = TestClient(create_app(imported)).get(f"/s/{WITH_COMPACTION}").text
    assert "Conversation compacted (auto), 167,731 tokens before" in html
    assert "Summary of the earlier conversation (compacted)" in html


def test_settled_stops_before_a_call_still_waiting() -> None:
    def entry(kind: str, content: list[dict[str, object]], n: int) -> Message:
        body = {"role": kind, "id": f"m{n}", "content": content}
        return Message({"type": kind, "uuid": f"u{n}", "message": body})

    call = {"type": "tool_use", "id": "t1", "name": "Bash", "input": {"command": "ls"}}
    answer = {"type": "tool_result", "tool_use_id": "t1", "content": "a.txt"}
    messages = [
        entry("user", [{"type": "text", "text": "hi"}], 1),
        entry("assistant", [call], 2),
        entry("assistant", [{"type": "text", "text": "waiting"}], 3),
        entry("user", [{"type": "text", "text": "more"}], 4),
    ]
    assert settled(build_conversation(messages)) == 1  # turn 1 may still get its result
    answered = build_conversation([*messages[:2], entry("user", [answer], 5), *messages[2:]])
    assert answered.turns[1].blocks[0].result is not None
    assert settled(answered) == len(answered.turns) - 1
