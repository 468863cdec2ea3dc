"""Pytest fixtures for testing agent code offline, registered when claude-sessions is installed.

``fake_claude`` starts a :class:`FakeMessagesAPI` on 127.0.0.1 and points every
CLI started during the test at it (temporary HOME and TMPDIR, no network, no
API key needed). Script replies with ``fake_claude.set_script([...])`` and
read what the model was shown in ``fake_claude.model_requests``.

PostgreSQL fixtures are opt-in: see :mod:`.postgres_plugin`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from claude_sessions.testing.server import FakeMessagesAPI, offline_environment


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
