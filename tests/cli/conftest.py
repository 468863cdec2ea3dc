"""Fixtures of the ``CliRunner`` tests: a populated store and a way to run commands on it."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from claude_sessions import SessionStore
from claude_sessions.cli import cli

from .samples import ENV, populate


@pytest.fixture
def store(store_location):
    """The store the commands open (by its full location: URLs keep their password)."""
    with SessionStore(store_location, cleanup_after_days=None) as opened:
        yield opened


@pytest.fixture
def ids(store):
    return populate(store)


@pytest.fixture
def invoke(store_location):
    runner = CliRunner()

    def run(*args, stdin=None):
        return runner.invoke(
            cli, list(args), env=ENV | {"CLAUDE_SESSIONS_STORE": store_location}, input=stdin
        )

    return run
