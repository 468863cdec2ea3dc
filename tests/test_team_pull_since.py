"""``sync --pull`` goes on from where the last pull ended (issue 27 follow-up): the last
page of ``GET /api/v1/sessions`` names a cursor (``since``) that the laptop keeps per
server, so a pull with nothing new asks one page and brings nothing. A real
``serve --auth`` process on both databases; the laptop's requests are counted."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from claude_sessions import SessionStore
from claude_sessions.capture import syncing
from claude_sessions.capture.team_server import TeamServer
from claude_sessions.model.team_wire import EntryPage, IngestBatch, IngestFile, SessionPage
from claude_sessions.store import users, visibility
from claude_sessions.store.ingest import ingest

from .auth_server import Server, start
from .store_fixtures import FakeClock
from .team_ingest_helpers import bearer, get
from .team_samples import entries

pytestmark = pytest.mark.e2e

PROJECT = "-work-app"


class Counted(TeamServer):
    """The laptops' client, counting its requests: the ids each listing page named, and
    the sessions whose entries it asked for."""

    def __init__(self, url: str, token: str) -> None:
        super().__init__(url, token, timeout=30.0)
        self.pages: list[list[str]] = []
        self.fetched: list[str] = []

    def sessions(self, after: str | None = None) -> SessionPage:
        page = super().sessions(after)
        self.pages.append([one.session_id for one in page.sessions])
        return page

    def entries(self, session_id: str, project_key: str, after: str | None = None) -> EntryPage:
        self.fetched.append(session_id)
        return super().entries(session_id, project_key, after)


@dataclass
class Served:
    location: str
    server: Server
    tokens: dict[str, str]
    people: dict[str, users.User]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}"

    def write(
        self, session_id: str, turn: str, *, ago: timedelta | None = None, shared: bool = True
    ) -> int:
        """Alice sends a turn (two entries) of ``session_id``, now or ``ago``; shares it."""
        clock = FakeClock(datetime.now(timezone.utc) - ago) if ago is not None else None
        rows = [dict(e, uuid=f"{e['uuid']}-{turn}") for e in entries(session_id, turn)]
        batch = IngestBatch(session_id, PROJECT, "/work/app", "laptop-a", (IngestFile("", rows),))
        with SessionStore(self.location, cleanup_after_days=None, clock=clock) as store:
            ingest(store, batch, self.people["alice"])
            if shared:
                visibility.share_session(
                    visibility.seen_by(store, self.people["alice"]), session_id
                )
        return len(rows)

    def entry_count(self, session_id: str) -> int:
        with SessionStore(self.location, cleanup_after_days=None) as store:
            return len(store.load_session(session_id).messages)


@pytest.fixture
def served(store_location: str) -> Iterator[Served]:
    with SessionStore(store_location, cleanup_after_days=None) as store:
        made = {name: users.add_user(store, name) for name in ("alice", "bob")}
    server = start(store_location, "--auth")
    try:
        yield Served(
            store_location,
            server,
            {name: token for name, (_, token) in made.items()},
            {name: person for name, (person, _) in made.items()},
        )
    finally:
        server.process.kill()
        server.process.wait()


def _pull(laptop: SessionStore, served: Served) -> tuple[syncing.PullReport, Counted]:
    client = Counted(served.url, served.tokens["bob"])
    return syncing.pull(laptop, client), client  # type: ignore[arg-type]


HOUR = timedelta(hours=1)


def test_a_pull_brings_only_what_changed_since_the_last_one(
    served: Served, store_factory: Any
) -> None:
    old = ["s-old-one", "s-old-two", "s-old-three"]
    for session_id in old:
        served.write(session_id, "t1", ago=HOUR)
    served.write("s-old-hidden", "t1", ago=HOUR, shared=False)
    laptop: SessionStore = store_factory()

    first, client = _pull(laptop, served)
    assert (first.sessions, first.entries) == (3, 6)
    assert client.pages == [old] and sorted(client.fetched) == sorted(old)

    added = served.write("s-old-one", "t2")  # grown
    added += served.write("s-new-one", "t1") + served.write("s-new-two", "t1")
    served.write("s-old-hidden", "t2", shared=False)  # changed, still not bob's to see
    changed = {"s-old-one", "s-new-one", "s-new-two"}
    second, client = _pull(laptop, served)
    assert (second.sessions, second.entries) == (3, added)
    assert len(client.pages) == 1 and set(client.pages[0]) == changed
    assert sorted(client.fetched) == sorted(changed)
    for session_id in changed:
        assert len(laptop.load_session(session_id).messages) == served.entry_count(session_id)

    third, client = _pull(laptop, served)
    assert (third.sessions, third.entries) == (0, 0)
    assert len(client.pages) == 1 and client.fetched == []

    # A write stamped before the last pull's listing but committed after it (a slow
    # transaction) is still found: the cursor stays minutes behind the server's clock.
    served.write("s-late", "t1", ago=timedelta(seconds=60))
    late, client = _pull(laptop, served)
    assert (late.sessions, late.entries, client.fetched) == (1, 2, ["s-late"])

    # Sharing an old session is a change: the next pull brings it.
    with SessionStore(served.location, cleanup_after_days=None) as store:
        visibility.share_session(visibility.seen_by(store, served.people["alice"]), "s-old-hidden")
    shared, client = _pull(laptop, served)
    assert (shared.sessions, client.fetched) == (1, ["s-old-hidden"])
    assert len(laptop.load_session("s-old-hidden").messages) == 4


def test_only_the_last_page_names_since(served: Served) -> None:
    for n in range(3):
        served.write(f"s-paged-{n}", "t1")
    first = get(served.server, "/api/v1/sessions?limit=2", bearer(served.tokens["bob"])).json()
    assert first["next"] is not None and first["since"] is None
    path = f"/api/v1/sessions?limit=2&after={first['next']}"
    last = get(served.server, path, bearer(served.tokens["bob"])).json()
    assert last["next"] is None and isinstance(last["since"], str)
    assert [one["session_id"] for one in first["sessions"] + last["sessions"]] == [
        f"s-paged-{n}" for n in range(3)
    ]
    # from there, the sessions written in the last minutes are listed again (a write
    # stamped before the listing may commit after it)
    path = f"/api/v1/sessions?after={last['since']}"
    again = get(served.server, path, bearer(served.tokens["bob"])).json()
    assert {one["session_id"] for one in again["sessions"]} == {f"s-paged-{n}" for n in range(3)}


def test_sync_pull_from_start_walks_the_whole_list_again(served: Served, tmp_path: Any) -> None:
    from click.testing import CliRunner

    from claude_sessions.cli import cli

    for n in range(2):
        served.write(f"s-kept-{n}", "t1", ago=HOUR)
    local = str(tmp_path / "laptop")
    args = ["sync", "--pull", "--server", served.url, "--token", served.tokens["bob"]]
    args += ["--store", local, "--json"]

    def pull(*more: str) -> dict[str, Any]:
        done = CliRunner().invoke(cli, [*args, *more])
        assert done.exit_code == 0, done.output
        return dict(json.loads(done.output))

    assert pull()["sessions"] == 2
    with SessionStore(local, cleanup_after_days=None) as laptop:
        laptop.delete_session("s-kept-0", purge=True)  # gone here, unchanged there
    assert pull()["sessions"] == 0  # only what changed since is listed
    again = pull("--from-start")
    assert (again["sessions"], again["had"]) == (1, 1)
