"""Pytest fixtures for testing agent code offline, registered when claude-sessions is installed.

``fake_claude`` starts a :class:`FakeMessagesAPI` on 127.0.0.1 and points every
CLI started during the test at it (temporary HOME and TMPDIR, no network, no
API key needed). Script replies with ``fake_claude.set_script([...])`` and
read what the model was shown in ``fake_claude.model_requests``.

``postgres_server`` / ``postgres_url`` give the session a PostgreSQL server: a
temporary one from this machine's binaries (started once, stopped at the end),
or the running server named by ``$CLAUDE_SESSIONS_TEST_POSTGRES_URL``.
``postgres_database`` is a fresh database for one test, dropped afterwards.
Missing binaries are an error, not a skip.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from .postgres import ExternalPostgres, TemporaryPostgres
from .server import FakeMessagesAPI, offline_environment

POSTGRES_URL_ENV = "CLAUDE_SESSIONS_TEST_POSTGRES_URL"


@pytest.fixture
def fake_claude_server() -> Iterator[FakeMessagesAPI]:
    """A running fake Messages API, stopped after the test; the environment is untouched."""
    with FakeMessagesAPI() as api:
        yield api


@pytest.fixture
def fake_claude(
    fake_claude_server: FakeMessagesAPI,
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> FakeMessagesAPI:
    """A fake Messages API that every CLI run in this test talks to.

    The process environment is patched (and restored afterwards) with the
    variables of :func:`offline_environment`, HOME being a fresh directory, and
    the working directory moves to a fresh project directory inside it.
    """
    home = tmp_path_factory.mktemp("claude-home")
    for name, value in offline_environment(fake_claude_server.url, str(home)).items():
        monkeypatch.setenv(name, value)
    for name in ("CLAUDE_CONFIG_DIR", "ANTHROPIC_AUTH_TOKEN", "CLAUDE_SESSIONS_STORE"):
        monkeypatch.delenv(name, raising=False)
    project = Path(home, "project")
    project.mkdir()
    monkeypatch.chdir(project)
    return fake_claude_server


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
