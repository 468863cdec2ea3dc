"""``claude-sessions statusline``: the line Claude Code shows, and its install (real processes)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from datetime import datetime, timezone

import pytest
from click.testing import CliRunner

from claude_sessions import SessionStore
from claude_sessions.capture import status_line
from claude_sessions.cli import cli
from claude_sessions.views import budgets

from .store_samples import run

SID = "11111111-2222-4333-8444-555555555555"
NOW = datetime(2026, 3, 15, 12, 0, tzinfo=timezone.utc)
YELLOW, RED = "\x1b[33m", "\x1b[1;31m"


def payload(**extra):
    """The JSON Claude Code documents for its status line command."""
    return {
        "hook_event_name": "Status",
        "session_id": SID,
        "transcript_path": "/nowhere/transcript.jsonl",
        "cwd": "/work",
        "model": {"id": "claude-opus-4-6", "display_name": "Opus"},
        "workspace": {"current_dir": "/work", "project_dir": "/work"},
        "version": "2.1.337",
        "cost": {"total_cost_usd": 0.5, "total_duration_ms": 45000},
        **extra,
    }


def statusline(stdin: str, store, *args, **env):
    environment = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "TERM")}
    done = subprocess.run(
        [sys.executable, "-m", "claude_sessions", "statusline", "--store", str(store), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env={**environment, **env},
        timeout=60,
    )
    assert done.returncode == 0 and done.stderr == ""
    assert done.stdout.count("\n") == 1  # one line
    return done.stdout.rstrip("\n")


def test_without_a_store_it_says_so_and_creates_none(tmp_path):
    where = tmp_path / "store"
    line = statusline(json.dumps(payload()), where)
    assert line == "Opus | session $0.50 | no sessions stored yet"  # Claude Code's own cost
    assert not where.exists()


@pytest.mark.parametrize("stdin", ["", "not json", "[1, 2]", '{"model": 3, "cost": "x"}'])
def test_any_input_gives_a_line_and_exit_0(tmp_path, stdin):
    assert statusline(stdin, tmp_path / "store").startswith("Claude | no sessions stored yet")


def test_a_broken_store_still_gives_the_model(tmp_path):
    broken = tmp_path / "broken.db"
    broken.write_bytes(b"not a database at all" * 100)
    line = statusline(json.dumps(payload()), broken)
    assert line.startswith("Opus | store unavailable (")


def test_a_stored_session_shows_its_stored_cost(tmp_path):
    where = tmp_path / "store"
    with SessionStore(where, cleanup_after_days=None) as store:
        store.save_session(SID, run(SID, cost=1.25))
        store.save_session("other", run("other", cost=0.5))
    line = statusline(json.dumps(payload()), where)
    assert line.startswith("Opus | session $1.25 | today $")


def test_an_unstored_session_is_counted_from_its_transcript(tmp_path):
    """Two Sonnet 4.5 replies of 100k tokens in and 20k out: 2 x ($0.30 + $0.30) = $1.20;
    only where the capture hook may read (else Claude Code's own figure is shown)."""
    transcript = tmp_path / "claude" / "projects" / "-work" / f"{SID}.jsonl"
    transcript.parent.mkdir(parents=True)
    reply = {
        "type": "assistant",
        "sessionId": SID,
        "message": {
            "role": "assistant",
            "model": "claude-sonnet-4-5",
            "content": [{"type": "text", "text": "ok"}],
            "usage": {"input_tokens": 100_000, "output_tokens": 20_000},
        },
    }
    lines = [
        {**reply, "uuid": f"u{n}", "message": {**reply["message"], "id": f"m{n}"}} for n in range(2)
    ]
    transcript.write_text("".join(json.dumps(line) + "\n" for line in lines) + '{"half a li')
    outside = tmp_path / "elsewhere" / f"{SID}.jsonl"
    outside.parent.mkdir()
    outside.write_text(transcript.read_text())
    for path, shown in ((transcript, "$1.20"), (outside, "$9.99")):
        stdin = json.dumps(payload(transcript_path=str(path), cost={"total_cost_usd": 9.99}))
        line = statusline(stdin, tmp_path / "store", CLAUDE_CONFIG_DIR=str(tmp_path / "claude"))
        assert line == f"Opus | session {shown} | no sessions stored yet"


@pytest.fixture
def spent(store_factory, fake_clock):
    """$2.50 spent today, $3.50 this month (UTC), and the session of the line stored."""
    store = store_factory(clock=fake_clock)
    for sid, moment, cost in [
        ("feb", datetime(2026, 2, 28, 23, 0), 7.0),
        ("mar1", datetime(2026, 3, 1, 0, 0), 1.0),
        (SID, datetime(2026, 3, 15, 0, 0), 2.0),
        ("noon", datetime(2026, 3, 15, 11, 0), 0.5),
    ]:
        fake_clock.now = moment.replace(tzinfo=timezone.utc)
        store.save_session(sid, run(sid, cost=cost))
    return store


def _render(*, colour):
    return status_line.render(io.StringIO(json.dumps(payload())), colour=colour, now=NOW)


def test_the_line_says_plainly_when_budgets_are_near_or_spent(spent, monkeypatch):
    monkeypatch.setattr(status_line, "_open_existing", lambda location: _Reopened(spent))
    assert _render(colour=True) == "Opus | session $2.00 | today $2.50"
    budgets.set_budgets(spent, daily=3.0, monthly=3.5)
    assert _render(colour=False) == (
        "Opus | session $2.00 | today $2.50 | daily budget 83% used ($3.00)"
        " | OVER monthly budget (100% of $3.50)"
    )
    coloured = _render(colour=True)
    assert f"{YELLOW}daily budget 83% used ($3.00)\x1b[0m" in coloured
    assert f"{RED}OVER monthly budget (100% of $3.50)\x1b[0m" in coloured
    budgets.set_budgets(spent, daily=100, monthly=100)
    assert _render(colour=True) == "Opus | session $2.00 | today $2.50"


class _Reopened:
    """The test's store, which the line closes when done (left open for the test)."""

    def __init__(self, store: SessionStore) -> None:
        self.store = store

    def __getattr__(self, name):
        return getattr(self.store, name)

    def close(self) -> None:
        pass


def test_colour_follows_no_color_and_the_flag(tmp_path):
    where = tmp_path / "store"
    with SessionStore(where, cleanup_after_days=None) as store:
        store.save_session(SID, run(SID, cost=2.0))
        budgets.set_budgets(store, daily=1.0)  # created now: spent today
    stdin = json.dumps(payload())
    assert f"{RED}OVER daily budget (200% of $1.00)" in statusline(stdin, where)
    for plain in (statusline(stdin, where, NO_COLOR="1"), statusline(stdin, where, "--no-color")):
        assert "\x1b" not in plain and plain.endswith("| OVER daily budget (200% of $1.00)")


# -- install and uninstall ----------------------------------------------------------------


@pytest.fixture
def claude_home(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("CLAUDE_CONFIG_DIR", raising=False)
    return home


def test_install_merges_backs_up_and_is_idempotent(claude_home, tmp_path):
    settings = claude_home / ".claude" / "settings.json"
    settings.parent.mkdir()
    before = {"model": "opus", "statusLine": {"type": "command", "command": "~/mine.sh"}}
    settings.write_text(json.dumps(before))
    runner = CliRunner()
    done = runner.invoke(cli, ["statusline", "install", "--store", str(tmp_path / "s")])
    assert done.exit_code == 0 and "Installed the status line" in done.output
    config = json.loads(settings.read_text())
    assert config["model"] == "opus"
    command = config["statusLine"]["command"]
    assert config["statusLine"]["type"] == "command"
    assert command.split()[1:] == [
        "-m", "claude_sessions", "statusline", "--store", str(tmp_path / "s")
    ]  # fmt: skip
    backup = settings.with_name("settings.json.claude-sessions.bak")
    assert json.loads(backup.read_text()) == before
    again = runner.invoke(cli, ["statusline", "install", "--store", str(tmp_path / "s")])
    assert "already installed" in again.output and json.loads(settings.read_text()) == config
    # The installed command works as Claude Code runs it: through a shell, JSON on stdin.
    shown = subprocess.run(
        command, shell=True, input=json.dumps(payload()), capture_output=True, text=True
    )
    assert shown.returncode == 0 and shown.stdout.startswith("Opus | session $0.50")
    removed = runner.invoke(cli, ["statusline", "uninstall"])
    assert removed.exit_code == 0 and "Removed the status line" in removed.output
    assert json.loads(settings.read_text()) == {"model": "opus"}


def test_uninstall_leaves_another_status_line_alone(claude_home):
    settings = claude_home / ".claude" / "settings.json"
    settings.parent.mkdir()
    theirs = {"statusLine": {"type": "command", "command": "~/mine.sh"}}
    settings.write_text(json.dumps(theirs))
    done = CliRunner().invoke(cli, ["statusline", "uninstall", "--json"])
    assert json.loads(done.output)["changed"] is False
    assert json.loads(settings.read_text()) == theirs
