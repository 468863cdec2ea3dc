"""What ``import`` says about real transcripts kept as people keep them: each skipped file
named with why, entries without a type called so, subagents beside their session (Claude
Code 2.0) filed under it. Through CliRunner on both databases, and once as a real process."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from claude_sessions import SessionStore

from .samples import ENV, as_json

FIXTURES = Path(__file__).parent.parent / "fixtures" / "transcripts" / "projects"
LEGACY = "-tmp-cli-legacy-project"  # the bundled CLI's session, its subagent moved beside it
SESSION = "de8da286-393f-4bc4-b788-e53a75607f7b"
IMPORTED = sorted(["edge_cases", SESSION])


def _backup(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A backup folder: transcripts two and three levels down (one packed with gzip),
    beside files that hold none; and the skipped files with why."""
    backup = tmp_path / "backup"
    shutil.copytree(FIXTURES / LEGACY, backup / "laptop" / "projects" / LEGACY)
    edge = backup / "laptop" / "projects" / "-tmp" / "edge_cases.jsonl.gz"
    edge.parent.mkdir()
    edge.write_bytes(gzip.compress((FIXTURES / "-tmp" / "edge_cases.jsonl").read_bytes()))
    history = backup / "laptop" / "history.jsonl"
    history.write_text(json.dumps({"display": "/init", "timestamp": 1}) + "\n")
    notes = backup / "notes.jsonl.gz"
    notes.write_text("plain text, not gzip\n")
    return backup, {
        str(history): "not a transcript (its first line has no entry type)",
        str(notes): "unreadable (",
    }


def _skipped_lines(text: str) -> dict[str, str]:
    lines = [line.removeprefix("Skipped ") for line in text.splitlines()]
    return dict(line.split(": ", 1) for line in lines if line.startswith("/"))


def _check_skipped(named: dict[str, str], expected: dict[str, str]) -> None:
    assert set(named) == set(expected)
    for path, why in expected.items():
        assert named[path].startswith(why), named[path]


def test_import_names_what_it_skipped_and_what_it_kept(invoke, store, tmp_path):
    backup, expected = _backup(tmp_path)

    result = invoke("import", str(backup))

    assert result.exit_code == 0, result.output
    assert "Sessions: 2 new, 0 updated, 0 unchanged." in result.stdout
    _check_skipped(_skipped_lines(result.stdout), expected)
    assert "Entries without a type (kept): 1" in result.stdout
    assert "None (" not in result.stdout
    assert sorted(m.session_id for m in store.list_sessions()) == IMPORTED
    again = as_json(invoke("import", str(backup), "--json"))
    assert again["files_unchanged"] == again["files_seen"] == 3
    _check_skipped(dict(line.split(": ", 1) for line in again["skipped"]), expected)
    assert again["untyped_entries"] == 0 and "None" not in again["unknown_types"]


def test_import_of_one_session_file_brings_the_subagent_beside_it(invoke, store, tmp_path):
    shutil.copytree(FIXTURES / LEGACY, tmp_path / LEGACY)
    report = as_json(invoke("import", str(tmp_path / LEGACY / f"{SESSION}.jsonl"), "--json"))
    assert report["files_read"] == 2 and report["sessions_new"] == 1
    assert [m.session_id for m in store.list_sessions()] == [SESSION]
    assert store.get_metadata(SESSION).subagent_output_tokens > 0


def test_import_as_a_real_process(tmp_path):
    backup, expected = _backup(tmp_path)
    store = tmp_path / "store"
    script = Path(sys.executable).with_name("claude-sessions")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "claude_sessions"]
    done = subprocess.run(
        [*command, "import", str(backup), "--store", str(store)],
        capture_output=True,
        text=True,
        env={**os.environ, **ENV, "HOME": str(tmp_path)},
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    _check_skipped(_skipped_lines(done.stdout), expected)
    assert "Entries without a type (kept): 1" in done.stdout
    with SessionStore(store, cleanup_after_days=None) as opened:
        assert sorted(m.session_id for m in opened.list_sessions()) == IMPORTED
        assert opened.get_metadata(SESSION).subagent_output_tokens > 0
