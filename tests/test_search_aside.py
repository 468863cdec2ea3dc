"""Search finds words said only in tool calls, tool results and subagents (SQLite: a
catch-up indexer puts them in a database beside the store's; PostgreSQL: the store's
writes index them), on both databases."""

from __future__ import annotations

import io
import json
import os
import re
import sqlite3
import stat
from pathlib import Path
from typing import Any

import pytest

from claude_sessions import SessionStore
from claude_sessions.importer import import_transcripts
from claude_sessions.store.search_index import not_indexed, update_search_index

from .transcript_samples import _common, conversation, project_dir, sid, write

TOOL_INPUT_WORD = "zebradirectory"
TOOL_RESULT_WORD = "quagmirefile"
SUBAGENT_WORD = "xylophonic"
PROMPT_WORD = "parsnip"


def _tool_round(session_id: str) -> list[dict[str, Any]]:
    """A prompt, a Bash call and its result: the call's and the result's words are
    said nowhere else."""
    (prompt,) = [
        e for e in conversation(session_id, [f"look at the {PROMPT_WORD}"]) if e["type"] == "user"
    ]
    call = _common(session_id, 50, prompt["uuid"], 50)
    call.update(
        type="assistant",
        message={
            "id": f"msg_{session_id}",
            "type": "message",
            "role": "assistant",
            "model": "claude-sonnet-4-5-20250929",
            "content": [
                {
                    "type": "tool_use",
                    "id": "toolu_1",
                    "name": "Bash",
                    "input": {"command": f"ls /tmp/{TOOL_INPUT_WORD}"},
                }
            ],
        },
    )
    result = _common(session_id, 51, call["uuid"], 51)
    result.update(
        type="user",
        message={
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_1",
                    "content": f"{TOOL_RESULT_WORD}.txt",
                }
            ],
        },
    )
    return [prompt, call, result]


def _subagent(session_id: str) -> list[dict[str, Any]]:
    line = _common(session_id, 70, None, 52)
    line.update(
        type="assistant",
        isSidechain=True,
        agentId="a93ccab",
        message={
            "id": "msg_agent",
            "type": "message",
            "role": "assistant",
            "model": "claude-sonnet-4-5-20250929",
            "content": [{"type": "text", "text": f"the {SUBAGENT_WORD} scale"}],
        },
    )
    return [line]


@pytest.fixture
def transcripts(tmp_path: Path) -> Path:
    """Session 1 says every word; session 2 only plain prompts."""
    root = tmp_path / "claude"
    folder = project_dir(root)
    write(folder / f"{sid(1)}.jsonl", _tool_round(sid(1)))
    write(folder / sid(1) / "subagents" / "agent-a93ccab.jsonl", _subagent(sid(1)))
    write(folder / f"{sid(2)}.jsonl", conversation(sid(2), ["nothing of note"]))
    return root


def _holding(root: Path, word: str) -> set[str]:
    """The sessions whose raw transcript lines hold ``word`` (subagent files count for
    the session whose folder holds them)."""
    found = set()
    for path in root.rglob("*.jsonl"):
        if re.search(rf"\b{word}\b", path.read_text()):
            session = path.stem if path.parent == project_dir(root) else path.parents[1].name
            found.add(session)
    return found


def _found(store: SessionStore, word: str, **more: Any) -> set[str]:
    return {meta.session_id for meta in store.search(text=word, **more)}


WORDS = [TOOL_INPUT_WORD, TOOL_RESULT_WORD, SUBAGENT_WORD, PROMPT_WORD]


def _sqlite(store: SessionStore) -> bool:
    return not store.location.startswith("postgresql")


def test_words_of_tool_calls_and_subagents_are_found_once_indexed(transcripts, store):
    import_transcripts(store, [transcripts])
    if _sqlite(store):  # the import leaves tool text to the indexer, and says so
        assert _found(store, TOOL_RESULT_WORD) == set()
        assert not_indexed(store) == 2
    update_search_index(store)
    assert not_indexed(store) == 0
    for word in WORDS:
        expected = _holding(transcripts, word)
        assert expected == {sid(1)}, word  # the sample says each word in session 1 only
        assert _found(store, word) == expected, word


@pytest.mark.parametrize(
    ("word", "place"),
    [(TOOL_INPUT_WORD, "tool"), (TOOL_RESULT_WORD, "tool"), (SUBAGENT_WORD, "subagent")],
)
def test_a_search_keeps_to_the_places_asked_for(transcripts, store, word, place):
    import_transcripts(store, [transcripts])
    update_search_index(store)
    other = "subagent" if place == "tool" else "tool"
    assert _found(store, word, places=[place]) == {sid(1)}
    assert _found(store, word, places=[other]) == set()
    assert _found(store, word, places=["prompt", "reply"]) == set()


def test_a_search_by_tool_finds_the_sessions_that_called_it(transcripts, store):
    import_transcripts(store, [transcripts])
    update_search_index(store)
    assert {m.session_id for m in store.list_sessions(tool="Bash")} == {sid(1)}
    assert store.list_sessions(tool="Read") == []
    assert {m.session_id for m in store.search(text=PROMPT_WORD, tool="bash")} == {sid(1)}


def test_new_lines_of_a_session_are_indexed_by_the_next_run(transcripts, store):
    import_transcripts(store, [transcripts])
    update_search_index(store)
    path = project_dir(transcripts) / f"{sid(2)}.jsonl"
    call_and_result = _tool_round(sid(2))[1:]  # lines new to session 2
    with path.open("a") as out:
        out.writelines(json.dumps(line) + "\n" for line in call_and_result)
    import_transcripts(store, [transcripts])
    if _sqlite(store):
        assert not_indexed(store) == 1
    run = update_search_index(store, session_ids=[sid(2)])
    assert run.sessions == (1 if _sqlite(store) else 0)
    assert _found(store, TOOL_RESULT_WORD) == {sid(1), sid(2)}
    assert not_indexed(store) == 0


def test_a_transcript_written_anew_is_indexed_anew(store):
    store.save_session("s1", _tool_round("s1"))
    update_search_index(store)
    assert _found(store, TOOL_RESULT_WORD) == {"s1"}
    (prompt,) = [e for e in conversation("s1", ["only words now"]) if e["type"] == "user"]
    store.save_session("s1", [prompt])
    update_search_index(store)
    assert _found(store, TOOL_RESULT_WORD) == set()
    assert _found(store, "only") == {"s1"}


@pytest.mark.parametrize("purge", [False, True], ids=["trashed", "purged"])
def test_a_deleted_session_is_not_found_by_its_tool_words(transcripts, store, purge):
    import_transcripts(store, [transcripts])
    update_search_index(store)
    assert _found(store, TOOL_RESULT_WORD) == {sid(1)}
    assert store.delete_session(sid(1), purge=purge)
    assert _found(store, TOOL_RESULT_WORD) == set()
    update_search_index(store)  # sweeps what it held of the purged session
    assert _found(store, TOOL_RESULT_WORD) == set()
    if purge and _sqlite(store):
        side = Path(store.location).with_name("sessions.search.db")
        with sqlite3.connect(side) as conn:
            for table in ("chunks", "marks"):
                held = f"SELECT count(*) FROM {table} WHERE session_id = ?"
                assert conn.execute(held, (sid(1),)).fetchone() == (0,)


def test_a_session_in_another_project_keeps_its_tool_words(transcripts, store):
    from claude_sessions.store.project_moves import move_project

    import_transcripts(store, [transcripts])
    update_search_index(store)
    (meta,) = store.search(text=TOOL_RESULT_WORD)
    assert meta.project
    move_project(store, meta.project, "/elsewhere/project")
    update_search_index(store)
    (moved,) = store.search(text=TOOL_RESULT_WORD)
    assert moved.session_id == sid(1) and moved.project == "/elsewhere/project"


def test_the_side_index_is_private_like_the_store(transcripts, tmp_path):
    with SessionStore(tmp_path / "store", cleanup_after_days=None) as store:
        import_transcripts(store, [transcripts])
        update_search_index(store)
        side = Path(store.location).with_name("sessions.search.db")
        assert stat.S_IMODE(side.stat().st_mode) == 0o600


def test_a_read_only_store_without_a_side_index_still_searches(transcripts, tmp_path):
    with SessionStore(tmp_path / "store", cleanup_after_days=None) as store:
        import_transcripts(store, [transcripts])
        update_search_index(store)
        location = Path(store.location)
    for name in ("sessions.search.db", "sessions.search.db-wal", "sessions.search.db-shm"):
        (location.parent / name).unlink(missing_ok=True)
    with SessionStore(location, read_only=True, cleanup_after_days=None) as store:
        assert _found(store, PROMPT_WORD) == {sid(1)}
        assert _found(store, TOOL_RESULT_WORD) == set()
        assert not_indexed(store) == 2  # it says what it cannot find yet
        assert update_search_index(store).sessions == 0  # and leaves the files alone
    assert not (location.parent / "sessions.search.db").exists()


def test_a_side_index_of_an_older_version_is_made_anew(transcripts, tmp_path):
    with SessionStore(tmp_path / "store", cleanup_after_days=None) as store:
        import_transcripts(store, [transcripts])
        update_search_index(store)
        side = Path(store.location).with_name("sessions.search.db")
    with sqlite3.connect(side) as conn:
        conn.execute("PRAGMA user_version = 0")
    with SessionStore(tmp_path / "store", cleanup_after_days=None) as store:
        assert not_indexed(store) == 2
        assert _found(store, TOOL_RESULT_WORD) == set()
        update_search_index(store)
        assert _found(store, TOOL_RESULT_WORD) == {sid(1)}


def _secret_words() -> list[str]:
    """The long words of the planted secrets, as the side index keeps them (lower case)."""
    from .secrets_planted import secrets

    return sorted(
        {word.lower() for item in secrets() for word in re.findall(r"[A-Za-z0-9]{12,}", item.value)}
    )


def test_redacting_stored_sessions_leaves_no_word_of_a_secret_in_the_side_index(tmp_path):
    from claude_sessions.store import redact_stored

    from .secrets_planted import secrets

    root = tmp_path / "claude"
    entries = _tool_round(sid(1))
    entries[2]["message"]["content"][0]["content"] = "\n".join(
        [f"{TOOL_RESULT_WORD}.txt", *(item.value for item in secrets())]
    )
    write(project_dir(root) / f"{sid(1)}.jsonl", entries)
    words = _secret_words()
    with SessionStore(tmp_path / "store", cleanup_after_days=None) as store:
        import_transcripts(store, [root])
        update_search_index(store)
        side = Path(store.location).with_name("sessions.search.db")

        def kept() -> list[str]:
            data = b"".join(
                path.read_bytes()
                for path in side.parent.glob("sessions.search.db*")
                if path.is_file()
            )
            return [word for word in words if word.encode() in data]

        before = kept()
        assert before
        assert redact_stored(store, None).scrubbed
        # What a redaction leaves of a secret (a word a rule does not cover) may stay.
        with sqlite3.connect(store.location) as conn:
            stored = " ".join(data for (data,) in conn.execute("SELECT data FROM entries"))
        stored = stored.lower()
        gone = [word for word in before if word not in stored]
        assert gone and all(_found(store, word) == set() for word in gone)
        assert not set(gone) & set(kept())
        assert _found(store, TOOL_RESULT_WORD) == {sid(1)}  # the rest is indexed again


def test_a_store_open_elsewhere_reads_the_side_index_made_anew(tmp_path):
    from claude_sessions.store import redact_stored

    from .secrets_planted import secrets

    planted = secrets()[0].value
    word = max(re.findall(r"[A-Za-z0-9]{12,}", planted), key=len)
    entries = _tool_round("s1")
    entries[2]["message"]["content"][0]["content"] = f"{TOOL_RESULT_WORD}.txt {planted}"
    with SessionStore(tmp_path / "store", cleanup_after_days=None) as reader:
        reader.save_session("s1", entries)
        update_search_index(reader)
        assert _found(reader, word) == {"s1"}  # the side index attached to its connection
        with SessionStore(tmp_path / "store", cleanup_after_days=None) as other:
            redact_stored(other, None)
        assert _found(reader, word) == set()
        assert _found(reader, TOOL_RESULT_WORD) == {"s1"}


def test_redacting_on_postgresql_takes_the_secret_out_of_tool_text(store):
    from claude_sessions.store import redact_stored

    from .secrets_planted import secrets

    entries = _tool_round("s1")
    planted = secrets()[0].value
    entries[2]["message"]["content"][0]["content"] = f"{TOOL_RESULT_WORD}.txt {planted}"
    store.save_session("s1", entries)
    update_search_index(store)
    word = max(re.findall(r"[A-Za-z0-9]{12,}", planted), key=len)
    assert _found(store, word) == {"s1"}
    redact_stored(store, None)
    assert _found(store, word) == set()
    assert _found(store, TOOL_RESULT_WORD) == {"s1"}


def test_a_hook_capture_indexes_the_tool_text_it_stores(transcripts, store_location):
    from claude_sessions.capture import hooks

    path = project_dir(transcripts) / f"{sid(1)}.jsonl"
    payload = {"session_id": sid(1), "transcript_path": str(path), "hook_event_name": "Stop"}
    folders = (transcripts / "projects",)
    line = hooks.capture(io.StringIO(json.dumps(payload)), store_location, transcripts=folders)
    assert "error" not in line, line
    with SessionStore(store_location, cleanup_after_days=None) as store:
        assert not_indexed(store) == 0  # nothing left for a background indexer
        assert _found(store, TOOL_RESULT_WORD) == {sid(1)}
        assert _found(store, SUBAGENT_WORD) == {sid(1)}


def _without_aside_index(location: str) -> None:
    """The store as a version without the full text of tool calls left it (SQLite: no
    side index file; PostgreSQL 14: no ``aside_text``)."""
    from .older_store import set_back

    def undo(run: Any, postgres: bool) -> None:
        if postgres:
            run("DROP TABLE aside_text")

    if location.startswith("postgresql://"):
        set_back(location, sqlite=19, postgres=14, undo=undo)
    else:
        for path in Path(location).glob("sessions.search.*"):
            path.unlink()


def test_an_older_store_finds_tool_words_once_caught_up(transcripts, store_location):
    from click.testing import CliRunner

    from claude_sessions.cli import cli

    with SessionStore(store_location, cleanup_after_days=None) as store:
        import_transcripts(store, [transcripts])
        update_search_index(store)
    _without_aside_index(store_location)
    # PostgreSQL indexes the stored sessions as it upgrades; SQLite's first search does.
    result = CliRunner().invoke(
        cli, ["search", TOOL_RESULT_WORD, "--json"], env={"CLAUDE_SESSIONS_STORE": store_location}
    )
    assert result.exit_code == 0, result.output
    assert {item["session_id"] for item in json.loads(result.stdout)} == {sid(1)}
    with SessionStore(store_location, cleanup_after_days=None) as store:
        assert not_indexed(store) == 0
        assert _found(store, SUBAGENT_WORD, places=["subagent"]) == {sid(1)}


def test_the_web_app_and_the_mcp_tool_say_what_is_not_indexed_yet(transcripts, tmp_path):
    from starlette.testclient import TestClient

    from claude_sessions.mcp.tools import TOOLS, call_tool
    from claude_sessions.web import create_app

    def answers() -> tuple[dict[str, Any], str]:
        outcome = call_tool(store, "search_sessions", {"text": TOOL_RESULT_WORD}, TOOLS)
        with TestClient(create_app(store)) as client:
            page = client.get("/", params={"text": TOOL_RESULT_WORD})
        return json.loads(outcome.text), page.text

    with SessionStore(tmp_path / "store", cleanup_after_days=None) as store:
        import_transcripts(store, [transcripts])
        answer, page = answers()
        assert answer["not_indexed"].startswith("tool text of 2 sessions not indexed yet")
        assert "Tool text of 2 sessions not indexed yet" in page
        update_search_index(store)
        answer, page = answers()
        assert "not_indexed" not in answer and "not indexed yet" not in page
        assert [item["session_id"] for item in answer["sessions"]] == [sid(1)]


def test_a_capture_indexing_its_lines_keeps_what_is_new_a_short_range(transcripts, tmp_path):
    with SessionStore(tmp_path / "store", cleanup_after_days=None) as store:
        import_transcripts(store, [transcripts])
        update_search_index(store)
        path = project_dir(transcripts) / f"{sid(2)}.jsonl"
        with path.open("a") as out:
            out.writelines(json.dumps(line) + "\n" for line in _tool_round(sid(2))[1:])
        import_transcripts(store, [transcripts])
        update_search_index(store, session_ids=[sid(2)])
        with sqlite3.connect(store.location) as conn:
            (top,) = conn.execute("SELECT max(id) FROM entries").fetchone()
        side = Path(store.location).with_name("sessions.search.db")
        with sqlite3.connect(side) as conn:
            assert conn.execute("SELECT value FROM state WHERE key = 'seen'").fetchone() == (top,)


def test_a_side_index_another_process_is_making_is_never_removed(tmp_path: Path) -> None:
    """Many processes opening a fresh store make its side index at once: one that finds
    the file another has just created (still empty, version 0) must not delete it from
    under that one (its log then goes too: "disk I/O error")."""
    from claude_sessions.store.sqlite import side_index

    path = tmp_path / "sessions.search.db"
    os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))  # the other's
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("PRAGMA journal_mode = WAL")
        other.execute("CREATE TABLE theirs (x)")  # what that one wrote so far
        side_index.prepare(path)
        assert other.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] > 1
    finally:
        other.close()
    with sqlite3.connect(path) as conn:
        names = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        assert "theirs" in names and "said" in names  # the same file, made whole
        assert conn.execute("PRAGMA user_version").fetchone()[0] == side_index.VERSION
