"""Opt-in pytest fixtures for a PostgreSQL server: ``pytest_plugins = [
"claude_sessions.testing.postgres_plugin"]`` in a ``conftest.py``.

``postgres_server`` / ``postgres_url`` give the test session a PostgreSQL
server: a temporary one from this machine's binaries (started once, stopped
at the end), or the running server named by
``$CLAUDE_SESSIONS_TEST_POSTGRES_URL``. ``postgres_database`` is a fresh
database for one test, dropped afterwards. Missing binaries are an error,
not a skip.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from claude_sessions.testing.postgres import ExternalPostgres, TemporaryPostgres

POSTGRES_URL_ENV = "CLAUDE_SESSIONS_TEST_POSTGRES_URL"


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[TemporaryPostgres | ExternalPostgres]:
    """The PostgreSQL server of this test session (see :mod:`.postgres`)."""
    external = os.environ.get(POSTGRES_URL_ENV)
    if external:
        yield ExternalPostgres(external)
        return
    with TemporaryPostgres() as server:
        yield server


@pytest.fixture(scope="session")
def postgres_url(postgres_server: TemporaryPostgres | ExternalPostgres) -> str:
    """A superuser URL of the session's PostgreSQL server (its maintenance database)."""
    return postgres_server.url


@pytest.fixture
def postgres_database(postgres_server: TemporaryPostgres | ExternalPostgres) -> Iterator[str]:
    """The URL of a fresh, empty database for this test; dropped afterwards."""
    url = postgres_server.create_database()
    yield url
    if not isinstance(postgres_server, TemporaryPostgres) or postgres_server.running:
        postgres_server.drop_database(url.rsplit("/", 1)[1])
