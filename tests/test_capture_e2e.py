"""Never lose a session, end to end: the real CLI, its hooks, the watcher, write-back and
fork-at, on both databases."""

from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from claude_sessions import SessionStore, fork, query, resume
from claude_sessions.runs.locate import find_cli

from .children import default_sigint

pytestmark = pytest.mark.e2e


def projects_dir() -> Path:
    return Path.home() / ".claude" / "projects"


def prompts(messages) -> list[str]:
    """The prompts a stored transcript holds, in order (tool results and reminders aside)."""
    found = []
    for message in messages:
        if message.type == "user" and message.get("isMeta") is not True:
            content = message.body.get("content")
            if isinstance(content, str):
                found.append(content)
    return found


def test_hooks_capture_every_turn_a_resume_and_a_fork_without_any_import(
    cs, fake_claude, store_location
):
    installed = cs("hooks", "install")
    assert "Installed the capture hook" in installed.stdout
    first = list(query("first"))
    origin = first[0]["session_id"]
    list(resume(origin, "second"))
    list(resume(origin, "third"))
    branch = next(iter(fork(origin, "branch")))["session_id"]

    with SessionStore(store_location, cleanup_after_days=None) as store:
        kept = store.load_session(origin)
        assert prompts(kept.messages) == ["first", "second", "third"]
        assert kept.metadata.turns == 3 and "imported" in kept.metadata.tags
        forked = store.load_session(branch)
        assert prompts(forked.messages)[-1] == "branch"
        assert forked.metadata.forked_from == origin
        # Exactly the CLI's transcript, entry for entry.
        on_disk = next(projects_dir().glob(f"*/{origin}.jsonl")).read_text().splitlines()
        assert [m.to_dict() for m in kept.messages] == [json.loads(x) for x in on_disk]
    status = json.loads(cs("hooks", "status", "--json").stdout)
    assert status["user"] == ["Stop", "SubagentStop", "PreCompact", "SessionEnd"]
    assert re.search(r"(Stop|SessionEnd) [0-9a-f-]{36}: \+\d+ entries", status["last_capture"])
    assert "error" not in Path(status["log"]).read_text()
    assert "Removed" in cs("hooks", "uninstall").stdout


def test_write_back_a_lost_transcript_and_the_cli_resumes_the_whole_history(
    cs, fake_claude, store_location
):
    cs("hooks", "install")
    origin = next(iter(query("one")))["session_id"]
    list(resume(origin, "two"))
    shutil.rmtree(projects_dir())  # what the CLI's own 30-day cleanup does

    written = json.loads(cs("write-back", origin[:8], "--json").stdout)
    assert Path(written["path"]).is_file() and not written["converted"]
    assert cs("write-back", origin[:8], code=1).stderr.startswith("Error: ")  # exists: --force

    fake_claude.clear()
    plain = subprocess.run(  # the plain CLI, as a user would: claude --resume ID
        [find_cli(), "-p", "--resume", origin, "three", "--output-format", "json"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=str(Path.home() / "project"),
    )
    assert plain.returncode == 0, plain.stderr
    shown = fake_claude.model_requests[-1]
    assert (shown.count_role("user"), shown.count_role("assistant")) == (3, 2)
    assert "one" in shown.all_text and "two" in shown.all_text


def test_write_back_a_session_saved_from_stream_json_runs(cs, fake_claude, store_location):
    origin = cs("query", "alpha", "--save").stderr.split("session: ")[1].split()[0]
    cs("resume", origin, "beta", "--save")
    shutil.rmtree(projects_dir())
    assert json.loads(cs("write-back", origin, "--json").stdout)["converted"] is True
    fake_claude.clear()
    list(resume(origin, "gamma"))
    shown = fake_claude.model_requests[-1]
    assert (shown.count_role("user"), shown.count_role("assistant")) == (3, 2)


def test_fork_at_the_second_of_four_turns(cs, fake_claude, store_location):
    fake_claude.set_script(lambda request: f"answer to {request.last_user_text}")
    origin = cs("query", "one", "--save").stderr.split("session: ")[1].split()[0]
    for prompt in ("two", "three", "four"):
        cs("resume", origin, prompt, "--save")
    transcript = next(projects_dir().glob(f"*/{origin}.jsonl"))
    before = transcript.read_bytes()
    shown = cs("show", origin[:8], "--uuids").stdout
    assistant_uuids = re.findall(r"── Assistant.* · ([0-9a-f-]{36}) ──", shown)
    assert len(assistant_uuids) == 4
    at = assistant_uuids[1]

    fake_claude.clear()
    forked = cs("fork", origin[:8], "--at", at[:13], "branch", "--save")
    assert forked.stdout.strip() == "answer to branch"
    branch = forked.stderr.split("session: ")[1].split()[0]
    seen = fake_claude.model_requests[-1]
    assert (seen.count_role("user"), seen.count_role("assistant")) == (3, 2)
    assert "answer to two" in seen.all_text and "three" not in seen.all_text

    assert transcript.read_bytes() == before  # the original is unchanged
    with SessionStore(store_location, cleanup_after_days=None) as store:
        assert store.get_metadata(origin).turns == 4
        meta = store.get_metadata(branch)
        assert (meta.forked_from, meta.forked_at) == (origin, at)
    assert f"branched at {at[:8]}" in cs("tree", origin[:8]).stdout
    refused = cs("fork", origin[:8], "--at", "ffffffff", "x", code=2)
    assert "no message uuid starts with" in refused.stderr


def test_watch_imports_new_turns_and_stops_cleanly_on_ctrl_c(fake_claude, store_location):
    watcher = subprocess.Popen(
        [sys.executable, "-m", "claude_sessions", "watch", "--debounce", "0.2",
         "--store", store_location],
        stderr=subprocess.PIPE,
        text=True,
        env={**__import__("os").environ, "CLAUDE_SESSIONS_CLEANUP_DAYS": "never"},
        preexec_fn=default_sigint,
    )  # fmt: skip
    try:
        assert watcher.stderr is not None
        assert watcher.stderr.readline().startswith("Watching ")  # the first import is done
        session = next(iter(query("watched")))["session_id"]
        deadline = time.monotonic() + 30
        found = None
        while time.monotonic() < deadline:
            with SessionStore(store_location, cleanup_after_days=None) as store:
                found = store.get_session(session)
            if found is not None and "watched" in prompts(found.messages):
                break
            time.sleep(0.2)
        assert found is not None and "watched" in prompts(found.messages)
    finally:
        watcher.send_signal(signal.SIGINT)
        _, err = watcher.communicate(timeout=20)
    assert watcher.returncode == 130, err  # stopped by Ctrl-C, as a shell expects
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith("Stopped. Watching ")
