"""Edits read as diffs, new files as highlighted content, subagent results as Markdown:
in the text and Markdown transcripts, on a terminal, and on the web app's session page."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from claude_sessions import Message, SessionData, SessionMetadata, SessionStore
from claude_sessions.views.render import render_markdown, render_text
from claude_sessions.web import create_app

from .transcript_samples import sid

FIXTURES = Path(__file__).parent / "fixtures" / "transcripts" / "projects"
DEMO = FIXTURES / "sample-project" / "fe5e1c67-53e7-4862-81ae-d0e013e3270b.jsonl"
OLD = "def total(items):\n    return sum(items)\n# end\n"
NEW = "def total(items):\n    return sum(item.price for item in items)\n# end\n"


def call(tool_id: str, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    content = [{"type": "tool_use", "id": tool_id, "name": name, "input": arguments}]
    return {"type": "assistant", "message": {"model": "claude-x", "content": content}}


def answer(tool_id: str, text: str) -> dict[str, Any]:
    content = [{"type": "tool_result", "tool_use_id": tool_id, "content": text}]
    return {"type": "user", "message": {"role": "user", "content": content}}


def edit_messages() -> list[dict[str, Any]]:
    arguments = {"file_path": "/src/cart.py", "old_string": OLD, "new_string": NEW}
    return [
        {"type": "system", "subtype": "init", "session_id": sid(1), "model": "claude-x"},
        {"type": "user", "message": {"role": "user", "content": "price the cart"}},
        call("e1", "Edit", arguments),
        answer("e1", "The file /src/cart.py has been updated successfully."),
    ]


def session(messages: list[dict[str, Any]]) -> SessionData:
    now = datetime(2026, 3, 1, 10, 0, tzinfo=timezone.utc)
    metadata = SessionMetadata(session_id=sid(1), created_at=now, updated_at=now)
    return SessionData(sid(1), [Message(m) for m in messages], metadata)


def demo_lines() -> list[dict[str, Any]]:
    return [json.loads(line) for line in DEMO.read_text().splitlines() if line.strip()]


def demo_calls(name: str) -> list[dict[str, Any]]:
    """The tool calls of ``name`` in the real Demo transcript, with the text of their result."""
    calls: dict[str, dict[str, Any]] = {}
    for line in demo_lines():
        content = line.get("message", {}).get("content")
        for item in content if isinstance(content, list) else []:
            if item.get("type") == "tool_use" and item.get("name") == name:
                calls[item["id"]] = dict(item["input"], result="")
            elif item.get("type") == "tool_result" and item.get("tool_use_id") in calls:
                result = item["content"]
                text = result if isinstance(result, str) else json.dumps(result)
                calls[item["tool_use_id"]]["result"] = text
    return list(calls.values())


def unquoted(markdown: str) -> str:
    """Markdown with its quote marks taken off (subagents' transcripts are quoted)."""
    return "\n".join(re.sub(r"^(> ?)+", "", line) for line in markdown.split("\n"))


def test_an_edit_is_a_diff_in_text_and_markdown() -> None:
    data = session(edit_messages())
    removed, added = "-    return sum(items)", "+    return sum(item.price for item in items)"
    text = render_text(data)
    assert f"\n{removed}\n{added}\n" in text and " def total(items):" in text
    assert '"old_string"' not in text
    markdown = render_markdown(data)
    assert "```diff\n" in markdown and f"\n{removed}\n{added}\n" in markdown


def test_a_new_file_is_its_content_fenced_in_its_language() -> None:
    """The real Demo transcript: each Write its result calls a creation is shown whole."""
    created = [c for c in demo_calls("Write") if c["result"].startswith("File created")]
    assert len(created) > 5
    data = session(demo_lines())
    markdown = unquoted(render_markdown(data))
    text = render_text(data)
    for write in created:
        language = "tsx" if write["file_path"].endswith(".tsx") else "typescript"
        assert f"```{language}\n{write['content'].rstrip(chr(10))}\n```" in markdown
        assert all(f"│ {line}\n" in text for line in write["content"].splitlines()[:3])
        assert json.dumps(write["content"]) not in text  # not one escaped JSON line


def test_a_write_over_a_file_written_before_is_a_diff() -> None:
    later = OLD.replace("# end", "# end of cart") + "TAX = 0.2\n"
    messages = [
        *edit_messages()[:2],
        call("w1", "Write", {"file_path": "/src/tax.py", "content": OLD}),
        answer("w1", "File created successfully at: /src/tax.py"),
        call("w2", "Write", {"file_path": "/src/tax.py", "content": later}),
        answer("w2", "The file /src/tax.py has been updated. Here's the result ..."),
    ]
    markdown = render_markdown(session(messages))
    assert "**Write (new file): ` /src/tax.py `**\n\n```python\n" + OLD + "```" in markdown
    fence = markdown.split("**Write: ` /src/tax.py `**\n\n```diff\n", 1)[1]
    diff = fence.split("\n```", 1)[0].splitlines()
    before, after = set(OLD.splitlines()), set(later.splitlines())
    assert {line[1:] for line in diff if line.startswith("+") and not line.startswith("+++")} == (
        after - before
    )
    assert {line[1:] for line in diff if line.startswith("-") and not line.startswith("---")} == (
        before - after
    )


def test_a_write_of_the_same_content_again_says_so() -> None:
    """types/todo.ts in the real Demo transcript: created, then written again unchanged."""
    writes = [c for c in demo_calls("Write") if c["file_path"].endswith("/types/todo.ts")]
    assert [w["result"].split(" ")[0] for w in writes] == ["File", "The"]
    assert writes[0]["content"] == writes[1]["content"]
    markdown = unquoted(render_markdown(session(demo_lines())))
    assert "**Write: ` /path/to/Demo/types/todo.ts ` (no change)**" in markdown


def on_a_terminal(store: Path, *args: str) -> str:
    """What ``claude-sessions`` writes to a real (colour) terminal."""
    controller, terminal = pty.openpty()
    environment = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "COLUMNS")}
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "claude_sessions", *args, "--store", str(store)],
            stdout=terminal,
            stderr=subprocess.PIPE,
            env=environment | {"TERM": "xterm-256color"},
        )
    finally:
        os.close(terminal)
    shown = bytearray()
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([controller], [], [], deadline - time.monotonic())
            try:
                chunk = os.read(controller, 65536) if ready else b""
            except OSError:  # Linux: EIO once the command has closed the terminal
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(controller)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr.decode()
    return bytes(shown).decode().replace("\r\n", "\n")


def test_show_colours_a_diff_on_a_terminal(tmp_path: Path) -> None:
    with SessionStore(tmp_path / "store", cleanup_after_days=None) as store:
        store.save_session(sid(1), edit_messages())
    shown = on_a_terminal(tmp_path / "store", "show", sid(1)[:8])
    red, green, reset = "\x1b[31m", "\x1b[32m", "\x1b[0m"
    assert f"{red}-    return sum(items){reset}" in shown
    assert f"{green}+    return sum(item.price for item in items){reset}" in shown
    assert "price the cart" in shown


def test_the_session_page_shows_an_edit_as_a_highlighted_diff(tmp_path: Path) -> None:
    messages = edit_messages()
    messages[2]["message"]["content"][0]["input"]["new_string"] = NEW + "<script>x()</script>\n"
    with SessionStore(tmp_path / "store", cleanup_after_days=None) as store:
        store.save_session(sid(1), messages)
        with TestClient(create_app(store)) as client:
            page = client.get(f"/s/{sid(1)}").text
    assert '<span class="gd">-    return sum(items)</span>' in page
    assert '<span class="gi">+&lt;script&gt;x()&lt;/script&gt;</span>' in page
    assert "<script>x()" not in page


def test_a_subagent_result_is_markdown_on_the_session_page(tmp_path: Path) -> None:
    report = "## Findings\n\n- the **cart** total is wrong\n- <b>raw</b> stays text"
    messages = [
        {"type": "system", "subtype": "init", "session_id": sid(1), "model": "claude-x"},
        {"type": "user", "message": {"role": "user", "content": "look into it"}},
        call("t1", "Task", {"description": "Check the cart", "prompt": "check"}),
        answer("t1", report),
    ]
    with SessionStore(tmp_path / "store", cleanup_after_days=None) as store:
        store.save_session(sid(1), messages)
        with TestClient(create_app(store)) as client:
            page = client.get(f"/s/{sid(1)}").text
    assert "<h2>Findings</h2>" in page and "<strong>cart</strong>" in page
    assert "&lt;b&gt;raw&lt;/b&gt; stays text" in page and "<b>raw</b>" not in page


def test_show_highlights_a_new_file_in_its_language_on_a_terminal(tmp_path: Path) -> None:
    source = '"""Prices."""\nTAX = 0.2  # a rate\nCLEAR = "\x1b[2J"\n'
    messages = [
        *edit_messages()[:2],
        call("w1", "Write", {"file_path": "/src/tax.py", "content": source}),
        answer("w1", "File created successfully at: /src/tax.py"),
    ]
    with SessionStore(tmp_path / "store", cleanup_after_days=None) as store:
        store.save_session(sid(1), messages)
    shown = on_a_terminal(tmp_path / "store", "show", sid(1)[:8]).splitlines()
    start = shown.index("── Write (new file): /src/tax.py ──")
    written = shown[start + 1 : start + 4]
    plain = [re.sub(r"\x1b\[[0-9;]*m", "", line) for line in written]
    assert plain == [*source.splitlines()[:2], 'CLEAR = "\\x1b[2J"']  # a control made visible
    assert not any("\x1b[2J" in line for line in shown)
    assert all("\x1b[" in line for line in written)  # each line coloured
    comment = re.search(r"\x1b\[([0-9;]*)m# a rate", written[1])
    number = re.search(r"\x1b\[([0-9;]*)m0\.2", written[1])
    assert comment and number and comment.group(1) != number.group(1)
