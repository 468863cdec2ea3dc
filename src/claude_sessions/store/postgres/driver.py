"""Running transactions on PostgreSQL (psycopg 3 and its connection pools).

``SessionStore("postgresql://user:secret@host/db")`` opens it. Two thin I/O
layers run the same transactions: :class:`PostgresDriver` on a blocking
:class:`psycopg_pool.ConnectionPool`, :class:`AsyncPostgresDriver` on an
:class:`psycopg_pool.AsyncConnectionPool` (asyncio, no threads).

Options in the URL's query string, besides libpq's own: ``schema`` (default
``claude_sessions``), ``pool_max_size`` (default 10) and ``pool_timeout``
(seconds to wait for a connection, default 15).

Faults: a pooled connection the server dropped (a restart between operations)
fails at ``BEGIN``, before anything ran, and the transaction simply runs again
on a fresh connection. One interrupted later by a lost connection is retried
once when repeating it cannot change the outcome (``Txn.repeatable``);
otherwise, or if the retry fails too, it raises
:class:`~claude_sessions.StoreConnectionError`. When the pool has no
connection within ``pool_timeout`` (it backs off while the server is down),
one direct connection is tried before giving up, so an outage that is over
does not linger. Passwords never appear in ``location``, ``repr`` or errors.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Any, TypeVar

from claude_sessions.model.exceptions import (
    QueryTooExpensiveError,
    StoreConnectionError,
    StoreError,
    StoreReadOnlyError,
    StoreVersionError,
)
from claude_sessions.store.location import mask_password, parse_postgres
from claude_sessions.store.plan import Op, Stmt, Txn, fetched
from claude_sessions.store.postgres import schema
from claude_sessions.store.postgres.changes import ChangeListener

try:
    import psycopg
    import psycopg_pool
    from psycopg.rows import dict_row
except ImportError as error:  # pragma: no cover - depends on the installed extras
    raise StoreError(
        "the PostgreSQL store needs psycopg: pip install 'claude-sessions[postgres]'"
    ) from error

T = TypeVar("T")

DEFAULT_CONNECT_TIMEOUT = 10
APPLICATION_NAME = "claude-sessions"
_ROLLBACK_RETRIES = 5


def _one_line(error: BaseException) -> str:
    text = " ".join(line.strip() for line in str(error).splitlines() if line.strip())
    return text or type(error).__name__


def _is_connection_error(error: BaseException) -> bool:
    if isinstance(error, psycopg_pool.PoolTimeout):
        return True
    if not isinstance(error, psycopg.OperationalError):
        return False
    state = getattr(error, "sqlstate", None)
    return state is None or state.startswith(("08", "57P"))


def _params(stmt: Stmt) -> Any:
    return stmt.params if stmt.params else None


def _begin(txn: Txn[Any]) -> list[Stmt]:
    """What a transaction runs first: its time limit."""
    if txn.time_limit is None:
        return []
    return [Stmt(f"SET LOCAL statement_timeout = {int(txn.time_limit * 1000)}")]


def _drive(conn: psycopg.Connection[Any], txn: Txn[T]) -> T:
    for stmt in _begin(txn):
        conn.execute(stmt.sql)
    return _drive_op(conn, txn.make())


def _drive_op(conn: psycopg.Connection[Any], op: Op[T]) -> T:
    """Run ``op``'s statements in psycopg's pipeline mode: a statement whose result the op
    does not read is sent without waiting for it, so a save's dozen writes cost about one
    round trip, not one each. Reading a result (rows, a row count) waits for everything
    sent before it; an error of a statement not waited for is raised there, or at the
    end, and the transaction rolls back as it would have."""
    with conn.pipeline() as pipeline:
        try:
            stmt = next(op)
            while True:
                cursor = conn.cursor()
                if stmt.many:
                    cursor.executemany(stmt.sql, stmt.params)
                    pipeline.sync()
                    result: Any = cursor.rowcount
                else:
                    cursor.execute(stmt.sql, _params(stmt))
                    if stmt.fetch == "rowcount":
                        pipeline.sync()
                    result = fetched(cursor, stmt.fetch)
                stmt = op.send(result)
        except StopIteration as done:
            value: T = done.value
            return value


async def _adrive(conn: psycopg.AsyncConnection[Any], txn: Txn[T]) -> T:
    for first in _begin(txn):
        await conn.execute(first.sql)
    op = txn.make()
    async with conn.pipeline() as pipeline:  # as _drive_op does
        try:
            stmt = next(op)
            while True:
                cursor = conn.cursor()
                if stmt.many:
                    await cursor.executemany(stmt.sql, stmt.params)
                    await pipeline.sync()
                    result: Any = cursor.rowcount
                else:
                    await cursor.execute(stmt.sql, _params(stmt))
                    if stmt.fetch == "one":
                        result = await cursor.fetchone()
                    elif stmt.fetch == "all":
                        result = await cursor.fetchall()
                    elif stmt.fetch == "rowcount":
                        await pipeline.sync()
                        result = cursor.rowcount
                    else:
                        result = None
                stmt = op.send(result)
        except StopIteration as done:
            value: T = done.value
            return value


class _Retry:
    """When a transaction that failed may run again, and after how long a pause.

    - a deadlock or serialization failure rolled everything back: up to 5 times;
    - the connection broke before the transaction began (a pooled connection
      the server dropped, e.g. across a restart): nothing ran, so always, once
      per pooled connection;
    - it broke later: once, and only if repeating cannot change the outcome.
    """

    def __init__(self, repeatable: bool, pool_size: int) -> None:
        self.rollbacks = _ROLLBACK_RETRIES
        self.stale = pool_size + 1
        self.broken = 1 if repeatable else 0

    def pause(self, error: BaseException, began: bool) -> float | None:
        if isinstance(error, psycopg.errors.SerializationFailure | psycopg.errors.DeadlockDetected):
            if self.rollbacks > 0:
                self.rollbacks -= 1
                return 0.01 * (_ROLLBACK_RETRIES - self.rollbacks)
            return None
        if isinstance(error, psycopg_pool.PoolTimeout) or not _is_connection_error(error):
            return None  # a pool timeout has already waited pool_timeout
        if not began and self.stale > 0:
            self.stale -= 1
            return 0.0
        if self.broken > 0:
            self.broken -= 1
            return 0.0
        return None


# The tables holding a session's text (entries, the row with its full-text body,
# summaries) and what a scan kept of its secrets (their first characters).
SCRUBBED_TABLES = ("entries", "sessions", "summaries", "secret_findings")


class _Base:
    """What both drivers share: the location, connection settings and error translation."""

    def __init__(self, url: str, *, read_only: bool, busy_timeout: float | None = None) -> None:
        self._loc = parse_postgres(url)
        self._read_only = read_only
        # JIT compiling costs tens of ms and pays off only for long analytic queries.
        options = f"-c search_path={self._loc.schema} -c jit=off"
        if read_only:
            options += " -c default_transaction_read_only=on"
        if busy_timeout is not None:  # waiting for another writer's lock, as SQLite's timeout
            options += f" -c lock_timeout={int(busy_timeout * 1000)}"
        self._kwargs: dict[str, Any] = {
            "autocommit": True,  # transactions are explicit: conn.transaction()
            "row_factory": dict_row,
            "options": f"{self._loc.options} {options}" if self._loc.options else options,
            "application_name": APPLICATION_NAME,
            "connect_timeout": DEFAULT_CONNECT_TIMEOUT,
        }
        if self._loc.password is not None:  # apart from the conninfo: libpq never quotes it
            self._kwargs["password"] = self._loc.password
        self._closed = False

    @property
    def location(self) -> str:
        return self._loc.display

    @property
    def read_only(self) -> bool:
        return self._read_only

    @property
    def schema(self) -> str:
        return self._loc.schema

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.location}>"

    def _check(self, txn: Txn[Any]) -> None:
        if self._closed:
            raise StoreError(f"the session store at {self.location} is closed")
        if txn.write and self._read_only:
            raise StoreReadOnlyError(f"the session store at {self.location} was opened read-only")

    def _upgrade(self) -> Txn[int]:
        return Txn(lambda: schema.upgrade(self._loc.schema), write=True)

    def _connect_error(self, error: BaseException) -> StoreConnectionError:
        return StoreConnectionError(
            f"cannot connect to the PostgreSQL session store at {self.location}: "
            f"{mask_password(_one_line(error))}"
        )

    def _translate(self, error: BaseException, txn: Txn[Any] | None = None) -> StoreError:
        if isinstance(error, StoreError):
            return error
        detail = mask_password(_one_line(error))
        if _is_connection_error(error):
            if isinstance(error, psycopg_pool.PoolTimeout):
                return StoreConnectionError(
                    f"no connection to the PostgreSQL session store at {self.location} "
                    f"within {self._loc.pool_timeout:g}s (server down or pool exhausted)"
                )
            return StoreConnectionError(
                f"lost the connection to the PostgreSQL session store at {self.location}: {detail}"
            )
        state = getattr(error, "sqlstate", None)
        if state == "57014" and txn is not None and txn.time_limit is not None:
            return QueryTooExpensiveError(
                f"the search took longer than {txn.time_limit:g}s and was stopped: "
                "use fewer, longer or rarer words"
            )
        if state == "25006":
            return StoreReadOnlyError(f"the session store at {self.location} is read-only")
        if state == "42501":
            return StoreError(
                f"permission denied in the PostgreSQL session store at {self.location}: "
                f"{detail} (the role needs CREATE on schema {self._loc.schema!r}, or on the "
                "database to create it; see README, PostgreSQL)"
            )
        return StoreError(f"session store error: {detail}")


class PostgresDriver(_Base):
    """The blocking PostgreSQL driver (see the module docstring)."""

    def __init__(
        self, url: str, *, read_only: bool = False, busy_timeout: float | None = None
    ) -> None:
        super().__init__(url, read_only=read_only, busy_timeout=busy_timeout)
        try:
            with self._direct() as conn:
                with conn.transaction():
                    version = _drive_op(conn, schema.schema_version())
                if version != schema.SCHEMA_VERSION:
                    if read_only:
                        raise StoreReadOnlyError(
                            f"the session store at {self.location} needs an upgrade "
                            f"(schema {version}), which a read-only open cannot do"
                        )
                    with conn.transaction():
                        _drive(conn, self._upgrade())
        except psycopg.Error as error:
            if _is_connection_error(error):
                raise self._connect_error(error) from None
            raise self._translate(error) from None
        except StoreVersionError as error:
            raise StoreVersionError(f"{error} (store at {self.location})") from None
        self._pool: psycopg_pool.ConnectionPool[psycopg.Connection[Any]] = (
            psycopg_pool.ConnectionPool(
                self._loc.conninfo,
                kwargs=self._kwargs,
                min_size=1,
                max_size=self._loc.pool_max_size,
                open=True,
                timeout=self._loc.pool_timeout,
                name="claude-sessions",
            )
        )
        self._listeners: list[ChangeListener] = []

    def watch_changes(self, on_change: Callable[[], None]) -> Callable[[], None]:
        """Call ``on_change`` whenever a counted write commits, from any process
        (LISTEN/NOTIFY, see :mod:`.changes`) until stopped or the store closes;
        returns what stops it."""
        listener = ChangeListener(self._loc.conninfo, self._kwargs, self.schema, on_change)
        self._listeners.append(listener)
        # Listening before the first stream opens: a write in between is not missed.
        listener.wait_listening(self._loc.pool_timeout)
        return listener.stop

    def _direct(self) -> psycopg.Connection[Any]:
        """A connection outside the pool (closed by its ``with`` block)."""
        return psycopg.connect(self._loc.conninfo, **self._kwargs)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for listener in self._listeners:
            listener.stop()
        self._pool.close(timeout=5)

    def bulk_writes(self) -> AbstractContextManager[None]:
        return nullcontext()  # the server checkpoints on its own

    def scrub(self) -> bool:
        """Rewrite the tables a redaction touches, so no dead row keeps the old text."""
        if self._read_only:
            raise StoreReadOnlyError(f"the session store at {self.location} was opened read-only")
        try:
            with self._pool.connection() as conn:  # autocommit: VACUUM runs outside any
                for table in SCRUBBED_TABLES:
                    conn.execute(f"VACUUM (FULL) {table}")
        except psycopg.Error as error:
            raise self._translate(error) from None
        return True

    def transact(self, txn: Txn[T]) -> T:
        self._check(txn)
        retry = _Retry(txn.repeatable, self._loc.pool_max_size)
        while True:
            began = False
            try:
                with self._pool.connection() as conn, conn.transaction():
                    began = True
                    return _drive(conn, txn)
            except psycopg_pool.PoolTimeout:
                # No pooled connection in time: the pool may still be backing off
                # after an outage that is over. One direct connection settles it.
                try:
                    direct = self._direct()
                except psycopg.Error as error:
                    raise self._connect_error(error) from None
                try:
                    with direct, direct.transaction():
                        return _drive(direct, txn)
                except psycopg.Error as error:
                    raise self._translate(error, txn) from None
            except psycopg.Error as error:
                pause = retry.pause(error, began)
                if pause is None:
                    raise self._translate(error, txn) from None
                time.sleep(pause)


class AsyncPostgresDriver(_Base):
    """The asyncio twin of :class:`PostgresDriver`: the same transactions, psycopg's
    async API. Its pool opens on first use and belongs to that event loop; used
    from another loop (a second ``asyncio.run``), it opens a new pool there.
    Close the store (``async with``) before its event loop ends."""

    def __init__(
        self, url: str, *, read_only: bool = False, busy_timeout: float | None = None
    ) -> None:
        super().__init__(url, read_only=read_only, busy_timeout=busy_timeout)
        self._pool: psycopg_pool.AsyncConnectionPool[psycopg.AsyncConnection[Any]] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._opening: asyncio.Lock | None = None

    async def _connection_pool(
        self,
    ) -> psycopg_pool.AsyncConnectionPool[psycopg.AsyncConnection[Any]]:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            raise StoreError(
                "the PostgreSQL AsyncSessionStore runs on asyncio (psycopg has no trio "
                "support): use SessionStore, whose sdk_store() works under trio"
            ) from None
        if loop is not self._loop:
            self._loop, self._pool, self._opening = loop, None, asyncio.Lock()
        assert self._opening is not None
        async with self._opening:
            if self._pool is None:
                await self._open()
        assert self._pool is not None
        return self._pool

    async def _open(self) -> None:
        try:
            conn = await psycopg.AsyncConnection.connect(self._loc.conninfo, **self._kwargs)
        except psycopg.Error as error:
            raise self._connect_error(error) from None
        try:
            async with conn:
                async with conn.transaction():
                    version = await _adrive(conn, Txn(schema.schema_version))
                if version != schema.SCHEMA_VERSION:
                    if self._read_only:
                        raise StoreReadOnlyError(
                            f"the session store at {self.location} needs an upgrade "
                            f"(schema {version}), which a read-only open cannot do"
                        )
                    async with conn.transaction():
                        await _adrive(conn, self._upgrade())
        except psycopg.Error as error:
            raise self._translate(error) from None
        # min_size=0: the pool then connects only while a caller waits for it. A pool
        # worker busy with a connection when its event loop ends swallows the
        # cancellation and asyncio.run() waits for it forever; with nothing to
        # fill in the background, no worker is busy once our call has returned.
        pool = psycopg_pool.AsyncConnectionPool(
            self._loc.conninfo,
            kwargs=self._kwargs,
            min_size=0,
            max_size=self._loc.pool_max_size,
            open=False,
            timeout=self._loc.pool_timeout,
            name="claude-sessions-async",
        )
        await pool.open()
        self._pool = pool

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        pool, self._pool = self._pool, None
        if pool is not None and self._loop is asyncio.get_running_loop():
            await pool.close(timeout=5)

    async def transact(self, txn: Txn[T]) -> T:
        self._check(txn)
        pool = await self._connection_pool()
        retry = _Retry(txn.repeatable, self._loc.pool_max_size)
        while True:
            began = False
            try:
                async with pool.connection() as conn, conn.transaction():
                    began = True
                    return await _adrive(conn, txn)
            except psycopg_pool.PoolTimeout:
                try:  # see PostgresDriver.transact
                    direct = await psycopg.AsyncConnection.connect(
                        self._loc.conninfo, **self._kwargs
                    )
                except psycopg.Error as error:
                    raise self._connect_error(error) from None
                try:
                    async with direct, direct.transaction():
                        return await _adrive(direct, txn)
                except psycopg.Error as error:
                    raise self._translate(error, txn) from None
            except psycopg.Error as error:
                pause = retry.pause(error, began)
                if pause is None:
                    raise self._translate(error, txn) from None
                await asyncio.sleep(pause)
