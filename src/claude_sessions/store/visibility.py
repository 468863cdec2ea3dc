"""Who sees what on a team store, who may change a session, and the audit log.

A *viewer* is a :class:`~claude_sessions.store.users.User`, or ``None``: no team rules
(a local store, the command line on your own machine). A viewer who is no admin sees
the sessions whose ``user`` is their ``session_user`` and the sessions shared with the
team; a session they may not see reads as missing. Usage totals stay team-wide.
Tagging, describing, trashing, restoring, deleting and sharing are for a session's owner
and the admins; each of these, and each export, is written to the audit log (``tag``,
``untag``, ``describe``, ``trash``, ``restore``, ``delete``, ``share``, ``unshare``,
``export``).

:func:`seen_by` gives the store as a viewer sees it: the one core every read goes
through carries the viewer, so every face (list, search, session page, lineage, live
updates, exports, MCP) gets the same rule.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from claude_sessions.model.exceptions import (
    NotAllowedError,
    SessionNotFoundError,
    UserNotFoundError,
)
from claude_sessions.model.filters import moment_bound
from claude_sessions.model.identity import USER_ENV_VAR, User
from claude_sessions.model.ids import validate_session_id
from claude_sessions.store.access import actor, append_audit, audit, may_change
from claude_sessions.store.plan import Op, Plan, Stmt, Txn, single

if TYPE_CHECKING:
    from claude_sessions.store.dialect import Dialect
    from claude_sessions.store.session_store import SessionStore


@dataclass(frozen=True)
class AuditEntry:
    """One line of the audit log: when, who, what, which session, and its detail."""

    at: datetime
    actor: str
    action: str
    session_id: str | None
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "actor": self.actor,
            "action": self.action,
            "session_id": self.session_id,
            "detail": self.detail,
        }


def seen_by(store: SessionStore, viewer: User | None) -> SessionStore:
    """``store`` as ``viewer`` sees it (``None``: the store itself). It shares the
    store's connection: close the store, not this view of it."""
    if viewer is None:
        return store
    scoped = copy.copy(store)
    core = copy.copy(store.core)
    core.viewer = viewer
    scoped._core = core
    return scoped


# -- transactions ---------------------------------------------------------------------


def _set_shared(d: Dialect, session_id: str, on: bool, now: float) -> Op[int]:
    """Share or unshare the live sessions ``session_id``; how many there were. The storage
    clock moves: a teammate's next pull (which lists what changed since) is shown it."""
    from claude_sessions.store.entry_writes import touch  # writes only: reading views skip it

    rows = yield Stmt(
        d.sql("SELECT id, project_key FROM sessions WHERE session_id = ? AND trashed_at IS NULL"),
        (d.text(session_id),),
        "all",
    )
    for row in rows:
        yield Stmt(d.sql("UPDATE sessions SET shared = ? WHERE id = ?"), (int(on), row["id"]))
        yield from touch(d, int(row["id"]), str(row["project_key"]), now)
    return len(rows)


def _set_default(d: Dialect, name: str, on: bool) -> Op[int]:
    done: int = yield Stmt(
        d.sql("UPDATE users SET share_by_default = ? WHERE name = ?"), (int(on), name), "rowcount"
    )
    return done


def _read_log(d: Dialect, since: float | None) -> Op[list[AuditEntry]]:
    where, params = ("", []) if since is None else (d.sql("WHERE at >= ?"), [d.time(since)])
    rows = yield Stmt(
        d.sql(f"SELECT at, actor, action, session_id, detail FROM audit_log {where} ORDER BY id"),
        params,
        "all",
    )
    return [
        AuditEntry(d.moment(r["at"]), r["actor"], r["action"], r["session_id"], r["detail"])
        for r in rows
    ]


# -- plans the core runs around a change ------------------------------------------------


# -- the library's functions ------------------------------------------------------------


def share_session(store: SessionStore, session_id: str, on: bool = True) -> None:
    """Share session ``session_id`` with the team (``on=False``: stop sharing it)."""
    validate_session_id(session_id)
    core = store.core

    def plan() -> Plan[None]:
        yield from may_change(core, session_id)
        now = core.now()
        done = yield Txn(lambda: _set_shared(core.d, session_id, on, now), write=True)
        if not done:
            raise SessionNotFoundError(session_id)
        yield from audit(core, "share" if on else "unshare", session_id)

    store.run(plan())


def set_share_by_default(store: SessionStore, name: str, on: bool) -> None:
    """Whether user ``name``'s new sessions start shared with the team."""
    d = store.core.d
    if not store.run(single(Txn(lambda: _set_default(d, name, on), write=True))):
        raise UserNotFoundError(f"no user named {name!r}")


def record_exports(store: SessionStore, session_ids: Iterable[str], fmt: str) -> None:
    """Write an export of each of ``session_ids`` (as ``fmt``) to the audit log, in one
    transaction (not on a store opened read-only, which takes no write)."""
    ids = list(session_ids)
    if store.read_only or not ids:
        return
    core = store.core
    at, who = core.now(), actor(core.viewer)

    def write() -> Op[None]:
        for session_id in ids:
            yield from append_audit(core.d, at, who, "export", session_id, fmt)

    store.run(single(Txn(write, write=True)))


def audit_log(store: SessionStore, since: date | datetime | None = None) -> list[AuditEntry]:
    """The audit log, oldest first (``since``: from that day or moment on); for admins
    only when the store is seen by a viewer."""
    viewer = store.core.viewer
    if viewer is not None and not viewer.admin:
        raise NotAllowedError("only an admin may read the audit log")
    start = None if since is None else moment_bound(since, end_of_day=False)
    d = store.core.d
    return store.run(single(Txn(lambda: _read_log(d, start))))


def environment_viewer(store: SessionStore) -> User | None:
    """Who the command line and the MCP server act as: the user of the store that
    ``$CLAUDE_SESSIONS_USER`` names (by name or by the user their sessions record);
    ``None`` (no team rules) when it is unset or names no user. Whoever runs them
    reaches the database itself, so this is a view, not a lock."""
    wanted = os.environ.get(USER_ENV_VAR, "").strip()
    if not wanted:
        return None
    from claude_sessions.store.users import list_users

    found = list_users(store)
    return next((u for u in found if u.name == wanted), None) or next(
        (u for u in found if u.session_user == wanted), None
    )
