"""The store's change version, which live pages poll: every kind of write moves it (both
databases), even when the writer's clock is behind another writer's (a shared store
written from machines whose clocks differ), and reading it does not move it."""

from __future__ import annotations

import pytest

from .store_samples import run

BEHIND = "/work/behind"


@pytest.fixture
def skewed(store_factory, fake_clock):
    """A store where one project was written an hour ahead of the clock now in use."""
    store = store_factory(clock=fake_clock)
    fake_clock.advance(hours=1)
    store.save_session("ahead", run("ahead", cwd="/work/ahead"))
    fake_clock.advance(hours=-1)
    store.save_session("s", run("s", cwd=BEHIND), tags=["keep"])
    store.save_session("t", run("t", cwd=BEHIND))
    return store


def _writes(store):
    more = run("s", cwd=BEHIND, text="more")
    more[1] = {**more[1], "uuid": "s-more", "message": {**more[1]["message"], "id": "m2"}}
    return [
        ("save again", lambda: store.save_session("s", run("s", cwd=BEHIND), tags=["keep"])),
        ("append", lambda: store.append_messages("s", more)),
        ("record a run", lambda: store.record_run("s", run("s", cwd=BEHIND, text="again"))),
        ("add a tag", lambda: store.add_tags("s", ["new"])),
        ("remove a tag", lambda: store.remove_tags("s", ["new"])),
        ("describe", lambda: store.set_description("s", "a description")),
        ("delete to trash", lambda: store.delete_session("s")),
        ("restore", lambda: store.restore_session("s")),
        ("trash again", lambda: store.trash_session("s")),
        ("restore by tag", lambda: store.restore_sessions(tags=["keep"])),
        ("purge", lambda: store.delete_session("s", purge=True)),
        ("trash another", lambda: store.trash_session("t")),
        ("empty the trash", lambda: store.empty_trash()),
    ]


def test_every_kind_of_write_moves_the_version(skewed):
    seen = {skewed.version()}
    for name, write in _writes(skewed):
        write()
        now = skewed.version()
        assert now not in seen, f"{name} left the version at {now}"
        seen.add(now)
    assert skewed.get_metadata("s") is None and skewed.list_trash() == []


def test_reading_leaves_the_version_alone(skewed):
    before = skewed.version()
    skewed.search(tags=["keep"])
    skewed.load_session("s")
    skewed.list_trash()
    skewed.usage("day")
    assert skewed.version() == before


def test_the_version_scans_no_table_on_sqlite(tmp_path):
    """Live pages poll it: it probes indexes, whatever the store's size."""
    from claude_sessions import SessionStore

    with SessionStore(tmp_path / "store", cleanup_after_days=None) as store:
        for n in range(3):
            store.save_session(f"n{n}", run(f"n{n}"))
        connection = store._driver._connect()
        statements: list[str] = []
        connection.set_trace_callback(statements.append)
        try:
            store.version()
        finally:
            connection.set_trace_callback(None)
        queries = [sql for sql in statements if sql.lstrip().upper().startswith("SELECT")]
        assert queries
        for sql in queries:
            plan = [row[3] for row in connection.execute(f"EXPLAIN QUERY PLAN {sql}")]
            scans = [step for step in plan if step.startswith("SCAN") and "CONSTANT" not in step]
            assert not scans, plan
