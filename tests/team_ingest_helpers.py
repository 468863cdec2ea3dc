"""What the team server's API tests share: a real ``serve --auth`` over a team store,
raw requests to it, the fixture transcript a laptop sends, and counts of the store's rows."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from claude_sessions import SessionStore
from claude_sessions.store.plan import Stmt, Txn, single

from .auth_server import Server, start
from .team_samples import Team, make_team

PROJECT = "-home-marco-projects-spotter-worktrees-spotter-4te"
SESSION = "ae4a77f8-aedd-4bc1-888f-c94edc91af04"
PROJECTS = Path(__file__).parent / "fixtures" / "transcripts" / "projects"
MAIN = PROJECTS / PROJECT / f"{SESSION}.jsonl"
SUBAGENTS = sorted((PROJECTS / PROJECT / SESSION / "subagents").glob("agent-*.jsonl"))


def raw_entries(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def fixture_files() -> list[dict[str, Any]]:
    """The fixture session's transcripts as a batch carries them (the subagents' subpath
    as an import stores it: ``subagents/<file name without .jsonl>``)."""
    files = [{"subpath": "", "entries": raw_entries(MAIN)}]
    files += [{"subpath": f"subagents/{p.stem}", "entries": raw_entries(p)} for p in SUBAGENTS]
    return files


def batch(files: list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
    return {
        "session_id": SESSION,
        "project_key": PROJECT,
        "cwd": "/home/USER/projects/spotter-worktrees/spotter-4te",
        "machine": "laptop-a",
        "files": files,
        **fields,
    }


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Reply:
    status: int
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def post(
    server: Server, body: bytes | dict[str, Any], headers: dict[str, str], *, chunked: bool = False
) -> Reply:
    """``POST /api/v1/ingest``: ``body`` as JSON, or as the bytes given; ``chunked``: sent
    without a Content-Length."""
    data = json.dumps(body).encode() if isinstance(body, dict) else body
    sent = {"Content-Type": "application/json", **headers}
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    try:
        if chunked:
            parts: Iterable[bytes] = iter([data[i : i + 1000] for i in range(0, len(data), 1000)])
            connection.request("POST", "/api/v1/ingest", parts, sent, encode_chunked=True)
        else:
            connection.request("POST", "/api/v1/ingest", data, sent)
        response = connection.getresponse()
        return Reply(response.status, response.read())
    finally:
        connection.close()


def get(server: Server, path: str, headers: dict[str, str]) -> Reply:
    answer = server.request("GET", path, headers)
    return Reply(answer.status, answer.body.encode())


def rows(location: str) -> tuple[int, int, int]:
    """How many sessions, entries and tags the store holds."""

    def count() -> Any:
        found = yield Stmt(
            "SELECT (SELECT count(*) FROM sessions) AS s, (SELECT count(*) FROM entries) AS e, "
            "(SELECT count(*) FROM tags) AS t",
            (),
            "one",
        )
        return int(found["s"]), int(found["e"]), int(found["t"])

    with SessionStore(location, cleanup_after_days=None) as store:
        return store.run(single(Txn(count)))  # type: ignore[no-any-return]


def serve_team(
    store_location: str, monkeypatch: pytest.MonkeyPatch, *args: str
) -> Iterator[tuple[Server, Team]]:
    """A team store (alice, bob, root and their samples) behind ``serve --auth ARGS``."""
    with SessionStore(store_location, cleanup_after_days=None) as store:
        team = make_team(store, monkeypatch)
    team.location = store_location
    server = start(store_location, "--auth", *args)
    try:
        yield server, team
    finally:
        server.process.kill()
        server.process.wait()
