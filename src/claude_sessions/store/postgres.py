"""The PostgreSQL backend: one store shared by many machines (psycopg 3 + psycopg_pool).

``SessionStore("postgresql://user:secret@host/db")`` opens it. Two thin I/O
layers drive the SQL of :mod:`.postgres_sql`: :class:`PostgresBackend` with a
blocking :class:`psycopg_pool.ConnectionPool`, :class:`AsyncPostgresBackend`
with an :class:`psycopg_pool.AsyncConnectionPool` (asyncio, no threads).

Options in the URL's query string, besides libpq's own:

- ``schema`` (default ``claude_sessions``): where the tables live; created on
  first use when the role may, else an administrator creates it beforehand;
- ``pool_max_size`` (default 10) and ``pool_timeout`` (seconds to wait for a
  connection, default 15).

Faults: a pooled connection the server dropped (a restart between operations)
fails at ``BEGIN``, before anything ran, and the operation simply runs again on
a fresh connection. An operation interrupted later by a lost connection is
retried once when repeating it cannot change the outcome (reads, ``save``, tag
and description updates, deletes, appends whose entries all carry a uuid);
otherwise, or if the retry fails too, it raises
:class:`~claude_sessions.StoreConnectionError`. When the pool has no
connection within ``pool_timeout`` (it backs off while the server is down),
one direct connection is tried before giving up, so an outage that is over
does not linger. Every operation is one
transaction, so an interrupted write leaves nothing half-written. Passwords
never appear in ``location``, ``repr`` or error messages.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

from ..exceptions import InvalidQueryError, StoreConnectionError, StoreError
from . import postgres_sql as q
from .backend import Entry, ProjectSession, Query
from .models import SessionMetadata

try:
    import psycopg
    import psycopg_pool
    from psycopg.rows import dict_row
except ImportError as error:  # pragma: no cover - depends on the installed extras
    raise StoreError(
        "the PostgreSQL backend needs psycopg: pip install 'claude-sessions[postgres]'"
    ) from error

if TYPE_CHECKING:
    from .postgres_async import AsyncPostgresStore
    from .store import SessionStore

T = TypeVar("T")

DEFAULT_SCHEMA = "claude_sessions"
DEFAULT_POOL_MAX_SIZE = 10
DEFAULT_POOL_TIMEOUT = 15.0
DEFAULT_CONNECT_TIMEOUT = 10
APPLICATION_NAME = "claude-sessions"
_ROLLBACK_RETRIES = 5


@dataclass(frozen=True)
class Location:
    """A parsed ``postgresql://`` URL: what libpq gets, our options, what is shown."""

    conninfo: str
    display: str
    password: str | None
    schema: str
    pool_max_size: int
    pool_timeout: float
    options: str | None


def parse_location(url: str) -> Location:
    """Split our options from a PostgreSQL URL and mask its password for display."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("postgresql", "postgres"):
        raise StoreError(f"not a PostgreSQL URL: {mask(url, None)}")
    params = parse_qsl(parts.query, keep_blank_values=True)
    mine = {k: v for k, v in params if k in ("schema", "pool_max_size", "pool_timeout")}
    libpq = [(k, v) for k, v in params if k not in mine and k != "options"]
    options = next((v for k, v in params if k == "options"), None)
    password = unquote(parts.password) if parts.password is not None else None
    password = next((v for k, v in params if k == "password"), password)
    schema = mine.get("schema", DEFAULT_SCHEMA)
    if not q.valid_schema_name(schema):
        raise StoreError(f"invalid schema name {schema!r}: use letters, digits and _")
    try:
        pool_max_size = int(mine.get("pool_max_size", DEFAULT_POOL_MAX_SIZE))
        pool_timeout = float(mine.get("pool_timeout", DEFAULT_POOL_TIMEOUT))
    except ValueError as error:
        raise StoreError(f"invalid pool option in {mask(url, password)}: {error}") from error
    if pool_max_size < 1 or pool_timeout <= 0:
        raise StoreError("pool_max_size must be >= 1 and pool_timeout > 0")
    conninfo = urlunsplit(parts._replace(query=urlencode(libpq, quote_via=quote)))
    shown = [(k, "***" if k == "password" else v) for k, v in params]
    display = urlunsplit(parts._replace(query=urlencode(shown, quote_via=quote, safe="*")))
    return Location(
        conninfo=conninfo,
        display=mask(display, password),
        password=password,
        schema=schema,
        pool_max_size=pool_max_size,
        pool_timeout=pool_timeout,
        options=options,
    )


def mask(text: str, password: str | None) -> str:
    """``text`` with the URL password (and any other occurrence of it) replaced by ***."""
    from .backend import mask_password

    text = mask_password(text)
    if password:
        for form in {password, quote(password, safe=""), quote(password)}:
            text = text.replace(form, "***")
    return text


def _connection_kwargs(location: Location) -> dict[str, Any]:
    # JIT compiling costs tens of ms and pays off only for long analytic queries.
    search_path = f"-c search_path={location.schema} -c jit=off"
    return {
        "autocommit": True,  # transactions are explicit: conn.transaction()
        "row_factory": dict_row,
        "options": f"{location.options} {search_path}" if location.options else search_path,
        "application_name": APPLICATION_NAME,
        "connect_timeout": DEFAULT_CONNECT_TIMEOUT,
    }


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


class _Core:
    """What both I/O layers share: the location, error translation, retry policy."""

    def __init__(self, url: str) -> None:
        self._url = url  # with its password: never shown
        self._loc = parse_location(url)
        self._kwargs = _connection_kwargs(self._loc)
        self._closed = False

    @property
    def location(self) -> str:
        return self._loc.display

    @property
    def schema(self) -> str:
        return self._loc.schema

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.location}>"

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError(f"the session store at {self.location} is closed")

    def _connect_error(self, error: BaseException) -> StoreConnectionError:
        detail = mask(_one_line(error), self._loc.password)
        return StoreConnectionError(
            f"cannot connect to the PostgreSQL session store at {self.location}: {detail}"
        )

    def _translate(self, error: BaseException, *, text_query: str | None = None) -> StoreError:
        if isinstance(error, q.SchemaTooNewError):
            return StoreError(str(error))
        if _is_connection_error(error):
            if isinstance(error, psycopg_pool.PoolTimeout):
                return StoreConnectionError(
                    f"no connection to the PostgreSQL session store at {self.location} "
                    f"within {self._loc.pool_timeout:g}s (server down or pool exhausted)"
                )
            return StoreConnectionError(
                f"lost the connection to the PostgreSQL session store at {self.location}: "
                f"{mask(_one_line(error), self._loc.password)}"
            )
        detail = mask(_one_line(error), self._loc.password)
        state = getattr(error, "sqlstate", None)
        if text_query is not None and state in ("42601", "22023"):
            return InvalidQueryError(f"invalid full-text query {text_query!r}: {detail}")
        if state == "42501":
            return StoreError(
                f"permission denied in the PostgreSQL session store at {self.location}: "
                f"{detail} (the role needs CREATE on schema {self._loc.schema!r}, or on the "
                "database to create it; see README, PostgreSQL)"
            )
        return StoreError(f"session store error: {detail}")


class _Retry:
    """When an operation that failed may run again, and after how long a pause.

    - a deadlock or serialization failure rolled everything back: up to 5 times;
    - the connection broke before the transaction began (a pooled connection
      the server dropped, e.g. across a restart): nothing ran, so always, once
      per pooled connection;
    - it broke later: once, and only if repeating cannot change the outcome.
    """

    def __init__(self, idempotent: bool, pool_size: int) -> None:
        self.rollbacks = _ROLLBACK_RETRIES
        self.stale = pool_size + 1
        self.broken = 1 if idempotent else 0

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


def _result(cursor: Any, stmt: q.Stmt) -> Any:
    if stmt.fetch == "one":
        return cursor.fetchone()
    if stmt.fetch == "all":
        return cursor.fetchall()
    if stmt.fetch == "rowcount":
        return cursor.rowcount
    return None


def _params(stmt: q.Stmt) -> Sequence[Any] | None:
    return stmt.params if stmt.params else None


def drive(conn: psycopg.Connection[Any], op: q.Op[T]) -> T:
    """Run an operation's statements on a blocking connection."""
    try:
        stmt = next(op)
        while True:
            cursor = conn.execute(stmt.sql, _params(stmt))
            stmt = op.send(_result(cursor, stmt))
    except StopIteration as done:
        value: T = done.value
        return value


async def adrive(conn: psycopg.AsyncConnection[Any], op: q.Op[T]) -> T:
    """Run an operation's statements on an asyncio connection."""
    try:
        stmt = next(op)
        while True:
            cursor = await conn.execute(stmt.sql, _params(stmt))
            if stmt.fetch == "one":
                result: Any = await cursor.fetchone()
            elif stmt.fetch == "all":
                result = await cursor.fetchall()
            else:
                result = _result(cursor, stmt)
            stmt = op.send(result)
    except StopIteration as done:
        value: T = done.value
        return value


def _all_have_uuids(entries: Sequence[Entry]) -> bool:
    return all(isinstance(e.get("uuid"), str) and e.get("uuid") for e in entries)


class PostgresBackend(_Core):
    """The blocking PostgreSQL backend (see the module docstring)."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        try:
            with self._direct() as conn:
                self._migrate(conn)
        except psycopg.Error as error:
            if _is_connection_error(error):
                raise self._connect_error(error) from None
            raise self._translate(error) from None
        except q.SchemaTooNewError as error:
            raise StoreError(str(error)) from None
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

    def async_twin(self, store: SessionStore) -> AsyncPostgresStore:
        """The same store for ``AsyncSessionStore``, on psycopg's asyncio API."""
        from .postgres_async import AsyncPostgresStore

        return AsyncPostgresStore(self._url, store)

    def _direct(self) -> psycopg.Connection[Any]:
        """A connection outside the pool (closed by its ``with`` block)."""
        return psycopg.connect(self._loc.conninfo, **self._kwargs)

    def _migrate(self, conn: psycopg.Connection[Any]) -> None:
        with conn.transaction():
            version = drive(conn, q.schema_version_op())
        if version != q.SCHEMA_VERSION:
            with conn.transaction():
                drive(conn, q.migrate_op(self._loc.schema))

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._pool.close(timeout=5)

    def _run(
        self,
        make: Callable[[], q.Op[T]],
        *,
        idempotent: bool = True,
        text_query: str | None = None,
    ) -> T:
        self._check_open()
        retry = _Retry(idempotent, self._loc.pool_max_size)
        while True:
            began = False
            try:
                with self._pool.connection() as conn, conn.transaction():
                    began = True
                    return drive(conn, make())
            except psycopg_pool.PoolTimeout:
                # No pooled connection in time: the pool may still be backing off
                # after an outage that is over. One direct connection settles it.
                try:
                    direct = self._direct()
                except psycopg.Error as error:
                    raise self._connect_error(error) from None
                try:
                    with direct, direct.transaction():
                        return drive(direct, make())
                except (psycopg.Error, q.SchemaTooNewError) as error:
                    raise self._translate(error, text_query=text_query) from None
            except (psycopg.Error, q.SchemaTooNewError) as error:
                pause = retry.pause(error, began)
                if pause is None:
                    raise self._translate(error, text_query=text_query) from None
                time.sleep(pause)

    # -- the Backend protocol ----------------------------------------------------------

    def save(
        self,
        session_id: str,
        entries: Sequence[Entry],
        *,
        tags: Sequence[str],
        description: str | None,
        project: str | None,
        project_key: str,
        forked_from: str | None,
        now: float,
    ) -> SessionMetadata:
        return self._run(
            lambda: q.save_op(
                session_id,
                entries,
                tags=tags,
                description=description,
                project=project,
                project_key=project_key,
                forked_from=forked_from,
                now=now,
                schema=self.schema,
            )
        )

    def append(
        self,
        session_id: str,
        entries: Sequence[Entry],
        *,
        project_key: str | None,
        subpath: str,
        now: float,
    ) -> SessionMetadata:
        return self._run(
            lambda: q.append_op(
                session_id,
                entries,
                project_key=project_key,
                subpath=subpath,
                now=now,
                schema=self.schema,
            ),
            idempotent=_all_have_uuids(entries),
        )

    def load(
        self, session_id: str, *, project_key: str | None = None, subpath: str = ""
    ) -> tuple[SessionMetadata, list[dict[str, Any]]] | None:
        return self._run(lambda: q.load_op(session_id, project_key=project_key, subpath=subpath))

    def get_metadata(self, session_id: str) -> SessionMetadata | None:
        return self._run(lambda: q.get_metadata_op(session_id))

    def query(self, query: Query) -> list[SessionMetadata]:
        return self._run(lambda: q.query_op(query), text_query=query.text)

    def find_ids(self, prefix: str, limit: int) -> list[str]:
        return self._run(lambda: q.find_ids_op(prefix, limit))

    def delete(
        self, session_id: str, *, project_key: str | None = None, subpath: str | None = None
    ) -> bool:
        return self._run(lambda: q.delete_op(session_id, project_key=project_key, subpath=subpath))

    def update(
        self,
        session_id: str,
        *,
        add_tags: Sequence[str] = (),
        remove_tags: Sequence[str] = (),
        description: str | None = None,
        set_description: bool = False,
    ) -> SessionMetadata | None:
        return self._run(
            lambda: q.update_op(
                session_id,
                add_tags=add_tags,
                remove_tags=remove_tags,
                description=description,
                set_description=set_description,
                schema=self.schema,
            )
        )

    def expired(self, cutoff: float, protected_tags: Sequence[str]) -> list[SessionMetadata]:
        return self._run(lambda: q.expired_op(cutoff, protected_tags))

    def delete_expired(self, cutoff: float, protected_tags: Sequence[str]) -> int:
        total = 0
        while True:
            deleted = self._run(lambda: q.delete_expired_batch_op(cutoff, protected_tags))
            total += deleted
            if deleted < q.CLEANUP_BATCH:
                return total

    def claim_cleanup(self, now: float, interval: float) -> bool:
        return self._run(lambda: q.claim_cleanup_op(now, interval, self.schema))

    def project_sessions(self, project_key: str) -> list[ProjectSession]:
        return self._run(lambda: q.project_sessions_op(project_key))

    def subkeys(self, project_key: str, session_id: str) -> list[str]:
        return self._run(lambda: q.subkeys_op(project_key, session_id))

    # -- whole sessions, for copying a store (see .migrate) ---------------------------

    def export_refs(self, after: int, limit: int) -> list[int]:
        return self._run(lambda: q.export_refs_op(after, limit))

    def export_session(self, ref: int) -> dict[str, Any] | None:
        return self._run(lambda: q.export_op(ref))

    def find_ref(self, session_id: str, project_key: str) -> int | None:
        return self._run(lambda: q.find_ref_op(session_id, project_key))

    def import_session(self, record: dict[str, Any]) -> None:
        self._run(lambda: q.import_op(record, self.schema))


class AsyncPostgresBackend(_Core):
    """The asyncio twin of :class:`PostgresBackend`: same SQL, psycopg's async API.

    Make one with ``await AsyncPostgresBackend.open(url)`` (the pool needs a
    running event loop); every method is a coroutine.
    """

    _pool: psycopg_pool.AsyncConnectionPool[psycopg.AsyncConnection[Any]]

    @classmethod
    async def open(cls, url: str) -> AsyncPostgresBackend:
        self = cls(url)
        try:
            conn = await psycopg.AsyncConnection.connect(self._loc.conninfo, **self._kwargs)
        except psycopg.Error as error:
            raise self._connect_error(error) from None
        try:
            async with conn:
                async with conn.transaction():
                    version = await adrive(conn, q.schema_version_op())
                if version != q.SCHEMA_VERSION:
                    async with conn.transaction():
                        await adrive(conn, q.migrate_op(self._loc.schema))
        except psycopg.Error as error:
            raise self._translate(error) from None
        except q.SchemaTooNewError as error:
            raise StoreError(str(error)) from None
        self._pool = psycopg_pool.AsyncConnectionPool(
            self._loc.conninfo,
            kwargs=self._kwargs,
            min_size=1,
            max_size=self._loc.pool_max_size,
            open=False,
            timeout=self._loc.pool_timeout,
            name="claude-sessions-async",
        )
        await self._pool.open()
        return self

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        await self._pool.close(timeout=5)

    async def _run(
        self,
        make: Callable[[], q.Op[T]],
        *,
        idempotent: bool = True,
        text_query: str | None = None,
    ) -> T:
        self._check_open()
        retry = _Retry(idempotent, self._loc.pool_max_size)
        while True:
            began = False
            try:
                async with self._pool.connection() as conn, conn.transaction():
                    began = True
                    return await adrive(conn, make())
            except psycopg_pool.PoolTimeout:
                try:  # see PostgresBackend._run
                    adirect = await psycopg.AsyncConnection.connect(
                        self._loc.conninfo, **self._kwargs
                    )
                except psycopg.Error as error:
                    raise self._connect_error(error) from None
                try:
                    async with adirect, adirect.transaction():
                        return await adrive(adirect, make())
                except (psycopg.Error, q.SchemaTooNewError) as error:
                    raise self._translate(error, text_query=text_query) from None
            except (psycopg.Error, q.SchemaTooNewError) as error:
                pause = retry.pause(error, began)
                if pause is None:
                    raise self._translate(error, text_query=text_query) from None
                await asyncio.sleep(pause)

    async def save(
        self,
        session_id: str,
        entries: Sequence[Entry],
        *,
        tags: Sequence[str],
        description: str | None,
        project: str | None,
        project_key: str,
        forked_from: str | None,
        now: float,
    ) -> SessionMetadata:
        return await self._run(
            lambda: q.save_op(
                session_id,
                entries,
                tags=tags,
                description=description,
                project=project,
                project_key=project_key,
                forked_from=forked_from,
                now=now,
                schema=self.schema,
            )
        )

    async def append(
        self,
        session_id: str,
        entries: Sequence[Entry],
        *,
        project_key: str | None,
        subpath: str,
        now: float,
    ) -> SessionMetadata:
        return await self._run(
            lambda: q.append_op(
                session_id,
                entries,
                project_key=project_key,
                subpath=subpath,
                now=now,
                schema=self.schema,
            ),
            idempotent=_all_have_uuids(entries),
        )

    async def load(
        self, session_id: str, *, project_key: str | None = None, subpath: str = ""
    ) -> tuple[SessionMetadata, list[dict[str, Any]]] | None:
        return await self._run(
            lambda: q.load_op(session_id, project_key=project_key, subpath=subpath)
        )

    async def get_metadata(self, session_id: str) -> SessionMetadata | None:
        return await self._run(lambda: q.get_metadata_op(session_id))

    async def query(self, query: Query) -> list[SessionMetadata]:
        return await self._run(lambda: q.query_op(query), text_query=query.text)

    async def find_ids(self, prefix: str, limit: int) -> list[str]:
        return await self._run(lambda: q.find_ids_op(prefix, limit))

    async def delete(
        self, session_id: str, *, project_key: str | None = None, subpath: str | None = None
    ) -> bool:
        return await self._run(
            lambda: q.delete_op(session_id, project_key=project_key, subpath=subpath)
        )

    async def update(
        self,
        session_id: str,
        *,
        add_tags: Sequence[str] = (),
        remove_tags: Sequence[str] = (),
        description: str | None = None,
        set_description: bool = False,
    ) -> SessionMetadata | None:
        return await self._run(
            lambda: q.update_op(
                session_id,
                add_tags=add_tags,
                remove_tags=remove_tags,
                description=description,
                set_description=set_description,
                schema=self.schema,
            )
        )

    async def expired(self, cutoff: float, protected_tags: Sequence[str]) -> list[SessionMetadata]:
        return await self._run(lambda: q.expired_op(cutoff, protected_tags))

    async def delete_expired(self, cutoff: float, protected_tags: Sequence[str]) -> int:
        total = 0
        while True:
            deleted = await self._run(lambda: q.delete_expired_batch_op(cutoff, protected_tags))
            total += deleted
            if deleted < q.CLEANUP_BATCH:
                return total

    async def claim_cleanup(self, now: float, interval: float) -> bool:
        return await self._run(lambda: q.claim_cleanup_op(now, interval, self.schema))

    async def project_sessions(self, project_key: str) -> list[ProjectSession]:
        return await self._run(lambda: q.project_sessions_op(project_key))

    async def subkeys(self, project_key: str, session_id: str) -> list[str]:
        return await self._run(lambda: q.subkeys_op(project_key, session_id))
