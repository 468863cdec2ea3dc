"""Live pages: Server-Sent Events that say when what a page shows has changed.

A stream polls a cheap store read (the store's change version, or one
session's metadata) about once a second in a worker thread (the store
blocks) and sends ``changed`` when the value moves; the page's script then
fetches the fragment that changed. The value rides along as the event id,
so a reconnecting browser (``Last-Event-ID``) misses nothing.

A stream ends when the browser leaves (Starlette cancels it on disconnect)
or when :meth:`Live.close` is called: the server calls it as it begins to
shut down, since it would otherwise wait for these endless responses.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable

import anyio
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import StreamingResponse

from claude_sessions.model.exceptions import StoreError

logger = logging.getLogger(__name__)

POLL_SECONDS = 1.0
KEEPALIVE_SECONDS = 15.0
RETRY_MS = 1000


class Live:
    """The app's live streams and the switch that ends them all."""

    def __init__(self, poll_seconds: float = POLL_SECONDS) -> None:
        self.poll_seconds = poll_seconds
        self.closed = False

    def close(self) -> None:
        """End every stream at its next poll (and refuse new ones)."""
        self.closed = True

    def response(self, request: Request, read: Callable[[], str]) -> StreamingResponse:
        since = request.headers.get("last-event-id") or request.query_params.get("since")
        return StreamingResponse(
            self._events(read, since),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    async def _events(self, read: Callable[[], str], since: str | None) -> AsyncIterator[str]:
        yield f"retry: {RETRY_MS}\n\n"
        last = since if since else await run_in_threadpool(read)
        quiet_since = time.monotonic()
        while not self.closed:
            await anyio.sleep(self.poll_seconds)
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
