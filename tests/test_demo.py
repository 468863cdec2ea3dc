"""`claude-sessions demo`, as a user runs it on a fresh machine: no key, no network."""

import os
import shutil
import subprocess
import sys

import pytest

pytestmark = pytest.mark.e2e


def test_demo_runs_the_whole_flow_offline_without_touching_home(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "CLAUDE_"))}
    env.update(HOME=str(home), COLUMNS="200")
    result = subprocess.run(
        [sys.executable, "-m", "claude_sessions", "demo"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for step in (
        "1. query",
        "2. continue",
        "3. resume",
        "4. fork",
        "5. save",
        "6. search",
        "7. full-text",
    ):
        assert step in out
    assert "Your name is Alice" in out
    assert "I was shown 3 user and 2 assistant messages" in out
    assert "[indexes]" in out
    assert list(home.iterdir()) == []
    browse = out.strip().splitlines()[-1]
    assert browse.startswith("Browse what it stored: claude-sessions serve --store ")
    store = browse.split("--store ")[1].removesuffix(" --open")
    from claude_sessions import SessionStore

    with SessionStore(store, read_only=True) as kept:
        assert len(kept.list_sessions()) == 2
    shutil.rmtree(os.path.dirname(store))
