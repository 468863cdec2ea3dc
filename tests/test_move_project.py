"""``claude-sessions move OLD_DIR NEW_DIR``: a moved project keeps its sessions (issue 27, 6).

End to end with the real CLI against the fake API: after a move, ``claude --resume
ID`` run in the new directory continues with the whole history; the store's
sessions follow; nothing is overwritten, a backup is written first, and
``--dry-run`` changes nothing.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from claude_sessions import SessionConflictError, SessionStore, query, resume
from claude_sessions.runs.locate import find_cli
from claude_sessions.runs.options import Options
from claude_sessions.store.core import project_key
from claude_sessions.store.project_moves import move_project

pytestmark = pytest.mark.e2e


def folder_of(directory: Path) -> Path:
    """Claude Code's folder for ``directory``, named as FACTS.md measured: '/' and '_' -> '-'."""
    return Path.home() / ".claude" / "projects" / str(directory).replace("/", "-").replace("_", "-")


def claude(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The plain CLI, as a user runs it: ``claude -p ARGS`` in ``cwd``."""
    return subprocess.run(
        [find_cli(), "-p", *args, "--output-format", "json"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=str(cwd),
    )


def cwds(transcript: Path) -> set[str]:
    lines = [json.loads(line) for line in transcript.read_text().splitlines() if line.strip()]
    return {entry["cwd"] for entry in lines if "cwd" in entry}


def test_a_moved_project_resumes_in_its_new_directory(cs, fake_claude, tmp_path, store_location):
    old, new = tmp_path / "a" / "my_proj", tmp_path / "b" / "proj"
    old.mkdir(parents=True)
    new.parent.mkdir()
    session_id = next(iter(query("one", Options(cwd=str(old)))))["session_id"]
    list(resume(session_id, "two", Options(cwd=str(old))))
    cs("import")
    old_folder, new_folder = folder_of(old), folder_of(new)
    original = (old_folder / f"{session_id}.jsonl").read_bytes()
    assert cwds(old_folder / f"{session_id}.jsonl") == {str(old)}
    shutil.move(old, new)  # the user moved the project

    planned = cs("move", str(old), str(new), "--dry-run")
    assert "Would move 1 file(s)" in planned.stdout and session_id in planned.stdout
    assert "nothing was changed" in planned.stdout
    assert (old_folder / f"{session_id}.jsonl").read_bytes() == original
    assert not new_folder.exists()

    done = cs("move", str(old), str(new))
    backup = Path(done.stdout.split(": ", 1)[1].splitlines()[0])
    assert (backup / f"{session_id}.jsonl").read_bytes() == original  # the backup, said where
    assert f"Moved 1 file(s) from {old_folder} to {new_folder}" in done.stdout
    assert f"Store: 1 session(s) re-keyed to {new}: {session_id}" in done.stdout
    assert not old_folder.exists()
    assert cwds(new_folder / f"{session_id}.jsonl") == {str(new)}
    with SessionStore(store_location, cleanup_after_days=None) as store:
        assert store.get_metadata(session_id).project == str(new)

    fake_claude.clear()
    resumed = claude("--resume", session_id, "three", cwd=new)
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout)["session_id"] == session_id
    shown = fake_claude.model_requests[-1]
    assert (shown.count_role("user"), shown.count_role("assistant")) == (3, 2)
    assert "one" in shown.all_text and "two" in shown.all_text
    assert not old_folder.exists()  # the turn went to the new folder
    # --continue (and /resume's list) only look in the folder of the directory they run in.
    continued = claude("--continue", "four", cwd=new)
    assert json.loads(continued.stdout)["session_id"] == session_id
    assert fake_claude.model_requests[-1].count_role("user") == 4


def test_a_move_never_overwrites_a_different_file(cs, fake_claude, tmp_path):
    old, new = tmp_path / "old", tmp_path / "new"
    old.mkdir()
    new.mkdir()
    session_id = next(iter(query("one", Options(cwd=str(old)))))["session_id"]
    in_the_way = folder_of(new) / f"{session_id}.jsonl"
    in_the_way.parent.mkdir(parents=True)
    in_the_way.write_text('{"type":"user","note":"someone else\'s"}\n')
    before = (folder_of(old) / f"{session_id}.jsonl").read_bytes()

    refused = cs("move", str(old), str(new), code=1)
    assert refused.stderr.startswith("Error: ") and "nothing was changed" in refused.stderr
    assert in_the_way.read_text() == '{"type":"user","note":"someone else\'s"}\n'
    assert (folder_of(old) / f"{session_id}.jsonl").read_bytes() == before
    assert not (Path.home() / ".claude" / "claude-sessions-backups").exists()


def test_the_store_re_keys_a_project_s_sessions_and_refuses_a_clash(store, tmp_path):
    old, new = str(tmp_path / "old"), str(tmp_path / "new")
    store.save_session("s-1", [], project=old)
    store.save_session("s-2", [], project=f"{old}/sub")
    store.save_session("s-3", [], project=str(tmp_path / "elsewhere"))

    planned = move_project(store, old, new, dry_run=True)
    assert planned.session_ids == ["s-1"] and store.get_metadata("s-1").project == old
    moved = move_project(store, old, new)
    assert moved.session_ids == ["s-1"]
    assert store.get_metadata("s-1").project == new
    assert store.get_metadata("s-2").project == f"{old}/sub"  # its own project folder
    assert store.get_metadata("s-3").project == str(tmp_path / "elsewhere")

    # The same id stored under the old directory again, as the official SDK keys it.
    entry = {
        "type": "user",
        "uuid": "u-1",
        "cwd": old,
        "message": {"role": "user", "content": "hi"},
    }
    asyncio.run(
        store.sdk_store().append({"project_key": project_key(old), "session_id": "s-1"}, [entry])
    )
    with pytest.raises(SessionConflictError):
        move_project(store, old, new)
    projects = {row.project for row in store.search_page(limit=10).sessions}
    assert {old, new} <= projects  # neither was changed
