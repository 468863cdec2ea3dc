"""Live pages: Server-Sent Events that say when what a page shows has changed.

A stream reads a cheap store value (the store's change version, or one
session's metadata) in a worker thread (the store blocks) and sends
``changed`` when the value moves; the page's script then fetches the
fragment that changed. On SQLite it reads about once a second. On
PostgreSQL it reads when the store says a write committed (LISTEN/NOTIFY,
see :meth:`Live.watch`), from whichever server process (``serve
--workers``) or machine wrote, and otherwise only every 15 seconds, in
case a notice was lost. The value rides along as the event id,
so a reconnecting browser (``Last-Event-ID``) misses nothing.

A stream ends when the browser leaves (Starlette cancels it on disconnect)
or when :meth:`Live.close` is called: the server calls it as it begins to
shut down, since it would otherwise wait for these endless responses.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable

import anyio
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import StreamingResponse

from claude_sessions.model.exceptions import StoreError
from claude_sessions.store import SessionStore

logger = logging.getLogger(__name__)

POLL_SECONDS = 1.0
KEEPALIVE_SECONDS = 15.0
# When the store tells of every write, a read this often only covers a lost notice
# (and sends the keepalive).
WATCHED_POLL_SECONDS = KEEPALIVE_SECONDS
RETRY_MS = 1000


class Live:
    """The app's live streams and the switch that ends them all."""

    def __init__(self, poll_seconds: float = POLL_SECONDS) -> None:
        self.poll_seconds = poll_seconds
        self.closed = False
        self._waiting: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()
        self._lock = threading.Lock()
        self._stop_watching: Callable[[], None] | None = None

    def watch(self, store: SessionStore, poll_seconds: float = WATCHED_POLL_SECONDS) -> None:
        """Wake the streams when ``store`` tells of a write, and poll only every
        ``poll_seconds``; a store that cannot tell (SQLite) keeps the polling."""
        self._stop_watching = store.watch_changes(self.wake)
        if self._stop_watching is not None:
            self.poll_seconds = poll_seconds

    def wake(self) -> None:
        """Every stream reads its value now (callable from any thread)."""
        with self._lock:
            waiting = list(self._waiting)
        for loop, event in waiting:
            loop.call_soon_threadsafe(event.set)

    def close(self) -> None:
        """End every stream at its next poll (and refuse new ones)."""
        self.closed = True
        self.wake()
        if self._stop_watching is not None:
            self._stop_watching()
            self._stop_watching = None

    def response(self, request: Request, read: Callable[[], str]) -> StreamingResponse:
        since = request.headers.get("last-event-id") or request.query_params.get("since")
        return StreamingResponse(
            self._events(read, since),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    async def _events(self, read: Callable[[], str], since: str | None) -> AsyncIterator[str]:
        woken = asyncio.Event()
        waiter = (asyncio.get_running_loop(), woken)
        with self._lock:
            self._waiting.add(waiter)
        try:
            async for event in self._changes(read, since, woken):
                yield event
        finally:
            with self._lock:
                self._waiting.discard(waiter)

    async def _changes(
        self, read: Callable[[], str], since: str | None, woken: asyncio.Event
    ) -> AsyncIterator[str]:
        yield f"retry: {RETRY_MS}\n\n"
        last = since if since else await run_in_threadpool(read)
        quiet_since = time.monotonic()
        while not self.closed:
            with anyio.move_on_after(self.poll_seconds):
                await woken.wait()
            woken.clear()
            if self.closed:
                break
            try:
                current = await run_in_threadpool(read)
            except StoreError as error:  # a database hiccup: try again at the next poll
                logger.warning("live update check failed: %s", error)
                continue
            if current != last:
                last = current
                quiet_since = time.monotonic()
                yield f"id: {current}\nevent: changed\ndata: {current}\n\n"
            elif time.monotonic() - quiet_since > KEEPALIVE_SECONDS:
                quiet_since = time.monotonic()
                yield ": still here\n\n"
