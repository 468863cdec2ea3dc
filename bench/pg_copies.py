"""Grow a PostgreSQL benchmark store by copies of its sessions, inside the server.

Saving through the public API costs PostgreSQL about 10 ms of CPU a session on this
2-core machine (client and server), so 1M sessions would take hours. This copies the
sessions a store holds (built through the API by ``bench/store.py``) ``--copies``
times over in SQL: each copy keeps every row (entries, tags, API requests, models,
tool text) under a new session id (its first 8 hex digits are the copy's number) and
a new row id. The store's triggers are off while copying; the usage sums are then made
anew from the sessions by the store's own upgrade statements (``rollups.fill``).
Dates, costs, tags, text and every other column are the originals', so a copy of N
sessions has N times each value: each search matches N times as many sessions.

    python bench/pg_copies.py --url postgresql://.../bench --copies 10
"""

from __future__ import annotations

import argparse
import time

import psycopg
import psycopg.sql

from claude_sessions.store import rollups
from claude_sessions.store.location import parse_postgres
from claude_sessions.store.postgres.schema import ROLLUPS

# Tables of a session's rows, each keyed by ``session_ref``; aside_text has an id too.
SESSION_TABLES = ("entries", "aside_text", "api_requests", "tags", "session_models")


def _columns(conn: psycopg.Connection, table: str) -> list[str]:
    rows = conn.execute(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_name = %s AND table_schema = current_schema() "
        "AND is_generated = 'NEVER' ORDER BY ordinal_position",
        [table],
    ).fetchall()
    return [row[0] for row in rows]


def _copy_sql(conn: psycopg.Connection, table: str, replaced: dict[str, str]) -> str:
    columns = _columns(conn, table)
    values = [replaced.get(column, column) for column in columns]
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) OVERRIDING SYSTEM VALUE "
        f"SELECT {', '.join(values)} FROM {table} WHERE session_ref <= %(last)s"
        if table != "sessions"
        else f"INSERT INTO sessions ({', '.join(columns)}) OVERRIDING SYSTEM VALUE "
        f"SELECT {', '.join(values)} FROM sessions WHERE id <= %(last)s"
    )


def grow(url: str, copies: int) -> None:
    location = parse_postgres(url)
    with psycopg.connect(location.conninfo, password=location.password) as conn:
        conn.execute(
            psycopg.sql.SQL("SET search_path = {}").format(psycopg.sql.Identifier(location.schema))
        )
        conn.execute("SET session_replication_role = replica")  # no triggers while copying
        last = conn.execute("SELECT max(id) FROM sessions").fetchone()
        assert last is not None and last[0] is not None, "an empty store"
        last_id = int(last[0])
        own_id = {"session_id": "lpad(to_hex(%(copy)s), 8, '0') || substr(session_id, 9)"}
        shifted = {"session_ref": "session_ref + %(shift)s", "id": "id + %(shift)s"}
        statements = {"sessions": _copy_sql(conn, "sessions", {**own_id, "id": shifted["id"]})}
        for table in SESSION_TABLES:
            statements[table] = _copy_sql(conn, table, shifted)
        aside_last = conn.execute("SELECT coalesce(max(id), 0) FROM aside_text").fetchone()
        aside_shift = int(aside_last[0]) if aside_last else 0
        for copy in range(1, copies):
            start = time.perf_counter()
            for table, sql in statements.items():
                params = {"last": last_id, "copy": copy, "shift": copy * last_id}
                if table == "aside_text":  # its own id: shift it by its own span
                    sql = sql.replace("id + %(shift)s,", f"id + {copy * aside_shift},", 1)
                conn.execute(sql.replace("%(copy)s", str(copy)), params)
            conn.commit()
            print(f"  copy {copy}: {time.perf_counter() - start:.1f} s", flush=True)
        for table in ("sessions", "aside_text"):
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
        start = time.perf_counter()
        for statement in rollups.fill(ROLLUPS):
            conn.execute(statement)
        conn.commit()
        print(f"  usage sums made anew: {time.perf_counter() - start:.1f} s", flush=True)
        conn.execute("SET session_replication_role = origin")
    with psycopg.connect(location.conninfo, password=location.password, autocommit=True) as conn:
        conn.execute(
            psycopg.sql.SQL("SET search_path = {}").format(psycopg.sql.Identifier(location.schema))
        )
        conn.execute("VACUUM ANALYZE")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--copies", type=int, required=True, help="the store's size times this")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    grow(args.url, args.copies)
    print(f"grown {args.copies}x in {time.perf_counter() - start:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
