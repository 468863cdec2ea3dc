"""A bulk import keeps the SQLite write-ahead log within its bound: the writer cuts the log
between two transactions once it passes the bound, however fast the writes come, and the
store it leaves is whole."""

from __future__ import annotations

import itertools
import os
import random
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from claude_sessions import SessionStore
from claude_sessions.importer import import_transcripts, importing, reading, worker
from claude_sessions.store.sqlite import driver
from claude_sessions.store.sqlite.driver import SQLiteDriver

from .transcript_samples import conversation, project_dir, sid, write

BOUND = 2 * 1024 * 1024
SESSIONS = 160
PROMPTS = 6


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


def corpus(root: Path) -> int:
    """Sessions whose prompts are long enough that the import writes several times the
    bound (text that does not compress), each far smaller than it; the number of
    prompts written."""
    projects = project_dir(root)
    for n in range(SESSIONS):
        prompts = [f"prompt {n}.{p} " + random.randbytes(3000).hex() for p in range(PROMPTS)]
        write(projects / f"{sid(n + 1)}.jsonl", conversation(sid(n + 1), prompts))
    return SESSIONS * PROMPTS


def test_a_bulk_import_cuts_the_log_past_its_bound(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    prompts = corpus(tmp_path / "claude")
    monkeypatch.setattr(importing, "LARGE_IMPORT_BYTES", 1)  # this import is a bulk one
    # Each file in a transaction of its own: many, each far smaller than the bound.
    monkeypatch.setattr(worker, "read_in_worker", reading.read_jobs)
    monkeypatch.setattr(reading, "BATCH_BYTES", 1)
    monkeypatch.setattr(driver, "LOG_BOUND_BYTES", BOUND, raising=False)
    # The background checkpoints never get a turn: the writer writes without pause.
    monkeypatch.setattr(driver, "CHECKPOINT_INTERVAL", 3600.0)
    log_sizes: list[int] = []
    transact = SQLiteDriver.transact

    def observed(self: SQLiteDriver, txn: Any) -> Any:
        value = transact(self, txn)
        if txn.write:
            wal = Path(f"{self.path}-wal")
            log_sizes.append(wal.stat().st_size if wal.exists() else 0)
        return value

    monkeypatch.setattr(SQLiteDriver, "transact", observed)
    with SessionStore(tmp_path / "store", cleanup_after_days=None) as store:
        report = import_transcripts(store, [tmp_path / "claude"])
        location = store.location
        listed = store.list_sessions(limit=1000)
        texts = [m.text for s in listed for m in store.load_session(s.session_id).messages]

    assert report.sessions_new == SESSIONS
    assert os.path.getsize(location) > 4 * BOUND  # what went through the log
    grown = [after - before for before, after in itertools.pairwise([0, *log_sizes])]
    largest_transaction = max(grown)
    assert max(log_sizes) <= BOUND + largest_transaction, (BOUND, largest_transaction, log_sizes)
    cuts = sum(after < before for before, after in itertools.pairwise(log_sizes))
    assert cuts >= 4
    with sqlite3.connect(location) as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    assert len(listed) == SESSIONS
    assert sum(text.startswith("prompt ") for text in texts) == prompts
