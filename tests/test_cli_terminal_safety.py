"""Stored text cannot drive the terminal: the real command, in a subprocess, on a hostile store.

The terminal renderings (``show`` as text, ``list``, ``search``, ``tree``,
``stats``, and Markdown or HTML sent to a terminal) print control and bidi
characters as visible escapes; ``--json`` keeps the exact text in JSON escapes,
and Markdown or HTML in a file or a pipe keep it as stored.
"""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time

import pytest

from claude_sessions import SessionStore

RETITLE = "\x1b]0;pwned\x07"  # OSC: sets the window title
CLEAR = "\x1b[2J"  # CSI: clears the screen
RED_8BIT = "\x9b31m"  # C1 CSI, the 8-bit form of ESC [
REVERSE = "\u202e"  # right-to-left override
MARKUP = "[red]not markup[/red]"  # rich markup must show literally
HOSTILE = f"{RETITLE} {CLEAR} {RED_8BIT} {REVERSE} {MARKUP}"
RAW = ("\x1b", "\x07", "\x9b", "\u202e")
VISIBLE = ("\\x1b]0;pwned\\x07", "\\x1b[2J", "\\x9b31m", "\\u202e", MARKUP)
ESCAPED = " ".join(VISIBLE)  # HOSTILE as the terminal renderings show it

ORIGIN = "0a0a0a0a-1111-4222-8333-444444444444"
FORK = "0b0b0b0b-1111-4222-8333-444444444444"
MODEL = f"claude-hostile{CLEAR}"


def run_messages(session_id: str, prompt: str, reply: str) -> list[dict[str, object]]:
    return [
        {
            "type": "system",
            "subtype": "init",
            "session_id": session_id,
            "model": MODEL,
            "cwd": f"/work/project{RETITLE}",
        },
        {"type": "user", "message": {"role": "user", "content": prompt}, "session_id": session_id},
        {
            "type": "assistant",
            "message": {"model": MODEL, "content": [{"type": "text", "text": reply}]},
            "session_id": session_id,
        },
        {
            "type": "result",
            "subtype": "success",
            "is_error": False,
            "result": reply,
            "num_turns": 1,
            "total_cost_usd": 0.25,
            "session_id": session_id,
        },
    ]


@pytest.fixture
def hostile_store(tmp_path):
    location = str(tmp_path / "store")
    with SessionStore(location) as store:
        store.save_session(
            ORIGIN,
            run_messages(ORIGIN, f"Say hello {HOSTILE}", f"hello {HOSTILE}"),
            tags=[f"tag{REVERSE}{MARKUP}"],
        )
        store.save_session(
            FORK,
            run_messages(FORK, "And again", f"hello again {HOSTILE}"),
            description=f"forked {HOSTILE}",
            forked_from=ORIGIN,
        )
    return location


def output_of(location, *args):
    """What ``claude-sessions ARGS --store LOCATION`` prints, as UTF-8 (strictly)."""
    done = subprocess.run(
        [sys.executable, "-m", "claude_sessions", *args, "--store", location],
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout.decode("utf-8")


@pytest.fixture
def command(hostile_store):
    return lambda *args: output_of(hostile_store, *args)


@pytest.mark.parametrize(
    "args",
    [
        ["show", ORIGIN[:8]],
        ["show", FORK[:8], "--format", "text"],
        ["list"],
        ["search", "hello"],
        ["tree", FORK[:8]],
        ["stats"],
    ],
    ids=lambda args: " ".join(args[:1] + args[2:]),
)
def test_terminal_output_shows_controls_as_escapes(command, args):
    out = command(*args)
    assert [raw for raw in RAW if raw in out] == []
    assert "\\x1b]0;pwned\\x07" in out


def test_show_text_escapes_each_kind_visibly(command):
    assert f"hello {ESCAPED}\n" in command("show", ORIGIN[:8])


def test_tables_escape_every_column(command):
    listed = command("list")
    assert "\\u202e" + MARKUP in listed  # the tag
    assert "claude-hostile\\x1b[2J" in listed  # the model
    stats = command("stats")
    assert "/work/project\\x1b]0;pwned\\x07" in stats  # the project
    assert "claude-hostile\\x1b[2J" in stats


def test_json_keeps_the_exact_text_in_escapes(command):
    out = command("show", ORIGIN[:8], "--json")
    assert [raw for raw in RAW if raw in out] == []
    assert "\\u001b]0;pwned\\u0007" in out and "\\u009b31m" in out and "\\u202e" in out
    assert json.loads(out)["messages"][2]["message"]["content"][0]["text"] == f"hello {HOSTILE}"
    listed = json.loads(command("list", "--json"))
    assert {s["description"] for s in listed} == {None, f"forked {HOSTILE}"}


def test_markdown_keeps_the_text_as_stored(command):
    out = command("show", ORIGIN[:8], "--format", "markdown")
    assert f"hello {HOSTILE}\n" in out
    assert command("export", ORIGIN[:8]) == out


def on_a_terminal(store: str, *args: str) -> bytes:
    """What the command writes to a real terminal (a pseudo-terminal's far side)."""
    controller, terminal = pty.openpty()
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "claude_sessions", *args, "--store", store],
            stdout=terminal,
            stderr=subprocess.PIPE,
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
    return bytes(shown).replace(b"\r\n", b"\n")  # the terminal's own line ends


@pytest.mark.parametrize(
    "args",
    [
        ["show", ORIGIN[:8], "--format", "markdown"],
        ["show", ORIGIN[:8], "--format", "html"],
        ["export", ORIGIN[:8]],
        ["export", ORIGIN[:8], "--format", "html"],
    ],
    ids=" ".join,
)
def test_markdown_and_html_on_a_terminal_show_controls_as_escapes(hostile_store, args):
    shown = on_a_terminal(hostile_store, *args).decode("utf-8")
    assert [raw for raw in RAW if raw in shown] == []
    assert ESCAPED in shown


def test_markdown_in_a_file_keeps_the_text_as_stored(command, tmp_path):
    target = tmp_path / "session.md"
    command("export", ORIGIN[:8], "-o", str(target))
    assert f"hello {HOSTILE}\n" in target.read_text(encoding="utf-8")
    assert target.read_text(encoding="utf-8") == command("show", ORIGIN[:8], "--format", "markdown")


LONE = "lone \ud800 and \udcff"  # JSON can carry these; UTF-8 cannot


def test_text_that_never_was_unicode_prints_as_escapes(tmp_path):
    location = str(tmp_path / "store")
    with SessionStore(location) as store:
        store.save_session(ORIGIN, run_messages(ORIGIN, "Say it", LONE))

    def output(*args):
        return output_of(location, *args)

    shown = ascii(LONE)[1:-1]
    assert f"{shown}\n" in output("show", ORIGIN[:8])
    assert f"{shown}\n" in output("show", ORIGIN[:8], "--format", "markdown")
    as_json = json.loads(output("show", ORIGIN[:8], "--json"))
    assert as_json["messages"][2]["message"]["content"][0]["text"] == LONE
    target = tmp_path / "session.json"
    output("export", ORIGIN[:8], "--format", "json", "-o", str(target))
    exported = json.loads(target.read_bytes().decode("utf-8"))
    assert exported["messages"][2]["message"]["content"][0]["text"] == LONE
