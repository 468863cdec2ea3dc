"""Putting a store back as an older version left it, on either database, to test its
upgrade (no tests here)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

Execute = Callable[[str, tuple[Any, ...]], list[tuple[Any, ...]]]
Undo = Callable[[Callable[..., Any], bool], None]  # (run SQL, on PostgreSQL?)


def set_back(location: str, *, sqlite: int, postgres: int, undo: Undo) -> None:
    """Run ``undo`` on the store at ``location``, then mark the store as being at the
    older version (``sqlite`` or ``postgres``) so the next open upgrades it."""
    if location.startswith("postgresql://"):
        import psycopg

        with psycopg.connect(location, autocommit=True) as conn:
            conn.execute("SET search_path TO claude_sessions")
            undo(conn.execute, True)
            conn.execute(
                "UPDATE store_meta SET value = %s WHERE key = 'schema_version'", (str(postgres),)
            )
        return
    conn = sqlite3.connect(Path(location) / "sessions.db")
    try:
        undo(conn.execute, False)
        conn.execute(f"PRAGMA user_version = {sqlite}")
        conn.commit()
    finally:
        conn.close()


_REQUEST_FIGURE_COLUMNS = (
    "cache_write_5m_tokens",
    "cache_write_1h_tokens",
    "cache_read_tokens",
    "requests",
    "models_apart",
    "from_result",  # SQLite 12, PostgreSQL 8
)


def undo_identities(run: Callable[[str], Any]) -> None:
    """Take out what the schema version keeping users and each session's user and
    machine added (SQLite 13, PostgreSQL 9), on either database, and the later sign-ins
    that refer to users (SQLite 16, PostgreSQL 12)."""
    run("DROP TABLE sign_ins")
    run("DROP TABLE users")
    run("ALTER TABLE sessions DROP COLUMN user_name")
    run("ALTER TABLE sessions DROP COLUMN machine")


def undo_request_figures(run: Callable[[str], Any], *, postgres: bool) -> None:
    """Take out what the schema version keeping API requests added (SQLite 11,
    PostgreSQL 7) and the one marking figures from the CLI's results (SQLite 12,
    PostgreSQL 8): its tables, the sessions' cache columns, and the usage indexes
    covering them (put back as they were); and every version after them."""
    from claude_sessions.store.postgres import schema as postgres_schema
    from claude_sessions.store.sqlite import schema as sqlite_schema

    undo_usage_rollups(run, postgres=postgres)
    undo_member_indexes(run)
    undo_identities(run)
    undo_tag_copies(run, postgres=postgres)
    run("DROP TABLE api_requests")
    run("DROP TABLE session_models")
    if postgres:
        run("DROP INDEX sessions_usage")
        indexes = [s for s in postgres_schema.SCHEMA_V2 if "INDEX sessions_usage" in s]
    else:
        for name in ("day", "model", "project", "tags"):
            run(f"DROP INDEX usage_by_{name}")
        indexes = list(sqlite_schema.SCHEMA_V6[1:])
    for column in _REQUEST_FIGURE_COLUMNS:
        run(f"ALTER TABLE sessions DROP COLUMN {column}")
    for statement in indexes:
        run(statement)


def undo_usage_hours(run: Callable[[str], Any], *, postgres: bool) -> None:
    """Take out the sums by hour (SQLite 23, PostgreSQL 20): the table and the triggers
    keeping it (which name the requests' table and the sessions' columns)."""
    run("DROP TABLE IF EXISTS usage_rollup_hours")
    if postgres:
        run("DROP FUNCTION IF EXISTS hours_session_share() CASCADE")
        run("DROP FUNCTION IF EXISTS hours_request_share() CASCADE")
        return
    for table in ("session", "request"):
        for change in ("new", "change", "gone"):
            run(f"DROP TRIGGER IF EXISTS hours_{table}_{change}")


def undo_usage_rollups(run: Callable[[str], Any], *, postgres: bool) -> None:
    """Take out what the schema version keeping usage sums added (SQLite 19, PostgreSQL
    15): the tables and the triggers keeping them (which name the sessions' columns),
    and the later sums by hour."""
    undo_usage_hours(run, postgres=postgres)
    for table in ("days", "models", "tags", "tag_models", *_COARSE_SUMS):
        run(f"DROP TABLE IF EXISTS usage_rollup_{table}")
    if postgres:
        run("DROP FUNCTION IF EXISTS usage_session_share() CASCADE")
        run("DROP FUNCTION IF EXISTS usage_models_share() CASCADE")
        return
    for table in ("session", "models"):
        for change in ("new", "change", "gone"):
            run(f"DROP TRIGGER IF EXISTS usage_{table}_{change}")


_COARSE_SUMS = ("day_totals", "day_models", "day_projects")


def undo_coarse_usage_sums(run: Callable[[str], Any], *, postgres: bool) -> None:
    """Take out the sums per day alone, by model and by project (SQLite 26, PostgreSQL 23)
    and put back the triggers as the step before left them, keeping the other sums."""
    from claude_sessions.store import rollups
    from claude_sessions.store.postgres import schema as postgres_schema
    from claude_sessions.store.sqlite import schema as sqlite_schema

    for table in _COARSE_SUMS:
        run(f"DROP TABLE IF EXISTS usage_rollup_{table}")
    before = tuple(table for table in rollups.TABLES if table not in rollups.COARSE)
    with _tables(rollups, before):  # the triggers as they were: no statement for these
        made = postgres_schema._usage_rollups(()) if postgres else sqlite_schema.usage_rollups(())
    for statement in made:
        if not statement.startswith(("CREATE TABLE", "DELETE FROM")):
            run(statement)


@contextmanager
def _tables(module: Any, tables: tuple[Any, ...]) -> Iterator[None]:
    kept = module.TABLES
    module.TABLES = tables
    try:
        yield
    finally:
        module.TABLES = kept


def undo_member_indexes(run: Callable[[str], Any]) -> None:
    """Take out the indexes of a member's listing (SQLite 20, PostgreSQL 16), which name
    the sessions' user and shared flag."""
    run("DROP INDEX IF EXISTS sessions_of_user")
    run("DROP INDEX IF EXISTS sessions_shared")


def undo_tag_copies(run: Callable[[str], Any], *, postgres: bool) -> None:
    """Take out what the schema version copying sessions' columns into their tag rows
    added (SQLite 16, PostgreSQL 12): the triggers, the tag indexes and the copies;
    and the later usage sums and member indexes."""
    undo_usage_rollups(run, postgres=postgres)
    undo_member_indexes(run)
    run("DROP TRIGGER tags_copy_session" + (" ON sessions" if postgres else ""))
    run("DROP TRIGGER tags_copy_new" + (" ON tags" if postgres else ""))
    if postgres:
        run("DROP FUNCTION tags_copy_session()")
        run("DROP FUNCTION tags_copy_new()")
    run("DROP INDEX tags_feed")
    run("DROP INDEX tags_by_created")
    for column in ("updated_at", "created_at", "total_cost", "trashed_at"):
        run(f"ALTER TABLE tags DROP COLUMN {column}")


@contextmanager
def before_summaries(location: str) -> Iterator[Execute]:
    """Yield a way to run SQL (``?`` placeholders) on the store at ``location`` with its
    ``summaries`` table gone; on exit the store says it is at the version before
    (SQLite 7, PostgreSQL 3), so the next open upgrades it."""
    if location.startswith("postgresql://"):
        import psycopg

        with psycopg.connect(location, autocommit=False) as conn:
            conn.execute("SET search_path TO claude_sessions")
            undo_request_figures(conn.execute, postgres=True)
            conn.execute("DROP TABLE summaries")

            def run_pg(sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
                cursor = conn.execute(sql.replace("?", "%s"), params)  # type: ignore[arg-type]
                return cursor.fetchall() if cursor.description else []

            yield run_pg
            conn.execute("UPDATE store_meta SET value = '3' WHERE key = 'schema_version'")
        return
    db = sqlite3.connect(Path(location) / "sessions.db")
    try:
        undo_request_figures(db.execute, postgres=False)
        db.execute("DROP TABLE summaries")

        def run_sqlite(sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
            return db.execute(sql, params).fetchall()

        yield run_sqlite
        db.execute("PRAGMA user_version = 7")
        db.commit()
    finally:
        db.close()
