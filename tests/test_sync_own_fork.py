"""New turns of another user's session (bob ran ``claude --resume`` on a session
``sync --pull`` brought him) go to the server as bob's own fork of it, never stay in
his backlog (issue 27 follow-up). In one process on both databases: a stand-in server
keeps what it is sent with the team server's own ingest, as bob, and refuses as the
real one does."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import pytest

from claude_sessions import SessionStore
from claude_sessions.capture import syncing
from claude_sessions.model.exceptions import IngestRefusedError, ServerRefused
from claude_sessions.model.identity import MACHINE_ENV_VAR, USER_ENV_VAR, User
from claude_sessions.model.team_wire import IngestBatch, IngestFile, IngestReport
from claude_sessions.store import sync_marks
from claude_sessions.store.ingest import ingest

from .team_samples import entries

URL = "https://team.example"
ORIGIN = "5b0f3a6e-1c2d-4e5f-8a9b-0c1d2e3f4a5b"


def person(name: str) -> User:
    return User(name, name, False, datetime.now(timezone.utc))


class AsBob:
    """A team server in this process, sent to with bob's token."""

    def __init__(self, store: SessionStore) -> None:
        self.store, self.url = store, URL
        self.sent: list[str] = []  # the session id of each batch, refused ones too

    def ingest(self, batch: IngestBatch) -> IngestReport:
        self.sent.append(batch.session_id)
        try:
            return ingest(self.store, batch, person("bob"))
        except IngestRefusedError as refused:  # what the API answers
            raise ServerRefused(409, str(refused)) from None


def turn(n: int, parent: str) -> list[dict[str, Any]]:
    """Bob's turn ``n`` of the session, chained after ``parent``."""
    said = entries(ORIGIN, f"bob{n}")
    said[0] |= {"uuid": f"bob-{n}-u", "parentUuid": parent}
    said[1] |= {"uuid": f"bob-{n}-a", "parentUuid": f"bob-{n}-u"}
    return said


@pytest.fixture
def pulled(store_factory: Any, monkeypatch: pytest.MonkeyPatch) -> tuple[SessionStore, AsBob]:
    """Alice's session on the server, and in bob's store as a pull leaves it."""
    server = AsBob(store_factory())
    hers = entries(ORIGIN, "alice")
    batch = IngestBatch(ORIGIN, "-work-app", "/work/app", "laptop-a", (IngestFile("", hers),))
    ingest(server.store, batch, person("alice"))
    laptop: SessionStore = store_factory()
    ingest(laptop, batch, person("alice"))
    refs = sync_marks.pending(laptop, URL)
    sync_marks.acknowledge(laptop, URL, [(one.ref, one.subpath, one.last_seq) for one in refs])
    monkeypatch.setenv(USER_ENV_VAR, "bob")
    monkeypatch.setenv(MACHINE_ENV_VAR, "laptop-b")
    return laptop, server


def _add(laptop: SessionStore, said: list[dict[str, Any]]) -> None:
    batch = IngestBatch(ORIGIN, "-work-app", "/work/app", "laptop-b", (IngestFile("", said),))
    ingest(laptop, batch, person("alice"))  # into her session, as bob's own capture does


def test_bobs_turns_in_alices_session_go_to_his_own_fork(
    pulled: tuple[SessionStore, AsBob],
) -> None:
    laptop, server = pulled
    _add(laptop, turn(1, f"{ORIGIN}-a"))
    report = syncing.push(laptop, server)  # type: ignore[arg-type]
    assert report.refused == [] and len(report.forked) == 1
    assert syncing.backlog(laptop, URL).entries == 0  # nothing left behind
    fork_ids = [one for one in server.sent if one != ORIGIN]
    assert server.sent[0] == ORIGIN and len(set(fork_ids)) == 1  # refused, then the fork
    fork_id = fork_ids[0]
    assert fork_id in report.line() and "alice's" in report.line()
    fork = server.store.get_metadata(fork_id)
    assert fork is not None and (fork.user, fork.machine) == ("bob", "laptop-b")
    assert fork.forked_from == ORIGIN
    # the fork holds the whole conversation: her history, then his turn
    held = [m.to_dict()["uuid"] for m in server.store.load_session(fork_id).messages]
    assert held == [f"{ORIGIN}-u", f"{ORIGIN}-a", "bob-1-u", "bob-1-a"]
    assert len(server.store.load_session(ORIGIN).messages) == 2  # hers is as she left it

    # his next turn goes straight to his fork: no refusal first, only the new entries
    _add(laptop, turn(2, "bob-1-a"))
    server.sent.clear()
    again = syncing.push(laptop, server)  # type: ignore[arg-type]
    assert server.sent == [fork_id] and (again.stored, again.duplicates) == (2, 0)
    assert again.forked == [] and again.refused == []
    assert len(server.store.load_session(fork_id).messages) == 6
    assert syncing.push(laptop, server).batches == 0  # type: ignore[arg-type]


def test_the_fork_id_is_the_same_from_any_of_bobs_stores_and_bobs_alone(
    pulled: tuple[SessionStore, AsBob], store_factory: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    laptop, server = pulled
    _add(laptop, turn(1, f"{ORIGIN}-a"))
    syncing.push(laptop, server)  # type: ignore[arg-type]
    first = set(server.sent) - {ORIGIN}
    # his second laptop, which pulled the same session and got the same turn another way
    other: SessionStore = store_factory()
    hers = IngestBatch(
        ORIGIN, "-work-app", "/work/app", "laptop-a", (IngestFile("", entries(ORIGIN, "alice")),)
    )
    ingest(other, hers, person("alice"))
    _add(other, turn(1, f"{ORIGIN}-a"))
    server.sent.clear()
    resent = syncing.push(other, server)  # type: ignore[arg-type]
    assert set(server.sent) - {ORIGIN} == first  # the same fork
    assert resent.stored == 0 and resent.duplicates == 4  # nothing twice on the server
    monkeypatch.setenv(USER_ENV_VAR, "carol")  # another user's fork has another id
    carols: SessionStore = store_factory()
    ingest(carols, hers, person("alice"))
    _add(carols, turn(1, f"{ORIGIN}-a"))
    server.sent.clear()
    syncing.push(carols, server)  # type: ignore[arg-type]
    assert not (set(server.sent) - {ORIGIN}) & first


def test_a_session_refused_for_being_in_the_trash_is_still_only_named(
    store_factory: Any,
) -> None:
    server = AsBob(store_factory())
    batch = IngestBatch(
        ORIGIN, "-work-app", "/work/app", "laptop-b", (IngestFile("", entries(ORIGIN, "b")),)
    )
    ingest(server.store, batch, person("bob"))
    server.store.trash_session(ORIGIN)  # bob trashed it on the server
    laptop: SessionStore = store_factory()
    ingest(laptop, batch, person("bob"))
    report = syncing.push(laptop, server)  # type: ignore[arg-type]
    assert report.forked == [] and len(report.refused) == 1 and "trash" in report.refused[0]
    assert set(server.sent) == {ORIGIN}
    assert json.dumps(report.to_dict())  # the summary --json prints


def test_a_fork_the_server_refuses_too_is_named_not_raised(
    pulled: tuple[SessionStore, AsBob], store_factory: Any
) -> None:
    laptop, server = pulled
    _add(laptop, turn(1, f"{ORIGIN}-a"))
    syncing.push(laptop, server)  # type: ignore[arg-type]
    (fork_id,) = set(server.sent) - {ORIGIN}
    server.store.trash_session(fork_id)  # bob threw his fork away on the server
    _add(laptop, turn(2, "bob-1-a"))
    later = syncing.push(laptop, server)  # type: ignore[arg-type]
    assert later.forked == [] and len(later.refused) == 1 and "trash" in later.refused[0]
    # another laptop of his, which never sent it, is refused the same way, once
    other: SessionStore = store_factory()
    hers = IngestBatch(
        ORIGIN, "-work-app", "/work/app", "laptop-a", (IngestFile("", entries(ORIGIN, "alice")),)
    )
    ingest(other, hers, person("alice"))
    _add(other, turn(1, f"{ORIGIN}-a"))
    server.sent.clear()
    report = syncing.push(other, server)  # type: ignore[arg-type]
    assert server.sent == [ORIGIN, fork_id]
    assert report.forked == [] and len(report.refused) == 1 and fork_id in report.refused[0]
