"""The public faces: ``SessionStore`` (blocking) and ``AsyncSessionStore`` (coroutines).

Both share one implementation: ``AsyncSessionStore`` runs the blocking
methods on a small thread pool owned by the store, because Python's
``sqlite3`` has no async API and a query must not block the event loop. No
SQL lives here; the backend (:mod:`.backend`) does the storage.
"""

from __future__ import annotations

import asyncio
import enum
import functools
import math
import os
import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timezone
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar, Literal, TypeVar, cast, overload

from claude_agent_sdk import project_key_for_directory

from ..exceptions import (
    AmbiguousSessionIdError,
    SessionNotFoundError,
    StoreError,
)
from ..message import Message
from .backend import Backend, mask_password, open_backend
from .criteria import build_query
from .ids import validate_session_id
from .metadata import normalize_tags
from .models import SessionData, SessionMetadata

if TYPE_CHECKING:
    from .sdk_adapter import SDKSessionStore

ENV_VAR = "CLAUDE_SESSIONS_STORE"
CLEANUP_ENV_VAR = "CLAUDE_SESSIONS_CLEANUP_DAYS"
DEFAULT_DIRECTORY = Path("~/.claude_sdk/sessions")
DEFAULT_CLEANUP_DAYS = 30
CLEANUP_INTERVAL_SECONDS = 24 * 60 * 60
# Sessions the importer creates carry IMPORTED_TAG: their updated_at is the
# transcript's own (often months old), and keeping that history is the point
# of importing it, so automatic cleanup must not delete it.
IMPORTED_TAG = "imported"
PROTECTED_TAGS = ("keep", IMPORTED_TAG)
_AMBIGUOUS_SHOWN = 10

Location = str | os.PathLike[str]
T = TypeVar("T")


def utcnow() -> datetime:
    """The store's default clock (tests inject their own ``clock``)."""
    return datetime.now(timezone.utc)


class _FromEnvironment(enum.Enum):
    """Marks an argument whose default is read from the environment."""

    VALUE = enum.auto()


FROM_ENVIRONMENT = _FromEnvironment.VALUE


def default_cleanup_days() -> float | None:
    """``$CLAUDE_SESSIONS_CLEANUP_DAYS`` (days, or ``never``), else 30."""
    raw = os.environ.get(CLEANUP_ENV_VAR, "").strip()
    if not raw:
        return DEFAULT_CLEANUP_DAYS
    if raw.lower() in ("never", "off"):
        return None
    try:
        return float(raw)
    except ValueError:
        raise StoreError(
            f"{CLEANUP_ENV_VAR} must be a number of days or 'never', not {raw!r}"
        ) from None


def default_location() -> str:
    """``$CLAUDE_SESSIONS_STORE``, else ``~/.claude_sdk/sessions``."""
    return os.environ.get(ENV_VAR) or str(DEFAULT_DIRECTORY.expanduser())


def _location_key(location: Location | None) -> str:
    text = os.fspath(location) if location is not None else default_location()
    if "://" in text:
        return text
    return os.path.abspath(os.path.expanduser(text))


def _entry(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    if isinstance(value, Message):
        return value.to_dict()
    if isinstance(value, Mapping):
        return dict(value)
    return Message.coerce(value).to_dict()


def _project_key(project: str | None, entries: Iterable[Mapping[str, Any]]) -> str:
    """The official SDK's project key for the session's directory ('' when unknown).

    ``project_key_for_directory`` is the SDK's public helper (realpath + NFC +
    the CLI's sanitising), so a session saved here and later mirrored by the
    SDK's ``session_store`` option land in the same row.
    """
    directory = project
    if directory is None:
        directory = next(
            (e["cwd"] for e in entries if isinstance(e.get("cwd"), str) and e["cwd"]), None
        )
    return project_key_for_directory(directory) if directory else ""


def _subpath(subpath: str | None) -> str:
    if subpath is None:
        return ""
    if not isinstance(subpath, str) or "\x00" in subpath:
        raise StoreError(f"invalid subpath {subpath!r}")
    return subpath


def _epoch(moment: datetime) -> float:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def _check_days(value: float | None, name: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{name} must be a number of days or None, not {value!r}")
    if value < 0:
        raise ValueError(f"{name} cannot be negative: {value!r}")
    return float(value)


class SessionStore:
    """Saved sessions in a searchable database (SQLite by default).

    ``location`` is a directory (the database is ``sessions.db`` inside), a
    ``.db`` file, ``sqlite:///abs/path.db``, or ``postgresql://...``;
    by default ``$CLAUDE_SESSIONS_STORE`` or ``~/.claude_sdk/sessions``.

    Sessions whose ``updated_at`` is older than ``cleanup_after_days`` are
    deleted automatically (``None`` disables this; by default
    ``$CLAUDE_SESSIONS_CLEANUP_DAYS``, a number or ``never``, else 30), at
    most once a day per database (the last run is recorded in it), when a
    store opens or saves. Sessions tagged with one of ``protected_tags``
    (``keep``, and ``imported`` on sessions the importer created) are never
    cleaned up.
    ``clock`` (a callable returning an aware ``datetime``) replaces the
    wall clock, for tests.
    """

    _defaults: ClassVar[dict[str, SessionStore]] = {}
    _defaults_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(
        self,
        location: Location | None = None,
        *,
        cleanup_after_days: float | _FromEnvironment | None = FROM_ENVIRONMENT,
        protected_tags: Iterable[str] = PROTECTED_TAGS,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        if cleanup_after_days is FROM_ENVIRONMENT:
            cleanup_after_days = default_cleanup_days()
        self._cleanup_after_days = _check_days(cleanup_after_days, "cleanup_after_days")
        self._protected = tuple(normalize_tags(protected_tags))
        self._clock = clock or utcnow
        target = location if location is not None else default_location()
        self._backend: Backend = open_backend(
            target if isinstance(target, str | Path) else os.fspath(target)
        )
        self._closed = False
        self._next_cleanup_check = -math.inf
        self._pool_lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None
        self._maybe_cleanup()

    @classmethod
    def default(cls) -> SessionStore:
        """One shared store per process for the default location (re-made if closed)."""
        key = _location_key(None)
        with cls._defaults_lock:
            store = cls._defaults.get(key)
            if store is None or store._closed:
                store = cls(key)
                cls._defaults[key] = store
            return store

    # -- plumbing ------------------------------------------------------------

    @property
    def location(self) -> str:
        """Where the sessions live: a file path, or a URL with its password masked."""
        return mask_password(self._backend.location)

    @property
    def backend(self) -> Backend:
        return self._backend

    @property
    def cleanup_after_days(self) -> float | None:
        return self._cleanup_after_days

    @property
    def protected_tags(self) -> tuple[str, ...]:
        return self._protected

    def _now(self) -> float:
        return _epoch(self._clock())

    def executor(self) -> ThreadPoolExecutor:
        """The store's thread pool for its async face and SDK adapter (made on first use)."""
        with self._pool_lock:
            if self._closed:
                raise StoreError(f"the session store at {self.location} is closed")
            if self._pool is None:
                self._pool = ThreadPoolExecutor(
                    max_workers=4, thread_name_prefix="claude-sessions-store"
                )
            return self._pool

    def close(self) -> None:
        """Close the database connections and the thread pool (idempotent)."""
        with self._pool_lock:
            if self._closed:
                return
            self._closed = True
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)
        self._backend.close()

    def __enter__(self) -> SessionStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SessionStore({self.location!r})"

    def _maybe_cleanup(self) -> None:
        if self._cleanup_after_days is None:
            return
        now = self._now()
        if now < self._next_cleanup_check:
            return
        # Look at the database again in an hour at the earliest: another
        # process may have run the daily cleanup meanwhile.
        self._next_cleanup_check = now + 3600
        if self._backend.claim_cleanup(now, CLEANUP_INTERVAL_SECONDS):
            cutoff = now - self._cleanup_after_days * 86400
            self._backend.delete_expired(cutoff, self._protected)

    # -- writing -------------------------------------------------------------

    def save_session(
        self,
        session_id: str,
        messages: Iterable[Any],
        *,
        tags: Iterable[str] | None = None,
        description: str | None = None,
        project: str | os.PathLike[str] | None = None,
        forked_from: str | None = None,
    ) -> SessionMetadata:
        """Save (or replace) a session's messages, tags and description.

        ``messages``: our ``Message``, dicts, or the official SDK's typed
        messages. Saving an existing id keeps ``created_at``, refreshes
        ``updated_at`` and replaces messages, tags and description.
        ``project`` (a directory) overrides the init message's ``cwd``.
        """
        validate_session_id(session_id)
        if forked_from is not None:
            validate_session_id(forked_from)
        if description is not None and not isinstance(description, str):
            raise TypeError("description must be a string or None")
        entries = [_entry(m) for m in messages]
        directory = os.fspath(project) if project is not None else None
        metadata = self._backend.save(
            session_id,
            entries,
            tags=normalize_tags(tags),
            description=description,
            project=directory,
            project_key=_project_key(directory, entries),
            forked_from=forked_from,
            now=self._now(),
        )
        self._maybe_cleanup()
        return metadata

    def append_messages(
        self,
        session_id: str,
        messages: Iterable[Any],
        *,
        project_key: str | None = None,
        subpath: str | None = None,
    ) -> SessionMetadata:
        """Add messages to a session without re-sending the earlier ones.

        Entries with a ``uuid`` are idempotent (a repeat replaces the stored
        entry in place); entries without one are appended. Metadata is
        recomputed. ``project_key=None`` picks the stored session with this
        id, or for a new one the key of the messages' ``cwd``. ``subpath``
        addresses a subagent transcript (``subagents/agent-<id>``).
        """
        validate_session_id(session_id)
        entries = [_entry(m) for m in messages]
        if project_key is None and self._backend.get_metadata(session_id) is None:
            project_key = _project_key(None, entries)
        metadata = self._backend.append(
            session_id,
            entries,
            project_key=project_key,
            subpath=_subpath(subpath),
            now=self._now(),
        )
        self._maybe_cleanup()
        return metadata

    def record_run(
        self,
        session_id: str,
        messages: Iterable[Any],
        *,
        tags: Iterable[str] | None = None,
        description: str | None = None,
        forked_from: str | None = None,
        project_key: str | None = None,
    ) -> SessionMetadata:
        """Record one completed run (what ``query(..., store=...)`` calls).

        A new session is saved; a stored one gets the run's messages
        appended (entries with a known ``uuid`` are upserted), so earlier
        runs stay. ``tags`` are added and ``description`` set when given.
        """
        validate_session_id(session_id)
        if forked_from is not None:
            validate_session_id(forked_from)
        entries = [_entry(m) for m in messages]
        added = normalize_tags(tags)
        if self._backend.get_metadata(session_id) is None:
            metadata = self._backend.save(
                session_id,
                entries,
                tags=added,
                description=description,
                project=None,
                project_key=project_key if project_key is not None else _project_key(None, entries),
                forked_from=forked_from,
                now=self._now(),
            )
        else:
            self._backend.append(
                session_id, entries, project_key=project_key, subpath="", now=self._now()
            )
            metadata = self._update(
                session_id,
                add_tags=added,
                description=description,
                set_description=description is not None,
            )
        self._maybe_cleanup()
        return metadata

    def add_tags(self, session_id: str, tags: Iterable[str] | str) -> SessionMetadata:
        validate_session_id(session_id)
        return self._update(session_id, add_tags=normalize_tags(tags))

    def remove_tags(self, session_id: str, tags: Iterable[str] | str) -> SessionMetadata:
        validate_session_id(session_id)
        return self._update(session_id, remove_tags=normalize_tags(tags))

    def set_description(self, session_id: str, description: str | None) -> SessionMetadata:
        validate_session_id(session_id)
        if description is not None and not isinstance(description, str):
            raise TypeError("description must be a string or None")
        return self._update(session_id, description=description, set_description=True)

    def _update(self, session_id: str, **changes: Any) -> SessionMetadata:
        metadata = self._backend.update(session_id, **changes)
        if metadata is None:
            raise SessionNotFoundError(session_id)
        return metadata

    def delete_session(self, session_id: str) -> bool:
        """Delete a session (under every project key); ``False`` if there was none."""
        validate_session_id(session_id)
        return self._backend.delete(session_id)

    @overload
    def cleanup_old_sessions(
        self, max_age_days: float | None = None, *, dry_run: Literal[False] = False
    ) -> int: ...

    @overload
    def cleanup_old_sessions(
        self, max_age_days: float | None = None, *, dry_run: Literal[True]
    ) -> list[SessionMetadata]: ...

    def cleanup_old_sessions(
        self, max_age_days: float | None = None, *, dry_run: bool = False
    ) -> int | list[SessionMetadata]:
        """Delete sessions not updated for ``max_age_days`` days; return how many.

        ``max_age_days=None`` uses the store's ``cleanup_after_days`` (30 when
        that is ``None``). Sessions with a protected tag are kept.
        ``dry_run=True`` deletes nothing and returns the sessions it would delete.
        """
        days = _check_days(max_age_days, "max_age_days")
        if days is None:
            days = self._cleanup_after_days
        if days is None:
            days = DEFAULT_CLEANUP_DAYS
        cutoff = self._now() - days * 86400
        if dry_run:
            return self._backend.expired(cutoff, self._protected)
        return self._backend.delete_expired(cutoff, self._protected)

    # -- reading -------------------------------------------------------------

    def load_session(self, session_id: str) -> SessionData:
        """The session's main-transcript messages and metadata; raises SessionNotFoundError."""
        found = self.get_session(session_id)
        if found is None:
            raise SessionNotFoundError(session_id)
        return found

    def get_session(self, session_id: str) -> SessionData | None:
        validate_session_id(session_id)
        loaded = self._backend.load(session_id)
        if loaded is None:
            return None
        metadata, entries = loaded
        return SessionData(session_id, [Message(entry) for entry in entries], metadata)

    def get_metadata(self, session_id: str) -> SessionMetadata | None:
        validate_session_id(session_id)
        return self._backend.get_metadata(session_id)

    def list_sessions(
        self,
        limit: int | None = None,
        offset: int = 0,
        *,
        project: str | None = None,
        tag: str | None = None,
    ) -> list[SessionMetadata]:
        """Sessions, most recently updated first."""
        query = build_query(tags=tag, project=project, limit=limit, offset=offset)
        return self._backend.query(query)

    def search(
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
        """Sessions matching every given criterion.

        - ``tags``: any of them (all of them with ``match_all_tags=True``);
        - ``after``/``before``: ``created_at`` bounds, inclusive; a date or
          datetime (naive means UTC); a date ``before`` includes that day;
        - ``min_cost``/``max_cost``: inclusive bounds on ``total_cost``;
        - ``model``: case-insensitive substring (``"sonnet"``);
        - ``project``: the project directory or the SDK project key;
        - ``text``: full-text search over message text, description and
          title. Plain words must all occur; FTS5 syntax (``"a phrase"``,
          ``prefix*``, ``OR``, ``NOT``) is understood. Results are ranked
          best first, with ``snippet`` (matches marked ``[like this]``) and
          ``rank`` (lower is better).

        Without ``text`` the newest ``updated_at`` comes first. Bad criteria
        raise :class:`~claude_sessions.InvalidQueryError`.
        """
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
        return self._backend.query(query)

    def resolve_id(self, prefix: str) -> str:
        """The one stored session id starting with ``prefix`` (an exact id always wins)."""
        validate_session_id(prefix)
        found = self._backend.find_ids(prefix, _AMBIGUOUS_SHOWN + 1)
        if not found:
            raise SessionNotFoundError(prefix, f"no stored session id starts with {prefix!r}")
        if len(found) > 1:
            raise AmbiguousSessionIdError(prefix, found[:_AMBIGUOUS_SHOWN])
        return found[0]

    def sdk_store(self) -> SDKSessionStore:
        """This store as the official ``claude_agent_sdk.types.SessionStore`` protocol.

        Pass it as ``ClaudeAgentOptions(session_store=...)``: the SDK mirrors
        transcripts into the same tables, so they show up here with metadata.
        """
        from .sdk_adapter import SDKSessionStore

        return SDKSessionStore(self)


class AsyncSessionStore:
    """``SessionStore`` with coroutine methods, sharing its implementation.

    Each call runs the blocking method on the store's own thread pool:
    ``sqlite3`` has no async API, and a query must not block the event loop.
    Opening happens in the constructor (a few milliseconds of blocking I/O).
    """

    def __init__(
        self,
        location: Location | None = None,
        *,
        cleanup_after_days: float | _FromEnvironment | None = FROM_ENVIRONMENT,
        protected_tags: Iterable[str] = PROTECTED_TAGS,
        clock: Callable[[], datetime] | None = None,
        store: SessionStore | None = None,
    ) -> None:
        self._store = store or SessionStore(
            location,
            cleanup_after_days=cleanup_after_days,
            protected_tags=protected_tags,
            clock=clock,
        )
        # PostgreSQL: coroutines on psycopg's asyncio API instead of the thread pool.
        twin = getattr(self._store.backend, "async_twin", None)
        self._native: Any = twin(self._store) if twin is not None else None

    @classmethod
    def default(cls) -> AsyncSessionStore:
        return cls(store=SessionStore.default())

    @property
    def sync(self) -> SessionStore:
        """The blocking store underneath."""
        return self._store

    @property
    def location(self) -> str:
        return self._store.location

    async def _call(self, method: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        if self._native is not None and await self._native.backend() is not None:
            return cast(T, await getattr(self._native, method.__name__)(*args, **kwargs))
        loop = asyncio.get_running_loop()
        call = functools.partial(method, *args, **kwargs)
        return await loop.run_in_executor(self._store.executor(), call)

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
        materialized = list(messages)  # iterate the caller's iterable on the loop thread
        return await self._call(
            self._store.save_session,
            session_id,
            materialized,
            tags=tags,
            description=description,
            project=project,
            forked_from=forked_from,
        )

    async def append_messages(
        self,
        session_id: str,
        messages: Iterable[Any],
        *,
        project_key: str | None = None,
        subpath: str | None = None,
    ) -> SessionMetadata:
        materialized = list(messages)
        return await self._call(
            self._store.append_messages,
            session_id,
            materialized,
            project_key=project_key,
            subpath=subpath,
        )

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
        materialized = list(messages)
        return await self._call(
            self._store.record_run,
            session_id,
            materialized,
            tags=tags,
            description=description,
            forked_from=forked_from,
            project_key=project_key,
        )

    async def load_session(self, session_id: str) -> SessionData:
        return await self._call(self._store.load_session, session_id)

    async def get_session(self, session_id: str) -> SessionData | None:
        return await self._call(self._store.get_session, session_id)

    async def get_metadata(self, session_id: str) -> SessionMetadata | None:
        return await self._call(self._store.get_metadata, session_id)

    async def list_sessions(
        self,
        limit: int | None = None,
        offset: int = 0,
        *,
        project: str | None = None,
        tag: str | None = None,
    ) -> list[SessionMetadata]:
        return await self._call(self._store.list_sessions, limit, offset, project=project, tag=tag)

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
        """Same criteria as :meth:`SessionStore.search`."""
        return await self._call(
            self._store.search,
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

    async def resolve_id(self, prefix: str) -> str:
        return await self._call(self._store.resolve_id, prefix)

    async def delete_session(self, session_id: str) -> bool:
        return await self._call(self._store.delete_session, session_id)

    async def add_tags(self, session_id: str, tags: Iterable[str] | str) -> SessionMetadata:
        return await self._call(self._store.add_tags, session_id, tags)

    async def remove_tags(self, session_id: str, tags: Iterable[str] | str) -> SessionMetadata:
        return await self._call(self._store.remove_tags, session_id, tags)

    async def set_description(self, session_id: str, description: str | None) -> SessionMetadata:
        return await self._call(self._store.set_description, session_id, description)

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
        if dry_run:
            return await self._call(self._store.cleanup_old_sessions, max_age_days, dry_run=True)
        return await self._call(self._store.cleanup_old_sessions, max_age_days)

    def sdk_store(self) -> SDKSessionStore:
        return self._store.sdk_store()

    async def close(self) -> None:
        if self._native is not None:
            await self._native.close()
        # close() joins the pool, so it must not run on the pool itself.
        await asyncio.to_thread(self._store.close)

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
