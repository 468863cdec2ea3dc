"""A list led by a model or a project, newest first, from an index of its own (both databases).

The model filter is a case-blind substring, which no index serves: a list of one
walked every session newest first and tested each, so a model no session has read
the whole store (4.5 s at 1M sessions on SQLite). Yet a store holds few model names.
They are read first from ``sessions_by_model`` (model, then newest first), skipping
from one name to the next, and those containing the text kept: none is an empty
answer at once; otherwise the filter becomes those exact names.

A list with no date or cost range then takes each name's newest sessions from that
index, stopped at the page's depth, and merges the short lists (as
:mod:`.member_listing` merges a member's halves). On SQLite a project is
``project = ? OR project_key = ?``, which the newest-first walk tested on every row
(5.1 s at 1M for a project no session has): its two halves come from an index each
the same way. (PostgreSQL reads a project from its two indexes by itself.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from claude_sessions.store.dialect import META_COLUMNS
from claude_sessions.store.plan import Op, Stmt
from claude_sessions.store.where import ranged

if TYPE_CHECKING:
    from claude_sessions.store.criteria import Criteria
    from claude_sessions.store.dialect import Dialect

MODEL_INDEXES = (
    "CREATE INDEX IF NOT EXISTS sessions_by_model ON sessions (model, updated_at, id) "
    "WHERE trashed_at IS NULL",
)
SQLITE_PROJECT_INDEXES = (
    "CREATE INDEX IF NOT EXISTS sessions_of_project ON sessions (project, updated_at, id) "
    "WHERE trashed_at IS NULL",
    "CREATE INDEX IF NOT EXISTS sessions_of_project_key "
    "ON sessions (project_key, updated_at, id) WHERE trashed_at IS NULL",
)
# More names than this: the substring is tested on each row as before (one probe a name
# would cost more than it saves).
MOST_NAMES = 64
_ORDER = "ORDER BY updated_at DESC, id DESC"


def model_names(d: Dialect, criteria: Criteria) -> Op[list[str] | None]:
    """The live sessions' model names containing the model filter's text, by a skip
    from each name to the next in ``sessions_by_model``; ``None`` when the list has no
    model filter, is of the trash (which the index leaves out) or the names are many."""
    wanted = criteria.where.model
    if wanted is None or criteria.trashed:
        return None
    matching, params = d.contains("names.model", d.text(wanted) or "")
    first = "SELECT n.model FROM sessions n WHERE n.trashed_at IS NULL AND n.model IS NOT NULL"
    following = f"{first} AND n.model > names.model ORDER BY n.model LIMIT 1"
    rows = yield Stmt(
        f"WITH RECURSIVE names(model) AS (SELECT ({first} ORDER BY n.model LIMIT 1) "
        f"UNION ALL SELECT ({following}) FROM names WHERE names.model IS NOT NULL) "
        f"SELECT model FROM names WHERE names.model IS NOT NULL AND {d.sql(matching)} "
        f"{d.sql('LIMIT ?')}",
        (*params, MOST_NAMES + 1),
        "all",
    )
    names = [str(row["model"]) for row in rows]
    return None if len(names) > MOST_NAMES else names


def halves(criteria: Criteria, models: list[str] | None, *, project: bool) -> list[tuple[str, Any]]:
    """The (condition, value) pairs whose sessions, each from an index walked newest
    first, make up the list; none when that does not serve it (a range, the order by
    cost, a text search or the trash read their own way). ``project``: a project
    filter is read as its two halves (SQLite)."""
    where = criteria.where
    if criteria.trashed or criteria.by_cost or ranged(where) or where.text is not None:
        return []
    if project and where.project is not None:
        return [("s.project = ?", where.project), ("s.project_key = ?", where.project)]
    if models:
        return [("s.model = ?", name) for name in models]
    return []


def listing(
    d: Dialect,
    criteria: Criteria,
    found: tuple[list[str], list[Any]],
    walks: list[tuple[str, Any]],
    limit: Any,
    unlimited: Any,
) -> Stmt:
    """The list's rows (``META_COLUMNS``): the newest of each walk, merged. ``found``:
    the list's conditions and their parameters; ``limit`` as the dialect spells it,
    and ``unlimited``, its spelling of no limit."""
    clauses, params = found
    if criteria.cursor is not None:
        clauses = [*clauses, d.sql("(s.updated_at, s.id) < (?, ?)")]
        params = [*params, d.sort_param(criteria.cursor.value, "updated_at"), criteria.cursor.ref]
    depth = unlimited if limit == unlimited else limit + criteria.offset
    selects, values = [], []
    for number, (condition, value) in enumerate(walks):
        where = " AND ".join([*clauses, d.sql(condition)])
        selects.append(
            f"SELECT id, updated_at FROM (SELECT s.id, s.updated_at FROM sessions s "
            f"WHERE {where} ORDER BY s.updated_at DESC, s.id DESC {d.sql('LIMIT ?')}) "
            f"AS walk{number}"
        )
        values += [*params, d.text(value), depth]
    # UNION, not UNION ALL: a session may be in both halves of a project.
    page = f"{' UNION '.join(selects)} {_ORDER} {d.sql('LIMIT ? OFFSET ?')}"
    return Stmt(
        f"SELECT {META_COLUMNS} FROM ({page}) AS page JOIN sessions s ON s.id = page.id "
        "ORDER BY s.updated_at DESC, s.id DESC",
        (*values, limit, criteria.offset),
        "all",
    )
