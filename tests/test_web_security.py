"""What guards the web app: the Host check, the token, CSRF, read-only mode, the headers."""

from __future__ import annotations

import http.client
import re
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from claude_sessions import SessionStore
from claude_sessions.model.exceptions import InvalidInputError
from claude_sessions.web import create_app
from claude_sessions.web.auth import Authority
from claude_sessions.web.security import CSP, Guard, host_allowed, is_loopback
from claude_sessions.web.server import make_server

from .web_samples import populate, sid
from .web_server import running


@pytest.fixture
def local_store(tmp_path: Path) -> Iterator[SessionStore]:
    """A SQLite store: these checks happen before the store is asked anything."""
    with SessionStore(tmp_path / "store", cleanup_after_days=None) as store:
        populate(store)
        yield store


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([0-9a-f]+)"', html)
    assert found is not None
    return found.group(1)


def assert_guarded(headers: Mapping[str, str]) -> None:
    assert headers.get("content-security-policy") == CSP
    assert headers.get("x-content-type-options") == "nosniff"
    assert headers.get("referrer-policy") == "no-referrer"


# -- headers ---------------------------------------------------------------------------


def test_the_policy_is_the_strict_one() -> None:
    assert CSP == (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    )


@pytest.mark.parametrize(
    "path", ["/", "/usage", f"/s/{sid(1)}", "/s/nope", "/?after=x", "/static/app.css", "/nowhere"]
)
def test_every_response_carries_the_security_headers(local_store: SessionStore, path: str) -> None:
    response = TestClient(create_app(local_store)).get(path)
    assert_guarded(response.headers)


def test_a_crash_is_a_500_page_without_a_traceback(
    local_store: SessionStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(local_store, "search_page", broken)
    client = TestClient(create_app(local_store), raise_server_exceptions=False)
    response = client.get("/")
    assert response.status_code == 500
    assert "Something went wrong" in response.text
    assert "secret internals" not in response.text and "Traceback" not in response.text
    assert_guarded(response.headers)


# -- the Host header ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("127.0.0.1:8765", True),
        ("localhost:8765", True),
        ("LOCALHOST:8765", True),
        ("[::1]:8765", True),
        ("localhost:8766", False),
        ("127.0.0.1", False),
        ("attacker.example:8765", False),
        ("127.0.0.1.attacker.example:8765", False),
        ("", False),
    ],
)
def test_host_header_must_name_this_server(
    local_store: SessionStore, host: str, allowed: bool
) -> None:
    client = TestClient(create_app(local_store), base_url="http://127.0.0.1:8765")
    response = client.get("/", headers={"host": host})
    assert response.status_code == (200 if allowed else 400)
    assert_guarded(response.headers)
    if not allowed:
        assert "Login rate limit" not in response.text


def test_host_check_knows_the_bound_address() -> None:
    assert host_allowed("192.168.1.5:8765", ("192.168.1.5", 8765))
    assert host_allowed("[fe80::1]:8765", ("fe80::1", 8765))
    assert host_allowed("localhost", ("127.0.0.1", 80))  # browsers leave out port 80
    assert not host_allowed("localhost", ("127.0.0.1", 8765))
    assert not host_allowed(None, ("127.0.0.1", 8765))
    assert not host_allowed("evil.example:8765", ("0.0.0.0", 8765))


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.0.2", True),
        ("localhost", True),
        ("::1", True),
        ("[::1]", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.5", False),
        ("example.com", False),
    ],
)
def test_which_addresses_keep_to_this_machine(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


# -- the access token ---------------------------------------------------------------------


def test_with_a_token_every_request_needs_it(local_store: SessionStore) -> None:
    client = TestClient(create_app(local_store, token="s3cret-token-for-tests"))
    assert client.get("/").status_code == 403
    assert client.get("/static/app.css").status_code == 403
    assert client.get("/", params={"token": "wrong"}).status_code == 403
    assert "Login rate limit" not in client.get("/usage").text


def test_the_token_once_then_a_strict_cookie(local_store: SessionStore) -> None:
    client = TestClient(create_app(local_store, token="s3cret-token-for-tests"))
    first = client.get(
        "/", params={"token": "s3cret-token-for-tests", "tags": "auth"}, follow_redirects=False
    )
    assert first.status_code == 303
    assert first.headers["location"] == "/?tags=auth"  # the token leaves the address bar
    cookie = first.headers["set-cookie"]
    assert "claude_sessions_token=s3cret-token-for-tests" in cookie
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
    assert client.get("/?tags=auth").status_code == 200  # the cookie from now on
    assert client.get(f"/s/{sid(1)}").status_code == 200
    other = TestClient(create_app(local_store, token="s3cret-token-for-tests"))
    other.cookies.set("claude_sessions_token", "guess")
    assert other.get("/").status_code == 403


@pytest.mark.parametrize("token", ["", "x", "fifteen-chars!!"])
def test_an_empty_or_short_token_is_refused_not_taken_as_none(
    local_store: SessionStore, token: str
) -> None:
    with pytest.raises(InvalidInputError, match=f"at least 16 characters, not {len(token)}$"):
        create_app(local_store, token=token)
    with pytest.raises(InvalidInputError):
        Guard(create_app(local_store), token=token)
    sixteen = TestClient(create_app(local_store, token="sixteen-chars!!!"))
    assert sixteen.get("/").status_code == 403


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.5", ""])
def test_no_server_beyond_loopback_without_signing_in(local_store: SessionStore, host: str) -> None:
    with pytest.raises(InvalidInputError, match="reachable from other machines"):
        make_server(create_app(local_store), host, 0)
    with pytest.raises(InvalidInputError, match="--auth"):  # one shared token is not enough
        make_server(create_app(local_store, token="s3cret-token-for-tests"), host, 0)
    make_server(create_app(local_store, auth=Authority(local_store)), host, 0)  # not started
    make_server(create_app(local_store), "127.0.0.1", 0)


def test_the_running_server_lets_in_only_who_has_the_token(local_store: SessionStore) -> None:
    token = "s3cret-token-for-tests"
    with running(create_app(local_store, token=token)) as server:

        def get(path: str, cookie: str | None = None) -> http.client.HTTPResponse:
            connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
            connection.request("GET", path, headers={"Cookie": cookie} if cookie else {})
            response = connection.getresponse()
            response.read()
            connection.close()
            return response

        assert get("/").status == 403
        assert get("/?token=").status == 403
        assert get("/", cookie="claude_sessions_token=").status == 403
        let_in = get(f"/?token={token}")
        assert let_in.status == 303 and let_in.getheader("location") == "/"
        cookie = let_in.getheader("set-cookie", "").split(";")[0]
        assert cookie == f"claude_sessions_token={token}"
        assert get("/", cookie=cookie).status == 200


# -- CSRF and the state-changing routes -------------------------------------------------------


def test_a_post_without_the_csrf_token_is_refused(local_store: SessionStore) -> None:
    client = TestClient(create_app(local_store))
    client.get(f"/s/{sid(1)}")  # a browser that has seen a page (it has the nonce cookie)
    url = f"/s/{sid(1)}/tags"
    assert client.post(url, data={"tags": "evil"}).status_code == 403
    assert client.post(url, data={"tags": "evil", "csrf_token": "0" * 64}).status_code == 403
    assert "evil" not in local_store.get_metadata(sid(1)).tags  # type: ignore[union-attr]


def test_a_token_from_another_browser_does_not_do(local_store: SessionStore) -> None:
    app = create_app(local_store)
    mine, theirs = TestClient(app), TestClient(app)
    token = csrf_of(mine.get(f"/s/{sid(1)}").text)
    theirs.get("/")
    response = theirs.post(f"/s/{sid(1)}/tags", data={"tags": "evil", "csrf_token": token})
    assert response.status_code == 403
    fresh = TestClient(app)  # no nonce cookie at all
    response = fresh.post(f"/s/{sid(1)}/tags", data={"tags": "evil", "csrf_token": token})
    assert response.status_code == 403


def test_a_post_from_another_site_is_refused(local_store: SessionStore) -> None:
    client = TestClient(create_app(local_store))
    token = csrf_of(client.get(f"/s/{sid(1)}").text)
    response = client.post(
        f"/s/{sid(1)}/tags",
        data={"tags": "evil", "csrf_token": token},
        headers={"origin": "http://attacker.example"},
    )
    assert response.status_code == 403
    response = client.post(
        f"/s/{sid(1)}/tags",
        data={"tags": "evil", "csrf_token": token},
        headers={"sec-fetch-site": "cross-site"},
    )
    assert response.status_code == 403


def test_changes_need_post(local_store: SessionStore) -> None:
    client = TestClient(create_app(local_store))
    assert client.get(f"/s/{sid(1)}/tags", params={"tags": "x"}).status_code == 405


@pytest.mark.parametrize("how", ["flag", "store"])
def test_read_only_serves_no_state_changing_route(tmp_path: Path, how: str) -> None:
    location = tmp_path / "store"
    with SessionStore(location, cleanup_after_days=None) as writable:
        populate(writable)
    opened = {"read_only": True} if how == "store" else {"cleanup_after_days": None}
    with SessionStore(location, **opened) as store:  # type: ignore[arg-type]
        client = TestClient(create_app(store, read_only=(how == "flag")))
        page = client.get(f"/s/{sid(1)}")
        assert page.status_code == 200
        assert '<form method="post"' not in page.text and "read-only" in page.text
        for action in ("tags", "tags/remove", "description"):
            response = client.post(f"/s/{sid(1)}/{action}", data={"tags": "x", "tag": "auth"})
            assert response.status_code in (404, 405)
        assert store.get_metadata(sid(1)).tags == ("auth", "security")  # type: ignore[union-attr]


# -- the actions, on both databases -----------------------------------------------------------


def test_tags_and_description_are_stored(store: SessionStore) -> None:
    populate(store)
    client = TestClient(create_app(store))
    token = csrf_of(client.get(f"/s/{sid(2)}").text)
    response = client.post(
        f"/s/{sid(2)}/tags",
        data={"tags": "ui, reviewed", "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/s/{sid(2)}#panel"
    assert set(store.get_metadata(sid(2)).tags) == {"design", "ui", "reviewed"}  # type: ignore[union-attr]
    client.post(f"/s/{sid(2)}/tags/remove", data={"tag": "design", "csrf_token": token})
    assert set(store.get_metadata(sid(2)).tags) == {"ui", "reviewed"}  # type: ignore[union-attr]
    client.post(
        f"/s/{sid(2)}/description", data={"description": "New <b>header</b>", "csrf_token": token}
    )
    assert store.get_metadata(sid(2)).description == "New <b>header</b>"  # type: ignore[union-attr]
    page = client.get(f"/s/{sid(2)}").text
    assert "New &lt;b&gt;header&lt;/b&gt;" in page and "<b>header" not in page
    client.post(f"/s/{sid(2)}/description", data={"description": "  ", "csrf_token": token})
    assert store.get_metadata(sid(2)).description is None  # type: ignore[union-attr]


def test_an_action_on_an_unknown_session_is_a_404(store: SessionStore) -> None:
    populate(store)
    client = TestClient(create_app(store))
    token = csrf_of(client.get(f"/s/{sid(1)}").text)
    response = client.post("/s/no-such-session/tags", data={"tags": "x", "csrf_token": token})
    assert response.status_code == 404
    assert "404 · Not found" in response.text
