"""Real processes: concurrent writers, and a writer killed with SIGKILL mid-save."""

from __future__ import annotations

import multiprocessing
import os
import signal
import sqlite3
import sys
import time

import pytest

from claude_sessions import SessionStore

from .store_workers import save_forever, save_many

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

WORKERS = 8
SAVES = 300


@pytest.mark.timeout(120)
def test_concurrent_processes(store_location):
    location = store_location
    SessionStore(location, cleanup_after_days=None).close()  # create the schema once
    context = multiprocessing.get_context("spawn")
    processes = [
        context.Process(target=save_many, args=(location, w, SAVES, 12)) for w in range(WORKERS)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(110)
        assert process.exitcode == 0
    with SessionStore(location, cleanup_after_days=None) as store:
        found = store.list_sessions()
        assert len(found) == WORKERS * SAVES
        assert {m.message_count for m in found} == {12}
        for worker in range(WORKERS):
            assert len(store.list_sessions(tags=f"w{worker}")) == SAVES


@pytest.mark.timeout(120)
def test_writer_killed_mid_save(store_location):
    location = store_location
    watcher = SessionStore(location, cleanup_after_days=None)
    context = multiprocessing.get_context("spawn")
    writer = context.Process(target=save_forever, args=(location, 200))
    writer.start()
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            if len(watcher.list_sessions()) >= 40:
                break
            time.sleep(0.05)
        assert writer.pid is not None
        os.kill(writer.pid, signal.SIGKILL)
    finally:
        writer.join(30)
        watcher.close()
    assert writer.exitcode == -signal.SIGKILL
    if "://" not in location:  # SQLite: the file itself is intact
        conn = sqlite3.connect(f"{location}/sessions.db")
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        conn.close()
    with SessionStore(location, cleanup_after_days=None) as store:
        found = store.list_sessions()
        assert len(found) >= 40
        for meta in found:
            data = store.load_session(meta.session_id)
            assert meta.message_count == len(data.messages)
            assert meta.message_count in (200, 201)
        store.save_session("after", [{"type": "x"}])  # still writable
        assert store.search(text="word3", limit=1)
