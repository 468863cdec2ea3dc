"""Sending a laptop's store to a team server and bringing sessions down (issue 27, 2-3),
in one process on both databases: a stand-in server keeps what it is sent with the
team server's own ingest, so batches, marks and counts are the real ones."""

from __future__ import annotations

import json
import socket
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from claude_sessions import SessionStore
from claude_sessions.capture import syncing
from claude_sessions.capture.team_server import TeamServer
from claude_sessions.importer import import_transcripts
from claude_sessions.model.exceptions import ServerRefused, ServerUnreachable
from claude_sessions.model.identity import User
from claude_sessions.model.team_wire import IngestBatch, IngestReport
from claude_sessions.store import sync_marks
from claude_sessions.store.ingest import ingest

FIXTURES = Path(__file__).parent / "fixtures" / "transcripts" / "projects"
URL = "https://team.example"


class StandIn:
    """A team server in this process: ``fail_after`` batches, then unreachable."""

    def __init__(self, store: SessionStore, url: str = URL) -> None:
        self.store, self.url = store, url
        self.user = User("alice", "alice", False, datetime.now(timezone.utc))
        self.batches: list[IngestBatch] = []
        self.fail_after: int | None = None

    def ingest(self, batch: IngestBatch) -> IngestReport:
        if self.fail_after is not None and len(self.batches) >= self.fail_after:
            raise ServerUnreachable("the team server is unreachable: connection refused")
        self.batches.append(batch)
        done = ingest(self.store, batch, self.user)
        return IngestReport(done.session_id, done.stored, done.duplicates, ())


def _count(store: SessionStore) -> int:
    return sum(one.entries for one in sync_marks.pending(store, "count-all"))


@pytest.fixture
def laptop(store_factory: Any) -> SessionStore:
    store = store_factory()
    import_transcripts(store, [FIXTURES])
    return store


def test_push_sends_everything_once_in_batches_and_a_second_push_nothing(
    laptop: SessionStore, store_factory: Any
) -> None:
    server = StandIn(store_factory())
    local = _count(laptop)
    assert local > 0
    report = syncing.push(laptop, server, batch_entries=7)  # type: ignore[arg-type]
    # entries without a uuid are one entry per exact JSON on the server: a repeat of
    # one (the fixtures hold a few) counts as a duplicate, and the counts add up
    assert report.stored == _count(server.store)
    assert report.stored + report.duplicates == local
    assert all(sum(len(f.entries) for f in b.files) <= 7 for b in server.batches)
    assert report.line().startswith(f"sent {local:,} entries of {len(report.sessions)} sessions")
    again = syncing.push(laptop, server)  # type: ignore[arg-type]
    assert (again.sent, again.batches) == (0, 0)


def test_a_push_cut_off_sends_the_rest_next_time_exactly_once(
    laptop: SessionStore, store_factory: Any
) -> None:
    server = StandIn(store_factory())
    server.fail_after = 3
    with pytest.raises(ServerUnreachable):
        syncing.push(laptop, server, batch_entries=5)  # type: ignore[arg-type]
    halfway = _count(server.store)
    assert 0 < halfway <= 15
    assert syncing.backlog(laptop, URL).entries == _count(laptop) - 15
    server.fail_after = None
    rest = syncing.push(laptop, server)  # type: ignore[arg-type]
    whole = StandIn(store_factory(), "https://other.example")
    syncing.push(laptop, whole)  # type: ignore[arg-type]
    assert rest.sent == _count(laptop) - 15
    assert _count(server.store) == _count(whole.store) == halfway + rest.stored


def test_a_capture_sends_within_its_deadline_and_logs_why_not(
    laptop: SessionStore, store_factory: Any
) -> None:
    server = StandIn(store_factory())
    server.fail_after = 0
    first = sync_marks.pending(laptop, URL)[0].session_id
    line = syncing.send_captured(laptop, server, first, deadline=time.monotonic() + 5)  # type: ignore[arg-type]
    assert line.startswith(f"not sent to {URL}: the team server is unreachable")
    state = sync_marks.send_state(laptop, URL)
    assert state.ok_at is None and state.reason and "connection refused" in state.reason
    # only the captured session was marked: the next capture's backlog is that one
    assert {p.session_id for p in sync_marks.pending(laptop, URL, marked=True)} == {first}
    server.fail_after = None
    line = syncing.send_captured(laptop, server, first, deadline=time.monotonic() - 1)
    assert "entries left for the next send" in line and server.batches == []
    line = syncing.send_captured(laptop, server, first, deadline=time.monotonic() + 60)
    assert line.startswith("sent ")
    assert sync_marks.pending(laptop, URL, marked=True) == []
    assert sync_marks.send_state(laptop, URL).ok_at is not None


def test_a_session_the_server_refuses_is_skipped_and_named(
    laptop: SessionStore, store_factory: Any
) -> None:
    server = StandIn(store_factory())
    refused_id = sync_marks.pending(laptop, URL)[0].session_id
    plain = server.ingest

    def ingest_but_one(batch: IngestBatch) -> IngestReport:
        if batch.session_id == refused_id:
            raise ServerRefused(409, f"session {refused_id} is in the server's trash")
        return plain(batch)

    server.ingest = ingest_but_one  # type: ignore[method-assign]
    report = syncing.push(laptop, server)  # type: ignore[arg-type]
    assert [line.split(":")[0] for line in report.refused] == [refused_id]
    assert refused_id not in {b.session_id for b in server.batches}
    assert report.stored == _count(server.store) > 0


def test_a_server_that_never_answers_costs_a_capture_its_timeout_only(tmp_path: Path) -> None:
    silent = socket.socket()  # listens, never accepts: the client's connect succeeds, reads wait
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)
    url = f"http://127.0.0.1:{silent.getsockname()[1]}"
    try:
        with SessionStore(tmp_path / "laptop", cleanup_after_days=None) as laptop:
            import_transcripts(laptop, [FIXTURES])
            first = sync_marks.pending(laptop, url)[0].session_id
            server = TeamServer(url, "tok3n", timeout=0.5)
            started = time.monotonic()
            line = syncing.send_captured(laptop, server, first, deadline=started + 5)
            took = time.monotonic() - started
            assert took < 3, took  # one batch's timeout, then the capture gives up
            assert "no answer in time" in line and "tok3n" not in line
            assert syncing.backlog(laptop, url).entries == _count(laptop)
    finally:
        silent.close()


def test_sync_records_its_failure_and_its_success_for_hooks_status(
    laptop: SessionStore, store_factory: Any
) -> None:
    server = StandIn(store_factory())
    server.fail_after = 0
    with pytest.raises(ServerUnreachable):
        syncing.send_all(laptop, server)  # type: ignore[arg-type]
    failed = sync_marks.send_state(laptop, URL)
    assert failed.ok_at is None and failed.reason and "connection refused" in failed.reason
    server.fail_after = None
    syncing.send_all(laptop, server)  # type: ignore[arg-type]
    shown = syncing.sync_status(laptop, URL).lines()
    assert shown[1] == " backlog: 0 entries of 0 sessions"
    assert not any("failed" in line for line in shown)


def test_what_a_batch_brings_is_searched_at_once_tool_text_too(store: SessionStore) -> None:
    """A team server (or a laptop pulling) indexes a batch's tool text as it stores it."""
    from claude_sessions.model.team_wire import IngestFile
    from claude_sessions.store.search_index import not_indexed

    call = {"type": "tool_use", "id": "t1", "name": "Bash", "input": {"command": "ls"}}
    said = [
        {"type": "user", "uuid": "u1", "message": {"role": "user", "content": "list it"}},
        {"type": "assistant", "uuid": "a1", "message": {"role": "assistant", "content": [call]}},
        {
            "type": "user",
            "uuid": "r1",
            "message": {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "quokka.txt"}],
            },
        },
    ]
    alice = User("alice", "alice", False, datetime.now(timezone.utc))
    ingest(store, IngestBatch("s1", "-p", None, "laptop", (IngestFile("", said),)), alice)
    assert not_indexed(store) == 0
    assert [m.session_id for m in store.search(text="quokka")] == ["s1"]


def test_a_store_that_redacts_on_capture_redacts_what_a_batch_brings(store: SessionStore) -> None:
    """The team server's policy holds for what laptops send, as for its own imports."""
    from claude_sessions.model.team_wire import IngestFile
    from claude_sessions.store.redacting import set_redaction_policy

    from .secret_samples import planted

    secret = next(one for one in planted() if one.rule == "aws-access-key-id")
    said = [
        {"type": "user", "uuid": "u1", "message": {"role": "user", "content": secret.text}},
    ]
    set_redaction_policy(store, True)
    alice = User("alice", "alice", False, datetime.now(timezone.utc))
    batch = IngestBatch("s1", "-p", None, "laptop", (IngestFile("", said),))
    first = ingest(store, batch, alice)
    again = ingest(store, batch, alice)  # sent twice: the same redacted entry, once
    assert (first.stored, again.stored, again.duplicates) == (1, 0, 1)
    kept = store.load_session("s1")
    assert secret.value not in json.dumps([m.to_dict() for m in kept.messages])
    assert "[REDACTED:aws-access-key-id]" in kept.messages[0].to_dict()["message"]["content"]
    meta = store.get_metadata("s1")
    assert meta is not None and "aws-access-key-id" in meta.redacted_rules
