"""`hooks install --server URL --token T` (issue 27, 2): the URL and token are kept in a
file beside the local store that only its owner may read, never in Claude Code's
settings; `hooks uninstall` leaves it, `--no-server` removes it, and a file others may
read is refused."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from claude_sessions.capture import server_config
from claude_sessions.cli import cli
from claude_sessions.model.exceptions import InvalidInputError

TOKEN = "cs_tok3n-VALUE-never-shown"
URL = "https://team.example:8443/"


def _texts(home: Path) -> dict[str, str]:
    return {str(p): p.read_text() for p in home.rglob("*") if p.is_file()}


def test_the_token_is_kept_beside_the_store_readable_by_its_owner_only(home: Path) -> None:
    store = home / "store"
    result = CliRunner().invoke(
        cli, ["hooks", "install", "--store", str(store), "--server", URL, "--token", TOKEN]
    )
    assert result.exit_code == 0, result.output
    kept = store / "team-server.json"
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert json.loads(kept.read_text()) == {"url": URL.rstrip("/"), "token": TOKEN}
    holding = [path for path, text in _texts(home).items() if TOKEN in text]
    assert holding == [str(kept)]  # not in settings.json, not in the hook's command
    assert TOKEN not in result.output
    assert "https://team.example:8443" in result.output
    loaded = server_config.load(str(store))
    assert loaded == server_config.ServerConfig(URL.rstrip("/"), TOKEN)
    assert TOKEN not in repr(loaded)

    result = CliRunner().invoke(cli, ["hooks", "uninstall"])
    assert result.exit_code == 0 and kept.exists()
    result = CliRunner().invoke(cli, ["hooks", "install", "--store", str(store), "--no-server"])
    assert result.exit_code == 0, result.output
    assert not kept.exists() and server_config.load(str(store)) is None


def test_a_file_others_may_read_is_refused(home: Path) -> None:
    store = home / "store"
    path = server_config.save(str(store), URL, TOKEN)
    os.chmod(path, 0o640)
    with pytest.raises(InvalidInputError, match="chmod 600"):
        server_config.load(str(store))


@pytest.mark.parametrize(
    "url",
    [
        "https://alice:pw@team.example",
        "https://alice@team.example",
        "ftp://team.example",
        "team",
        "http://team.example",  # the token would cross the network in clear
    ],
)
def test_a_server_url_with_credentials_or_no_host_is_refused(home: Path, url: str) -> None:
    before = _texts(home)
    result = CliRunner().invoke(cli, ["hooks", "install", "--server", url, "--token", TOKEN])
    assert result.exit_code != 0
    assert result.stderr.startswith("Error: ")
    assert TOKEN not in result.output and "pw" not in result.stderr
    assert _texts(home) == before


def test_server_and_token_go_together(home: Path) -> None:
    result = CliRunner().invoke(cli, ["hooks", "install", "--server", URL])
    assert result.exit_code == 2 and "--token" in result.stderr


def test_sync_without_a_server_says_how_to_name_one(home: Path) -> None:
    result = CliRunner().invoke(cli, ["sync", "--store", str(home / "store")])
    assert result.exit_code == 2
    assert "--server URL --token T" in result.stderr and "hooks install" in result.stderr


def test_a_capture_with_a_file_others_may_read_stores_the_turn_and_says_why_not_sent(
    home: Path,
) -> None:
    from io import StringIO

    from claude_sessions import SessionStore
    from claude_sessions.capture import hooks

    store = home / "store"
    os.chmod(server_config.save(str(store), URL, TOKEN), 0o644)
    transcript = home / "transcripts" / "s1.jsonl"
    transcript.parent.mkdir()
    entry = {"type": "user", "uuid": "u1", "sessionId": "s1", "cwd": str(home)}
    transcript.write_text(json.dumps({**entry, "message": {"role": "user", "content": "hi"}}))
    payload = {"session_id": "s1", "transcript_path": str(transcript), "hook_event_name": "Stop"}
    line = hooks.capture(StringIO(json.dumps(payload)), str(store), transcripts=[transcript.parent])
    assert "+1 entries" in line
    assert "team server: not sent" in line and "chmod 600" in line and TOKEN not in line
    with SessionStore(str(store), cleanup_after_days=None) as kept:
        assert kept.get_metadata("s1") is not None
