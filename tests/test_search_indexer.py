"""The catch-up indexer of tool calls and subagents as real processes (SQLite): the one
``import`` starts in the background, one at a time, resumed after a kill."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from claude_sessions import SessionStore
from claude_sessions.store.search_index import not_indexed

from .fixture_words import FIXTURES, only_in, words_by_place

DEADLINE = 120.0  # seconds: generous, the machine is shared


def _cli(*args: str, store: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CLAUDE_SESSIONS_STORE": str(store)}
    env["CLAUDE_SESSIONS_CLEANUP_DAYS"] = "never"
    return subprocess.run(
        [sys.executable, "-m", "claude_sessions", *args],
        capture_output=True,
        text=True,
        timeout=DEADLINE,
        env=env,
        check=False,
    )


@pytest.fixture
def config(tmp_path: Path) -> Path:
    root = tmp_path / "config"
    shutil.copytree(FIXTURES / "projects", root / "projects")
    return root


def _pending(store: Path) -> int:
    with SessionStore(store, read_only=True, cleanup_after_days=None) as opened:
        return not_indexed(opened)


def _wait_until_indexed(store: Path) -> None:
    deadline = time.monotonic() + DEADLINE
    while _pending(store):
        assert time.monotonic() < deadline, "the background indexer did not finish"
        time.sleep(0.1)  # a poll with a deadline: the indexer is another process


def _searched(store: Path, *args: str) -> set[str]:
    done = _cli("search", *args, "--json", store=store)
    assert done.returncode == 0, done.stderr
    return {item["session_id"] for item in json.loads(done.stdout)}


def test_import_indexes_tool_text_in_the_background(config, tmp_path):
    store = tmp_path / "store"
    found = words_by_place()
    word = only_in(found, "tool", set())
    done = _cli("import", str(config / "projects"), store=store)
    assert done.returncode == 0, done.stderr
    assert "indexed for search in the background" in done.stdout
    _wait_until_indexed(store)
    assert _searched(store, word) == found[word]["tool"]
    assert _searched(store, word, "--in", "tool") == found[word]["tool"]
    assert _searched(store, word, "--in", "prompt", "--in", "reply") == set()


def test_import_index_now_indexes_before_it_returns(config, tmp_path):
    store = tmp_path / "store"
    done = _cli("import", "--index-now", str(config / "projects"), store=store)
    assert done.returncode == 0, done.stderr
    assert _pending(store) == 0


@pytest.fixture
def lock_held(tmp_path: Path) -> Iterator[Path]:
    """The store's indexer lock held by another process, as a running indexer holds it."""
    store = tmp_path / "store"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, os, sys\n"
            f"fd = os.open({str(store / 'sessions.search.lock')!r}, os.O_CREAT | os.O_RDWR)\n"
            "fcntl.flock(fd, fcntl.LOCK_EX)\n"
            "print('held', flush=True)\n"
            "sys.stdin.readline()\n",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    store.mkdir(exist_ok=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        yield store
    finally:
        holder.kill()
        holder.wait()


def test_a_second_indexer_exits_at_once_and_search_says_what_is_missing(config, lock_held):
    store = lock_held
    done = _cli("import", str(config / "projects"), store=store)
    assert done.returncode == 0, done.stderr
    pending = _pending(store)
    assert pending > 0  # the background indexer met the lock and left
    started = time.monotonic()
    done = _cli("index", store=store)
    assert done.returncode == 0 and "Another process is indexing" in done.stdout
    assert time.monotonic() - started < DEADLINE / 2
    assert _pending(store) == pending
    found = words_by_place()
    word = only_in(found, "tool", set())
    searched = _cli("search", word, store=store)
    assert searched.returncode == 0
    assert f"tool text of {pending} sessions not indexed yet" in searched.stderr


_KILLED_MIDWAY = """
import sys
from pathlib import Path
from claude_sessions.store.sqlite import side_indexer

side_indexer._FLUSH_CHUNKS = 1  # a transaction per chunk: a kill lands between them

def stop(done, total):
    if 0 < done < total:
        print("midway", flush=True)
        sys.stdin.readline()  # killed here

side_indexer.catch_up(Path(sys.argv[1]), progress=stop)
"""


def test_a_killed_indexer_leaves_what_it_did_and_the_next_one_finishes(config, tmp_path):
    store = tmp_path / "store"
    done = _cli("import", "--index-now", str(config / "projects"), store=store)
    assert done.returncode == 0, done.stderr
    side = store / "sessions.search.db"
    complete = _rows(side)
    for path in store.glob("sessions.search.*"):
        path.unlink()
    indexer = subprocess.Popen(
        [sys.executable, "-c", _KILLED_MIDWAY, str(store / "sessions.db")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert indexer.stdout is not None and indexer.stdout.readline() == "midway\n"
    indexer.send_signal(signal.SIGKILL)
    indexer.wait()
    partial = _rows(side)
    assert 0 < partial["marks"] < complete["marks"]
    assert _pending(store) > 0
    done = _cli("index", store=store)
    assert done.returncode == 0, done.stderr
    assert _pending(store) == 0
    assert _rows(side) == complete  # nothing indexed twice, nothing missed


def _rows(side: Path) -> dict[str, int]:
    with sqlite3.connect(side) as conn:
        return {
            table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("marks", "chunks")
        }
