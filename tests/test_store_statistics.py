"""SQLite's query statistics: kept up to date, without analyzing the store at every close."""

from __future__ import annotations

import sqlite3

from claude_sessions import SessionStore

from .store_samples import run

# The shape of the store's lookup of ids by prefix (SessionStore.unique_prefixes).
PREFIX_LOOKUP = (
    "SELECT DISTINCT session_id FROM sessions WHERE session_id >= 'a' AND session_id < 'b' "
    "AND trashed_at IS NULL ORDER BY session_id LIMIT 2"
)


def test_a_store_whose_trash_is_empty_is_analyzed_once(tmp_path):
    """Nothing trashed leaves the trash's index empty, and ANALYZE writes no row for an
    empty index; SQLite then took the table for never analyzed, and every command
    analyzed the sessions table again as it closed."""
    with SessionStore(tmp_path / "s", cleanup_after_days=None) as store:
        for n in range(3):
            store.save_session(f"a-{n}", run(f"a-{n}"))
        store.unique_prefixes([f"a-{n}" for n in range(3)])

    conn = sqlite3.connect(tmp_path / "s" / "sessions.db", isolation_level=None)
    try:
        stats = dict(conn.execute("SELECT idx, stat FROM sqlite_stat1 WHERE tbl = 'sessions'"))
        assert stats["sessions_by_key"].split()[0] == "3"  # analyzed: three live sessions
        assert stats["sessions_in_trash"].split()[0] == "0"  # known to be empty
        conn.execute(PREFIX_LOOKUP).fetchall()
        assert conn.execute("PRAGMA optimize(-1)").fetchall() == []  # nothing left to analyze
    finally:
        conn.close()
