"""A common word's full-text search on PostgreSQL: the newest matching sessions first.

Ranking reads every match: ``ts_rank`` the vector of each matching session, and
the tool and subagent text (``aside_text``) has its GIN index find every matching
row before the newest are kept. Both grow with the store. So a search first counts
its matches with the GIN indexes, stopping at :data:`COMMON_MATCHES` (a bounded
probe). Fewer: the matches are ranked as before. As many: the word is common, and
the sessions are walked newest first (``updated_at``, then id, by their index),
each tested until the page is full; that reads about a page divided by the share
of sessions matching, however many match.

A page's cursor says which way its search went, so the pages of one search never
switch ways (no session is skipped or repeated when a word becomes common between
two pages): a newest-first cursor's value lies below every rank (see
:func:`newest_sort`).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from claude_sessions.store.dialect import META_COLUMNS, Found, found, meta_text
from claude_sessions.store.plan import Op, Stmt

if TYPE_CHECKING:
    from claude_sessions.model import text_query
    from claude_sessions.store.criteria import Criteria
    from claude_sessions.store.postgres.dialect import PostgresDialect

# Matches (sessions, or rows of tool and subagent text) from which a search is
# answered newest first instead of ranked. Tests lower it.
COMMON_MATCHES = 1000
# Newest-first sort values lie at or below minus this; ranks lie far above it
# (``-ts_rank`` is a small negative number, tool text scores are in (0, 1]).
_BELOW_RANKS = 2**40
_YEAR_ONE = datetime(1, 1, 1, tzinfo=timezone.utc)


def newest_sort(d: PostgresDialect, updated_at: datetime) -> int:
    """The sort value (lower first) of a newest-first result: the newer, the lower."""
    return -(_BELOW_RANKS + _micros(d, updated_at))


def is_newest(value: float | int) -> bool:
    """Whether a cursor's sort value is a newest-first one."""
    return value <= -_BELOW_RANKS


def _micros(d: PostgresDialect, moment: datetime) -> int:
    return int(d.sort_value(moment)) - int(d.sort_value(_YEAR_ONE))


def _moment(d: PostgresDialect, value: float | int) -> Any:
    micros = -int(value) - _BELOW_RANKS + int(d.sort_value(_YEAR_ONE))
    return d.sort_param(micros, "updated_at")


def answers_newest(
    d: PostgresDialect,
    criteria: Criteria,
    node: text_query.Node,
    clauses: list[str],
    params: list[Any],
) -> Op[bool]:
    """Whether the search goes newest first: as its cursor says, else when the bounded
    probe finds :data:`COMMON_MATCHES` matches (a search of every match, without a
    limit, is ranked)."""
    if criteria.cursor is not None:
        return is_newest(criteria.cursor.value)
    if criteria.limit is None:
        return False
    # Counted from the GIN indexes' bitmaps: a scan in another order would read (and
    # decompress) each row's vector to test it, and many more rows for a rare word.
    for setting in _PROBE_SETTINGS:
        yield Stmt(f"SET LOCAL {setting} = off")
    row = yield _probe(d, criteria, node, clauses, params)
    for setting in _PROBE_SETTINGS:
        yield Stmt(f"SET LOCAL {setting} TO DEFAULT")
    return any(int(value) >= COMMON_MATCHES for value in row.values())


_PROBE_SETTINGS = ("enable_seqscan", "enable_indexscan")


def _probe(
    d: PostgresDialect,
    criteria: Criteria,
    node: text_query.Node,
    clauses: list[str],
    params: list[Any],
) -> Stmt:
    """The matches counted up to the bound: the sessions whose own text matches (with
    the filters), and the rows of tool and subagent text that do."""
    from claude_sessions.store.postgres.dialect import tsquery_sql

    where = criteria.where
    counts: list[str] = []
    values: list[Any] = []
    if where.conversation_places:
        said: list[Any] = []
        query = tsquery_sql(node, said)
        counts.append(
            "(SELECT count(*) FROM (SELECT 1 FROM sessions s "
            f"WHERE s.search @@ {query} AND {' AND '.join(clauses)} LIMIT %s) AS c) AS said"
        )
        values += [*said, *params, COMMON_MATCHES]
    if where.aside_places:
        aside: list[Any] = []
        query = tsquery_sql(node, aside, split=True)
        counts.append(
            "(SELECT count(*) FROM (SELECT 1 FROM aside_text a "
            f"WHERE a.search @@ {query} LIMIT %s) AS a) AS aside"
        )
        values += [*aside, COMMON_MATCHES]
    return Stmt(f"SELECT {', '.join(counts)}", values, "one")


def newest_page(
    d: PostgresDialect,
    criteria: Criteria,
    node: text_query.Node,
    clauses: list[str],
    params: list[Any],
) -> Op[list[Found]]:
    """The page of matching sessions, newest first, each found by walking the sessions in
    that order and testing it (snippets and places as for a ranked page)."""
    from claude_sessions.store import snippets
    from claude_sessions.store.locating import located

    matched, match_params = _matched(criteria, node)
    kept, kept_params = list(clauses), list(params)
    if criteria.cursor is not None:
        kept.append("(s.updated_at, s.id) < (%s, %s)")
        kept_params += [_moment(d, criteria.cursor.value), criteria.cursor.ref]
    rows = yield Stmt(
        f"SELECT {META_COLUMNS}, left(s.body, %s) AS body FROM sessions s "
        f"WHERE {' AND '.join(kept)} AND ({matched}) IS TRUE "
        "ORDER BY s.updated_at DESC, s.id DESC LIMIT %s OFFSET %s",
        (snippets.SCAN_CHARS, *kept_params, *match_params, criteria.limit, criteria.offset),
        "all",
    )
    results = []
    for row in rows:
        sort = newest_sort(d, row["updated_at"])
        shown = snippets.snippet((meta_text(row["description"], row["title"]), row["body"]), node)
        result = found(d, row, "updated_at", snippet=shown, rank=float(sort))
        results.append(Found(result.metadata, result.ref, sort, newest_first=True))
    return (yield from located(d, results, node, criteria.where.searched_places))


def _matched(criteria: Criteria, node: text_query.Node) -> tuple[str, list[Any]]:
    """The test of one session: its own text, or any of its rows of tool and subagent
    text, each place as the filter asks. Asked ``IS TRUE``, it is no condition a GIN
    index serves nor a join, so the planner walks the newest-first index and tests
    each session in turn."""
    from claude_sessions.store.postgres.dialect import _WEIGHTS, tsquery_sql

    where = criteria.where
    tests: list[str] = []
    values: list[Any] = []
    if where.conversation_places:
        tests.append(f"s.search @@ {tsquery_sql(node, values)}")
    if where.aside_places:
        query = tsquery_sql(node, values, split=True)
        kept = ""
        if len(where.aside_places) == 1:
            weight = _WEIGHTS[where.aside_places[0]]
            again = tsquery_sql(node, values, split=True)
            kept = f" AND ts_filter(a.search, '{{{weight}}}') @@ {again}"
        tests.append(
            f"EXISTS (SELECT 1 FROM aside_text a WHERE a.session_ref = s.id "
            # OFFSET 0: tested per session, not turned into a hash of every match
            f"AND a.search @@ {query}{kept} OFFSET 0)"
        )
    return " OR ".join(tests), values
