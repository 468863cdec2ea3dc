"""A throwaway PostgreSQL server for tests: ``with TemporaryPostgres() as pg: pg.url``.

The server runs from the PostgreSQL binaries of this machine (``initdb`` on
PATH, else the newest ``/usr/lib/postgresql/*/bin``), in a fresh temporary
directory, listening on 127.0.0.1 on a free port and on a unix socket inside
that directory. It is stopped and the directory removed on exit, also when
the body raises; the postmaster also receives SIGQUIT (immediate shutdown) if
the process that started it dies, so a killed test run leaves nothing behind.

PostgreSQL refuses to run as root: when we are root the server runs as an
unprivileged user (``nobody`` unless ``run_as=`` names another) and the data
directory is handed to it. As any other user no switch happens.

TCP connections need the password (scram-sha-256) of the superuser
``postgres``; it is random per server and is part of :attr:`url`.
Durability against a machine crash is traded for speed (``fsync=off``); a
server restart, even an immediate one, loses no committed transaction.

Needs ``psycopg`` (the ``postgres`` extra) for :meth:`create_database` and
friends; starting and stopping the server needs only the binaries.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import glob
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit, urlunsplit

if TYPE_CHECKING:
    import psycopg

SEARCH_GLOB = "/usr/lib/postgresql/*/bin"
DEFAULT_UNPRIVILEGED_USER = "nobody"
SUPERUSER = "postgres"
_PR_SET_PDEATHSIG = 1


class PostgresNotFoundError(RuntimeError):
    """No PostgreSQL server binaries (``initdb``, ``postgres``) on this machine."""


class PostgresStartError(RuntimeError):
    """The temporary server did not start; the message ends with its log."""


def find_bindir(extra: Sequence[str | os.PathLike[str]] = ()) -> Path:
    """The directory holding ``initdb`` and ``postgres``.

    Looks in ``extra``, then PATH (following symlinks, since Debian links
    ``/usr/local/bin/pg_ctl`` into the versioned directory), then the newest
    ``/usr/lib/postgresql/<version>/bin``. Raises :class:`PostgresNotFoundError`.
    """
    candidates: list[Path] = [Path(p) for p in extra]
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
        candidates.append(Path(on_path).parent)

    def version(directory: str) -> tuple[int, ...]:
        found = re.search(r"/(\d+(?:\.\d+)*)/bin$", directory)
        return tuple(int(x) for x in found.group(1).split(".")) if found else (0,)

    candidates.extend(Path(d) for d in sorted(glob.glob(SEARCH_GLOB), key=version, reverse=True))
    for directory in candidates:
        if all(os.access(directory / name, os.X_OK) for name in ("initdb", "postgres")):
            return directory
    raise PostgresNotFoundError(
        "PostgreSQL server binaries not found (initdb and postgres on PATH or in "
        f"{SEARCH_GLOB}); install them, e.g. `apt-get install postgresql`, or point "
        "CLAUDE_SESSIONS_TEST_POSTGRES_URL at a running server"
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """Ask the kernel to send SIGQUIT (immediate shutdown) when our parent dies."""
    libc_name = ctypes.util.find_library("c")
    if libc_name is None:
        return
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(libc_name, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGQUIT, 0, 0, 0)


def with_database(url: str, database: str) -> str:
    """``url`` with its path (the database name) replaced."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + quote(database, safe="")))


def connect_admin(url: str, **kwargs: Any) -> psycopg.Connection[Any]:
    """An autocommit connection (for CREATE/DROP DATABASE and roles)."""
    import psycopg

    return psycopg.connect(url, autocommit=True, connect_timeout=10, **kwargs)


def create_database(url: str, name: str | None = None, *, owner: str | None = None) -> str:
    """Create a fresh database on the server of ``url``; returns its URL."""
    from psycopg import sql

    name = name or f"test_{uuid.uuid4().hex[:16]}"
    statement = sql.SQL("CREATE DATABASE {} TEMPLATE template0 STRATEGY file_copy").format(
        sql.Identifier(name)
    )
    if owner is not None:
        statement = sql.SQL("{} OWNER {}").format(statement, sql.Identifier(owner))
    with connect_admin(url) as conn:
        conn.execute(statement)
    return with_database(url, name)


def drop_database(url: str, name: str | None = None) -> None:
    """Drop a database (``name``, else the one ``url`` names), closing its connections."""
    from psycopg import sql

    if name is None:
        name = urlsplit(url).path.lstrip("/")
        url = with_database(url, "postgres")
    with connect_admin(url) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


class TemporaryPostgres:
    """A private PostgreSQL server in a temporary directory (a context manager).

    ``url`` (superuser ``postgres`` with its password, database ``postgres``)
    is valid between ``__enter__`` and ``__exit__``; :meth:`restart` and
    :meth:`stop`/:meth:`start` simulate outages on the same port.
    """

    can_restart = True

    def __init__(
        self,
        *,
        bindir: str | os.PathLike[str] | None = None,
        run_as: str | None = None,
        settings: dict[str, str] | None = None,
        startup_timeout: float = 60.0,
    ) -> None:
        self.bindir = Path(bindir) if bindir is not None else find_bindir()
        self.settings = {
            "fsync": "off",
            "full_page_writes": "off",
            "max_connections": "200",
            "shared_buffers": "32MB",
            "log_min_messages": "warning",
            **(settings or {}),
        }
        self.startup_timeout = startup_timeout
        self.password = secrets.token_urlsafe(18)
        self.port = 0
        self.directory: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._user: str | None
        if os.geteuid() == 0:
            self._user = run_as or DEFAULT_UNPRIVILEGED_USER
        else:
            self._user = run_as if run_as and run_as != _current_user() else None

    # -- paths and URLs ----------------------------------------------------------------

    @property
    def data_dir(self) -> Path:
        return self._dir / "data"

    @property
    def socket_dir(self) -> Path:
        return self._dir / "socket"

    @property
    def log_file(self) -> Path:
        return self._dir / "postgres.log"

    @property
    def _dir(self) -> Path:
        if self.directory is None:
            raise RuntimeError("the temporary PostgreSQL server is not set up")
        return self.directory

    @property
    def url(self) -> str:
        """``postgresql://postgres:<password>@127.0.0.1:<port>/postgres``."""
        return self.url_for("postgres")

    def url_for(self, database: str, *, user: str = SUPERUSER, password: str | None = None) -> str:
        secret = self.password if password is None and user == SUPERUSER else password
        auth = quote(user, safe="") + (":" + quote(secret, safe="") if secret else "")
        return f"postgresql://{auth}@127.0.0.1:{self.port}/{quote(database, safe='')}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def __repr__(self) -> str:
        state = f"port {self.port}" if self.running else "stopped"
        return f"<TemporaryPostgres {self.bindir} {state}>"

    # -- lifecycle ----------------------------------------------------------------------

    def __enter__(self) -> TemporaryPostgres:
        try:
            self._setup()
            self.start()
        except BaseException:
            self.cleanup()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.cleanup()

    def _setup(self) -> None:
        base = _shared_temp_root() if self._user else None
        self.directory = Path(tempfile.mkdtemp(prefix="claude-sessions-pg-", dir=base))
        self.socket_dir.mkdir()
        pwfile = self._dir / "pwfile"
        pwfile.write_text(self.password + "\n")
        if self._user:
            self._dir.chmod(0o700)
            for path in (self._dir, self.socket_dir, pwfile):
                shutil.chown(path, user=self._user, group=_primary_group(self._user))
        command = [
            str(self.bindir / "initdb"),
            "--pgdata",
            str(self.data_dir),
            "--username",
            SUPERUSER,
            "--pwfile",
            str(pwfile),
            "--auth-local",
            "trust",
            "--auth-host",
            "scram-sha-256",
            "--encoding",
            "UTF8",
            "--no-locale",
            "--no-sync",
        ]
        result = subprocess.run(
            command, capture_output=True, check=False, env=self._env(), **self._as_user()
        )
        pwfile.unlink()
        if result.returncode != 0:
            output = (result.stdout + result.stderr).decode(errors="replace")
            raise PostgresStartError(f"initdb failed ({result.returncode}):\n{output[-3000:]}")

    def start(self) -> None:
        """Start the server (on the port it had before, if any) and wait until it is ready."""
        if self.running:
            return
        attempts = 1 if self.port else 5
        for attempt in range(attempts):
            if not self.port or attempt:
                self.port = free_port()
            if self._launch():
                return
        raise PostgresStartError(
            f"PostgreSQL did not start on port {self.port}:\n{self._log_tail()}"
        )

    def _launch(self) -> bool:
        command = [
            str(self.bindir / "postgres"),
            "-D",
            str(self.data_dir),
            "-p",
            str(self.port),
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            f"unix_socket_directories={self.socket_dir}",
        ]
        for name, value in self.settings.items():
            command += ["-c", f"{name}={value}"]
        pid_file = self.data_dir / "postmaster.pid"
        with contextlib.suppress(FileNotFoundError):
            pid_file.unlink()  # stale after an immediate shutdown
        with open(self.log_file, "ab") as log:
            if self._user:
                shutil.chown(self.log_file, user=self._user, group=_primary_group(self._user))
            self._process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                env=self._env(),
                start_new_session=True,  # Ctrl-C reaches us, not the server
                preexec_fn=_die_with_parent,
                **self._as_user(),
            )
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                self._process = None
                return False
            if _pid_file_status(pid_file) == "ready":
                return True
            time.sleep(0.02)
        self.stop(mode="immediate")
        raise PostgresStartError(f"PostgreSQL was not ready in time:\n{self._log_tail()}")

    def stop(self, mode: str = "fast") -> None:
        """Stop the server: ``fast`` (SIGINT), ``immediate`` (SIGQUIT) or ``smart`` (SIGTERM)."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        sig = {"smart": signal.SIGTERM, "fast": signal.SIGINT, "immediate": signal.SIGQUIT}[mode]
        process.send_signal(sig)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def restart(self, mode: str = "immediate") -> None:
        """Stop and start again on the same port (existing connections break)."""
        self.stop(mode=mode)
        self.start()

    def cleanup(self) -> None:
        """Stop the server (immediately) and remove its directory. Safe to call twice."""
        try:
            self.stop(mode="immediate")
        finally:
            if self.directory is not None:
                shutil.rmtree(self.directory, ignore_errors=True)
                self.directory = None

    # -- SQL helpers --------------------------------------------------------------------

    def create_database(self, name: str | None = None, *, owner: str | None = None) -> str:
        """A fresh database (``test_<random>`` unless named); returns the superuser URL to it."""
        return create_database(self.url, name, owner=owner)

    def drop_database(self, name: str) -> None:
        drop_database(self.url, name)

    # -- internals ----------------------------------------------------------------------

    def _as_user(self) -> dict[str, Any]:
        if not self._user:
            return {}
        return {"user": self._user, "group": _primary_group(self._user), "extra_groups": []}

    def _env(self) -> dict[str, str]:
        keep = ("PATH", "LANG", "LC_ALL", "TZ")
        env = {k: v for k, v in os.environ.items() if k in keep}
        env["HOME"] = str(self._dir)
        env["TMPDIR"] = str(self._dir)
        return env

    def _log_tail(self, size: int = 4000) -> str:
        try:
            return self.log_file.read_text(errors="replace")[-size:]
        except OSError:
            return "(no log)"


def _current_user() -> str:
    import pwd

    return pwd.getpwuid(os.geteuid()).pw_name


def _primary_group(user: str) -> int:
    import pwd

    return pwd.getpwnam(user).pw_gid


def _shared_temp_root() -> str:
    """A temp directory another user can reach (pytest's own may be 0700 root)."""
    root = tempfile.gettempdir()
    path = Path(root).resolve()
    for parent in (path, *path.parents):
        if not parent.stat().st_mode & 0o001:
            return "/tmp"
    return root


def _pid_file_status(pid_file: Path) -> str | None:
    """The postmaster's status line (``starting``/``ready``/...), see pg_ctl."""
    try:
        lines = pid_file.read_text().splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    return lines[7].strip() if len(lines) >= 8 else None


class ExternalPostgres:
    """A running server named by a URL (``CLAUDE_SESSIONS_TEST_POSTGRES_URL``).

    Offers the database helpers of :class:`TemporaryPostgres`; it cannot be
    restarted. The URL's role must be allowed to create databases and roles.
    """

    can_restart = False

    def __init__(self, url: str) -> None:
        self.url = url

    def __repr__(self) -> str:
        parts = urlsplit(self.url)
        return f"<ExternalPostgres {parts.hostname}:{parts.port or 5432}>"

    def create_database(self, name: str | None = None, *, owner: str | None = None) -> str:
        return create_database(self.url, name, owner=owner)

    def drop_database(self, name: str) -> None:
        drop_database(self.url, name)


@contextlib.contextmanager
def temporary_database(url: str) -> Iterator[str]:
    """A fresh database on the server of ``url``, dropped at exit."""
    database_url = create_database(url)
    try:
        yield database_url
    finally:
        drop_database(url, urlsplit(database_url).path.lstrip("/"))
