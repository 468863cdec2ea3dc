"""How automatic cleanup is configured: days from arguments or the environment.

Sessions not updated for ``cleanup_after_days`` move to the trash, never those with a
protected tag, and the trash empties itself after ``trash_days`` (see
:mod:`claude_sessions.store.core`, which runs it).
"""

from __future__ import annotations

import enum
import math
import os
from dataclasses import dataclass
from typing import Any

from claude_sessions.model.exceptions import InvalidInputError

CLEANUP_ENV_VAR = "CLAUDE_SESSIONS_CLEANUP_DAYS"
TRASH_ENV_VAR = "CLAUDE_SESSIONS_TRASH_DAYS"
DEFAULT_CLEANUP_DAYS = 30
DEFAULT_TRASH_DAYS = 30
# Sessions the importer creates carry IMPORTED_TAG: their updated_at is the
# transcript's own (often months old), and keeping that history is the point
# of importing it, so automatic cleanup must not take it.
IMPORTED_TAG = "imported"
PROTECTED_TAGS = ("keep", IMPORTED_TAG)


@dataclass(frozen=True)
class CleanupPolicy:
    """What automatic cleanup does, as configured (see :func:`cleanup_policy`)."""

    cleanup_after_days: float | None
    trash_days: float | None
    protected_tags: tuple[str, ...] = PROTECTED_TAGS

    def describe(self) -> list[str]:
        """The policy in plain sentences."""
        protected = ", ".join(self.protected_tags)
        return [
            "Automatic cleanup is off."
            if self.cleanup_after_days is None
            else f"Sessions not updated for {self.cleanup_after_days:g} days move to the trash "
            "(checked at most once a day, when a command writes; never on a read-only store).",
            f"Protected: sessions tagged {protected}. Everything captured or imported from "
            "Claude Code is tagged 'imported': its transcript dates are old by design, and "
            "keeping that history is why it was captured.",
            "The trash is never emptied automatically."
            if self.trash_days is None
            else f"The trash empties itself of sessions trashed more than {self.trash_days:g} "
            "days ago; until then `claude-sessions trash restore` brings them back.",
        ]

    def to_dict(self) -> dict[str, Any]:
        return {
            "cleanup_after_days": self.cleanup_after_days,
            "trash_days": self.trash_days,
            "protected_tags": list(self.protected_tags),
        }


def cleanup_policy() -> CleanupPolicy:
    """The policy a store opened with the defaults follows (``$CLAUDE_SESSIONS_CLEANUP_DAYS``,
    ``$CLAUDE_SESSIONS_TRASH_DAYS``)."""
    return CleanupPolicy(
        days_from_environment(CLEANUP_ENV_VAR, DEFAULT_CLEANUP_DAYS),
        days_from_environment(TRASH_ENV_VAR, DEFAULT_TRASH_DAYS),
    )


class _FromEnvironment(enum.Enum):
    """Marks an argument whose default is read from the environment."""

    VALUE = enum.auto()


FROM_ENVIRONMENT = _FromEnvironment.VALUE
Days = float | _FromEnvironment | None


def days_from_environment(name: str, default: float) -> float | None:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if raw.lower() in ("never", "off"):
        return None
    try:
        return check_days(float(raw), name)
    except ValueError:
        raise InvalidInputError(
            f"{name} must be a number of days or 'never', not {raw!r}"
        ) from None


def check_days(value: Any, name: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInputError(f"{name} must be a number of days or None, not {value!r}")
    if value < 0:
        raise InvalidInputError(f"{name} cannot be negative: {value!r}")
    return float(value)
