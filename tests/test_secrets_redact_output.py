"""Redaction on output and on the command line: ``show``, ``export`` and ``serve`` with
``--redact``, the MCP server (redacting by default), ``import --redact``, ``secrets
redact`` (asking first) and ``secrets policy``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from claude_sessions import SessionStore
from claude_sessions.cli import cli as root
from claude_sessions.mcp.server import _answer
from claude_sessions.mcp.tools import available_tools
from claude_sessions.web import create_app

from .secrets_planted import main_entries, secrets, subagent_entries, write_transcripts

SESSION = "5ec2e75e-0000-4000-8000-000000000026"
AGENT = "subagents/agent-a1"


def found_in(text: str | bytes) -> list[str]:
    """The planted secrets' rules of which a piece shows in ``text``."""
    data = text.encode() if isinstance(text, str) else text
    shown = []
    for item in secrets():
        pieces = [line.encode() for line in item.value.split("\n") if len(line) >= 8]
        if any(piece in data for piece in pieces):
            shown.append(item.rule)
    return shown


@pytest.fixture
def location(tmp_path: Path) -> str:
    where = str(tmp_path / "store")
    with SessionStore(where, cleanup_after_days=None) as store:
        first = secrets()[0]
        store.save_session(SESSION, main_entries(SESSION), description=f"uses {first.text}")
        store.append_messages(SESSION, subagent_entries(SESSION), subpath=AGENT)
    return where


def cli(*args: str, answer: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(root, list(args), input=answer, catch_exceptions=False)
    return result.exit_code, result.output


EVERY = len(secrets())


@pytest.mark.parametrize(
    "args",
    [
        ("show", SESSION, "--format", "json"),
        ("show", SESSION, "--format", "markdown"),
        ("show", SESSION),
        ("export", SESSION, "--format", "markdown"),
        ("export", SESSION, "--format", "html"),
        ("export", SESSION, "--format", "json"),
    ],
    ids=" ".join,
)
def test_show_and_export_redact_when_told(location, args):
    code, plain = cli(*args, "--store", location)
    assert code == 0 and len(found_in(plain)) == EVERY  # the output shows them unless told
    code, redacted = cli(*args, "--redact", "--store", location)
    assert code == 0
    assert found_in(redacted) == []
    assert "[REDACTED:" in redacted


def test_export_all_with_redact_writes_no_secret(location, tmp_path):
    out = tmp_path / "out"
    code, _ = cli("export", "--all", "--redact", "-o", str(out), "--store", location)
    assert code == 0
    written = list(out.iterdir())
    assert written and all(found_in(path.read_bytes()) == [] for path in written)


def test_every_page_of_a_redacting_server_hides_the_secrets(location):
    with SessionStore(location, cleanup_after_days=None) as store:
        pages = [
            "/",
            f"/?q={secrets()[1].value[:6]}",
            f"/s/{SESSION}",
            f"/s/{SESSION}/turns",
            f"/s/{SESSION}/facts",
            f"/s/{SESSION}/download/markdown",
            f"/s/{SESSION}/download/json",
            f"/s/{SESSION}/download/html",
        ]
        with TestClient(create_app(store)) as plain:
            assert len(found_in(plain.get(f"/s/{SESSION}").content)) == EVERY
        with TestClient(create_app(store, redact=True)) as client:
            for page in pages:
                answer = client.get(page)
                assert answer.status_code == 200, page
                assert found_in(answer.content) == [], page


def test_the_mcp_server_redacts_unless_told_not_to(location):
    tools = available_tools()
    with SessionStore(location, read_only=True) as store:
        asked = {"session_id": SESSION}
        assert found_in(_answer(store, "get_session", asked, tools).text) == []
        plain = _answer(store, "get_session", asked, tools, redact=False).text
        assert found_in(plain)
        listed = _answer(store, "list_sessions", {}, tools).text
        assert found_in(listed) == []


def test_secrets_redact_asks_first_and_stops_on_no(location):
    code, output = cli("secrets", "redact", "--all", "--store", location, answer="n\n")
    assert code != 0 and "cannot be undone" in output
    code, shown = cli("show", SESSION, "--format", "json", "--store", location)
    assert len(found_in(shown)) == EVERY


def test_secrets_redact_rewrites_the_store_and_says_what(location):
    code, output = cli("secrets", "redact", SESSION[:8], "--yes", "--json", "--store", location)
    assert code == 0
    report = json.loads(output)
    assert report["sessions_redacted"] == 1 and report["scrubbed"] is True
    assert set(report["redacted"][0]["rules"]) == {item.rule for item in secrets()}
    code, shown = cli("show", SESSION, "--format", "json", "--store", location)
    assert found_in(shown) == []
    code, text = cli("show", SESSION, "--format", "markdown", "--store", location)
    assert "**Redacted:**" in text
    with SessionStore(location, read_only=True) as store, TestClient(create_app(store)) as web:
        panel = web.get(f"/s/{SESSION}/facts").text
    assert "Redacted</dt>" in panel
    assert report["redacted"][0]["rules"][0] in panel
    code, listed = cli("list", "--json", "--store", location)
    (meta,) = json.loads(listed)
    assert meta["redacted_at"] and set(meta["redacted_rules"]) == set(
        report["redacted"][0]["rules"]
    )


def test_secrets_redact_needs_ids_or_all(location):
    code, output = cli("secrets", "redact", "--yes", "--store", location)
    assert code == 2 and "--all" in output


def test_the_policy_command_and_an_import_obeying_it(tmp_path):
    where = str(tmp_path / "store")
    assert (
        cli("secrets", "policy", "redact-on-capture", "--store", where)[1].strip().endswith("off")
    )
    code, output = cli("secrets", "policy", "redact-on-capture", "on", "--store", where)
    assert code == 0 and output.strip().endswith("on")
    write_transcripts(tmp_path / "projects", SESSION)
    code, output = cli("import", str(tmp_path / "projects"), "--json", "--store", where)
    assert code == 0 and json.loads(output)["redacted_lines"] > 0
    code, shown = cli("show", SESSION, "--format", "json", "--store", where)
    assert found_in(shown) == [] and "[REDACTED:" in shown


def test_import_with_redact(tmp_path):
    where = str(tmp_path / "store")
    write_transcripts(tmp_path / "projects", SESSION)
    code, _ = cli("import", str(tmp_path / "projects"), "--redact", "--store", where)
    assert code == 0
    code, shown = cli("show", SESSION, "--format", "json", "--store", where)
    assert found_in(shown) == []
