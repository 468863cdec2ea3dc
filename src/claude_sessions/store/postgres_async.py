"""``AsyncSessionStore`` on PostgreSQL without threads: psycopg's asyncio API.

:class:`AsyncPostgresStore` has the coroutine methods of ``AsyncSessionStore``
and the semantics of ``SessionStore`` (validation, project keys, automatic
cleanup), over :class:`~.postgres.AsyncPostgresBackend`, which runs the same
SQL as the blocking backend. ``AsyncSessionStore`` uses it when its location
is a PostgreSQL URL; the pool opens on the first call and belongs to that
call's event loop (a call from another loop goes through the blocking store).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterable
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from ..exceptions import AmbiguousSessionIdError, SessionNotFoundError
from ..message import Message
from .criteria import build_query
from .ids import validate_session_id
from .metadata import normalize_tags
from .models import SessionData, SessionMetadata
from .postgres import AsyncPostgresBackend

if TYPE_CHECKING:
    from .store import SessionStore


class AsyncPostgresStore:
    """The async face's PostgreSQL implementation (see the module docstring)."""

    def __init__(self, url: str, store: SessionStore) -> None:
        self._url = url
        self._store = store  # configuration (clock, cleanup) and the blocking fallback
        self._backend: AsyncPostgresBackend | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock: asyncio.Lock | None = None
        self._next_cleanup_check = float("-inf")

    async def backend(self) -> AsyncPostgresBackend | None:
        """The async backend for the running loop (opened on first use), or ``None``."""
        loop = asyncio.get_running_loop()
        if self._loop is None:
            self._loop = loop
            self._lock = asyncio.Lock()
        if loop is not self._loop:
            return None
        assert self._lock is not None
        async with self._lock:
            if self._backend is None:
                self._backend = await AsyncPostgresBackend.open(self._url)
                await self._maybe_cleanup()
        return self._backend

    async def _b(self) -> AsyncPostgresBackend:
        backend = await self.backend()
        if backend is None:  # pragma: no cover - callers check backend() first
            raise RuntimeError("the async PostgreSQL pool belongs to another event loop")
        return backend

    async def close(self) -> None:
        backend, self._backend = self._backend, None
        if backend is not None:
            await backend.close()

    async def _maybe_cleanup(self) -> None:
        from .store import CLEANUP_INTERVAL_SECONDS

        days = self._store.cleanup_after_days
        if days is None or self._backend is None:
            return
        now = self._store._now()
        if now < self._next_cleanup_check:
            return
        self._next_cleanup_check = now + 3600
        if await self._backend.claim_cleanup(now, CLEANUP_INTERVAL_SECONDS):
            await self._backend.delete_expired(now - days * 86400, self._store.protected_tags)

    # -- writing ---------------------------------------------------------------------

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
        from .store import _entry, _project_key

        validate_session_id(session_id)
        if forked_from is not None:
            validate_session_id(forked_from)
        if description is not None and not isinstance(description, str):
            raise TypeError("description must be a string or None")
        entries = [_entry(m) for m in messages]
        directory = os.fspath(project) if project is not None else None
        backend = await self._b()
        metadata = await backend.save(
            session_id,
            entries,
            tags=normalize_tags(tags),
            description=description,
            project=directory,
            project_key=_project_key(directory, entries),
            forked_from=forked_from,
            now=self._store._now(),
        )
        await self._maybe_cleanup()
        return metadata

    async def append_messages(
        self,
        session_id: str,
        messages: Iterable[Any],
        *,
        project_key: str | None = None,
        subpath: str | None = None,
    ) -> SessionMetadata:
        from .store import _entry, _project_key, _subpath

        validate_session_id(session_id)
        entries = [_entry(m) for m in messages]
        backend = await self._b()
        if project_key is None and await backend.get_metadata(session_id) is None:
            project_key = _project_key(None, entries)
        metadata = await backend.append(
            session_id,
            entries,
            project_key=project_key,
            subpath=_subpath(subpath),
            now=self._store._now(),
        )
        await self._maybe_cleanup()
        return metadata

    async def record_run(
        self,
        session_id: str,
        messages: Iterable[Any],
        *,
        tags: Iterable[str] | None = None,
        description: str | None = None,
        forked_from: str | None = None,
        project_key: str | None = None,
    ) -> SessionMetadata:
        from .store import _entry, _project_key

        validate_session_id(session_id)
        if forked_from is not None:
            validate_session_id(forked_from)
        entries = [_entry(m) for m in messages]
        added = normalize_tags(tags)
        backend = await self._b()
        if await backend.get_metadata(session_id) is None:
            metadata = await backend.save(
                session_id,
                entries,
                tags=added,
                description=description,
                project=None,
                project_key=project_key if project_key is not None else _project_key(None, entries),
                forked_from=forked_from,
                now=self._store._now(),
            )
        else:
            await backend.append(
                session_id, entries, project_key=project_key, subpath="", now=self._store._now()
            )
            metadata = await self._update(
                session_id,
                add_tags=added,
                description=description,
                set_description=description is not None,
            )
        await self._maybe_cleanup()
        return metadata

    async def _update(self, session_id: str, **changes: Any) -> SessionMetadata:
        metadata = await (await self._b()).update(session_id, **changes)
        if metadata is None:
            raise SessionNotFoundError(session_id)
        return metadata

    async def add_tags(self, session_id: str, tags: Iterable[str] | str) -> SessionMetadata:
        validate_session_id(session_id)
        return await self._update(session_id, add_tags=normalize_tags(tags))

    async def remove_tags(self, session_id: str, tags: Iterable[str] | str) -> SessionMetadata:
        validate_session_id(session_id)
        return await self._update(session_id, remove_tags=normalize_tags(tags))

    async def set_description(self, session_id: str, description: str | None) -> SessionMetadata:
        validate_session_id(session_id)
        if description is not None and not isinstance(description, str):
            raise TypeError("description must be a string or None")
        return await self._update(session_id, description=description, set_description=True)

    async def delete_session(self, session_id: str) -> bool:
        validate_session_id(session_id)
        return await (await self._b()).delete(session_id)

    async def cleanup_old_sessions(
        self, max_age_days: float | None = None, *, dry_run: bool = False
    ) -> int | list[SessionMetadata]:
        from .store import DEFAULT_CLEANUP_DAYS, _check_days

        days = _check_days(max_age_days, "max_age_days")
        if days is None:
            days = self._store.cleanup_after_days
        if days is None:
            days = DEFAULT_CLEANUP_DAYS
        cutoff = self._store._now() - days * 86400
        backend = await self._b()
        if dry_run:
            return await backend.expired(cutoff, self._store.protected_tags)
        return await backend.delete_expired(cutoff, self._store.protected_tags)

    # -- reading ---------------------------------------------------------------------

    async def load_session(self, session_id: str) -> SessionData:
        found = await self.get_session(session_id)
        if found is None:
            raise SessionNotFoundError(session_id)
        return found

    async def get_session(self, session_id: str) -> SessionData | None:
        validate_session_id(session_id)
        loaded = await (await self._b()).load(session_id)
        if loaded is None:
            return None
        metadata, entries = loaded
        return SessionData(session_id, [Message(entry) for entry in entries], metadata)

    async def get_metadata(self, session_id: str) -> SessionMetadata | None:
        validate_session_id(session_id)
        return await (await self._b()).get_metadata(session_id)

    async def list_sessions(
        self,
        limit: int | None = None,
        offset: int = 0,
        *,
        project: str | None = None,
        tag: str | None = None,
    ) -> list[SessionMetadata]:
        query = build_query(tags=tag, project=project, limit=limit, offset=offset)
        return await (await self._b()).query(query)

    async def search(
        self,
        *,
        tags: Iterable[str] | str | None = None,
        match_all_tags: bool = False,
        after: date | datetime | None = None,
        before: date | datetime | None = None,
        min_cost: float | None = None,
        max_cost: float | None = None,
        model: str | None = None,
        project: str | None = None,
        text: str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[SessionMetadata]:
        query = build_query(
            tags=tags,
            match_all_tags=match_all_tags,
            after=after,
            before=before,
            min_cost=min_cost,
            max_cost=max_cost,
            model=model,
            project=project,
            text=text,
            limit=limit,
            offset=offset,
        )
        return await (await self._b()).query(query)

    async def resolve_id(self, prefix: str) -> str:
        from .store import _AMBIGUOUS_SHOWN

        validate_session_id(prefix)
        found = await (await self._b()).find_ids(prefix, _AMBIGUOUS_SHOWN + 1)
        if not found:
            raise SessionNotFoundError(prefix, f"no stored session id starts with {prefix!r}")
        if len(found) > 1:
            raise AmbiguousSessionIdError(prefix, found[:_AMBIGUOUS_SHOWN])
        return found[0]
