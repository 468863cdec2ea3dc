"""``serve --auth`` as a real process on both databases, its users made with ``users add``:
every route of the app answers nobody with a redirect to the sign-in form (pages) or
401 (the rest), and a bearer token or a signed-in cookie with the page; wrong and
revoked tokens are refused, failed sign-ins limited and logged, a restart keeps a
browser signed in, and a copy of the database holds no token or cookie."""

from __future__ import annotations

import itertools
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from starlette.routing import Mount, Route

from claude_sessions import SessionStore
from claude_sessions.cli import cli
from claude_sessions.testing.postgres import find_bindir
from claude_sessions.web import create_app
from claude_sessions.web.auth import Authority

from .auth_server import (
    Server,
    add_user,
    command,
    cookie_header,
    form_token,
    sign_in,
    signed_in_cookie,
    start,
    wait_for_line,
)
from .web_samples import populate

# Every route, by what nobody gets from it. A route the app has and this test does not
# name fails the test: a new route cannot be left out.
PAGES = {"/", "/usage", "/s/{session_id}", "/s/{session_id}/lineage"}
ADMIN_PAGES = {"/audit"}  # a member is let in and told no (403); see test_visibility_web
READS = {"/s/{session_id}/turns", "/s/{session_id}/facts", "/s/{session_id}/download/{fmt}"}
STREAMS = {"/events", "/s/{session_id}/events"}
ACTIONS = {
    "/s/{session_id}/tags": {"tags": "checked"},
    "/s/{session_id}/tags/remove": {"tag": "checked"},
    "/s/{session_id}/description": {"description": "checked"},
    "/s/{session_id}/share": {},
}
OPEN = {"/sign-in", "/static"}
SIGN_OUT = "/sign-out"
# the laptops' API, bearer token only: tests/test_team_ingest.py and test_team_pull.py
LAPTOP_API = {"/api/v1/ingest", "/api/v1/sessions", "/api/v1/sessions/{session_id}/entries"}
FORMATS = ("html", "markdown", "json")
ADDRESSES = itertools.count(1)


@pytest.fixture
def team(store_location: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """A store with alice's sessions and two users, and ``serve`` over it: with ``--auth``
    on SQLite, by default on PostgreSQL (a server store with users)."""
    monkeypatch.setenv("CLAUDE_SESSIONS_USER", "alice")
    with SessionStore(store_location, cleanup_after_days=None) as store:
        ids = populate(store)
    monkeypatch.delenv("CLAUDE_SESSIONS_USER")
    tokens = {
        "alice": add_user(store_location, "alice"),
        "root": add_user(store_location, "root", "--admin"),
    }
    on_server = store_location.startswith("postgresql://")
    # A trusted proxy names each client: the many refusals below come from many addresses
    # (one address would soon be limited, see test_failed_sign_ins_are_limited_and_logged).
    proxied = ["--forwarded-allow-ips", "127.0.0.1"]
    server = start(store_location, *proxied, *([] if on_server else ["--auth"]))
    found = {"server": server, "location": store_location, "ids": ids, "tokens": tokens}
    try:
        yield found
    finally:  # the server running now: a test may have restarted it
        found["server"].process.kill()
        found["server"].process.wait()


def _app_paths(location: str) -> set[str]:
    with SessionStore(location, cleanup_after_days=None) as store:
        app = create_app(store, auth=Authority(store))
        return {route.path for route in app.routes if isinstance(route, (Route, Mount))}


def _concrete(path: str, session_id: str) -> list[str]:
    path = path.replace("{session_id}", session_id)
    return [path.replace("{fmt}", fmt) for fmt in FORMATS] if "{fmt}" in path else [path]


def _gets(session_id: str) -> list[tuple[str, str]]:
    """Every GET route as a path, with the route's own path."""
    found = []
    for route in sorted(PAGES | ADMIN_PAGES | READS | STREAMS):
        found += [(path, route) for path in _concrete(route, session_id)]
    return found


def _assert_nobody_is_refused(server: Server, session_id: str, given: dict[str, str]) -> None:
    def headers() -> dict[str, str]:
        high, low = divmod(next(ADDRESSES), 250)
        return {**given, "X-Forwarded-For": f"10.9.{high}.{low + 1}"}

    for path, route in _gets(session_id):
        answer = server.request("GET", path, headers(), stream=route in STREAMS)
        if route in PAGES | ADMIN_PAGES and "Authorization" not in given:
            assert answer.status == 303, path
            assert answer.headers["Location"].startswith("/sign-in?next="), path
        else:
            assert answer.status == 401, (path, answer.status)
            assert answer.headers["WWW-Authenticate"].startswith("Bearer"), path
    for path, form in ACTIONS.items():
        answer = server.request("POST", _concrete(path, session_id)[0], headers(), form)
        assert answer.status == 401, path
    assert server.request("POST", SIGN_OUT, headers(), {}).status == 401


def _assert_let_in(server: Server, session_id: str, headers: dict[str, str], name: str) -> None:
    for path, route in _gets(session_id):
        answer = server.request("GET", path, headers, stream=route in STREAMS)
        wanted = 403 if route in ADMIN_PAGES and name != "root" else 200
        assert answer.status == wanted, (path, answer.status, answer.body[:200])
    page = server.request("GET", "/", headers)
    assert f'class="signed-in">{name}<' in page.body  # the user the app was told of
    nonce, csrf = form_token(server, headers)
    with_nonce = {
        **headers,
        "Cookie": "; ".join(filter(None, [headers.get("Cookie"), cookie_header(nonce)])),
    }
    for path, form in ACTIONS.items():
        answer = server.request(
            "POST", _concrete(path, session_id)[0], with_nonce, {**form, "csrf_token": csrf}
        )
        assert answer.status == 303, (path, answer.status, answer.body)


def _flipped(token: str) -> str:
    return token[:-1] + ("A" if token[-1] != "A" else "B")


def test_every_route_needs_a_signed_in_user(team: dict[str, Any]) -> None:
    server, location, tokens = team["server"], team["location"], team["tokens"]
    session_id = team["ids"]["auth"]
    assert "(sign-in required)" in server.banner
    named = PAGES | ADMIN_PAGES | READS | STREAMS | set(ACTIONS) | OPEN | {SIGN_OUT} | LAPTOP_API
    assert _app_paths(location) == named
    assert server.request("GET", "/static/app.css").status == 200
    named_host = {"Host": "sessions.example.com", "Authorization": f"Bearer {tokens['alice']}"}
    assert server.request("GET", "/", named_host).status == 200  # a team server has a name
    assert server.request("GET", "/sign-in").status == 200

    _assert_nobody_is_refused(server, session_id, {})
    bearer = {"Authorization": f"Bearer {tokens['alice']}"}
    _assert_let_in(server, session_id, bearer, "alice")
    alice = {"Cookie": signed_in_cookie(server, "alice", tokens["alice"])}
    _assert_let_in(server, session_id, alice, "alice")
    root = {"Cookie": signed_in_cookie(server, "root", tokens["root"])}
    _assert_let_in(server, session_id, root, "root")

    for wrong in [_flipped(tokens["alice"]), "cs_0000000000000000_x", ""]:
        _assert_nobody_is_refused(server, session_id, {"Authorization": f"Bearer {wrong}"})
    assert server.request("GET", "/", {"Authorization": f"Basic {tokens['alice']}"}).status == 401

    renewed = command(location, "users", "token", "alice").strip()
    _assert_nobody_is_refused(server, session_id, bearer)  # the old token is revoked
    assert server.request("GET", "/", alice).status == 303  # and the sign-in ended
    assert server.request("GET", "/", {"Authorization": f"Bearer {renewed}"}).status == 200
    assert server.request("GET", "/", root).status == 200
    command(location, "users", "remove", "root")
    assert server.request("GET", "/", root).status == 303
    root_bearer = {"Authorization": f"Bearer {tokens['root']}"}
    assert server.request("GET", "/", root_bearer).status == 401


def _dump(location: str) -> bytes:
    if location.startswith("postgresql://"):
        pg_dump = Path(find_bindir()) / "pg_dump"
        return subprocess.run(
            [str(pg_dump), "--dbname", location.split("?")[0]],
            capture_output=True,
            check=True,
            timeout=120,
        ).stdout
    files = sorted(Path(location).glob("sessions.db*"))
    return b"".join(path.read_bytes() for path in files)


def test_a_restart_keeps_a_browser_signed_in_and_the_store_keeps_no_secret(
    team: dict[str, Any],
) -> None:
    server, location, tokens = team["server"], team["location"], team["tokens"]
    answer = sign_in(server, "alice", tokens["alice"])
    assert answer.status == 303 and answer.headers["Location"] == "/usage"
    set_cookie = answer.cookies()["claude_sessions_signin"]
    key = set_cookie.split(";")[0].split("=", 1)[1]
    alice = {"Cookie": cookie_header(set_cookie)}
    out_later = {"Cookie": signed_in_cookie(server, "alice", tokens["alice"])}
    server.stop()
    server = team["server"] = start(location, "--auth")
    assert server.request("GET", "/usage", alice).status == 200
    untrusted = sign_in(server, "alice", tokens["alice"], **{"X-Forwarded-Proto": "https"})
    assert "secure" not in untrusted.cookies()["claude_sessions_signin"].lower()  # no proxy named

    dumped = _dump(location)
    assert b"alice" in dumped and b"sign_ins" in dumped  # the dump is of this store
    for secret in [key, tokens["alice"], tokens["root"], tokens["alice"].split("_", 2)[2]]:
        assert secret.encode() not in dumped

    nonce, csrf = form_token(server, out_later)
    signed_out = server.request(
        "POST",
        SIGN_OUT,
        {"Cookie": f"{out_later['Cookie']}; {cookie_header(nonce)}"},
        {"csrf_token": csrf},
    )
    assert signed_out.status == 303 and signed_out.headers["Location"] == "/sign-in"
    assert "Max-Age=0" in signed_out.cookies()["claude_sessions_signin"]
    assert server.request("GET", "/", out_later).status == 303
    assert server.request("GET", "/", alice).status == 200  # another browser stays in


def test_failed_sign_ins_are_limited_and_logged(tmp_path: Path) -> None:
    location = str(tmp_path / "store")
    SessionStore(location, cleanup_after_days=None).close()
    tokens = {name: add_user(location, name) for name in ("alice", "bob")}
    server = start(location, "--auth", "--forwarded-allow-ips", "127.0.0.1")
    try:
        _limits(server, tokens)
        _cookie_flags(server, tokens)
    finally:
        server.process.kill()
        server.process.wait()


def _limits(server: Server, tokens: dict[str, str]) -> None:
    tried = [f"not-the-token-{n}" for n in range(5)]
    for n, wrong in enumerate(tried):  # per user name: five addresses, one name
        answer = sign_in(server, "alice", wrong, **{"X-Forwarded-For": f"10.0.0.{n + 1}"})
        assert answer.status == 401 and "claude_sessions_signin" not in answer.cookies()
    refused = sign_in(server, "alice", tokens["alice"], **{"X-Forwarded-For": "10.0.0.9"})
    assert refused.status == 429 and 1 <= int(refused.headers["Retry-After"]) <= 60
    line = wait_for_line(server, "10.0.0.5")
    assert "failed sign-in" in line and "alice" in line
    assert not any(secret in server.log_text() for secret in tried)
    assert server.log_text().count("failed sign-in") == 5
    assert sign_in(server, "bob", tokens["bob"], **{"X-Forwarded-For": "10.0.0.1"}).status == 303

    for n in range(5):  # per address: five names, one address
        assert sign_in(server, f"nobody{n}", "x", **{"X-Forwarded-For": "10.0.0.7"}).status == 401
    assert sign_in(server, "bob", tokens["bob"], **{"X-Forwarded-For": "10.0.0.7"}).status == 429
    wrong = {"Authorization": f"Bearer {_flipped(tokens['bob'])}", "X-Forwarded-For": "10.0.0.8"}
    assert [server.request("GET", "/events", wrong).status for _ in range(5)] == [401] * 5
    right = {"Authorization": f"Bearer {tokens['bob']}", "X-Forwarded-For": "10.0.0.8"}
    limited = server.request("GET", "/usage", right)
    assert limited.status == 429 and int(limited.headers["Retry-After"]) >= 1
    assert tokens["bob"] not in server.log_text()


def _cookie_flags(server: Server, tokens: dict[str, str]) -> None:
    elsewhere = {"X-Forwarded-For": "10.0.1.1"}
    plain = sign_in(server, "bob", tokens["bob"], **elsewhere).cookies()["claude_sessions_signin"]
    over_tls = sign_in(
        server, "bob", tokens["bob"], **elsewhere, **{"X-Forwarded-Proto": "https"}
    ).cookies()["claude_sessions_signin"]
    for cookie in (plain, over_tls):
        attributes = {part.strip().lower() for part in cookie.split(";")[1:]}
        assert {"httponly", "samesite=strict", "path=/"} <= attributes
    assert "secure" not in plain.lower() and "secure" in over_tls.lower()
    for target, goes_to in [
        ("/s/x?q=1", "/s/x?q=1"),
        ("//evil.example/", "/"),
        ("/\\evil.example/", "/"),
        ("https://evil.example/", "/"),
        ("/\t/evil.example/", "/"),
    ]:
        answer = sign_in(server, "bob", tokens["bob"], target, **elsewhere)
        assert answer.headers["Location"] == goes_to, target
    nonce, csrf = form_token(server, elsewhere)
    forged = server.request(
        "POST",
        "/sign-in",
        {**elsewhere, "Cookie": cookie_header(nonce), "Origin": "http://evil.example"},
        {"name": "bob", "token": tokens["bob"], "csrf_token": csrf},
    )
    assert forged.status == 403 and "claude_sessions_signin" not in forged.cookies()
    huge = {"name": "bob", "token": "x" * 100_000, "csrf_token": csrf}
    too_big = server.request(
        "POST", "/sign-in", {**elsewhere, "Cookie": cookie_header(nonce)}, huge
    )
    assert too_big.status == 400 and "too large" in too_big.body


# -- what serve refuses -----------------------------------------------------------------


@pytest.fixture
def no_server(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    made: dict[str, Any] = {}

    class Stopped:
        def run(self) -> None:
            pass

    def fake(app: Any, host: str, port: int, **options: Any) -> Stopped:
        made["app"] = app
        return Stopped()

    monkeypatch.setattr("claude_sessions.web.server.make_server", fake)
    return made


def _serve(location: str, *args: str) -> Any:
    return CliRunner().invoke(cli, ["serve", "--store", location, *args])


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.5", "::"])
def test_serving_beyond_loopback_needs_auth(
    tmp_path: Path, no_server: dict[str, Any], host: str
) -> None:
    location = str(tmp_path / "store")
    with SessionStore(location, cleanup_after_days=None) as store:
        from claude_sessions.store.users import add_user as add

        add(store, "alice")
    for extra in ([], ["--no-auth"], ["--token", "a-long-enough-token"]):
        result = _serve(location, "--host", host, *extra)
        assert result.exit_code != 0 and "app" not in no_server
        assert result.output.startswith("Error: ") and "--auth" in result.output
    assert _serve(location, "--host", host, "--auth").exit_code == 0
    assert no_server["app"].state.auth is True


def test_auth_needs_a_user_and_no_token(tmp_path: Path, no_server: dict[str, Any]) -> None:
    location = str(tmp_path / "store")
    result = _serve(location, "--auth")
    assert result.exit_code == 2 and "users add" in result.output and "app" not in no_server
    assert _serve(location).exit_code == 0 and no_server["app"].state.auth is False
    with SessionStore(location, cleanup_after_days=None) as store:
        from claude_sessions.store.users import add_user as add

        add(store, "alice")
    assert _serve(location).exit_code == 0 and no_server["app"].state.auth is False  # SQLite
    mixed = _serve(location, "--auth", "--token", "a-long-enough-token")
    assert mixed.exit_code == 2 and "--token" in mixed.output
    unwritable = _serve(location, "--auth", "--read-only")
    assert unwritable.exit_code == 2 and "--read-only" in unwritable.output


@pytest.mark.postgres
def test_a_postgresql_store_with_users_asks_for_signing_in(
    postgres_database: str, no_server: dict[str, Any]
) -> None:
    assert _serve(postgres_database).exit_code == 0 and no_server["app"].state.auth is False
    add_user(postgres_database, "alice")
    assert _serve(postgres_database).exit_code == 0 and no_server["app"].state.auth is True
    assert _serve(postgres_database, "--no-auth").exit_code == 0
    assert no_server["app"].state.auth is False  # refused explicitly, on loopback


def test_a_websocket_needs_a_signed_in_user_too(tmp_path: Path) -> None:
    """No route of the app is a websocket today; the gate stands in front of one anyway."""
    from starlette.testclient import TestClient
    from starlette.websockets import WebSocketDisconnect

    from claude_sessions.store.users import add_user as add

    with SessionStore(tmp_path / "store", cleanup_after_days=None) as store:
        _, token = add(store, "alice")
        client = TestClient(create_app(store, auth=Authority(store)))
        with pytest.raises(WebSocketDisconnect) as refused, client.websocket_connect("/events"):
            pass
        assert refused.value.code == 1008
        bearer = {"Authorization": f"Bearer {token}"}
        let_in_to = client.websocket_connect("/events", headers=bearer)
        with pytest.raises(WebSocketDisconnect) as let_in, let_in_to:  # to no such route
            pass
        assert let_in.value.code != 1008
