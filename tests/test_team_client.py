"""The laptops' client (``capture/team_server.py``) against a real ``serve --auth``, on
both databases: what it sends lands, every refusal is a ServerRefused with the
server's status and reason, a server that is gone or mute is a ServerUnreachable
within the timeout, and a token never travels in clear to another machine."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from claude_sessions.capture.team_server import TeamServer
from claude_sessions.model.exceptions import (
    InvalidInputError,
    ServerRefused,
    ServerUnreachable,
    TeamServerError,
)
from claude_sessions.model.team_wire import IngestBatch, IngestFile, IngestReport

from .auth_server import Server
from .team_ingest_helpers import PROJECT, SESSION, fixture_files, serve_team
from .team_samples import Team

LIMIT = 16 * 1024


@pytest.fixture
def served(store_location: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Server, Team]]:
    yield from serve_team(store_location, monkeypatch, "--ingest-limit", str(LIMIT))


def _batch(files: list[IngestFile], session_id: str = SESSION) -> IngestBatch:
    return IngestBatch(session_id, PROJECT, "/home/USER/project", "laptop-b", files)


def _client(server: Server, token: str, timeout: float = 2.0) -> TeamServer:
    return TeamServer(f"http://127.0.0.1:{server.port}", token, timeout=timeout)


def test_the_client_sends_and_is_told_each_refusal(served: tuple[Server, Team]) -> None:
    server, team = served
    main = fixture_files()[0]["entries"][:10]
    alice = _client(server, team.tokens["alice"])
    first = alice.ingest(_batch([IngestFile("", main)]))
    assert first == IngestReport(SESSION, 10, 0, ())
    assert alice.ingest(_batch([IngestFile("", main)])) == IngestReport(SESSION, 0, 10, ())
    wrong = "cs_0123456789abcdef_not-the-token"
    with pytest.raises(ServerRefused) as refused:
        _client(server, wrong).ingest(_batch([IngestFile("", main)]))
    assert refused.value.status == 401 and refused.value.reason
    assert wrong not in str(refused.value) and wrong not in repr(_client(server, wrong))
    big = [{"uuid": f"u{i}", "type": "user", "text": "x" * 1000} for i in range(LIMIT // 500)]
    with pytest.raises(ServerRefused) as refused:
        alice.ingest(_batch([IngestFile("", big)]))
    assert refused.value.status == 413 and str(LIMIT) in refused.value.reason
    # far past what the sockets buffer: the server answers before it took the body
    huge = [{"uuid": f"u{i}", "type": "user", "text": "x" * 10_000} for i in range(2000)]
    with pytest.raises(ServerRefused) as refused:
        alice.ingest(_batch([IngestFile("", huge)]))
    assert refused.value.status == 413
    with pytest.raises(ServerRefused) as refused:
        _client(server, team.tokens["bob"]).ingest(_batch([IngestFile("", main)]))
    assert refused.value.status == 409 and "\n" not in refused.value.reason
    server.process.kill()
    server.process.wait()
    started = time.monotonic()
    with pytest.raises(ServerUnreachable):
        alice.ingest(_batch([IngestFile("", main)]))
    assert time.monotonic() - started < 2.0 + 3.0  # the timeout, and a margin for load


def test_a_server_that_never_answers_is_unreachable_within_the_timeout() -> None:
    with socket.socket() as mute:  # listens, so a connection is made; never answers
        mute.bind(("127.0.0.1", 0))
        mute.listen(4)
        client = TeamServer(f"http://127.0.0.1:{mute.getsockname()[1]}", "cs_x_y", timeout=0.5)
        started = time.monotonic()
        with pytest.raises(ServerUnreachable) as unreachable:
            client.sessions()
        elapsed = time.monotonic() - started
    assert 0.4 < elapsed < 0.5 + 3.0
    assert isinstance(unreachable.value, TeamServerError) and "in time" in str(unreachable.value)


@pytest.mark.parametrize(
    "url",
    ["http://example.com", "http://10.0.0.5:8765", "http://team.example.com:80/cs", "ftp://x"],
)
def test_a_token_never_goes_in_clear_to_another_machine(url: str) -> None:
    with pytest.raises(InvalidInputError):
        TeamServer(url, "cs_abc_secret")


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:9", "http://localhost:9", "http://[::1]:9", "https://team.example"]
)
def test_https_and_loopback_are_taken(url: str) -> None:
    client = TeamServer(url, "cs_abc_secret")
    assert "cs_abc_secret" not in repr(client) + client.url
