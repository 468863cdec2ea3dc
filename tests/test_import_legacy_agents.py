"""Subagent transcripts Claude Code 2.0 wrote beside the sessions (``<project>/agent-<id>.jsonl``,
each line naming its session in ``sessionId``) join their session, as the transcripts under
``<session>/subagents/`` do: by import and by the capture hook, whichever file comes first.

Two real pairs (tests/fixtures/transcripts): a session of marot/spotter with its subagent's
transcript moved beside it, and one the bundled CLI wrote against the fake Messages API,
moved the same way. Expected figures come from the independent ledger."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest

from claude_sessions import SessionStore
from claude_sessions.capture import hooks
from claude_sessions.importer import import_transcripts, importing
from claude_sessions.importer.handover import Desk

from .older_store import before_summaries
from .transcript_ledger import build_ledger

FIXTURES = Path(__file__).parent / "fixtures" / "transcripts"
# (project folder, session, agent id) of each pair
PAIRS = {
    "spotter": (
        "-home-marco-projects-spotter-worktrees-spotter-gqc",
        "258c7280-ae70-4798-800f-63464d01a85d",
        "a881341",
    ),
    "cli": (
        "-tmp-cli-legacy-project",
        "de8da286-393f-4bc4-b788-e53a75607f7b",
        "a93b5aa99978c49c2",
    ),
}


@pytest.fixture(scope="module")
def ledger():
    return build_ledger(FIXTURES, sdk=False)


def _files(pair: str) -> tuple[str, str, Path, Path]:
    project, session, agent = PAIRS[pair]
    folder = FIXTURES / "projects" / project
    return project, session, folder / f"{session}.jsonl", folder / f"agent-{agent}.jsonl"


def _lines(path: Path) -> int:
    return sum(1 for raw in path.read_bytes().splitlines() if raw.strip())


def _joined(store: SessionStore, pair: str, ledger) -> None:
    """The pair is one session: the ledger's figures, the agent's lines under it."""
    _, session, _, agent = _files(pair)
    expected = ledger.sessions[session]
    assert expected.subagent_files == [agent]  # the ledger, too, reads it as the session's
    assert [m.session_id for m in store.list_sessions()] == [session]
    meta = store.get_metadata(session)
    assert (meta.input_tokens, meta.output_tokens) == expected.tokens_total
    assert (meta.subagent_input_tokens, meta.subagent_output_tokens) == expected.tokens_subagents
    assert expected.tokens_subagents[1] > 0
    assert meta.total_cost == pytest.approx(expected.cost_total, abs=1e-9)
    assert meta.subagent_cost == pytest.approx(expected.cost_subagents, abs=1e-9)
    subagents = store.load_session(session, subagents=True).subagents
    assert {name: len(lines) for name, lines in subagents.items()} == {
        f"subagents/{agent.stem}": _lines(agent)
    }


@pytest.mark.parametrize("pair", sorted(PAIRS))
@pytest.mark.parametrize("first", ["session", "agent"])
def test_an_agent_file_beside_its_session_joins_it_whichever_comes_first(
    store, tmp_path, ledger, pair, first
):
    project, _, main, agent = _files(pair)
    folder = tmp_path / "projects" / project
    folder.mkdir(parents=True)
    earlier, later = (main, agent) if first == "session" else (agent, main)
    shutil.copy(earlier, folder)
    import_transcripts(store, [tmp_path / "projects"])
    shutil.copy(later, folder)
    report = import_transcripts(store, [tmp_path / "projects"])
    assert report.errors == [] and report.skipped == []
    _joined(store, pair, ledger)


@pytest.mark.parametrize("reader", ["here", "worker"])
def test_every_pair_joins_in_one_import(store, tmp_path, ledger, reader, monkeypatch):
    if reader == "worker":  # read in a second process, as a large import is
        monkeypatch.setattr(importing, "LARGE_IMPORT_BYTES", 0)
    for pair in PAIRS:
        project, _, main, agent = _files(pair)
        (tmp_path / pair / project).mkdir(parents=True)
        shutil.copy(agent, tmp_path / pair / project)
        shutil.copy(main, tmp_path / pair / project)
    one = import_transcripts(store, [tmp_path / "spotter"])
    assert (one.files_read, one.sessions_new) == (2, 1)
    _joined(store, "spotter", ledger)
    import_transcripts(store, [tmp_path / "cli"])
    assert sorted(m.session_id for m in store.list_sessions()) == sorted(
        session for _, session, _ in PAIRS.values()
    )
    again = import_transcripts(store, [tmp_path / "spotter", tmp_path / "cli"])
    assert again.files_unchanged == again.files_seen == 4


@pytest.mark.parametrize("pair", sorted(PAIRS))
def test_an_upgrade_puts_an_agent_file_an_earlier_import_kept_apart_under_its_session(
    store_location, tmp_path, ledger, pair
):
    """Earlier versions stored ``agent-<id>.jsonl`` as a session of its own, and its file
    is then unchanged for every later import: opening the store moves it under its
    session."""
    project, session, main, agent = _files(pair)
    (tmp_path / project).mkdir()
    shutil.copy(main, tmp_path / project)
    lines = [json.loads(raw) for raw in agent.read_bytes().splitlines() if raw.strip()]
    with SessionStore(store_location, cleanup_after_days=None) as store:
        import_transcripts(store, [tmp_path / project / main.name])
        key = store.get_metadata(session).project_key
        store.append_messages(agent.stem, lines, project_key=key)  # as an old import did
        assert len(store.list_sessions()) == 2
    with before_summaries(store_location):  # the version before this one
        pass
    with SessionStore(store_location, cleanup_after_days=None) as store:
        _joined(store, pair, ledger)


# -- the capture hook ------------------------------------------------------------------


@pytest.fixture
def claude_home(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("CLAUDE_CONFIG_DIR", raising=False)
    monkeypatch.delenv("CLAUDE_SESSIONS_TRANSCRIPT_DIRS", raising=False)
    return home


def _hook(event: str, session: str, transcript: Path, agent: Path | None = None) -> io.StringIO:
    payload = {"session_id": session, "transcript_path": str(transcript), "hook_event_name": event}
    if agent is not None:
        payload["agent_transcript_path"] = str(agent)
    return io.StringIO(json.dumps(payload))


def _place(claude_home: Path, pair: str) -> tuple[str, Path, Path]:
    project, session, main, agent = _files(pair)
    folder = claude_home / ".claude" / "projects" / project
    folder.mkdir(parents=True)
    return session, Path(shutil.copy(main, folder)), Path(shutil.copy(agent, folder))


@pytest.mark.parametrize("pair", sorted(PAIRS))
def test_subagent_stop_brings_the_agent_file_it_names(claude_home, store_location, pair, ledger):
    session, main, agent = _place(claude_home, pair)
    stop = hooks.capture(_hook("Stop", session, main), store_location)
    assert "+" in stop and "error" not in stop, stop
    line = hooks.capture(_hook("SubagentStop", session, main, agent), store_location)
    assert f"+{_lines(agent)} entries from 1 of 2 file(s)" in line, line
    with SessionStore(store_location, cleanup_after_days=None) as store:
        _joined(store, pair, ledger)


def test_a_hook_naming_the_agent_file_itself_files_it_under_its_session(
    claude_home, store_location, ledger
):
    session, main, agent = _place(claude_home, "cli")
    hooks.capture(_hook("SubagentStop", session, agent), store_location)
    hooks.capture(_hook("Stop", session, main), store_location)
    with SessionStore(store_location, cleanup_after_days=None) as store:
        _joined(store, "cli", ledger)


def test_the_agent_file_is_read_when_another_process_reads_the_session(
    claude_home, store_location, ledger
):
    """The reader of the session reads its subagents' folder, not a file beside it: a
    SubagentStop capture that finds the session claimed reads the agent file itself."""
    session, main, agent = _place(claude_home, "spotter")
    hooks.capture(_hook("Stop", session, main), store_location)
    held = Desk(store_location).claim(main)
    assert held is not None
    try:
        line = hooks.capture(_hook("SubagentStop", session, main, agent), store_location)
    finally:
        held.release()
    assert f"+{_lines(agent)} entries from 1 of 1 file(s)" in line, line
    with SessionStore(store_location, cleanup_after_days=None) as store:
        _joined(store, "spotter", ledger)
