"""One tag's sessions, newest first, from the tag rows alone (both databases).

Each tag row keeps a copy of its session's ``updated_at``, ``created_at``,
``total_cost`` and ``trashed_at`` (kept by triggers: SQLite schema 13,
PostgreSQL 9). A listing of one tag then walks the tag's index entries in
``updated_at`` order and stops at the page's end (``tags_feed``), instead of
collecting every session with the tag to sort them; with a date or cost range
and nothing else, it reads only the range's entries of one covering index
(``tags_by_created``) and never a session row. Other filters join the session
rows as the tag's entries are walked. Several tags all required walk the
rarest one's entries (each tag's counted up to a bound first) and look the
others up by session (SQLite; PostgreSQL's GIN index of the tag arrays finds
them in one probe). The page, its order and its cursor are those of the plain
listing: the copies equal their sessions' columns.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from claude_sessions.model.filters import Operator
from claude_sessions.store.dialect import META_COLUMNS
from claude_sessions.store.plan import Op, Stmt
from claude_sessions.store.where import conditions

if TYPE_CHECKING:
    from claude_sessions.store.criteria import Criteria
    from claude_sessions.store.dialect import Dialect

# The session columns a tag row copies, which a range filter may bound.
_COPIED = ("created_at", "total_cost", "updated_at")
_RANGES = (Operator.AT_LEAST, Operator.AT_MOST)
_TAG_FILTERS = ("tags", "match_all_tags")
_PROBE = 2_000


def walked_tags(criteria: Criteria) -> tuple[str, ...]:
    """The tags of a listing of live sessions newest first that the tag rows serve: one
    tag, or several all required (then the rarest one's rows are walked); else none."""
    where = criteria.where
    if criteria.trashed or criteria.by_cost or where.text is not None:
        return ()
    tags = tuple(sorted(set(where.tags)))
    return tags if len(tags) == 1 or (tags and where.match_all_tags) else ()


def rarest(d: Dialect, tags: tuple[str, ...]) -> Op[str]:
    """The tag of ``tags`` with the fewest live sessions, counting each one's index
    entries up to :data:`_PROBE` (past that, a tag is common enough)."""
    if len(tags) == 1:
        return tags[0]
    counted = []
    for tag in tags:
        row = yield Stmt(
            d.sql(
                "SELECT count(*) AS n FROM (SELECT 1 FROM tags WHERE tag = ? "
                "AND trashed_at IS NULL LIMIT ?) AS probe"
            ),
            (d.text(tag), _PROBE),
            "one",
        )
        counted.append((int(row["n"]), tag))
    return min(counted)[1]


def listing(
    d: Dialect,
    criteria: Criteria,
    tag: str,
    limit: Any,
    *,
    indexed_by: bool,
    also: tuple[str, ...] = (),
) -> Stmt:
    """The listing's rows (``META_COLUMNS``): the page's ids from the tag's rows, then
    only those sessions. ``limit``: as the dialect spells "no limit"; ``also``: the
    other tags each session must have."""
    page, params = page_ids(d, criteria, tag, indexed_by=indexed_by, also=also)
    return Stmt(
        f"SELECT {META_COLUMNS} FROM ({page} {d.sql('LIMIT ? OFFSET ?')}) AS page "
        "JOIN sessions s ON s.id = page.id ORDER BY s.updated_at DESC, s.id DESC",
        (*params, limit, criteria.offset),
        "all",
    )


def page_ids(
    d: Dialect, criteria: Criteria, tag: str, *, indexed_by: bool, also: tuple[str, ...] = ()
) -> tuple[str, list[Any]]:
    """SQL for the ids (``id``) of the sessions of ``criteria``'s page, newest first,
    with its parameters (LIMIT and OFFSET are the caller's). ``indexed_by``: name the
    index to read (SQLite, which keeps no statistics to choose by); ``also``: the other
    tags required, each looked up by its session's key as the tag's rows are walked."""
    rest = replace(criteria.where, tags=(), match_all_tags=False)
    clauses, params = conditions(d, rest, trashed=False, visible_to=criteria.visible_to)
    given = [spec for name, spec, _ in rest.given() if name not in _TAG_FILTERS]
    # Who may see a session is on its row alone: a member's listing joins the rows.
    covered = criteria.visible_to is None and all(
        spec.operator in _RANGES and spec.columns[0] in _COPIED for spec in given
    )
    if covered:  # every condition is on the tag rows' copies: "s" names the tag rows
        index = "tags_by_created" if given else "tags_feed"
        source = f"tags s INDEXED BY {index}" if indexed_by else "tags s"
        row, ref = "s", "s.session_ref"
    else:
        feed = "tags t INDEXED BY tags_feed CROSS JOIN" if indexed_by else "tags t JOIN"
        source = f"{feed} sessions s ON s.id = t.session_ref"
        row, ref = "t", "t.session_ref"
        clauses = ["t.trashed_at IS NULL", *clauses]
    # The filters' clauses are in the dialect's placeholder style already.
    required = [
        d.sql(f"EXISTS (SELECT 1 FROM tags o WHERE o.session_ref = {ref} AND o.tag = ?)")
        for _ in also
    ]
    clauses = [d.sql(f"{row}.tag = ?"), *required, *clauses]
    params = [d.text(tag), *(d.text(other) for other in also), *params]
    if criteria.cursor is not None:
        clauses.append(d.sql(f"({row}.updated_at, {ref}) < (?, ?)"))
        params += [d.sort_param(criteria.cursor.value, "updated_at"), criteria.cursor.ref]
    sql = (
        f"SELECT {ref} AS id FROM {source} WHERE {' AND '.join(clauses)} "
        f"ORDER BY {row}.updated_at DESC, {ref} DESC"
    )
    return sql, params
