"""The store's decisions, shared by ``SessionStore``, ``AsyncSessionStore`` and both databases.

Every public operation is a method here that checks its arguments (bad
input raises before any I/O) and returns a :data:`~.plan.Plan`: which
transactions to run, in order. The faces (:mod:`.session_store`) only hand
plans to their driver. Automatic cleanup is decided here too: at most once a
day per database, sessions not updated for ``cleanup_after_days`` move to the
trash (never deleted outright), and the trash is emptied of what it held for
longer than ``trash_days``. It never runs on a store opened read-only.
"""

from __future__ import annotations

import importlib
import itertools
import logging
import math
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from datetime import date, datetime, timezone
from functools import partial
from typing import TYPE_CHECKING, Any, Literal, TypeVar, overload

from claude_sessions.model.entries import as_entry, keyed
from claude_sessions.model.exceptions import (
    AmbiguousSessionIdError,
    InvalidInputError,
    InvalidQueryError,
    SessionNotFoundError,
    StoreError,
)
from claude_sessions.model.filters import SessionFilter, moment_bound
from claude_sessions.model.identity import current_identity
from claude_sessions.model.ids import validate_session_id
from claude_sessions.model.message import Message
from claude_sessions.model.user_fields import normalize_tags, user_text
from claude_sessions.store import reads
from claude_sessions.store.cleanup_policy import (
    CLEANUP_ENV_VAR,
    DEFAULT_CLEANUP_DAYS,
    DEFAULT_TRASH_DAYS,
    FROM_ENVIRONMENT,
    IMPORTED_TAG,
    PROTECTED_TAGS,
    TRASH_ENV_VAR,
    Days,
    check_days,
    days_from_environment,
)
from claude_sessions.store.criteria import (
    PERIODS,
    Cursor,
    build_criteria,
    check_grouping,
    hour_key,
    period_key,
    session_filter,
)
from claude_sessions.store.dialect import Dialect, Found, usage_group
from claude_sessions.store.plan import Plan, Txn, single
from claude_sessions.store.records import (
    SUM_COLUMNS,
    ApiRequest,
    RestoreReport,
    SessionData,
    SessionMetadata,
    SessionPage,
    UsageBucket,
)


class _Later:
    """A module imported when first used (``import_module`` holds the import lock)."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str) -> Any:
        return getattr(importlib.import_module(self._name), attribute)


if TYPE_CHECKING:
    from claude_sessions.model.identity import User
    from claude_sessions.store import access, imports, trash, writes
    from claude_sessions.store import budgets as budget_rows
else:  # the write path loads with the first write, budgets with the first budget plan
    imports = _Later("claude_sessions.store.imports")
    trash = _Later("claude_sessions.store.trash")
    writes = _Later("claude_sessions.store.writes")
    budget_rows = _Later("claude_sessions.store.budgets")
    access = _Later("claude_sessions.store.access")

log = logging.getLogger("claude_sessions.store")
T = TypeVar("T")

CLEANUP_INTERVAL_SECONDS = 24 * 60 * 60
TEXT_SEARCH_SECONDS = 0.8  # a full-text query stops here: every search answers within 1 s
AMBIGUOUS_SHOWN = 10
SHORT_ID_LENGTH = 8  # a session id shown short is never shorter (as git shows commits)


def utcnow() -> datetime:
    """The store's default clock (tests inject their own ``clock``)."""
    return datetime.now(timezone.utc)


def _subpath(subpath: Any) -> str:
    if subpath is None:
        return ""
    if not isinstance(subpath, str) or "\x00" in subpath:
        raise InvalidInputError(f"invalid subpath {subpath!r}")
    return subpath


def _description(description: Any) -> str | None:
    if description is not None and not isinstance(description, str):
        raise TypeError("description must be a string or None")
    return user_text(description, "a description")


def project_key(directory: str | None, entries: Iterable[Mapping[str, Any]] = ()) -> str:
    """The official SDK's project key for a session's directory ('' when unknown).

    ``project_key_for_directory`` is the SDK's public helper (realpath + NFC +
    the CLI's sanitising), so a session saved here and later mirrored by the
    SDK's ``session_store`` option land in the same row. Imported lazily:
    importing the SDK costs most of a second, and only writes need it.
    """
    if directory is None:
        directory = next(
            (e["cwd"] for e in entries if isinstance(e.get("cwd"), str) and e["cwd"]), None
        )
    if not directory:
        return ""
    from claude_agent_sdk import project_key_for_directory

    return project_key_for_directory(directory)


def _session_data(found: tuple[Any, list[dict[str, Any]]] | None) -> SessionData | None:
    if found is None:
        return None
    row, entries = found
    return SessionData(row.metadata.session_id, [Message(entry) for entry in entries], row.metadata)


class StoreCore:
    """Configuration and plans of one store (see the module docstring).

    ``read_only``: no writes, no automatic cleanup. ``clock``: a callable
    returning an aware ``datetime``, for tests.
    """

    def __init__(
        self,
        dialect: Dialect,
        *,
        cleanup_after_days: Days = FROM_ENVIRONMENT,
        trash_days: Days = FROM_ENVIRONMENT,
        protected_tags: Iterable[str] = PROTECTED_TAGS,
        clock: Callable[[], datetime] | None = None,
        read_only: bool = False,
    ) -> None:
        if cleanup_after_days is FROM_ENVIRONMENT:
            cleanup_after_days = days_from_environment(CLEANUP_ENV_VAR, DEFAULT_CLEANUP_DAYS)
        if trash_days is FROM_ENVIRONMENT:
            trash_days = days_from_environment(TRASH_ENV_VAR, DEFAULT_TRASH_DAYS)
        self.d = dialect
        self.cleanup_after_days = check_days(cleanup_after_days, "cleanup_after_days")
        self.trash_days = check_days(trash_days, "trash_days")
        self.protected_tags = tuple(normalize_tags(protected_tags))
        self.read_only = read_only
        self._clock = clock or utcnow
        self._next_cleanup_check = -math.inf
        self.viewer: User | None = None  # who reads: see store.visibility.seen_by

    def now(self) -> float:
        moment = self._clock()
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        return moment.timestamp()

    def _write(
        self, make: Callable[[], Any], *, repeatable: bool = True, counted: bool = True
    ) -> Txn[Any]:
        """A write transaction; ``counted`` ones move the write counter :meth:`version`
        reads (every write a reader could see: only a job's claim is not)."""
        if not counted:
            return Txn(make, write=True, repeatable=repeatable)
        d = self.d
        return Txn(lambda: writes.counted(d, make()), write=True, repeatable=repeatable)

    # -- automatic cleanup --------------------------------------------------------------

    def opened(self) -> Plan[None]:
        """What opening a store runs: the automatic cleanup, when due."""
        yield from self.auto_cleanup()

    def auto_cleanup(self) -> Plan[None]:
        """Move expired sessions to the trash and empty old trash, each at most once a day.

        Never fatal: a store that turns out not to be writable, or is busy, skips it.
        """
        days, keep = self.cleanup_after_days, self.trash_days
        if self.read_only or (days is None and keep is None):
            return
        now = self.now()
        if now < self._next_cleanup_check:
            return
        # Look at the database again in an hour at the earliest: another process
        # may have run the daily cleanup meanwhile.
        self._next_cleanup_check = now + 3600
        try:
            if days is not None and (yield from self._claim("last_cleanup", now)):
                moved = yield from self._trash_expired(now - days * 86400, now, "expired")
                if moved:
                    log.info(
                        "moved %d sessions not updated for %g days to the trash; "
                        "`claude-sessions trash list` shows them",
                        moved,
                        days,
                    )
            if keep is not None and (yield from self._claim("last_trash_emptying", now)):
                emptied = yield from self._empty_trash(now - keep * 86400)
                if emptied:
                    log.info(
                        "deleted %d sessions that were in the trash for more than %g days",
                        emptied,
                        keep,
                    )
        except StoreError as error:
            log.warning("automatic cleanup skipped: %s", error)

    def _claim(self, name: str, now: float) -> Plan[bool]:
        """Whether the daily job ``name`` is due here and now (and then: it is ours)."""
        d, interval = self.d, CLEANUP_INTERVAL_SECONDS
        # The usual answer, without taking the write lock:
        if not (yield Txn(lambda: writes.claim(d, name, now, interval, take=False))):
            return False
        claimed: bool = yield self._write(
            lambda: writes.claim(d, name, now, interval, take=True), counted=False
        )
        return claimed

    def _trash_expired(self, cutoff: float, now: float, reason: str) -> Plan[int]:
        total = 0
        while True:
            moved: int = yield self._write(
                lambda: trash.trash_expired_batch(self.d, cutoff, self.protected_tags, now, reason)
            )
            total += moved
            if moved < trash.CLEANUP_BATCH:
                return total

    def _empty_trash(self, cutoff: float | None) -> Plan[int]:
        total = 0
        while True:
            deleted: int = yield self._write(lambda: trash.empty_trash_batch(self.d, cutoff))
            total += deleted
            if deleted < trash.CLEANUP_BATCH:
                return total

    def _then_cleanup(self, result: T) -> Plan[T]:
        yield from self.auto_cleanup()
        return result

    # -- writing ------------------------------------------------------------------------

    def save_session(
        self,
        session_id: str,
        messages: Iterable[Any],
        *,
        tags: Iterable[str] | None = None,
        description: str | None = None,
        project: str | os.PathLike[str] | None = None,
        forked_from: str | None = None,
    ) -> Plan[SessionMetadata]:
        validate_session_id(session_id)
        if forked_from is not None:
            validate_session_id(forked_from)
        entries = [as_entry(m) for m in messages]
        directory = user_text(os.fspath(project) if project is not None else None, "a project")
        new = writes.NewTranscript(
            session_id=session_id,
            batch=keyed(entries),
            project_key=project_key(directory, entries),
            project=directory,
            tags=normalize_tags(tags),
            description=_description(description),
            forked_from=forked_from,
        )
        now = self.now()
        saved: SessionMetadata = yield self._write(
            lambda: writes.save(self.d, new, now, current_identity)
        )
        return (yield from self._then_cleanup(saved))

    def append_messages(
        self,
        session_id: str,
        messages: Iterable[Any],
        *,
        project_key: str | None = None,
        subpath: str | None = None,
    ) -> Plan[SessionMetadata]:
        validate_session_id(session_id)
        user_text(project_key, "a project key")
        entries = [as_entry(m) for m in messages]
        batch = keyed(entries)
        where = _subpath(subpath)
        new_key = project_key if project_key is not None else _key_of(entries)
        now = self.now()
        appended: SessionMetadata = yield self._write(
            lambda: writes.append(
                self.d,
                session_id,
                batch,
                project_key=project_key,
                new_key=new_key,
                subpath=where,
                now=now,
                who=current_identity,
            ),
            repeatable=all(key is not None for key, _, _ in batch),
        )
        return (yield from self._then_cleanup(appended))

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
    ) -> Plan[SessionMetadata]:
        validate_session_id(session_id)
        if forked_from is not None:
            validate_session_id(forked_from)
        user_text(project_key, "a project key")
        user_text(forked_at, "a fork's message id")
        entries = [as_entry(m) for m in messages]
        new = writes.NewTranscript(
            session_id=session_id,
            batch=keyed(entries),
            project_key=project_key if project_key is not None else _key_of(entries),
            tags=normalize_tags(tags),
            description=_description(description),
            forked_from=forked_from,
            forked_at=forked_at,
        )
        now = self.now()
        recorded: SessionMetadata = yield self._write(
            lambda: writes.record_run(
                self.d, new, now, lookup_key=project_key, who=current_identity
            ),
            repeatable=all(key is not None for key, _, _ in new.batch),
        )
        return (yield from self._then_cleanup(recorded))

    def update(
        self,
        session_id: str,
        *,
        add_tags: Iterable[str] | str = (),
        remove_tags: Iterable[str] | str = (),
        describe: bool = False,
        description: str | None = None,
    ) -> Plan[SessionMetadata]:
        validate_session_id(session_id)
        added, removed = normalize_tags(add_tags), normalize_tags(remove_tags)
        text = _description(description)
        yield from access.may_change(self, session_id)
        now = self.now()
        updated = yield self._write(
            lambda: writes.update(
                self.d,
                session_id,
                add_tags=added,
                remove_tags=removed,
                describe=describe,
                description=text,
                now=now,
            )
        )
        if updated is None:
            raise SessionNotFoundError(session_id)
        yield from access.audit_update(self, session_id, added, removed, describe)
        return updated  # type: ignore[no-any-return]

    # -- the trash ----------------------------------------------------------------------

    def trash_session(self, session_id: str) -> Plan[bool]:
        validate_session_id(session_id)
        yield from access.may_change(self, session_id)
        now = self.now()
        moved = yield self._write(
            lambda: trash.trash(self.d, session_id, project_key=None, now=now, reason="deleted")
        )
        if moved:
            yield from access.audit(self, "trash", session_id)
        return bool(moved)

    def purge_session(self, session_id: str) -> Plan[bool]:
        validate_session_id(session_id)
        yield from access.may_change(self, session_id)
        deleted = yield self._write(lambda: trash.purge(self.d, session_id, trashed=False))
        if deleted:
            yield from access.audit(self, "delete", session_id)
        return bool(deleted)

    def restore_session(self, session_id: str) -> Plan[SessionMetadata]:
        validate_session_id(session_id)
        yield from access.may_change(self, session_id, trashed=True)
        now = self.now()
        restored = yield self._write(lambda: trash.restore(self.d, session_id, now))
        if restored is None:
            raise SessionNotFoundError(session_id, f"no session {session_id} in the trash")
        yield from access.audit(self, "restore", session_id)
        return restored  # type: ignore[no-any-return]

    def restore_sessions(
        self, *, since: date | datetime | None = None, tags: Iterable[str] | str | None = None
    ) -> Plan[RestoreReport]:
        """Restore every session in the trash (trashed at or after ``since``, with any of
        ``tags``) as ``restore_session`` would, in batches: each batch commits on its own,
        and an id a live session holds stays in the trash, reported, not fatal."""
        access.admin_only(self, "restore the whole trash")
        wanted = SessionFilter(
            after=since, tags=[tags] if isinstance(tags, str) else list(tags or ())
        )
        trashed_since = moment_bound(wanted.after, end_of_day=False) if wanted.after else None
        now = self.now()
        restored = 0
        conflicts: list[str] = []
        after: str | None = None  # the last session id a batch looked at
        while True:
            batch: trash.RestoredBatch = yield self._write(
                # partial, not a lambda: each batch keeps the ``after`` it began with
                partial(trash.restore_batch, self.d, after, trashed_since, wanted.tags, now)
            )
            restored += batch.restored
            conflicts.extend(batch.conflicts)
            if batch.last is None:
                return RestoreReport(restored, tuple(conflicts))
            after = batch.last

    def empty_trash(
        self, older_than_days: float | None = None, *, session_id: str | None = None
    ) -> Plan[int]:
        access.admin_only(self, "empty the trash")
        if session_id is not None:
            validate_session_id(session_id)
            deleted = yield self._write(lambda: trash.purge(self.d, session_id, trashed=True))
            return int(deleted)
        days = check_days(older_than_days, "older_than_days")
        cutoff = None if days is None else self.now() - days * 86400
        return (yield from self._empty_trash(cutoff))

    @overload
    def cleanup_old_sessions(
        self, max_age_days: float | None, *, dry_run: Literal[False]
    ) -> Plan[int]: ...

    @overload
    def cleanup_old_sessions(
        self, max_age_days: float | None, *, dry_run: Literal[True]
    ) -> Plan[list[SessionMetadata]]: ...

    @overload
    def cleanup_old_sessions(
        self, max_age_days: float | None, *, dry_run: bool
    ) -> Plan[int | list[SessionMetadata]]: ...

    def cleanup_old_sessions(
        self, max_age_days: float | None, *, dry_run: bool
    ) -> Plan[int | list[SessionMetadata]]:
        if not dry_run:
            access.admin_only(self, "clean up old sessions")
        days = check_days(max_age_days, "max_age_days")
        if days is None:
            days = self.cleanup_after_days
        if days is None:
            days = DEFAULT_CLEANUP_DAYS
        now = self.now()
        cutoff = now - days * 86400
        if dry_run:
            doomed: list[SessionMetadata] = yield Txn(
                lambda: trash.expired(self.d, cutoff, self.protected_tags)
            )
            return doomed
        return (yield from self._trash_expired(cutoff, now, "cleanup"))

    # -- reading ------------------------------------------------------------------------

    def get_session(self, session_id: str, *, subagents: bool = False) -> Plan[SessionData | None]:
        validate_session_id(session_id)
        found = yield Txn(lambda: reads.load(self.d, session_id))
        if found is not None and not self._sees(found[0].metadata):
            found = None
        data = _session_data(found)
        if data is not None:
            shown = yield from access.hide_parents(self, [data.metadata])
            data = replace(data, metadata=shown[0])
        if data is None or not subagents:
            return data
        ref = found[0].ref
        agents = yield Txn(lambda: reads.load_subagents(self.d, ref))
        return SessionData(
            data.session_id,
            data.messages,
            data.metadata,
            {path: [Message(e) for e in entries] for path, entries in agents.items()},
        )

    def load_session(self, session_id: str, *, subagents: bool = False) -> Plan[SessionData]:
        found = yield from self.get_session(session_id, subagents=subagents)
        if found is None:
            raise SessionNotFoundError(session_id)
        return found

    def get_metadata(self, session_id: str) -> Plan[SessionMetadata | None]:
        validate_session_id(session_id)
        row = yield Txn(lambda: reads.find_live(self.d, session_id, None))
        if row is None or not self._sees(row.metadata):
            return None
        shown = yield from access.hide_parents(self, [row.metadata])
        return shown[0]

    def _sees(self, metadata: SessionMetadata) -> bool:
        return self.viewer is None or access.may_see(self.viewer, metadata.user, metadata.shared)

    def search_page(
        self,
        where: SessionFilter | None = None,
        *,
        limit: Any = None,
        offset: Any = 0,
        cursor: Any = None,
        order: Any = "updated",
        trashed: bool = False,
        **criteria: Any,
    ) -> Plan[SessionPage]:
        """One page of :meth:`search` results and the cursor of the next page."""
        checked = build_criteria(
            session_filter(where, criteria),
            limit=limit,
            offset=offset,
            cursor=cursor,
            order=order,
            trashed=trashed,
        )
        if self.viewer is not None:
            checked = replace(checked, visible_to=access.limited_to(self.viewer))
        time_limit = TEXT_SEARCH_SECONDS if checked.text is not None else None
        found: list[Found] = yield Txn(lambda: self.d.search(checked), time_limit=time_limit)
        next_cursor = None
        if checked.limit and len(found) == checked.limit and not checked.by_cost:
            last = found[-1]
            next_cursor = Cursor(checked.text is not None, last.sort, last.ref).encode()
        shown = yield from access.hide_parents(self, [hit.metadata for hit in found])
        return SessionPage(shown, next_cursor, any(hit.newest_first for hit in found))

    def search(
        self, where: SessionFilter | None = None, **arguments: Any
    ) -> Plan[list[SessionMetadata]]:
        page = yield from self.search_page(where, **arguments)
        return page.sessions

    def usage(
        self, by: Any = (), where: SessionFilter | None = None, **criteria: Any
    ) -> Plan[list[UsageBucket]]:
        groups = check_grouping(by)
        checked = build_criteria(session_filter(where, criteria))
        if checked.text is not None:
            raise InvalidQueryError("usage cannot be narrowed by text; use the other criteria")
        # Periods are counted by day in SQL (integer arithmetic, one index scan) and
        # rolled up into weeks and months here; tags come as whole sets, split here.
        sql_name = {"day": "day", "week": "day", "month": "day", "tag": "tags"}
        asked = tuple(dict.fromkeys(sql_name.get(g, g) for g in groups))
        rows = yield Txn(lambda: self.d.usage(checked, asked))
        totals: dict[tuple[str, ...], list[Any]] = {}
        periods: dict[tuple[str, int], str] = {}  # a day's week or month, found once
        for row in rows:
            found = {name: usage_group(row, name) for name in asked}
            choices: list[Iterable[str]] = []
            for g in groups:
                if g in PERIODS:
                    day = int(found["day"])
                    if (g, day) not in periods:
                        periods[g, day] = period_key(g, day)
                    choices.append([periods[g, day]])
                elif g == "hour":
                    choices.append([hour_key(int(found["hour"]))])
                elif g == "tag":
                    choices.append(self.d.tags(found["tags"]) or ["(none)"])
                else:
                    choices.append([str(found[g])])
            values = [row[name] for name in SUM_COLUMNS]
            for key in itertools.product(*choices):
                sums = totals.get(key)
                if sums is None:
                    totals[key] = list(values)
                else:
                    for position, value in enumerate(values):
                        sums[position] += value
        return [
            UsageBucket(
                key,
                int(a),
                int(b),
                int(c),
                round(float(d), 10),
                int(e),
                int(f),
                int(g),
                int(h),
                int(i),
                int(j),
                int(k),
            )
            for key, (a, b, c, d, e, f, g, h, i, j, k) in totals.items()
        ]

    def api_requests(
        self,
        where: SessionFilter | None,
        *,
        since: float | None = None,
        until: float | None = None,
        newest_first: bool = False,
        limit: int | None = None,
    ) -> Plan[list[ApiRequest]]:
        chosen = session_filter(where, {})
        if chosen.text is not None:
            raise InvalidQueryError("requests cannot be narrowed by text; use the other criteria")
        from claude_sessions.store import request_reads  # reports by request time only

        found: list[ApiRequest] = yield Txn(
            lambda: request_reads.api_requests(
                self.d,
                chosen,
                since=since,
                until=until,
                newest_first=newest_first,
                limit=limit,
            )
        )
        return found

    def spend(self, since: float, until: float | None = None) -> Plan[float]:
        """What the live sessions spent from ``since`` until before ``until`` (epoch
        seconds; ``None``: on), by the requests' own times (see request_reads.spend)."""
        from claude_sessions.store import request_reads  # reports by request time only

        found: float = yield Txn(lambda: request_reads.spend(self.d, since, until))
        return found

    def week_hours(self, where: SessionFilter | None = None) -> Plan[dict[str, int]]:
        """How many of the live sessions ``where`` selects were created in each hour of
        the week (keys as ``usage("hour")`` gives them): from the sums by hour when the
        filter is whole-hour creation bounds at most, else as ``usage("hour")`` counts."""
        from claude_sessions.store import hour_rollups  # the usage page's grid only

        chosen = session_filter(where, {})
        summed = hour_rollups.week_hours_sql(chosen) if self.viewer is None else None
        if summed is None:
            buckets = yield from self.usage("hour", chosen)
            return {bucket.key[0]: bucket.sessions for bucket in buckets}
        sql, params = summed
        rows = yield Txn(lambda: hour_rollups.rows(self.d, sql, params))
        return {hour_key(int(row["hour"])): int(row["sessions"]) for row in rows if row["sessions"]}

    def version(self) -> Plan[str]:
        return single(Txn(lambda: writes.version(self.d)))

    # -- budgets -------------------------------------------------------------------------

    def budgets(self) -> Plan[budget_rows.Budgets]:
        return single(Txn(lambda: budget_rows.read_budgets(self.d)))

    def set_budgets(self, limits: budget_rows.Budgets) -> Plan[budget_rows.Budgets]:
        """Set the budgets ``limits`` names (the others stay); returns them all."""
        return single(self._write(lambda: budget_rows.write_budgets(self.d, limits)))

    def clear_budgets(self) -> Plan[int]:
        return single(self._write(lambda: budget_rows.clear_budgets(self.d)))

    def resolve_id(self, prefix: str, *, trashed: bool = False) -> Plan[str]:
        validate_session_id(prefix)
        limit = access.limited_to(self.viewer)
        found = yield Txn(
            lambda: reads.find_ids(
                self.d, prefix, AMBIGUOUS_SHOWN + 1, trashed=trashed, visible_to=limit
            )
        )
        if not found:
            where = "in the trash" if trashed else "stored"
            raise SessionNotFoundError(prefix, f"no session id {where} starts with {prefix!r}")
        if len(found) > 1:
            raise AmbiguousSessionIdError(prefix, found[:AMBIGUOUS_SHOWN])
        return found[0]  # type: ignore[no-any-return]

    def unique_prefixes(
        self, session_ids: Iterable[str], *, shortest: int = SHORT_ID_LENGTH, trashed: bool = False
    ) -> Plan[dict[str, str]]:
        ids = list(dict.fromkeys(session_ids))
        if shortest < 1:
            raise InvalidInputError(f"a prefix has at least one character, not {shortest}")
        limit = access.limited_to(self.viewer)
        found = yield Txn(
            lambda: reads.unique_prefixes(self.d, ids, shortest, trashed=trashed, visible_to=limit)
        )
        return found  # type: ignore[no-any-return]

    # -- the official SDK protocol -------------------------------------------------------

    def sdk_load(
        self, session_id: str, project_key: str, subpath: str
    ) -> Plan[list[dict[str, Any]] | None]:
        validate_session_id(session_id)
        found = yield Txn(
            lambda: reads.load(self.d, session_id, project_key=project_key, subpath=subpath)
        )
        if found is None or not found[1]:
            return None
        return found[1]  # type: ignore[no-any-return]

    def sdk_delete(self, session_id: str, project_key: str, subpath: str) -> Plan[None]:
        validate_session_id(session_id)
        now = self.now()
        if subpath:
            yield self._write(
                lambda: writes.delete_subpath(self.d, session_id, project_key, subpath)
            )
        else:
            yield self._write(
                lambda: trash.trash(
                    self.d, session_id, project_key=project_key, now=now, reason="deleted"
                )
            )

    # -- importing transcript files --------------------------------------------------------

    def file_state(self, source: str) -> Plan[imports.FileState | None]:
        return single(Txn(lambda: imports.file_state(self.d, source)))

    def file_standing(
        self, session_id: str, project_key: str, source: str
    ) -> Plan[tuple[str, imports.FileState | None]]:
        """Where an import of a file stands: its session's state (``live``, ``trashed`` or
        ``absent``) and how far the file was read."""
        validate_session_id(session_id)
        return single(Txn(lambda: imports.file_standing(self.d, session_id, project_key, source)))

    def import_batches(self, batches: list[imports.FileBatch]) -> Plan[list[imports.Landed]]:
        """Store batches of transcript files' lines, and where each file now stands, in
        one transaction (several small files commit together)."""
        where = []
        for batch in batches:
            validate_session_id(batch.session_id)
            where.append(batch._replace(subpath=_subpath(batch.subpath)))
        now = self.now()
        return single(
            self._write(
                lambda: imports.import_batches(
                    self.d, where, tag=IMPORTED_TAG, now=now, who=current_identity
                )
            )
        )

    def project_sessions(self, key: str) -> Plan[list[reads.ProjectSession]]:
        return single(Txn(lambda: reads.project_sessions(self.d, key)))

    def subkeys(self, key: str, session_id: str) -> Plan[list[str]]:
        validate_session_id(session_id)
        return single(Txn(lambda: reads.subkeys(self.d, key, session_id)))


def _key_of(entries: list[dict[str, Any]]) -> str:
    return project_key(None, entries)
