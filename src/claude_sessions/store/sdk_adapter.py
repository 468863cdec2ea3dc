"""The official SDK's ``SessionStore`` protocol over our store's tables.

The protocol's method names (``load``, ``list_sessions``, ``delete``) clash
with ``SessionStore``'s own (``list_sessions`` lists metadata there), so the
protocol lives on this separate adapter object, made by
``SessionStore.sdk_store()``. Transcripts the SDK mirrors through it are
ordinary sessions of the store: listed, searchable and loadable, with
metadata derived from their entries.

``delete`` of a main transcript moves the session to the trash, like every
delete here; ``delete`` of a subagent transcript removes those entries.
A tag or title (what the SDK's ``tag_session`` and ``rename_session`` write)
holding a NUL is refused, as every field a user sets is.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

from claude_agent_sdk import fold_session_summary
from claude_agent_sdk.types import (
    SessionKey,
    SessionListSubkeysKey,
    SessionStoreEntry,
    SessionStoreListEntry,
    SessionSummaryEntry,
)
from claude_agent_sdk.types import SessionStore as SDKSessionStoreProtocol

from claude_sessions.model.exceptions import InvalidInputError
from claude_sessions.model.ids import validate_session_id
from claude_sessions.model.user_fields import user_text

if TYPE_CHECKING:
    from claude_sessions.store.core import StoreCore
    from claude_sessions.store.plan import Plan

T = TypeVar("T")
Runner = Callable[["Plan[Any]"], Awaitable[Any]]
# The entries the SDK's tag_session and rename_session write: a field the user set.
_USER_SET = {"tag": "tag", "custom-title": "customTitle"}


def _key(key: SessionKey | SessionListSubkeysKey) -> tuple[str, str]:
    project_key = key.get("project_key")
    if not isinstance(project_key, str):
        raise InvalidInputError(f"a session key needs a string project_key: {key!r}")
    return project_key, validate_session_id(key.get("session_id"))


def _subpath(key: SessionKey) -> str:
    subpath = key.get("subpath")
    if subpath is None:
        return ""
    if not isinstance(subpath, str) or not subpath or "\x00" in subpath:
        raise InvalidInputError(f"invalid subpath in session key: {key!r}")
    return subpath


def _check_user_set(entries: list[SessionStoreEntry]) -> None:
    for entry in entries:
        field = _USER_SET.get(str(entry.get("type")))
        value = entry.get(field) if field is not None else None
        if isinstance(value, str):
            user_text(value, f"a session's {field}")


class SDKSessionStore(SDKSessionStoreProtocol):
    """``claude_agent_sdk.types.SessionStore`` backed by our store.

    Every optional method is implemented. Entries with a ``uuid`` are
    upserted, others appended. The SDK's summary sidecar is folded in the
    write transaction when the SDK is loaded, and folded from the entries on
    demand for sessions written without it (importing the SDK costs most of a
    second, which a capture hook cannot spend); its ``mtime`` is the same
    epoch-ms storage clock ``list_sessions`` reports.
    """

    def __init__(self, core: StoreCore, run: Runner, location: str) -> None:
        self._core = core
        self._run = run
        self._location = location

    async def append(self, key: SessionKey, entries: list[SessionStoreEntry]) -> None:
        project_key, session_id = _key(key)
        if not entries:
            return
        _check_user_set(entries)
        await self._run(
            self._core.append_messages(
                session_id,
                [dict(entry) for entry in entries],
                project_key=project_key,
                subpath=_subpath(key) or None,
            )
        )

    async def load(self, key: SessionKey) -> list[SessionStoreEntry] | None:
        project_key, session_id = _key(key)
        loaded = await self._run(self._core.sdk_load(session_id, project_key, _subpath(key)))
        return cast("list[SessionStoreEntry] | None", loaded)

    async def list_sessions(self, project_key: str) -> list[SessionStoreListEntry]:
        found = await self._run(self._core.project_sessions(project_key))
        return [{"session_id": s.session_id, "mtime": s.mtime_ms} for s in found]

    async def list_session_summaries(self, project_key: str) -> list[SessionSummaryEntry]:
        found = await self._run(self._core.project_sessions(project_key))
        summaries: list[SessionSummaryEntry] = []
        for session in found:
            summary = session.summary
            if summary is None:  # written without the SDK loaded: fold it now
                entries = await self._run(self._core.sdk_load(session.session_id, project_key, ""))
                key: SessionKey = {"project_key": project_key, "session_id": session.session_id}
                summary = dict(fold_session_summary(None, key, entries or []))
            summaries.append(
                {
                    "session_id": session.session_id,
                    "mtime": session.mtime_ms,
                    "data": dict(summary.get("data", {})),
                }
            )
        return summaries

    async def delete(self, key: SessionKey) -> None:
        project_key, session_id = _key(key)
        await self._run(self._core.sdk_delete(session_id, project_key, _subpath(key)))

    async def list_subkeys(self, key: SessionListSubkeysKey) -> list[str]:
        project_key, session_id = _key(key)
        found: list[str] = await self._run(self._core.subkeys(project_key, session_id))
        return found

    def __repr__(self) -> str:
        return f"SDKSessionStore({self._location!r})"
