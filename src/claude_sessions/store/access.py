"""The team rules the store's core applies on every read and change: what a viewer
sees, who may change a session, and the lines of the audit log (the rules themselves
are told in :mod:`claude_sessions.store.visibility`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Protocol

from claude_sessions.model.exceptions import NotAllowedError, SessionNotFoundError
from claude_sessions.model.identity import User, current_identity
from claude_sessions.store.plan import Op, Plan, Stmt, Txn

if TYPE_CHECKING:
    from claude_sessions.store.dialect import Dialect
    from claude_sessions.store.records import SessionMetadata


class Gate(Protocol):
    """What the rules need of the store's core: its dialect, its viewer and its clock."""

    d: Dialect
    viewer: User | None

    def now(self) -> float: ...


def limited_to(viewer: User | None) -> str | None:
    """The ``user`` of the sessions ``viewer`` sees besides the shared ones; ``None``:
    every session (no team rules, or an admin)."""
    return None if viewer is None or viewer.admin else viewer.session_user


def visible_condition(d: Dialect, user: str) -> tuple[str, list[Any]]:
    """The SQL condition on ``sessions s`` of what a viewer seeing ``user``'s sees."""
    return d.sql("(s.user_name = ? OR s.shared = 1)"), [d.text(user)]


def may_see(viewer: User | None, owner: str, shared: bool) -> bool:
    user = limited_to(viewer)
    return user is None or shared or owner == user


def may_edit(viewer: User | None, metadata: SessionMetadata) -> bool:
    """Whether ``viewer`` may tag, describe, trash, restore or share the session."""
    user = limited_to(viewer)
    return user is None or metadata.user == user


def actor(viewer: User | None) -> str:
    """Who the audit log names: the viewer, else this process's user."""
    return viewer.name if viewer is not None else current_identity().user


def _owner(d: Dialect, session_id: str, trashed: bool) -> Op[Mapping[str, Any] | None]:
    state = "IS NOT NULL" if trashed else "IS NULL"
    row: Mapping[str, Any] | None = yield Stmt(
        d.sql(
            f"SELECT user_name, shared FROM sessions WHERE session_id = ? AND trashed_at {state} "
            "ORDER BY updated_at DESC LIMIT 1"
        ),
        (d.text(session_id),),
        "one",
    )
    return row


def append_audit(
    d: Dialect, at: float, who: str, action: str, session_id: str | None, detail: str
) -> Op[None]:
    yield Stmt(
        d.sql(
            "INSERT INTO audit_log (at, actor, action, session_id, detail) VALUES (?, ?, ?, ?, ?)"
        ),
        (d.time(at), d.text(who), action, d.text(session_id), d.text(detail)),
    )


def may_change(core: Gate, session_id: str, *, trashed: bool = False) -> Plan[None]:
    """Refuse a change by a viewer who is not the session's owner nor an admin (a session
    they may not even see is missing: :class:`SessionNotFoundError`)."""
    viewer = core.viewer
    if limited_to(viewer) is None:
        return
    row = yield Txn(lambda: _owner(core.d, session_id, trashed))
    if row is None or not may_see(viewer, row["user_name"], bool(row["shared"])):
        raise SessionNotFoundError(session_id)
    if row["user_name"] != limited_to(viewer):
        raise NotAllowedError(
            f"only the owner of session {session_id} ({row['user_name']}) or an admin may change it"
        )


def admin_only(core: Gate, what: str) -> None:
    """Refuse what changes sessions of everyone (the whole trash, a cleanup) to a member."""
    if limited_to(core.viewer) is not None:
        raise NotAllowedError(f"only an admin may {what}")


def _visible_ids(d: Dialect, ids: list[str], user: str) -> Op[set[str]]:
    among, among_params = d.any_of("s.session_id", ids)
    seen, seen_params = visible_condition(d, user)
    rows = yield Stmt(
        d.sql(f"SELECT session_id FROM sessions s WHERE {among} AND trashed_at IS NULL AND ")
        + seen,
        [*among_params, *seen_params],
        "all",
    )
    return {row["session_id"] for row in rows}


def hide_parents(core: Gate, found: list[SessionMetadata]) -> Plan[list[SessionMetadata]]:
    """``found`` without the parent ids the viewer may not see: a visible fork of a
    hidden session reads as a fork whose parent is not stored."""
    user = limited_to(core.viewer)
    parents = sorted({m.forked_from for m in found if m.forked_from})
    if user is None or not parents:
        return found
    seen: set[str] = yield Txn(lambda: _visible_ids(core.d, parents, user))
    return [
        m
        if m.forked_from is None or m.forked_from in seen
        else replace(m, forked_from=None, forked_at=None)
        for m in found
    ]


def audit(core: Gate, action: str, session_id: str | None, detail: str = "") -> Plan[None]:
    """Write one line of the audit log (its own transaction, after the change)."""
    at, who = core.now(), actor(core.viewer)
    yield Txn(lambda: append_audit(core.d, at, who, action, session_id, detail), write=True)


def audit_update(
    core: Gate, session_id: str, added: list[str], removed: list[str], describe: bool
) -> Plan[None]:
    """The audit lines of a change of tags or description: which tags, in their detail."""
    if added:
        yield from audit(core, "tag", session_id, ", ".join(added))
    if removed:
        yield from audit(core, "untag", session_id, ", ".join(removed))
    if describe:
        yield from audit(core, "describe", session_id)
