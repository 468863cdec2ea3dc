"""``SessionStore.watch_changes``: on PostgreSQL every committed write, from another
connection too, calls back (LISTEN/NOTIFY), and a store in another schema of the same
database is not heard. SQLite cannot tell (live pages poll it instead)."""

from __future__ import annotations

import threading

from .store_samples import run

WITHIN = 30.0  # generous: the notice comes at the commit
QUIET = 2.0  # how long no notice means none is coming (a notice takes milliseconds)


def test_writes_from_another_connection_are_told_and_rollbacks_are_not(store_factory) -> None:
    watched = store_factory(location="team")
    calls = threading.Semaphore(0)
    stop = watched.watch_changes(calls.release)
    if "postgresql" not in watched.location:
        assert stop is None  # SQLite: the pages keep polling
        return
    assert stop is not None
    writer = store_factory(location="team")
    writer.save_session("s", run("s"))
    assert calls.acquire(timeout=WITHIN)
    writer.add_tags("s", ["told"])
    assert calls.acquire(timeout=WITHIN)
    while calls.acquire(timeout=QUIET):  # a write may be more than one transaction
        pass
    store_factory(location="elsewhere").save_session("o", run("o"))
    assert not calls.acquire(timeout=QUIET)  # the other schema's writes are not heard
    writer.set_description("s", "the last write")
    assert calls.acquire(timeout=WITHIN)
    stop()
