"""A redacted session still works with the real CLI against the fake API: written back
and resumed after ``secrets redact``, and captured redacted by a hook installed with
``--redact`` (on both databases)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from claude_sessions import query, resume
from claude_sessions.runs.locate import find_cli

from .secrets_planted import secrets
from .test_secrets_redact import left

pytestmark = pytest.mark.e2e


def _planted():
    return next(item for item in secrets() if item.rule == "github-pat")


def test_a_redacted_session_is_written_back_and_resumed(cs, fake_claude, store_location):
    planted = _planted()
    origin = cs("query", f"deploy with {planted.text}", "--save").stderr
    origin = origin.split("session: ")[1].split()[0]
    cs("resume", origin, "and then?", "--save")
    assert left(store_location)  # stored as typed
    report = json.loads(cs("secrets", "redact", "--all", "--yes", "--json").stdout)
    assert report["sessions_redacted"] == 1
    assert left(store_location) == []

    shutil.rmtree(Path.home() / ".claude" / "projects", ignore_errors=True)
    cs("write-back", origin[:8])
    fake_claude.clear()
    plain = subprocess.run(  # the plain CLI, as a user would: claude --resume ID
        [find_cli(), "-p", "--resume", origin, "three", "--output-format", "json"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=str(Path.home()),
    )
    assert plain.returncode == 0, plain.stderr
    shown = fake_claude.model_requests[-1]
    assert (shown.count_role("user"), shown.count_role("assistant")) == (3, 2)
    assert f"[REDACTED:{planted.rule}]" in shown.all_text
    assert planted.value not in shown.all_text


def test_a_hook_installed_with_redact_keeps_the_secret_out(cs, fake_claude, store_location):
    planted = _planted()
    cs("hooks", "install", "--redact")
    origin = next(iter(query(f"deploy with {planted.text}")))["session_id"]
    list(resume(origin, "and then?"))
    assert left(store_location) == []
    fake_claude.clear()
    cs("resume", origin, "once more")
    shown = fake_claude.model_requests[-1]
    assert (shown.count_role("user"), shown.count_role("assistant")) == (3, 2)
