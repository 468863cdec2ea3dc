"""The fake Messages API itself, spoken to over HTTP the way the CLI does."""

import json
import time
import urllib.error
import urllib.request

import pytest

from claude_sessions.testing import FakeMessagesAPI, Reply, ToolUse


def post(api, body, path="/v1/messages?beta=true"):
    request = urllib.request.Request(
        api.url + path,
        data=json.dumps(body).encode(),
        headers={"content-type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, response.headers.get("content-type"), response.read().decode()


def sse_text(raw):
    events = [json.loads(line[5:]) for line in raw.splitlines() if line.startswith("data:")]
    names = [e["type"] for e in events]
    text = "".join(e["delta"]["text"] for e in events if e["type"] == "content_block_delta")
    return names, text


HISTORY = {
    "messages": [
        {"role": "user", "content": "one"},
        {"role": "assistant", "content": [{"type": "text", "text": "ok"}]},
        {"role": "system", "content": "ignored"},
        {"role": "user", "content": [{"type": "text", "text": "two"}]},
    ]
}


def test_streams_sse_events_in_order():
    with FakeMessagesAPI(["Hi there"]) as api:
        status, ctype, raw = post(api, {**HISTORY, "stream": True})
    assert status == 200 and ctype == "text/event-stream"
    names, text = sse_text(raw)
    assert names == [
        "message_start",
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    assert text == "Hi there"


def test_plain_json_when_not_streaming():
    with FakeMessagesAPI(["plain"], model="claude-test-1") as api:
        _, ctype, raw = post(api, HISTORY)
    body = json.loads(raw)
    assert ctype == "application/json"
    assert body["content"] == [{"type": "text", "text": "plain"}]
    assert body["model"] == "claude-test-1"


def test_echo_counts_user_and_assistant_turns():
    with FakeMessagesAPI() as api:
        _, _, raw = post(api, HISTORY)
    text = json.loads(raw)["content"][0]["text"]
    assert text == "echo: user_turns=2 assistant_turns=1 last='two'"


def test_script_list_then_falls_back_to_echo():
    with FakeMessagesAPI(["first", Reply("second")]) as api:
        texts = [json.loads(post(api, HISTORY)[2])["content"][0]["text"] for _ in range(3)]
    assert texts[:2] == ["first", "second"]
    assert texts[2].startswith("echo:")


def test_script_function_sees_the_request():
    with FakeMessagesAPI(lambda request: f"you said {request.last_user_text}") as api:
        _, _, raw = post(api, HISTORY)
    assert json.loads(raw)["content"][0]["text"] == "you said two"


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (400, "invalid_request_error"),
        (401, "authentication_error"),
        (500, "api_error"),
        (529, "overloaded_error"),
    ],
)
def test_injected_errors(status, kind):
    with (
        FakeMessagesAPI([Reply("nope", status=status, error_type=kind)]) as api,
        pytest.raises(urllib.error.HTTPError) as caught,
    ):
        post(api, HISTORY)
    assert caught.value.code == status
    assert json.loads(caught.value.read())["error"] == {"type": kind, "message": "nope"}


def test_slow_reply():
    with FakeMessagesAPI([Reply("late", delay=0.3)]) as api:
        started = time.monotonic()
        post(api, HISTORY)
    assert time.monotonic() - started >= 0.3


def test_request_log_and_other_paths():
    with FakeMessagesAPI() as api:
        post(api, {"x": 1}, path="/v1/other")
        post(api, HISTORY)
        assert [r.path for r in api.requests] == ["/v1/other", "/v1/messages?beta=true"]
        assert len(api.model_requests) == 1
        request = api.model_requests[0]
        assert (request.count_role("user"), request.count_role("assistant")) == (2, 1)
        api.clear()
        assert api.requests == []


def sse_events(raw):
    return [json.loads(line[5:]) for line in raw.splitlines() if line.startswith("data:")]


def test_scripted_tool_use_streams_as_the_api_does():
    call = ToolUse("mcp__claude-sessions__search_sessions", {"text": "login bug", "limit": 5})
    with FakeMessagesAPI([Reply("Let me look.", tool_use=call)]) as api:
        _, _, raw = post(api, {**HISTORY, "stream": True})
    events = sse_events(raw)
    starts = [e for e in events if e["type"] == "content_block_start"]
    assert [s["content_block"]["type"] for s in starts] == ["text", "tool_use"]
    block = starts[1]["content_block"]
    assert block["name"] == call.name and block["input"] == {}
    assert block["id"].startswith("toolu_fake_")
    deltas = [e["delta"] for e in events if e["type"] == "content_block_delta" and e["index"] == 1]
    assert [d["type"] for d in deltas] == ["input_json_delta", "input_json_delta"]
    pieces = [d["partial_json"] for d in deltas]
    assert json.loads("".join(pieces)) == {"text": "login bug", "limit": 5}
    (delta,) = [e for e in events if e["type"] == "message_delta"]
    assert delta["delta"]["stop_reason"] == "tool_use"


def test_scripted_tool_uses_without_text_and_unstreamed():
    calls = [ToolUse("Bash", {"command": "ls"}, id="toolu_a"), ToolUse("Read", {"path": "x"})]
    with FakeMessagesAPI([Reply(tool_use=calls), Reply(tool_use=calls[1])]) as api:
        first = json.loads(post(api, HISTORY)[2])
        second = json.loads(post(api, HISTORY)[2])
    assert first["stop_reason"] == "tool_use"
    assert [b["type"] for b in first["content"]] == ["tool_use", "tool_use"]
    assert first["content"][0] == {
        "type": "tool_use",
        "id": "toolu_a",
        "name": "Bash",
        "input": {"command": "ls"},
    }
    assert first["content"][1]["id"] != second["content"][0]["id"]  # fresh ids per call


def test_recorded_request_finds_tool_results():
    body = {
        "messages": [
            {"role": "user", "content": "find it"},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "X"}]},
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": "t1", "content": "plain"},
                    {
                        "type": "tool_result",
                        "tool_use_id": "t2",
                        "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}],
                        "is_error": True,
                    },
                ],
            },
        ]
    }
    with FakeMessagesAPI(["ok"]) as api:
        post(api, body)
    request = api.model_requests[0]
    assert [(r.tool_use_id, r.text, r.is_error) for r in request.tool_results] == [
        ("t1", "plain", False),
        ("t2", "a\nb", True),
    ]
    assert request.tool_result("t2").content[0] == {"type": "text", "text": "a"}
    with pytest.raises(KeyError):
        request.tool_result("t3")
