"""The laptops' client of a team server (``serve --auth``): send a session's new
transcript entries, and read what ``sync --pull`` brings down.

Standard library only (http.client): a capture hook loads it within its start-up
budget. A token travels only over HTTPS, or over plain HTTP to this machine's own
loopback (a tunnel, a test): a plain http:// URL to another host is refused before
any connection. The token is never printed or logged, nor part of any error.
Errors: :class:`ServerUnreachable` (refused, unknown host, timeout) and
:class:`ServerRefused` (any answer but 2xx, with its status and the server's reason).
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import socket
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from claude_sessions.model.exceptions import (
    InvalidInputError,
    ServerRefused,
    ServerUnreachable,
)
from claude_sessions.model.team_wire import EntryPage, IngestBatch, IngestReport, SessionPage

API = "/api/v1"
LOOPBACK_NAMES = ("localhost",)


def _is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _reason(status: int, body: bytes) -> str:
    """The server's one line: its ``error``, else the start of what it answered."""
    text = body.decode("utf-8", "replace")
    try:
        found = json.loads(text)
    except ValueError:
        found = None
    if isinstance(found, dict) and isinstance(found.get("error"), str):
        text = found["error"]
    line = " ".join(text.split())[:300]
    return line or http.client.responses.get(status, "no reason given")


class TeamServer:
    """A team server at ``url`` (``https://host[:port][/prefix]``), as the user ``token``
    names. ``timeout``: seconds for connecting and for each read."""

    def __init__(self, url: str, token: str, *, timeout: float = 2.0) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InvalidInputError(f"a team server's URL is http(s)://host[:port]: {url!r}")
        if parts.scheme == "http" and not _is_loopback(parts.hostname):
            raise InvalidInputError(
                f"refusing to send a token in clear to {parts.hostname}: use an https:// URL"
            )
        if not token or not token.isprintable() or any(c.isspace() for c in token):
            raise InvalidInputError("a team server's token is one word of printable characters")
        self.url = f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port
        self._prefix = parts.path.rstrip("/")
        self._token = token
        self.timeout = timeout

    def __repr__(self) -> str:  # never the token
        return f"TeamServer({self.url!r})"

    def ingest(self, batch: IngestBatch) -> IngestReport:
        """Send ``batch``; what the server stored of it."""
        body = json.dumps(batch.to_dict(), separators=(",", ":"), allow_nan=False).encode()
        return IngestReport.from_dict(self._ask("POST", f"{API}/ingest", body))

    def sessions(self, after: str | None = None) -> SessionPage:
        """A page of the sessions the token's user may see, after cursor ``after``."""
        query = urlencode({"after": after} if after is not None else {})
        path = f"{API}/sessions" + (f"?{query}" if query else "")
        return SessionPage.from_dict(self._ask("GET", path))

    def entries(self, session_id: str, project_key: str, after: str | None = None) -> EntryPage:
        """A page of a session's entries, after cursor ``after``."""
        params = {"project_key": project_key, **({"after": after} if after is not None else {})}
        path = f"{API}/sessions/{quote(session_id, safe='')}/entries?{urlencode(params)}"
        return EntryPage.from_dict(self._ask("GET", path))

    def _connection(self) -> http.client.HTTPConnection:
        kind = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
        return kind(self._host, self._port, timeout=self.timeout)

    def _ask(self, method: str, path: str, body: bytes | None = None) -> Any:
        headers = {"Authorization": f"Bearer {self._token}", "Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        connection = self._connection()
        try:
            status, answer = self._exchange(connection, method, self._prefix + path, body, headers)
        finally:
            connection.close()
        if not 200 <= status < 300:
            raise ServerRefused(status, _reason(status, answer))
        try:
            return json.loads(answer)
        except ValueError:
            raise ServerRefused(status, "the server's answer is not JSON") from None

    def _exchange(
        self,
        connection: http.client.HTTPConnection,
        method: str,
        path: str,
        body: bytes | None,
        headers: dict[str, str],
    ) -> tuple[int, bytes]:
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            return response.status, response.read()
        except (OSError, http.client.HTTPException) as failed:
            raise ServerUnreachable(
                f"the team server at {self.url} is unreachable: {_why(failed)}"
            ) from failed


def _why(failed: BaseException) -> str:
    if isinstance(failed, (TimeoutError, socket.timeout)):
        return "no answer in time"
    if isinstance(failed, socket.gaierror):
        return "unknown host"
    if isinstance(failed, ConnectionRefusedError):
        return "connection refused"
    return type(failed).__name__ + (f": {failed}" if str(failed) else "")
