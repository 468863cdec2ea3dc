"""Who sees what through the web app, in-process, on both databases: a tiny middleware
plays the sign-in and puts each user in the scope, as ``serve --auth`` will. Every
route of the router is asked as each member about every session: no member receives
another member's unshared session id, title, prompt or snippet; a hidden session is
a 404 with the same body as a missing one; the admin sees all."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.routing import Mount, Route
from starlette.testclient import TestClient

from claude_sessions import SessionStore
from claude_sessions.store import visibility
from claude_sessions.web import create_app
from claude_sessions.web.viewer import SCOPE_KEY

from .team_samples import MEMBERS, SAMPLES, Team, make_team

MISSING = "qx-nosuchsession"
# Each route of the router, as a request: (method, path with {id}, form fields).
ASKED = {
    "/": [("GET", "/?q={id}", None), ("GET", "/?q=commonword", None), ("GET", "/", None)],
    "/usage": [
        ("GET", "/usage?last=all", None),
        ("GET", "/usage?period=month&stack=project", None),
    ],
    "/audit": [("GET", "/audit", None)],
    "/s/{session_id}": [("GET", "/s/{id}", None), ("GET", "/s/{short}", None)],
    "/s/{session_id}/turns": [("GET", "/s/{id}/turns", None)],
    "/s/{session_id}/facts": [("GET", "/s/{id}/facts", None)],
    "/s/{session_id}/lineage": [("GET", "/s/{id}/lineage", None)],
    "/s/{session_id}/download/{fmt}": [
        ("GET", f"/s/{{id}}/download/{fmt}", None) for fmt in ("html", "markdown", "json")
    ],
    "/s/{session_id}/tags": [("POST", "/s/{id}/tags", {"tags": "bobwashere"})],
    "/s/{session_id}/tags/remove": [("POST", "/s/{id}/tags/remove", {"tag": "x"})],
    "/s/{session_id}/description": [("POST", "/s/{id}/description", {"description": "b"})],
    "/s/{session_id}/share": [("POST", "/s/{id}/share", {"shared": "0"})],
    "/api/v1/ingest": [("POST", "/api/v1/ingest", {"session_id": "{id}"})],
    "/api/v1/sessions": [("GET", "/api/v1/sessions", None)],
    "/api/v1/sessions/{session_id}/entries": [
        ("GET", "/api/v1/sessions/{id}/entries", None),
        ("GET", "/api/v1/sessions/{id}/entries?project_key=-work-app", None),
    ],
}
NOT_ASKED = {"/static", "/events", "/s/{session_id}/events"}  # files; streams: tested below


def signed_in(app: Any, team: Team) -> Any:
    """``app`` behind a stand-in for the sign-in middleware (header ``x-test-user``)."""

    async def middleware(scope: Any, receive: Any, send: Any) -> None:
        name = dict(scope.get("headers", [])).get(b"x-test-user")
        if name is not None:
            scope = {**scope, SCOPE_KEY: team.people[name.decode()]}
        await app(scope, receive, send)

    return middleware


@pytest.fixture
def team(store: SessionStore, monkeypatch: pytest.MonkeyPatch) -> Team:
    return make_team(store, monkeypatch)


@pytest.fixture
def client(team: Team) -> Iterator[TestClient]:
    app = create_app(team.store)
    with TestClient(signed_in(app, team), follow_redirects=False) as found:
        found.app_state = app.state  # type: ignore[attr-defined]
        found.routes = app.routes  # type: ignore[attr-defined]
        yield found


def _csrf(client: TestClient, name: str, own: str) -> str:
    page = client.get(f"/s/{own}", headers={"x-test-user": name})
    found = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page.text)
    assert found, page.text[:300]
    return found.group(1)


def _ask(client: TestClient, name: str, method: str, path: str, form: Any, csrf: str) -> Any:
    headers = {"x-test-user": name}
    if method == "GET":
        return client.get(path, headers=headers)
    return client.post(path, data={**form, "csrf_token": csrf}, headers=headers)


def test_every_route_is_asked(client: TestClient) -> None:
    paths = {route.path for route in client.routes if isinstance(route, Route | Mount)}  # type: ignore[attr-defined]
    assert paths == set(ASKED) | NOT_ASKED


@pytest.mark.parametrize("name", MEMBERS)
def test_no_member_receives_what_another_did_not_share(
    client: TestClient, team: Team, name: str
) -> None:
    own = next(s.session_id for s in SAMPLES if s.owner == name)
    csrf = _csrf(client, name, own)
    for sample in SAMPLES:
        for asked in ASKED.values():
            for method, template, form in asked:
                path = template.format(id=sample.session_id, short=sample.session_id[:-1])
                answer = _ask(client, name, method, path, form, csrf)
                body = answer.text + " ".join(answer.headers.values())
                # what was asked for may come back (a 404 names it): nothing else
                for echoed in (sample.session_id, sample.session_id[:-1]):
                    body = body.replace(echoed, "")
                leaked = [s.marker for s in team.hidden_from(name) if s.marker in body]
                assert not leaked, (path, answer.status_code)
    assert {m.tags for m in team.store.list_sessions() if m.user != name} == {()}


@pytest.mark.parametrize("name", MEMBERS)
def test_a_hidden_session_is_a_404_like_a_missing_one(
    client: TestClient, team: Team, name: str
) -> None:
    for sample in team.hidden_from(name):
        for suffix in ("", "/turns", "/facts", "/lineage", "/download/json"):
            hidden = client.get(f"/s/{sample.session_id}{suffix}", headers={"x-test-user": name})
            missing = client.get(f"/s/{MISSING}{suffix}", headers={"x-test-user": name})
            assert hidden.status_code == missing.status_code == 404
            assert hidden.text.replace(sample.session_id, "X") == missing.text.replace(MISSING, "X")
            assert hidden.headers["content-type"] == missing.headers["content-type"]


def test_the_admin_and_an_app_without_sign_in_see_every_session(
    client: TestClient, team: Team
) -> None:
    for headers in ({"x-test-user": "root"}, {}):
        listing = client.get("/", headers=headers).text
        assert all(s.session_id in listing for s in SAMPLES)
        for sample in SAMPLES:
            assert client.get(f"/s/{sample.session_id}", headers=headers).status_code == 200


@pytest.mark.parametrize("name", MEMBERS)
def test_members_see_the_team_totals(client: TestClient, team: Team, name: str) -> None:
    def figures(who: str) -> list[str]:
        page = client.get("/usage?last=all", headers={"x-test-user": who}).text
        return re.findall(r"\$\d+\.\d+", page)

    assert figures(name)[:3] == figures("root")[:3]
    total = sum(m.total_cost for m in team.store.list_sessions())
    assert f"${total:.2f}" in client.get("/usage?last=all", headers={"x-test-user": name}).text


def test_changes_by_another_member_are_refused_and_the_owner_shares(
    client: TestClient, team: Team
) -> None:
    csrf = _csrf(client, "bob", "qx-zbobhidden")
    refused = client.post(
        "/s/qx-zaliceshared/tags",
        data={"tags": "bob", "csrf_token": csrf},
        headers={"x-test-user": "bob"},
    )
    assert refused.status_code == 403 and "only the owner" in refused.text
    page = client.get("/s/qx-zaliceshared", headers={"x-test-user": "bob"}).text
    assert "/s/qx-zaliceshared/share" not in page and 'name="tags"' not in page
    own = client.get("/s/qx-zbobhidden", headers={"x-test-user": "bob"}).text
    assert "/s/qx-zbobhidden/share" in own
    shared = client.post(
        "/s/qx-zbobhidden/share",
        data={"shared": "1", "csrf_token": csrf},
        headers={"x-test-user": "bob"},
    )
    assert shared.status_code == 303
    assert client.get("/s/qx-zbobhidden", headers={"x-test-user": "alice"}).status_code == 200
    log = visibility.audit_log(team.as_("root"))
    assert (log[-1].actor, log[-1].action, log[-1].session_id) == ("bob", "share", "qx-zbobhidden")


def test_the_audit_page_is_for_admins(client: TestClient, team: Team) -> None:
    client.get("/s/qx-zbobhidden/download/markdown", headers={"x-test-user": "bob"})
    assert client.get("/audit", headers={"x-test-user": "bob"}).status_code == 403
    page = client.get("/audit", headers={"x-test-user": "root"})
    assert page.status_code == 200
    assert re.search(r"<td>bob</td>\s*<td>export</td>", page.text)


def test_the_live_stream_of_a_hidden_session_says_gone(client: TestClient) -> None:
    client.app_state.live.poll_seconds = 0.01  # type: ignore[attr-defined]
    for session_id in ("qx-zalicehidden", MISSING):
        with client.stream(
            "GET", f"/s/{session_id}/events?since=x", headers={"x-test-user": "bob"}
        ) as stream:
            data = next(line for line in stream.iter_lines() if line.startswith("data:"))
        assert data == "data: gone"
