"""The SQLite schema and its versioned migrations, applied on open.

``PRAGMA user_version`` holds the schema version. Opening a store runs every
migration above it, in order, inside one ``BEGIN IMMEDIATE`` transaction, so
two processes opening an old store at once upgrade it exactly once. A
migration is a function of the connection: SQL, or Python where data must be
rewritten (version 2 fills the full-text index from stored entries).

Version 1: sessions, entries, tags, store_meta.
Version 2: the full-text index ``sessions_fts`` (one row per session).
Version 3: the created_at and total_cost indexes also cover updated_at, so a
date or cost search finds its page of ids without reading session rows.
Version 4: input_tokens and output_tokens, computed for stored sessions by
folding their entries again (which also gives their fold state the counts).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Mapping
from typing import Any

import orjson

from .metadata import derive, entries_text, fold

SCHEMA_V1 = """
CREATE TABLE sessions (
    id            INTEGER PRIMARY KEY,
    session_id    TEXT NOT NULL,
    project_key   TEXT NOT NULL DEFAULT '',
    created_at    REAL NOT NULL,
    updated_at    REAL NOT NULL,
    mtime_ms      INTEGER NOT NULL DEFAULT 0,
    message_count INTEGER NOT NULL DEFAULT 0,
    turns         INTEGER NOT NULL DEFAULT 0,
    total_cost    REAL NOT NULL DEFAULT 0,
    tags          TEXT NOT NULL DEFAULT '[]',
    description   TEXT,
    model         TEXT,
    project       TEXT,
    first_prompt  TEXT,
    title         TEXT,
    git_branch    TEXT,
    forked_from   TEXT,
    fold_state    TEXT NOT NULL DEFAULT '{}',
    sdk_summary   TEXT,
    UNIQUE (session_id, project_key)
);
CREATE INDEX sessions_by_updated ON sessions (updated_at);
CREATE INDEX sessions_by_created ON sessions (created_at);
CREATE INDEX sessions_by_cost ON sessions (total_cost);
CREATE INDEX sessions_by_project_key ON sessions (project_key);

CREATE TABLE entries (
    id          INTEGER PRIMARY KEY,
    session_ref INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    subpath     TEXT NOT NULL DEFAULT '',
    seq         INTEGER NOT NULL,
    uuid        TEXT,
    data        TEXT NOT NULL,
    UNIQUE (session_ref, subpath, seq)
);
CREATE UNIQUE INDEX entries_by_uuid ON entries (uuid, session_ref, subpath)
    WHERE uuid IS NOT NULL;

CREATE TABLE tags (
    session_ref INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    tag         TEXT NOT NULL,
    source      TEXT NOT NULL DEFAULT 'user',
    PRIMARY KEY (session_ref, tag)
) WITHOUT ROWID;
CREATE INDEX tags_by_tag ON tags (tag, session_ref);

CREATE TABLE store_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
"""

# One FTS row per session, rowid = sessions.id. Searches return sessions, so
# ranking one document per session avoids grouping millions of per-message
# hits into sessions at query time (the 100k-session full-text goal), and the
# index keeps one doclist entry per session instead of one per message.
# Appends extend the row's text; only an upsert that changes an entry
# rebuilds it. The table keeps its own copy of the text for snippet().
SCHEMA_V2 = (
    """CREATE VIRTUAL TABLE sessions_fts USING fts5 (
        body, meta, tokenize = 'unicode61 remove_diacritics 2'
    )""",
    """CREATE TRIGGER sessions_fts_delete AFTER DELETE ON sessions BEGIN
        DELETE FROM sessions_fts WHERE rowid = old.id;
    END""",
)


def _v1(conn: sqlite3.Connection) -> None:
    for statement in SCHEMA_V1.split(";"):
        if statement.strip():
            conn.execute(statement)


def _v2(conn: sqlite3.Connection) -> None:
    for statement in SCHEMA_V2:
        conn.execute(statement)
    sessions = conn.execute("SELECT id, description, title FROM sessions").fetchall()
    for ref, description, title in sessions:
        rows = conn.execute(
            "SELECT data FROM entries WHERE session_ref = ? AND subpath = '' ORDER BY seq",
            (ref,),
        )
        body = entries_text(json.loads(data) for (data,) in rows)
        conn.execute(
            "INSERT INTO sessions_fts (rowid, body, meta) VALUES (?, ?, ?)",
            (ref, body, meta_text(description, title)),
        )


SCHEMA_V3 = (
    "DROP INDEX sessions_by_created",
    "CREATE INDEX sessions_by_created ON sessions (created_at, updated_at)",
    "DROP INDEX sessions_by_cost",
    "CREATE INDEX sessions_by_cost ON sessions (total_cost, updated_at)",
)


def _v3(conn: sqlite3.Connection) -> None:
    for statement in SCHEMA_V3:
        conn.execute(statement)


def _v4(conn: sqlite3.Connection) -> None:
    conn.execute("ALTER TABLE sessions ADD COLUMN input_tokens INTEGER NOT NULL DEFAULT 0")
    conn.execute("ALTER TABLE sessions ADD COLUMN output_tokens INTEGER NOT NULL DEFAULT 0")
    for (ref,) in conn.execute("SELECT id FROM sessions").fetchall():
        rows = conn.execute(
            "SELECT data FROM entries WHERE session_ref = ? AND subpath = '' ORDER BY seq",
            (ref,),
        )
        state = fold(None, (json.loads(data) for (data,) in rows))
        derived = derive(state)
        conn.execute(
            "UPDATE sessions SET input_tokens = ?, output_tokens = ?, fold_state = ? WHERE id = ?",
            (derived.input_tokens, derived.output_tokens, json.dumps(state), ref),
        )


def encode_entry(entry: Mapping[str, Any]) -> str:
    """An entry as stored in ``entries.data``: compact JSON text."""
    try:
        # orjson: the import's hot path; several times faster than json.dumps.
        return orjson.dumps(entry).decode()
    except TypeError:
        # What orjson refuses: integers past 64 bits, non-string keys, lone
        # surrogates. json.dumps with ensure_ascii escapes the surrogates
        # (SQLite stores UTF-8 only).
        return json.dumps(entry, separators=(",", ":"))


def utf8_text(text: str) -> str:
    """``text`` with lone surrogates replaced: SQLite stores UTF-8 only."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")
    return text


def meta_text(description: str | None, title: str | None) -> str:
    return "\n".join(part for part in (description, title) if part)


MIGRATIONS: tuple[Callable[[sqlite3.Connection], None], ...] = (_v1, _v2, _v3, _v4)
SCHEMA_VERSION = len(MIGRATIONS)


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the schema up to :data:`SCHEMA_VERSION`; returns the version found."""
    (found,) = conn.execute("PRAGMA user_version").fetchone()
    if found == SCHEMA_VERSION:
        return int(found)
    conn.execute("BEGIN IMMEDIATE")
    try:
        (found,) = conn.execute("PRAGMA user_version").fetchone()
        if found > SCHEMA_VERSION:
            raise sqlite3.DatabaseError(
                f"store schema version {found} is newer than this claude-sessions "
                f"understands ({SCHEMA_VERSION}): upgrade claude-sessions"
            )
        for migration in MIGRATIONS[found:]:
            migration(conn)
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return int(found)
