"""The schema step that keeps who sees what (SQLite 18, PostgreSQL 14): a store from
before it gets each session's ``shared`` flag (off), each user's ``share_by_default``
(off) and an empty audit log, and its sessions keep everything else."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from claude_sessions import SessionStore
from claude_sessions.store import users, visibility

from .older_store import set_back

UNDO = (
    "DROP INDEX IF EXISTS sessions_shared",  # a later step's, on the shared flag
    "DROP TABLE audit_log",
    "ALTER TABLE sessions DROP COLUMN shared",
    "ALTER TABLE users DROP COLUMN share_by_default",
)


def _without_visibility(run: Callable[..., Any], postgres: bool) -> None:
    for statement in UNDO:
        run(statement)


def test_a_store_from_before_gets_sharing_and_the_audit_log(store_location: str) -> None:
    with SessionStore(store_location) as opened:
        opened.save_session("s1", [], tags=["kept"], description="before")
        users.add_user(opened, "alice")
    set_back(store_location, sqlite=17, postgres=13, undo=_without_visibility)
    with SessionStore(store_location) as opened:
        meta = opened.get_metadata("s1")
        assert meta is not None and not meta.shared
        assert (meta.tags, meta.description) == (("kept",), "before")
        assert visibility.audit_log(opened) == []
        visibility.set_share_by_default(opened, "alice", True)
        visibility.share_session(opened, "s1")
        assert opened.get_metadata("s1").shared
        assert [e.action for e in visibility.audit_log(opened)] == ["share"]
