"""Ctrl-C and SIGTERM stop every command within a second, mid-statement or waiting for a
lock, with exit 130 or 143, and leave the store as it was before the interrupted write."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from claude_sessions import SessionStore
from claude_sessions.store.plan import Stmt, Txn

from .children import default_sigint
from .store_samples import run
from .transcript_samples import conversation, project_dir, sid, write

STOPS_WITHIN = 2.0  # seconds; the goal is 1 s, the margin is for a loaded machine
# A statement that runs for minutes unless stopped: one SQLite step after another.
ENDLESS = (
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000000000) "
    "SELECT count(*) AS c FROM n"
)
EXIT_CODES = {signal.SIGINT: 130, signal.SIGTERM: 143}


def _endless() -> Iterator[Stmt]:
    yield Stmt(ENDLESS, fetch="one")


def _endless_plan(*, write: bool) -> Iterator[Txn[object]]:
    yield Txn(_endless, write=write)


def _signal_soon(signum: int, after: float) -> threading.Timer:
    timer = threading.Timer(after, os.kill, (os.getpid(), signum))
    timer.start()
    return timer


@pytest.mark.parametrize("write", [False, True], ids=["read", "write"])
def test_ctrl_c_stops_a_long_statement(tmp_path: Path, write: bool) -> None:
    with SessionStore(tmp_path / "s", cleanup_after_days=None) as store:
        store.save_session("s-1", run("s-1"))
        timer = _signal_soon(signal.SIGINT, 0.3)
        started = time.monotonic()
        with pytest.raises(KeyboardInterrupt):
            store.run(_endless_plan(write=write))
        timer.join()
        assert time.monotonic() - started < 0.3 + STOPS_WITHIN
        assert [meta.session_id for meta in store.list_sessions()] == ["s-1"]  # still usable


# -- commands, as real processes ----------------------------------------------------------


def command(*args: str, **kwargs: object) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "claude_sessions", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "CLAUDE_SESSIONS_CLEANUP_DAYS": "never"},
        preexec_fn=default_sigint,
        **kwargs,  # type: ignore[arg-type]
    )


def wait_for(
    condition: Callable[[], bool], what: str, timeout: float = 30.0, every: float = 0.02
) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(every)


def opened(pid: int, path: Path) -> bool:
    """Whether process ``pid`` holds ``path`` open."""
    try:
        names = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return False
    for name in names:
        try:
            if os.readlink(f"/proc/{pid}/fd/{name}") == str(path):
                return True
        except OSError:
            continue
    return False


def stop(child: subprocess.Popen[str], signum: int) -> tuple[float, str]:
    """Send ``signum``; return how long the child took to exit, and its stderr."""
    started = time.monotonic()
    child.send_signal(signum)
    try:
        child.wait(timeout=30)  # not communicate(): closing stdin would end an MCP server
        took = time.monotonic() - started
    finally:
        child.kill()
    _, stderr = child.communicate()
    assert child.returncode == EXIT_CODES[signum], stderr
    assert "Traceback" not in stderr
    return took, stderr


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_write_waiting_for_the_lock_stops_at_once(tmp_path: Path, signum: int) -> None:
    location = tmp_path / "store"
    with SessionStore(location, cleanup_after_days=None) as store:
        store.save_session("s-1", run("s-1"))
    database = location / "sessions.db"
    holder = sqlite3.connect(database, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer, taking its time
    try:
        child = command("tag", "s-1", "+waiting", "--store", str(location))
        wait_for(lambda: opened(child.pid, Path(f"{database}-wal")), "the store to open")
        time.sleep(0.3)  # well into its wait for the lock (it would wait 30 s)
        took, _ = stop(child, signum)
        assert took < STOPS_WITHIN, took
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    with SessionStore(location, cleanup_after_days=None) as store:
        assert store.get_metadata("s-1").tags == ()


def _big_tree(root: Path, sessions: int) -> int:
    """Transcripts enough for an import of a few seconds; returns how many lines."""
    lines = 0
    for n in range(sessions):
        entries = conversation(sid(n), [f"prompt {i} of session {n} " * 20 for i in range(40)])
        write(project_dir(root) / f"{sid(n)}.jsonl", entries)
        lines += len(entries)
    return lines


def test_an_import_stopped_midway_leaves_a_store_the_next_import_completes(
    tmp_path: Path,
) -> None:
    root = tmp_path / "claude"
    lines = _big_tree(root, 400)
    location = tmp_path / "store"
    SessionStore(location, cleanup_after_days=None).close()
    database = location / "sessions.db"

    def some_sessions_landed() -> bool:
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as conn:
            return conn.execute("SELECT count(*) FROM sessions").fetchone()[0] > 0

    child = command("import", str(root / "projects"), "--store", str(location))
    wait_for(some_sessions_landed, "the import to store its first sessions")
    took, _ = stop(child, signal.SIGTERM)
    assert took < STOPS_WITHIN, took
    with sqlite3.connect(database) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        stored = conn.execute("SELECT count(*) FROM entries").fetchone()[0]
    assert 0 < stored < lines  # it was stopped mid-way
    again = command("import", str(root / "projects"), "--store", str(location))
    _, stderr = again.communicate(timeout=300)
    assert again.returncode == 0, stderr
    with sqlite3.connect(database) as conn:
        assert conn.execute("SELECT count(*) FROM entries").fetchone()[0] == lines
        assert conn.execute("SELECT count(*) FROM sessions").fetchone()[0] == 400


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_servers_stop_with_the_signals_exit_code(tmp_path: Path, signum: int) -> None:
    location = tmp_path / "store"
    with SessionStore(location, cleanup_after_days=None) as store:
        store.save_session("s-1", run("s-1"))
    web = command("serve", "--store", str(location), "--port", "0")
    assert web.stderr is not None
    assert re.match(r"Serving .* at http://127\.0\.0\.1:\d+/", web.stderr.readline())
    took, _ = stop(web, signum)
    assert took < STOPS_WITHIN, took
    mcp = command("mcp", "--store", str(location), stdin=subprocess.PIPE)
    wait_for(lambda: opened(mcp.pid, location / "sessions.db"), "the MCP server to start")
    took, _ = stop(mcp, signum)
    assert took < STOPS_WITHIN, took


@pytest.mark.parametrize("server", ["serve", "mcp"])
def test_a_signal_at_any_moment_of_start_up_ends_a_server_cleanly(tmp_path: Path, server: str):
    """Sent while the event loop is still being made, too: the exit code says which signal
    (not a death by SIGINT), nothing is printed, nothing hangs."""
    location = tmp_path / "store"
    SessionStore(location, cleanup_after_days=None).close()
    arguments = ["--port", "0"] if server == "serve" else []
    for attempt in range(20):
        signum = (signal.SIGINT, signal.SIGTERM)[attempt % 2]
        child = command(server, "--store", str(location), *arguments, stdin=subprocess.PIPE)
        database, pid = location / "sessions.db", child.pid
        wait_for(lambda: opened(pid, database), "the store", every=0.002)  # noqa: B023 - at once
        time.sleep(0.0005 * attempt)  # a little further into its start-up each time
        took, stderr = stop(child, signum)
        assert took < STOPS_WITHIN, (attempt, took)
        assert "Exception" not in stderr and "Warning" not in stderr, stderr
