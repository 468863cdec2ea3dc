import json

import pytest
from claude_agent_sdk import AssistantMessage, ResultMessage, SystemMessage, TextBlock, UserMessage

from claude_sessions import Message

INIT = {
    "type": "system",
    "subtype": "init",
    "session_id": "s-1",
    "model": "claude-sonnet-4-5",
    "cwd": "/work",
    "uuid": "u-0",
}
ASSISTANT = {
    "type": "assistant",
    "message": {
        "id": "msg_1",
        "model": "claude-sonnet-4-5",
        "content": [{"type": "text", "text": "Hello "}, {"type": "text", "text": "Alice"}],
        "usage": {"input_tokens": 3, "output_tokens": 2},
    },
    "session_id": "s-1",
    "uuid": "u-1",
    "parent_tool_use_id": None,
}
RESULT = {
    "type": "result",
    "subtype": "success",
    "is_error": False,
    "num_turns": 1,
    "result": "Hello Alice",
    "session_id": "s-1",
    "total_cost_usd": 0.00016,
    "duration_ms": 10,
    "duration_api_ms": 8,
    "usage": {"input_tokens": 3},
}


def test_accessors_read_the_cli_shapes():
    init, assistant, result = Message(INIT), Message(ASSISTANT), Message(RESULT)
    assert (init.type, init.subtype, init.is_init, init.model) == (
        "system",
        "init",
        True,
        "claude-sonnet-4-5",
    )
    assert assistant.text == "Hello Alice"
    assert assistant.model == "claude-sonnet-4-5"
    assert assistant.usage == {"input_tokens": 3, "output_tokens": 2}
    assert result.total_cost_usd == 0.00016
    assert result.num_turns == 1
    assert result.text == "Hello Alice"
    assert not result.is_error


def test_unknown_types_pass_through_unchanged():
    raw = {"type": "brand_new_event", "subtype": "v9", "payload": {"deep": [1, {"x": None}]}}
    message = Message.from_json(json.dumps(raw))
    assert message.type == "brand_new_event"
    assert message.subtype == "v9"
    assert message.to_dict() == raw
    assert json.loads(message.to_json()) == raw
    assert message.text == "" and message.model is None and message.total_cost_usd is None


def test_to_dict_is_a_copy():
    message = Message(ASSISTANT)
    copy = message.to_dict()
    copy["message"]["content"].clear()
    assert message.text == "Hello Alice"


@pytest.mark.parametrize(
    "odd",
    [
        {},
        {"type": 5},
        {"type": "assistant", "message": "not a dict"},
        {"type": "assistant", "message": {"content": [1, None, {"type": "text"}]}},
        {"type": "result", "total_cost_usd": "free", "num_turns": True, "is_error": 1},
    ],
)
def test_odd_shapes_never_raise(odd):
    message = Message(odd)
    for name in ("type", "subtype", "session_id", "text", "model", "usage", "content"):
        getattr(message, name)
    assert message.total_cost_usd is None


def test_error_results():
    failed = Message({"type": "result", "subtype": "success", "is_error": True})
    assert failed.is_error
    assert Message({"type": "result", "subtype": "error_max_turns"}).is_error


def test_rejects_non_objects():
    with pytest.raises(TypeError):
        Message(["not", "an", "object"])  # type: ignore[arg-type]


def test_transcript_entries_use_camel_case_session_id():
    assert Message({"type": "user", "sessionId": "abc"}).session_id == "abc"


def test_round_trip_with_sdk_typed_messages():
    for raw in (INIT, ASSISTANT, RESULT):
        typed = Message(raw).to_sdk()
        assert typed is not None
        back = Message.coerce(typed)
        assert back.type == raw["type"]
        assert back.session_id == raw["session_id"]
    typed_assistant = Message(ASSISTANT).to_sdk()
    assert isinstance(typed_assistant, AssistantMessage)
    assert Message.coerce(typed_assistant).text == "Hello Alice"
    assert isinstance(Message(RESULT).to_sdk(), ResultMessage)
    assert Message.coerce(Message(RESULT).to_sdk()).total_cost_usd == 0.00016
    assert isinstance(Message(INIT).to_sdk(), SystemMessage)
    assert Message.coerce(Message(INIT).to_sdk()).to_dict() == INIT


def test_sdk_message_without_a_typed_form_gives_none():
    assert Message({"type": "brand_new_event"}).to_sdk() is None


def test_coerce_sdk_user_message():
    message = Message.coerce(UserMessage(content=[TextBlock(text="hi")], uuid="u"))
    assert message.type == "user"
    assert message.text == "hi"
    assert message.uuid == "u"
