"""The public faces: ``SessionStore`` (blocking), and ``AsyncSessionStore`` (coroutines,
in :mod:`.async_session_store`).

Both are thin: every method asks the shared :class:`~.core.StoreCore` for a
plan and hands it to the face's driver. ``SessionStore`` runs plans on a
blocking driver; ``AsyncSessionStore`` on a coroutine one. Neither holds SQL.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from datetime import date, datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar, Literal, TypeVar, overload

from claude_sessions.model.exceptions import StoreError
from claude_sessions.store.cleanup_policy import FROM_ENVIRONMENT, PROTECTED_TAGS, Days
from claude_sessions.store.core import SHORT_ID_LENGTH, StoreCore
from claude_sessions.store.drivers import open_driver
from claude_sessions.store.location import default_location, is_server_location
from claude_sessions.store.plan import (
    Driver,
    Plan,
    ThreadedDriver,
    arun_plan,
    run_plan,
)
from claude_sessions.store.records import (
    ApiRequest,
    RestoreReport,
    SessionData,
    SessionMetadata,
    SessionPage,
    UsageBucket,
)

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from claude_sessions.model.filters import FilterArgs
    from claude_sessions.store.sdk_adapter import SDKSessionStore

from claude_sessions.model.filters import SessionFilter

Location = str | os.PathLike[str]
T = TypeVar("T")


def _location_key(location: Location | None) -> str:
    text = os.fspath(location) if location is not None else default_location()
    if is_server_location(text):
        return text
    return os.path.abspath(os.path.expanduser(text))


class SessionStore:
    """Saved sessions in a searchable database (SQLite by default).

    ``location`` is a directory (the database is ``sessions.db`` inside), a
    ``.db`` file, ``sqlite:///abs/path.db``, ``postgresql://...`` or a libpq
    ``host=... dbname=...`` string; by default ``$CLAUDE_SESSIONS_STORE`` or
    ``~/.claude_sdk/sessions``.

    Automatic cleanup, at most once a day per database when a store opens or
    saves: sessions whose ``updated_at`` is older than ``cleanup_after_days``
    move to the trash (``None`` disables this; by default
    ``$CLAUDE_SESSIONS_CLEANUP_DAYS``, a number or ``never``, else 30), and
    the trash forgets what it held for longer than ``trash_days`` (by default
    ``$CLAUDE_SESSIONS_TRASH_DAYS``, else 30). Sessions tagged with one of
    ``protected_tags`` (``keep``, and ``imported`` on sessions imported from
    Claude Code) are never cleaned up. ``read_only=True`` opens for reading
    only (a store this user may not write opens so by itself); it never
    cleans up. ``busy_timeout`` (seconds, default 30) bounds how long a write
    waits for another writer. ``clock`` (a callable returning an aware
    ``datetime``) replaces the wall clock, for tests.
    """

    _defaults: ClassVar[dict[str, SessionStore]] = {}
    _defaults_lock: ClassVar[threading.Lock] = threading.Lock()

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
    ) -> None:
        self._closed = True
        driver, dialect = open_driver(
            location if location is not None else default_location(),
            read_only=read_only,
            busy_timeout=busy_timeout,
        )
        self._driver: Driver = driver
        self._closed = False
        try:
            self._core = StoreCore(
                dialect,
                cleanup_after_days=cleanup_after_days,
                trash_days=trash_days,
                protected_tags=protected_tags,
                clock=clock,
                read_only=driver.read_only,
            )
            self._run(self._core.opened())
        except BaseException:
            self.close()
            raise

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

    def _run(self, plan: Plan[T]) -> T:
        if self._closed:
            raise StoreError(f"the session store at {self.location} is closed")
        return run_plan(self._driver.transact, plan)

    # -- plumbing ----------------------------------------------------------------------

    @property
    def location(self) -> str:
        """Where the sessions live: a file path, or a URL with its password masked."""
        return self._driver.location

    @property
    def read_only(self) -> bool:
        return self._driver.read_only

    @property
    def cleanup_after_days(self) -> float | None:
        return self._core.cleanup_after_days

    @property
    def trash_days(self) -> float | None:
        return self._core.trash_days

    @property
    def protected_tags(self) -> tuple[str, ...]:
        return self._core.protected_tags

    @property
    def core(self) -> StoreCore:
        """The plans behind every method, for code that runs them elsewhere (the importer)."""
        return self._core

    def run(self, plan: Plan[T]) -> T:
        """Run a plan of :attr:`core` on this store's database."""
        return self._run(plan)

    def bulk_writes(self) -> AbstractContextManager[None]:
        """A block of many large writes from this thread (an import): SQLite
        checkpoints its log in a thread of its own meanwhile."""
        return self._driver.bulk_writes()

    def watch_changes(self, on_change: Callable[[], None]) -> Callable[[], None] | None:
        """Call ``on_change`` (from another thread) whenever a write commits, made by
        this process or any other, and return what stops it. ``None`` when the
        database cannot tell (SQLite): then poll :meth:`version`."""
        return self._driver.watch_changes(on_change)

    def scrub(self) -> bool:
        """Erase from the files what writes removed (see ``secrets redact``)."""
        return self._driver.scrub()

    def close(self) -> None:
        """Close the database connections (idempotent)."""
        if self._closed:
            return
        self._closed = True
        self._driver.close()

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

    # -- writing -----------------------------------------------------------------------

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
        Messages JSON cannot hold exactly (NaN, infinities, nesting deeper
        than 255 levels, non-JSON values) raise :class:`InvalidMessageError`.
        """
        return self._run(
            self._core.save_session(
                session_id,
                list(messages),
                tags=tags,
                description=description,
                project=project,
                forked_from=forked_from,
            )
        )

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
        return self._run(
            self._core.append_messages(
                session_id, list(messages), project_key=project_key, subpath=subpath
            )
        )

    def record_run(
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
        """Record one completed run (what ``query(..., store=...)`` calls).

        A new session is saved; a stored one gets the run's messages
        appended (entries with a known ``uuid`` are upserted), so earlier
        runs stay. ``tags`` are added and ``description`` set when given.
        Both happen in one transaction: concurrent runs of one new session
        all land.
        """
        return self._run(
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

    def add_tags(self, session_id: str, tags: Iterable[str] | str) -> SessionMetadata:
        return self._run(self._core.update(session_id, add_tags=tags))

    def remove_tags(self, session_id: str, tags: Iterable[str] | str) -> SessionMetadata:
        return self._run(self._core.update(session_id, remove_tags=tags))

    def set_description(self, session_id: str, description: str | None) -> SessionMetadata:
        return self._run(self._core.update(session_id, describe=True, description=description))

    # -- deleting and the trash ---------------------------------------------------------

    def delete_session(self, session_id: str, *, purge: bool = False) -> bool:
        """Move a session (under every project key) to the trash; ``False`` if there was none.

        ``purge=True`` deletes it at once, for good.
        """
        if purge:
            return self._run(self._core.purge_session(session_id))
        return self._run(self._core.trash_session(session_id))

    def trash_session(self, session_id: str) -> bool:
        """Move a session to the trash (what ``delete_session`` does by default)."""
        return self._run(self._core.trash_session(session_id))

    def restore_session(self, session_id: str) -> SessionMetadata:
        """Bring a session back from the trash, whole; raises
        :class:`SessionNotFoundError` (not in the trash) or
        :class:`SessionConflictError` (a live session, under any project key, took
        its id meanwhile). A session id names at most one live session: of the
        copies one delete took under several project keys, the one updated last
        comes back and the others stay in the trash."""
        return self._run(self._core.restore_session(session_id))

    def restore_sessions(
        self, *, since: date | datetime | None = None, tags: Iterable[str] | str | None = None
    ) -> RestoreReport:
        """Bring back everything in the trash, or what was trashed at or after ``since``
        (a date or datetime; naive means UTC) with any of ``tags``, each id as
        :meth:`restore_session` would. It runs in batches, each its own transaction; an id
        a live session holds stays in the trash and is listed in the report's
        ``conflicts`` instead of stopping the run."""
        return self._run(self._core.restore_sessions(since=since, tags=tags))

    def list_trash(self, limit: int | None = None, offset: int = 0) -> list[SessionMetadata]:
        """Sessions in the trash, most recently trashed first (``trashed_at`` set)."""
        return self._run(self._core.search(trashed=True, limit=limit, offset=offset))

    def empty_trash(
        self, older_than_days: float | None = None, *, session_id: str | None = None
    ) -> int:
        """Delete for good what the trash holds (trashed more than ``older_than_days`` ago,
        or only ``session_id``); returns how many sessions went."""
        return self._run(self._core.empty_trash(older_than_days, session_id=session_id))

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
        """Move sessions not updated for ``max_age_days`` days to the trash; return how many.

        ``max_age_days=None`` uses the store's ``cleanup_after_days`` (30 when
        that is ``None``). Sessions with a protected tag stay. ``dry_run=True``
        moves nothing and returns the sessions it would move.
        """
        return self._run(self._core.cleanup_old_sessions(max_age_days, dry_run=dry_run))

    # -- reading -----------------------------------------------------------------------

    def load_session(self, session_id: str, *, subagents: bool = False) -> SessionData:
        """The session's main-transcript messages and metadata (and with ``subagents``,
        its subagent transcripts); raises :class:`SessionNotFoundError`."""
        return self._run(self._core.load_session(session_id, subagents=subagents))

    def get_session(self, session_id: str, *, subagents: bool = False) -> SessionData | None:
        return self._run(self._core.get_session(session_id, subagents=subagents))

    def get_metadata(self, session_id: str) -> SessionMetadata | None:
        return self._run(self._core.get_metadata(session_id))

    def list_sessions(
        self,
        limit: int | None = None,
        offset: int = 0,
        where: SessionFilter | None = None,
        **criteria: Unpack[FilterArgs],
    ) -> list[SessionMetadata]:
        """Sessions, most recently updated first; ``where`` (a :class:`SessionFilter`) and
        keyword filters narrow them as in :meth:`search`."""
        return self._run(self._core.search(where, limit=limit, offset=offset, **criteria))

    def search(
        self,
        where: SessionFilter | None = None,
        /,
        *,
        limit: int | None = None,
        offset: int = 0,
        order: Literal["updated", "cost"] = "updated",
        **criteria: Unpack[FilterArgs],
    ) -> list[SessionMetadata]:
        """Sessions matching every given filter: ``where``, a :class:`SessionFilter`, and
        its fields as keywords (``search(tags=["auth"], after=date(2026, 1, 1))``).

        Filters combine with AND (see :class:`SessionFilter` for each one: tags,
        dates, cost, model, project, forks, text). Without ``text`` the newest
        ``updated_at`` comes first, or with ``order="cost"`` the most expensive.
        With ``text``, results are ranked best first, with ``snippet`` (matches
        marked ``[like this]``) and ``rank`` (lower is better); a text search
        answers within a second or raises :class:`QueryTooExpensiveError`. Bad
        filters raise :class:`~claude_sessions.InvalidQueryError`.
        """
        return self._run(
            self._core.search(where, limit=limit, offset=offset, order=order, **criteria)
        )

    def search_page(
        self,
        where: SessionFilter | None = None,
        /,
        *,
        limit: int = 50,
        cursor: str | None = None,
        **criteria: Unpack[FilterArgs],
    ) -> SessionPage:
        """One page of :meth:`search` (same filters), found by keyset: page 500 costs what
        page 1 costs. Pass the returned ``next_cursor`` for the next page."""
        return self._run(self._core.search_page(where, limit=limit, cursor=cursor, **criteria))

    def usage(
        self,
        by: str | Iterable[str] = (),
        where: SessionFilter | None = None,
        **criteria: Unpack[FilterArgs],
    ) -> list[UsageBucket]:
        """Sessions, turns, cost and tokens grouped ``by`` one or two of ``day``,
        ``week``, ``month``, ``hour``, ``model``, ``project``, ``tag`` (nothing: the
        totals), over the sessions the filters select (text aside, as in :meth:`search`).
        Days, weeks, months and hours are those sessions were created in (UTC); an hour
        is one of the week, keyed by weekday and hour of the day (``Mon 09``).
        """
        return self._run(self._core.usage(by, where, **criteria))

    def api_requests(
        self,
        where: SessionFilter | None = None,
        *,
        since: float | None = None,
        until: float | None = None,
        newest_first: bool = False,
        limit: int | None = None,
    ) -> list[ApiRequest]:
        """The API requests of the live sessions ``where`` selects (text aside), each
        once as its session counts it, whose time (epoch seconds) is in ``[since,
        until)``: oldest first (``newest_first``: the other way), at most ``limit``."""
        return self._run(
            self._core.api_requests(
                where, since=since, until=until, newest_first=newest_first, limit=limit
            )
        )

    def version(self) -> str:
        """A value that changes whenever a session is written, tagged, trashed or deleted."""
        return self._run(self._core.version())

    def resolve_id(self, prefix: str, *, trashed: bool = False) -> str:
        """The one stored (or, with ``trashed``, trashed) session id starting with ``prefix``
        (an exact id always wins)."""
        return self._run(self._core.resolve_id(prefix, trashed=trashed))

    def unique_prefixes(
        self, session_ids: Iterable[str], *, shortest: int = SHORT_ID_LENGTH, trashed: bool = False
    ) -> dict[str, str]:
        """Each id's shortest prefix (``shortest`` characters at least, as git shows commits)
        that :meth:`resolve_id` takes back to it: what to show where ids are shown short."""
        return self._run(
            self._core.unique_prefixes(session_ids, shortest=shortest, trashed=trashed)
        )

    def sdk_store(self) -> SDKSessionStore:
        """This store as the official ``claude_agent_sdk.types.SessionStore`` protocol.

        Pass it as ``ClaudeAgentOptions(session_store=...)``: the SDK mirrors
        transcripts into the same tables, so they show up here with metadata.
        Works under asyncio and trio (calls run in worker threads).
        """
        from claude_sessions.store.sdk_adapter import SDKSessionStore

        threaded = ThreadedDriver(self._driver)
        return SDKSessionStore(
            self._core, lambda plan: arun_plan(threaded.transact, plan), self.location
        )
