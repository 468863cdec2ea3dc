"""Transcript rendering: parts, text, Markdown, JSON and (escaped) HTML."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from claude_sessions import InvalidInputError, Message, SessionData, SessionMetadata
from claude_sessions.views.conversation import build_conversation
from claude_sessions.views.render import (
    CONTINUED,
    FORMATS,
    MarkdownPage,
    export_all,
    export_session,
    markdown_page,
    render,
    render_json,
    render_markdown,
    render_text,
)
from claude_sessions.views.titles import snippet_spans
from claude_sessions.web.export import session_html

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


def kinds(conversation):
    return [(turn.role, [block.kind for block in turn.blocks]) for turn in conversation.turns]


def test_conversation_from_stream_json():
    found = build_conversation(stream_run())
    assert kinds(found) == [
        ("system", ["marker"]),
        ("assistant", ["thinking", "text", "tool_use"]),
        ("user", ["tool_result"]),  # it names no call id: it stays where it was
        ("result", ["marker"]),
    ]
    call = found.turns[1].blocks[2]
    assert call.name == "Bash" and call.input == {"command": "ls"}
    assert call.result is None and found.turns[2].blocks[0].is_error
    assert "$0.0123" in found.turns[3].blocks[0].text


def test_conversation_pairs_calls_with_results():
    found = build_conversation(transcript(sid(1), ["Build it"], with_tool=True))
    assert kinds(found) == [
        ("user", ["text"]),
        ("assistant", ["tool_use"]),
        ("assistant", ["text"]),
    ]
    call = found.turns[1].blocks[0]
    assert call.result is not None and call.result.text == "README.md\nsrc"
    assert found.turns[0].blocks[0].text == "Build it" and found.turns[0].timestamp


def _assistant(message_id, content, request="r1", **usage):
    body = {"id": message_id, "model": "claude-sonnet-4-5", "content": content}
    if usage:
        body["usage"] = usage
    return {"type": "assistant", "requestId": request, "message": body, "uuid": message_id}


def test_subagents_nest_under_the_call_that_started_them():
    call = {"type": "tool_use", "id": "toolu_1", "name": "Task", "input": {"prompt": "look"}}
    result = {
        "type": "user",
        "message": {
            "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "ok"}]
        },
        "toolUseResult": {"agentId": "a1b2"},
    }
    messages = [_assistant("m1", [call]), result, {"type": "summary", "summary": "Did a task"}]
    agents = {
        "subagents/agent-a1b2": [_assistant("s1", [{"type": "text", "text": "inside"}])],
        "subagents/agent-acompact-9": [_assistant("s2", [{"type": "text", "text": "compact"}])],
    }
    found = build_conversation(messages, agents)
    task = found.turns[0].blocks[0]
    assert task.result.text == "ok" and task.agent_id == "a1b2"
    assert task.subagent.turns[0].blocks[0].text == "inside"
    assert list(found.unlinked) == ["subagents/agent-acompact-9"]
    assert found.turns[-1].blocks[0].text == "Summary: Did a task"
    data = SessionData(
        sid(1),
        [Message(m) for m in messages],
        SessionMetadata(
            sid(1),
            datetime(2026, 3, 1, tzinfo=timezone.utc),
            datetime(2026, 3, 1, tzinfo=timezone.utc),
        ),
        {path: [Message(m) for m in entries] for path, entries in agents.items()},
    )
    text = render_text(data)
    assert "── Subagent a1b2 ──" in text and "   │ " in text and "inside" in text
    assert "Subagent a1b2" in render_markdown(data) and "> inside" in render_markdown(data)
    html = session_html(data)
    call = html.index('<span class="tool-name">Task</span>')
    assert html.index('<details class="subagent">', call) < html.index("inside", call)
    exported = json.loads(render_json(data))["subagents"]
    assert {(a["agent_id"], a["tool_use_id"]) for a in exported} == {
        ("a1b2", "toolu_1"),
        ("acompact-9", None),
    }


def test_each_request_counts_once_on_its_last_entry():
    split = [
        _assistant("m1", [{"type": "text", "text": "a"}], input_tokens=10, output_tokens=1),
        _assistant(
            "m1",
            [{"type": "tool_use", "id": "t", "name": "Bash"}],
            input_tokens=10,
            output_tokens=7,
        ),
    ]
    turns = build_conversation(split).turns
    assert (turns[0].input_tokens, turns[1].output_tokens) == (None, 7)
    assert turns[1].cost is not None and turns[1].cost > 0


def test_images_and_compaction_markers():
    png = {
        "type": "image",
        "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0K"},
    }
    svg = {
        "type": "image",
        "source": {"type": "base64", "media_type": "image/svg+xml", "data": "PHN2Zz4="},
    }
    messages = [
        {"type": "user", "message": {"content": [{"type": "text", "text": "see"}, png, svg]}},
        {"type": "system", "subtype": "compact_boundary", "compactMetadata": {"preTokens": 16773}},
        {"type": "user", "isCompactSummary": True, "message": {"content": "The story so far"}},
    ]
    data = session(messages)
    text = render_text(data)
    assert (
        "[image: image/png, 6 B]" in text
        and "Conversation compacted (16,773 tokens before)" in text
    )
    html = session_html(data)
    assert 'src="data:image/png;base64,iVBORw0K"' in html
    assert "image/svg+xml" in html and "data:image/svg+xml" not in html  # shown as a label only
    assert "Summary of the earlier conversation (compacted)" in html
    assert "The story so far" in html


def test_odd_messages_do_not_crash():
    odd = [
        {"type": "assistant"},
        {"type": "assistant", "message": {"content": None}},
        {"type": "user", "message": {"content": [{"type": "image"}]}, "isMeta": True},
        {"type": "user", "message": {"content": [{"type": "tool_result", "content": None}]}},
        {"type": "result"},
    ]
    for fmt in FORMATS:
        assert render(session(odd), fmt, html=session_html)


def test_text_and_markdown():
    data = session(stream_run(), tags=("a", "b"), description="My run", total_cost=0.5)
    text = render_text(data)
    assert "Tags: a, b" in text and "── Tool call: Bash ──" in text and "Here you go" in text
    markdown = render_markdown(data)
    assert markdown.startswith("# My run\n")
    assert "**Tool call: Bash**" in markdown and '```json\n{\n  "command": "ls"\n}\n```' in markdown


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
    page = session_html(data)
    assert "<script>" not in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &#34;quotes&#34;" in page
    assert page.startswith("<!DOCTYPE html>")


def test_unknown_format():
    with pytest.raises(ValueError, match="unknown format"):
        render(session([]), "pdf")
    with pytest.raises(ValueError, match="HTML is the web app's session page"):
        render(session([]), "html")  # the face that offers HTML passes its renderer


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
    written = export_all(store, tmp_path / "out", "html", html=session_html)
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
    assert {page.blocks for page in pages} == {len(build_conversation(data.messages).turns) + 1}


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


def test_a_summary_of_another_session_says_so_in_the_chat() -> None:
    # Claude Code wrote the previous session's summary at the top of the next file: its
    # leafUuid names no entry of this one (a real file: fe5e1c67's first line).
    path = next(Path(__file__).parent.glob("fixtures/transcripts/projects/*/fe5e1c67-*.jsonl"))
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    summary = lines[0]
    assert summary["type"] == "summary"
    assert summary["leafUuid"] not in {line.get("uuid") for line in lines}
    found = build_conversation(lines)
    shown = [b.text for t in found.turns if t.marker == "summary" for b in t.blocks]
    assert shown == [f"Summary of another session: {summary['summary']}"]
    own = dict(summary, leafUuid=lines[1]["uuid"])
    again = build_conversation([own, *lines[1:]])
    shown = [b.text for t in again.turns if t.marker == "summary" for b in t.blocks]
    assert shown == [f"Summary: {summary['summary']}"]
