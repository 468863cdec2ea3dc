"""What stands between the browser and private transcripts.

- **Host check** (against DNS rebinding): a request must name this server in
  its ``Host`` header: the address it was reached on, ``localhost``,
  ``127.0.0.1`` or ``[::1]``, with the port. Anything else gets 400, so a
  page on another site whose name was made to resolve to 127.0.0.1 reads
  nothing. A server that asks for signing in (``any_host``) answers any name:
  a team's server has one, and without a sign-in nothing answers anyway.
- **Access token** (when the app has one, as it must when bound beyond
  loopback): ``?token=...`` once, which sets an HttpOnly, SameSite=Strict
  cookie and redirects to the same address without it; then the cookie. A
  token has at least 16 characters: an empty one (``--token "$UNSET"``)
  would let anyone in with ``?token=``, so it is refused, never taken as none.
- **CSRF**: every browser gets a random nonce in an HttpOnly, SameSite=Strict
  cookie; forms carry HMAC(app secret, nonce), and a state-changing request
  without the matching value is refused (compared in constant time). A
  request whose ``Origin`` names another site is refused as well.
- **Headers** on every response: a strict Content-Security-Policy (no inline
  script or style anywhere in the app), ``nosniff``, no referrer, no framing.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
import secrets
from http.cookies import SimpleCookie
from urllib.parse import urlencode

from starlette.datastructures import URL, MutableHeaders, QueryParams
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from claude_sessions.model.exceptions import InvalidInputError

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}
TOKEN_COOKIE = "claude_sessions_token"
TOKEN_PARAM = "token"
NONCE_COOKIE = "claude_sessions_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")
MIN_TOKEN_LENGTH = 16
_NONCE_RE = re.compile(r"^[A-Za-z0-9_-]{32,64}$")


def is_loopback(host: str) -> bool:
    """Whether binding ``host`` keeps the server to this machine."""
    name = host.strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def check_token(token: str | None) -> str | None:
    """``token`` itself, unless it is too short to guard anything: then
    :class:`InvalidInputError`. ``None`` is no token (for loopback only)."""
    if token is not None and len(token) < MIN_TOKEN_LENGTH:
        raise InvalidInputError(
            f"an access token needs at least {MIN_TOKEN_LENGTH} characters, not {len(token)}"
        )
    return token


def check_exposure(host: str, *, auth: bool) -> None:
    """Refuse to serve beyond this machine unless every request needs a signed-in user."""
    if not auth and not is_loopback(host):
        raise InvalidInputError(
            f"{host or 'every address'} is reachable from other machines: serve it with --auth "
            "(every request needs a signed-in user)"
        )


def _host_names(server: tuple[str, int | None] | None) -> set[str]:
    """The ``Host`` values that name this server when reached at ``server``."""
    names = set(LOOPBACK_NAMES)
    port = 80
    if server is not None:
        address, bound = server
        names.add(f"[{address}]" if ":" in address else address)
        if bound is None:  # a Unix socket: there is no port to name
            return names
        port = int(bound)
    found = {f"{name}:{port}" for name in names}
    if port == 80:  # browsers leave out the default port
        found |= names
    return found


def host_allowed(host: str | None, server: tuple[str, int | None] | None) -> bool:
    return host is not None and host.lower() in _host_names(server)


def csrf_token(secret: bytes, nonce: str) -> str:
    return hmac.new(secret, nonce.encode(), hashlib.sha256).hexdigest()


def csrf_valid(secret: bytes, request: Request, submitted: str | None) -> bool:
    """The form's (or header's) token matches this browser's nonce, and the request does
    not come from another site."""
    origin = request.headers.get("origin")
    # "null" is what a browser sends under this app's no-referrer policy: the token decides.
    own = f"{request.url.scheme}://{request.headers.get('host')}"
    if origin not in (None, "null", own):
        return False
    if request.headers.get("sec-fetch-site") not in (None, "same-origin", "none"):
        return False
    nonce = request.cookies.get(NONCE_COOKIE)
    if not nonce or not _NONCE_RE.match(nonce) or not submitted:
        return False
    return hmac.compare_digest(csrf_token(secret, nonce).encode(), submitted.encode())


def _cookie(name: str, value: str) -> str:
    cookie: SimpleCookie = SimpleCookie()
    cookie[name] = value
    cookie[name]["path"] = "/"
    cookie[name]["httponly"] = True
    cookie[name]["samesite"] = "Strict"
    return cookie.output(header="").strip()


def add_security_headers(headers: MutableHeaders) -> None:
    for name, value in SECURITY_HEADERS.items():
        headers[name] = value


def _without_token(url: URL) -> str:
    query = [(k, v) for k, v in QueryParams(url.query).multi_items() if k != TOKEN_PARAM]
    path = url.path or "/"
    return f"{path}?{urlencode(query)}" if query else path


class Guard:
    """ASGI middleware: the Host check, the access token, the CSRF nonce cookie and the
    security headers, in front of every route."""

    def __init__(self, app: ASGIApp, *, token: str | None, any_host: bool = False) -> None:
        self.app = app
        self.token = check_token(token)
        # With signing in, a rebound name gets nowhere (no cookie is sent to it, and no
        # route answers without one), so a team server answers to any name it is given.
        self.any_host = any_host

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        host = request.headers.get("host")
        if not (self.any_host or host_allowed(host, scope.get("server"))):
            message = "This server answers only to its own address."
            await self._send(PlainTextResponse(message, status_code=400), scope, receive, send)
            return
        new_cookies: list[str] = []
        if self.token is not None:
            given = request.query_params.get(TOKEN_PARAM)
            if given is not None and self._token_matches(given):
                response = RedirectResponse(_without_token(request.url), status_code=303)
                response.headers.append("set-cookie", _cookie(TOKEN_COOKIE, self.token))
                await self._send(response, scope, receive, send)
                return
            if not self._token_matches(request.cookies.get(TOKEN_COOKIE)):
                message = (
                    "Open the address that 'claude-sessions serve' printed (it has the token)."
                )
                await self._send(PlainTextResponse(message, status_code=403), scope, receive, send)
                return
        nonce = request.cookies.get(NONCE_COOKIE)
        if not nonce or not _NONCE_RE.match(nonce):
            nonce = secrets.token_urlsafe(32)
            new_cookies.append(_cookie(NONCE_COOKIE, nonce))
        scope.setdefault("state", {})["csrf_nonce"] = nonce

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                add_security_headers(headers)
                for cookie in new_cookies:
                    headers.append("set-cookie", cookie)
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _token_matches(self, given: str | None) -> bool:
        assert self.token is not None
        return given is not None and hmac.compare_digest(given.encode(), self.token.encode())

    async def _send(self, response: Response, scope: Scope, receive: Receive, send: Send) -> None:
        add_security_headers(response.headers)
        response.headers["Cache-Control"] = "no-store"
        await response(scope, receive, send)


def nonce_of(request: Request) -> str | None:
    """This browser's CSRF nonce (set by :class:`Guard`)."""
    nonce = request.scope.get("state", {}).get("csrf_nonce")
    return nonce if isinstance(nonce, str) else None
