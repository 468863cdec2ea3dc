"""A laptop's store copied (``copy``) keeps how far each team server has it: a sync from
the copy sends nothing the server already acknowledged (both databases)."""

from __future__ import annotations

from typing import Any

from claude_sessions import SessionStore
from claude_sessions.capture import syncing
from claude_sessions.importer import import_transcripts
from claude_sessions.store import sync_marks
from claude_sessions.store.plan import Stmt, Txn, single
from claude_sessions.store.transfer import copy_store

from .test_syncing import FIXTURES, URL, StandIn


def test_a_copied_store_sends_a_server_nothing_it_has(store_factory: Any) -> None:
    laptop: SessionStore = store_factory()
    import_transcripts(laptop, [FIXTURES])
    server = StandIn(store_factory())
    first = syncing.send_all(laptop, server)  # type: ignore[arg-type]
    assert first.sent > 0 and syncing.backlog(laptop, URL).entries == 0
    sent_state = sync_marks.send_state(laptop, URL)
    sync_marks.record_pull(laptop, URL, "1765000000000.42")  # where a pull from it ended

    copied: SessionStore = store_factory()
    report = copy_store(laptop, copied)
    assert report.ok, report.mismatches
    assert syncing.backlog(copied, URL) == syncing.Backlog(0, 0)
    again = syncing.send_all(copied, server)  # type: ignore[arg-type]
    assert (again.sent, again.batches) == (0, 0)
    assert len(server.batches) == first.batches  # not one request more
    assert sync_marks.send_state(copied, URL) == sent_state  # `hooks status` says the same
    assert sync_marks.pulled_since(copied, URL) == "1765000000000.42"  # pulls go on too
    # another server has none of it: the copy sends it everything, as the original would
    assert syncing.backlog(copied, "https://other.example") == syncing.backlog(
        laptop, "https://other.example"
    )


def _marks(store: SessionStore) -> list[tuple[str, str, str, int]]:
    """Every mark: its server, session id, transcript and seq."""

    def read() -> Any:
        rows = yield Stmt(
            "SELECT m.server, s.session_id, m.subpath, m.acked_seq FROM sync_marks m "
            "JOIN sessions s ON s.id = m.session_ref",
            (),
            "all",
        )
        return sorted((r["server"], r["session_id"], r["subpath"], r["acked_seq"]) for r in rows)

    found: list[tuple[str, str, str, int]] = store.run(single(Txn(read)))
    return found


def test_copying_again_keeps_each_mark_once(store_factory: Any) -> None:
    laptop: SessionStore = store_factory()
    import_transcripts(laptop, [FIXTURES])
    syncing.push(laptop, StandIn(store_factory()))  # type: ignore[arg-type]
    copied: SessionStore = store_factory()
    assert copy_store(laptop, copied).ok
    assert copy_store(laptop, copied).ok  # the sessions replaced, their marks with them
    assert _marks(copied) == _marks(laptop) != []
    assert sync_marks.pending(copied, URL) == []
