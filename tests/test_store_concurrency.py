"""Races between real processes: recording one new session, opening one new store,
importing the same transcripts, and an import killed mid-way. Both databases."""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
import time
from pathlib import Path

import pytest

from claude_sessions import SessionStore
from claude_sessions.importer import import_transcripts

from .store_workers import import_forever, import_once, open_fresh, record_same_session
from .transcript_samples import conversation, project_dir, sid, write

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX processes")

SPAWN = multiprocessing.get_context("spawn")


def _run_all(processes: list[multiprocessing.process.BaseProcess], timeout: float = 90) -> None:
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout)
        assert process.exitcode == 0


@pytest.mark.timeout(240)
@pytest.mark.parametrize("workers", [2, 8])
def test_concurrent_runs_of_one_new_session_all_land(store_location, workers):
    SessionStore(store_location, cleanup_after_days=None).close()
    trials = 12 if workers == 2 else 4
    for trial in range(trials):
        session_id = f"race-{workers}-{trial}"
        barrier = SPAWN.Barrier(workers)
        _run_all(
            [
                SPAWN.Process(
                    target=record_same_session, args=(store_location, session_id, w, barrier)
                )
                for w in range(workers)
            ]
        )
        with SessionStore(store_location, cleanup_after_days=None) as store:
            data = store.load_session(session_id)
            assert sorted(m.uuid for m in data.messages) == sorted(
                f"{session_id}-w{w}" for w in range(workers)
            )
            assert data.metadata.tags == tuple(sorted(f"w{w}" for w in range(workers)))


@pytest.mark.timeout(240)
def test_many_processes_open_a_fresh_store_at_once(store_location, tmp_path):
    for trial in range(8):
        if "://" in store_location:
            location = f"{store_location}?schema=fresh{trial}"
        else:
            location = str(tmp_path / f"fresh{trial}")
        barrier = SPAWN.Barrier(6)
        _run_all([SPAWN.Process(target=open_fresh, args=(location, barrier)) for _ in range(6)])


def _transcripts(root: Path, sessions: int, prompts: int) -> int:
    """Sessions whose entries include ones without a uuid (queue operations); returns lines."""
    lines = 0
    for n in range(sessions):
        entries = conversation(sid(n), [f"prompt {n}-{i} " * 20 for i in range(prompts)])
        write(project_dir(root) / f"{sid(n)}.jsonl", entries)
        lines += len(entries)
    return lines


def _assert_whole(store: SessionStore, root: Path, sessions: int) -> None:
    for n in range(sessions):
        data = store.load_session(sid(n))
        lines = (project_dir(root) / f"{sid(n)}.jsonl").read_text().splitlines()
        assert len(data.messages) == len([line for line in lines if line.strip()])
        assert data.metadata.tags == ("imported",)


def _readers_of(importer: int) -> list[str]:
    """The import reading processes (importer.worker) the importer ``importer`` started:
    only its own, since other imports may run on the same machine."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            command = (proc / "cmdline").read_bytes()
            parent = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if b"importer.worker import _serve" in command and parent == importer:
            found.append(proc.name)
    return found


def _alive(pids: list[str]) -> list[str]:
    return [pid for pid in pids if Path(f"/proc/{pid}").exists()]


@pytest.mark.timeout(240)
@pytest.mark.parametrize("reader", ["here", "worker"])
def test_an_import_killed_mid_way_resumes_without_duplicates(store_location, tmp_path, reader):
    root = tmp_path / "claude"
    _transcripts(root, sessions=30, prompts=40)
    SessionStore(store_location, cleanup_after_days=None).close()
    worker = SPAWN.Process(target=import_forever, args=(store_location, str(root), reader))
    worker.start()
    try:
        deadline = time.monotonic() + 60
        with SessionStore(store_location, cleanup_after_days=None) as watcher:
            # The importer dies while it stores (here) or while its reader reads.
            assert worker.pid is not None
            while time.monotonic() < deadline and not (
                _readers_of(worker.pid) if reader == "worker" else len(watcher.list_sessions()) >= 8
            ):
                time.sleep(0.005)
        reading = _readers_of(worker.pid)
        os.kill(worker.pid, signal.SIGKILL)
    finally:
        worker.join(30)
    assert worker.exitcode == -signal.SIGKILL
    assert bool(reading) == (reader == "worker")
    deadline = time.monotonic() + 10  # a reading process dies with its importer
    while _alive(reading) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _alive(reading) == []
    with SessionStore(store_location, cleanup_after_days=None) as store:
        report = import_transcripts(store, [root])
        assert report.errors == []
        _assert_whole(store, root, 30)
        again = import_transcripts(store, [root])
        assert again.files_unchanged == 30 and again.lines_read == 0


@pytest.mark.timeout(240)
@pytest.mark.parametrize("reader", ["here", "worker"])
def test_two_imports_at_once_duplicate_nothing(store_location, tmp_path, reader):
    root = tmp_path / "claude"
    _transcripts(root, sessions=20, prompts=20)
    SessionStore(store_location, cleanup_after_days=None).close()
    barrier = SPAWN.Barrier(2)
    _run_all(
        [
            SPAWN.Process(target=import_once, args=(store_location, str(root), barrier, reader))
            for _ in "ab"
        ]
    )
    with SessionStore(store_location, cleanup_after_days=None) as store:
        _assert_whole(store, root, 20)


def _open_logs(database: Path) -> int:
    """This process's descriptors on the store's write-ahead log (one per connection)."""
    found = 0
    for name in os.listdir("/proc/self/fd"):
        try:
            found += os.readlink(f"/proc/self/fd/{name}") == f"{database}-wal"
        except OSError:
            continue
    return found


def test_a_threads_connection_closes_when_the_thread_ends(tmp_path: Path) -> None:
    """A server's worker threads come and go: their connections must go with them."""
    with SessionStore(tmp_path / "store", cleanup_after_days=None) as store:
        database = tmp_path / "store" / "sessions.db"
        store.save_session("s-1", conversation("s-1", ["hello"]))
        baseline = _open_logs(database)
        for _ in range(100):
            worker = threading.Thread(target=store.list_sessions)
            worker.start()
            worker.join()
        assert _open_logs(database) == baseline == 1
        assert [meta.session_id for meta in store.list_sessions()] == ["s-1"]
    assert _open_logs(database) == 0
