"""A common word's full-text search on PostgreSQL: the newest matching sessions first.

Ranking reads every match: ``ts_rank`` the vector of each matching session, and
the tool and subagent text (``aside_text``) has its GIN index find every matching
row before the newest are kept. Both grow with the store. So a search first asks
the planner how many matches to expect (an estimate from the statistics, which
costs no reading of matches). Fewer than :data:`COMMON_MATCHES`: the matches are
ranked as before. As many: the word is common, and
the sessions are walked newest first (``updated_at``, then id, by their index),
each tested until the page is full; that reads about a page divided by the share
of sessions matching, however many match. The walk stops after :data:`WALK_ROWS`
sessions (a word said only long ago, or filters keeping few of its sessions): the
rest of the page then comes from the GIN indexes, among the sessions older than
the walk's last.

A page's cursor says which way its search went, so the pages of one search never
switch ways (no session is skipped or repeated when a word becomes common between
two pages): a newest-first cursor's value lies below every rank (see
:func:`newest_sort`).
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from claude_sessions.store.criteria import NEWEST_BELOW_RANKS
from claude_sessions.store.dialect import META_COLUMNS, Found, found, meta_text
from claude_sessions.store.plan import Op, Stmt

if TYPE_CHECKING:
    from claude_sessions.model import text_query
    from claude_sessions.store.criteria import Criteria
    from claude_sessions.store.dialect import Dialect

# Matches (sessions, or rows of tool and subagent text) from which a search is
# answered newest first instead of ranked. Tests lower it.
COMMON_MATCHES = 1000
_YEAR_ONE = datetime(1, 1, 1, tzinfo=timezone.utc)


def newest_sort(d: Dialect, updated_at: datetime) -> int:
    """The sort value (lower first) of a newest-first result: the newer, the lower."""
    return -(NEWEST_BELOW_RANKS + _micros(d, updated_at))


def _micros(d: Dialect, moment: datetime) -> int:
    return int(d.sort_value(moment)) - int(d.sort_value(_YEAR_ONE))


def _moment(d: Dialect, value: float | int) -> Any:
    micros = -int(value) - NEWEST_BELOW_RANKS + int(d.sort_value(_YEAR_ONE))
    return d.sort_param(micros, "updated_at")


def answers_newest(criteria: Criteria, node: text_query.Node) -> Op[bool]:
    """Whether the search goes newest first: as its cursor says, else when the planner
    expects :data:`COMMON_MATCHES` matches of the words or more, filters aside (a search
    of every match, without a limit, is ranked)."""
    if criteria.cursor is not None:
        return criteria.cursor.newest_first
    if criteria.limit is None:
        return False
    for probe in _probes(criteria, node):
        row = yield probe
        plan = row["QUERY PLAN"]
        if isinstance(plan, str):
            plan = json.loads(plan)
        if plan[0]["Plan"]["Plan Rows"] >= COMMON_MATCHES:
            return True
    return False


def _probes(criteria: Criteria, node: text_query.Node) -> list[Stmt]:
    """The planner's estimates of the matches: the sessions whose own text matches, and
    the rows of tool and subagent text that do, from the words' frequencies in the
    statistics ANALYZE keeps (autovacuum keeps them current). Counting them instead
    would cost as much as the matches: the GIN index makes a bitmap of every one first.
    A word commoner than its statistics say is ranked; a rarer one has the walk stop
    at :data:`WALK_ROWS` and the rest of its page come from the GIN indexes."""
    from claude_sessions.store.postgres.tsqueries import tsquery_sql

    where = criteria.where
    probes = []
    if where.conversation_places:
        said: list[Any] = []
        query = tsquery_sql(node, said)
        probes.append(_estimate(f"SELECT 1 FROM sessions s WHERE s.search @@ {query}", said))
    if where.aside_places:
        aside: list[Any] = []
        test = _aside_test(node, where.aside_places, aside)
        probes.append(_estimate(f"SELECT 1 FROM aside_text a WHERE {test}", aside))
    return probes


def _aside_test(node: text_query.Node, places: tuple[str, ...], values: list[Any]) -> str:
    """SQL true for a row ``a`` of ``aside_text`` holding the words in one of ``places``:
    tool and subagent text in its ``search`` vector (kept to one of the two by its
    weight), a prompt or a reply (a search kept to one of them) in its ``own`` vector."""
    from claude_sessions.store.postgres.tsqueries import (
        OWN_WEIGHTS,
        WEIGHTS,
        tsquery_sql,
        weighted_tsquery_sql,
    )

    tests = []
    kept = tuple(place for place in places if place in WEIGHTS)
    if kept:
        test = f"a.search @@ {tsquery_sql(node, values, split=True)}"
        if len(kept) == 1:
            again = tsquery_sql(node, values, split=True)
            test += f" AND ts_filter(a.search, '{{{WEIGHTS[kept[0]]}}}') @@ {again}"
        tests.append(f"({test})")
    own = "".join(OWN_WEIGHTS[place] for place in places if place in OWN_WEIGHTS)
    if own:
        tests.append(f"a.own @@ {weighted_tsquery_sql(node, values, own)}")
    return " OR ".join(tests)


def _estimate(sql: str, params: list[Any]) -> Stmt:
    return Stmt(f"EXPLAIN (FORMAT JSON) {sql}", params, "one")


def newest_page(
    d: Dialect,
    criteria: Criteria,
    node: text_query.Node,
    clauses: list[str],
    params: list[Any],
) -> Op[list[Found]]:
    """The page of matching sessions, newest first, each found by walking the sessions in
    that order and testing it, up to :data:`WALK_ROWS` of them; the rest from the GIN
    indexes, among the older sessions (snippets and places as for a ranked page)."""
    from claude_sessions.store import snippets
    from claude_sessions.store.locating import located

    kept, kept_params = list(clauses), list(params)
    if criteria.cursor is not None:
        kept.append("(s.updated_at, s.id) < (%s, %s)")
        kept_params += [_moment(d, criteria.cursor.value), criteria.cursor.ref]
    wanted = None if criteria.limit is None else criteria.limit + criteria.offset
    began = time.monotonic()
    refs = yield from _walked(criteria, node, kept, kept_params, wanted)
    if wanted is None or len(refs) < wanted:
        rest = None if wanted is None else wanted - len(refs)
        yield from _keep_to_time_limit(began)
        refs += yield from _past_the_walk(criteria, node, kept, kept_params, rest)
    rows = yield Stmt(
        f"SELECT {META_COLUMNS}, left(s.body, %s) AS body FROM sessions s "
        "WHERE s.id = ANY(%s) ORDER BY s.updated_at DESC, s.id DESC",
        (snippets.SCAN_CHARS, refs[criteria.offset :]),
        "all",
    )
    results = []
    for row in rows:
        sort = newest_sort(d, row["updated_at"])
        shown = snippets.snippet((meta_text(row["description"], row["title"]), row["body"]), node)
        result = found(d, row, "updated_at", snippet=shown, rank=float(sort))
        results.append(Found(result.metadata, result.ref, sort, newest_first=True))
    return (yield from located(d, results, node, criteria.where.searched_places))


# Sessions a page's walk tests at most; past them, the older matches come from the GIN
# indexes (a common word said only long ago would have the walk read every newer
# session). Tests lower it.
WALK_ROWS = 5000
# The same when the walk also tests tool and subagent text: a session's rows of it
# are read from its table, a few hundred microseconds each.
ASIDE_WALK_ROWS = 300
_NEWEST = "ORDER BY s.updated_at DESC, s.id DESC"


def _walked(
    criteria: Criteria,
    node: text_query.Node,
    kept: list[str],
    params: list[Any],
    wanted: int | None,
) -> Op[list[int]]:
    """The newest matching sessions among the :data:`WALK_ROWS` newest the filters keep:
    each tested as the walk reaches it, and the walk stops at ``wanted`` matches."""
    matched, match_params = _matched(criteria, node)
    rows = yield Stmt(
        f"SELECT walked.id FROM (SELECT s.id, ({matched}) IS TRUE AS hit FROM sessions s "
        f"WHERE {' AND '.join(kept)} {_NEWEST} LIMIT %s) AS walked WHERE walked.hit LIMIT %s",
        (*match_params, *params, _walk_rows(criteria), wanted),
        "all",
    )
    return [int(row["id"]) for row in rows]


def _past_the_walk(
    criteria: Criteria,
    node: text_query.Node,
    kept: list[str],
    params: list[Any],
    wanted: int | None,
) -> Op[list[int]]:
    """The newest ``wanted`` matching sessions older than the walk's last, found with the
    GIN indexes (each place's matches, newest first, merged); none when the walk read
    every session the filters keep."""
    from claude_sessions.store.postgres.tsqueries import tsquery_sql

    last = yield Stmt(
        f"SELECT s.updated_at, s.id FROM sessions s WHERE {' AND '.join(kept)} {_NEWEST} "
        "OFFSET %s LIMIT 1",
        (*params, _walk_rows(criteria) - 1),
        "one",
    )
    if last is None:
        return []
    older = [*kept, "(s.updated_at, s.id) < (%s, %s)"]
    values = [*params, last["updated_at"], last["id"]]
    where = criteria.where
    found: dict[int, Any] = {}
    yield from _bitmaps_only(True)
    if where.conversation_places:
        said: list[Any] = []
        query = tsquery_sql(node, said)
        rows = yield Stmt(
            f"SELECT s.id, s.updated_at FROM sessions s WHERE s.search @@ {query} "
            f"AND {' AND '.join(older)} {_NEWEST} LIMIT %s",
            (*said, *values, wanted),
            "all",
        )
        found.update((int(row["id"]), row["updated_at"]) for row in rows)
    if where.aside_places:
        aside, test = _aside_rows(node, where.aside_places)
        rows = yield Stmt(
            f"SELECT s.id, s.updated_at FROM sessions s WHERE s.id IN ({test}) "
            f"AND {' AND '.join(older)} {_NEWEST} LIMIT %s",
            (*aside, *values, wanted),
            "all",
        )
        found.update((int(row["id"]), row["updated_at"]) for row in rows)
    yield from _bitmaps_only(False)
    newest = sorted(found, key=lambda ref: (found[ref], ref), reverse=True)
    return newest if wanted is None else newest[:wanted]


def _keep_to_time_limit(began: float) -> Op[None]:
    """Give what follows the walk only what the transaction's time limit (if any) leaves
    of it: each statement has the whole limit, and the search answers, or is stopped,
    within it."""
    row = yield Stmt(
        "SELECT setting::int AS ms FROM pg_settings WHERE name = 'statement_timeout'", (), "one"
    )
    if row is None or int(row["ms"]) <= 0:
        return
    left = int(row["ms"]) - int((time.monotonic() - began) * 1000) - _STOPPING_MS
    yield Stmt(f"SET LOCAL statement_timeout = {max(left, 1)}")


# How long a statement may run on past its time limit: a GIN index scan looks for
# the signal to stop only now and then (measured: up to about 100 ms on 2 busy cores).
_STOPPING_MS = 100


def _walk_rows(criteria: Criteria) -> int:
    return ASIDE_WALK_ROWS if criteria.where.aside_places else WALK_ROWS


def _bitmaps_only(on: bool) -> Op[None]:
    """Have the planner find matches from the GIN indexes' bitmaps (or no longer), for
    this transaction: a walk again, or a scan of the whole table, would read and
    decompress each row's vector to test it."""
    for setting in ("enable_seqscan", "enable_indexscan"):
        yield Stmt(f"SET LOCAL {setting} {'= off' if on else 'TO DEFAULT'}")


def _aside_rows(node: text_query.Node, places: tuple[str, ...]) -> tuple[list[Any], str]:
    """The sessions whose tool and subagent text (or, for a search kept to one of them,
    prompts or replies) matches, from the GIN indexes. Kept to tool or to subagent
    text, each row's vector is read to tell them apart: then only the newest
    ``ASIDE_CANDIDATES`` matching rows are, as a ranked search reads them."""
    from claude_sessions.store.postgres.tsqueries import (
        ASIDE_CANDIDATES,
        OWN_WEIGHTS,
        WEIGHTS,
        tsquery_sql,
        weighted_tsquery_sql,
    )

    values: list[Any] = []
    parts = []
    kept = tuple(place for place in places if place in WEIGHTS)
    if kept:
        query = tsquery_sql(node, values, split=True)
        if len(kept) == 1:
            values.append(ASIDE_CANDIDATES)
            again = tsquery_sql(node, values, split=True)
            parts.append(
                f"SELECT w.session_ref FROM (SELECT a.id FROM aside_text a WHERE a.search @@ "
                f"{query} ORDER BY a.id DESC LIMIT %s) AS m JOIN aside_text w ON w.id = m.id "
                f"WHERE ts_filter(w.search, '{{{WEIGHTS[kept[0]]}}}') @@ {again}"
            )
        else:
            parts.append(f"SELECT a.session_ref FROM aside_text a WHERE a.search @@ {query}")
    own = "".join(OWN_WEIGHTS[place] for place in places if place in OWN_WEIGHTS)
    if own:
        query = weighted_tsquery_sql(node, values, own)
        parts.append(f"SELECT a.session_ref FROM aside_text a WHERE a.own @@ {query}")
    return values, " UNION ".join(parts)


def _matched(criteria: Criteria, node: text_query.Node) -> tuple[str, list[Any]]:
    """The test of one session: its own text, or any of its rows of tool and subagent
    text, each place as the filter asks. Asked ``IS TRUE``, it is no condition a GIN
    index serves nor a join, so the planner walks the newest-first index and tests
    each session in turn."""
    from claude_sessions.store.postgres.tsqueries import tsquery_sql

    where = criteria.where
    tests: list[str] = []
    values: list[Any] = []
    if where.conversation_places:
        tests.append(f"s.search @@ {tsquery_sql(node, values)}")
    if where.aside_places:
        test = _aside_test(node, where.aside_places, values)
        tests.append(
            f"EXISTS (SELECT 1 FROM aside_text a WHERE a.session_ref = s.id "
            # OFFSET 0: tested per session, not turned into a hash of every match
            f"AND ({test}) OFFSET 0)"
        )
    return " OR ".join(tests), values
