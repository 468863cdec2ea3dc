"""Transcripts the bundled Claude Code CLI writes against the fake Messages API, for tests
that need real files of a given shape (no tests here).

:func:`write_family` runs the real CLI once: an origin of two turns, a fork of it
(``--resume ID --fork-session``) resumed once more, a fork of that fork, and an
unrelated session in the same project. Each reply has its own token counts, so a
request counted for the wrong session shows in the figures.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from claude_sessions import Session, fork, query, resume
from claude_sessions.testing.server import FakeMessagesAPI, Reply, offline_environment

# Tokens in and out of each reply, in the order the runs below ask for them.
REPLIES = [
    Reply("Hello Alice.", input_tokens=101, output_tokens=11),
    Reply("Tables: users, posts.", input_tokens=203, output_tokens=23),
    Reply("GraphQL it is.", input_tokens=307, output_tokens=37),
    Reply("Subscriptions added.", input_tokens=409, output_tokens=41),
    Reply("REST after all.", input_tokens=503, output_tokens=53),
    Reply("Green tests at dawn.", input_tokens=601, output_tokens=61),
]


@dataclass(frozen=True)
class Family:
    """Where the CLI wrote the transcripts (``projects/<project>/<id>.jsonl``)."""

    projects: Path
    project: Path
    origin: str
    fork: str  # forked from origin, then resumed
    grandchild: str  # forked from fork
    other: str  # a session of its own in the same project

    def path(self, session_id: str) -> Path:
        return self.project / f"{session_id}.jsonl"

    def entries(self, session_id: str) -> list[dict[str, Any]]:
        lines = self.path(session_id).read_text().splitlines()
        return [json.loads(line) for line in lines if line.strip()]


def write_family(home: Path) -> Family:
    """Run the CLI with HOME at ``home`` (the environment is restored afterwards)."""
    with FakeMessagesAPI() as api, pytest.MonkeyPatch.context() as patch:
        for name, value in offline_environment(api.url, str(home)).items():
            patch.setenv(name, value)
        for name in ("CLAUDE_CONFIG_DIR", "ANTHROPIC_AUTH_TOKEN", "CLAUDE_SESSIONS_STORE"):
            patch.delenv(name, raising=False)
        (home / "project").mkdir()
        patch.chdir(home / "project")
        api.set_script(REPLIES)
        origin = Session.extract_session_id(list(query("My name is Alice")))
        list(resume(origin, "Design the tables"))
        forked = Session.extract_session_id(list(fork(origin, "Use GraphQL instead")))
        list(resume(forked, "Add subscriptions"))
        grandchild = Session.extract_session_id(list(fork(forked, "Try REST after all")))
        other = Session.extract_session_id(list(query("Write a haiku about tests")))
        assert len(api.model_requests) == len(REPLIES)  # one request a turn, as scripted
    projects = home / ".claude" / "projects"
    (project,) = [p for p in projects.iterdir() if p.is_dir()]
    assert {f.stem for f in project.glob("*.jsonl")} == {origin, forked, grandchild, other}
    assert os.environ.get("HOME") != str(home)
    return Family(projects, project, origin, forked, grandchild, other)


def write_jsonl(path: Path, entries: list[dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(e, separators=(",", ":")) + "\n" for e in entries))
    return path
