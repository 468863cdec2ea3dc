"""Putting a store back as the version before ``summaries`` left it, on either database,
to test its upgrade (no tests here)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

Execute = Callable[[str, tuple[Any, ...]], list[tuple[Any, ...]]]


@contextmanager
def before_summaries(location: str) -> Iterator[Execute]:
    """Yield a way to run SQL (``?`` placeholders) on the store at ``location`` with its
    ``summaries`` table gone; on exit the store says it is at the version before
    (SQLite 7, PostgreSQL 3), so the next open upgrades it."""
    if location.startswith("postgresql://"):
        import psycopg

        with psycopg.connect(location, autocommit=False) as conn:
            conn.execute("SET search_path TO claude_sessions")
            conn.execute("DROP TABLE summaries")

            def run_pg(sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
                cursor = conn.execute(sql.replace("?", "%s"), params)  # type: ignore[arg-type]
                return cursor.fetchall() if cursor.description else []

            yield run_pg
            conn.execute("UPDATE store_meta SET value = '3' WHERE key = 'schema_version'")
        return
    db = sqlite3.connect(Path(location) / "sessions.db")
    try:
        db.execute("DROP TABLE summaries")

        def run_sqlite(sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
            return db.execute(sql, params).fetchall()

        yield run_sqlite
        db.execute("PRAGMA user_version = 7")
        db.commit()
    finally:
        db.close()
