"""``serve --workers N``: the web app in N uvicorn worker processes.

uvicorn starts each worker as a fresh process that imports the app by name, so
the options travel in an environment variable (:data:`OPTIONS_VARIABLE`), and
:func:`app_from_environment` builds the app in each worker: its own store
connections, its own sign-in checks. What the workers share lives in the store:
sign-ins, and on PostgreSQL the news of every write (LISTEN/NOTIFY, which wakes
each worker's live-update streams). The failed-sign-in counts stay in each
worker (see the README's Team server section). The variable holds the forms' key
(and a ``--token``): like the rest of a process's environment, only its own user
and root can read it.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from starlette.applications import Starlette

from claude_sessions.store import SessionStore
from claude_sessions.store.visibility import environment_viewer, seen_by

OPTIONS_VARIABLE = "CLAUDE_SESSIONS_SERVE_OPTIONS"
FACTORY = "claude_sessions.cli.serve_workers:app_from_environment"


@dataclass(frozen=True)
class AppOptions:
    """What each worker needs to build the same app as the others."""

    store_location: str | None
    read_only: bool
    token: str | None
    redact: bool
    auth: bool
    ingest_limit: int = 8 * 1024 * 1024  # the largest batch the laptops' API takes
    # The forms' CSRF key (hex), the same in every worker: a form one worker hands
    # out is often posted to another.
    secret: str = field(default_factory=lambda: secrets.token_hex(32))


def open_app_store(location: str | None, read_only: bool) -> SessionStore:
    """The store ``serve`` opens: read-only, or without the automatic cleanup (reading
    never moves a session), as ``$CLAUDE_SESSIONS_USER`` sees it."""
    if read_only:
        return SessionStore(location, read_only=True)
    store = SessionStore(location, cleanup_after_days=None, trash_days=None)
    return seen_by(store, environment_viewer(store))


def build_app(store: SessionStore, options: AppOptions) -> Starlette:
    from claude_sessions.web import create_app
    from claude_sessions.web.auth import Authority

    authority = Authority(store) if options.auth else None
    return create_app(
        store,
        read_only=options.read_only,
        token=options.token,
        redact=options.redact,
        auth=authority,
        secret=bytes.fromhex(options.secret),
        ingest_limit=options.ingest_limit,
    )


def app_from_environment() -> Starlette:
    """The app of one worker process, from the options its parent left in the
    environment (uvicorn's ``factory``)."""
    options = AppOptions(**json.loads(os.environ[OPTIONS_VARIABLE]))
    return build_app(open_app_store(options.store_location, options.read_only), options)


def run_workers(
    options: AppOptions,
    host: str,
    port: int,
    workers: int,
    forwarded_allow_ips: str | None,
    on_listening: Callable[[int], None],
) -> None:
    """Listen on ``host:port`` here and serve from ``workers`` processes until
    Ctrl-C or SIGTERM; ``on_listening(port)`` once the socket is bound (requests
    wait in its queue while the workers start)."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    from claude_sessions.web.server import served_as

    # Inherited by the worker processes, which read it as they start.
    os.environ[OPTIONS_VARIABLE] = json.dumps(asdict(options))
    config = uvicorn.Config(
        FACTORY,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        **served_as(forwarded_allow_ips),
    )
    socket = config.bind_socket()
    # Listening already, so that connections wait in the queue while the workers start.
    socket.listen(config.backlog)
    on_listening(int(socket.getsockname()[1]))
    Multiprocess(config, sockets=[socket]).run()
