"""``show ID --at UUID``: the messages around one message, as a search result names it."""

from __future__ import annotations

import uuid as uuidlib
from typing import Any

from ..transcript_samples import sid

SESSION = sid(0x51)
EXCHANGES = 12
AROUND = 3  # the messages shown either side of the one asked for


def message_uuid(n: int) -> str:
    return str(uuidlib.uuid5(uuidlib.NAMESPACE_URL, f"show-at/{n}"))


def entry(n: int, kind: str, content: Any) -> dict[str, Any]:
    body = {"role": kind, "content": content}
    if kind == "assistant":
        body |= {"model": "claude-x", "id": f"msg_{n}"}
    return {"type": kind, "uuid": message_uuid(n), "sessionId": SESSION, "message": body}


def entries() -> list[dict[str, Any]]:
    """Prompt i, reply i, for each exchange; exchange 9 runs a tool, its result a message
    of its own."""
    found = []
    for i in range(EXCHANGES):
        found.append(entry(len(found), "user", f"prompt number {i}"))
        if i == 9:
            call = {"type": "tool_use", "id": "toolu_9", "name": "Bash", "input": {"command": "ls"}}
            found.append(entry(len(found), "assistant", [call]))
            result = {"type": "tool_result", "tool_use_id": "toolu_9", "content": "listing-9"}
            found.append(entry(len(found), "user", [result]))
        found.append(entry(len(found), "assistant", [{"type": "text", "text": f"reply {i}"}]))
    return found


def shown_texts(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith(("prompt number", "reply"))]


def test_show_at_prints_the_messages_around_one(store, invoke):
    store.save_session(SESSION, entries())
    # Messages alternate prompt, reply: prompt 6 is the 13th; three either side of it.
    texts = [f"{kind} {i}" for i in range(EXCHANGES) for kind in ("prompt number", "reply")]
    focus = texts.index("prompt number 6")
    expected = texts[focus - AROUND : focus + AROUND + 1]
    asked = message_uuid(2 * 6)
    result = invoke("show", SESSION[:8], "--at", asked[:13])
    assert result.exit_code == 0, result.output
    assert shown_texts(result.stdout) == expected
    (heading,) = [line for line in result.stdout.splitlines() if line.startswith("▶▶")]
    assert heading.startswith("▶▶ User") and asked in heading
    assert f"({focus - AROUND} earlier message(s) not shown)" in result.stdout


def test_show_at_a_tool_result_shows_the_call_it_answers(store, invoke):
    store.save_session(SESSION, entries())
    listing = next(e for e in entries() if "tool_result" in str(e["message"]["content"]))
    result = invoke("show", SESSION[:8], "--at", listing["uuid"])
    assert result.exit_code == 0, result.output
    marked = result.stdout.split("▶▶ ", 1)[1].split("\n\n", 1)[0]  # to the next message
    assert "Tool call: Bash" in marked and "listing-9" in marked
    assert "prompt number 9" in result.stdout and "prompt number 5" not in result.stdout


def test_show_at_an_unknown_message_is_a_one_line_error(store, invoke):
    store.save_session(SESSION, entries())
    result = invoke("show", SESSION[:8], "--at", "ffffffff")
    assert result.exit_code != 0
    assert result.stderr.startswith("Error: no message uuid starts with 'ffffffff'")
    assert len(result.stderr.splitlines()) == 1
    assert invoke("show", SESSION[:8], "--at", "ffff", "--format", "markdown").exit_code == 2
