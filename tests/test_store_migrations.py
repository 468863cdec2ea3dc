"""Schema versions: an old database is upgraded when a store opens it."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from claude_sessions import SessionStore
from claude_sessions.store.sqlite import schema as sqlite_schema

from .older_store import undo_request_figures
from .store_fixtures import BACKENDS
from .store_samples import run

# The version-1 schema, written out here as it shipped (no full-text index).
V1 = [
    """CREATE TABLE sessions (
        id INTEGER PRIMARY KEY, session_id TEXT NOT NULL, project_key TEXT NOT NULL DEFAULT '',
        created_at REAL NOT NULL, updated_at REAL NOT NULL, mtime_ms INTEGER NOT NULL DEFAULT 0,
        message_count INTEGER NOT NULL DEFAULT 0, turns INTEGER NOT NULL DEFAULT 0,
        total_cost REAL NOT NULL DEFAULT 0, tags TEXT NOT NULL DEFAULT '[]', description TEXT,
        model TEXT, project TEXT, first_prompt TEXT, title TEXT, git_branch TEXT,
        forked_from TEXT, fold_state TEXT NOT NULL DEFAULT '{}', sdk_summary TEXT,
        UNIQUE (session_id, project_key))""",
    "CREATE INDEX sessions_by_updated ON sessions (updated_at)",
    "CREATE INDEX sessions_by_created ON sessions (created_at)",
    "CREATE INDEX sessions_by_cost ON sessions (total_cost)",
    "CREATE INDEX sessions_by_project_key ON sessions (project_key)",
    """CREATE TABLE entries (
        id INTEGER PRIMARY KEY,
        session_ref INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        subpath TEXT NOT NULL DEFAULT '', seq INTEGER NOT NULL, uuid TEXT, data TEXT NOT NULL,
        UNIQUE (session_ref, subpath, seq))""",
    """CREATE UNIQUE INDEX entries_by_uuid ON entries (uuid, session_ref, subpath)
        WHERE uuid IS NOT NULL""",
    """CREATE TABLE tags (session_ref INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        tag TEXT NOT NULL, source TEXT NOT NULL DEFAULT 'user', PRIMARY KEY (session_ref, tag))
        WITHOUT ROWID""",
    "CREATE INDEX tags_by_tag ON tags (tag, session_ref)",
    "CREATE TABLE store_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID",
]


def write_v1_store(path):
    conn = sqlite3.connect(path)
    for statement in V1:
        conn.execute(statement)
    conn.execute(
        "INSERT INTO sessions (id, session_id, created_at, updated_at, message_count, tags, "
        "description) VALUES (1, 'old-1', 1700000000, 1700000000, 3, '[\"legacy\"]', 'from v1')"
    )
    for seq, message in enumerate(run("old-1", text="ancient zeppelin story")):
        conn.execute(
            "INSERT INTO entries (session_ref, seq, data) VALUES (1, ?, ?)",
            (seq, json.dumps(message)),
        )
    conn.execute("INSERT INTO tags VALUES (1, 'legacy', 'user')")
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()


def test_v1_store_is_upgraded_on_open(tmp_path):
    path = tmp_path / "old.db"
    write_v1_store(path)
    with SessionStore(path, cleanup_after_days=None) as store:
        found = store.search(text="zeppelin")
        assert [m.session_id for m in found] == ["old-1"]
        assert store.search(text="from v1")[0].session_id == "old-1"
        old = store.load_session("old-1").metadata
        assert old.tags == ("legacy",)
        assert (old.input_tokens, old.output_tokens) == (10, 5)  # version 4 folded them
        store.save_session("new-1", run("new-1"))
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == sqlite_schema.SCHEMA_VERSION
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    covered = [row[2] for row in conn.execute("PRAGMA index_info(sessions_by_created)")]
    assert covered == ["created_at", "updated_at"]  # version 3
    conn.close()


def test_fresh_store_is_at_current_version(tmp_path):
    with SessionStore(tmp_path, cleanup_after_days=None):
        pass
    conn = sqlite3.connect(tmp_path / "sessions.db")
    assert conn.execute("PRAGMA user_version").fetchone()[0] == sqlite_schema.SCHEMA_VERSION
    conn.close()


def test_newer_schema_is_refused(tmp_path):
    import pytest

    from claude_sessions import StoreVersionError

    path = tmp_path / "future.db"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {sqlite_schema.SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(StoreVersionError, match="newer"):
        SessionStore(path, cleanup_after_days=None)


def test_v6_store_finds_root_entries_and_links_later_forks(tmp_path):
    from claude_sessions.importer import import_transcripts

    from .transcript_samples import conversation, fork_of, project_dir, write

    origin_id = "ffffffff-0000-4000-8000-000000000001"
    origin = conversation(origin_id, ["Design a REST API", "Add auth"])
    root = tmp_path / "claude"
    write(project_dir(root) / f"{origin_id}.jsonl", origin)
    path = tmp_path / "v6.db"
    with SessionStore(path, cleanup_after_days=None) as store:
        import_transcripts(store, [root])
    conn = sqlite3.connect(path)  # back to version 6: the key index led by the key, no roots
    undo_request_figures(conn.execute, postgres=False)
    conn.executescript(
        "DROP TABLE summaries; DROP INDEX sessions_by_root; DROP INDEX entries_by_key; "
        "ALTER TABLE sessions DROP COLUMN root_key; "
        "CREATE UNIQUE INDEX entries_by_key ON entries (entry_key, session_ref, subpath) "
        "WHERE entry_key IS NOT NULL; PRAGMA user_version = 6;"
    )
    conn.close()

    fork_id = "00000000-0000-4000-8000-00000000f0f0"
    write(
        project_dir(root) / f"{fork_id}.jsonl",
        fork_of(origin, origin_id, fork_id, "Use GraphQL instead"),
    )
    with SessionStore(path, cleanup_after_days=None) as store:
        import_transcripts(store, [root])
        assert store.get_metadata(fork_id).forked_from == origin_id

    conn = sqlite3.connect(path)
    roots = dict(conn.execute("SELECT session_id, root_key FROM sessions"))
    first = next(entry["uuid"] for entry in origin if "uuid" in entry and "parentUuid" in entry)
    assert roots == {origin_id: first, fork_id: first}
    leading = [row[2] for row in conn.execute("PRAGMA index_info(entries_by_key)")]
    assert leading == ["session_ref", "subpath", "entry_key"]
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()


REAL = Path(__file__).parent / "fixtures" / "transcripts" / "projects"
TASK_NOTIFIED = "fa812bfe-b295-4cca-9c2f-fdf01028cb46"  # a task notification, then a prompt


def _rewind_sqlite(location: str, first_prompt: str) -> None:
    conn = sqlite3.connect(location)
    _rewind(conn, "?", first_prompt)
    undo_request_figures(conn.execute, postgres=False)
    conn.execute("DROP TABLE summaries")  # version 9's
    conn.execute("PRAGMA user_version = 7")
    conn.commit()
    conn.close()


def _rewind_postgres(location: str, first_prompt: str) -> None:
    import psycopg

    with psycopg.connect(location, autocommit=True) as conn:
        conn.execute("SET search_path TO claude_sessions")
        _rewind(conn, "%s", first_prompt)
        undo_request_figures(conn.execute, postgres=True)
        conn.execute("DROP TABLE summaries")  # version 5's
        conn.execute("UPDATE store_meta SET value = '3' WHERE key = 'schema_version'")


def _rewind(conn: Any, mark: str, first_prompt: str) -> None:
    """The session's first prompt as versions before 8 (SQLite) and 4 (PostgreSQL) stored it."""
    (state,) = conn.execute("SELECT fold_state FROM sessions").fetchone()
    old = {**json.loads(state), "first_prompt": first_prompt}
    conn.execute(
        f"UPDATE sessions SET first_prompt = {mark}, fold_state = {mark}",
        (first_prompt, json.dumps(old)),
    )


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_older_store_finds_first_prompts_again(backend, request, tmp_path):
    """Stored sessions are folded again when a store from before first prompts left Claude
    Code's wrappers out is opened: their titles lose the wrappers."""
    from claude_agent_sdk._internal.sessions import _extract_first_prompt_from_head

    from claude_sessions.importer import import_transcripts
    from claude_sessions.views.render import session_title

    if backend == "sqlite":
        location, rewind = str(tmp_path / "old.db"), _rewind_sqlite
    else:
        location, rewind = request.getfixturevalue("postgres_database"), _rewind_postgres
    source = REAL / "-home-marco-projects-spotter-worktrees-spotter-a0y"
    with SessionStore(location, cleanup_after_days=None) as store:
        import_transcripts(store, [source])
    # Older versions kept the official SDK's first prompt: here, the task notification.
    stored = _extract_first_prompt_from_head((source / f"{TASK_NOTIFIED}.jsonl").read_text())
    assert stored.startswith("<task-notification>")
    rewind(location, stored)
    with SessionStore(location, cleanup_after_days=None) as store:
        meta = store.get_metadata(TASK_NOTIFIED)
        assert meta.first_prompt == "continue until all are done"
        assert session_title(meta) == "continue until all are done"
        lines = (source / f"{TASK_NOTIFIED}.jsonl").read_text().splitlines()
        assert meta.turns == sum(json.loads(line)["type"] == "assistant" for line in lines)
