"""Running the app under uvicorn, with a shutdown that does not wait on live streams."""

from __future__ import annotations

import signal
import socket
from collections.abc import Callable, Generator
from contextlib import contextmanager
from typing import Any

import uvicorn
from starlette.applications import Starlette

from claude_sessions.web.security import check_exposure

# Once the live streams are told to end, every response finishes within a poll;
# past this, uvicorn cancels what is left rather than hang.
GRACEFUL_SECONDS = 5
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Server(uvicorn.Server):
    """A uvicorn server that ends the app's live streams as it begins to shut down,
    and reports the port it listens on once it does (``port=0`` picks a free one)."""

    def __init__(
        self, config: uvicorn.Config, app: Starlette, on_started: Callable[[int], None] | None
    ) -> None:
        super().__init__(config)
        self.web_app = app
        self.on_started = on_started

    def run(self, sockets: list[socket.socket] | None = None) -> None:
        """Serve until stopped. Ctrl-C and SIGTERM wait (blocked) while the event loop
        starts, until uvicorn's handlers take them: a signal must not land inside the
        loop's own start-up."""
        self._mask = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
        try:
            super().run(sockets)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, self._mask)

    @contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        with super().capture_signals():
            signal.pthread_sigmask(signal.SIG_SETMASK, self._mask)  # uvicorn's from now on
            yield

    @property
    def port(self) -> int:
        """The port listened on (after startup)."""
        sockets = self.servers[0].sockets if self.servers else []
        return int(sockets[0].getsockname()[1]) if sockets else self.config.port

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started and self.on_started is not None:
            self.on_started(self.port)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self.web_app.state.live.close()
        await super().shutdown(sockets)


def make_server(
    app: Starlette,
    host: str = "127.0.0.1",
    port: int = 8765,
    *,
    on_started: Callable[[int], None] | None = None,
    log_level: str = "warning",
    forwarded_allow_ips: str | None = None,
) -> Server:
    """A server for ``app`` (from :func:`~claude_sessions.web.create_app`); ``run()`` it.
    Beyond loopback the app must require signing in (``auth``), or
    :class:`InvalidInputError`. ``forwarded_allow_ips``: the proxies (addresses, or
    ``*``) whose ``X-Forwarded-For`` and ``X-Forwarded-Proto`` are believed, so that
    a request that reached the proxy over TLS gets a Secure sign-in cookie."""
    check_exposure(host, auth=getattr(app.state, "auth", False))
    config = uvicorn.Config(
        app, host=host, port=port, log_level=log_level, **served_as(forwarded_allow_ips)
    )
    return Server(config, app, on_started)


def served_as(forwarded_allow_ips: str | None) -> dict[str, Any]:
    """How every server of the app runs, one process or several: no access log, no
    lifespan, no server header, a bounded graceful stop, and no proxy trusted to say
    who the client is unless named (``forwarded_allow_ips``)."""
    return {
        "access_log": False,
        "lifespan": "off",
        "proxy_headers": forwarded_allow_ips is not None,
        "forwarded_allow_ips": forwarded_allow_ips,
        "server_header": False,
        "timeout_graceful_shutdown": GRACEFUL_SECONDS,
    }
