"""``claude-sessions move``: a project folder that moved, for Claude Code and the store.

Everything is checked before anything changes: the transcript files (none may
overwrite a different file) and the store (no session may land on one stored
under the new directory). Then the old project folder is backed up, its files
are written under the new key with their entries' ``cwd`` moved, the old folder
is removed, and the store's sessions are re-keyed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from claude_sessions.capture.relocate import MovePlan, absolute, apply_move, plan_move
from claude_sessions.model.exceptions import InvalidInputError

if TYPE_CHECKING:
    from claude_sessions.store import SessionStore
    from claude_sessions.store.project_moves import ProjectMove


@dataclass(frozen=True)
class Moved:
    """What a move changed (``dry_run``: would change)."""

    files: MovePlan
    stored: ProjectMove | None  # None: no store to update
    dry_run: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.files.to_dict(),
            "store": self.stored.to_dict() if self.stored else None,
            "dry_run": self.dry_run,
        }


def move_project(
    old_dir: str | os.PathLike[str],
    new_dir: str | os.PathLike[str],
    *,
    store: SessionStore | None,
    config_dir: str | os.PathLike[str] | None = None,
    dry_run: bool = False,
) -> Moved:
    """Move Claude Code's sessions of the project at ``old_dir`` to ``new_dir``, and
    ``store``'s; ``dry_run`` changes nothing and says the same. Raises
    :class:`InvalidInputError`, :class:`TranscriptExistsError` or
    :class:`SessionConflictError` before any change."""
    from claude_sessions.store.project_moves import move_project as rekey

    old, new = absolute(old_dir), absolute(new_dir)
    plan, contents = plan_move(old, new, config_dir=config_dir)
    stored = rekey(store, old, new, dry_run=True) if store is not None else None
    if not plan.files and not (stored and stored.session_ids):
        raise InvalidInputError(
            f"no sessions of {old}: neither Claude Code ({plan.source}) nor the store has any"
        )
    if dry_run:
        return Moved(plan, stored, True)
    done = apply_move(plan, contents)
    if store is not None:
        stored = rekey(store, old, new)
    return Moved(done, stored, False)
