"""A session captured on one machine, picked up on another (issue 27, 5).

Two machines are two HOMEs sharing one store; the project lives at
``.../a/proj`` on the first and ``.../b/proj`` on the second. ``claude-sessions
resume ID PROMPT`` on the second restores the transcript into its Claude Code
folder for the project's directory there (each entry's ``cwd`` moved) and resumes
it with the real CLI, which shows the model the whole history;
``write-back ID --cwd DIR`` does the same without running Claude.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from claude_sessions import SessionStore, query, resume
from claude_sessions.runs.locate import find_cli
from claude_sessions.runs.options import Options

pytestmark = pytest.mark.e2e


def folder_of(home: Path, directory: Path) -> Path:
    """Claude Code's folder for ``directory``, named as FACTS.md measured: '/' and '_' -> '-'."""
    key = str(directory).replace("/", "-").replace("_", "-")
    return home / ".claude" / "projects" / key


def entries(transcript: Path) -> list[dict]:
    return [json.loads(line) for line in transcript.read_text().splitlines() if line.strip()]


def user_prompts(transcript: Path) -> list[str]:
    found = []
    for entry in entries(transcript):
        content = entry.get("message", {}).get("content") if entry.get("type") == "user" else None
        if isinstance(content, str) and not entry.get("isMeta"):
            found.append(content)
    return found


@pytest.fixture
def machines(fake_claude, hook_store_location, tmp_path_factory, monkeypatch):
    """Machine A (the fake_claude HOME) with the capture hook, and machine B's HOME."""
    monkeypatch.setenv("CLAUDE_SESSIONS_STORE", hook_store_location)
    monkeypatch.setenv("CLAUDE_SESSIONS_CLEANUP_DAYS", "never")
    home_b = tmp_path_factory.mktemp("machine-b")
    return Path.home(), home_b


def on(home: Path, *args: str, cwd: Path, code: int = 0) -> subprocess.CompletedProcess[str]:
    """``claude-sessions ARGS`` run on the machine whose HOME is ``home``, in ``cwd``."""
    env = {**os.environ, "HOME": str(home), "TMPDIR": str(home)}
    done = subprocess.run(
        [sys.executable, "-m", "claude_sessions", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=str(cwd),
        env=env,
    )
    assert done.returncode == code, (done.stdout, done.stderr)
    return done


def captured_on_machine_a(home_a: Path, project_a: Path) -> str:
    on(home_a, "hooks", "install", cwd=project_a)
    session_id = next(iter(query("one", Options(cwd=str(project_a)))))["session_id"]
    list(resume(session_id, "two", Options(cwd=str(project_a))))
    return session_id


def test_resume_on_another_machine_shows_the_model_the_whole_history(
    machines, fake_claude, tmp_path, hook_store_location
):
    home_a, home_b = machines
    project_a, project_b = tmp_path / "a" / "proj", tmp_path / "b" / "proj"
    project_a.mkdir(parents=True)
    project_b.mkdir(parents=True)
    session_id = captured_on_machine_a(home_a, project_a)
    assert not (home_b / ".claude").exists()  # machine B never saw it

    fake_claude.clear()
    resumed = on(home_b, "resume", session_id[:8], "three", "--json", cwd=project_b)
    assert json.loads(resumed.stdout)["session_id"] == session_id
    shown = fake_claude.model_requests[-1]
    assert (shown.count_role("user"), shown.count_role("assistant")) == (3, 2)
    assert "one" in shown.all_text and "two" in shown.all_text

    restored = folder_of(home_b, project_b) / f"{session_id}.jsonl"
    assert str(restored) in resumed.stderr
    assert user_prompts(restored)[-3:] == ["one", "two", "three"]
    assert {e["cwd"] for e in entries(restored) if "cwd" in e} == {str(project_b)}
    with SessionStore(hook_store_location, cleanup_after_days=None) as store:
        kept = store.load_session(session_id)
        prompts = [m.body.get("content") for m in kept.messages if m.type == "user"]
        assert "three" in prompts  # the new turn reached the store

    # Afterwards the plain CLI on machine B finds it where it looks: --continue in B's project.
    fake_claude.clear()
    again = subprocess.run(
        [find_cli(), "-p", "--continue", "four", "--output-format", "json"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=str(project_b),
        env={**os.environ, "HOME": str(home_b), "TMPDIR": str(home_b)},
    )
    assert json.loads(again.stdout)["session_id"] == session_id
    assert fake_claude.model_requests[-1].count_role("user") == 4


def test_write_back_with_cwd_restores_for_another_directory_without_running_claude(
    machines, fake_claude, tmp_path
):
    home_a, home_b = machines
    project_a, project_b = tmp_path / "a" / "proj", tmp_path / "b" / "proj"
    project_a.mkdir(parents=True)
    project_b.mkdir(parents=True)
    session_id = captured_on_machine_a(home_a, project_a)
    fake_claude.clear()

    written = json.loads(
        on(home_b, "write-back", session_id, "--cwd", str(project_b), "--json", cwd=tmp_path).stdout
    )
    assert fake_claude.model_requests == []  # Claude was not run
    restored = folder_of(home_b, project_b) / f"{session_id}.jsonl"
    assert written["path"] == str(restored) and written["moved_from"] == str(project_a)
    assert user_prompts(restored)[-2:] == ["one", "two"]
    assert {e["cwd"] for e in entries(restored) if "cwd" in e} == {str(project_b)}
    original = folder_of(home_a, project_a) / f"{session_id}.jsonl"
    strip = lambda e: {k: v for k, v in e.items() if k != "cwd"}  # noqa: E731
    assert [strip(e) for e in entries(restored)] == [strip(e) for e in entries(original)]


def test_a_session_saved_from_runs_is_resumed_on_another_machine_and_keeps_its_form(
    machines, fake_claude, tmp_path, hook_store_location
):
    home_a, home_b = machines
    project_a, project_b = tmp_path / "a" / "proj", tmp_path / "b" / "proj"
    project_a.mkdir(parents=True)
    project_b.mkdir(parents=True)
    started = on(home_a, "query", "alpha", "--save", cwd=project_a)
    session_id = started.stderr.split("session: ")[1].split()[0]
    on(home_a, "resume", session_id, "beta", "--save", cwd=project_a)

    fake_claude.clear()
    on(home_b, "resume", session_id, "gamma", "--save", "--tag", "laptop-b", cwd=project_b)
    shown = fake_claude.model_requests[-1]
    assert (shown.count_role("user"), shown.count_role("assistant")) == (3, 2)
    assert "alpha" in shown.all_text and "beta" in shown.all_text
    with SessionStore(hook_store_location, cleanup_after_days=None) as store:
        kept = store.load_session(session_id)
        assert "laptop-b" in kept.metadata.tags
        # Still stream-json messages, a result a run: no transcript entries mixed in.
        assert all("parentUuid" not in m.to_dict() for m in kept.messages)
        assert [m.type for m in kept.messages].count("result") == 3
