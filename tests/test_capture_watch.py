"""``claude-sessions watch`` as a real process, on both databases: nothing Claude Code
writes is missed, however soon it comes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from claude_sessions import SessionStore

from .children import default_sigint

OLD_PROJECT = "-home-user-old-project"


def transcript(session: str, uuids: list[str]) -> str:
    """A transcript's text: a user line for each uuid."""
    lines = [
        json.dumps({"type": "user", "uuid": line, "sessionId": session,
                    "message": {"role": "user", "content": f"turn {k}"}})
        for k, line in enumerate(uuids)
    ]  # fmt: skip
    return "\n".join(lines) + "\n"


def write_session(folder: Path, turns: int, written: dict[str, list[str]]) -> None:
    """A new session's whole transcript in ``folder``, in one write, never touched again."""
    session = str(uuid.uuid4())
    written[session] = [str(uuid.uuid4()) for _ in range(turns)]
    (folder / f"{session}.jsonl").write_text(transcript(session, written[session]))


def stored(location: str, sessions: list[str]) -> dict[str, list[str]]:
    """The uuids stored for each of ``sessions`` (those stored at all)."""
    with SessionStore(location, cleanup_after_days=None) as store:
        found = {sid: store.get_session(sid) for sid in sessions}
    return {sid: [m.uuid for m in data.messages] for sid, data in found.items() if data}


def wait_for(location: str, written: dict[str, list[str]]) -> dict[str, list[str]]:
    """What is stored of ``written``, once it all is or after 30 seconds."""
    deadline = time.monotonic() + 30
    while (found := stored(location, list(written))) != written and time.monotonic() < deadline:
        time.sleep(0.2)
    return found


@pytest.fixture
def projects(store_location, tmp_path) -> Iterator[Path]:
    """A projects folder (with one project folder) that ``watch`` watches, from the
    moment it said its first import is done."""
    root = tmp_path / "projects"
    (root / OLD_PROJECT).mkdir(parents=True)
    env = {**os.environ, "HOME": str(tmp_path), "CLAUDE_SESSIONS_CLEANUP_DAYS": "never"}
    watcher = subprocess.Popen(
        [sys.executable, "-m", "claude_sessions", "watch", str(root),
         "--debounce", "0.2", "--store", store_location],
        stderr=subprocess.PIPE, text=True, env=env, preexec_fn=default_sigint,
    )  # fmt: skip
    try:
        assert watcher.stderr is not None
        assert watcher.stderr.readline().startswith("Watching ")  # the first import is done
        yield root
    finally:
        watcher.send_signal(signal.SIGINT)
        _, err = watcher.communicate(timeout=30)
    assert watcher.returncode == 130, err


def test_watch_reads_what_was_written_as_it_started(projects, store_location):
    written: dict[str, list[str]] = {}
    write_session(projects / OLD_PROJECT, 3, written)  # before the folders are watched
    assert wait_for(store_location, written) == written


def test_watch_reads_a_transcript_written_at_once_in_a_new_project_folder(
    projects, store_location, tmp_path
):
    """Claude Code makes a project's folder and writes its first turn at once: the
    file is there before the folder is watched, and is never written again."""
    probe: dict[str, list[str]] = {}
    write_session(projects / OLD_PROJECT, 1, probe)
    assert wait_for(store_location, probe) == probe  # stored: the watch is on
    written: dict[str, list[str]] = {}
    for n in range(20):
        folder = projects / f"-home-user-new-project-{n}"
        folder.mkdir()
        write_session(folder, 4, written)
    # Surely there before its folder is watched: a folder moved in with its transcript.
    (tmp_path / "elsewhere").mkdir()
    write_session(tmp_path / "elsewhere", 2, written)
    (tmp_path / "elsewhere").rename(projects / "-home-user-moved-in")
    subagents = projects / "-home-user-nested" / str(uuid.uuid4()) / "subagents"
    subagents.mkdir(parents=True)
    write_session(projects / "-home-user-nested", 1, written)
    (subagents / "agent-a1.jsonl").write_text(transcript(subagents.parent.name, ["sub-1"]))
    assert wait_for(store_location, written) == written
    with SessionStore(store_location, cleanup_after_days=None) as store:
        session = store.load_session(subagents.parent.name, subagents=True)
        assert [m.uuid for m in session.subagents["subagents/agent-a1"]] == ["sub-1"]


def test_watch_files_a_subagent_transcript_beside_its_session_under_it(projects, store_location):
    """Claude Code 2.0 wrote a subagent's transcript beside the session's, as
    ``agent-<id>.jsonl``: the bundled CLI's pair of tests/fixtures, moved that way,
    written the agent's first, then the session's."""
    pair = Path(__file__).parent / "fixtures" / "transcripts" / "projects"
    pair = pair / "-tmp-cli-legacy-project"
    session, agent = "de8da286-393f-4bc4-b788-e53a75607f7b", "agent-a93b5aa99978c49c2"
    agent_uuids = [json.loads(line).get("uuid") for line in (pair / f"{agent}.jsonl").open()]
    folder = projects / OLD_PROJECT
    (folder / f"{agent}.jsonl").write_bytes((pair / f"{agent}.jsonl").read_bytes())
    (folder / f"{session}.jsonl").write_bytes((pair / f"{session}.jsonl").read_bytes())
    deadline = time.monotonic() + 30
    with SessionStore(store_location, cleanup_after_days=None) as store:
        while time.monotonic() < deadline:
            found = store.get_session(session, subagents=True)
            if found and found.messages and f"subagents/{agent}" in found.subagents:
                break
            time.sleep(0.2)
        assert found is not None and found.messages
        assert [m.uuid for m in found.subagents[f"subagents/{agent}"]] == agent_uuids
        assert [m.session_id for m in store.list_sessions()] == [session]


def test_watch_indexes_the_tool_text_it_stores(projects, store_location):
    from claude_sessions.store.search_index import not_indexed

    from .transcript_samples import _common

    session = str(uuid.uuid4())
    call = _common(session, 1, None, 1)
    call.update(
        type="assistant",
        message={
            "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
            "content": [{"type": "tool_use", "id": "toolu_1", "name": "Bash",
                         "input": {"command": "ls /srv/wombatdirectory"}}],
        },
    )  # fmt: skip
    (projects / OLD_PROJECT / f"{session}.jsonl").write_text(json.dumps(call) + "\n")
    deadline = time.monotonic() + 30
    while True:  # a poll with a deadline: the watch is another process
        with SessionStore(store_location, cleanup_after_days=None) as store:
            found = [m.session_id for m in store.search(text="wombatdirectory")]
            pending = not_indexed(store)
        if found or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert found == [session] and pending == 0
