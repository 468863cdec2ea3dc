"""How the store's logic talks to a database without doing any I/O itself.

Three layers of plain generators, so the same code runs on SQLite and
PostgreSQL, blocking or under asyncio:

- a :class:`Stmt` is one SQL statement and what to send back (a row, all
  rows, the row count);
- an :data:`Op` is the body of one transaction: it yields statements,
  receives their results and returns a value (see :mod:`.ops`);
- a :data:`Plan` is one public operation: it yields :class:`Txn` values (an
  op and how to run it), receives their results and returns the answer (see
  :mod:`.core`). Cleanup in batches, for instance, is several transactions.

A driver (:mod:`.sqlite_driver`, :mod:`.postgres_driver`) only runs
transactions; :func:`run_plan` and :func:`arun_plan` feed a plan through one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Generator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Generic, Literal, Protocol, TypeVar

T = TypeVar("T")

Fetch = Literal["none", "one", "all", "rowcount"]


@dataclass(frozen=True)
class Stmt:
    """One statement: ``?`` placeholders; ``many``: ``params`` is a list of rows."""

    sql: str
    params: Sequence[Any] = ()
    fetch: Fetch = "none"
    many: bool = False


Op = Generator[Stmt, Any, T]


def fetched(cursor: Any, fetch: Fetch) -> Any:
    """What a blocking DB-API cursor hands back to an op for a statement's ``fetch``."""
    if fetch == "one":
        return cursor.fetchone()
    if fetch == "all":
        return cursor.fetchall()
    if fetch == "rowcount":
        return cursor.rowcount
    return None


@dataclass(frozen=True)
class Txn(Generic[T]):
    """One transaction to run.

    ``make`` builds a fresh op for each attempt (a driver may retry after a
    lost connection). ``write``: takes the write lock (and fails on a store
    opened read-only). ``repeatable``: running it twice has the effect of once,
    so it may be retried after a connection broke mid-way. ``time_limit``:
    seconds after which the database stops it (user-written full-text queries).
    """

    make: Callable[[], Op[T]]
    write: bool = False
    repeatable: bool = True
    time_limit: float | None = None


Plan = Generator[Txn[Any], Any, T]


class Driver(Protocol):
    """Runs transactions against one database, blocking."""

    @property
    def location(self) -> str: ...

    @property
    def read_only(self) -> bool: ...

    def transact(self, txn: Txn[T]) -> T: ...

    def bulk_writes(self) -> AbstractContextManager[None]:
        """Many large write transactions follow from this thread (the engine may
        spend another thread keeping up)."""
        ...

    def scrub(self) -> bool:
        """Erase from the database's files what writes removed (after a redaction);
        False when the database could not finish it (a reader held on)."""
        ...

    def watch_changes(self, on_change: Callable[[], None]) -> Callable[[], None] | None:
        """Call ``on_change`` whenever a write commits, in this process or another,
        and return what stops it; ``None`` when the engine cannot tell (poll instead)."""
        ...

    def close(self) -> None: ...


class AsyncDriver(Protocol):
    """Runs transactions against one database, as coroutines."""

    @property
    def location(self) -> str: ...

    @property
    def read_only(self) -> bool: ...

    async def transact(self, txn: Txn[T]) -> T: ...

    async def aclose(self) -> None: ...


def run_plan(transact: Callable[[Txn[Any]], Any], plan: Plan[T]) -> T:
    """Run ``plan``, each of its transactions through ``transact``."""
    try:
        txn = next(plan)
        while True:
            try:
                result = transact(txn)
            except BaseException as error:
                txn = plan.throw(error)
            else:
                txn = plan.send(result)
    except StopIteration as done:
        value: T = done.value
        return value


async def arun_plan(transact: Callable[[Txn[Any]], Awaitable[Any]], plan: Plan[T]) -> T:
    """The coroutine twin of :func:`run_plan`."""
    try:
        txn = next(plan)
        while True:
            try:
                result = await transact(txn)
            except BaseException as error:
                txn = plan.throw(error)
            else:
                txn = plan.send(result)
    except StopIteration as done:
        value: T = done.value
        return value


def single(txn: Txn[T]) -> Plan[T]:
    """A plan of one transaction."""
    result: T = yield txn
    return result


class ThreadedDriver:
    """The coroutine face of a blocking driver: each transaction in a worker thread.

    For SQLite (``sqlite3`` has no async API) and for an ``AsyncSessionStore``
    made over a ``SessionStore``. anyio's threads work under asyncio and trio.
    """

    def __init__(self, driver: Driver) -> None:
        self.driver = driver

    @property
    def location(self) -> str:
        return self.driver.location

    @property
    def read_only(self) -> bool:
        return self.driver.read_only

    async def transact(self, txn: Txn[T]) -> T:
        import anyio.to_thread  # only async callers pay for importing anyio

        return await anyio.to_thread.run_sync(self.driver.transact, txn)

    async def aclose(self) -> None:
        import anyio.to_thread

        await anyio.to_thread.run_sync(self.driver.close)
