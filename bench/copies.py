"""Grow a benchmark store to ``--target`` sessions by copies of its sessions, in SQL.

Saving through the public API costs about 2 ms of CPU a session on SQLite, and on
PostgreSQL 5 ms of the client's plus the server's, on this 2-core machine shared with
other work: 1M sessions take hours. This copies the sessions a store holds (built through the API
by ``bench/store.py``) until it has ``--target``: each copy keeps every row of a session
(entries, tags, API requests, models, full text; PostgreSQL's tool text too) under a
new row id, and a new session id (its first 8 hex digits are that row id's, so a
copy of a copy is new too). The store's triggers are off while copying; the usage sums
(by day and by hour) are then made anew from the sessions by the store's own upgrade
statements, and the planner's statistics refreshed. Dates, costs, tags, text
and every other column are the originals', so each search matches as many more
sessions as the store grew.
SQLite's side index (tool and subagent text) is not copied: it is marked caught up,
so full text in tools at a grown size searches the originals only.

    python bench/copies.py --store /tmp/bench/ours --target 1000000
    python bench/copies.py --store postgresql://.../bench --target 1000000
"""

from __future__ import annotations

import argparse
import sqlite3
import time
from pathlib import Path

import psycopg
import psycopg.sql

from claude_sessions.store.location import parse_postgres
from claude_sessions.store.postgres import schema as postgres_schema
from claude_sessions.store.sqlite import schema as sqlite_schema

# Tables of a session's rows, keyed by ``session_ref`` (aside_text: PostgreSQL only).
SESSION_TABLES = ("entries", "api_requests", "tags", "session_models")


def _blocks(count: int, last: int, target: int) -> list[tuple[int, int]]:
    """(copy number, the highest session id it copies): whole copies, then part of one."""
    blocks, have, copy = [], count, 1
    while have < target:
        size = min(last, target - have)
        blocks.append((copy, size))
        have, copy = have + size, copy + 1
    return blocks


# -- SQLite -------------------------------------------------------------------------------


def _sqlite_columns(db: sqlite3.Connection, table: str) -> list[str]:
    # table_xinfo's hidden: 0 a plain column, 2 and 3 generated ones
    return [row[1] for row in db.execute(f"PRAGMA table_xinfo({table})") if row[6] == 0]


def _sqlite_copy(
    db: sqlite3.Connection, table: str, copy: int, size: int, shift: int, spans: dict[str, int]
) -> None:
    columns = _sqlite_columns(db, table)
    replaced = {
        "id": f"id + {copy * spans.get(table, 0)}",  # a table's own ids: by their own span
        "session_ref": f"session_ref + {shift}",
        "session_id": f"printf('%08x', id + {shift}) || substr(session_id, 9)",
    }
    key = "id" if table == "sessions" else "session_ref"
    values = ", ".join(replaced.get(column, column) for column in columns)
    db.execute(
        f"INSERT INTO {table} ({', '.join(columns)}) "
        f"SELECT {values} FROM {table} WHERE {key} <= {size}"
    )


def grow_sqlite(directory: Path, target: int) -> None:
    db = sqlite3.connect(directory / "sessions.db", isolation_level=None)
    db.execute("PRAGMA synchronous = OFF")
    # Ids run 1..last, nearly without gaps in a built store: a copy of the ids up to N
    # copies about N sessions.
    count, last = db.execute("SELECT count(*), max(id) FROM sessions").fetchone()
    triggers = db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").fetchall()
    for name, _ in triggers:
        db.execute(f"DROP TRIGGER {name}")
    spans = {
        table: db.execute(f"SELECT coalesce(max(id), 0) FROM {table}").fetchone()[0]
        for table in ("sessions", *SESSION_TABLES)
        if "id" in _sqlite_columns(db, table)
    }
    for copy, size in _blocks(count, last, target):
        start = time.perf_counter()
        db.execute("BEGIN")
        for table in ("sessions", *SESSION_TABLES):
            _sqlite_copy(db, table, copy, size, copy * last, spans)
        db.execute(
            "INSERT INTO sessions_fts (rowid, body, meta) "
            f"SELECT rowid + {copy * last}, body, meta FROM sessions_fts WHERE rowid <= {size}"
        )
        db.execute("COMMIT")
        print(f"  copy {copy} ({size} sessions): {time.perf_counter() - start:.1f} s", flush=True)
    start = time.perf_counter()
    db.execute("BEGIN")
    for _, sql in triggers:
        db.execute(sql)
    for statement in [*sqlite_schema.usage_rollups(), *sqlite_schema.usage_hours()]:
        db.execute(statement)
    db.execute("COMMIT")
    db.execute("ANALYZE")
    print(f"  usage sums and statistics: {time.perf_counter() - start:.1f} s", flush=True)
    seen = db.execute("SELECT max(rowid) FROM entries").fetchone()[0]
    db.close()
    side = sqlite3.connect(directory / "sessions.search.db", isolation_level=None)
    side.execute("UPDATE state SET value = ? WHERE key = 'seen'", (seen,))
    side.close()


# -- PostgreSQL ---------------------------------------------------------------------------


def _pg_columns(conn: psycopg.Connection, table: str) -> list[str]:
    rows = conn.execute(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_name = %s AND table_schema = current_schema() "
        "AND is_generated = 'NEVER' ORDER BY ordinal_position",
        [table],
    ).fetchall()
    return [row[0] for row in rows]


def _pg_copy(conn: psycopg.Connection, table: str, copy: int, size: int, shift: int) -> None:
    columns = _pg_columns(conn, table)
    replaced = {
        "id": f"id + {shift}",
        "session_ref": f"session_ref + {shift}",
        "session_id": f"lpad(to_hex(id + {shift}), 8, '0') || substr(session_id, 9)",
    }
    key = "id" if table == "sessions" else "session_ref"
    values = ", ".join(replaced.get(column, column) for column in columns)
    conn.execute(
        f"INSERT INTO {table} ({', '.join(columns)}) OVERRIDING SYSTEM VALUE "
        f"SELECT {values} FROM {table} WHERE {key} <= {size}"
    )


def _pg_connect(url: str, *, autocommit: bool = False) -> psycopg.Connection:
    location = parse_postgres(url)
    conn = psycopg.connect(location.conninfo, password=location.password, autocommit=autocommit)
    conn.execute(
        psycopg.sql.SQL("SET search_path = {}").format(psycopg.sql.Identifier(location.schema))
    )
    return conn


def grow_postgres(url: str, target: int) -> None:
    with _pg_connect(url) as conn:
        conn.execute("SET session_replication_role = replica")  # no triggers while copying
        row = conn.execute("SELECT count(*), max(id) FROM sessions").fetchone()
        assert row is not None and row[1] is not None, "an empty store"
        count, last = int(row[0]), int(row[1])  # ids 1..last, nearly without gaps
        aside_row = conn.execute("SELECT coalesce(max(id), 0) FROM aside_text").fetchone()
        aside_last = int(aside_row[0]) if aside_row else 0
        for copy, size in _blocks(count, last, target):
            start = time.perf_counter()
            for table in ("sessions", *SESSION_TABLES):
                _pg_copy(conn, table, copy, size, copy * last)
            columns = [c for c in _pg_columns(conn, "aside_text") if c not in ("id", "session_ref")]
            conn.execute(  # its own id: shifted by its own span
                f"INSERT INTO aside_text (id, session_ref, {', '.join(columns)}) "
                f"OVERRIDING SYSTEM VALUE SELECT id + {copy * aside_last}, "
                f"session_ref + {copy * last}, {', '.join(columns)} "
                f"FROM aside_text WHERE session_ref <= {size}"
            )
            conn.commit()
            print(
                f"  copy {copy} ({size} sessions): {time.perf_counter() - start:.1f} s", flush=True
            )
        for table in ("sessions", "aside_text"):
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
        start = time.perf_counter()
        for statement in (*postgres_schema.USAGE_ROLLUPS, *postgres_schema.USAGE_HOURS):
            conn.execute(statement)
        conn.commit()
        print(f"  usage sums made anew: {time.perf_counter() - start:.1f} s", flush=True)
    with _pg_connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", required=True, help="a directory or a PostgreSQL URL")
    parser.add_argument("--target", type=int, required=True, help="sessions in the end")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    if args.store.startswith(("postgresql:", "postgres:")):
        grow_postgres(args.store, args.target)
    else:
        grow_sqlite(Path(args.store), args.target)
    print(f"grown to {args.target} sessions in {time.perf_counter() - start:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
