"""Who writes a session, and on which machine: the ``user`` and ``machine`` every session
records when it is first stored (capture, import, a run, the SDK's mirroring).

user: ``$CLAUDE_SESSIONS_USER``, else git's ``user.email``, else the OS user.
machine: ``$CLAUDE_SESSIONS_MACHINE``, else the host name.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

USER_ENV_VAR = "CLAUDE_SESSIONS_USER"
MACHINE_ENV_VAR = "CLAUDE_SESSIONS_MACHINE"
UNKNOWN = "unknown"  # what sessions stored before identities were kept read
# git answers in a few milliseconds; a hung credential helper or network home must not
# hold up a capture hook.
GIT_TIMEOUT_SECONDS = 1.0
MAX_CHARS = 200


@dataclass(frozen=True)
class Identity:
    """A session's user and machine."""

    user: str = UNKNOWN
    machine: str = UNKNOWN


@dataclass(frozen=True)
class User:
    """One user of a store (see store.users): a name, the ``user`` their sessions record,
    and whether they are an admin."""

    name: str
    session_user: str  # what the sessions this user stored record as their user
    admin: bool
    created_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "session_user": self.session_user,
            "admin": self.admin,
            "created_at": self.created_at.isoformat(),
        }


# Who a new session belongs to, asked only when one is created (git runs at most once).
Who = Callable[[], Identity]


def current_identity() -> Identity:
    """This process's user and machine (the environment is read each time; git, the
    OS user and the host name once per process)."""
    return Identity(
        _tidy(os.environ.get(USER_ENV_VAR)) or _default_user(),
        _tidy(os.environ.get(MACHINE_ENV_VAR)) or _host_name(),
    )


def _tidy(value: str | None) -> str | None:
    """A value without surrounding blanks or control characters, cut short (``None``:
    nothing left)."""
    if value is None:
        return None
    kept = "".join(char for char in value if char.isprintable()).strip()
    return kept[:MAX_CHARS] or None


@functools.cache
def _default_user() -> str:
    return _git_email() or _os_user() or UNKNOWN


def _git_email() -> str | None:
    import subprocess  # only when a session is created: no command pays for it otherwise

    try:
        done = subprocess.run(
            ["git", "config", "--get", "user.email"],
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT_SECONDS,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):  # no git, or it hung
        return None
    return _tidy(done.stdout) if done.returncode == 0 else None


def _os_user() -> str | None:
    import getpass

    try:
        return _tidy(getpass.getuser())
    except (OSError, KeyError):  # no login name and no passwd entry (some containers)
        return None


def host_name() -> str:
    """This machine's host name, as ``socket.gethostname()`` gives it (which is the
    kernel's node name where ``os.uname`` exists: read there, without loading the
    socket module, which a capture hook would pay for)."""
    if hasattr(os, "uname"):
        return os.uname().nodename
    import socket

    return socket.gethostname()


@functools.cache
def _host_name() -> str:
    return _tidy(host_name()) or UNKNOWN
