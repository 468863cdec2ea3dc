"""Transcript rendering: parts, text, Markdown, JSON and (escaped) HTML."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from claude_sessions import InvalidInputError, Message, SessionData, SessionMetadata
from claude_sessions.render import (
    CONTINUED,
    FORMATS,
    MarkdownPage,
    conversation,
    export_all,
    export_session,
    markdown_page,
    render,
    render_html,
    render_json,
    render_markdown,
    render_text,
    snippet_spans,
)

from .transcript_samples import conversation as transcript
from .transcript_samples import sid

EVIL = "<script>alert('x')</script> & \"quotes\""


def session(messages, **meta) -> SessionData:
    now = datetime(2026, 3, 1, 10, 0, tzinfo=timezone.utc)
    fields = {"session_id": sid(1), "created_at": now, "updated_at": now} | meta
    return SessionData(
        fields["session_id"], [Message(m) for m in messages], SessionMetadata(**fields)
    )


def stream_run() -> list[dict]:
    return [
        {"type": "system", "subtype": "init", "session_id": sid(1), "model": "claude-x"},
        {
            "type": "assistant",
            "message": {
                "content": [
                    {"type": "thinking", "thinking": "Let me think"},
                    {"type": "text", "text": "Here you go"},
                    {"type": "tool_use", "name": "Bash", "input": {"command": "ls"}},
                ]
            },
        },
        {
            "type": "user",
            "message": {
                "content": [
                    {
                        "type": "tool_result",
                        "content": [{"type": "text", "text": "a.txt"}],
                        "is_error": True,
                    }
                ]
            },
        },
        {"type": "stream_event", "event": {"type": "message_start"}},
        {"type": "rate_limit_event", "whatever": 1},
        {
            "type": "result",
            "subtype": "success",
            "num_turns": 2,
            "total_cost_usd": 0.0123,
            "result": "done",
            "session_id": sid(1),
        },
    ]


def test_conversation_parts_from_stream_json():
    parts = conversation(stream_run())
    assert [p.kind for p in parts] == [
        "system",
        "thinking",
        "assistant",
        "tool_use",
        "tool_result",
        "result",
    ]
    assert parts[3].name == "Bash" and json.loads(parts[3].text) == {"command": "ls"}
    assert parts[4].is_error and parts[4].text == "a.txt"
    assert "$0.0123" in parts[5].text and "2 turn(s)" in parts[5].text


def test_conversation_parts_from_transcript_entries():
    parts = conversation(transcript(sid(1), ["Build it"], with_tool=True))
    assert [p.kind for p in parts] == ["user", "tool_use", "tool_result", "assistant"]
    assert parts[0].text == "Build it" and parts[0].timestamp
    assert parts[2].text == "README.md\nsrc"


def test_odd_messages_do_not_crash():
    odd = [
        {"type": "assistant"},
        {"type": "assistant", "message": {"content": None}},
        {"type": "user", "message": {"content": [{"type": "image"}]}, "isMeta": True},
        {"type": "user", "message": {"content": [{"type": "tool_result", "content": None}]}},
        {"type": "result"},
    ]
    for fmt in FORMATS:
        assert render(session(odd), fmt)


def test_text_and_markdown():
    data = session(stream_run(), tags=("a", "b"), description="My run", total_cost=0.5)
    text = render_text(data)
    assert "Tags: a, b" in text and "── Tool call: Bash ──" in text and "Here you go" in text
    markdown = render_markdown(data)
    assert markdown.startswith("# My run\n")
    assert "## Tool call: Bash" in markdown and '```json\n{\n  "command": "ls"\n}\n```' in markdown


def test_markdown_fence_outlasts_backticks_inside():
    data = session(
        [
            {
                "type": "user",
                "message": {
                    "content": [{"type": "tool_result", "content": "```python\nx = 1\n```"}]
                },
            }
        ]
    )
    assert "````\n```python\nx = 1\n```\n````" in render_markdown(data)


def test_json_keeps_messages_verbatim():
    data = session(stream_run())
    loaded = json.loads(render_json(data))
    assert loaded["messages"] == stream_run()
    assert loaded["session"]["session_id"] == sid(1)


def test_html_escapes_everything():
    data = session(
        [
            {"type": "user", "message": {"content": EVIL}},
            {
                "type": "assistant",
                "message": {"content": [{"type": "tool_use", "name": EVIL, "input": {"x": EVIL}}]},
            },
        ],
        description=EVIL,
        tags=(EVIL,),
    )
    page = render_html(data)
    assert "<script>" not in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &#34;quotes&#34;" in page
    assert page.startswith("<!DOCTYPE html>")


def test_unknown_format():
    with pytest.raises(ValueError, match="unknown format"):
        render(session([]), "pdf")


def test_snippet_spans():
    assert snippet_spans("…the [quick] brown [fox]") == [
        ("…the ", False),
        ("quick", True),
        (" brown ", False),
        ("fox", True),
    ]
    assert snippet_spans("") == []


def test_export_from_store(store, tmp_path):
    store.save_session(sid(1), transcript(sid(1), ["first"]))
    store.save_session(sid(2), transcript(sid(2), ["second"]))
    assert "first" in export_session(store, sid(1), "markdown")
    written = export_all(store, tmp_path / "out", "html")
    assert sorted(p.name for p in written) == [f"{sid(1)}.html", f"{sid(2)}.html"]
    assert "second" in (tmp_path / "out" / f"{sid(2)}.html").read_text()
    with pytest.raises(ValueError, match="unknown format"):
        export_all(store, tmp_path / "out", "pdf")


def long_run(turns: int = 8) -> list[dict]:
    messages: list[dict] = [
        {"type": "system", "subtype": "init", "session_id": sid(1), "model": "claude-x"}
    ]
    for n in range(turns):
        question = f"question {n} " + "word " * 150
        answer = f"answer {n} " + "text " * 300
        messages.append(
            {"type": "user", "message": {"content": [{"type": "text", "text": question}]}}
        )
        messages.append(
            {"type": "assistant", "message": {"content": [{"type": "text", "text": answer}]}}
        )
        if n == 3:  # one block longer than any page
            result = {"type": "tool_result", "content": "".join(f"line {i}\n" for i in range(1500))}
            messages.append({"type": "user", "message": {"content": [result]}})
    return messages


def every_page(data: SessionData, max_chars: int) -> list[MarkdownPage]:
    pages = [markdown_page(data, max_chars=max_chars)]
    while pages[-1].next_block is not None:
        last = pages[-1]
        pages.append(
            markdown_page(data, block=last.next_block, offset=last.next_offset, max_chars=max_chars)
        )
    return pages


def test_markdown_pages_fit_their_budget_and_add_up_to_the_transcript():
    data = session(long_run(), description="Long run")
    pages = every_page(data, 3000)
    assert len(pages) > 8
    assert all(len(page.text) <= 3000 for page in pages)
    # Whole blocks while they fit: only the last page may be less than three quarters full.
    assert all(len(page.text) >= 0.74 * 3000 for page in pages[:-1])
    split = [page for page in pages if page.offset]
    assert len(split) >= 3 and all(page.text.startswith(CONTINUED) for page in split)
    glued = ""
    for page in pages:
        if page.offset:  # the page goes on with the block the previous one cut
            glued += page.text[len(CONTINUED) :]
        else:
            glued += ("\n\n" if glued else "") + page.text
    assert glued + "\n" == render_markdown(data)
    assert pages[0].text.startswith("# Long run\n") and pages[-1].next_block is None
    assert {page.blocks for page in pages} == {len(conversation(data.messages)) + 1}


def test_markdown_page_rejects_positions_outside_the_transcript():
    data = session(long_run(1))
    blocks = markdown_page(data).blocks
    with pytest.raises(InvalidInputError):
        markdown_page(data, block=blocks)
    with pytest.raises(InvalidInputError):
        markdown_page(data, block=1, offset=10**6)
    with pytest.raises(InvalidInputError):
        markdown_page(data, max_chars=10)
    whole = markdown_page(data, max_chars=100_000)
    assert whole.next_block is None and whole.text + "\n" == render_markdown(data)
