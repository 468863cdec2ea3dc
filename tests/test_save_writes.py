"""A save or an append writes its session row once (after making it, for a new one): its
figures, tags and description go in one UPDATE, so on PostgreSQL the usage sums' trigger
runs and a new row version goes into every index once, not three times. On PostgreSQL
the statements whose results a write does not read go out without a wait for each."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest

from claude_sessions import SessionStore
from claude_sessions.store.postgres import driver as postgres_driver

from .store_samples import run

COUNTER_SQLITE = (
    "CREATE TABLE session_updates (n INTEGER)",
    "CREATE TRIGGER count_session_update AFTER UPDATE ON sessions "
    "BEGIN INSERT INTO session_updates VALUES (1); END",
)
COUNTER_POSTGRES = (
    "CREATE TABLE session_updates (n integer)",
    "CREATE FUNCTION count_session_update() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN INSERT INTO session_updates VALUES (1); RETURN NULL; END $$",
    "CREATE TRIGGER count_session_update AFTER UPDATE ON sessions "
    "FOR EACH ROW EXECUTE FUNCTION count_session_update()",
)


def _on_store(location: str, statements: tuple[str, ...]) -> list[Any]:
    """Run ``statements`` on the store's own tables, beside it; the last one's rows."""
    if location.startswith("postgresql://"):
        with psycopg.connect(location, autocommit=True) as conn:
            conn.execute("SET search_path TO claude_sessions")
            cursor = None
            for statement in statements:
                cursor = conn.execute(statement)
            return cursor.fetchall() if cursor is not None and cursor.description else []
    conn = sqlite3.connect(Path(location) / "sessions.db")
    try:
        rows: list[Any] = []
        for statement in statements:
            rows = conn.execute(statement).fetchall()
        conn.commit()
        return rows
    finally:
        conn.close()


def _session_updates(location: str) -> Callable[[], int]:
    """Count every UPDATE of a sessions row from now on; returns the count since last read."""
    postgres = location.startswith("postgresql://")
    _on_store(location, COUNTER_POSTGRES if postgres else COUNTER_SQLITE)

    def read() -> int:
        found = _on_store(location, ("SELECT count(*) FROM session_updates",))[0][0]
        _on_store(location, ("DELETE FROM session_updates",))
        return int(found)

    return read


def _reply(n: int) -> dict[str, Any]:
    return {
        "type": "assistant",
        "uuid": f"reply-{n}",
        "message": {
            "id": f"msg-reply-{n}",
            "model": "claude-sonnet-4-5-20250929",
            "role": "assistant",
            "content": [{"type": "text", "text": f"reply {n}"}],
            "usage": {"input_tokens": 7, "output_tokens": 3},
        },
    }


def test_a_save_and_an_append_write_the_session_row_once(store_location: str) -> None:
    # PostgreSQL's searchable text is a column of the row: its own UPDATE follows.
    text_updates = 1 if store_location.startswith("postgresql://") else 0
    with SessionStore(store_location, cleanup_after_days=None) as store:
        store.save_session("warm", run("warm"))
        updates = _session_updates(store_location)
        store.save_session("s1", run("s1", cost=0.5), tags=["auth", "ui"], description="one")
        assert updates() == 1 + text_updates
        store.append_messages("s1", [_reply(1)])
        assert updates() == 1 + text_updates
        found = store.get_metadata("s1")
        assert found is not None
        assert (found.tags, found.description, found.message_count) == (("auth", "ui"), "one", 4)


@pytest.mark.postgres
def test_a_save_on_postgresql_waits_for_few_results(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Counted in libpq's own trace of the protocol: each Sync the client sends is a
    wait for the server's answers; without a pipeline every statement ends with one."""
    trace = tmp_path / "trace"
    drive = postgres_driver._drive

    def traced(conn: Any, txn: Any) -> Any:
        with trace.open("a") as out:
            conn.pgconn.trace(out.fileno())
            try:
                return drive(conn, txn)
            finally:
                conn.pgconn.untrace()

    with SessionStore(postgres_url, cleanup_after_days=None) as store:
        store.save_session("warm", run("warm"))
        monkeypatch.setattr(postgres_driver, "_drive", traced)
        store.save_session("s1", run("s1", cost=0.5), tags=["auth", "ui"], description="one")
        monkeypatch.undo()
        assert store.get_metadata("s1").tags == ("auth", "ui")  # type: ignore[union-attr]
    lines = trace.read_text().splitlines()
    sent = [line for line in lines if "\tF\t" in f"\t{line}" or line.startswith("F")]
    statements = sum(1 for line in sent if "\tExecute\t" in line or " Execute " in line)
    waits = sum(1 for line in sent if "\tSync" in line or " Sync" in line)
    assert statements >= 15  # a save's statements, each executed
    assert waits <= statements // 2
