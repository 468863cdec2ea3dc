"""A member's listing, newest first: their own sessions and the shared ones (both databases).

What a member may see is ``user_name = ? OR shared = 1``: walking the newest-first
index and testing that on each row reads every other user's unshared session on the
way. Instead each half comes from an index of its own, in order, and stops at the
page's depth: the member's sessions (``sessions_of_user``: user, then time) and the
shared sessions of others (``sessions_shared``: only shared rows); the two short
lists are merged. The page, its order and its cursor are the plain listing's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from claude_sessions.store.dialect import META_COLUMNS
from claude_sessions.store.plan import Stmt
from claude_sessions.store.where import conditions, ranged

if TYPE_CHECKING:
    from claude_sessions.store.criteria import Criteria
    from claude_sessions.store.dialect import Dialect

INDEXES = (
    "CREATE INDEX IF NOT EXISTS sessions_of_user ON sessions (user_name, updated_at, id) "
    "WHERE trashed_at IS NULL",
    "CREATE INDEX IF NOT EXISTS sessions_shared ON sessions (updated_at, id) "
    "WHERE trashed_at IS NULL AND shared = 1",
)
_ORDER = "ORDER BY updated_at DESC, id DESC"


def serves(criteria: Criteria) -> bool:
    """Whether the listing is a member's, of live sessions newest first, which the two
    indexes serve (a date or cost range reads its own index instead)."""
    where = criteria.where
    return (
        criteria.visible_to is not None
        and not (criteria.trashed or criteria.by_cost or ranged(where))
        and where.text is None
    )


def listing(d: Dialect, criteria: Criteria, limit: Any, unlimited: Any) -> Stmt:
    """The listing's rows (``META_COLUMNS``). ``limit``: as the dialect spells it, and
    ``unlimited``, its spelling of no limit."""
    user = d.text(criteria.visible_to)
    rest, params = conditions(d, criteria.where, trashed=False)
    if criteria.cursor is not None:
        rest = [*rest, d.sql("(s.updated_at, s.id) < (?, ?)")]
        params = [*params, d.sort_param(criteria.cursor.value, "updated_at"), criteria.cursor.ref]
    depth = unlimited if limit == unlimited else limit + criteria.offset
    halves = []
    for name, own in (("mine", "s.user_name = ?"), ("shared", "s.shared = 1 AND s.user_name <> ?")):
        where = " AND ".join([*rest, d.sql(own)])
        halves.append(
            f"SELECT id, updated_at FROM (SELECT s.id, s.updated_at FROM sessions s "
            f"WHERE {where} ORDER BY s.updated_at DESC, s.id DESC {d.sql('LIMIT ?')}) AS {name}"
        )
    page = f"{' UNION ALL '.join(halves)} {_ORDER} {d.sql('LIMIT ? OFFSET ?')}"
    return Stmt(
        f"SELECT {META_COLUMNS} FROM ({page}) AS page JOIN sessions s ON s.id = page.id "
        "ORDER BY s.updated_at DESC, s.id DESC",
        (*params, user, depth, *params, user, depth, limit, criteria.offset),
        "all",
    )
