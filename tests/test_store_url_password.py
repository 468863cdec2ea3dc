"""A store URL with a password is never written into Claude Code's settings (issue 27, 4).

Laptops hold no database credentials: `hooks install`, `statusline install` and
`mcp install` refuse a location carrying a password, with one line pointing to a
team server (--server) and to ~/.pgpass or a service file, and write nothing.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from claude_sessions.cli import cli

WITH_PASSWORD = [
    "postgresql://app:s3cret@db.internal/claude",
    "postgres://app:s3cret@db.internal:5433/claude?schema=team",
    "postgresql://app@db.internal/claude?password=s3cret",
    "host=db.internal dbname=claude user=app password=s3cret",
]
WITHOUT_PASSWORD = [
    "postgresql://app@db.internal/claude",
    "postgresql://db.internal/claude?sslmode=require",
    "host=db.internal dbname=claude user=app",
    "service=claude",
]
COMMANDS = [["hooks", "install"], ["statusline", "install"], ["mcp", "install"]]


def settings_files(home: Path) -> dict[str, str]:
    """Every file under HOME, with its text: what an install could have written."""
    return {str(p): p.read_text() for p in home.rglob("*") if p.is_file()}


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
@pytest.mark.parametrize("url", WITH_PASSWORD)
def test_a_url_with_a_password_is_refused_and_nothing_is_written(home, command, url):
    before = settings_files(home)
    result = CliRunner().invoke(cli, [*command, "--store", url])
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ")
    assert "--server" in lines[0] and ".pgpass" in lines[0] and "service file" in lines[0]
    assert "s3cret" not in result.output
    assert settings_files(home) == before


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
@pytest.mark.parametrize("url", WITHOUT_PASSWORD)
def test_a_url_without_a_password_is_installed(home, command, url):
    result = CliRunner().invoke(cli, [*command, "--store", url])
    assert result.exit_code == 0, result.output
    written = "\n".join(settings_files(home).values())
    # The URL stands in the settings as typed (JSON-escaped, maybe shell-quoted).
    assert json.dumps(url)[1:-1] in written or url.split()[0] in written
