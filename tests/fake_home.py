"""A HOME of a test's own: Claude Code's settings and the store's default place go there."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh HOME with a ``project`` folder as the working directory, and no
    CLAUDE_CONFIG_DIR or CLAUDE_SESSIONS_STORE from the environment."""
    home = tmp_path / "home"
    (home / "project").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(home / "project")
    for name in ("CLAUDE_CONFIG_DIR", "CLAUDE_SESSIONS_STORE"):
        monkeypatch.delenv(name, raising=False)
    return home
