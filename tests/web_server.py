"""The real web server (uvicorn) on a free port of 127.0.0.1, in a thread, for tests."""

from __future__ import annotations

import contextlib
import http.client
import os
import queue
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from starlette.applications import Starlette

from claude_sessions.web.server import Server, make_server

from .children import default_sigint


@dataclass
class Running:
    server: Server
    thread: threading.Thread
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self, timeout: float = 10.0) -> float:
        """Ask the server to stop as Ctrl-C does; return how long it took."""
        start = time.monotonic()
        self.server.should_exit = True
        self.thread.join(timeout)
        return time.monotonic() - start


@contextmanager
def running(app: Starlette) -> Iterator[Running]:
    ports: list[int] = []
    server = make_server(app, "127.0.0.1", 0, on_started=ports.append)
    thread = threading.Thread(target=server.run, name="web-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not ports:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the web server did not start")
        time.sleep(0.02)
    found = Running(server, thread, ports[0])
    try:
        yield found
    finally:
        if thread.is_alive():
            found.stop()


class EventStream:
    """A Server-Sent Events connection, its lines read by a thread into a queue so that a
    test can wait for the next event with a deadline."""

    def __init__(self, port: int, path: str, headers: dict[str, str] | None = None) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.connection.request("GET", path, headers=headers or {})
        self.response = self.connection.getresponse()
        self.lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        try:
            while line := self.response.readline():
                self.lines.put(line.decode())
        except (OSError, ValueError, AttributeError, http.client.HTTPException):
            pass  # closed by the test
        self.lines.put(None)

    def next_event(self, timeout: float) -> dict[str, str] | None:
        """The next event's fields, ``None`` when the stream ended, or TimeoutError."""
        deadline = time.monotonic() + timeout
        fields: dict[str, str] = {}
        while True:
            try:
                line = self.lines.get(timeout=max(deadline - time.monotonic(), 0.001))
            except queue.Empty:
                raise TimeoutError("no event in time") from None
            if line is None:
                return None
            text = line.rstrip("\n")
            if not text:
                if "event" in fields:
                    return fields
                fields = {}
                continue
            name, _, value = text.partition(":")
            fields[name] = value.strip()

    def close(self) -> None:
        # The reader thread's file keeps the socket open: shut it down for the server to see.
        if self.connection.sock is not None:
            with contextlib.suppress(OSError):
                self.connection.sock.shutdown(socket.SHUT_RDWR)
        self.connection.close()


@contextmanager
def serve_process(
    location: Path, preexec_fn: Callable[[], None] | None = None
) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """``claude-sessions serve`` on a free port, as a real process: it and the URL it
    printed (``preexec_fn`` runs in the child too, after it answers SIGINT again)."""

    def prepare() -> None:
        default_sigint()
        if preexec_fn is not None:
            preexec_fn()

    child = subprocess.Popen(
        [sys.executable, "-m", "claude_sessions", "serve", "--store", str(location), "--port", "0"],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "CLAUDE_SESSIONS_CLEANUP_DAYS": "never"},
        preexec_fn=prepare,
    )
    try:
        assert child.stderr is not None
        line = child.stderr.readline()
        found = re.match(r"Serving (.+) at (http://127\.0\.0\.1:\d+/)$", line.strip())
        assert found, line
        yield child, found.group(2)
    finally:
        child.kill()
        child.wait()
