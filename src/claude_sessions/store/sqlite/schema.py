"""The SQLite schema and its versioned upgrades, applied on open.

``PRAGMA user_version`` holds the schema version. Opening a store runs every
upgrade above it, in order, inside one ``BEGIN IMMEDIATE`` transaction, so
two processes opening an old store at once upgrade it exactly once; a fresh
store runs them all. An upgrade is a function of the connection: SQL, or
Python where data must be rewritten.

Version 1: sessions, entries, tags, store_meta.
Version 2: the full-text index ``sessions_fts`` (one row per session).
Version 3: the created_at and total_cost indexes also cover updated_at, so a
date or cost search finds its page of ids without reading session rows.
Version 4: input_tokens and output_tokens, computed for stored sessions by
folding their entries again (which also gives their fold state the counts).
Version 5: the trash (``trashed_at``: a session id is unique among live
sessions only, so the ``sessions`` table is rebuilt), ``forked_at``, subagent
figures and unpriced models (stored sessions are counted again), the
per-file import positions (``import_files``, written in the same transaction
as the entries they account for), and ``entries.uuid`` becomes ``entry_key``
(a uuid, or a line's place in its file for imported entries without one).
Version 6: usage aggregates read covering indexes kept in the order they group
by (day, model, project, tags), so grouping needs no sort: one per grouping
replaces the created_at-ordered one.
Version 7: the entry key index leads with the session (a batch of new entries
touches the few index pages of its own session, where keys first spread every
batch over the whole index), and fork evidence is looked up by each session's
root entry (``root_key``, found for stored sessions).
Version 8: a first prompt is what a person typed, without the wrappers and
notices Claude Code writes around it (stored sessions are counted again).
Version 9: ``summaries``, kept by the uuid of the entry each names and matched
to the session holding it; stored sessions are counted again (with the fork
marks of copied entries), their fork links settled by content and their
summaries matched.
Version 10: ``budgets``, a spending limit per kind (daily, monthly, block).
Version 11: each API request a session counts (``api_requests``: its time,
model, tokens with cache writes and reads apart, and cost) and their sums by
model (``session_models``), so figures by model charge each request to its own
model and usage blocks follow the requests' times; the sessions' cache writes
(5-minute, 1-hour) and reads, their count of requests and whether any was not of
their own model (``models_apart``: only those are read from ``session_models``),
which the usage indexes also cover (stored sessions are counted again).
Version 12: ``from_result`` (a session's main token figures are the CLI's result
totals), which the usage indexes also cover (stored sessions are counted again).
Version 13: each session's user and machine (``user_name``, ``machine``; ``unknown``
on sessions stored before), and ``users`` with a slow salted hash of each one's token.
Version 14: the secrets found in stored entries (``secret_findings``: where, which
rule, a masked preview, never the value) and how far each transcript was scanned
(``secret_scans``), so a scan looks only at entries added since.
Version 15: the record of a redaction (``redacted_at``, ``redacted_rules``: when the
secrets of a session were replaced, and the rules that found them).
Version 16: each tag row keeps a copy of its session's times, cost and trash mark
(kept by triggers), so one tag's newest page reads one index in order and stops
(``tags_feed``), and a tag with a date or cost range reads one covering index
(``tags_by_created``), whatever the store's size.
Version 17: ``sign_ins``, the web app's signed-in browsers (a hash of each cookie,
its user and when it expires), so a restart keeps them signed in.
Version 18: who sees what on a team store: each session's ``shared`` flag, each
user's ``share_by_default``, and the ``audit_log`` of changes, exports and shares.
Version 19: no schema change (the split of run totals it made is redone by the last
step).
Version 20: ``sync_marks``: per team server, session and transcript, the last entry the
server acknowledged, so a laptop sends a server only what it lacks.
Version 21: usage sums per day, project, user and machine, and per model and per tag
(``usage_rollup_days`` and three more), kept by triggers in the same transaction as
every write, so usage reports read them instead of every session (see
:mod:`claude_sessions.store.rollups`); filled from the stored sessions.
Version 22: a member's listing reads their own sessions and the shared ones from
an index each (``sessions_of_user``, ``sessions_shared``: see
:mod:`claude_sessions.store.member_listing`).
Version 23: no schema change (the split of run totals it made is redone by the last
step).
Version 24: sums by hour (``usage_rollup_hours``: what was spent then, by the requests'
own times, and the sessions created then), kept by triggers like version 21's, so
today's and this month's spend and the hour-of-week grid read them (see
:mod:`claude_sessions.store.hour_rollups`); filled from the stored sessions.
Version 25: ``sessions_by_branch``, so a list of one git branch reads only its rows
(see :mod:`claude_sessions.store.filter_indexes`).
Version 26: ``sessions_by_model``, ``sessions_of_project`` and ``sessions_of_project_key``,
so a list of a model or a project reads only its rows, and a model no session has
nothing (see :mod:`claude_sessions.store.lead_walk`).
Version 27: usage sums per day alone, per day and model and per day and project
(``usage_rollup_day_totals``, ``usage_rollup_day_models``, ``usage_rollup_day_projects``),
kept by version 21's triggers, so reports by day, model or project alone read a few
rows a day; filled from the stored sessions.
After the steps, on the finished schema, a store from before version 23 has each run's
totals split across its own requests (the sessions run through this library are folded
again with today's code; see :data:`RESULTS_SPLIT`).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from typing import Any

from claude_sessions.store import filter_indexes, lead_walk, member_listing
from claude_sessions.store.dialect import meta_text
from claude_sessions.store.plan import Op, Stmt, fetched
from claude_sessions.store.sqlite.dialect import DAY_NUMBER, USAGE_COLUMNS, SQLiteDialect
from claude_sessions.store.sqlite.sum_triggers import usage_hours, usage_rollups

_USAGE_COLUMNS = ", ".join(USAGE_COLUMNS)
# The columns version 11's indexes covered (version 12 rebuilds them).
_USAGE_COLUMNS_V11 = ", ".join(column for column in USAGE_COLUMNS if column != "from_result")
# The columns version 6's indexes covered (later versions rebuild them).
_USAGE_COLUMNS_V10 = ("cache_write_5m_tokens", "cache_write_1h_tokens", "cache_read_tokens")
_USAGE_COLUMNS_V6 = ", ".join(
    column
    for column in USAGE_COLUMNS
    if column not in (*_USAGE_COLUMNS_V10, "requests", "models_apart", "from_result")
)

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
    from claude_sessions.model.derive import entries_text  # only an old store's upgrade

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
    from claude_sessions.model.derive import derive, fold  # only an old store's upgrade

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
            (derived.input_tokens, derived.output_tokens, state.to_json(), ref),
        )


# Live sessions only: a trashed session keeps its id, and a new one may take it.
SESSIONS_V5 = """
CREATE TABLE sessions_v5 (
    id            INTEGER PRIMARY KEY,
    session_id    TEXT NOT NULL,
    project_key   TEXT NOT NULL DEFAULT '',
    created_at    REAL NOT NULL,
    updated_at    REAL NOT NULL,
    mtime_ms      INTEGER NOT NULL DEFAULT 0,
    message_count INTEGER NOT NULL DEFAULT 0,
    turns         INTEGER NOT NULL DEFAULT 0,
    total_cost    REAL NOT NULL DEFAULT 0,
    input_tokens  INTEGER NOT NULL DEFAULT 0,
    output_tokens INTEGER NOT NULL DEFAULT 0,
    tags          TEXT NOT NULL DEFAULT '[]',
    description   TEXT,
    model         TEXT,
    project       TEXT,
    first_prompt  TEXT,
    title         TEXT,
    git_branch    TEXT,
    forked_from   TEXT,
    forked_at     TEXT,
    fold_state    TEXT NOT NULL DEFAULT '{}',
    sdk_summary   TEXT,
    trashed_at    REAL,
    trash_reason  TEXT,
    subagent_cost          REAL NOT NULL DEFAULT 0,
    subagent_input_tokens  INTEGER NOT NULL DEFAULT 0,
    subagent_output_tokens INTEGER NOT NULL DEFAULT 0,
    unpriced      TEXT
)"""

_V4_COLUMNS = (
    "id, session_id, project_key, created_at, updated_at, mtime_ms, message_count, turns, "
    "total_cost, input_tokens, output_tokens, tags, description, model, project, "
    "first_prompt, title, git_branch, forked_from, fold_state, sdk_summary"
)

SCHEMA_V5 = (
    SESSIONS_V5,
    f"INSERT INTO sessions_v5 ({_V4_COLUMNS}) SELECT {_V4_COLUMNS} FROM sessions",
    "DROP TABLE sessions",
    "ALTER TABLE sessions_v5 RENAME TO sessions",
    "CREATE UNIQUE INDEX sessions_by_key ON sessions (session_id, project_key) "
    "WHERE trashed_at IS NULL",
    "CREATE INDEX sessions_by_updated ON sessions (updated_at, id) WHERE trashed_at IS NULL",
    "CREATE INDEX sessions_by_created ON sessions (created_at, updated_at) "
    "WHERE trashed_at IS NULL",
    "CREATE INDEX sessions_by_cost ON sessions (total_cost, updated_at) WHERE trashed_at IS NULL",
    "CREATE INDEX sessions_by_project_key ON sessions (project_key, mtime_ms)",
    "CREATE INDEX sessions_by_mtime ON sessions (mtime_ms)",
    # Covers usage aggregates: they read this index, not the wide session rows.
    "CREATE INDEX sessions_usage ON sessions (created_at, total_cost, model, project, "
    "project_key, turns, message_count, input_tokens, output_tokens, tags, unpriced) "
    "WHERE trashed_at IS NULL",
    "CREATE INDEX sessions_by_origin ON sessions (forked_from) WHERE forked_from IS NOT NULL",
    "CREATE INDEX sessions_in_trash ON sessions (trashed_at) WHERE trashed_at IS NOT NULL",
    """CREATE TRIGGER sessions_fts_delete AFTER DELETE ON sessions BEGIN
        DELETE FROM sessions_fts WHERE rowid = old.id;
    END""",
    "ALTER TABLE entries RENAME COLUMN uuid TO entry_key",
    "DROP INDEX entries_by_uuid",
    "CREATE UNIQUE INDEX entries_by_key ON entries (entry_key, session_ref, subpath) "
    "WHERE entry_key IS NOT NULL",
    """CREATE TABLE import_files (
        source   TEXT PRIMARY KEY,
        size     INTEGER NOT NULL,
        mtime_ns INTEGER NOT NULL,
        consumed INTEGER NOT NULL,
        head     TEXT NOT NULL
    ) WITHOUT ROWID""",
)


def _v5(conn: sqlite3.Connection) -> None:
    for statement in SCHEMA_V5:
        conn.execute(statement)
    problems = conn.execute("PRAGMA foreign_key_check").fetchall()
    if problems:
        raise sqlite3.IntegrityError(f"foreign keys broken by the upgrade: {problems[:3]}")


def _run(conn: sqlite3.Connection, op: Op[None]) -> None:
    """Run one of the store's transaction bodies inside the upgrade's transaction."""
    try:
        stmt = next(op)
        while True:
            stmt = op.send(execute(conn, stmt))
    except StopIteration:
        return


def execute(conn: sqlite3.Connection, stmt: Stmt) -> Any:
    """Run one statement of an op; what it sends back (see :class:`~.plan.Stmt`)."""
    if stmt.many:
        cursor = conn.executemany(stmt.sql, stmt.params)
    else:
        cursor = conn.execute(stmt.sql, stmt.params)
    return fetched(cursor, stmt.fetch)


def _usage_indexes(columns: str, groups: tuple[str, ...]) -> tuple[str, ...]:
    """The covering indexes of usage aggregates, one per grouping in ``groups``."""
    leads = {
        # The day exactly as the usage query computes it: an expression index must match.
        "day": f"{DAY_NUMBER.format('')}, model",
        "model": "model",
        "project": "project, project_key",
        "tags": "tags",
    }
    return tuple(
        f"CREATE INDEX usage_by_{name} ON sessions ({leads[name]}, {columns}) "
        "WHERE trashed_at IS NULL"
        for name in groups
    )


SCHEMA_V6 = (
    "DROP INDEX sessions_usage",
    *_usage_indexes(_USAGE_COLUMNS_V6, ("day", "model", "project", "tags")),
)


def _v6(conn: sqlite3.Connection) -> None:
    for statement in SCHEMA_V6:
        conn.execute(statement)


SCHEMA_V7 = (
    "ALTER TABLE sessions ADD COLUMN root_key TEXT",
    "DROP INDEX entries_by_key",
    "CREATE UNIQUE INDEX entries_by_key ON entries (session_ref, subpath, entry_key) "
    "WHERE entry_key IS NOT NULL",
    "CREATE INDEX sessions_by_root ON sessions (root_key) WHERE root_key IS NOT NULL",
)


def _v7(conn: sqlite3.Connection) -> None:
    for statement in SCHEMA_V7:
        conn.execute(statement)
    from claude_sessions.store.upgrades import fill_root_keys  # only an old store's upgrade

    _run(conn, fill_root_keys(SQLiteDialect()))


def _v8(conn: sqlite3.Connection) -> None:
    """No change of schema: the sessions are counted again (see :data:`RECOUNTED`)."""


SCHEMA_V9 = (
    """CREATE TABLE summaries (
        leaf_key    TEXT PRIMARY KEY,
        summary     TEXT NOT NULL,
        session_ref INTEGER REFERENCES sessions (id) ON DELETE SET NULL,
        leaf_seq    INTEGER
    )""",
    "CREATE INDEX summaries_by_session ON summaries (session_ref, leaf_seq) "
    "WHERE session_ref IS NOT NULL",
)


def _v9(conn: sqlite3.Connection) -> None:
    for statement in SCHEMA_V9:
        conn.execute(statement)


# IF NOT EXISTS: a store whose version was set back by hand keeps its budgets.
SCHEMA_V10 = """CREATE TABLE IF NOT EXISTS budgets (
    kind      TEXT PRIMARY KEY,
    limit_usd REAL NOT NULL
) WITHOUT ROWID"""


def _v10(conn: sqlite3.Connection) -> None:
    conn.execute(SCHEMA_V10)


SCHEMA_V11 = (
    "ALTER TABLE sessions ADD COLUMN cache_write_5m_tokens INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE sessions ADD COLUMN cache_write_1h_tokens INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE sessions ADD COLUMN cache_read_tokens INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE sessions ADD COLUMN requests INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE sessions ADD COLUMN models_apart INTEGER NOT NULL DEFAULT 0",
    """CREATE TABLE api_requests (
        session_ref           INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        request_key           TEXT NOT NULL,
        at                    REAL,
        model                 TEXT NOT NULL DEFAULT '',
        input_tokens          INTEGER NOT NULL DEFAULT 0,
        output_tokens         INTEGER NOT NULL DEFAULT 0,
        cache_write_5m_tokens INTEGER NOT NULL DEFAULT 0,
        cache_write_1h_tokens INTEGER NOT NULL DEFAULT 0,
        cache_read_tokens     INTEGER NOT NULL DEFAULT 0,
        cost                  REAL,
        subagent              INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (session_ref, subagent, request_key)
    )""",
    "CREATE INDEX api_requests_by_time ON api_requests (at, session_ref) WHERE at IS NOT NULL",
    """CREATE TABLE session_models (
        session_ref           INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        model                 TEXT NOT NULL,
        requests              INTEGER NOT NULL,
        cost                  REAL NOT NULL,
        unpriced_requests     INTEGER NOT NULL,
        input_tokens          INTEGER NOT NULL,
        output_tokens         INTEGER NOT NULL,
        cache_write_5m_tokens INTEGER NOT NULL,
        cache_write_1h_tokens INTEGER NOT NULL,
        cache_read_tokens     INTEGER NOT NULL,
        PRIMARY KEY (session_ref, model)
    ) WITHOUT ROWID""",
    "DROP INDEX usage_by_day",
    "DROP INDEX usage_by_model",
    "DROP INDEX usage_by_project",
    "DROP INDEX usage_by_tags",
    *_usage_indexes(_USAGE_COLUMNS_V11, ("day", "model", "project", "tags")),
)


def _v11(conn: sqlite3.Connection) -> None:
    for statement in SCHEMA_V11:
        conn.execute(statement)


# from_result: 1 when a session's main token figures are the CLI's result totals
# (see derive): stored sessions are counted again to set it.
SCHEMA_V12 = (
    "ALTER TABLE sessions ADD COLUMN from_result INTEGER NOT NULL DEFAULT 0",
    "DROP INDEX usage_by_day",
    "DROP INDEX usage_by_model",
    "DROP INDEX usage_by_project",
    "DROP INDEX usage_by_tags",
    *_usage_indexes(_USAGE_COLUMNS, ("day", "model", "project", "tags")),
)


def _v12(conn: sqlite3.Connection) -> None:
    for statement in SCHEMA_V12:
        conn.execute(statement)


# Nothing stored says who wrote a session before: those read "unknown".
SCHEMA_V13 = (
    "ALTER TABLE sessions ADD COLUMN user_name TEXT NOT NULL DEFAULT 'unknown'",
    "ALTER TABLE sessions ADD COLUMN machine TEXT NOT NULL DEFAULT 'unknown'",
    """CREATE TABLE users (
        name         TEXT PRIMARY KEY,
        linked_user  TEXT NOT NULL,
        admin        INTEGER NOT NULL DEFAULT 0,
        created_at   REAL NOT NULL,
        token_id     TEXT NOT NULL UNIQUE,
        token_hash   TEXT NOT NULL,
        token_salt   TEXT NOT NULL,
        token_kdf    TEXT NOT NULL
    )""",
)


# IF NOT EXISTS: self-contained, whatever number this upgrade ends up with.
SCHEMA_V14 = (
    """CREATE TABLE IF NOT EXISTS secret_findings (
        session_ref INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        subpath     TEXT NOT NULL,
        seq         INTEGER NOT NULL,
        entry_uuid  TEXT,
        place       TEXT NOT NULL,
        json_path   TEXT NOT NULL,
        rule        TEXT NOT NULL,
        confidence  TEXT NOT NULL,
        value_start INTEGER NOT NULL,
        value_end   INTEGER NOT NULL,
        preview     TEXT NOT NULL,
        PRIMARY KEY (session_ref, subpath, seq, json_path, value_start)
    ) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS secret_scans (
        session_ref INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        subpath     TEXT NOT NULL,
        scanned_seq INTEGER NOT NULL,
        PRIMARY KEY (session_ref, subpath)
    ) WITHOUT ROWID""",
)


# The session columns each tag row copies: a search by one tag reads them from the
# tag's own index entries instead of visiting every tagged session.
TAG_COPIES = ("updated_at", "created_at", "total_cost", "trashed_at")
_COPY_FROM_NEW = ", ".join(f"{column} = new.{column}" for column in TAG_COPIES)
_COPY_CHANGED = " OR ".join(f"old.{column} IS NOT new.{column}" for column in TAG_COPIES)
_COPY_FROM_SESSION = ", ".join(
    f"{column} = (SELECT s.{column} FROM sessions s WHERE s.id = new.session_ref)"
    for column in TAG_COPIES
)

SCHEMA_V16 = (
    "ALTER TABLE tags ADD COLUMN updated_at REAL",
    "ALTER TABLE tags ADD COLUMN created_at REAL",
    "ALTER TABLE tags ADD COLUMN total_cost REAL",
    "ALTER TABLE tags ADD COLUMN trashed_at REAL",
    f"UPDATE tags SET {', '.join(f'{c} = s.{c}' for c in TAG_COPIES)} "
    "FROM sessions s WHERE s.id = tags.session_ref",
    f"""CREATE TRIGGER tags_copy_session AFTER UPDATE OF {", ".join(TAG_COPIES)} ON sessions
        WHEN {_COPY_CHANGED} BEGIN
        UPDATE tags SET {_COPY_FROM_NEW} WHERE session_ref = new.id;
    END""",
    f"""CREATE TRIGGER tags_copy_new AFTER INSERT ON tags BEGIN
        UPDATE tags SET {_COPY_FROM_SESSION}
        WHERE session_ref = new.session_ref AND tag = new.tag;
    END""",
    # trashed_at, always NULL in these partial indexes: named so the planner needs no row.
    "CREATE INDEX tags_feed ON tags (tag, updated_at, session_ref, trashed_at) "
    "WHERE trashed_at IS NULL",
    "CREATE INDEX tags_by_created ON tags (tag, created_at, total_cost, updated_at, "
    "session_ref, trashed_at) WHERE trashed_at IS NULL",
)


def _v13(conn: sqlite3.Connection) -> None:
    for statement in SCHEMA_V13:
        conn.execute(statement)


def _v14(conn: sqlite3.Connection) -> None:
    for statement in SCHEMA_V14:
        conn.execute(statement)


# A column is added only when missing: a store whose version was set back keeps its record.
_REDACTION_COLUMNS = (("redacted_at", "REAL"), ("redacted_rules", "TEXT"))


def _v15(conn: sqlite3.Connection) -> None:
    present = {row[1] for row in conn.execute("PRAGMA table_info(sessions)")}
    for column, kind in _REDACTION_COLUMNS:
        if column not in present:
            conn.execute(f"ALTER TABLE sessions ADD COLUMN {column} {kind}")


# IF NOT EXISTS: self-contained, whatever number this upgrade ends up with.
SCHEMA_SIGN_INS = (
    """CREATE TABLE IF NOT EXISTS sign_ins (
        key_hash   TEXT PRIMARY KEY,
        user_name  TEXT NOT NULL REFERENCES users (name) ON DELETE CASCADE,
        created_at REAL NOT NULL,
        expires_at REAL NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS sign_ins_by_user ON sign_ins (user_name)",
)


def _v16(conn: sqlite3.Connection) -> None:
    for statement in SCHEMA_V16:
        conn.execute(statement)


def _v17(conn: sqlite3.Connection) -> None:
    for statement in SCHEMA_SIGN_INS:
        conn.execute(statement)


# Columns are added only when missing: a store whose version was set back keeps them.
_VISIBILITY_COLUMNS = (
    ("sessions", "shared", "INTEGER NOT NULL DEFAULT 0"),
    ("users", "share_by_default", "INTEGER NOT NULL DEFAULT 0"),
)
AUDIT_LOG = """CREATE TABLE IF NOT EXISTS audit_log (
    id         INTEGER PRIMARY KEY,
    at         REAL NOT NULL,
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,
    session_id TEXT,
    detail     TEXT NOT NULL DEFAULT ''
)"""


def _v18(conn: sqlite3.Connection) -> None:
    for table, column, kind in _VISIBILITY_COLUMNS:
        present = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
        if column not in present:
            conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
    conn.execute(AUDIT_LOG)
    conn.execute("CREATE INDEX IF NOT EXISTS audit_log_at ON audit_log (at)")


def _v19(conn: sqlite3.Connection) -> None:
    """Nothing: the split of run totals that version 19 made is redone after the steps."""


def _v23(conn: sqlite3.Connection) -> None:
    """Nothing: the split of run totals is made after the steps (see RESULTS_SPLIT)."""


# IF NOT EXISTS: self-contained, whatever number this upgrade ends up with.
SYNC_MARKS = """CREATE TABLE IF NOT EXISTS sync_marks (
    server      TEXT NOT NULL,
    session_ref INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    subpath     TEXT NOT NULL,
    acked_seq   INTEGER NOT NULL,
    PRIMARY KEY (server, session_ref, subpath)
) WITHOUT ROWID"""


def _sync_marks(conn: sqlite3.Connection) -> None:
    conn.execute(SYNC_MARKS)


def _usage_rollups(conn: sqlite3.Connection) -> None:
    for statement in usage_rollups():
        conn.execute(statement)


def _coarse_usage_sums(conn: sqlite3.Connection) -> None:
    """The sums per day alone, by model and by project: the triggers made anew to keep
    them too, and only they filled."""
    from claude_sessions.store import rollups  # opening a store needs none of it

    for statement in usage_rollups(rollups.COARSE):
        conn.execute(statement)


def _member_indexes(conn: sqlite3.Connection) -> None:
    for statement in member_listing.INDEXES:
        conn.execute(statement)


def _usage_hours(conn: sqlite3.Connection) -> None:
    for statement in usage_hours():
        conn.execute(statement)


def _filter_indexes(conn: sqlite3.Connection) -> None:
    for statement in filter_indexes.INDEXES:
        conn.execute(statement)


def _lead_indexes(conn: sqlite3.Connection) -> None:
    for statement in (*lead_walk.MODEL_INDEXES, *lead_walk.SQLITE_PROJECT_INDEXES):
        conn.execute(statement)


UPGRADES: tuple[Callable[[sqlite3.Connection], None], ...] = (
    _v1,
    _v2,
    _v3,
    _v4,
    _v5,
    _v6,
    _v7,
    _v8,
    _v9,
    _v10,
    _v11,
    _v12,
    _v13,
    _v14,
    _v15,
    _v16,
    _v17,
    _v18,
    _v19,
    _sync_marks,  # 20
    _usage_rollups,  # 21
    _member_indexes,  # 22
    _v23,
    _usage_hours,  # 24
    _filter_indexes,  # 25
    _lead_indexes,  # 26
    _coarse_usage_sums,  # 27
)
SCHEMA_VERSION = len(UPGRADES)
RECOUNTED = 12  # the version from which figures are counted as today
# The version from which each run's totals are split by request as today's code splits
# them: an older store is folded again after every step (it writes sessions, so the
# usage sums' triggers must exist). When that code changes, this becomes the new version.
RESULTS_SPLIT = 23


class SchemaTooNewError(Exception):
    """The database's schema is newer than this code (the driver names the store)."""


def upgrade(conn: sqlite3.Connection) -> int:
    """Bring the schema up to :data:`SCHEMA_VERSION`; returns the version found.

    Foreign keys are off while upgrading: version 5 rebuilds ``sessions``,
    which must not cascade into the rows that refer to it.
    """
    (found,) = conn.execute("PRAGMA user_version").fetchone()
    if found == SCHEMA_VERSION:
        return int(found)
    conn.execute("PRAGMA foreign_keys = OFF")
    conn.execute("BEGIN IMMEDIATE")
    try:
        (found,) = conn.execute("PRAGMA user_version").fetchone()
        if found > SCHEMA_VERSION:
            raise SchemaTooNewError(
                f"store schema version {found} is newer than this claude-sessions "
                f"understands ({SCHEMA_VERSION}): upgrade claude-sessions"
            )
        for step in UPGRADES[found:]:
            step(conn)
        if 0 < found < RECOUNTED:  # fold every session again, on the finished schema
            from claude_sessions.store.upgrades import recount

            _run(conn, recount(SQLiteDialect()))
        elif 0 < found < RESULTS_SPLIT:
            from claude_sessions.store.upgrades import split_result_runs

            _run(conn, split_result_runs(SQLiteDialect()))
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    finally:
        conn.execute("PRAGMA foreign_keys = ON")
    return int(found)
