"""``create_app``: the routes, the guard in front of them, and what errors become."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from claude_sessions.model.exceptions import (
    AmbiguousSessionIdError,
    InvalidInputError,
    NotAllowedError,
    SessionNotFoundError,
    StoreConnectionError,
)
from claude_sessions.store import SessionStore
from claude_sessions.views.redacted import redacting
from claude_sessions.web.actions import Actions
from claude_sessions.web.api import DEFAULT_INGEST_LIMIT, api_routes
from claude_sessions.web.auth import Authority, SignInGate, sign_in_routes
from claude_sessions.web.live import Live
from claude_sessions.web.pages import Site, session_version
from claude_sessions.web.security import Guard, add_security_headers, check_token
from claude_sessions.web.templating import Pages
from claude_sessions.web.viewer import store_for

# The routes a browser opens as pages (nobody signed in is sent to the sign-in form);
# the rest answer nobody 401.
PAGE_NAMES = ("sessions", "usage", "session", "lineage", "audit")


def create_app(
    store: SessionStore,
    *,
    read_only: bool = False,
    token: str | None = None,
    redact: bool = False,
    auth: Authority | None = None,
    secret: bytes | None = None,
    ingest_limit: int = DEFAULT_INGEST_LIMIT,
) -> Starlette:
    """The web app over ``store``, as an ASGI application.

    ``read_only=True`` (or a store opened read-only) leaves out every route
    that changes a session. ``token``: every request must carry it (once as
    ``?token=``, then in a cookie); give one whenever the app is reachable
    from other machines (``make_server`` refuses to bind beyond loopback
    without). A token shorter than 16 characters, the empty one included,
    raises :class:`InvalidInputError`. Requests must name the server in
    their ``Host`` header (see :mod:`claude_sessions.web.security`). The
    store is used from worker threads and stays open: closing it is the
    caller's business. ``app.state.live.close()`` ends the live-update
    streams (the server calls it when shutting down). ``redact``: every page,
    answer and download shows each secret found as ``[REDACTED:rule]``.
    ``auth`` (``Authority(store)``): every route but the sign-in form answers
    only a signed-in user (see :mod:`claude_sessions.web.auth`); then the app
    may be bound beyond loopback. ``secret``: the key of the forms' CSRF tokens (random
    unless given): server processes behind one address share it, since a form one
    hands out may be posted to another. ``ingest_limit``: the largest batch (bytes) the
    laptops' API takes (see :mod:`claude_sessions.web.api`).
    """
    check_token(token)
    live = Live()
    live.watch(store)
    api = api_routes(store, ingest_limit, redact=redact)
    store = redacting(store, redact)
    read_only = read_only or store.read_only
    secret = secret or secrets.token_bytes(32)
    pages = Pages(read_only=read_only, secret=secret, location=store.location)
    page_routes = _page_routes(Site(store, pages))
    routes = page_routes + _live_routes(store, live) + api
    if not read_only:
        routes += _action_routes(Actions(store, secret))
    middleware = [Middleware(Guard, token=token, any_host=auth is not None)]
    if auth is not None:
        routes += sign_in_routes(auth, pages, secret)
        pages_opened = [r for r in page_routes if getattr(r, "name", None) in PAGE_NAMES]
        middleware.append(Middleware(SignInGate, authority=auth, is_page=_matcher(pages_opened)))
    app = Starlette(
        routes=routes, middleware=middleware, exception_handlers=ErrorPages(pages).handlers()
    )
    app.state.live = live
    app.state.auth = auth is not None
    return app


def _matcher(routes: list[BaseRoute]) -> Callable[[Scope], bool]:
    """Whether a request is for one of ``routes``."""

    def matches(scope: Scope) -> bool:
        return any(route.matches(scope)[0] is Match.FULL for route in routes)

    return matches


def _page_routes(site: Site) -> list[BaseRoute]:
    return [
        Route("/", site.sessions, name="sessions"),
        Route("/usage", site.usage, name="usage"),
        Route("/audit", site.audit, name="audit"),
        Route("/s/{session_id}", site.session, name="session"),
        Route("/s/{session_id}/turns", site.turns),
        Route("/s/{session_id}/facts", site.facts),
        Route("/s/{session_id}/lineage", site.lineage, name="lineage"),
        Route("/s/{session_id}/download/{fmt}", site.download),
        Mount("/static", StaticFiles(packages=[("claude_sessions.web", "static")]), name="static"),
    ]


def _live_routes(store: SessionStore, live: Live) -> list[BaseRoute]:
    """The live-update streams: of the whole store, and of one session."""

    async def list_events(request: Request) -> Response:
        return live.response(request, store.version)

    async def session_events(request: Request) -> Response:
        session_id = request.path_params["session_id"]

        seen = store_for(request, store)

        def read() -> str:
            metadata = seen.get_metadata(session_id)
            return "gone" if metadata is None else session_version(metadata)

        return live.response(request, read)

    return [Route("/events", list_events), Route("/s/{session_id}/events", session_events)]


def _action_routes(actions: Actions) -> list[BaseRoute]:
    """What changes a session: each a POST behind the CSRF check."""
    return [
        Route("/s/{session_id}/tags", actions.protected(actions.add_tags), methods=["POST"]),
        Route(
            "/s/{session_id}/tags/remove", actions.protected(actions.remove_tag), methods=["POST"]
        ),
        Route("/s/{session_id}/description", actions.protected(actions.describe), methods=["POST"]),
        Route("/s/{session_id}/share", actions.protected(actions.share), methods=["POST"]),
    ]


class ErrorPages:
    """What an error becomes: a page saying it, with the status it deserves."""

    def __init__(self, pages: Pages) -> None:
        self.pages = pages

    def handlers(self) -> dict[Any, Callable[[Request, Exception], Awaitable[Response]]]:
        return {
            SessionNotFoundError: self.not_found,
            AmbiguousSessionIdError: self.not_found,
            InvalidInputError: self.bad_request,
            NotAllowedError: self.forbidden,
            StoreConnectionError: self.unavailable,
            HTTPException: self.http_error,
            Exception: self.server_error,
        }

    def page(self, request: Request, status: int, title: str, message: str) -> Response:
        response = self.pages.response(
            request, "error.html", status, status=status, title=title, message=message
        )
        add_security_headers(response.headers)  # a 500 is sent outside the guard
        return response

    async def not_found(self, request: Request, exc: Exception) -> Response:
        return self.page(request, 404, "Not found", str(exc) or "No such session.")

    async def bad_request(self, request: Request, exc: Exception) -> Response:
        return self.page(request, 400, "Bad request", str(exc))

    async def forbidden(self, request: Request, exc: Exception) -> Response:
        return self.page(request, 403, "Not allowed", str(exc))

    async def unavailable(self, request: Request, exc: Exception) -> Response:
        return self.page(request, 503, "The store is unavailable", str(exc))

    async def http_error(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        titles = {404: "Not found", 405: "Method not allowed"}
        title = titles.get(exc.status_code, "Error")
        message = "There is no such page." if exc.status_code == 404 else str(exc.detail)
        return self.page(request, exc.status_code, title, message)

    async def server_error(self, request: Request, exc: Exception) -> Response:
        # Starlette raises the error on after this response, and the server logs it.
        return self.page(request, 500, "Something went wrong", "The error has been logged.")
