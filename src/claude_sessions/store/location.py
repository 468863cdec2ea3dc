"""Where a store lives: the default location, URL and connection-string parsing, password masking.

A location is a directory (the database is ``sessions.db`` inside), a
``.db``/``.sqlite``/``.sqlite3`` file, ``sqlite:///abs/path.db``, a
``postgresql://`` (``postgres://``) URL, or a libpq keyword/value connection
string (``host=db dbname=claude user=app``: anything that starts ``word=``).

Passwords are masked by parsing the location and replacing its password
field, never by searching the text for the password (a password ``postgres``
must not eat the scheme); and libpq gets the password as a parameter of its
own, never inside a string it could quote back in an error.

Users type URLs with raw ``/``, ``@``, ``:``, ``?``, ``#`` or spaces in the
password, where a URL parser would split it. So the userinfo ends at the
first ``@`` after which the rest reads as a PostgreSQL address: hosts
(``host:port,host2``, ``[::1]``), an optional ``/dbname`` without ``@`` and an
optional ``?key=value&...`` query. A URL that cannot be read so is refused.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from claude_sessions.model.exceptions import StoreError

ENV_VAR = "CLAUDE_SESSIONS_STORE"
DEFAULT_DIRECTORY = Path("~/.claude_sdk/sessions")
DEFAULT_SCHEMA = "claude_sessions"
DEFAULT_POOL_MAX_SIZE = 10
DEFAULT_POOL_TIMEOUT = 15.0
MASK = "***"
_OUR_OPTIONS = ("schema", "pool_max_size", "pool_timeout")
_NOT_FOR_LIBPQ = (*_OUR_OPTIONS, "options", "password")
_SCHEME_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_KEYWORDS_RE = re.compile(r"^\s*[A-Za-z_]+\s*=")
_URL_IN_TEXT_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://\S+")
_IDENT_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
_HOST = r"(?:\[[\w:.%]*\]|[\w.~%-]*)(?::\d*)?"
_HOSTS_RE = re.compile(rf"{_HOST}(?:,{_HOST})*")
_QUERY_PAIR_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_%]*=")
_UNREADABLE = (
    "cannot tell the password from the host in this PostgreSQL URL: percent-encode "
    "the user name and password (@ as %40, / as %2F, ? as %3F, % as %25)"
)


def default_location() -> str:
    """``$CLAUDE_SESSIONS_STORE``, else ``~/.claude_sdk/sessions``."""
    return os.environ.get(ENV_VAR) or str(DEFAULT_DIRECTORY.expanduser())


def _decoded(typed: str) -> str:
    """A typed URL part, percent-decoded unless it does not decode (then a ``%`` is itself)."""
    try:
        return unquote(typed, errors="strict")
    except UnicodeDecodeError:
        return typed


@dataclass(frozen=True)
class _Url:
    """A URL split as typed (nothing decoded), so what is shown is what was written."""

    scheme: str
    user: str | None
    password: str | None
    address: str  # hosts, ports and /dbname
    query: str | None  # after the '?', when there is one

    def pairs(self) -> list[tuple[str, str, str]]:
        """The query's pieces as ``(decoded name, piece as typed, decoded value)``."""
        found = []
        for piece in (self.query or "").split("&"):
            if piece:
                name, _, value = piece.partition("=")
                found.append((_decoded(name), piece, _decoded(value)))
        return found

    def shown(self) -> str:
        """The URL as typed, its password (in the userinfo or the query) replaced by ``***``."""
        text = f"{self.scheme}://"
        if self.user is not None:
            text += self.user + (f":{MASK}" if self.password is not None else "") + "@"
        text += self.address
        if self.query is not None:
            pieces = [self._masked(piece) for piece in self.query.split("&")]
            text += "?" + "&".join(pieces)
        return text

    @staticmethod
    def _masked(piece: str) -> str:
        name, equals, _ = piece.partition("=")
        return f"{name}={MASK}" if equals and _decoded(name) == "password" else piece


def _reads_as_address(rest: str) -> bool:
    """Whether what follows an ``@`` reads as hosts, an optional /dbname and a query."""
    address, _, query = rest.partition("?")
    hosts, _, dbname = address.partition("/")
    return (
        _HOSTS_RE.fullmatch(hosts) is not None
        and "@" not in dbname
        and all(_QUERY_PAIR_RE.match(piece) for piece in query.split("&") if piece)
    )


def _userinfo_end(body: str) -> int | None:
    """The ``@`` that ends the userinfo (see the module docstring), if one does."""
    for at, char in enumerate(body):
        if char == "@":
            user = body[:at].partition(":")[0]
            if not any(c in user for c in "/?#") and _reads_as_address(body[at + 1 :]):
                return at
    return None


def _split(url: str) -> _Url:
    match = _SCHEME_RE.match(url)
    if match is None:
        raise StoreError("not a URL")
    body = url[match.end() :]
    at = _userinfo_end(body)
    user = password = None
    rest = body
    if at is not None:
        user, colon, typed = body[:at].partition(":")
        password = typed if colon else None
        rest = body[at + 1 :]
    elif "@" in body:
        # No userinfo reads right: unless every '@' is in the dbname or the query after
        # well-formed hosts, a password could be anywhere in it.
        hosts = re.split(r"[/?]", body, maxsplit=1)[0]
        if "@" in body.partition("/")[0] or _HOSTS_RE.fullmatch(hosts) is None:
            raise StoreError(_UNREADABLE)
    address, question, query = rest.partition("?")
    return _Url(match.group(1), user, password, address, query if question else None)


def _shown_url(url: str) -> str:
    try:
        return _split(url).shown()
    except StoreError:
        return f"{url.partition('://')[0]}://{MASK}"


def mask_password(text: str) -> str:
    """``text`` with the password of every URL in it replaced by ``***``.

    A URL ends at the first space here: a location with spaces in its password
    is masked whole with :func:`parse_postgres` (``display``), not through this.
    """
    return _URL_IN_TEXT_RE.sub(lambda match: _shown_url(match.group(0)), text)


@dataclass(frozen=True)
class PostgresLocation:
    """A parsed PostgreSQL location: what libpq gets, our options, what is shown.

    ``conninfo`` holds no password: ``password`` goes to libpq on its own.
    """

    conninfo: str
    display: str
    password: str | None
    schema: str = DEFAULT_SCHEMA
    pool_max_size: int = DEFAULT_POOL_MAX_SIZE
    pool_timeout: float = DEFAULT_POOL_TIMEOUT
    options: str | None = None


def _our_options(mine: dict[str, str], shown: str) -> dict[str, Any]:
    schema = mine.get("schema", DEFAULT_SCHEMA)
    if not _IDENT_RE.match(schema):
        raise StoreError(f"invalid schema name {schema!r}: use letters, digits and _")
    try:
        pool_max_size = int(mine.get("pool_max_size", DEFAULT_POOL_MAX_SIZE))
        pool_timeout = float(mine.get("pool_timeout", DEFAULT_POOL_TIMEOUT))
    except ValueError as error:
        raise StoreError(f"invalid pool option in {shown}: {error}") from None
    if pool_max_size < 1 or not pool_timeout > 0:
        raise StoreError("pool_max_size must be >= 1 and pool_timeout > 0")
    return {"schema": schema, "pool_max_size": pool_max_size, "pool_timeout": pool_timeout}


def _parse_url(url: str) -> PostgresLocation:
    parts = _split(url)
    shown = parts.shown()
    if parts.scheme.lower() not in ("postgresql", "postgres"):
        raise StoreError(f"not a PostgreSQL URL: {shown}")
    pairs = parts.pairs()
    password = _decoded(parts.password) if parts.password is not None else None
    # libpq reads the query after the userinfo: a password there wins, the last one.
    password = next((v for name, _, v in reversed(pairs) if name == "password"), password)
    user = f"{quote(_decoded(parts.user), safe='')}@" if parts.user is not None else ""
    conninfo = f"postgresql://{user}{parts.address}"
    libpq = [piece for name, piece, _ in pairs if name not in _NOT_FOR_LIBPQ]
    if libpq:
        conninfo += "?" + "&".join(libpq)
    return PostgresLocation(
        conninfo,
        shown,
        password,
        options=next((v for name, _, v in reversed(pairs) if name == "options"), None),
        **_our_options({name: v for name, _, v in pairs if name in _OUR_OPTIONS}, shown),
    )


def _parse_keywords(text: str) -> PostgresLocation:
    """libpq's own reading of a keyword/value string; the store's options keep their defaults."""
    try:
        from psycopg import ProgrammingError
        from psycopg.conninfo import conninfo_to_dict, make_conninfo
    except ImportError:  # pragma: no cover - depends on the installed extras
        raise StoreError(
            "a PostgreSQL store needs psycopg: pip install 'claude-sessions[postgres]'"
        ) from None
    try:
        params = conninfo_to_dict(text)
    except ProgrammingError:
        # Not libpq's message: it can quote a piece of a password holding a space.
        raise StoreError(
            "cannot read the PostgreSQL connection string: it takes libpq's keyword=value "
            "pairs, values with spaces or quotes in '...'; the store's own options (schema, "
            "pool_max_size, pool_timeout) need a postgresql:// URL"
        ) from None
    password, options = params.pop("password", None), params.pop("options", None)
    shown = {**params, "password": MASK} if password is not None else params
    return PostgresLocation(
        make_conninfo("", **params),
        make_conninfo("", **shown),
        None if password is None else str(password),
        options=None if options is None else str(options),
    )


def parse_postgres(location: str) -> PostgresLocation:
    """Read a PostgreSQL URL or keyword/value string: libpq's part, our options, the display."""
    if _KEYWORDS_RE.match(location):
        return _parse_keywords(location)
    return _parse_url(location)


def is_server_location(location: str | os.PathLike[str]) -> bool:
    """Whether ``location`` names a database server (a URL or ``host=...``), not a path."""
    return isinstance(location, str) and (
        _SCHEME_RE.match(location) is not None or _KEYWORDS_RE.match(location) is not None
    )


def holds_password(location: str | os.PathLike[str]) -> bool:
    """Whether a PostgreSQL location carries a (non-empty) password, in the URL's userinfo
    or query or as libpq's ``password=``; a path, a SQLite URL or another scheme holds none.
    A URL too garbled to tell raises :class:`StoreError`."""
    if not isinstance(location, str) or not is_server_location(location):
        return False
    match = _SCHEME_RE.match(location)
    if match is not None and match.group(1).lower() not in ("postgresql", "postgres"):
        return False
    return bool(parse_postgres(location).password)


def sqlite_path(location: str | os.PathLike[str]) -> Path | None:
    """The database file a location names, or ``None`` for a PostgreSQL server.

    A directory gets ``sessions.db`` inside; a path ending in ``.db``,
    ``.sqlite`` or ``.sqlite3`` (or an existing file) is the file itself.
    """
    if not isinstance(location, str):
        return _database_file(Path(location))
    if not is_server_location(location):
        return _database_file(Path(location).expanduser())
    match = _SCHEME_RE.match(location)
    if match is None:  # a keyword/value connection string
        return None
    scheme = match.group(1).lower()
    if scheme == "sqlite":
        rest = location[match.end() :]
        if not rest:
            raise StoreError(f"no database path in {location!r}")
        return Path(rest).expanduser()
    if scheme in ("postgresql", "postgres"):
        return None
    raise StoreError(
        f"unknown store location scheme {scheme!r} in {_shown_url(location)} "
        "(use a directory path, sqlite:///path/to.db, postgresql://... or host=... dbname=...)"
    )


def _database_file(path: Path) -> Path:
    if path.suffix in (".db", ".sqlite", ".sqlite3") or path.is_file():
        return path
    return path / "sessions.db"
