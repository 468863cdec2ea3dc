"""Capture hooks, the watcher, writing back into Claude Code and branch points, without the CLI."""

from __future__ import annotations

import io
import json
import os
import threading
import time
from pathlib import Path

import pytest

from claude_sessions import (
    ClaudeConfigError,
    InvalidInputError,
    MessageNotFoundError,
    Options,
    SessionNotFoundError,
    SessionStore,
    TranscriptExistsError,
)
from claude_sessions.capture import hooks
from claude_sessions.capture.watch import watch
from claude_sessions.capture.write_back import write_back
from claude_sessions.model.message import Message
from claude_sessions.runs.run import build_invocation
from claude_sessions.views.lineage import branch_point, find_message_uuid

from .transcript_ledger import build_ledger

SID = "11111111-2222-4333-8444-555555555555"


@pytest.fixture
def claude_home(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("CLAUDE_CONFIG_DIR", raising=False)
    monkeypatch.delenv("CLAUDE_SESSIONS_TRANSCRIPT_DIRS", raising=False)
    return home


def transcript_lines(session_id=SID, turns=2, cwd="/work/project"):
    """A CLI-like transcript: chained user/assistant entries plus bookkeeping lines."""
    lines, parent = [], None
    for n in range(turns):
        for kind in ("user", "assistant"):
            uid = f"{kind[0]}{n:07d}-0000-4000-8000-{session_id[-12:]}"
            body = {"role": kind, "content": f"{kind} says {n}"}
            if kind == "assistant":
                body = {
                    "id": f"msg_{n}",
                    "role": "assistant",
                    "model": "claude-sonnet-4-5",
                    "content": [{"type": "text", "text": f"answer {n}"}],
                    "usage": {"input_tokens": 10, "output_tokens": 5},
                }
            lines.append(
                {
                    "parentUuid": parent,
                    "isSidechain": False,
                    "type": kind,
                    "message": body,
                    "uuid": uid,
                    "timestamp": f"2026-03-01T10:0{n}:00.000Z",
                    "cwd": cwd,
                    "sessionId": session_id,
                    "version": "2.1.331",
                }
            )
            parent = uid
        lines.append({"type": "last-prompt", "lastPrompt": "x", "sessionId": session_id})
    return lines


def write_transcript(path: Path, entries) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(e) + "\n" for e in entries))
    return path


# -- hooks: install, uninstall, status ---------------------------------------------------


def test_install_merges_with_existing_settings_and_is_idempotent(claude_home, tmp_path):
    settings = claude_home / ".claude" / "settings.json"
    theirs = {"type": "command", "command": "notify-send done"}
    write_transcript(settings, [])
    settings.write_text(
        json.dumps({"model": "opus", "hooks": {"Stop": [{"hooks": [theirs]}]}}, indent=2)
    )
    original = settings.read_text()
    done = hooks.install("user", location=tmp_path / "store")
    assert done.changed and done.path == settings
    assert done.backup is not None and done.backup.read_text() == original
    config = json.loads(settings.read_text())
    assert config["model"] == "opus"
    assert config["hooks"]["Stop"][0] == {"hooks": [theirs]}  # theirs kept, first
    for event in hooks.EVENTS:
        ours = config["hooks"][event][-1]["hooks"][0]
        assert ours["type"] == "command" and "hooks capture --store" in ours["command"]
        assert str(tmp_path / "store") in ours["command"]
    assert hooks.install("user", location=tmp_path / "store").changed is False
    assert json.loads(settings.read_text()) == config  # installing twice adds nothing
    assert hooks.installed("user") == list(hooks.EVENTS)

    removed = hooks.uninstall("user")
    assert removed.changed
    assert json.loads(settings.read_text()) == {
        "model": "opus",
        "hooks": {"Stop": [{"hooks": [theirs]}]},
    }
    assert hooks.uninstall("user").changed is False
    assert hooks.installed("user") == []


def test_project_scope_and_a_store_moved_elsewhere(claude_home, tmp_path):
    project = tmp_path / "repo"
    project.mkdir()
    done = hooks.install("project", location=tmp_path / "a", project_dir=project)
    assert done.path == project / ".claude" / "settings.json"
    assert (done.path.stat().st_mode & 0o777) == 0o600
    moved = hooks.install("project", location=tmp_path / "b", project_dir=project)
    assert moved.changed  # the command changed: replaced, not added beside
    config = json.loads(done.path.read_text())
    assert [len(config["hooks"][e]) for e in hooks.EVENTS] == [1, 1, 1, 1]
    assert str(tmp_path / "b") in config["hooks"]["Stop"][0]["hooks"][0]["command"]
    assert hooks.installed("user") == []


def test_a_settings_file_we_cannot_read_safely_is_left_alone(claude_home):
    settings = claude_home / ".claude" / "settings.json"
    settings.parent.mkdir()
    settings.write_text("{ not json")
    with pytest.raises(ClaudeConfigError, match="not valid JSON"):
        hooks.install("user")
    assert settings.read_text() == "{ not json"
    settings.write_text(json.dumps({"hooks": ["not", "an", "object"]}))
    with pytest.raises(ClaudeConfigError):
        hooks.install("user")
    with pytest.raises(InvalidInputError, match="scope"):
        hooks.install("everywhere")  # type: ignore[arg-type]


# -- the hook command ------------------------------------------------------------------


def hook_input(transcript: Path, event="Stop", session_id=SID) -> io.StringIO:
    payload = {
        "session_id": session_id,
        "transcript_path": str(transcript),
        "cwd": "/work/project",
        "hook_event_name": event,
    }
    return io.StringIO(json.dumps(payload))


def test_capture_imports_incrementally_with_subagents_and_logs(claude_home, tmp_path):
    store_dir = tmp_path / "store"
    transcript = claude_home / ".claude/projects/-work-project" / f"{SID}.jsonl"
    entries = transcript_lines(turns=2)
    write_transcript(transcript, entries[:3])
    line = hooks.capture(hook_input(transcript), store_dir)
    assert line.startswith(f"Stop {SID}: +3 entries")
    write_transcript(transcript, entries)
    write_transcript(
        transcript.with_suffix("") / "subagents" / "agent-a1.jsonl",
        [{"type": "user", "uuid": "sub-u1", "message": {"role": "user", "content": "go"}}],
    )
    line = hooks.capture(hook_input(transcript, "SessionEnd"), store_dir)
    assert line.startswith(f"SessionEnd {SID}: +4 entries from 2 of 2 file(s)")  # 3 + 1
    with SessionStore(store_dir) as store:
        stored = store.load_session(SID, subagents=True)
        assert [m.to_dict() for m in stored.messages] == entries
        assert list(stored.subagents) == ["subagents/agent-a1"]
        assert stored.metadata.tags == ("imported",)  # protected from automatic cleanup
    log = hooks.log_path(store_dir).read_text().splitlines()
    assert len(log) == 2 and "SessionEnd" in log[1]
    assert (hooks.log_path(store_dir).stat().st_mode & 0o777) == 0o600
    status = hooks.status(store_dir)
    assert status.last is not None and status.last.endswith(log[1].split(" ", 1)[1])


@pytest.mark.parametrize(
    ("stdin", "problem"),
    [
        ("", "names no transcript_path"),
        ("not json", "JSONDecodeError"),
        ("[1, 2]", "not a JSON object"),
        ('{"transcript_path": 7}', "names no transcript_path"),
    ],
)
def test_capture_never_raises_on_bad_input(tmp_path, stdin, problem):
    line = hooks.capture(io.StringIO(stdin), tmp_path / "store")
    assert "error" in line and problem in line
    assert problem in hooks.log_path(tmp_path / "store").read_text()


def test_capture_of_a_missing_transcript_or_a_broken_store_is_logged(claude_home, tmp_path):
    project = claude_home / ".claude/projects/-p"
    line = hooks.capture(hook_input(project / "gone.jsonl"), tmp_path / "store")
    assert "+0 entries from 0 of 0 file(s)" in line
    bad_store = tmp_path / "not-a-db"
    bad_store.write_text("this is no database")
    transcript = write_transcript(project / f"{SID}.jsonl", transcript_lines())
    line = hooks.capture(hook_input(transcript), bad_store)
    assert "error" in line


def test_the_log_stays_small(tmp_path, monkeypatch):
    monkeypatch.setattr(hooks, "LOG_KEEP_BYTES", 2_000)
    for n in range(200):
        hooks.capture(io.StringIO(f'{{"session_id": "n{n}"}}'), tmp_path / "store")
    log = hooks.log_path(tmp_path / "store")
    assert log.stat().st_size < 2_200
    assert (
        log.read_text()
        .splitlines()[-1]
        .endswith("n199: error: ValueError: the hook's input names no transcript_path")
    )


# -- which files the hook reads ---------------------------------------------------------


def no_transcript(named: Path, outside: Path, case: str) -> Path:
    """What a hook's input may name that is no transcript where transcripts live."""
    named.parent.mkdir(parents=True, exist_ok=True)
    if case == "/etc/passwd":
        return Path("/etc/passwd")
    if case == "a transcript outside":
        return outside
    if case == "a link to /etc/passwd":
        named.symlink_to("/etc/passwd")
    elif case == "a link to a transcript outside":
        named.symlink_to(outside)
    elif case == "a folder of links out":
        named.parent.rmdir()
        named.parent.symlink_to(outside.parent, target_is_directory=True)
    elif case == "text":
        named.write_text("root:x:0:0:root:/root:/bin/bash\n" + json.dumps({"type": "user"}))
    elif case == "a JSON array":
        named.write_text(json.dumps([{"type": "user", "uuid": "u1"}]) + "\n")
    elif case == "blank lines only":
        named.write_text("\n  \n")
    elif case == "a folder":
        named.mkdir()
    return named


@pytest.mark.parametrize(
    "case",
    [
        "/etc/passwd",
        "a transcript outside",
        "a link to /etc/passwd",
        "a link to a transcript outside",
        "a folder of links out",
        "text",
        "a JSON array",
        "blank lines only",
        "a folder",
    ],
)
def test_capture_refuses_what_is_no_transcript_where_transcripts_live(claude_home, tmp_path, case):
    outside = write_transcript(tmp_path / "elsewhere" / f"{SID}.jsonl", transcript_lines())
    named = no_transcript(claude_home / ".claude/projects/-p" / f"{SID}.jsonl", outside, case)
    store_dir = tmp_path / "store"
    line = hooks.capture(hook_input(named), store_dir)
    assert "refused" in line and repr(str(named)) in line
    assert hooks.log_path(store_dir).read_text().rstrip("\n").endswith(line)
    with SessionStore(store_dir, cleanup_after_days=None) as store:
        assert store.list_sessions() == []


def test_the_hook_command_refuses_etc_passwd_and_exits_0(claude_home, tmp_path):
    from click.testing import CliRunner

    from claude_sessions.cli import cli

    store_dir = tmp_path / "store"
    done = CliRunner().invoke(
        cli,
        ["hooks", "capture", "--store", str(store_dir)],
        input=hook_input(Path("/etc/passwd")).getvalue(),
    )
    assert done.exit_code == 0 and done.output == ""
    assert "refused '/etc/passwd': not a .jsonl file" in hooks.log_path(store_dir).read_text()
    with SessionStore(store_dir, cleanup_after_days=None) as store:
        assert store.list_sessions() == []


def test_capture_reads_a_folder_the_user_named(claude_home, tmp_path, monkeypatch):
    named = tmp_path / "named"
    first = write_transcript(named / "-p" / f"{SID}.jsonl", transcript_lines(turns=1))
    second_id = "22222222-2222-4333-8444-555555555555"
    second = write_transcript(
        tmp_path / "also" / "-q" / f"{second_id}.jsonl", transcript_lines(second_id, turns=2)
    )
    store_dir = tmp_path / "store"
    assert "refused" in hooks.capture(hook_input(first), store_dir)
    assert "+3 entries" in hooks.capture(hook_input(first), store_dir, transcripts=[named])
    monkeypatch.setenv(
        "CLAUDE_SESSIONS_TRANSCRIPT_DIRS", os.pathsep.join(["", str(tmp_path / "also")])
    )
    assert "+6 entries" in hooks.capture(hook_input(second, session_id=second_id), store_dir)
    with SessionStore(store_dir, cleanup_after_days=None) as store:
        assert sorted(m.session_id for m in store.list_sessions()) == [SID, second_id]
    done = hooks.install("user", location=store_dir, transcripts=[named])
    command = json.loads(done.path.read_text())["hooks"]["Stop"][-1]["hooks"][0]["command"]
    assert command.endswith(f"hooks capture --store {store_dir} --transcripts {named}")


def test_a_link_from_outside_brings_in_no_subagent_from_outside(claude_home, tmp_path):
    inside = write_transcript(
        claude_home / ".claude/projects/-p" / f"{SID}.jsonl", transcript_lines(turns=1)
    )
    link = tmp_path / "elsewhere" / f"{SID}.jsonl"
    link.parent.mkdir()
    link.symlink_to(inside)
    write_transcript(
        tmp_path / "elsewhere" / SID / "subagents" / "agent-x.jsonl",
        [{"type": "user", "uuid": "outside-1", "message": {"role": "user", "content": "x"}}],
    )
    line = hooks.capture(hook_input(link), tmp_path / "store")
    assert "+3 entries from 1 of 1 file(s)" in line  # the transcript itself, nothing beside it
    with SessionStore(tmp_path / "store", cleanup_after_days=None) as store:
        assert store.load_session(SID, subagents=True).subagents == {}


def test_captures_from_claude_config_dir_and_real_transcripts_pass(tmp_path, monkeypatch):
    fixtures = Path(__file__).parent / "fixtures" / "transcripts"
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(fixtures))
    monkeypatch.delenv("CLAUDE_SESSIONS_TRANSCRIPT_DIRS", raising=False)
    # Each file a hook may name beside the sessions: transcripts, and Claude Code 2.0's
    # subagent transcripts (agent-*.jsonl), which go under their session.
    named = sorted((fixtures / "projects").glob("*/*.jsonl"))
    sessions = build_ledger(fixtures, sdk=False).sessions
    assert len(named) == len(sessions) + 2
    for transcript in named:
        line = hooks.capture(hook_input(transcript, session_id=transcript.stem), tmp_path / "s")
        assert "+" in line and "refused" not in line and "error" not in line, line
    with SessionStore(tmp_path / "s", cleanup_after_days=None) as store:
        assert sorted(m.session_id for m in store.list_sessions()) == sorted(sessions)


# -- writing back into Claude Code ----------------------------------------------------


def captured_store(tmp_path, claude_home, entries=None):
    transcript = write_transcript(
        claude_home / ".claude/projects/-work-project" / f"{SID}.jsonl",
        entries or transcript_lines(turns=3),
    )
    sub = write_transcript(
        transcript.with_suffix("") / "subagents" / "agent-a1.jsonl",
        [{"type": "user", "uuid": "sub-u1", "parentUuid": None, "sessionId": SID}],
    )
    store = SessionStore(tmp_path / "store", cleanup_after_days=None)
    hooks.capture(hook_input(transcript), tmp_path / "store")
    return store, transcript, sub


def test_write_back_writes_the_captured_transcript_back_entry_for_entry(tmp_path, claude_home):
    store, transcript, sub = captured_store(tmp_path, claude_home)
    original, original_sub = transcript.read_text(), sub.read_text()
    transcript.unlink()
    sub.unlink()
    done = write_back(store, SID)
    assert done.path == transcript and not done.converted and done.entries == 9
    written = [json.loads(line) for line in transcript.read_text().splitlines()]
    assert written == [json.loads(line) for line in original.splitlines()]
    assert [json.loads(line) for line in sub.read_text().splitlines()] == [
        json.loads(line) for line in original_sub.splitlines()
    ]
    assert done.subagents == [sub]
    assert (transcript.stat().st_mode & 0o777) == 0o600


def test_write_back_never_replaces_without_force_nor_truncates_a_longer_transcript(
    tmp_path, claude_home
):
    store, transcript, _ = captured_store(tmp_path, claude_home)
    with pytest.raises(TranscriptExistsError, match="force"):
        write_back(store, SID)
    longer = transcript.read_text() + json.dumps({"type": "user", "uuid": "later-1"}) + "\n"
    transcript.write_text(longer)
    with pytest.raises(TranscriptExistsError, match="1 the store lacks"):
        write_back(store, SID, force=True)
    assert transcript.read_text() == longer  # untouched
    shorter = "".join(transcript.read_text().splitlines(keepends=True)[:2])
    transcript.write_text(shorter)
    assert write_back(store, SID, force=True).entries == 9
    assert len(transcript.read_text().splitlines()) == 9


def test_write_back_to_another_config_dir_and_directory(tmp_path, claude_home):
    store, _transcript, _ = captured_store(tmp_path, claude_home)
    elsewhere = tmp_path / "other-config"
    done = write_back(store, SID, config_dir=elsewhere, cwd=tmp_path)
    from claude_agent_sdk import project_key_for_directory

    assert done.path == elsewhere / "projects" / project_key_for_directory(tmp_path) / (
        f"{SID}.jsonl"
    )


def test_write_back_refuses_an_unsafe_subagent_path(tmp_path, claude_home):
    store, transcript, _ = captured_store(tmp_path, claude_home)
    store.append_messages(SID, [{"type": "user", "uuid": "x"}], subpath="../../escape")
    transcript.unlink()
    with pytest.raises(InvalidInputError, match="unsafe"):
        write_back(store, SID)
    assert not transcript.exists()  # nothing written at all


def stream_run(session_id, prompt, answer, cwd="/work/project"):
    """What ``query(..., store=...)`` saves from one run: stream-json messages."""
    return [
        {"type": "system", "subtype": "init", "session_id": session_id, "cwd": cwd,
         "model": "claude-sonnet-4-5", "claude_code_version": "2.1.331", "uuid": f"i-{prompt}"},
        {"type": "user", "session_id": session_id, "uuid": f"u-{prompt}",
         "message": {"role": "user", "content": prompt}},
        {"type": "assistant", "session_id": session_id, "uuid": f"a-{prompt}",
         "message": {"id": f"msg-{prompt}", "role": "assistant", "model": "claude-sonnet-4-5",
                     "content": [{"type": "text", "text": answer}]}},
        {"type": "result", "subtype": "success", "session_id": session_id,
         "total_cost_usd": 0.01, "uuid": f"r-{prompt}"},
    ]  # fmt: skip


def test_write_back_converts_a_stream_json_session_and_a_fork_starts_with_its_origin(
    tmp_path, claude_home
):
    store = SessionStore(tmp_path / "store", cleanup_after_days=None)
    origin, fork = SID, "99999999-2222-4333-8444-555555555555"
    store.record_run(origin, stream_run(origin, "one", "1"))
    store.record_run(origin, stream_run(origin, "two", "2"))
    store.record_run(origin, stream_run(origin, "three", "3"))
    store.record_run(fork, stream_run(fork, "branch", "b"), forked_from=origin, forked_at="a-two")
    done = write_back(store, fork)
    assert done.converted
    entries = [json.loads(line) for line in done.path.read_text().splitlines()]
    assert [e["uuid"] for e in entries] == ["u-one", "a-one", "u-two", "a-two", "u-branch",
                                            "a-branch"]  # fmt: skip
    assert [e["parentUuid"] for e in entries] == [None] + [e["uuid"] for e in entries[:-1]]
    assert {e["sessionId"] for e in entries} == {fork}
    assert all(e["cwd"] == "/work/project" and e["version"] == "2.1.331" for e in entries)
    assert done.path.parent.name == "-work-project"


def test_a_stream_json_echo_never_replaces_the_captured_transcript_entry(store_factory):
    store = store_factory()
    captured = transcript_lines(turns=1)
    store.append_messages(SID, captured, project_key="-work-project")
    echo = [
        {"type": "user", "uuid": captured[0]["uuid"], "session_id": SID,
         "message": captured[0]["message"]},
        {"type": "result", "subtype": "success", "session_id": SID, "uuid": "r-1"},
    ]  # fmt: skip
    store.record_run(SID, echo, tags=["ran"], forked_from=None)
    stored = store.load_session(SID)
    assert stored.messages[0].to_dict() == captured[0]  # parentUuid and all, kept
    assert "ran" in stored.metadata.tags


# -- fork and rewind at a message ------------------------------------------------------


def test_branch_point_options_reach_the_cli_and_bad_ones_are_refused():
    at = "0b9d3c1e-1111-4222-8333-444455556666"
    argv = build_invocation("p", Options(fork_session=True, resume_session_at=at), resume=SID).argv
    assert "--fork-session" in argv and f"--resume-session-at={at}" in argv
    drops = Options(resume_session_at=at, resume_drops_turn=at)
    assert f"--resume-drops-turn={at}" in build_invocation("p", drops, resume=SID).argv
    with pytest.raises(InvalidInputError, match="needs a session to resume"):
        build_invocation("p", Options(resume_session_at=at))
    with pytest.raises(InvalidInputError, match="message uuid"):
        Options(resume_session_at="--dangerous")
    with pytest.raises(InvalidInputError, match="needs resume_session_at"):
        Options(resume_drops_turn=at)


def test_find_message_uuid_by_prefix():
    messages = [Message({"uuid": u}) for u in ("abc-1", "abd-2", "ABE-3")] + [Message({})]
    assert find_message_uuid(messages, "abc") == "abc-1"
    assert find_message_uuid(messages, "abe") == "ABE-3"
    with pytest.raises(MessageNotFoundError, match="ambiguous"):
        find_message_uuid(messages, "ab")
    with pytest.raises(MessageNotFoundError, match="no message"):
        find_message_uuid(messages, "zzz")
    with pytest.raises(MessageNotFoundError):
        find_message_uuid(messages, "  ")


def test_branch_point_reads_the_transcript_its_caller_finds(tmp_path):
    path = write_transcript(tmp_path / f"{SID}.jsonl", transcript_lines(turns=2))
    second_prompt = "u0000001-0000-4000-8000-555555555555"  # the second user entry's uuid
    asked: list[str] = []

    def lookup(session_id):
        asked.append(session_id)
        return path

    assert branch_point(SID, "u0000001", local_transcript=lookup) == second_prompt
    assert asked == [SID]
    with pytest.raises(SessionNotFoundError):
        branch_point(SID, "u0000001", local_transcript=lambda session_id: None)
    with pytest.raises(SessionNotFoundError):
        branch_point(SID, "u0000001")  # no store, no transcript lookup


def test_fork_at_looks_in_the_cli_transcripts_when_nothing_is_stored(claude_home, tmp_path):
    from click.testing import CliRunner

    from claude_sessions.cli import cli

    projects = claude_home / ".claude" / "projects"
    write_transcript(projects / "-work-project" / f"{SID}.jsonl", transcript_lines(turns=1))
    done = CliRunner().invoke(
        cli, ["fork", SID, "--at", "ffffffff", "x", "--store", str(tmp_path / "none")]
    )
    assert done.exit_code == 2
    assert "no message uuid starts with 'ffffffff'" in done.output  # the transcript was read


# -- watch -----------------------------------------------------------------------------


def test_watch_imports_what_is_there_then_each_change(tmp_path):
    projects = tmp_path / "projects"
    first = write_transcript(projects / "-p" / f"{SID}.jsonl", transcript_lines(turns=1))
    store = SessionStore(tmp_path / "store", cleanup_after_days=None)
    stop = threading.Event()
    states = []

    def run():
        for state in watch(store, projects, debounce=0.1, stop=stop):
            states.append((state.rounds, state.entries))

    worker = threading.Thread(target=run)
    worker.start()
    try:
        deadline = time.monotonic() + 10
        while not states and time.monotonic() < deadline:
            time.sleep(0.02)
        assert states[0] == (1, 3)
        time.sleep(0.3)  # the watcher is listening
        second = "22222222-2222-4333-8444-555555555555"
        write_transcript(projects / "-p" / f"{second}.jsonl", transcript_lines(second, turns=2))
        with first.open("a") as more:
            more.write(json.dumps({"type": "user", "uuid": "late-1", "sessionId": SID}) + "\n")
        while time.monotonic() < deadline and (not states or states[-1][1] < 10):
            time.sleep(0.05)
    finally:
        stop.set()
        worker.join(timeout=10)
    assert not worker.is_alive()
    assert states[-1][1] == 3 + 6 + 1
    assert store.get_metadata(second).turns == 2
    assert store.load_session(SID).messages[-1]["uuid"] == "late-1"


def test_watch_needs_an_existing_directory(tmp_path):
    store = SessionStore(tmp_path / "store")
    with pytest.raises(InvalidInputError, match="no such directory"):
        next(watch(store, tmp_path / "missing"))


def test_watch_ignores_links_that_leave_the_folder(tmp_path):
    from claude_sessions.capture.watch import _transcripts

    root = tmp_path / "projects"
    (root / "p").mkdir(parents=True)
    outside = write_transcript(tmp_path / "secret.jsonl", [{"type": "user"}])
    inside = write_transcript(root / "p" / "a.jsonl", [{"type": "user"}])
    os.symlink(outside, root / "p" / "link.jsonl")
    changes = {(1, str(inside)), (1, str(root / "p" / "link.jsonl")), (3, str(root / "gone.jsonl"))}
    assert _transcripts(changes, root) == [str(inside)]


def test_the_hook_never_runs_the_automatic_cleanup(claude_home, tmp_path, monkeypatch):
    from datetime import datetime, timezone

    store_dir = tmp_path / "store"
    long_ago = SessionStore(
        store_dir,
        cleanup_after_days=None,
        clock=lambda: datetime(2025, 1, 1, tzinfo=timezone.utc),
    )
    long_ago.save_session("old-run", [{"type": "user", "message": {"content": "hi"}}])
    long_ago.close()
    monkeypatch.setenv("CLAUDE_SESSIONS_CLEANUP_DAYS", "1")
    transcript = write_transcript(
        claude_home / ".claude/projects/-p" / f"{SID}.jsonl", transcript_lines()
    )
    assert "+6 entries" in hooks.capture(hook_input(transcript), store_dir)
    with SessionStore(store_dir, read_only=True) as store:
        assert store.get_metadata("old-run") is not None and store.list_trash() == []
