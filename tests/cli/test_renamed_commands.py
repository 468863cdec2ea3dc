"""``write-back`` (once ``restore``) and ``copy`` (once ``migrate``): the former names go
on working for users' scripts, hidden from the help, each with one line on stderr."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from click.testing import CliRunner

from claude_sessions import SessionStore
from claude_sessions.cli import cli

SID = "7e57ab1e-0000-4000-8000-000000000001"
TRANSCRIPT = [
    {"type": "user", "uuid": "u-1", "parentUuid": None, "sessionId": SID, "cwd": "/work/p",
     "timestamp": "2026-03-01T10:00:00.000Z", "message": {"role": "user", "content": "hi"}},
    {"type": "assistant", "uuid": "a-1", "parentUuid": "u-1", "sessionId": SID, "cwd": "/work/p",
     "timestamp": "2026-03-01T10:00:01.000Z",
     "message": {"id": "msg_1", "role": "assistant", "content": [{"type": "text", "text": "yo"}]}},
]  # fmt: skip


def test_write_back_writes_the_transcript_for_claude_code(store, invoke, tmp_path):
    store.append_messages(SID, TRANSCRIPT, project_key="-work-p")
    done = invoke("write-back", SID[:8], "--config-dir", str(tmp_path / "claude"), "--json")
    assert done.exit_code == 0, done.output
    path = tmp_path / "claude" / "projects" / "-work-p" / f"{SID}.jsonl"
    assert json.loads(done.stdout) == {
        "session_id": SID,
        "path": str(path),
        "entries": 2,
        "subagents": [],
        "converted": False,
        "moved_from": None,  # written for the directory it was recorded in
    }
    assert [json.loads(line) for line in path.read_text().splitlines()] == TRANSCRIPT
    assert done.stderr == ""


def test_restore_is_the_deprecated_name_of_write_back(store, invoke, tmp_path):
    store.append_messages(SID, TRANSCRIPT, project_key="-work-p")
    done = invoke("restore", SID[:8], "--config-dir", str(tmp_path / "claude"), "--json")
    assert done.exit_code == 0, done.output
    assert done.stderr == "claude-sessions restore is deprecated: use claude-sessions write-back\n"
    assert json.loads(done.stdout)["entries"] == 2
    assert (tmp_path / "claude" / "projects" / "-work-p" / f"{SID}.jsonl").is_file()
    again = invoke("restore", SID[:8], "--config-dir", str(tmp_path / "claude"))
    assert again.exit_code == 1 and "exists; write it back with force" in again.stderr


def fill(location):
    with SessionStore(location, cleanup_after_days=None) as store:
        store.append_messages(SID, TRANSCRIPT, project_key="-work-p")


def test_copy_copies_a_store_and_migrate_is_its_deprecated_name(tmp_path):
    fill(tmp_path / "src")
    runner = CliRunner()
    copied = runner.invoke(
        cli, ["copy", "--from", str(tmp_path / "src"), "--to", str(tmp_path / "a"), "--json"]
    )
    assert copied.exit_code == 0, copied.output
    assert json.loads(copied.stdout)["verified"] == 1 and copied.stderr == ""
    old = runner.invoke(
        cli, ["migrate", "--from", str(tmp_path / "src"), "--to", str(tmp_path / "b"), "--json"]
    )
    assert old.exit_code == 0, old.output
    assert old.stderr == "claude-sessions migrate is deprecated: use claude-sessions copy\n"
    assert json.loads(old.stdout)["verified"] == 1
    with SessionStore(tmp_path / "b", cleanup_after_days=None) as copy:
        assert [m.uuid for m in copy.load_session(SID).messages] == ["u-1", "a-1"]


def test_the_help_names_the_new_commands_only():
    shown = CliRunner().invoke(cli, ["--help"]).stdout
    listed = {line.split()[0] for line in shown.split("Commands:")[1].splitlines() if line.strip()}
    assert {"copy", "write-back"} <= listed
    assert not {"migrate", "restore"} & listed


def test_a_script_calling_migrate_still_works(tmp_path):
    fill(tmp_path / "src")
    done = subprocess.run(
        [sys.executable, "-m", "claude_sessions", "migrate", "--from", str(tmp_path / "src"),
         "--to", str(tmp_path / "dst")],
        capture_output=True, text=True, timeout=120,
        env={**os.environ, "CLAUDE_SESSIONS_CLEANUP_DAYS": "never"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines()[0] == (
        "claude-sessions migrate is deprecated: use claude-sessions copy"
    )
    assert "copied 1 sessions" in done.stdout
