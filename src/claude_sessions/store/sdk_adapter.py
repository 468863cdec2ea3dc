"""The official SDK's ``SessionStore`` protocol over our store's tables.

The protocol's method names (``load``, ``list_sessions``, ``delete``) clash
with ``SessionStore``'s own (``list_sessions`` lists metadata there), so the
protocol lives on this separate adapter object, made by
``SessionStore.sdk_store()``. Transcripts the SDK mirrors through it are
ordinary sessions of the store: listed, searchable and loadable, with
metadata derived from their entries.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

from claude_agent_sdk.types import (
    SessionKey,
    SessionListSubkeysKey,
    SessionStoreEntry,
    SessionStoreListEntry,
    SessionSummaryEntry,
)
from claude_agent_sdk.types import SessionStore as SDKSessionStoreProtocol

from ..exceptions import StoreError
from .ids import validate_session_id

if TYPE_CHECKING:
    from .store import SessionStore

T = TypeVar("T")


def _key(key: SessionKey | SessionListSubkeysKey) -> tuple[str, str]:
    project_key = key.get("project_key")
    if not isinstance(project_key, str):
        raise StoreError(f"a session key needs a string project_key: {key!r}")
    return project_key, validate_session_id(key.get("session_id"))


def _subpath(key: SessionKey) -> str:
    subpath = key.get("subpath")
    if subpath is None:
        return ""
    if not isinstance(subpath, str) or not subpath or "\x00" in subpath:
        raise StoreError(f"invalid subpath in session key: {key!r}")
    return subpath


class SDKSessionStore(SDKSessionStoreProtocol):
    """``claude_agent_sdk.types.SessionStore`` backed by a :class:`SessionStore`.

    Every optional method is implemented. Calls run on the store's thread
    pool (sqlite3 blocks). Entries with a ``uuid`` are upserted, others
    appended; the SDK's summary sidecar (``fold_session_summary``) is folded
    inside the same write transaction, and its ``mtime`` is the same
    epoch-ms storage clock ``list_sessions`` reports.
    """

    def __init__(self, store: SessionStore) -> None:
        self._store = store

    @property
    def store(self) -> SessionStore:
        return self._store

    async def _call(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        call = functools.partial(function, *args, **kwargs)
        return await loop.run_in_executor(self._store.executor(), call)

    async def append(self, key: SessionKey, entries: list[SessionStoreEntry]) -> None:
        project_key, session_id = _key(key)
        if not entries:
            return
        batch = [dict(entry) for entry in entries]
        await self._call(
            self._store.append_messages,
            session_id,
            batch,
            project_key=project_key,
            subpath=_subpath(key) or None,
        )

    async def load(self, key: SessionKey) -> list[SessionStoreEntry] | None:
        project_key, session_id = _key(key)
        backend = self._store.backend
        loaded = await self._call(
            backend.load, session_id, project_key=project_key, subpath=_subpath(key)
        )
        if loaded is None or not loaded[1]:
            return None
        return cast("list[SessionStoreEntry]", loaded[1])

    async def list_sessions(self, project_key: str) -> list[SessionStoreListEntry]:
        found = await self._call(self._store.backend.project_sessions, project_key)
        return [{"session_id": s.session_id, "mtime": s.mtime_ms} for s in found]

    async def list_session_summaries(self, project_key: str) -> list[SessionSummaryEntry]:
        found = await self._call(self._store.backend.project_sessions, project_key)
        return [
            {
                "session_id": s.session_id,
                "mtime": int(s.summary.get("mtime", s.mtime_ms)),
                "data": dict(s.summary.get("data", {})),
            }
            for s in found
            if s.summary is not None
        ]

    async def delete(self, key: SessionKey) -> None:
        project_key, session_id = _key(key)
        subpath = _subpath(key)
        await self._call(
            self._store.backend.delete,
            session_id,
            project_key=project_key,
            subpath=subpath or None,
        )

    async def list_subkeys(self, key: SessionListSubkeysKey) -> list[str]:
        project_key, session_id = _key(key)
        return await self._call(self._store.backend.subkeys, project_key, session_id)

    def __repr__(self) -> str:
        return f"SDKSessionStore({self._store.location!r})"
