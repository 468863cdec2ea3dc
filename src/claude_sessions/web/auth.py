"""Signing in to the web app (``serve --auth``): who is asking, before any route answers.

:class:`SignInGate` lets a request through only when it names a user: a token in an
``Authorization: Bearer`` header, or the cookie the sign-in form sets. The user goes
into the ASGI scope as ``claude_sessions.user`` (see ``web/viewer``). Nobody gets a
redirect to the sign-in form for a page, and 401 for everything else (the API, the
live-update streams, downloads). The sign-in form is a POST with the CSRF token and
an ``Origin`` check; its cookie is HttpOnly, SameSite=Strict, and Secure when the
request came over TLS (as uvicorn reports it, behind a trusted proxy too). Failed
sign-ins are counted per user name and per client address (then 429) and logged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from http.cookies import SimpleCookie
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection, Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from claude_sessions.model.identity import User
from claude_sessions.model.rate_limit import FailedAttempts
from claude_sessions.store import SessionStore
from claude_sessions.store.auth import (
    SIGN_IN_DAYS,
    TokenCheck,
    end_sign_in,
    signed_in_user,
    start_sign_in,
)
from claude_sessions.web.actions import small_form
from claude_sessions.web.api import API_PREFIX, error
from claude_sessions.web.security import CSRF_FIELD, csrf_valid
from claude_sessions.web.templating import Pages

USER_KEY = "claude_sessions.user"
SIGN_IN_COOKIE = "claude_sessions_signin"
SIGN_IN_PATH = "/sign-in"
OPEN_PREFIXES = ("/static/",)
log = logging.getLogger("claude_sessions.web.auth")


def _client(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def _bearer(scope: Scope) -> str | None:
    """The token of an ``Authorization: Bearer`` header, ``""`` for another scheme."""
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            return token.strip() if scheme.lower() == "bearer" else ""
    return None


def _is_api(scope: Scope) -> bool:
    return str(scope.get("path", "")).startswith(API_PREFIX)


def _local_path(target: str | None) -> str:
    """``target`` when it is a path of this site, else ``/`` (no open redirect)."""
    # Browsers drop tabs and line breaks from an address: "/\t/x" would become "//x".
    if not target or not target.isprintable() or not target.startswith("/"):
        return "/"
    if target.startswith(("//", "/\\")):  # another host, to a browser
        return "/"
    return target


def _cookie(scope: Scope, value: str, max_age: int) -> str:
    cookie: SimpleCookie = SimpleCookie()
    cookie[SIGN_IN_COOKIE] = value
    morsel = cookie[SIGN_IN_COOKIE]
    morsel["path"] = "/"
    morsel["httponly"] = True
    morsel["samesite"] = "Strict"
    morsel["max-age"] = max_age
    if scope.get("scheme") in ("https", "wss"):
        morsel["secure"] = True
    return morsel.OutputString()


class Authority:
    """What the gate and the sign-in form share: the store's users and the failure counts."""

    def __init__(self, store: SessionStore, attempts: FailedAttempts | None = None) -> None:
        self.store = store
        self.tokens = TokenCheck(store)
        self.attempts = attempts or FailedAttempts()

    def failed(self, name: str, address: str, how: str) -> None:
        """Count and log a failed sign-in (never what was tried as the secret)."""
        keys = (f"address:{address}",) + ((f"name:{name}",) if name else ())
        self.attempts.record(*keys)
        who = f" for user {name!r}" if name else ""
        log.warning("failed sign-in (%s)%s from %s", how, who, address)

    def who(self, scope: Scope) -> tuple[User | None, bool]:
        """The user a request names, and whether it sent a bearer token that failed.
        The laptops' API takes only the token: no cookie a browser sends by itself."""
        token = _bearer(scope)
        if token is not None:
            user = self.tokens.user(token) if token else None
            return user, user is None
        if _is_api(scope):
            return None, False
        key = HTTPConnection(scope).cookies.get(SIGN_IN_COOKIE)  # a websocket's too
        return (signed_in_user(self.store, key) if key else None), False


class SignInGate:
    """ASGI middleware: only a signed-in user reaches a route (the sign-in form and the
    static files excepted); ``is_page(scope)`` tells a page (redirected) from the rest."""

    def __init__(
        self, app: ASGIApp, *, authority: Authority, is_page: Callable[[Scope], bool]
    ) -> None:
        self.app = app
        self.authority = authority
        self.is_page = is_page

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        is_open = path == SIGN_IN_PATH or path.startswith(OPEN_PREFIXES)
        if scope["type"] not in ("http", "websocket") or is_open:
            await self.app(scope, receive, send)
            return
        address = _client(scope)
        wait = self.authority.attempts.retry_after(f"address:{address}")
        if wait is not None and _bearer(scope) is not None:
            await self._refuse(scope, receive, send, lambda: _too_many(wait))
            return
        user, failed = await run_in_threadpool(self.authority.who, scope)
        if failed:
            self.authority.failed("", address, "bearer token")
        if user is None:
            await self._refuse(scope, receive, send, lambda: self._nobody(scope))
            return
        scope[USER_KEY] = user
        await self.app(scope, receive, send)

    def _nobody(self, scope: Scope) -> Response:
        if _is_api(scope):
            refused = error(401, "a valid token in an Authorization: Bearer header is needed")
            refused.headers["WWW-Authenticate"] = 'Bearer realm="claude-sessions"'
            return refused
        if scope["method"] == "GET" and self.is_page(scope) and _bearer(scope) is None:
            url = Request(scope).url
            target = url.path + (f"?{url.query}" if url.query else "")
            return RedirectResponse(f"{SIGN_IN_PATH}?{urlencode({'next': target})}", 303)
        return PlainTextResponse(
            "Sign in first: a token in an Authorization: Bearer header, or the sign-in form.",
            401,
            headers={"WWW-Authenticate": 'Bearer realm="claude-sessions"'},
        )

    async def _refuse(
        self, scope: Scope, receive: Receive, send: Send, response: Callable[[], Response]
    ) -> None:
        if scope["type"] == "websocket":  # policy violation: no HTTP answer to give
            await send({"type": "websocket.close", "code": 1008})
            return
        answer = response()
        answer.headers["Cache-Control"] = "no-store"
        await answer(scope, receive, send)


def _too_many(wait: int) -> Response:
    return PlainTextResponse(
        f"Too many failed sign-ins: try again in {wait} seconds.",
        429,
        headers={"Retry-After": str(wait)},
    )


def sign_in_routes(authority: Authority, pages: Pages, secret: bytes) -> list[BaseRoute]:
    """The sign-in form, what it posts to, and signing out."""
    form = SignInForm(authority, pages, secret)
    return [
        Route(SIGN_IN_PATH, form.show, methods=["GET"], name="sign_in"),
        Route(SIGN_IN_PATH, form.submit, methods=["POST"]),
        Route("/sign-out", form.sign_out, methods=["POST"], name="sign_out"),
    ]


class SignInForm:
    def __init__(self, authority: Authority, pages: Pages, secret: bytes) -> None:
        self.authority = authority
        self.pages = pages
        self.secret = secret

    def _form(
        self, request: Request, target: str, status: int = 200, message: str = "", name: str = ""
    ) -> Response:
        return self.pages.response(
            request, "sign_in.html", status, target=target, message=message, tried=name
        )

    async def show(self, request: Request) -> Response:
        return self._form(request, _local_path(request.query_params.get("next")))

    async def submit(self, request: Request) -> Response:
        form = await small_form(request)
        target = _local_path(form.get("next"))
        if not csrf_valid(self.secret, request, form.get(CSRF_FIELD)):
            return self._form(request, target, 403, "The form expired: sign in again.")
        name, token = form.get("name", ""), form.get("token", "")
        address = _client(request.scope)
        attempts = self.authority.attempts
        wait = attempts.retry_after(f"name:{name}", f"address:{address}")
        if wait is not None:
            message = f"Too many failed sign-ins: wait {wait} seconds."
            response = self._form(request, target, 429, message, name)
            response.headers["Retry-After"] = str(wait)
            return response
        key = await run_in_threadpool(self._sign_in, name, token)
        if key is None:
            self.authority.failed(name, address, "sign-in form")
            return self._form(request, target, 401, "Wrong user name or token.", name)
        response = RedirectResponse(target, 303)
        response.headers.append("set-cookie", _cookie(request.scope, key, SIGN_IN_DAYS * 86400))
        return response

    def _sign_in(self, name: str, token: str) -> str | None:
        user = self.authority.tokens.user(token) if name and token else None
        if user is None or user.name != name:
            return None
        return start_sign_in(self.authority.store, user)

    async def sign_out(self, request: Request) -> Response:
        form = await small_form(request)
        if not csrf_valid(self.secret, request, form.get(CSRF_FIELD)):
            return PlainTextResponse("The form expired: reload the page.", 403)
        key = request.cookies.get(SIGN_IN_COOKIE)
        if key:
            await run_in_threadpool(end_sign_in, self.authority.store, key)
        response = RedirectResponse(SIGN_IN_PATH, 303)
        response.headers.append("set-cookie", _cookie(request.scope, "", 0))
        return response
