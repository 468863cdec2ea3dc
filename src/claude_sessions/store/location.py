"""Where a store lives: the default location, URL parsing, password masking, drivers.

A location is a directory (the database is ``sessions.db`` inside), a
``.db``/``.sqlite``/``.sqlite3`` file, ``sqlite:///abs/path.db``, or a
``postgresql://`` (``postgres://``) URL. Passwords never leave this module
unmasked except towards libpq: users type URLs with un-encoded ``/``, ``@``
or ``:`` in the password, so the userinfo is found by the last ``@`` before
the query string, not by a URL parser that would split it at the first ``/``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, quote, unquote, urlencode

from ..exceptions import StoreError

ENV_VAR = "CLAUDE_SESSIONS_STORE"
DEFAULT_DIRECTORY = Path("~/.claude_sdk/sessions")
DEFAULT_SCHEMA = "claude_sessions"
DEFAULT_POOL_MAX_SIZE = 10
DEFAULT_POOL_TIMEOUT = 15.0
_OUR_OPTIONS = ("schema", "pool_max_size", "pool_timeout")
_SCHEME_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_URL_IN_TEXT_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://\S+")
_IDENT_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


def default_location() -> str:
    """``$CLAUDE_SESSIONS_STORE``, else ``~/.claude_sdk/sessions``."""
    return os.environ.get(ENV_VAR) or str(DEFAULT_DIRECTORY.expanduser())


@dataclass(frozen=True)
class _Parts:
    scheme: str
    user: str | None
    password: str | None
    rest: str  # host, port and path
    query: str


def _split(url: str) -> _Parts:
    match = _SCHEME_RE.match(url)
    if match is None:
        raise StoreError("not a URL")
    body = url[match.end() :]
    address, _, query = body.partition("?")
    at = address.rfind("@")
    userinfo = address[:at] if at >= 0 else ""
    # "host/db@x" has an '@' in its path, not a user: a userinfo has no '/' unless a
    # password (after ':') holds it.
    if at < 0 or ("/" in userinfo and ":" not in userinfo):
        return _Parts(match.group(1), None, None, address, query)
    user, colon, password = userinfo.partition(":")
    return _Parts(match.group(1), user, password if colon else None, address[at + 1 :], query)


def _query_password(query: str) -> str | None:
    return next((v for k, v in parse_qsl(query, keep_blank_values=True) if k == "password"), None)


def _mask_one(url: str) -> str:
    try:
        parts = _split(url)
    except StoreError:
        return url
    shown = f"{parts.scheme}://"
    if parts.user is not None:
        shown += parts.user + (":***" if parts.password is not None else "") + "@"
    shown += parts.rest
    if parts.query:
        pairs = parse_qsl(parts.query, keep_blank_values=True)
        masked = [(k, "***" if k == "password" else v) for k, v in pairs]
        shown += "?" + urlencode(masked, quote_via=quote, safe="*/")
    return shown


def mask_password(text: str) -> str:
    """``text`` with the password of every URL in it replaced by ``***``."""
    return _URL_IN_TEXT_RE.sub(lambda m: _mask_one(m.group(0)), text)


@dataclass(frozen=True)
class PostgresLocation:
    """A parsed ``postgresql://`` URL: what libpq gets, our options, what is shown."""

    conninfo: str
    display: str
    password: str | None
    schema: str
    pool_max_size: int
    pool_timeout: float
    options: str | None

    def mask(self, text: str) -> str:
        """``text`` with this URL's password, in any form or piece of it, masked."""
        text = mask_password(text)
        if not self.password:
            return text
        secret = self.password
        forms = {secret, quote(secret, safe=""), quote(secret)}
        # libpq, handed a URL it splits wrongly, echoes pieces of the password.
        forms |= {piece for piece in re.split(r"[/@:?#]", secret) if len(piece) >= 4}
        for form in sorted(forms, key=len, reverse=True):
            text = text.replace(form, "***")
        return text


def parse_postgres(url: str) -> PostgresLocation:
    """Split our options from a PostgreSQL URL, re-encode its userinfo, mask its password."""
    parts = _split(url)
    if parts.scheme.lower() not in ("postgresql", "postgres"):
        raise StoreError(f"not a PostgreSQL URL: {mask_password(url)}")
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    mine = {k: v for k, v in pairs if k in _OUR_OPTIONS}
    libpq = [(k, v) for k, v in pairs if k not in _OUR_OPTIONS and k != "options"]
    options = next((v for k, v in pairs if k == "options"), None)
    password = unquote(parts.password) if parts.password is not None else None
    password = _query_password(parts.query) or password
    schema = mine.get("schema", DEFAULT_SCHEMA)
    if not _IDENT_RE.match(schema):
        raise StoreError(f"invalid schema name {schema!r}: use letters, digits and _")
    try:
        pool_max_size = int(mine.get("pool_max_size", DEFAULT_POOL_MAX_SIZE))
        pool_timeout = float(mine.get("pool_timeout", DEFAULT_POOL_TIMEOUT))
    except ValueError as error:
        raise StoreError(f"invalid pool option in {mask_password(url)}: {error}") from None
    if pool_max_size < 1 or not pool_timeout > 0:
        raise StoreError("pool_max_size must be >= 1 and pool_timeout > 0")
    userinfo = ""
    if parts.user is not None:
        userinfo = quote(unquote(parts.user), safe="")
        if parts.password is not None:
            userinfo += ":" + quote(unquote(parts.password), safe="")
        userinfo += "@"
    conninfo = f"postgresql://{userinfo}{parts.rest}"
    if libpq:
        conninfo += "?" + urlencode(libpq, quote_via=quote)
    location = PostgresLocation(
        conninfo=conninfo,
        display="",
        password=password,
        schema=schema,
        pool_max_size=pool_max_size,
        pool_timeout=pool_timeout,
        options=options,
    )
    return PostgresLocation(**{**location.__dict__, "display": location.mask(url)})


def is_url(location: str) -> bool:
    return _SCHEME_RE.match(location) is not None


def sqlite_path(location: str | os.PathLike[str]) -> Path | None:
    """The database file a location names, or ``None`` for a server URL.

    A directory gets ``sessions.db`` inside; a path ending in ``.db``,
    ``.sqlite`` or ``.sqlite3`` (or an existing file) is the file itself.
    """
    if not isinstance(location, str):
        return _database_file(Path(location))
    match = _SCHEME_RE.match(location)
    if match is None:
        return _database_file(Path(location).expanduser())
    scheme = match.group(1).lower()
    if scheme == "sqlite":
        rest = location[match.end() :]
        if not rest:
            raise StoreError(f"no database path in {location!r}")
        return Path(rest).expanduser()
    if scheme in ("postgresql", "postgres"):
        return None
    raise StoreError(
        f"unknown store location scheme {scheme!r} in {mask_password(location)} "
        "(use a directory path, sqlite:///path/to.db or postgresql://...)"
    )


def _database_file(path: Path) -> Path:
    if path.suffix in (".db", ".sqlite", ".sqlite3") or path.is_file():
        return path
    return path / "sessions.db"
