"""The conversation read model on real Claude Code transcripts (the third-party fixtures) and
on what a live view needs: marker kinds, a tool result's images, which turns are settled."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from claude_sessions import Message, SessionStore
from claude_sessions.importer import import_transcripts
from claude_sessions.views.conversation import (
    Conversation,
    Turn,
    build_conversation,
    join_replies,
    settled,
)

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


def every_turn(found: Conversation) -> Iterator[Turn]:
    """The turns of ``found`` and of its subagents, linked or not."""
    yield from found.turns
    for block in found.blocks():
        if block.subagent is not None:
            yield from block.subagent.turns
    for agent in found.unlinked.values():
        yield from every_turn(agent)


def test_turn_figures_add_up_to_the_stored_ones(imported: SessionStore) -> None:
    sessions = imported.list_sessions()
    assert len(sessions) == len([p for p in FIXTURES.glob("*/*.jsonl") if "agent-" not in p.name])
    for metadata in sessions:  # the stored figures count the subagents' requests too
        turns = list(every_turn(conversation(imported, metadata.session_id)))
        assert sum(t.input_tokens or 0 for t in turns) == metadata.input_tokens
        assert sum(t.output_tokens or 0 for t in turns) == metadata.output_tokens


def test_tool_calls_carry_their_results(imported: SessionStore) -> None:
    blocks = [b for t in conversation(imported, TOOL_HEAVY).turns for b in t.blocks]
    calls = [b for b in blocks if b.kind == "tool_use"]
    assert len(calls) > 5
    assert all(call.result is not None for call in calls)
    assert not [b for b in blocks if b.kind == "tool_result"]  # none left on its own


def test_a_task_call_holds_its_subagents_transcript(imported: SessionStore) -> None:
    found = conversation(imported, WITH_SUBAGENT)
    calls = [b for t in found.turns for b in t.blocks if b.subagent]
    assert [call.name for call in calls] == ["Task"]
    nested = calls[0].subagent
    assert nested is not None and len(nested.turns) > 3
    assert list(found.unlinked) == ["subagents/agent-acompact-946d2b"]


def test_compaction_is_a_boundary_then_its_summary(imported: SessionStore) -> None:
    turns = conversation(imported, WITH_COMPACTION).turns
    markers = [t for t in turns if t.marker]
    assert [t.marker for t in markers] == ["compact", "compact_summary"]
    assert markers[0].blocks[0].text == "Conversation compacted (auto, 167,731 tokens before)"
    summary = markers[1].blocks[0].result
    assert summary is not None and summary.text.strip()


def test_marker_kinds_of_a_stream_json_run() -> None:
    messages = [
        {"type": "system", "subtype": "init", "model": "claude-x"},
        {"type": "summary", "summary": "Did a task"},
        {"type": "result", "subtype": "success", "num_turns": 1, "is_error": False},
    ]
    turns = build_conversation(messages).turns
    assert [(t.role, t.marker) for t in turns] == [
        ("system", "start"),
        ("system", "summary"),
        ("result", "result"),
    ]
    compacted = {"type": "system", "subtype": "compact_boundary", "compactMetadata": {}}
    assert build_conversation([compacted]).turns[0].blocks[0].text == "Conversation compacted"


def test_a_tool_results_images_ride_on_it() -> None:
    call = {"type": "tool_use", "id": "t1", "name": "Screenshot", "input": {}}
    image = {
        "type": "image",
        "source": {"type": "base64", "media_type": "image/png", "data": "AA=="},
    }
    answer = {
        "type": "tool_result",
        "tool_use_id": "t1",
        "content": [{"type": "text", "text": "taken"}, image],
    }
    messages = [
        {"type": "assistant", "message": {"content": [call]}},
        {"type": "user", "message": {"content": [answer]}},
    ]
    found = build_conversation(messages)
    assert len(found.turns) == 1  # the result's entry holds nothing else
    result = found.turns[0].blocks[0].result
    assert result is not None and result.text == "taken"
    assert [(i.kind, i.media_type) for i in result.attachments] == [("image", "image/png")]
    assert [b.kind for b in found.blocks()] == ["tool_use", "tool_result", "image"]


def entry(kind: str, content: list[dict[str, Any]], n: int) -> Message:
    body = {"role": kind, "id": f"m{n}", "content": content}
    return Message({"type": kind, "uuid": f"u{n}", "message": body})


def test_settled_stops_before_a_call_still_waiting() -> None:
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
    assert settled(Conversation()) == 0


def test_only_the_last_turn_changes_when_a_split_reply_goes_on() -> None:
    def part(text: str, n: int) -> Message:
        usage = {"input_tokens": 10, "output_tokens": n}
        body = {
            "role": "assistant",
            "id": "m1",
            "usage": usage,
            "content": [{"type": "text", "text": text}],
        }
        return Message({"type": "assistant", "uuid": f"u{n}", "requestId": "r1", "message": body})

    prompt = entry("user", [{"type": "text", "text": "hi"}], 0)
    before = build_conversation([prompt, part("a", 1)])
    assert before.turns[1].output_tokens == 1 and settled(before) == 1
    after = build_conversation([prompt, part("a", 1), part("b", 2)])
    assert after.turns[1].output_tokens is None and after.turns[2].output_tokens == 2


def test_join_replies_makes_one_turn_of_a_split_response(imported: SessionStore) -> None:
    for metadata in imported.list_sessions():
        split = conversation(imported, metadata.session_id)
        joined = join_replies(split)
        assert len(joined.turns) <= len(split.turns)
        assert sum(t.output_tokens or 0 for t in every_turn(joined)) == metadata.output_tokens
        assert [b.kind for b in joined.blocks()] == [b.kind for b in split.blocks()]
        for one, two in itertools.pairwise(joined.turns):
            assert one.message_id is None or one.message_id != two.message_id
    heavy = conversation(imported, TOOL_HEAVY)
    joined = join_replies(heavy)
    assert len(joined.turns) < len(heavy.turns)
    reply = next(t for t in joined.turns if t.joined_uuids)
    parts = [t for t in heavy.turns if t.message_id == reply.message_id]
    assert len(parts) > 1 and reply.uuid == parts[0].uuid
    assert reply.joined_uuids == [t.uuid for t in parts[1:]]
    assert reply.blocks == [b for t in parts for b in t.blocks]
    assert reply.output_tokens == sum(t.output_tokens or 0 for t in parts)
    assert len(parts[0].blocks) == 1  # the conversation joined is left as it was
    nested = join_replies(conversation(imported, WITH_SUBAGENT))
    assert next(b.subagent for b in nested.blocks() if b.subagent).turns


def test_a_reply_that_goes_on_changes_only_the_last_joined_turn() -> None:
    def part(text: str, n: int) -> Message:
        usage = {"input_tokens": 10, "output_tokens": n}
        content = [{"type": "text", "text": text}]
        body = {"role": "assistant", "id": "m1", "usage": usage, "content": content}
        return Message({"type": "assistant", "uuid": f"u{n}", "requestId": "r1", "message": body})

    prompt = entry("user", [{"type": "text", "text": "hi"}], 0)
    joined = join_replies(build_conversation([prompt, part("a", 1), part("b", 2)]))
    assert [len(t.blocks) for t in joined.turns] == [1, 2]
    assert (joined.turns[1].uuid, joined.turns[1].output_tokens) == ("u1", 2)
    assert settled(joined) == 1
