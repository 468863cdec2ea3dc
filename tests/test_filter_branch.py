"""``--branch``: sessions by the git branch they ran on, in every face, on both databases.

Claude Code writes the branch into each transcript entry (``gitBranch``); the
store keeps it as ``git_branch``. The filter was added by its definition alone.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from claude_sessions import SessionStore
from claude_sessions.cli import cli
from claude_sessions.mcp.tools import available_tools, call_tool
from claude_sessions.model.filters import SessionFilter
from claude_sessions.views.stats import compute_stats
from claude_sessions.web import create_app

from .transcript_samples import conversation, sid

BRANCHES = {1: "main", 2: "feature/login", 3: "feature/login", 4: "main", 5: "fix-login"}


@pytest.fixture
def location(store_location: str) -> str:
    with SessionStore(store_location, cleanup_after_days=None) as store:
        for n, branch in BRANCHES.items():
            entries = conversation(sid(n), [f"work on {branch}"])
            for entry in entries:
                if "gitBranch" in entry:
                    entry["gitBranch"] = branch
            store.save_session(sid(n), entries)
    return store_location


def on(branch: str) -> list[str]:
    """The sessions on ``branch``, from the test's own table."""
    return sorted(sid(n) for n, name in BRANCHES.items() if name == branch)


def cs(*args: str) -> str:
    done = CliRunner().invoke(cli, list(args))
    assert done.exit_code == 0, done.output
    return done.stdout


def test_the_library(location: str) -> None:
    with SessionStore(location, cleanup_after_days=None) as store:
        assert sorted(m.session_id for m in store.search(branch="feature/login")) == on(
            "feature/login"
        )
        assert sorted(m.session_id for m in store.list_sessions(branch="main")) == on("main")
        assert store.search(branch="feature") == []  # the whole name, not a part of it
        where = SessionFilter(branch="fix-login")
        assert sum(bucket.sessions for bucket in store.usage((), where)) == 1
        assert compute_stats(store, where).sessions == 1
        assert [m.git_branch for m in store.search(where)] == ["fix-login"]


def test_the_command_line(location: str, tmp_path: Path) -> None:
    listed = json.loads(cs("list", "--branch", "main", "--json", "--store", location))
    assert sorted(s["session_id"] for s in listed) == on("main")
    found = json.loads(cs("search", "work", "--branch", "main", "--json", "--store", location))
    assert sorted(s["session_id"] for s in found) == on("main")
    stats = json.loads(cs("stats", "--branch", "feature/login", "--json", "--store", location))
    assert stats["sessions"] == len(on("feature/login"))
    out = tmp_path / "exported"
    cs("export", "--all", "--branch", "main", "-o", str(out), "--store", location)
    assert sorted(path.stem for path in out.iterdir()) == on("main")


def test_the_command_line_as_a_process(location: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "claude_sessions", "list", "--branch", "fix-login", "--json"],
        capture_output=True,
        text=True,
        env={
            "CLAUDE_SESSIONS_STORE": location,
            "PATH": "",
            "CLAUDE_SESSIONS_CLEANUP_DAYS": "never",
        },
        check=True,
    )
    assert [s["session_id"] for s in json.loads(done.stdout)] == on("fix-login")


def test_the_web_app(location: str) -> None:
    with (
        SessionStore(location, cleanup_after_days=None) as store,
        TestClient(create_app(store)) as client,
    ):
        page = client.get("/", params={"branch": "main"}).text
        assert sorted(re.findall(r'<a class="title" href="/s/([^"]+)"', page)) == on("main")
        assert 'name="branch" value="main"' in page  # the form shows what it filters on
        usage = client.get("/usage", params={"branch": "feature/login", "last": "all"}).text
        assert 'name="branch" value="feature/login"' in usage
        top = re.findall(r'<a class="title" href="/s/([^"]+)"', usage)
        assert sorted(top) == on("feature/login")


def test_the_mcp_tools(location: str) -> None:
    tools = available_tools()
    with SessionStore(location, read_only=True) as store:

        def answer(name: str, **arguments: object) -> dict[str, object]:
            outcome = call_tool(store, name, arguments, tools)
            assert not outcome.is_error, outcome.text
            return json.loads(outcome.text)  # type: ignore[no-any-return]

        searched = answer("search_sessions", text="work", branch="main")["sessions"]
        assert sorted(s["session_id"] for s in searched) == on("main")  # type: ignore[index]
        listed = answer("list_sessions", branch="fix-login")["sessions"]
        assert [s["session_id"] for s in listed] == on("fix-login")  # type: ignore[index]
        assert answer("session_stats", branch="feature/login")["sessions"] == 2
