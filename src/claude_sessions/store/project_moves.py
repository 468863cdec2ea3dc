"""A project that moved: its sessions re-keyed to the new directory (``claude-sessions move``).

A session belongs to a project by its ``project_key`` (the official SDK's key for
the directory it ran in) and records that directory as ``project``. Moving a
project gives every session keyed by the old directory the new key, and its
``project`` the new path (a session recorded in a folder inside the project keeps
its place inside it). A session already stored under the new key with the same
id is never overwritten: the move is refused and nothing changes.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from claude_sessions.model.exceptions import InvalidInputError, SessionConflictError
from claude_sessions.model.moved_path import rebased
from claude_sessions.store.core import project_key
from claude_sessions.store.dialect import Dialect
from claude_sessions.store.plan import Op, Stmt, Txn, single
from claude_sessions.store.session_store import SessionStore


@dataclass(frozen=True)
class ProjectMove:
    """Which stored sessions a move re-keys (or re-keyed), ``old_key`` to ``new_key``."""

    old_key: str
    new_key: str
    session_ids: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {"old_key": self.old_key, "new_key": self.new_key, "session_ids": self.session_ids}


def _moving(d: Dialect, old_key: str) -> Op[list[Mapping[str, Any]]]:
    rows: list[Mapping[str, Any]] = yield Stmt(
        d.sql("SELECT id, session_id, project FROM sessions WHERE project_key = ? ORDER BY id"),
        (d.text(old_key),),
        "all",
    )
    return rows


def _clashes(d: Dialect, new_key: str, ids: list[str]) -> Op[list[str]]:
    if not ids:
        return []
    marks = ", ".join("?" for _ in ids)
    rows = yield Stmt(
        d.sql(
            "SELECT session_id FROM sessions WHERE project_key = ? AND trashed_at IS NULL "
            f"AND session_id IN ({marks})"
        ),
        (d.text(new_key), *ids),
        "all",
    )
    return sorted(row["session_id"] for row in rows)


def _rekey(d: Dialect, move: ProjectMove, old: str, new: str, dry_run: bool) -> Op[list[str]]:
    rows = yield from _moving(d, move.old_key)
    ids = sorted({row["session_id"] for row in rows})
    clashes = yield from _clashes(d, move.new_key, ids)
    if clashes:
        raise SessionConflictError(
            f"the store already holds session(s) {', '.join(clashes)} under {new}; "
            "nothing was changed"
        )
    if not dry_run:
        for row in rows:
            yield Stmt(
                d.sql("UPDATE sessions SET project_key = ?, project = ? WHERE id = ?"),
                (d.text(move.new_key), d.text(rebased(row["project"], old, new) or new), row["id"]),
            )
    return ids


def move_project(
    store: SessionStore,
    old_dir: str | os.PathLike[str],
    new_dir: str | os.PathLike[str],
    *,
    dry_run: bool = False,
) -> ProjectMove:
    """Re-key the sessions of the project at ``old_dir`` to ``new_dir`` (absolute paths);
    ``dry_run``: only say which. Raises :class:`SessionConflictError` when one of them
    is already stored under the new directory."""
    old, new = os.fspath(old_dir), os.fspath(new_dir)
    if not (os.path.isabs(old) and os.path.isabs(new)):
        raise InvalidInputError("a project moves between absolute paths")
    old_key, new_key = project_key(old), project_key(new)
    if old_key == new_key:
        raise InvalidInputError(f"{old} and {new} are the same project")
    move = ProjectMove(old_key, new_key, [])
    d = store.core.d
    ids = store.run(single(Txn(lambda: _rekey(d, move, old, new, dry_run), write=not dry_run)))
    return ProjectMove(old_key, new_key, ids)
