"""Opening a store's database: the driver and dialect for a location.

Apart from :mod:`.location` (which only reads locations) so that the drivers
can use its parsing without importing each other through it.
"""

from __future__ import annotations

import os

from claude_sessions.store.dialect import Dialect
from claude_sessions.store.location import sqlite_path
from claude_sessions.store.plan import AsyncDriver, Driver


def open_driver(
    location: str | os.PathLike[str],
    *,
    read_only: bool = False,
    busy_timeout: float | None = None,
) -> tuple[Driver, Dialect]:
    """The blocking driver for a location (opened, schema upgraded) and its dialect."""
    path = sqlite_path(location)
    if path is not None:
        from claude_sessions.store.sqlite.dialect import SQLiteDialect
        from claude_sessions.store.sqlite.driver import SQLiteDriver

        return SQLiteDriver(path, read_only=read_only, busy_timeout=busy_timeout), SQLiteDialect()
    from claude_sessions.store.postgres.dialect import PostgresDialect
    from claude_sessions.store.postgres.driver import PostgresDriver

    driver = PostgresDriver(os.fspath(location), read_only=read_only, busy_timeout=busy_timeout)
    return driver, PostgresDialect(driver.schema)


def open_async_driver(
    location: str | os.PathLike[str],
    *,
    read_only: bool = False,
    busy_timeout: float | None = None,
) -> tuple[AsyncDriver, Dialect]:
    """The coroutine driver for a location and its dialect: psycopg's asyncio API for
    PostgreSQL (its pool opens on first use), worker threads for SQLite."""
    path = sqlite_path(location)
    if path is not None:
        from claude_sessions.store.plan import ThreadedDriver
        from claude_sessions.store.sqlite.dialect import SQLiteDialect
        from claude_sessions.store.sqlite.driver import SQLiteDriver

        sqlite = SQLiteDriver(path, read_only=read_only, busy_timeout=busy_timeout)
        return ThreadedDriver(sqlite), SQLiteDialect()
    from claude_sessions.store.postgres.dialect import PostgresDialect
    from claude_sessions.store.postgres.driver import AsyncPostgresDriver

    driver = AsyncPostgresDriver(
        os.fspath(location), read_only=read_only, busy_timeout=busy_timeout
    )
    return driver, PostgresDialect(driver.schema)
