"""What ``sync --pull`` reads from a real ``serve --auth``, on both databases: the
sessions a user may see, in pages, and a session's entries, in pages, as they were sent;
no member is ever told another's unshared session, not even its id; the admin sees all."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from claude_sessions.capture.team_server import TeamServer
from claude_sessions.model.exceptions import ServerRefused
from claude_sessions.model.team_wire import IngestBatch, IngestFile

from .auth_server import Server, signed_in_cookie
from .secret_samples import planted
from .team_ingest_helpers import PROJECT, SESSION, bearer, fixture_files, get, serve_team
from .team_samples import MEMBERS, SAMPLES, Team

pytestmark = pytest.mark.e2e


@pytest.fixture
def served(store_location: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Server, Team]]:
    yield from serve_team(store_location, monkeypatch)


def _walk(server: Server, token: str, path: str, key: str, limit: int) -> tuple[list[Any], str]:
    """Every item of a paged listing, following its cursors; the bodies, joined."""
    items: list[Any] = []
    bodies, after = [], None
    while True:
        cursor = "" if after is None else f"&after={after}"
        reply = get(
            server, f"{path}{'&' if '?' in path else '?'}limit={limit}{cursor}", bearer(token)
        )
        assert reply.status == 200, reply.body
        page = reply.json()
        assert len(page[key]) <= limit
        items += page[key]
        bodies.append(reply.body.decode())
        after = page["next"]
        if after is None:
            return items, "".join(bodies)


def test_each_user_pages_through_what_they_may_see_and_nothing_else(
    served: tuple[Server, Team],
) -> None:
    server, team = served
    for name in (*MEMBERS, "root"):
        listed, bodies = _walk(server, team.tokens[name], "/api/v1/sessions", "sessions", 2)
        ids = [one["session_id"] for one in listed]
        assert len(ids) == len(set(ids))  # no page repeats another's
        assert set(ids) == team.visible_to(name), name
        for hidden in team.hidden_from(name):
            assert hidden.marker not in bodies, (name, hidden.session_id)
        for one in listed:
            owner = next(s.owner for s in SAMPLES if s.session_id == one["session_id"])
            assert one["user"] == owner and one["entries"] == 2
            assert one["cwd"] == "/work/app" and one["project_key"]


def _send_fixture(server: Server, token: str) -> list[dict[str, Any]]:
    files = fixture_files()
    client = TeamServer(f"http://127.0.0.1:{server.port}", token, timeout=30)
    batch = IngestBatch(
        SESSION, PROJECT, None, "laptop-a", [IngestFile(f["subpath"], f["entries"]) for f in files]
    )
    client.ingest(batch)
    return files


def test_a_sessions_entries_come_back_as_they_were_sent_to_those_who_may_see_it(
    served: tuple[Server, Team],
) -> None:
    server, team = served
    files = _send_fixture(server, team.tokens["alice"])
    for name in ("alice", "root"):
        path = f"/api/v1/sessions/{SESSION}/entries?project_key={PROJECT}"
        entries, _ = _walk(server, team.tokens[name], path, "entries", 37)
        by_file: dict[str, list[Any]] = {}
        for one in entries:
            by_file.setdefault(one["subpath"], []).append(one["entry"])
        assert by_file == {f["subpath"]: f["entries"] for f in files}
        assert [one["subpath"] for one in entries][: len(files[0]["entries"])] == [""] * len(
            files[0]["entries"]
        )
    header = get(server, path, bearer(team.tokens["alice"])).json()["session"]
    assert (header["user"], header["machine"], header["project_key"]) == (
        "alice",
        "laptop-a",
        PROJECT,
    )
    assert header["tags"] == ["imported"] and header["cwd"] and "title" in header
    client = TeamServer(f"http://127.0.0.1:{server.port}", team.tokens["alice"])
    first = client.entries(SESSION, PROJECT)
    assert len(first.entries) == 2000 or first.next is None
    assert first.entries[0].entry == files[0]["entries"][0]
    listed = client.sessions()
    assert SESSION in {one.session_id for one in listed.sessions} and listed.next is None


def test_another_members_unshared_session_reads_as_missing(served: tuple[Server, Team]) -> None:
    server, team = served
    _send_fixture(server, team.tokens["alice"])
    bob = bearer(team.tokens["bob"])
    missing = get(server, "/api/v1/sessions/no-such-session/entries", bob)
    assert missing.status == 404
    for sample in team.hidden_from("bob"):
        for query in ("", f"?project_key={PROJECT}", "?project_key=-work-app"):
            hidden = get(server, f"/api/v1/sessions/{sample.session_id}/entries{query}", bob)
            assert (hidden.status, hidden.body) == (404, missing.body)
    hers = get(server, f"/api/v1/sessions/{SESSION}/entries?project_key={PROJECT}", bob)
    assert (hers.status, hers.body) == (404, missing.body)
    _, bodies = _walk(server, team.tokens["bob"], "/api/v1/sessions", "sessions", 500)
    assert SESSION not in bodies
    with pytest.raises(ServerRefused) as refused:
        TeamServer(f"http://127.0.0.1:{server.port}", team.tokens["bob"]).entries(SESSION, PROJECT)
    assert refused.value.status == 404


def test_bad_cursors_and_limits_are_400_and_the_cookie_opens_nothing(
    served: tuple[Server, Team],
) -> None:
    server, team = served
    alice = bearer(team.tokens["alice"])
    for path in (
        "/api/v1/sessions?after=x",
        "/api/v1/sessions?after=1.2.3",
        "/api/v1/sessions?limit=0",
        "/api/v1/sessions?limit=501",
        "/api/v1/sessions/qx-zaliceshared/entries?limit=2001",
        "/api/v1/sessions/qx-zaliceshared/entries?after=nocursor",
    ):
        reply = get(server, path, alice)
        assert reply.status == 400, path
        assert json.loads(reply.body)["error"]
    cookie = {"Cookie": signed_in_cookie(server, "alice", team.tokens["alice"])}
    for path in ("/api/v1/sessions", "/api/v1/sessions/qx-zaliceshared/entries"):
        assert get(server, path, cookie).status == 401
        assert get(server, path, {}).status == 401


def test_a_redacting_server_gives_entries_without_their_secrets(
    store_location: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = planted()[0]
    entry = {
        "uuid": "with-a-secret",
        "type": "user",
        "message": {"role": "user", "content": f"the key is {secret.text}"},
    }
    for server, team in serve_team(store_location, monkeypatch, "--redact"):
        client = TeamServer(f"http://127.0.0.1:{server.port}", team.tokens["alice"])
        client.ingest(IngestBatch("s-secret", PROJECT, None, "laptop-a", [IngestFile("", [entry])]))
        reply = get(
            server,
            f"/api/v1/sessions/s-secret/entries?project_key={PROJECT}",
            bearer(team.tokens["alice"]),
        )
        assert reply.status == 200
        assert secret.value not in reply.body.decode()
        assert f"[REDACTED:{secret.rule}]" in reply.body.decode()
