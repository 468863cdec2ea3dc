"""The user and machine a real ``import``, a real capture hook and a real run record, in
processes of their own, on both databases."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from claude_sessions import SessionStore, query

from .test_capture import transcript_lines, write_transcript

pytestmark = pytest.mark.e2e

IMPORTED = "11111111-2222-4333-8444-000000000001"
CAPTURED = "11111111-2222-4333-8444-000000000002"


@pytest.fixture
def machine_env(tmp_path, store_location):
    """An environment for a child: a home of its own, git's e-mail from a config file
    of this test's, no user or machine given, this test's store."""
    home = tmp_path / "home"
    home.mkdir()
    config = tmp_path / "gitconfig"
    config.write_text("[user]\n\temail = grace@example.com\n")
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("CLAUDE_SESSIONS_", "CLAUDE_CONFIG_DIR", "GIT_"))
    }
    env.update(
        HOME=str(home),
        GIT_CONFIG_GLOBAL=str(config),
        GIT_CONFIG_NOSYSTEM="1",
        CLAUDE_SESSIONS_STORE=store_location,
        CLAUDE_SESSIONS_CLEANUP_DAYS="never",
    )
    return env


def _cs(env, *args, stdin=""):
    done = subprocess.run(
        [sys.executable, "-m", "claude_sessions", *args],
        input=stdin,
        env=env,
        cwd=env["HOME"],  # outside any repository: the e-mail comes from the config file
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, (done.stdout, done.stderr)
    return done


def test_a_real_import_and_capture_record_the_user_and_machine(machine_env, store_location):
    projects = Path(machine_env["HOME"], ".claude", "projects", "-work-project")
    write_transcript(projects / f"{IMPORTED}.jsonl", transcript_lines(IMPORTED))
    _cs(machine_env, "import")
    captured = write_transcript(projects / f"{CAPTURED}.jsonl", transcript_lines(CAPTURED))
    payload = {
        "session_id": CAPTURED,
        "transcript_path": str(captured),
        "cwd": "/work/project",
        "hook_event_name": "Stop",
    }
    _cs({**machine_env, "CLAUDE_SESSIONS_MACHINE": "ci-runner-3"}, "hooks", "capture",
        stdin=json.dumps(payload))  # fmt: skip
    listed = json.loads(_cs(machine_env, "list", "--json").stdout)
    found = {m["session_id"]: (m["user"], m["machine"]) for m in listed}
    assert found == {
        IMPORTED: ("grace@example.com", socket.gethostname()),
        CAPTURED: ("grace@example.com", "ci-runner-3"),
    }


def test_a_real_run_records_the_user_and_machine(fake_claude, store_location, monkeypatch):
    monkeypatch.setenv("CLAUDE_SESSIONS_USER", "heidi@example.com")
    monkeypatch.setenv("CLAUDE_SESSIONS_MACHINE", "build-box")
    with SessionStore(store_location, cleanup_after_days=None) as store:
        messages = list(query("hello", store=store))  # saved when the run ends
        found = store.get_metadata(messages[0]["session_id"])
        assert (found.user, found.machine) == ("heidi@example.com", "build-box")
