"""``serve --auth --workers 2`` as a real process on a real PostgreSQL server: a write
through one worker reaches the live-update streams every worker holds (LISTEN/NOTIFY:
the streams would otherwise read the store only every half minute), a form one worker
hands out may be posted to another, and failed sign-ins are limited in each worker."""

from __future__ import annotations

import contextlib
import http.client
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from claude_sessions import SessionStore

from .auth_server import Server, add_user, cookie_header, form_token, sign_in, start
from .web_samples import populate

pytestmark = pytest.mark.postgres
WORKERS = 2
STREAMS = 6
MAX_STREAMS = 60
# Well under the streams' own reads, WATCHED_POLL_SECONDS apart: a change all of them
# see this soon was told, not polled.
SEEN_WITHIN = 6.0


@pytest.fixture
def team(postgres_database: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    monkeypatch.setenv("CLAUDE_SESSIONS_USER", "alice")
    with SessionStore(postgres_database, cleanup_after_days=None) as store:
        ids = populate(store, hostile=False)
    monkeypatch.delenv("CLAUDE_SESSIONS_USER")
    tokens = {
        "alice": add_user(postgres_database, "alice"),
        "root": add_user(postgres_database, "root", "--admin"),
    }
    server = start(postgres_database, "--auth", "--workers", str(WORKERS))
    try:
        yield {"server": server, "ids": ids, "tokens": tokens}
    finally:
        server.stop()


class Stream:
    """One live-update stream, read in a thread: when each ``changed`` event came."""

    def __init__(self, server: Server, path: str, token: str) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
        self.connection.request("GET", path, headers={"Authorization": f"Bearer {token}"})
        self.socket = self.connection.sock
        self.response = self.connection.getresponse()
        assert self.response.status == 200, path
        self.opened = threading.Event()
        self.changes: list[float] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        with contextlib.suppress(OSError, AttributeError, ValueError):  # closed by the test
            self._lines()

    def _lines(self) -> None:
        for raw in self.response:
            line = raw.decode()
            if line.startswith("retry:"):
                self.opened.set()
            if line.startswith("event: changed"):
                self.changes.append(time.monotonic())

    def close(self) -> None:
        # Shut down first: the reading thread holds the response's buffer until it returns.
        with contextlib.suppress(OSError):
            self.socket.shutdown(socket.SHUT_RDWR)
        self.connection.close()


def _workers(server: Server) -> list[int]:
    """The worker processes: the server process's children that multiprocessing
    spawned to run one (not its resource tracker)."""
    pid = server.process.pid
    children = [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    return [c for c in children if b"spawn_main" in Path(f"/proc/{c}/cmdline").read_bytes()]


def _established(port: int) -> set[int]:
    """The socket inodes of connections accepted on ``port`` (from /proc/net/tcp)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local_port = int(fields[1].rsplit(":", 1)[1], 16)
            if local_port == port and fields[3] == "01":
                inodes.add(int(fields[9]))
    return inodes


def _holds_a_stream(worker: int, inodes: set[int]) -> bool:
    held = set()
    for fd in Path(f"/proc/{worker}/fd").iterdir():
        target = os.readlink(fd)
        if target.startswith("socket:["):
            held.add(int(target[8:-1]))
    return bool(held & inodes)


def _tag_through_a_worker(server: Server, token: str, session_id: str) -> None:
    """Tag a session as a browser would: the form token from one request, the post in
    another (each may land on either worker)."""
    headers = {"Authorization": f"Bearer {token}"}
    nonce, csrf = form_token(server, headers)
    answer = server.request(
        "POST",
        f"/s/{session_id}/tags",
        {**headers, "Cookie": cookie_header(nonce)},
        {"tags": "told", "csrf_token": csrf},
    )
    assert answer.status == 303, (answer.status, answer.body)


def test_a_write_through_one_worker_reaches_every_workers_streams(team: dict[str, Any]) -> None:
    server, root = team["server"], team["tokens"]["root"]
    session_id = team["ids"]["auth"]
    from claude_sessions.web.live import WATCHED_POLL_SECONDS  # the polling this outpaces

    assert WATCHED_POLL_SECONDS > 2 * SEEN_WITHIN
    paths = ["/events", f"/s/{session_id}/events"]
    deadline = time.monotonic() + 60
    while len(workers := _workers(server)) < WORKERS and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(workers) == WORKERS
    streams: list[Stream] = []
    try:
        # Which worker accepts a connection is the kernel's choice: open streams
        # until each worker holds some.
        while len(streams) < MAX_STREAMS:
            streams += [Stream(server, paths[n % 2], root) for n in range(STREAMS)]
            assert all(stream.opened.wait(30) for stream in streams)
            inodes = _established(server.port)
            if all(_holds_a_stream(worker, inodes) for worker in workers):
                break
        assert all(_holds_a_stream(worker, inodes) for worker in workers)
        assert not any(stream.changes for stream in streams)
        wrote = time.monotonic()
        _tag_through_a_worker(server, root, session_id)
        deadline = wrote + SEEN_WITHIN
        while time.monotonic() < deadline and not all(s.changes for s in streams):
            time.sleep(0.05)
        late = [n for n, stream in enumerate(streams) if not stream.changes]
        assert not late, f"streams {late} of {STREAMS} saw no change within {SEEN_WITHIN}s"
    finally:
        for stream in streams:
            stream.close()


def test_a_form_from_one_worker_posts_to_another(team: dict[str, Any]) -> None:
    server, alice = team["server"], team["tokens"]["alice"]
    # Each sign-in's form comes from one connection and its post goes over another:
    # with two workers, some land on different ones.
    for _ in range(8):
        answer = sign_in(server, "alice", alice)
        assert answer.status == 303, (answer.status, answer.body[:300])


def test_failed_sign_ins_are_limited_in_each_worker(team: dict[str, Any]) -> None:
    server = team["server"]
    limit = 5  # FailedAttempts' default, per worker
    statuses = [
        server.request("GET", "/api", {"Authorization": "Bearer wrong-token"}).status
        for _ in range(40)
    ]
    refused = statuses.count(401)
    assert set(statuses) <= {401, 429}
    assert limit <= refused <= WORKERS * limit, statuses
