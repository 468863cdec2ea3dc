"""The sync marks (SQLite 19, PostgreSQL 15): how far a team server has each stored
transcript, and the last send's outcome, on both databases; a store from before the
step gets the table and keeps its sessions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from claude_sessions import SessionStore
from claude_sessions.store import sync_marks

from .older_store import set_back

SERVER = "https://team.example"
OTHER = "https://other.example"


def _entry(n: int, text: str = "hello") -> dict[str, Any]:
    return {"type": "user", "uuid": f"u-{n}", "message": {"role": "user", "content": text}}


def test_a_server_lacks_what_it_has_not_acknowledged(store: SessionStore) -> None:
    store.append_messages("s1", [_entry(n) for n in range(5)], project_key="p")
    store.append_messages(
        "s1", [_entry(10 + n) for n in range(2)], project_key="p", subpath="subagents/agent-a"
    )
    store.append_messages("s2", [_entry(20)], project_key="p")
    found = {
        (p.session_id, p.subpath): (p.acked_seq, p.entries)
        for p in sync_marks.pending(store, SERVER)
    }
    assert found == {("s1", ""): (-1, 5), ("s1", "subagents/agent-a"): (-1, 2), ("s2", ""): (-1, 1)}
    ref = next(p.ref for p in sync_marks.pending(store, SERVER, session_id="s1"))
    sent = sync_marks.entries_after(store, ref, "", -1, 3)
    assert [entry["uuid"] for _, _, entry in sent] == ["u-0", "u-1", "u-2"]
    sync_marks.acknowledge(store, SERVER, [(ref, "", sent[-1][0])])
    left = {(p.session_id, p.subpath): p.entries for p in sync_marks.pending(store, SERVER)}
    assert left == {("s1", ""): 2, ("s1", "subagents/agent-a"): 2, ("s2", ""): 1}
    rest = sync_marks.entries_after(store, ref, "", sent[-1][0], 100)
    assert [entry["uuid"] for _, _, entry in rest] == ["u-3", "u-4"]
    # another server keeps its own marks; an older acknowledgement never moves one back
    assert sum(p.entries for p in sync_marks.pending(store, OTHER)) == 8
    sync_marks.acknowledge(store, SERVER, [(ref, "", rest[-1][0])])
    sync_marks.acknowledge(store, SERVER, [(ref, "", sent[0][0])])
    assert ("s1", "") not in {(p.session_id, p.subpath) for p in sync_marks.pending(store, SERVER)}


def test_a_capture_finds_the_backlog_of_marked_transcripts_only(store: SessionStore) -> None:
    store.append_messages("s1", [_entry(1)], project_key="p")
    store.append_messages("s2", [_entry(2)], project_key="p")
    assert sync_marks.pending(store, SERVER, marked=True) == []
    ref = next(p.ref for p in sync_marks.pending(store, SERVER, session_id="s2"))
    sync_marks.acknowledge(store, SERVER, [(ref, "", -1)])  # begun, not acknowledged
    assert [p.session_id for p in sync_marks.pending(store, SERVER, marked=True)] == ["s2"]


def test_trashed_sessions_are_not_sent(store: SessionStore) -> None:
    store.append_messages("s1", [_entry(1)], project_key="p")
    store.trash_session("s1")
    assert sync_marks.pending(store, SERVER) == []


def test_the_last_success_and_the_last_failure_are_kept_apart(store: SessionStore) -> None:
    assert sync_marks.send_state(store, SERVER) == sync_marks.SendState()
    sync_marks.record_send(store, SERVER, 100.0)
    sync_marks.record_send(store, SERVER, 200.0, "connection refused")
    sync_marks.record_send(store, SERVER, 300.0)
    assert sync_marks.send_state(store, SERVER) == sync_marks.SendState(
        300.0, 200.0, "connection refused"
    )
    assert sync_marks.send_state(store, OTHER) == sync_marks.SendState()


def _without_sync_marks(run: Callable[..., Any], postgres: bool) -> None:
    run("DROP TABLE sync_marks")


def test_a_store_from_before_gets_the_sync_marks(store_location: str) -> None:
    with SessionStore(store_location) as opened:
        opened.append_messages("s1", [_entry(1), _entry(2)], project_key="p")
    set_back(store_location, sqlite=18, postgres=14, undo=_without_sync_marks)
    with SessionStore(store_location) as opened:
        assert [(p.session_id, p.entries) for p in sync_marks.pending(opened, SERVER)] == [
            ("s1", 2)
        ]
