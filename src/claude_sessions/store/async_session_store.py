"""``AsyncSessionStore``: :class:`~.session_store.SessionStore` with coroutine methods.

The same core makes the plans; a coroutine driver runs them (psycopg's asyncio API
for PostgreSQL, worker threads for SQLite, whose ``sqlite3`` has no async API).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from datetime import date, datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, TypeVar, overload

from claude_sessions.model.exceptions import StoreError
from claude_sessions.model.filters import SessionFilter
from claude_sessions.store.cleanup_policy import FROM_ENVIRONMENT, PROTECTED_TAGS, Days
from claude_sessions.store.core import SHORT_ID_LENGTH, StoreCore
from claude_sessions.store.drivers import open_async_driver
from claude_sessions.store.location import default_location
from claude_sessions.store.plan import (
    AsyncDriver,
    Plan,
    ThreadedDriver,
    arun_plan,
)
from claude_sessions.store.records import (
    ApiRequest,
    RestoreReport,
    SessionData,
    SessionMetadata,
    SessionPage,
    UsageBucket,
)
from claude_sessions.store.session_store import Location, SessionStore

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from claude_sessions.model.filters import FilterArgs
    from claude_sessions.store.sdk_adapter import SDKSessionStore


T = TypeVar("T")


class AsyncSessionStore:
    """``SessionStore`` with coroutine methods, over the same core.

    On PostgreSQL it uses psycopg's asyncio API (one pool, opened on first
    use); on SQLite each transaction runs in a worker thread. ``store=``
    wraps an open ``SessionStore`` instead (its transactions then run in
    worker threads).
    """

    def __init__(
        self,
        location: Location | None = None,
        *,
        cleanup_after_days: Days = FROM_ENVIRONMENT,
        trash_days: Days = FROM_ENVIRONMENT,
        protected_tags: Iterable[str] = PROTECTED_TAGS,
        clock: Callable[[], datetime] | None = None,
        read_only: bool = False,
        busy_timeout: float | None = None,
        store: SessionStore | None = None,
    ) -> None:
        self._store = store
        self._settings: dict[str, Any] = {
            "cleanup_after_days": cleanup_after_days,
            "trash_days": trash_days,
            "protected_tags": protected_tags,
            "clock": clock,
            "read_only": read_only,
            "busy_timeout": busy_timeout,
        }
        self._location = location if location is not None else default_location()
        self._driver: AsyncDriver
        if store is not None:
            self._driver = ThreadedDriver(store._driver)
            self._core = store.core
            self._opened = True
        else:
            self._driver, dialect = open_async_driver(
                self._location, read_only=read_only, busy_timeout=busy_timeout
            )
            try:
                self._core = StoreCore(
                    dialect,
                    cleanup_after_days=cleanup_after_days,
                    trash_days=trash_days,
                    protected_tags=protected_tags,
                    clock=clock,
                    read_only=self._driver.read_only,
                )
            except BaseException:
                if isinstance(self._driver, ThreadedDriver):  # a PostgreSQL pool opens later
                    self._driver.driver.close()
                raise
            self._opened = False
        self._sync: SessionStore | None = None
        self._closed = False

    @classmethod
    def default(cls) -> AsyncSessionStore:
        return cls(store=SessionStore.default())

    async def _run(self, plan: Plan[T]) -> T:
        if self._closed:
            raise StoreError(f"the session store at {self.location} is closed")
        if not self._opened:
            self._opened = True
            await arun_plan(self._driver.transact, self._core.opened())
        return await arun_plan(self._driver.transact, plan)

    @property
    def sync(self) -> SessionStore:
        """A blocking store on the same location (opened on first use)."""
        if self._store is not None:
            return self._store
        if self._sync is None:
            self._sync = SessionStore(self._location, **self._settings)
        return self._sync

    @property
    def location(self) -> str:
        return self._driver.location

    @property
    def read_only(self) -> bool:
        return self._driver.read_only

    @property
    def core(self) -> StoreCore:
        return self._core

    async def run(self, plan: Plan[T]) -> T:
        """Run a plan of :attr:`core` on this store's database."""
        return await self._run(plan)

    async def save_session(
        self,
        session_id: str,
        messages: Iterable[Any],
        *,
        tags: Iterable[str] | None = None,
        description: str | None = None,
        project: str | os.PathLike[str] | None = None,
        forked_from: str | None = None,
    ) -> SessionMetadata:
        return await self._run(
            self._core.save_session(
                session_id,
                list(messages),
                tags=tags,
                description=description,
                project=project,
                forked_from=forked_from,
            )
        )

    async def append_messages(
        self,
        session_id: str,
        messages: Iterable[Any],
        *,
        project_key: str | None = None,
        subpath: str | None = None,
    ) -> SessionMetadata:
        return await self._run(
            self._core.append_messages(
                session_id, list(messages), project_key=project_key, subpath=subpath
            )
        )

    async def record_run(
        self,
        session_id: str,
        messages: Iterable[Any],
        *,
        tags: Iterable[str] | None = None,
        description: str | None = None,
        forked_from: str | None = None,
        forked_at: str | None = None,
        project_key: str | None = None,
    ) -> SessionMetadata:
        return await self._run(
            self._core.record_run(
                session_id,
                list(messages),
                tags=tags,
                description=description,
                forked_from=forked_from,
                forked_at=forked_at,
                project_key=project_key,
            )
        )

    async def add_tags(self, session_id: str, tags: Iterable[str] | str) -> SessionMetadata:
        return await self._run(self._core.update(session_id, add_tags=tags))

    async def remove_tags(self, session_id: str, tags: Iterable[str] | str) -> SessionMetadata:
        return await self._run(self._core.update(session_id, remove_tags=tags))

    async def set_description(self, session_id: str, description: str | None) -> SessionMetadata:
        return await self._run(
            self._core.update(session_id, describe=True, description=description)
        )

    async def delete_session(self, session_id: str, *, purge: bool = False) -> bool:
        if purge:
            return await self._run(self._core.purge_session(session_id))
        return await self._run(self._core.trash_session(session_id))

    async def trash_session(self, session_id: str) -> bool:
        return await self._run(self._core.trash_session(session_id))

    async def restore_session(self, session_id: str) -> SessionMetadata:
        return await self._run(self._core.restore_session(session_id))

    async def restore_sessions(
        self, *, since: date | datetime | None = None, tags: Iterable[str] | str | None = None
    ) -> RestoreReport:
        return await self._run(self._core.restore_sessions(since=since, tags=tags))

    async def list_trash(self, limit: int | None = None, offset: int = 0) -> list[SessionMetadata]:
        return await self._run(self._core.search(trashed=True, limit=limit, offset=offset))

    async def empty_trash(
        self, older_than_days: float | None = None, *, session_id: str | None = None
    ) -> int:
        return await self._run(self._core.empty_trash(older_than_days, session_id=session_id))

    @overload
    async def cleanup_old_sessions(
        self, max_age_days: float | None = None, *, dry_run: Literal[False] = False
    ) -> int: ...

    @overload
    async def cleanup_old_sessions(
        self, max_age_days: float | None = None, *, dry_run: Literal[True]
    ) -> list[SessionMetadata]: ...

    async def cleanup_old_sessions(
        self, max_age_days: float | None = None, *, dry_run: bool = False
    ) -> int | list[SessionMetadata]:
        return await self._run(self._core.cleanup_old_sessions(max_age_days, dry_run=dry_run))

    async def load_session(self, session_id: str, *, subagents: bool = False) -> SessionData:
        return await self._run(self._core.load_session(session_id, subagents=subagents))

    async def get_session(self, session_id: str, *, subagents: bool = False) -> SessionData | None:
        return await self._run(self._core.get_session(session_id, subagents=subagents))

    async def get_metadata(self, session_id: str) -> SessionMetadata | None:
        return await self._run(self._core.get_metadata(session_id))

    async def list_sessions(
        self,
        limit: int | None = None,
        offset: int = 0,
        where: SessionFilter | None = None,
        **criteria: Unpack[FilterArgs],
    ) -> list[SessionMetadata]:
        return await self._run(self._core.search(where, limit=limit, offset=offset, **criteria))

    async def search(
        self,
        where: SessionFilter | None = None,
        /,
        *,
        limit: int | None = None,
        offset: int = 0,
        order: Literal["updated", "cost"] = "updated",
        **criteria: Unpack[FilterArgs],
    ) -> list[SessionMetadata]:
        """The filters of :meth:`SessionStore.search`."""
        return await self._run(
            self._core.search(where, limit=limit, offset=offset, order=order, **criteria)
        )

    async def search_page(
        self,
        where: SessionFilter | None = None,
        /,
        *,
        limit: int = 50,
        cursor: str | None = None,
        **criteria: Unpack[FilterArgs],
    ) -> SessionPage:
        return await self._run(
            self._core.search_page(where, limit=limit, cursor=cursor, **criteria)
        )

    async def usage(
        self,
        by: str | Iterable[str] = (),
        where: SessionFilter | None = None,
        **criteria: Unpack[FilterArgs],
    ) -> list[UsageBucket]:
        return await self._run(self._core.usage(by, where, **criteria))

    async def api_requests(
        self,
        where: SessionFilter | None = None,
        *,
        since: float | None = None,
        until: float | None = None,
        newest_first: bool = False,
        limit: int | None = None,
    ) -> list[ApiRequest]:
        return await self._run(
            self._core.api_requests(
                where, since=since, until=until, newest_first=newest_first, limit=limit
            )
        )

    async def version(self) -> str:
        return await self._run(self._core.version())

    async def resolve_id(self, prefix: str, *, trashed: bool = False) -> str:
        return await self._run(self._core.resolve_id(prefix, trashed=trashed))

    async def unique_prefixes(
        self, session_ids: Iterable[str], *, shortest: int = SHORT_ID_LENGTH, trashed: bool = False
    ) -> dict[str, str]:
        return await self._run(
            self._core.unique_prefixes(session_ids, shortest=shortest, trashed=trashed)
        )

    def sdk_store(self) -> SDKSessionStore:
        """The official SDK protocol over this store (see :meth:`SessionStore.sdk_store`)."""
        from claude_sessions.store.sdk_adapter import SDKSessionStore

        return SDKSessionStore(self._core, self._run, self.location)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._store is None:
            await self._driver.aclose()
        if self._sync is not None:
            self._sync.close()

    async def __aenter__(self) -> AsyncSessionStore:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    def __repr__(self) -> str:
        return f"AsyncSessionStore({self.location!r})"
