"""A common word's full-text search on SQLite: the newest matching sessions first.

Ranking reads every match: ``bm25`` scores each session whose text matches, so a
common word costs as much as its matches (hundreds of milliseconds at 100,000
sessions, seconds at a million). FTS5 reads a word's matches in rowid order, and
lazily: the full-text row of a session has its ``sessions.id`` as rowid, so the
newest sessions (the most recently begun) come first with ``ORDER BY rowid DESC``
and a page reads about its size divided by the share of sessions matching.

So a search first reads up to :data:`COMMON_MATCHES` of the words' matches (the
same lazy reading). Fewer: the matches are ranked as before. As many: the word is
common, and the page is the newest matching sessions, walked newest first and
tested against the filters, up to :data:`WALK_ROWS` matches; past them (filters
keeping few of the matches) the rest comes from a plan SQLite chooses, among the
older matches, still without ranking. Tool and subagent text (the side index)
gives the sessions of its newest :data:`~.fts_queries.ASIDE_CANDIDATES` matching rows,
as a ranked search reads them.

A page's cursor says which way its search went, so the pages of one search never
switch ways (no session is skipped or repeated when a word becomes common between
two pages): a newest-first cursor's value lies below every rank (see
:func:`newest_sort`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from claude_sessions.store.criteria import NEWEST_BELOW_RANKS
from claude_sessions.store.dialect import META_COLUMNS, Found, found
from claude_sessions.store.plan import Op, Stmt

if TYPE_CHECKING:
    from claude_sessions.model import text_query
    from claude_sessions.store.criteria import Criteria
    from claude_sessions.store.dialect import Dialect

# Matches (sessions, or rows of tool and subagent text) from which a search is
# answered newest first instead of ranked. Tests lower it.
COMMON_MATCHES = 1000
# Matches of the conversation's own text a page's walk tests against the filters at
# most; past them, the older matches come from a plan SQLite chooses (a filter's
# index, say). Tests lower it.
WALK_ROWS = 20000


def newest_sort(ref: int) -> int:
    """The sort value (lower first) of a newest-first result: the newer, the lower."""
    return -(NEWEST_BELOW_RANKS + ref)


def answers_newest(criteria: Criteria, node: text_query.Node) -> Op[bool]:
    """Whether the search goes newest first: as its cursor says, else when the words
    have :data:`COMMON_MATCHES` matches or more in one of the indexes, filters aside
    (a search of every match, without a limit, is ranked)."""
    if criteria.cursor is not None:
        return criteria.cursor.newest_first
    if criteria.limit is None or _has_phrase(node):
        return False
    for sql, match in _probes(criteria, node):
        row = yield Stmt(
            f"SELECT count(*) AS n FROM ({sql} LIMIT ?)", (match, COMMON_MATCHES), "one"
        )
        if int(row["n"]) >= COMMON_MATCHES:
            return True
    return False


def _has_phrase(node: text_query.Node) -> bool:
    """Whether the query holds a phrase: its matches are found by comparing its words'
    positions, so a phrase of common words said together rarely would have the probe
    read every session holding its words, as ranking then does again (measured at
    100,000 sessions: an 8-word phrase 0.33 s ranked, 0.8 s probed then ranked)."""
    from claude_sessions.model import text_query

    if isinstance(node, text_query.Term):
        return len(node.words) > 1
    if isinstance(node, text_query.Without):
        return _has_phrase(node.keep) or _has_phrase(node.drop)
    return any(_has_phrase(part) for part in node.parts)


def _probes(criteria: Criteria, node: text_query.Node) -> list[tuple[str, str]]:
    """The first matches of each index the search reads: FTS5 stops reading a word's
    doclist at the limit, so a common word costs no more than a rare one."""
    from claude_sessions.store.sqlite.fts_queries import fts_query

    where = criteria.where
    probes = []
    if where.conversation_places:
        probes.append(
            ("SELECT rowid FROM sessions_fts WHERE sessions_fts MATCH ?", fts_query(node))
        )
    if where.aside_places:
        probes.append(("SELECT rowid FROM side.said WHERE said MATCH ?", _aside_match(criteria)))
    return probes


def _aside_match(criteria: Criteria) -> str:
    from claude_sessions.store.sqlite.fts_queries import aside_query

    assert criteria.text is not None
    return f"{{{' '.join(criteria.where.aside_places)}}} : {aside_query(criteria.text)}"


def newest_page(
    d: Dialect,
    criteria: Criteria,
    node: text_query.Node,
    clauses: list[str],
    params: list[Any],
) -> Op[list[Found]]:
    """The page of matching sessions, newest first (snippets and places as for a
    ranked page)."""
    from claude_sessions.store import snippets
    from claude_sessions.store.locating import located

    before = None if criteria.cursor is None else criteria.cursor.ref
    wanted = -1 if criteria.limit is None else criteria.limit + criteria.offset
    refs: set[int] = set()
    if criteria.where.conversation_places:
        refs.update((yield from _said(node, clauses, params, before, wanted)))
    if criteria.where.aside_places:
        kept, kept_params = list(clauses), list(params)
        if before is not None:
            kept.append("s.id < ?")
            kept_params.append(before)
        refs.update((yield from _aside(criteria, kept, kept_params, wanted)))
    newest = sorted(refs, reverse=True)
    page = newest[criteria.offset :] if wanted < 0 else newest[criteria.offset : wanted]
    results = []
    for start in range(0, len(page), 500):
        chunk = page[start : start + 500]
        marks = ", ".join("?" * len(chunk))
        rows = yield Stmt(
            f"SELECT {META_COLUMNS}, f.meta AS found_meta, substr(f.body, 1, ?) AS found_body "
            f"FROM sessions s JOIN sessions_fts f ON f.rowid = s.id WHERE s.id IN ({marks}) "
            "ORDER BY s.id DESC",
            (snippets.SCAN_CHARS, *chunk),
            "all",
        )
        for row in rows:
            sort = newest_sort(int(row["id"]))
            shown = snippets.snippet((row["found_meta"], row["found_body"]), node)
            result = found(d, row, "updated_at", snippet=shown, rank=float(sort))
            results.append(Found(result.metadata, result.ref, sort, newest_first=True))
    return (yield from located(d, results, node, criteria.where.searched_places))


def _said(
    node: text_query.Node, kept: list[str], params: list[Any], before: int | None, wanted: int
) -> Op[list[int]]:
    """The newest ``wanted`` sessions whose own text matches: the words' matches read
    newest first (the outer loop, by CROSS JOIN), each tested against the filters, up
    to :data:`WALK_ROWS`; then, if the page is not full, the older matches."""
    from claude_sessions.store.sqlite.fts_queries import fts_query

    match = fts_query(node)
    filters = " AND ".join(kept)
    below, below_params = ("AND rowid < ? ", [before]) if before is not None else ("", [])
    newest = f"SELECT rowid FROM sessions_fts WHERE sessions_fts MATCH ? {below}ORDER BY rowid DESC"
    walked = yield Stmt(
        f"SELECT s.id FROM ({newest} LIMIT ?) AS m CROSS JOIN sessions s ON s.id = m.rowid "
        # No ORDER BY: it would sort every walked match before the limit. The matches
        # come in the walk's order (its co-routine is the outer loop), and the page is
        # sorted again once the indexes' sessions are merged.
        f"WHERE {filters} LIMIT ?",
        (match, *below_params, WALK_ROWS, *params, wanted),
        "all",
    )
    refs = [int(row["id"]) for row in walked]
    if 0 <= wanted <= len(refs):
        return refs
    last = yield Stmt(f"{newest} LIMIT 1 OFFSET ?", (match, *below_params, WALK_ROWS - 1), "one")
    if last is None:  # the walk read every match
        return refs
    rest = yield Stmt(
        f"SELECT s.id FROM sessions s WHERE {filters} AND s.id < ? AND s.id IN "
        "(SELECT rowid FROM sessions_fts WHERE sessions_fts MATCH ? AND rowid < ?) "
        "ORDER BY s.id DESC LIMIT ?",
        (*params, last["rowid"], match, last["rowid"], wanted - len(refs) if wanted >= 0 else -1),
        "all",
    )
    return refs + [int(row["id"]) for row in rest]


def _aside(criteria: Criteria, kept: list[str], params: list[Any], wanted: int) -> Op[list[int]]:
    """The newest ``wanted`` sessions among those of the newest matching rows of tool
    and subagent text (as many as a ranked search reads)."""
    from claude_sessions.store.sqlite.fts_queries import ASIDE_CANDIDATES

    rows = yield Stmt(
        "SELECT DISTINCT s.id FROM (SELECT rowid AS chunk FROM side.said WHERE said MATCH ? "
        "ORDER BY rowid DESC LIMIT ?) AS hit JOIN side.chunks c ON c.id = hit.chunk "
        "JOIN sessions s ON s.id = c.session_ref AND s.session_id = c.session_id "
        f"WHERE {' AND '.join(kept)} ORDER BY s.id DESC LIMIT ?",
        (_aside_match(criteria), ASIDE_CANDIDATES, *params, wanted),
        "all",
    )
    return [int(row["id"]) for row in rows]
