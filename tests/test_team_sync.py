"""One team server, two laptops (issue 27, 2, 3 and the Done-when).

A real PostgreSQL store behind a real ``serve --auth`` process; each laptop is a HOME of
its own with a SQLite store, its user and machine name, and the capture hook installed
with ``--server`` for its user. The real Claude Code CLI runs against the fake Messages
API and runs the hook itself. What arrives on the server is read from its database
with SQL; what should arrive is counted from the transcripts' lines.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest

from claude_sessions import SessionStore
from claude_sessions.runs.locate import find_cli
from claude_sessions.store import users, visibility

from .auth_server import Server, start

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

FIXTURES = Path(__file__).parent / "fixtures" / "transcripts" / "projects"
CAPTURE_LIMIT_SECONDS = 1.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Team:
    location: str  # the server's PostgreSQL store
    port: int
    tokens: dict[str, str]
    server: Server | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def up(self) -> None:
        self.server = start(self.location, "--auth", "--port", str(self.port))

    def down(self) -> None:
        assert self.server is not None
        self.server.process.kill()
        self.server.process.wait()
        self.server = None

    def rows(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.location) as conn:
            conn.execute("SET search_path TO claude_sessions")
            return list(conn.execute(sql, params).fetchall())

    def entries(self, session_id: str) -> int:
        ((count,),) = self.rows(
            "SELECT count(*) FROM entries e JOIN sessions s ON s.id = e.session_ref "
            "WHERE s.session_id = %s",
            session_id,
        )
        return int(count)

    def content(self) -> list[tuple[str, str, str]]:
        """Every stored entry: its session, transcript and exact JSON, sorted."""
        rows = self.rows(
            "SELECT s.session_id, e.subpath, coalesce(e.raw, e.data::text) FROM entries e "
            "JOIN sessions s ON s.id = e.session_ref ORDER BY 1, 2, 3"
        )
        return [(str(a), str(b), str(c)) for a, b, c in rows]


@pytest.fixture
def team(postgres_server: Any, tmp_path: Path) -> Iterator[Team]:
    location = postgres_server.create_database()
    with SessionStore(location, cleanup_after_days=None) as store:
        tokens = {name: users.add_user(store, name)[1] for name in ("alice", "bob")}
    found = Team(location, free_port(), tokens)
    found.up()
    try:
        yield found
    finally:
        if found.server is not None:
            found.down()
        postgres_server.drop_database(location.rsplit("/", 1)[1])


@dataclass
class Laptop:
    home: Path
    user: str
    machine: str

    @property
    def store(self) -> Path:
        return self.home / "store"

    @property
    def project(self) -> Path:
        path = self.home / "project"
        path.mkdir(exist_ok=True)
        return path

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "HOME": str(self.home),
            "TMPDIR": str(self.home),
            "CLAUDE_SESSIONS_STORE": str(self.store),
            "CLAUDE_SESSIONS_USER": self.user,
            "CLAUDE_SESSIONS_MACHINE": self.machine,
            "CLAUDE_SESSIONS_CLEANUP_DAYS": "never",
        }

    def cs(self, *args: str, code: int = 0) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [sys.executable, "-m", "claude_sessions", *args],
            capture_output=True,
            text=True,
            timeout=300,
            cwd=str(self.project),
            env=self.env(),
        )
        assert done.returncode == code, (done.stdout, done.stderr)
        return done

    def claude(self, *args: str) -> dict[str, Any]:
        """The real CLI, ``-p``, in this laptop's project; its JSON result."""
        done = subprocess.run(
            [find_cli(), "-p", *args, "--output-format", "json"],
            capture_output=True,
            text=True,
            timeout=300,
            cwd=str(self.project),
            env=self.env(),
        )
        assert done.returncode == 0, (done.stdout, done.stderr)
        return dict(json.loads(done.stdout))

    def transcripts(self, session_id: str) -> list[Path]:
        return list((self.home / ".claude" / "projects").rglob(f"{session_id}*.jsonl")) + list(
            (self.home / ".claude" / "projects").glob(f"*/{session_id}/subagents/*.jsonl")
        )

    def log(self) -> str:
        return (self.store / "capture.log").read_text()


def lines_of(paths: list[Path]) -> int:
    """Entries counted from transcripts as an import keeps them: one per uuid, and one
    per line without one (Claude Code repeats a few word for word, such as
    ``api-request-route``: each line is kept), in each transcript."""
    found = 0
    for path in set(paths):
        entries = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        uuids = {e["uuid"] for e in entries if e.get("uuid")}
        found += len(uuids) + sum(1 for e in entries if not e.get("uuid"))
    return found


@pytest.fixture
def laptops(
    fake_claude: Any, team: Team, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Laptop]:
    found = {}
    for user, machine in (("alice", "laptop-a"), ("bob", "laptop-b")):
        laptop = Laptop(tmp_path_factory.mktemp(machine), user, machine)
        laptop.cs("hooks", "install", "--server", team.url, "--token", team.tokens[user])
        found[user] = laptop
    return found


def test_captured_turns_arrive_for_the_right_user_and_machine(
    team: Team, laptops: dict[str, Laptop]
) -> None:
    ids = {}
    for name, laptop in laptops.items():
        first = laptop.claude(f"hello from {name}")
        ids[name] = first["session_id"]
        laptop.claude("--resume", ids[name], "and again")
    for name, laptop in laptops.items():
        owner = team.rows(
            "SELECT user_name, machine FROM sessions WHERE session_id = %s", ids[name]
        )
        assert owner == [(name, laptop.machine)]
        assert team.entries(ids[name]) == lines_of(laptop.transcripts(ids[name]))
        assert "team server: sent" in laptop.log()
        assert team.tokens[name] not in laptop.log()
    status = laptops["alice"].cs("hooks", "status").stdout
    assert team.url in status and "backlog: 0 entries of 0 sessions" in status


def _hook_command(laptop: Laptop) -> list[str]:
    settings = json.loads((laptop.home / ".claude" / "settings.json").read_text())
    return shlex.split(settings["hooks"]["Stop"][-1]["hooks"][0]["command"])


def _turn(session_id: str, n: int, cwd: Path) -> list[str]:
    common = {"sessionId": session_id, "cwd": str(cwd), "isSidechain": False}
    asked = {**common, "type": "user", "uuid": f"{session_id[:8]}-u{n}"}
    asked["message"] = {"role": "user", "content": f"offline question {n}"}
    answered = {**common, "type": "assistant", "uuid": f"{session_id[:8]}-a{n}"}
    answered["message"] = {
        "id": f"msg-offline-{n}",
        "role": "assistant",
        "model": "claude-sonnet-4-5-20250929",
        "content": [{"type": "text", "text": f"offline answer {n}"}],
        "usage": {"input_tokens": 10, "output_tokens": 5},
    }
    return [json.dumps(asked), json.dumps(answered)]


def test_offline_captures_keep_every_turn_and_sync_sends_them_exactly_once(
    team: Team, laptops: dict[str, Laptop]
) -> None:
    alice = laptops["alice"]
    session_id = alice.claude("before the outage")["session_id"]
    (transcript,) = [p for p in alice.transcripts(session_id) if p.stem == session_id]
    team.down()
    hook = _hook_command(alice)
    took = []
    for n in range(50):  # what Claude Code runs at each Stop, the transcript one turn longer
        with transcript.open("a") as out:
            out.write("\n".join(_turn(session_id, n, alice.project)) + "\n")
        payload = {"session_id": session_id, "transcript_path": str(transcript)}
        payload |= {"cwd": str(alice.project), "hook_event_name": "Stop"}
        started = time.perf_counter()
        done = subprocess.run(
            hook, input=json.dumps(payload), capture_output=True, text=True, env=alice.env()
        )
        took.append(time.perf_counter() - started)
        assert done.returncode == 0, done.stderr
    assert max(took) < CAPTURE_LIMIT_SECONDS, took
    expected = lines_of(alice.transcripts(session_id))
    with SessionStore(str(alice.store), cleanup_after_days=None) as local:
        kept = local.load_session(session_id)
        assert sum(1 for m in kept.messages if "offline answer 49" in json.dumps(m.to_dict())) == 1
    assert "connection refused" in alice.log()
    status = alice.cs("hooks", "status").stdout
    assert "backlog: 100 entries of 1 sessions" in status, status
    assert "connection refused" in status

    team.up()
    sent = json.loads(alice.cs("sync", "--json").stdout)
    assert (sent["stored"], sent["duplicates"], sent["conflicts"]) == (100, 0, 0)
    assert team.entries(session_id) == expected
    again = json.loads(alice.cs("sync", "--json").stdout)
    assert again["sent"] == 0 and again["batches"] == 0
    assert team.entries(session_id) == expected
    status = alice.cs("hooks", "status").stdout
    assert "backlog: 0 entries" in status and "failed:" not in status


def _imported(laptop: Laptop) -> int:
    """The fixture transcripts imported into the laptop's store; their entries."""
    laptop.cs("import", str(FIXTURES))
    with sqlite3.connect(laptop.store / "sessions.db") as conn:
        ((count,),) = conn.execute(
            "SELECT count(*) FROM entries e JOIN sessions s ON s.id = e.session_ref "
            "WHERE s.trashed_at IS NULL"
        ).fetchall()
    return int(count)


def _acknowledged(laptop: Laptop) -> int:
    with sqlite3.connect(laptop.store / "sessions.db") as conn:
        ((count,),) = conn.execute(
            "SELECT count(*) FROM sync_marks WHERE acked_seq >= 0"
        ).fetchall()
    return int(count)


def _acknowledged_entries(laptop: Laptop) -> int:
    with sqlite3.connect(laptop.store / "sessions.db") as conn:
        ((count,),) = conn.execute(
            "SELECT count(*) FROM entries e JOIN sync_marks m ON m.session_ref = e.session_ref "
            "AND m.subpath = e.subpath AND e.seq <= m.acked_seq"
        ).fetchall()
    return int(count)


def test_a_sync_killed_halfway_and_run_again_ends_with_the_same_store(
    team: Team, laptops: dict[str, Laptop], postgres_server: Any
) -> None:
    alice = laptops["alice"]
    local = _imported(alice)
    child = subprocess.Popen(
        [sys.executable, "-m", "claude_sessions", "sync", "--batch-entries", "1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=alice.env(),
        cwd=str(alice.project),
    )
    deadline = time.monotonic() + 120
    while _acknowledged(alice) == 0:  # the first batch the server acknowledged
        assert child.poll() is None and time.monotonic() < deadline
        time.sleep(0.01)
    child.send_signal(signal.SIGKILL)
    child.wait()
    halfway = len(team.content())
    assert 0 < halfway < local  # it was killed halfway
    acked = _acknowledged_entries(alice)
    resumed = json.loads(alice.cs("sync", "--json").stdout)
    assert resumed["sent"] == local - acked  # it went on from the last acknowledged batch

    # The same laptop's store sent in one go to another server holds the same.
    other = Team(postgres_server.create_database(), free_port(), {})
    with SessionStore(other.location, cleanup_after_days=None) as store:
        token = users.add_user(store, "alice")[1]
    other.up()
    try:
        whole = json.loads(
            alice.cs("sync", "--server", other.url, "--token", token, "--json").stdout
        )
        assert whole["sent"] == local
        assert team.content() == other.content()
    finally:
        other.down()
        postgres_server.drop_database(other.location.rsplit("/", 1)[1])


def bob_has(laptop: Laptop, session_id: str) -> int:
    with sqlite3.connect(laptop.store / "sessions.db") as conn:
        ((count,),) = conn.execute(
            "SELECT count(*) FROM entries e JOIN sessions s ON s.id = e.session_ref "
            "WHERE s.session_id = ?",
            (session_id,),
        ).fetchall()
    return int(count)


def _share(team: Team, owner: str, session_id: str) -> None:
    with SessionStore(team.location, cleanup_after_days=None) as store:
        person = next(one for one in users.list_users(store) if one.name == owner)
        visibility.share_session(visibility.seen_by(store, person), session_id)


def test_pull_brings_a_shared_session_and_resume_shows_the_whole_history(
    team: Team, laptops: dict[str, Laptop], fake_claude: Any
) -> None:
    alice, bob = laptops["alice"], laptops["bob"]
    shared = alice.claude("first question of the shared one")["session_id"]
    kept = alice.claude("a private question")["session_id"]
    _share(team, "alice", shared)

    pulled = json.loads(bob.cs("sync", "--pull", "--json").stdout)
    assert pulled["sessions"] == 1
    with SessionStore(str(bob.store), cleanup_after_days=None) as local:
        assert local.get_metadata(shared) is not None
        assert local.get_metadata(kept) is None
        meta = local.get_metadata(shared)
        assert meta is not None and (meta.user, meta.machine) == ("alice", "laptop-a")
    assert json.loads(bob.cs("sync", "--pull", "--json").stdout)["sessions"] == 0
    assert json.loads(bob.cs("sync", "--json").stdout)["sent"] == 0  # never pushed back
    alice.claude("--resume", shared, "second question of the shared one")
    grown = json.loads(bob.cs("sync", "--pull", "--json").stdout)
    assert grown["sessions"] == 1 and grown["entries"] > 0  # what alice added since
    assert bob_has(bob, shared) == team.entries(shared) == lines_of(alice.transcripts(shared))

    fake_claude.clear()
    bob.cs("resume", shared[:8], "third question", "--json")
    shown = fake_claude.model_requests[-1]
    assert "first question of the shared one" in shown.all_text
    assert "second question of the shared one" in shown.all_text
    assert shown.count_role("user") == 3
