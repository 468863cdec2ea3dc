"""Where a laptop's captures go besides its own store: the team server and its token.

``hooks install --server URL --token T`` keeps both in ``team-server.json`` beside the
local store (the folder of its database, where captures log), readable by its owner
only: never in Claude Code's settings, so the hook's command names no token. The file
is written atomically with mode 0600, and one that others may read is refused (a token
that leaked to the group is not used until its owner looks).
"""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from claude_sessions.importer.handover import capture_dir
from claude_sessions.model.exceptions import InvalidInputError

FILE_NAME = "team-server.json"


@dataclass(frozen=True)
class ServerConfig:
    """A team server's base URL and the user's bearer token for it."""

    url: str
    token: str

    def __repr__(self) -> str:  # a token never reaches a log or a traceback
        return f"ServerConfig(url={self.url!r}, token='***')"


def config_path(location: str | os.PathLike[str] | None = None) -> Path:
    """The file of the store at ``location`` (``None``: the default store)."""
    return capture_dir(location) / FILE_NAME


def server_url(url: str) -> str:
    """``url`` checked and without a trailing slash: http or https, a host, no user or
    password in it (the token is the only credential, and it is kept apart)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInputError(f"a team server URL is http(s)://HOST[:PORT], not {url!r}")
    if parts.username is not None or parts.password is not None:
        raise InvalidInputError(
            "a team server URL holds no user or password: give the token with --token"
        )
    if parts.query or parts.fragment:
        raise InvalidInputError("a team server URL has no query or fragment")
    return url.strip().rstrip("/")


def save(location: str | os.PathLike[str] | None, url: str, token: str) -> Path:
    """Keep ``url`` and ``token`` for the store at ``location``; returns the file."""
    import tempfile  # only here: every capture reads this file, one command writes it

    from claude_sessions.capture.team_server import TeamServer

    config = {"url": server_url(url), "token": token.strip()}
    TeamServer(config["url"], config["token"])  # refuses a token in clear to another host
    path = config_path(location)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=FILE_NAME + ".", dir=path.parent)
    try:  # mkstemp makes it 0600: the token is never readable by others, not even briefly
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(config, out, indent=2)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
    return path


def load(location: str | os.PathLike[str] | None = None) -> ServerConfig | None:
    """The team server of the store at ``location`` (``None``: none configured).

    A file that its group or others may read, or that is not a JSON object with a URL
    and a token, raises :class:`InvalidInputError` saying how to fix it."""
    path = config_path(location)
    try:
        with path.open("rb") as file:
            mode = os.fstat(file.fileno()).st_mode
            text = file.read()
    except FileNotFoundError:
        return None
    except OSError as error:
        raise InvalidInputError(f"cannot read {path}: {error.strerror}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise InvalidInputError(
            f"{path} may be read by others (mode {stat.S_IMODE(mode):o}); not used: "
            f"`chmod 600 {path}`, and replace the token if others could have read it"
        )
    try:
        found = json.loads(text)
        url, token = found["url"], found["token"]
    except (ValueError, KeyError, TypeError):
        raise InvalidInputError(
            f"{path} is not a team server's settings: run `hooks install --server URL --token T`"
        ) from None
    if not isinstance(url, str) or not isinstance(token, str):
        raise InvalidInputError(f"{path}: url and token are text")
    return ServerConfig(server_url(url), token)


def remove(location: str | os.PathLike[str] | None = None) -> bool:
    """Forget the team server of the store at ``location``; False when none was kept."""
    try:
        config_path(location).unlink()
    except FileNotFoundError:
        return False
    return True


def chosen(
    location: str | os.PathLike[str] | None, url: str | None, token: str | None
) -> ServerConfig:
    """The server a command names (``url`` and ``token``), else the one kept for the
    store; :class:`InvalidInputError` when there is neither."""
    if (url is None) != (token is None):
        raise InvalidInputError("--server and --token go together")
    if url is not None and token is not None:
        return ServerConfig(server_url(url), token)
    kept = load(location)
    if kept is None:
        raise InvalidInputError(
            "no team server: give --server URL --token T, or keep them with "
            "`claude-sessions hooks install --server URL --token T`"
        )
    return kept
