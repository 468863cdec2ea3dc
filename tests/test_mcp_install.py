"""``claude-sessions mcp install`` and ``uninstall``, checked against the real Claude Code CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from claude_sessions import SessionStore
from claude_sessions.cli import cli
from claude_sessions.mcp import install, server_entry
from claude_sessions.runs.locate import find_cli

from .mcp_samples import fill

pytestmark = pytest.mark.e2e

QUIET = {
    "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
    "DISABLE_AUTOUPDATER": "1",
    "DISABLE_TELEMETRY": "1",
    "CLAUDE_SESSIONS_CLEANUP_DAYS": "never",
}


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A fresh HOME (and a project directory inside it, the working directory)."""
    home = tmp_path / "home"
    (home / "project").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("TMPDIR", str(home))
    for name in ("CLAUDE_CONFIG_DIR", "CLAUDE_SESSIONS_STORE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in QUIET.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(home / "project")
    return home


def claude(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """The real Claude Code CLI, with this test's environment (its HOME)."""
    return subprocess.run(
        [find_cli(), *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def ours(*args: str):
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture
def store(tmp_path):
    location = str(tmp_path / "store")
    with SessionStore(location, cleanup_after_days=None) as opened:
        fill(opened)
    return location


def read(path: Path):
    return json.loads(path.read_text())


@pytest.mark.parametrize("scope", ["user", "project"])
def test_install_writes_what_claude_mcp_add_writes(tmp_path, monkeypatch, home, store, scope):
    command = [sys.executable, "-m", "claude_sessions", "mcp", "--store", store, "--allow-write"]
    added = claude("mcp", "add", "--scope", scope, "claude-sessions", "--", *command)
    assert added.returncode == 0, added.stderr
    theirs_home, theirs_project = home, home / "project"

    mine = tmp_path / "mine"
    (mine / "project").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(mine))
    monkeypatch.chdir(mine / "project")
    ours("mcp", "install", "--scope", scope, "--store", store, "--allow-write")

    if scope == "user":
        theirs, mine_file = theirs_home / ".claude.json", mine / ".claude.json"
        assert read(mine_file)["mcpServers"] == read(theirs)["mcpServers"]
        assert read(mine_file)["mcpServers"]["claude-sessions"]["command"] == sys.executable
        assert mine_file.stat().st_mode & 0o777 == theirs.stat().st_mode & 0o777 == 0o600
    else:
        theirs, mine_file = theirs_project / ".mcp.json", mine / "project" / ".mcp.json"
        assert mine_file.read_bytes() == theirs.read_bytes()
        assert not (mine / ".claude.json").exists()


def trust(home: Path, directory: Path) -> None:
    """Mark ``directory`` trusted, as a user who ran ``claude`` there and accepted once."""
    config = home / ".claude.json"
    state = read(config) if config.exists() else {}
    state.setdefault("projects", {}).setdefault(str(directory), {})["hasTrustDialogAccepted"] = True
    config.write_text(json.dumps(state))


def test_the_real_cli_connects_to_the_installed_server(home, store):
    # Claude Code 2.1.337 and later check (start) MCP servers only in a trusted folder.
    trust(home, home / "project")
    ours("mcp", "install", "--store", store)
    found = claude("mcp", "get", "claude-sessions")
    assert found.returncode == 0, found.stderr
    assert "Scope: User config" in found.stdout
    assert "\u2714 Connected" in found.stdout  # it started our server and spoke MCP to it
    assert f"Args: -m claude_sessions mcp --store {store}" in found.stdout
    listed = claude("mcp", "list")
    assert f"claude-sessions: {sys.executable} -m claude_sessions mcp --store {store}" in (
        listed.stdout
    )
    ours("mcp", "uninstall")
    gone = claude("mcp", "get", "claude-sessions")
    assert gone.returncode == 1 and "No MCP server named" in gone.stdout + gone.stderr

    ours("mcp", "install", "--scope", "project", "--store", store)
    shared = claude("mcp", "get", "claude-sessions")
    assert shared.returncode == 0 and "Scope: Project config" in shared.stdout
    assert (home / "project" / ".mcp.json").exists()


def test_install_merges_backs_up_is_idempotent_and_uninstall_removes_only_ours(home, store):
    config = home / ".claude.json"
    other = {"type": "stdio", "command": "other-server", "args": ["--x"], "env": {"K": "v"}}
    original = {
        "numStartups": 3,
        "projects": {"/work/app": {"mcpServers": {"local-one": {"command": "y"}}}},
        "mcpServers": {"other": other},
        "names": "caf\u00e9",
    }
    config.write_text(json.dumps(original, indent=4))
    config.chmod(0o600)
    before = config.read_bytes()

    first = ours("mcp", "install", "--store", store)
    assert first.stdout.startswith(f"Registered claude-sessions in {config}")
    merged = read(config)
    assert {key: merged[key] for key in original if key != "mcpServers"} == {
        key: original[key] for key in original if key != "mcpServers"
    }
    assert merged["mcpServers"] == {"other": other, "claude-sessions": server_entry(store)}
    assert config.stat().st_mode & 0o777 == 0o600
    backup = home / ".claude.json.claude-sessions.bak"
    assert backup.read_bytes() == before

    written = config.read_bytes()
    again = ours("mcp", "install", "--store", store, "--json")
    assert json.loads(again.stdout)["changed"] is False
    assert config.read_bytes() == written and backup.read_bytes() == before

    ours("mcp", "install", "--store", store, "--allow-write")
    assert read(config)["mcpServers"]["claude-sessions"]["args"][-1] == "--allow-write"
    assert backup.read_bytes() == written
    still = claude("mcp", "get", "other")  # the real CLI still reads the merged file
    assert still.returncode == 0 and "Command: other-server" in still.stdout

    removed = ours("mcp", "uninstall")
    assert removed.stdout.startswith(f"Removed claude-sessions from {config}")
    after = read(config)
    assert after["mcpServers"] == {"other": other} and after["projects"] == original["projects"]
    assert "was not registered" in ours("mcp", "uninstall").stdout
    assert read(config) == after


def test_a_config_we_cannot_read_is_left_alone(home):
    config = home / ".claude.json"
    for content in ['{"mcpServers": ', '["a list"]', '{"mcpServers": []}']:
        config.write_text(content)
        result = CliRunner().invoke(cli, ["mcp", "install"])
        assert result.exit_code == 1
        assert result.stderr.startswith(f"Error: {config}") or f"in {config}" in result.stderr
        assert "nothing was changed" in result.stderr
        assert config.read_text() == content
        assert not (home / ".claude.json.claude-sessions.bak").exists()


def test_where_and_what_install_writes(home, tmp_path, monkeypatch):
    url = "postgresql://app@db.internal/claude"  # one with a password is refused
    done = install(location=url)
    assert done.added["env"] == {"CLAUDE_SESSIONS_STORE": url}
    assert done.added["args"] == ["-m", "claude_sessions", "mcp"]  # no password in listings
    relative = install(location="stores/mine")
    assert relative.added["args"][-2:] == ["--store", str(home / "project" / "stores" / "mine")]
    assert install().added["args"] == ["-m", "claude_sessions", "mcp"]

    dotfiles = tmp_path / "dotfiles"
    dotfiles.mkdir()
    (dotfiles / "claude.json").write_text('{"theme": "dark"}')
    (home / ".claude.json").unlink()
    (home / ".claude.json").symlink_to(dotfiles / "claude.json")
    install(location="x")
    assert (home / ".claude.json").is_symlink()
    assert read(dotfiles / "claude.json")["theme"] == "dark"
    assert "claude-sessions" in read(dotfiles / "claude.json")["mcpServers"]

    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "config"))
    moved = install(location="x")
    assert moved.path == tmp_path / "config" / ".claude.json" and moved.path.exists()


def test_install_warns_when_the_store_cannot_be_opened_yet(home, tmp_path):
    result = ours("mcp", "install", "--store", str(tmp_path / "nothing-yet"))
    assert "Warning: the server cannot open the store yet: no session store at" in result.stderr
    assert "claude-sessions" in read(home / ".claude.json")["mcpServers"]


def test_server_options_belong_after_the_subcommand(home):
    misplaced = CliRunner().invoke(cli, ["mcp", "--allow-write", "install"])
    assert misplaced.exit_code == 2 and "after 'install'" in misplaced.stderr
    contradiction = CliRunner().invoke(cli, ["--read-only", "mcp", "--allow-write"])
    assert contradiction.exit_code == 2 and "--read-only" in contradiction.stderr
    assert not os.path.exists(home / ".claude.json")


def test_install_says_whether_claude_code_will_check_the_server_here(home, store):
    """Our trust report agrees with what the real CLI does, a folder above included."""
    untrusted = ours("mcp", "install", "--store", store)
    assert "only in folders you trust: run `claude` here once" in untrusted.stdout
    skipped = claude("mcp", "get", "claude-sessions")
    assert skipped.returncode == 0 and "\u2714 Connected" not in skipped.stdout
    assert (
        json.loads(ours("mcp", "install", "--store", store, "--json").stdout)["trusted_folder"]
        is None
    )

    trust(home, home)  # a folder above the project covers it
    trusted = ours("mcp", "install", "--store", store)
    assert f"this one is trusted (through {home})" in trusted.stdout
    assert "\u2714 Connected" in claude("mcp", "get", "claude-sessions").stdout
    answer = json.loads(ours("mcp", "install", "--store", store, "--json").stdout)
    assert answer["trusted_folder"] == str(home)


def test_install_and_hooks_status_report_the_claude_code_they_found(home, store, monkeypatch):
    monkeypatch.delenv("CLAUDE_SESSIONS_CLI", raising=False)
    version = claude("--version").stdout.split()[0]  # "2.1.337 (Claude Code)"
    assert version.count(".") == 2
    line = f"Claude Code {version} (claude-agent-sdk: {find_cli()})"
    assert line in ours("mcp", "install", "--store", store).stdout.splitlines()
    assert line in ours("hooks", "status", "--store", store).stdout.splitlines()
    for command in (["mcp", "install"], ["hooks", "status"]):
        answer = json.loads(ours(*command, "--store", store, "--json").stdout)
        bundled = {"path": find_cli(), "source": "claude-agent-sdk", "version": version}
        assert answer["claude_code"][0] == bundled  # then `claude` on PATH, if there is one
