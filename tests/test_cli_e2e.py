"""The whole command-line flow in subprocesses: the real CLI against the fake Messages API."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest

from claude_sessions.testing import Reply

from .test_cli_terminal_safety import ESCAPED, HOSTILE
from .test_e2e_query import cli_children
from .test_process import seconds_until_gone

pytestmark = pytest.mark.e2e


@pytest.fixture
def cs(fake_claude, tmp_path, monkeypatch):
    monkeypatch.setenv("CLAUDE_SESSIONS_STORE", str(tmp_path / "store"))

    def run(*args, stdin="", code=0):
        done = subprocess.run(
            [sys.executable, "-m", "claude_sessions", *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == code, (done.stdout, done.stderr)
        return done

    return run


def session_of(done):
    line = next(x for x in done.stderr.splitlines() if x.startswith("session: "))
    return line.removeprefix("session: ").strip()


def test_full_flow(cs, fake_claude):
    fake_claude.set_script(lambda request: f"Echo: {request.last_user_text}")
    first = cs("query", "My name is <b>Alice</b>", "--save", "--tag", "x", "--description", "intro")
    assert first.stdout == "Echo: My name is <b>Alice</b>\n"
    origin = session_of(first)

    listed = json.loads(cs("list", "--json").stdout)
    assert [s["session_id"] for s in listed] == [origin]
    assert listed[0]["tags"] == ["x"] and listed[0]["description"] == "intro"

    found = json.loads(cs("search", "Alice", "--tag", "x", "--json").stdout)
    assert [s["session_id"] for s in found] == [origin]
    assert "Alice" in cs("search", "Alice").stdout

    shown = cs("show", origin[:8]).stdout
    assert "Echo: My name is <b>Alice</b>" in shown

    resumed = cs("resume", origin[:8], "What is my name?", "--save")
    assert session_of(resumed) == origin
    assert fake_claude.model_requests[-1].count_role("user") == 2

    forked = cs("fork", origin[:8], "Call me Bob", "--save", "--tag", "branch")
    fork_id = session_of(forked)
    assert fork_id != origin
    assert "My name is" in fake_claude.model_requests[-1].all_text

    tree = json.loads(cs("tree", fork_id[:8], "--json").stdout)
    assert tree["root"]["session"]["session_id"] == origin
    assert [c["session"]["session_id"] for c in tree["root"]["children"]] == [fork_id]
    drawn = cs("tree", origin[:8]).stdout
    assert origin[:8] in drawn and fork_id[:8] in drawn

    page = cs("export", origin[:8], "--format", "html").stdout
    assert "&lt;b&gt;Alice&lt;/b&gt;" in page and "<b>Alice</b>" not in page

    stats = json.loads(cs("stats", "--json").stdout)
    assert stats["sessions"] == 2 and stats["total_cost"] > 0

    imported = json.loads(cs("import", "--json").stdout)
    assert imported["sessions_updated"] == 2 and imported["bad_lines"] == 0
    assert "My name is <b>Alice</b>" in cs("show", origin[:8]).stdout  # the user prompt too


def test_prompt_from_stdin_continue_and_json(cs, fake_claude):
    done = json.loads(cs("query", "--json", stdin="Piped prompt\n").stdout)
    assert done["session_id"] and not done["is_error"]
    assert fake_claude.model_requests[-1].last_user_text == "Piped prompt"
    again = cs("continue", "-", stdin="And more")
    assert session_of(again) == done["session_id"]
    assert fake_claude.model_requests[-1].count_role("user") == 2
    nothing = cs("continue")  # no prompt: carries on
    assert session_of(nothing) == done["session_id"]


def test_errors_exit_cleanly(cs, fake_claude):
    missing = cs("resume", "00000000-0000-4000-8000-000000000000", "hi", code=2)
    assert missing.stderr.startswith("Error: No conversation found")
    assert "Traceback" not in missing.stderr

    fake_claude.set_script(lambda request: Reply("boom", status=500))
    failed = cs("query", "this will fail", code=1)
    assert failed.stderr.splitlines()[-1].startswith("Error:")


def test_timeout_stops_the_run_with_a_one_line_error(cs, fake_claude):
    fake_claude.set_script([Reply("too late", delay=30)])
    started = time.monotonic()
    done = cs("query", "take your time", "--timeout", "1", code=1)
    assert time.monotonic() - started < 10
    assert done.stderr == "Error: the CLI did not finish within 1 s\n"
    assert done.stdout == ""


def test_sigterm_stops_the_command_and_its_cli(fake_claude):
    fake_claude.set_script([Reply("too late", delay=30)])
    command = subprocess.Popen(
        [sys.executable, "-m", "claude_sessions", "query", "take your time"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not fake_claude.model_requests and time.monotonic() < deadline:
            time.sleep(0.05)
        [(cli, _)] = cli_children(of=command.pid)
        command.send_signal(signal.SIGTERM)
        assert seconds_until_gone(cli, limit=5) < 1
        _, stderr = command.communicate(timeout=10)
        assert command.returncode == 128 + signal.SIGTERM  # a clean exit: cleanup ran
        assert "Traceback" not in stderr
    finally:
        command.kill()
        command.communicate()


def test_a_streamed_reply_cannot_drive_the_terminal(cs, fake_claude):
    fake_claude.set_script([f"hello {HOSTILE}"])
    done = cs("query", "say it")
    assert done.stdout == f"hello {ESCAPED}\n"
