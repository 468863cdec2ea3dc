"""The temporary PostgreSQL server the PostgreSQL tests run against."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psycopg
import pytest

from claude_sessions.testing import postgres as pgmod
from claude_sessions.testing.postgres import (
    ExternalPostgres,
    PostgresNotFoundError,
    TemporaryPostgres,
    find_bindir,
    temporary_database,
)

pytestmark = pytest.mark.postgres


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead for our purposes.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def test_find_bindir_finds_the_server_binaries() -> None:
    bindir = find_bindir()
    assert (bindir / "initdb").is_file()
    assert (bindir / "postgres").is_file()


def test_find_bindir_fails_loudly_without_binaries(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(pgmod, "SEARCH_GLOB", str(tmp_path / "nothing" / "*" / "bin"))
    with pytest.raises(PostgresNotFoundError, match="apt-get install postgresql"):
        find_bindir()


def test_lifecycle_restart_and_cleanup() -> None:
    with TemporaryPostgres() as pg:
        directory = pg.directory
        assert directory is not None and directory.is_dir()
        assert pg.url.startswith("postgresql://postgres:")
        assert pg.password not in repr(pg)
        assert _port_open(pg.port)
        # Unix socket inside the temporary directory.
        assert list(pg.socket_dir.glob(".s.PGSQL.*"))
        if os.geteuid() == 0:
            # The server refuses root: it runs as an unprivileged user.
            assert pg.data_dir.stat().st_uid != 0
        with psycopg.connect(pg.url) as conn:
            conn.execute("CREATE TABLE kept (x int)")
            conn.execute("INSERT INTO kept VALUES (42)")
        port = pg.port
        pg.restart()
        assert pg.port == port
        with psycopg.connect(pg.url) as conn:
            assert conn.execute("SELECT x FROM kept").fetchone() == (42,)
        assert pg._process is not None
        pid = pg._process.pid
    assert not directory.exists()
    assert not pg.running
    assert not _pid_alive(pid)
    assert not _port_open(port)


def test_cleanup_also_on_error() -> None:
    class BoomError(Exception):
        pass

    seen: list[tuple[Path | None, int]] = []

    def body() -> None:
        with TemporaryPostgres() as pg:
            seen.append((pg.directory, pg.port))
            raise BoomError

    with pytest.raises(BoomError):
        body()
    directory, port = seen[0]
    assert directory is not None and not directory.exists()
    assert not _port_open(port)


def test_tcp_needs_the_password(postgres_server: TemporaryPostgres | ExternalPostgres) -> None:
    if not isinstance(postgres_server, TemporaryPostgres):
        pytest.skip("the password rule is the temporary server's own")
    bad = postgres_server.url_for("postgres", password="wrong")
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(bad, connect_timeout=5)


def test_each_test_gets_a_fresh_database(postgres_database: str, postgres_url: str) -> None:
    name = postgres_database.rsplit("/", 1)[1]
    assert name.startswith("test_")
    with psycopg.connect(postgres_database) as conn:
        tables = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchone()
        assert tables == (0,)
        assert conn.execute("SELECT current_database()").fetchone() == (name,)
    with psycopg.connect(postgres_url) as conn:
        assert conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()


def test_temporary_database_is_dropped_even_with_open_connections(postgres_url: str) -> None:
    with temporary_database(postgres_url) as url:
        name = url.rsplit("/", 1)[1]
        lingering = psycopg.connect(url)
    try:
        with psycopg.connect(postgres_url) as conn:
            row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            assert row is None
    finally:
        lingering.close()


def test_external_server_helpers(postgres_url: str) -> None:
    external = ExternalPostgres(postgres_url)
    assert not external.can_restart
    url = external.create_database("test_external_helpers")
    try:
        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT current_database()").fetchone() == (
                "test_external_helpers",
            )
    finally:
        external.drop_database("test_external_helpers")
    assert "@" not in repr(external)


def test_server_dies_with_the_process_that_started_it(tmp_path: Path) -> None:
    """A test run killed with SIGKILL leaves no server behind."""
    script = textwrap.dedent(
        """
        import time
        from claude_sessions.testing.postgres import TemporaryPostgres
        pg = TemporaryPostgres().__enter__()
        print(pg._process.pid, pg.port, pg.directory, flush=True)
        time.sleep(120)
        """
    )
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    pid_text, port_text, directory = child.stdout.readline().split()
    try:
        assert _pid_alive(int(pid_text))
        child.kill()
        child.wait()
        deadline = time.monotonic() + 15
        while _pid_alive(int(pid_text)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _pid_alive(int(pid_text))
        assert not _port_open(int(port_text))
    finally:
        subprocess.run(["rm", "-rf", directory], check=False)
