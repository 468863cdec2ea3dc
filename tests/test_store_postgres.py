"""What only the PostgreSQL backend has: its URL, faults, privileges, schema, JSONB, async API.

The behaviour both backends share is tested by the other ``test_store_*``
files, which run on SQLite and PostgreSQL alike (``store_factory``).
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Iterator
from urllib.parse import quote

import psycopg
import psycopg_pool
import pytest

from claude_sessions import (
    AsyncSessionStore,
    InvalidMessageError,
    SessionStore,
    StoreError,
    StoreVersionError,
)
from claude_sessions.model.exceptions import StoreConnectionError
from claude_sessions.store.location import parse_postgres as parse_location
from claude_sessions.store.postgres import schema as postgres_schema
from claude_sessions.store.postgres.driver import AsyncPostgresDriver, PostgresDriver, _Retry
from claude_sessions.testing.postgres import (
    PostgresNotFoundError,
    TemporaryPostgres,
    free_port,
    with_database,
)
from claude_sessions.testing.postgres_plugin import POSTGRES_URL_ENV

from .older_store import undo_request_figures
from .store_samples import run, transcript
from .store_workers import messages

pytestmark = pytest.mark.postgres

SECRET = "s3cr3t-Pa55w0rd"


def open_store(url: str, **kwargs: object) -> SessionStore:
    kwargs.setdefault("cleanup_after_days", None)
    return SessionStore(url, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def app_role(postgres_url: str) -> Iterator[str]:
    """A plain login role (no superuser, no CREATEDB) with password SECRET."""
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("DROP ROLE IF EXISTS cs_app")
        conn.execute(f"CREATE ROLE cs_app LOGIN PASSWORD '{SECRET}' NOSUPERUSER NOCREATEDB")
    yield "cs_app"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        for (name,) in conn.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE 'test_%'"
        ).fetchall():
            with psycopg.connect(with_database(postgres_url, name), autocommit=True) as db:
                db.execute("DROP OWNED BY cs_app CASCADE")
        conn.execute("DROP ROLE cs_app")


def role_url(database_url: str, role: str, password: str = SECRET) -> str:
    scheme, rest = database_url.split("://", 1)
    host_and_db = rest.split("@", 1)[1]
    return f"{scheme}://{role}:{quote(password, safe='')}@{host_and_db}"


# -- locations and the environment ---------------------------------------------------


def test_url_options_and_masking() -> None:
    loc = parse_location(
        f"postgresql://me:{SECRET}@db.example:5433/sessions?schema=team_a&sslmode=disable"
        "&pool_max_size=3&pool_timeout=2.5"
    )
    assert loc.schema == "team_a"
    assert loc.pool_max_size == 3
    assert loc.pool_timeout == 2.5
    assert "schema" not in loc.conninfo and "sslmode=disable" in loc.conninfo
    assert loc.password == SECRET and SECRET not in loc.conninfo  # libpq gets it apart
    assert SECRET not in loc.display
    assert loc.display.startswith("postgresql://me:***@db.example:5433/sessions")
    by_param = parse_location(f"postgres://me@db/x?password={SECRET}")
    assert SECRET not in by_param.display and "password=***" in by_param.display
    for bad in ("postgresql://db/x?schema=a;drop", "postgresql://db/x?pool_max_size=0"):
        with pytest.raises(StoreError):
            parse_location(bad)


def test_env_variable_selects_postgresql(
    postgres_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLAUDE_SESSIONS_STORE", postgres_database)
    with SessionStore(cleanup_after_days=None) as store:
        assert isinstance(store._driver, PostgresDriver)
        store.save_session("env-1", run("env-1"))
    with open_store(postgres_database) as again:
        assert again.load_session("env-1").metadata.message_count == 3


# -- connection errors and secrets --------------------------------------------------------


def test_wrong_password_is_one_clear_line(
    postgres_database: str, app_role: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    url = role_url(postgres_database, app_role, password="not-" + SECRET)
    with pytest.raises(StoreConnectionError) as caught:
        open_store(url)
    message = str(caught.value)
    assert "\n" not in message
    assert "password authentication failed" in message
    assert message.startswith("cannot connect to the PostgreSQL session store at postgresql://")
    assert SECRET not in message and SECRET not in repr(caught.value)
    assert SECRET not in caplog.text


def test_unreachable_server_and_unknown_database(postgres_database: str) -> None:
    nobody_listens = f"postgresql://me:{SECRET}@127.0.0.1:{free_port()}/x"
    with pytest.raises(StoreConnectionError, match="refused") as caught:
        open_store(nobody_listens)
    assert "\n" not in str(caught.value) and SECRET not in str(caught.value)
    missing = with_database(postgres_database, "no_such_database")
    with pytest.raises(StoreConnectionError, match="does not exist"):
        open_store(missing)


def test_password_never_in_location_repr_or_errors(
    postgres_database: str, app_role: str, postgres_url: str
) -> None:
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        name = postgres_database.rsplit("/", 1)[1]
        conn.execute(f'GRANT CREATE ON DATABASE "{name}" TO cs_app')
    url = role_url(postgres_database, app_role)
    with open_store(url) as store:
        shown = [store.location, repr(store), repr(store._driver), str(store._driver.location)]
        assert all(SECRET not in text for text in shown)
        assert store.location.startswith("postgresql://cs_app:***@127.0.0.1:")
        # An error from the server carries no secret either (a key too big for an index).
        huge_key = os.urandom(6000).hex()
        with pytest.raises(StoreError, match="index row") as caught:
            store.append_messages("x", [{"type": "x"}], project_key=huge_key)
        assert SECRET not in str(caught.value) and "\n" not in str(caught.value)
    async_store = AsyncSessionStore(url, cleanup_after_days=None)
    assert SECRET not in repr(async_store) and SECRET not in async_store.location
    asyncio.run(async_store.close())


# -- faults: the server goes away ---------------------------------------------------------


@pytest.fixture(scope="module")
def own_server() -> Iterator[TemporaryPostgres]:
    """A server of our own, so restarting it cannot disturb other tests."""
    try:
        server = TemporaryPostgres()
    except PostgresNotFoundError:
        if os.environ.get(POSTGRES_URL_ENV):  # only a remote server: we cannot restart it
            pytest.skip("restart tests need local PostgreSQL binaries")
        raise
    with server:
        yield server


def test_retry_policy() -> None:
    """Which failures run an operation again (the rules of ``_Retry``)."""
    lost = psycopg.OperationalError("server closed the connection unexpectedly")
    stale = _Retry(repeatable=False, pool_size=2)
    assert [stale.pause(lost, False) for _ in range(4)] == [0.0, 0.0, 0.0, None]
    once = _Retry(repeatable=True, pool_size=1)
    assert [once.pause(lost, True), once.pause(lost, True)] == [0.0, None]
    assert _Retry(repeatable=False, pool_size=1).pause(lost, True) is None  # may have run
    deadlock = psycopg.errors.DeadlockDetected("deadlock detected")
    rollback = _Retry(repeatable=False, pool_size=1)
    pauses = [rollback.pause(deadlock, True) for _ in range(6)]
    assert all(p is not None and p > 0 for p in pauses[:5]) and pauses[5] is None
    assert _Retry(True, 1).pause(psycopg_pool.PoolTimeout("timeout"), False) is None
    assert _Retry(True, 1).pause(psycopg.errors.UndefinedTable("x"), False) is None


def test_server_restart_between_operations_is_invisible(own_server: TemporaryPostgres) -> None:
    url = own_server.create_database() + "?pool_timeout=3"
    with open_store(url) as store:
        store.save_session("before", run("before"))
        own_server.restart(mode="immediate")  # every pooled connection is now dead
        assert store.load_session("before").metadata.message_count == 3
        store.save_session("after", run("after"))
        assert {m.session_id for m in store.list_sessions()} == {"before", "after"}


def test_server_down_raises_store_connection_error(
    own_server: TemporaryPostgres, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    url = own_server.create_database() + "?pool_timeout=1"
    with open_store(url) as store:
        store.save_session("one", run("one"))
        own_server.stop(mode="fast")
        try:
            with pytest.raises(StoreConnectionError) as caught:
                store.save_session("two", run("two"))
            assert "\n" not in str(caught.value)
            assert own_server.password not in str(caught.value)
            with pytest.raises(StoreConnectionError):
                store.list_sessions()
        finally:
            own_server.start()
        store.save_session("two", run("two"))  # back: the pool reconnects
        assert len(store.list_sessions()) == 2
    assert own_server.password not in caplog.text


def test_restarts_during_writes_leave_no_half_written_session(
    own_server: TemporaryPostgres,
) -> None:
    url = own_server.create_database() + "?pool_timeout=5"
    size = 60
    saved: list[str] = []
    failures: list[BaseException] = []
    stop = threading.Event()

    def writer() -> None:
        with open_store(url) as store:
            i = 0
            while not stop.is_set():
                sid = f"r-{i}"
                try:
                    store.save_session(sid, messages(sid, size), tags=["r"])
                    store.append_messages(
                        sid,
                        [{"type": "user", "uuid": f"{sid}-x", "message": {"content": "more"}}],
                    )
                    saved.append(sid)
                except StoreConnectionError as error:
                    failures.append(error)
                i += 1

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        for _ in range(3):
            deadline = len(saved) + 15
            while len(saved) < deadline and thread.is_alive():
                threading.Event().wait(0.01)
            own_server.restart(mode="immediate")
    finally:
        threading.Event().wait(0.3)
        stop.set()
        thread.join(60)
    assert not thread.is_alive()
    assert len(saved) >= 45
    with open_store(url) as store:
        found = store.list_sessions()
        assert {m.session_id for m in found} >= set(saved)
        for meta in found:  # each save and each append is all or nothing
            data = store.load_session(meta.session_id)
            assert meta.message_count == len(data.messages)
            assert meta.message_count in (size, size + 1)
            assert meta.tags == ("r",)
    # Failures, if any, were clear StoreConnectionErrors (never another exception).
    assert all(isinstance(error, StoreConnectionError) for error in failures)


# -- least privilege ----------------------------------------------------------------------


def _role_is_plain(postgres_url: str, role: str) -> None:
    with psycopg.connect(postgres_url) as conn:
        row = conn.execute(
            "SELECT rolsuper, rolcreatedb, rolcreaterole FROM pg_roles WHERE rolname = %s",
            [role],
        ).fetchone()
    assert row == (False, False, False)


def _exercise(url: str) -> None:
    with open_store(url, cleanup_after_days=30) as store:
        store.save_session("lp-1", run("lp-1", text="least privilege works"), tags=["a"])
        store.append_messages("lp-1", [{"type": "user", "uuid": "u1", "message": {"content": "x"}}])
        store.add_tags("lp-1", ["b"])
        assert [m.session_id for m in store.search(text="privilege", tags=["b"])] == ["lp-1"]
        assert store.cleanup_old_sessions(1) == 0
        assert store.delete_session("lp-1") is True


def test_non_superuser_with_a_pre_created_schema(
    postgres_database: str, app_role: str, postgres_url: str
) -> None:
    _role_is_plain(postgres_url, app_role)
    with psycopg.connect(postgres_database, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA claude_sessions AUTHORIZATION {app_role}")
    _exercise(role_url(postgres_database, app_role))


def test_non_superuser_with_create_on_the_database(
    postgres_database: str, app_role: str, postgres_url: str
) -> None:
    name = postgres_database.rsplit("/", 1)[1]
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'GRANT CREATE ON DATABASE "{name}" TO {app_role}')
    _exercise(role_url(postgres_database, app_role) + "?schema=team_x")
    with psycopg.connect(postgres_database) as conn:
        owner = conn.execute(
            "SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = 'team_x'"
        ).fetchone()
    assert owner == (app_role,)


def test_without_privileges_the_error_says_what_is_missing(
    postgres_database: str, app_role: str
) -> None:
    with pytest.raises(StoreError, match="permission denied") as caught:
        open_store(role_url(postgres_database, app_role))
    assert "CREATE" in str(caught.value) and "\n" not in str(caught.value)


# -- schema versions ----------------------------------------------------------------------


def test_schema_is_versioned_and_created_once_under_concurrency(postgres_database: str) -> None:
    url = postgres_database + "?schema=racing"
    errors: list[BaseException] = []

    def open_one() -> None:
        try:
            open_store(url).close()
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=open_one) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with psycopg.connect(postgres_database) as conn:
        version = conn.execute(
            "SELECT value FROM racing.store_meta WHERE key = 'schema_version'"
        ).fetchone()
        tables = conn.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'racing'"
        ).fetchone()
    assert version == (str(postgres_schema.SCHEMA_VERSION),)
    # ... secret_scans, sign_ins, audit_log, sync_marks, 7 usage sums, aside_text, sums by hour
    assert tables == (25,)


def test_newer_schema_is_refused(postgres_database: str) -> None:
    open_store(postgres_database).close()
    with psycopg.connect(postgres_database, autocommit=True) as conn:
        conn.execute(
            "UPDATE claude_sessions.store_meta SET value = %s WHERE key = 'schema_version'",
            [str(postgres_schema.SCHEMA_VERSION + 1)],
        )
    with pytest.raises(StoreVersionError, match="newer"):
        open_store(postgres_database)


def test_version_2_store_finds_root_entries_and_links_later_forks(
    postgres_database: str, tmp_path
) -> None:
    from claude_sessions.importer import import_transcripts

    from .transcript_samples import conversation, fork_of, project_dir, write

    origin_id, fork_id = (
        "ffffffff-0000-4000-8000-000000000001",
        "00000000-0000-4000-8000-00000000f0f0",
    )
    origin = conversation(origin_id, ["Design a REST API", "Add auth"])
    root = tmp_path / "claude"
    write(project_dir(root) / f"{origin_id}.jsonl", origin)
    with open_store(postgres_database) as store:
        import_transcripts(store, [root])
    with psycopg.connect(postgres_database, autocommit=True) as conn:  # back to version 2
        conn.execute("SET search_path TO claude_sessions")
        undo_request_figures(conn.execute, postgres=True)
        conn.execute("DROP TABLE summaries")
        conn.execute("DROP INDEX sessions_by_root")
        conn.execute("ALTER TABLE sessions DROP COLUMN root_key")
        conn.execute(
            "CREATE INDEX entries_by_main_key ON entries (entry_key) "
            "WHERE entry_key IS NOT NULL AND subpath = ''"
        )
        conn.execute("UPDATE store_meta SET value = '2' WHERE key = 'schema_version'")
    write(
        project_dir(root) / f"{fork_id}.jsonl",
        fork_of(origin, origin_id, fork_id, "Use GraphQL instead"),
    )
    with open_store(postgres_database) as store:
        import_transcripts(store, [root])
        assert store.get_metadata(fork_id).forked_from == origin_id
    with psycopg.connect(postgres_database) as conn:
        roots = dict(conn.execute("SELECT session_id, root_key FROM claude_sessions.sessions"))
        indexes = {
            row[0]
            for row in conn.execute(
                "SELECT indexname FROM pg_indexes WHERE schemaname = 'claude_sessions'"
            )
        }
    first = next(entry["uuid"] for entry in origin if "uuid" in entry and "parentUuid" in entry)
    assert roots == {origin_id: first, fork_id: first}
    assert "entries_by_main_key" not in indexes and "sessions_by_root" in indexes


def test_indexes_for_search(postgres_database: str) -> None:
    open_store(postgres_database).close()
    with psycopg.connect(postgres_database) as conn:
        rows = conn.execute(
            "SELECT indexdef FROM pg_indexes WHERE schemaname = 'claude_sessions'"
        ).fetchall()
    definitions = " ".join(row[0] for row in rows)
    assert "USING gin (search)" in definitions
    assert "USING gin (tags)" in definitions


# -- entries as JSONB ---------------------------------------------------------------------


def test_entries_are_jsonb_and_odd_values_round_trip(postgres_database: str) -> None:
    odd = [
        {"type": "nul", "text": "a\x00b"},
        {"type": "big", "value": 1.7976931348623157e308, "neg": -0.0},
        {"type": "huge", "value": 2**70, "tiny": 1e-300},
        {"type": "surrogate", "text": "\ud800"},
    ]
    with open_store(postgres_database) as store:
        store.save_session("j-1", [*run("j-1"), *odd])
        loaded = [m.to_dict() for m in store.load_session("j-1").messages]
        with pytest.raises(InvalidMessageError, match="inf"):
            store.save_session("j-1", [{"type": "nan", "value": float("inf")}])
    assert loaded == [*run("j-1"), *odd]
    assert str(loaded[4]["neg"]) == "-0.0" and loaded[5]["value"] == 2**70
    with psycopg.connect(postgres_database) as conn:
        kinds = conn.execute(
            "SELECT jsonb_typeof(data), raw IS NOT NULL FROM claude_sessions.entries ORDER BY seq"
        ).fetchall()
        model = conn.execute(
            "SELECT data #>> '{message,model}' FROM claude_sessions.entries WHERE seq = 1"
        ).fetchone()
    assert kinds[:3] == [("object", False)] * 3
    assert kinds[3:] == [(None, True), (None, True), ("object", False), (None, True)]
    assert model == ("claude-sonnet-4-5-20250929",)


# -- full-text queries ------------------------------------------------------------------------


def test_full_text_operators(postgres_database: str) -> None:
    with open_store(postgres_database) as store:
        store.save_session("a", run("a", text="alpha beta gamma"))
        store.save_session("b", run("b", text="alpha delta"))
        store.save_session("c", run("c", text="epsilon documentation"))

        def ids(text: str) -> set[str]:
            return {m.session_id for m in store.search(text=text)}

        assert ids("alpha NOT beta") == {"b"}
        assert ids("(beta OR delta) AND alpha") == {"a", "b"}
        assert ids('"beta gamma"') == {"a"}
        assert ids('"gamma beta"') == set()
        assert ids("doc* OR gam*") == {"a", "c"}
        ranked = store.search(text="alpha")
        assert all(m.rank is not None and m.rank < 0 for m in ranked)


# -- the async face -------------------------------------------------------------------------


def test_async_store_uses_psycopg_async_not_threads(postgres_database: str) -> None:
    async def main() -> None:
        async with AsyncSessionStore(postgres_database, cleanup_after_days=None) as store:
            await asyncio.gather(*(store.save_session(f"a-{i}", run(f"a-{i}")) for i in range(10)))
            assert len(await store.search(text="Alice")) == 10
            assert isinstance(store._driver, AsyncPostgresDriver)
            assert store._sync is None  # no blocking store, no second pool
            await store.append_messages("a-1", transcript("a-1"))
            meta = await store.get_metadata("a-1")
            assert meta is not None and meta.message_count == 8

    asyncio.run(main())


def test_async_store_from_another_loop_opens_a_pool_there(postgres_database: str) -> None:
    store = AsyncSessionStore(postgres_database, cleanup_after_days=None)
    asyncio.run(store.save_session("loop-1", run("loop-1")))
    # A second asyncio.run is another loop: the store opens a pool on it.
    assert asyncio.run(store.get_metadata("loop-1")) is not None
    assert store._sync is None
    asyncio.run(store.close())
