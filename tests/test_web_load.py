"""The real server under bursts of requests and live-update streams, with few file
descriptors to spare (``ulimit -n 256``, macOS's default): it keeps serving, and the
store's connections do not pile up as worker threads come and go."""

from __future__ import annotations

import os
import resource
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from claude_sessions import SessionStore

from .web_samples import populate
from .web_server import EventStream, serve_process

FILE_LIMIT = 256
STREAMS, REQUESTS, BURSTS = 60, 40, 3
IDLE_THREADS_GONE = 25.0  # seconds: the server's idle worker threads end after 10 s
WORKER_THREADS = 40  # at most, at once (the server's thread pool: anyio's default limit)


def _low_file_limit() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (FILE_LIMIT, FILE_LIMIT))


def _store_descriptors(pid: int, database: Path) -> dict[str, int]:
    """How many descriptors the server holds on each of the store's files."""
    count: dict[str, int] = {}
    for name in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{name}")
        except OSError:  # closed meanwhile
            continue
        if target.startswith(str(database)):
            suffix = target[len(str(database)) :] or "database"
            count[suffix] = count.get(suffix, 0) + 1
    return count


def _threads(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/task"))


def _get(url: str) -> int:
    with urllib.request.urlopen(url, timeout=30) as response:
        response.read()
        return int(response.status)


def test_the_server_keeps_serving_through_bursts_with_few_descriptors(tmp_path: Path) -> None:
    location = tmp_path / "store"
    with SessionStore(location, cleanup_after_days=None) as store:
        populate(store)
    with serve_process(location, preexec_fn=_low_file_limit) as (child, url):
        port = int(url.rsplit(":", 1)[1].rstrip("/"))
        assert _get(url) == 200
        resting_threads = _threads(child.pid)
        database = location / "sessions.db"
        for _ in range(BURSTS):
            streams = [EventStream(port, "/events") for _ in range(STREAMS)]
            with ThreadPoolExecutor(REQUESTS) as pool:
                statuses = list(pool.map(_get, [url] * REQUESTS))
            assert statuses == [200] * REQUESTS
            for stream in streams:
                assert stream.response.status == 200
                stream.close()
            # Idle worker threads end when the next request comes after their 10 s.
            deadline = time.monotonic() + IDLE_THREADS_GONE
            while _threads(child.pid) > resting_threads + 2 and time.monotonic() < deadline:
                assert _get(url) == 200
                time.sleep(0.5)
            assert _threads(child.pid) <= resting_threads + 2, "worker threads did not end"
            held = _store_descriptors(child.pid, database)
            # Only the threads still alive hold a connection, and with it the log open.
            assert held["-wal"] <= _threads(child.pid), held
            # SQLite keeps a closed connection's database descriptor for the next
            # connection to reuse: at most one per worker thread that ever ran at once.
            assert held["database"] <= WORKER_THREADS + 2, held
        assert _get(url) == 200
        assert child.poll() is None
