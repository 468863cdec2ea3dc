"""Entries and project folders moved to another directory (issue 27, 5 and 6), without the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from claude_sessions import InvalidInputError, TranscriptExistsError
from claude_sessions.capture.project_move import move_project
from claude_sessions.capture.relocate import apply_move, plan_move, relocated_text
from claude_sessions.capture.write_back import write_back
from claude_sessions.importer import import_transcripts
from claude_sessions.model.moved_path import rebased

SESSION = "0b7f2c9e-6a41-4f55-9d0e-1c2b3a4d5e6f"


def test_only_the_directory_and_what_is_inside_it_moves():
    assert rebased("/w/proj", "/w/proj", "/v/p") == "/v/p"
    assert rebased("/w/proj/src/x", "/w/proj", "/v/p") == "/v/p/src/x"
    assert rebased("/w/project", "/w/proj", "/v/p") is None  # a sibling sharing a prefix
    assert rebased("/elsewhere", "/w/proj", "/v/p") is None
    assert rebased(None, "/w/proj", "/v/p") is None


def test_a_transcript_s_lines_keep_everything_but_the_moved_cwd():
    lines = [
        '{"type":"user","cwd":"/w/proj","uuid":"u1","message":{"content":"é /w/proj"}}\n',
        '{"type":"summary","summary":"no cwd here"}\n',
        "not json at all\n",
        '{"type":"user","cwd":"/w/other","uuid":"u2"}',
    ]
    text, moved = relocated_text("".join(lines).encode(), "/w/proj", "/v/p")
    out = text.decode().splitlines(keepends=True)
    assert moved == 1
    first = json.loads(out[0])
    assert first["cwd"] == "/v/p" and first["message"]["content"] == "é /w/proj"
    assert out[1:] == lines[1:]  # byte for byte


def entry(uuid: str, parent: str | None, cwd: str, text: str, kind: str = "user") -> dict:
    return {
        "type": kind,
        "uuid": uuid,
        "parentUuid": parent,
        "sessionId": SESSION,
        "cwd": cwd,
        "timestamp": "2026-11-02T10:00:00.000Z",
        "message": {"role": kind, "content": text},
    }


def write_project(config: Path, directory: str) -> Path:
    """A project folder as Claude Code writes it: a transcript and a subagent's."""
    folder = config / "projects" / directory.replace("/", "-").replace("_", "-")
    main = [entry("u1", None, directory, "one"), entry("a1", "u1", directory, "hi", "assistant")]
    sub = [entry("s1", None, f"{directory}/pkg", "task")]
    (folder / SESSION / "subagents").mkdir(parents=True)
    (folder / f"{SESSION}.jsonl").write_text("".join(json.dumps(e) + "\n" for e in main))
    (folder / SESSION / "subagents" / "agent-1.jsonl").write_text(json.dumps(sub[0]) + "\n")
    return folder


def cwds_under(folder: Path) -> set[str]:
    found = set()
    for path in folder.rglob("*.jsonl"):
        found |= {json.loads(line).get("cwd") for line in path.read_text().splitlines()}
    return found


def test_a_move_plan_changes_nothing_and_its_run_moves_every_file(tmp_path):
    config = tmp_path / "config"
    old_folder = write_project(config, "/w/my_proj")
    before = {p: p.read_bytes() for p in old_folder.rglob("*") if p.is_file()}
    plan, contents = plan_move("/w/my_proj", "/v/p", config_dir=config)
    assert {p: p.read_bytes() for p in old_folder.rglob("*") if p.is_file()} == before
    assert plan.session_ids == [SESSION] and not plan.target.exists()
    assert sorted(m.entries_rewritten for m in plan.files) == [1, 2]

    done = apply_move(plan, contents)
    assert not old_folder.exists() and done.target == config / "projects" / "-v-p"
    assert cwds_under(done.target) == {"/v/p", "/v/p/pkg"}
    assert {done.backup / p.relative_to(old_folder) for p in before} == {
        p for p in done.backup.rglob("*") if p.is_file()
    }
    assert all(
        (done.backup / p.relative_to(old_folder)).read_bytes() == b for p, b in before.items()
    )


def test_a_different_file_in_the_way_stops_the_move_and_an_identical_one_does_not(tmp_path):
    config = tmp_path / "config"
    old_folder = write_project(config, "/w/proj")
    target = config / "projects" / "-v-p"
    _, contents = plan_move("/w/proj", "/v/p", config_dir=config)
    agent = target / SESSION / "subagents" / "agent-1.jsonl"
    agent.parent.mkdir(parents=True)
    agent.write_bytes(contents[agent])  # a move run again after it wrote this one
    again = plan_move("/w/proj", "/v/p", config_dir=config)[0]
    assert {m.target.name: m.already_there for m in again.files} == {
        f"{SESSION}.jsonl": False,
        "agent-1.jsonl": True,
    }

    agent.write_text('{"type":"user","cwd":"/v/p","note":"another session"}\n')
    with pytest.raises(TranscriptExistsError):
        plan_move("/w/proj", "/v/p", config_dir=config)
    assert old_folder.is_dir() and not (config / "claude-sessions-backups").exists()


def test_write_back_for_another_directory_moves_every_entry_s_cwd(store, tmp_path):
    source = tmp_path / "machine-a"
    write_project(source, "/w/proj")
    import_transcripts(store, [source / "projects"])
    written = write_back(store, SESSION, config_dir=tmp_path / "machine-b", cwd="/v/p")
    assert written.moved_from == "/w/proj"
    assert written.path == tmp_path / "machine-b" / "projects" / "-v-p" / f"{SESSION}.jsonl"
    assert cwds_under(written.path.parent) == {"/v/p", "/v/p/pkg"}
    assert len(written.subagents) == 1
    # The recorded directory itself: nothing to move.
    again = write_back(store, SESSION, config_dir=tmp_path / "machine-c", cwd="/w/proj")
    assert again.moved_from is None and cwds_under(again.path.parent) == {"/w/proj", "/w/proj/pkg"}


def test_a_project_whose_transcripts_are_gone_still_moves_in_the_store(store, tmp_path):
    config = tmp_path / "config"
    with pytest.raises(InvalidInputError, match="no sessions of /w/proj"):
        move_project("/w/proj", "/v/p", store=store, config_dir=config)
    store.save_session("s-1", [], project="/w/proj")
    planned = move_project("/w/proj", "/v/p", store=store, config_dir=config, dry_run=True)
    assert planned.files.files == [] and planned.stored.session_ids == ["s-1"]
    assert store.get_metadata("s-1").project == "/w/proj"
    done = move_project("/w/proj", "/v/p", store=store, config_dir=config)
    assert done.files.backup is None and store.get_metadata("s-1").project == "/v/p"
    assert not config.exists()  # nothing was written for Claude Code
