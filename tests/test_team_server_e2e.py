"""Who sees what on a real team server: ``serve --auth`` in its own process on both
databases, with two members (alice, bob), an admin (root) and sessions of each, some
shared. Every route is asked about every session as each user (a bearer token, or the
browser's signed-in cookie) and as nobody: no member ever receives another member's
unshared id, title, prompt or snippet; the admin sees all; the team totals a member
sees are the admin's; nobody gets nothing but the way to sign in."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from claude_sessions import SessionStore

from .auth_server import Server, cookie_header, form_token, signed_in_cookie, start
from .team_samples import MEMBERS, SAMPLES, Team, make_team
from .test_visibility_web import ASKED

pytestmark = pytest.mark.e2e


@pytest.fixture
def served(store_location: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Server, Team]]:
    with SessionStore(store_location, cleanup_after_days=None) as store:
        team = make_team(store, monkeypatch)
    team.location = store_location  # the store's own names it without its password
    # on PostgreSQL a store with users asks for signing in by default
    server = start(store_location, *([] if "://" in store_location else ["--auth"]))
    try:
        yield server, team
    finally:
        server.process.kill()
        server.process.wait()


def _requests() -> list[tuple[str, str, dict[str, str] | None]]:
    return [asked for route in ASKED.values() for asked in route]


def _ask(server: Server, who: dict[str, str], sample_id: str) -> Iterator[tuple[str, Any]]:
    """Each request of every route about ``sample_id``, as ``who`` (headers), with the
    form token a page hands ``who`` for the changes."""
    nonce, csrf = form_token(server, who)
    with_nonce = {
        **who,
        "Cookie": "; ".join(filter(None, [who.get("Cookie"), cookie_header(nonce)])),
    }
    for method, template, form in _requests():
        path = template.format(id=sample_id, short=sample_id[:-1])
        if method == "GET":
            yield path, server.request("GET", path, who)
        else:
            yield (
                path,
                server.request("POST", path, with_nonce, {**(form or {}), "csrf_token": csrf}),
            )


def _as_each(server: Server, team: Team) -> dict[str, dict[str, str]]:
    """Two ways in for each user: a bearer token for members, the sign-in cookie for root."""
    found = {name: {"Authorization": f"Bearer {team.tokens[name]}"} for name in MEMBERS}
    found["root"] = {"Cookie": signed_in_cookie(server, "root", team.tokens["root"])}
    return found


def test_no_member_receives_what_another_did_not_share(served: tuple[Server, Team]) -> None:
    server, team = served
    ways = _as_each(server, team)
    for name in MEMBERS:  # before the changes below (alice stops sharing hers)
        listing = server.request("GET", "/?q=commonword", ways[name]).body
        assert {s.session_id for s in SAMPLES if s.session_id in listing} == team.visible_to(name)
    for name in MEMBERS:
        who = ways[name]
        hidden = team.hidden_from(name)
        assert hidden  # each member has something to be kept from
        for sample in SAMPLES:
            for path, answer in _ask(server, who, sample.session_id):
                assert answer.status != 401, (name, path)
                body = answer.body + " ".join(answer.headers.values())
                for echoed in (sample.session_id, sample.session_id[:-1]):
                    body = body.replace(echoed, "")  # what was asked for may come back
                leaked = [s.marker for s in hidden if s.marker in body]
                assert not leaked, (name, path, answer.status)


def test_the_admin_sees_all_and_the_team_totals_are_the_admins(
    served: tuple[Server, Team],
) -> None:
    server, team = served
    ways = _as_each(server, team)
    listing = server.request("GET", "/?q=commonword", ways["root"]).body
    assert all(s.session_id in listing for s in SAMPLES)
    for sample in SAMPLES:
        page = server.request("GET", f"/s/{sample.session_id}", ways["root"])
        assert page.status == 200 and sample.marker in page.body

    def figures(who: dict[str, str]) -> list[str]:
        return re.findall(r"\$\d+\.\d+", server.request("GET", "/usage?last=all", who).body)

    with SessionStore(team.location, cleanup_after_days=None) as store:
        total = sum(m.total_cost for m in store.list_sessions())
    for name in MEMBERS:
        assert figures(ways[name])[:3] == figures(ways["root"])[:3]
        assert f"${total:.2f}" in figures(ways[name])


def test_nobody_gets_nothing_but_the_way_in(served: tuple[Server, Team]) -> None:
    server, _ = served
    for sample in SAMPLES:
        for path, answer in _ask(server, {}, sample.session_id):
            assert answer.status in (303, 401), (path, answer.status)
            body = answer.body + " ".join(answer.headers.values())
            body = body.replace(sample.session_id, "").replace(sample.session_id[:-1], "")
            assert not [s.marker for s in SAMPLES if s.marker in body], path
