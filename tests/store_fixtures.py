"""Fixtures for the session-store tests, parametrised over backends.

"sqlite" and "postgresql": every test taking ``store`` or ``store_factory``
runs on both. On PostgreSQL each test gets a fresh database (on the session's
test server, see ``claude_sessions.testing.postgres``) and each distinct
location a schema in it, so a test reopening ``tmp_path / "x"`` reopens the
same store.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

import pytest

from claude_sessions import SessionStore

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


class FakeClock:
    """A settable clock for the store (no sleeping in tests)."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 1, 15, 12, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


StoreFactory = Callable[..., SessionStore]


@pytest.fixture(params=BACKENDS)
def store_factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreFactory]:
    """``store_factory(**kwargs)`` opens a fresh store (a new database each call
    unless ``location=`` is given); every store is closed after the test."""
    opened: list[SessionStore] = []
    counter = iter(range(1_000_000))
    database: list[str] = []  # PostgreSQL: this test's database, made on first use
    schemas: dict[str, str] = {}
    server: list[Any] = []

    def postgres_location(location: Any) -> str:
        if not database:
            server.append(request.getfixturevalue("postgres_server"))
            database.append(server[0].create_database())
        key = str(location) if location is not None else f"fresh-{next(counter)}"
        schema = schemas.setdefault(key, f"store{len(schemas)}")
        return f"{database[0]}?schema={schema}"

    def make(location: Any = None, **kwargs: Any) -> SessionStore:
        if request.param == "sqlite":
            if location is None:
                where = tmp_path / f"store{next(counter)}"
            elif Path(str(location)).is_absolute():
                where = location
            else:  # a name: a store of this test's own, never one in the working directory
                where = tmp_path / str(location)
        else:
            where = postgres_location(location)
        kwargs.setdefault("cleanup_after_days", None)
        store = SessionStore(where, **kwargs)
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()
    if database:
        server[0].drop_database(database[0].rsplit("/", 1)[1].split("?")[0])


@pytest.fixture(params=BACKENDS)
def store_location(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A location string for a fresh store, for tests that open it from other processes."""
    if request.param == "sqlite":
        yield str(tmp_path / "shared")
        return
    server = request.getfixturevalue("postgres_server")
    url = server.create_database()
    yield url
    server.drop_database(url.rsplit("/", 1)[1])


@pytest.fixture
def hook_store_location(
    store_location: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> str:
    """``store_location`` as a laptop names it in Claude Code's settings: a PostgreSQL
    URL without its password, which libpq finds in a ``PGPASSFILE`` (set here)."""
    if not store_location.startswith("postgresql://"):
        return store_location
    parts = urlsplit(store_location)
    assert parts.password and parts.hostname and parts.port, store_location
    pgpass = tmp_path / "pgpass"
    fields = [
        parts.hostname,
        str(parts.port),
        "*",
        unquote(parts.username or ""),
        unquote(parts.password),
    ]
    pgpass.write_text(":".join(f.replace("\\", "\\\\").replace(":", "\\:") for f in fields) + "\n")
    pgpass.chmod(0o600)
    monkeypatch.setenv("PGPASSFILE", str(pgpass))
    return urlunsplit(parts._replace(netloc=f"{parts.username}@{parts.hostname}:{parts.port}"))


@pytest.fixture
def store(store_factory: StoreFactory) -> SessionStore:
    return store_factory()


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def cs(
    fake_claude: Any, hook_store_location: str, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., subprocess.CompletedProcess[str]]:
    """``claude-sessions`` in a subprocess, on this test's store (SQLite or PostgreSQL, named
    as Claude Code's settings would: no password in the URL), with the fake Claude."""
    monkeypatch.setenv("CLAUDE_SESSIONS_STORE", hook_store_location)
    monkeypatch.setenv("CLAUDE_SESSIONS_CLEANUP_DAYS", "never")

    def run(*args: str, code: int = 0) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [sys.executable, "-m", "claude_sessions", *args],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == code, (done.stdout, done.stderr)
        return done

    return run
