"""SQLite's dialect: JSON text entries, epoch-second times, and FTS5 for full text.

Full text: one FTS5 row per session (rowid = ``sessions.id``) with two
columns, the message text (``body``) and the description and title
(``meta``). Searches return sessions, so ranking one document per session
avoids grouping millions of per-message hits at query time, and the index
keeps one doclist entry per session. Appends extend the row's text; only an
upsert that changes an entry rebuilds it. Trashed sessions leave the index
(their row is deleted) so searches never read them; a restore rebuilds it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import orjson

from claude_sessions.model.entries import NewEntry, clean_text, decode_entry
from claude_sessions.model.filters import Operator, SessionFilter, moment_bound
from claude_sessions.model.identity import Identity
from claude_sessions.store import feed, lead_walk, member_listing
from claude_sessions.store.criteria import Criteria
from claude_sessions.store.dialect import META_COLUMNS, Found, found, usage_sql
from claude_sessions.store.plan import Op, Stmt
from claude_sessions.store.sqlite.fts_queries import ASIDE_CANDIDATES, aside_query, fts_query
from claude_sessions.store.where import conditions

if TYPE_CHECKING:  # the query language loads with the first text search
    from claude_sessions.model import text_query
    from claude_sessions.store import rollups


def _placeholders(count: int) -> str:
    return ", ".join("?" * count)


class SQLiteDialect:
    """The :class:`~.dialect.Dialect` of SQLite (3.35 or newer)."""

    def sql(self, text: str) -> str:
        return text

    def change_notice(self) -> None:
        """None: readers poll the write counter (see SQLiteDriver.watch_changes)."""

    def time(self, epoch: float) -> Any:
        return epoch

    def epoch(self, value: Any) -> float:
        return float(value)

    def moment(self, value: Any) -> datetime:
        return datetime.fromtimestamp(value, tz=timezone.utc)

    def sort_value(self, value: Any) -> float | int:
        return float(value)  # epoch seconds or a cost, as stored: the cursor repeats them

    def sort_param(self, value: float | int, column: str) -> Any:
        return value

    def text(self, value: str | None) -> str | None:
        return None if value is None else clean_text(value)

    def tags(self, value: Any) -> tuple[str, ...]:
        return tuple(sorted(orjson.loads(value)))

    def any_of(self, column: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
        return f"{column} IN ({_placeholders(len(values))})", list(values)

    def starts_with(self, column: str, prefix: str) -> tuple[str, list[Any]]:
        # A range, not LIKE: SQLite's LIKE ignores case, and a range uses the index.
        return f"{column} >= ? AND {column} < ?", [prefix, prefix + "\U0010ffff"]

    def contains(self, column: str, text: str) -> tuple[str, list[Any]]:
        escaped = re.sub(r"([\\%_])", r"\\\1", text)
        return f"{column} LIKE ? ESCAPE '\\'", [f"%{escaped}%"]  # LIKE ignores ASCII case

    def has_tags(self, tags: Sequence[str], *, every: bool) -> tuple[str, list[Any]]:
        marks = _placeholders(len(tags))
        if every:
            return (
                f"s.id IN (SELECT session_ref FROM tags WHERE tag IN ({marks}) "
                "GROUP BY session_ref HAVING count(*) = ?)",
                [*tags, len(tags)],
            )
        return f"s.id IN (SELECT session_ref FROM tags WHERE tag IN ({marks}))", list(tags)

    def index_aside(self, ref: int, subpath: str, rows: Sequence[NewEntry]) -> Op[None]:
        return  # the side index catches up from the stored entries (see side_indexer)
        yield  # pragma: no cover - makes this a generator

    def forget_aside(self, ref: int, subpath: str | None) -> Op[None]:
        return  # a transcript written anew has new entry ids: its indexer sees that
        yield  # pragma: no cover - makes this a generator

    def reindex_aside(self, ref: int) -> Op[None]:
        return  # a redaction makes the side index anew (see SQLiteDriver.scrub)
        yield  # pragma: no cover - makes this a generator

    def used_tool(self, name: str) -> tuple[str, list[Any]]:
        # The side index keeps each batch's tool names; its tokens are the name's pieces.
        pieces = " AND ".join(f'"{piece}"' for piece in _NAME_PIECE.findall(name)) or '""'
        return (
            "s.id IN (SELECT c.session_ref FROM side.chunks c WHERE c.id IN "
            "(SELECT rowid FROM side.said WHERE said MATCH ?))",
            [f"names : ({pieces})"],
        )

    def lock(self, *names: str) -> Op[None]:
        return  # every write transaction is BEGIN IMMEDIATE: writers already queue
        yield  # pragma: no cover - makes this a generator

    def insert_session(
        self, session_id: str, project_key: str, now: float, who: Identity
    ) -> Op[int]:
        row = yield Stmt(
            "INSERT INTO sessions (session_id, project_key, created_at, updated_at, "
            "user_name, machine, shared) "
            "VALUES (?, ?, ?, ?, ?, ?, "
            # a user who shares by default: their new sessions start shared
            "CASE WHEN EXISTS (SELECT 1 FROM users WHERE linked_user = ? "
            "AND share_by_default = 1) THEN 1 ELSE 0 END) RETURNING id",
            (
                session_id,
                self.text(project_key),
                now,
                now,
                self.text(who.user),
                self.text(who.machine),
                self.text(who.user),
            ),
            "one",
        )
        ref = int(row["id"])
        yield Stmt("INSERT INTO sessions_fts (rowid, body, meta) VALUES (?, '', '')", (ref,))
        return ref

    def entry_columns(self) -> str:
        return "data"

    def entry_text_column(self) -> str:
        return "data"

    def entry(self, row: Mapping[str, Any]) -> dict[str, Any]:
        return decode_entry(row["data"])

    def insert_entries(self, ref: int, subpath: str, rows: Sequence[NewEntry]) -> Stmt:
        return Stmt(
            "INSERT INTO entries (session_ref, subpath, seq, entry_key, data) "
            "VALUES (?, ?, ?, ?, ?)",
            [(ref, subpath, r.seq, self.text(r.key), r.text) for r in rows],
            many=True,
        )

    def replace_entry(self, ref: int, subpath: str, key: str, text: str) -> Stmt:
        return Stmt(
            "UPDATE entries SET data = ? WHERE entry_key = ? AND session_ref = ? AND subpath = ?",
            (text, self.text(key), ref, subpath),
        )

    def rewrite_entry(self, ref: int, subpath: str, seq: int, text: str) -> Stmt:
        return Stmt(
            "UPDATE entries SET data = ? WHERE session_ref = ? AND subpath = ? AND seq = ?",
            (text, ref, subpath, seq),
        )

    def refresh_tags(self, ref: int) -> Stmt:
        return Stmt(f"UPDATE sessions SET tags = {self.tags_value()} WHERE id = ?", (ref,))

    def tags_value(self) -> str:
        return (
            "(SELECT coalesce(json_group_array(tag), '[]') FROM "
            "(SELECT tag FROM tags WHERE session_ref = sessions.id ORDER BY tag))"
        )

    def set_text(self, ref: int, body: str, meta: str) -> Op[None]:
        yield Stmt("DELETE FROM sessions_fts WHERE rowid = ?", (ref,))
        yield Stmt(
            "INSERT INTO sessions_fts (rowid, body, meta) VALUES (?, ?, ?)",
            (ref, body, clean_text(meta)),
        )

    def append_text(self, ref: int, body: str, meta: str) -> Op[None]:
        yield Stmt(
            "UPDATE sessions_fts SET body = CASE WHEN ?1 = '' THEN body WHEN body = '' THEN ?1 "
            "ELSE body || char(10) || ?1 END, meta = ?2 WHERE rowid = ?3",
            (body, clean_text(meta), ref),
        )

    def set_meta_text(self, ref: int, meta: str) -> Op[None]:
        yield Stmt("UPDATE sessions_fts SET meta = ? WHERE rowid = ?", (clean_text(meta), ref))

    def drop_text(self, refs: Sequence[int]) -> Op[None]:
        yield Stmt(
            f"DELETE FROM sessions_fts WHERE rowid IN ({_placeholders(len(refs))})", list(refs)
        )

    # -- search -------------------------------------------------------------------------

    def search(self, criteria: Criteria) -> Op[list[Found]]:
        models = yield from lead_walk.model_names(self, criteria)
        if models == []:  # no session has such a model
            return []
        clauses, params = conditions(
            self,
            criteria.where,
            trashed=criteria.trashed,
            visible_to=criteria.visible_to,
            models=models,
        )
        limit = -1 if criteria.limit is None else criteria.limit
        if criteria.text is None:
            walks = lead_walk.halves(criteria, models, project=True)
            if walks and not feed.walked_tags(criteria) and not member_listing.serves(criteria):
                rows = yield lead_walk.listing(self, criteria, (clauses, params), walks, limit, -1)
                return [found(self, row, "updated_at") for row in rows]
            return (yield from self._listing(criteria, clauses, params, limit))
        return (yield from self._ranked(criteria, criteria.text, clauses, params, limit))

    def usage(self, criteria: Criteria, by: tuple[str, ...]) -> Op[list[Any]]:
        from claude_sessions.store import rollups  # not on the write path (hooks capture)

        summed = rollups.usage_sql(self, rollups_engine(), criteria, by)
        if summed is not None:  # the sums kept per day and group (see store.rollups)
            return list((yield Stmt(summed[0], summed[1], "all")))
        clauses, params = conditions(self, criteria.where, trashed=criteria.trashed)
        # The covering index in the order of the first grouping, named: without
        # statistics the planner may pick a narrower one and read every wide row.
        # The sessions a model's figures are joined to: from the index of the other
        # grouping, then each one's models by key (CROSS JOIN keeps that order).
        other = next((name for name in by if name != "model"), "day")
        first = by[0] if by else "day"
        days, day_params = _day_range(criteria.where)
        if days:  # a period: the range of it in the day index seeks where a bound alone cannot
            clauses, params = [*clauses, *days], [*params, *day_params]
            # Tag sets are many: the period's rows, grouped apart, beat the whole tags index.
            # Models and projects are few: with the store's statistics SQLite skips through
            # their own index to each one's period (faster than grouping the period apart).
            if first == "tags":
                first = other = "day"
        rows: list[Any] = []
        for sql in usage_sql(
            _DAY,
            by,
            clauses,
            table=_usage_table(first),
            joined=_usage_table(other),
            join="CROSS JOIN",
            hour=_HOUR,
        ):
            rows.extend((yield Stmt(sql, params, "all")))
        return rows

    def _listing(
        self, criteria: Criteria, clauses: list[str], params: list[Any], limit: int
    ) -> Op[list[Found]]:
        column = sort_column(criteria)
        order = f"s.{column} DESC, s.id DESC"
        tags = feed.walked_tags(criteria)
        if tags:  # one tag's page from its own index entries (the rarest of tags all required)
            tag = yield from feed.rarest(self, tags)
            also = tuple(other for other in tags if other != tag)
            rows = yield feed.listing(self, criteria, tag, limit, indexed_by=True, also=also)
            return [found(self, row, column) for row in rows]
        if member_listing.serves(criteria):  # a member's own sessions and the shared ones
            rows = yield member_listing.listing(self, criteria, limit, -1)
            return [found(self, row, column) for row in rows]
        if criteria.cursor is not None:
            # A row value: the index seeks to the cursor (an OR of comparisons scans).
            clauses = [*clauses, f"(s.{column}, s.id) < (?, ?)"]
            params = [*params, criteria.cursor.value, criteria.cursor.ref]
        # Two phases: the page of ids from the indexes alone, then only those rows
        # (a sort over full rows would read every candidate).
        sql = (
            f"SELECT {META_COLUMNS} FROM (SELECT s.id FROM sessions s "
            f"WHERE {' AND '.join(clauses)} ORDER BY {order} LIMIT ? OFFSET ?) AS page "
            f"JOIN sessions s ON s.id = page.id ORDER BY {order}"
        )
        rows = yield Stmt(sql, (*params, limit, criteria.offset), "all")
        return [found(self, row, column) for row in rows]

    def _ranked(
        self,
        criteria: Criteria,
        node: text_query.Node,
        clauses: list[str],
        params: list[Any],
        limit: int,
    ) -> Op[list[Found]]:
        from claude_sessions.store import snippets  # with the first text search
        from claude_sessions.store.locating import located
        from claude_sessions.store.sqlite import newest_text

        if criteria.trashed:  # trashed sessions leave the index
            return []
        if (yield from newest_text.answers_newest(criteria, node)):
            return (yield from newest_text.newest_page(self, criteria, node, clauses, params))
        match = fts_query(node)
        page: list[str] = []
        page_params: list[Any] = []
        if criteria.cursor is not None:
            position = criteria.cursor
            page.append("(score, ref) > (?, ?)")
            page_params = [position.value, position.ref]
        hits_where = f"WHERE {' AND '.join(page)}" if page else ""
        found_params = _match_params(criteria, match, clauses, params)
        matches = _matches(criteria, clauses)
        if criteria.where.aside_places:  # a session may match in both indexes
            matches = f"SELECT ref, min(score) AS score FROM ({matches}) GROUP BY ref"
        hits = yield Stmt(
            f"SELECT ref, score FROM ({matches}) {hits_where} ORDER BY score, ref LIMIT ? OFFSET ?",
            (*found_params, *page_params, limit, criteria.offset),
            "all",
        )
        refs = [int(hit["ref"]) for hit in hits]
        rows_by_ref: dict[int, Any] = {}
        texts: dict[int, tuple[str, str]] = {}
        for start in range(0, len(refs), 500):
            chunk = refs[start : start + 500]
            marks = _placeholders(len(chunk))
            rows = yield Stmt(
                f"SELECT {META_COLUMNS} FROM sessions s WHERE s.id IN ({marks})", chunk, "all"
            )
            rows_by_ref.update((int(row["id"]), row) for row in rows)
            found_texts = yield Stmt(
                "SELECT rowid, meta, substr(body, 1, ?) AS body FROM sessions_fts "
                f"WHERE rowid IN ({marks})",
                (snippets.SCAN_CHARS, *chunk),
                "all",
            )
            texts.update((int(row["rowid"]), (row["meta"], row["body"])) for row in found_texts)
        results = [
            found(
                self,
                rows_by_ref[ref],
                "updated_at",
                snippet=snippets.snippet(texts.get(ref, ()), node),
                rank=hit["score"],
            )
            for hit, ref in zip(hits, refs, strict=True)
            if ref in rows_by_ref
        ]
        return (yield from located(self, results, node, criteria.where.searched_places))


def _matches(criteria: Criteria, clauses: list[str]) -> str:
    """The sessions matching, from the conversation's own index and from the side index
    of tool calls and subagents, each place as the filter asks."""
    parts = []
    if criteria.where.conversation_places:
        if len(clauses) > 1:
            parts.append(
                "SELECT s.id AS ref, bm25(sessions_fts) AS score FROM sessions_fts "
                "JOIN sessions s ON s.id = sessions_fts.rowid "
                f"WHERE sessions_fts MATCH ? AND {' AND '.join(clauses)}"
            )
        else:  # the full-text index alone ranks fastest (it holds live sessions only)
            parts.append(
                "SELECT rowid AS ref, bm25(sessions_fts) AS score FROM sessions_fts "
                "WHERE sessions_fts MATCH ?"
            )
    if criteria.where.aside_places:
        parts.append(_aside_hits(clauses))
    return " UNION ALL ".join(parts)


def _match_params(
    criteria: Criteria, match: str, clauses: list[str], params: list[Any]
) -> list[Any]:
    found: list[Any] = []
    if criteria.where.conversation_places:
        found += [match, *params] if len(clauses) > 1 else [match]
    places = criteria.where.aside_places
    if places and criteria.text is not None:
        aside = f"{{{' '.join(places)}}} : {aside_query(criteria.text)}"
        found += [aside, ASIDE_CANDIDATES, *params]
    return found


def _aside_hits(clauses: list[str]) -> str:
    """The sessions whose tool calls or subagents match, newest first, each scored
    after every match of the conversation's own text (bm25 scores are below 0)."""
    return (
        "SELECT s.id AS ref, 1.0 / (1 + max(hit.chunk)) AS score FROM "
        "(SELECT rowid AS chunk FROM side.said WHERE said MATCH ? "
        "ORDER BY rowid DESC LIMIT ?) AS hit "
        "JOIN side.chunks c ON c.id = hit.chunk "
        "JOIN sessions s ON s.id = c.session_ref AND s.session_id = c.session_id "
        f"WHERE {' AND '.join(clauses)} GROUP BY s.id"
    )


_NAME_PIECE = re.compile(r"[^\W_]+")  # the tokens the full text makes of a tool's name

# The UTC day number of a session's creation ("{}" takes the table's alias and a dot).
DAY_NUMBER = "CAST({}created_at / 86400 AS INTEGER)"
_DAY = DAY_NUMBER.format("s.")


@functools.cache
def rollups_engine() -> rollups.Engine:
    """The usage sums' SQL (see store.rollups): tags are a JSON array. Made on first
    use, as the sums' module is: a write (``hooks capture``) needs neither."""
    from claude_sessions.store import rollups

    return rollups.Engine(
        day=lambda row: DAY_NUMBER.format(f"{row}."),
        each_tag=lambda row: (
            f"json_each(CASE WHEN json_array_length({row}.tags) = 0 THEN '[\"\"]' "
            f"ELSE {row}.tags END) AS each_tag",
            "each_tag.value",
        ),
        tag_set=lambda column: f"CASE WHEN {column} = '' THEN '[]' ELSE json_array({column}) END",
    )


# The hour of the week (0: Thursday 00:00, as 1970-01-01 was): 168 groups at most.
_HOUR = "((CAST(s.created_at / 3600 AS INTEGER) % 168) + 168) % 168"
# What the usage aggregates filter on and add up: each usage index covers it all, and
# leads with its grouping, so grouping reads it in order and needs no sort.
USAGE_COLUMNS = (
    "created_at",
    "total_cost",
    "model",
    "project",
    "project_key",
    "turns",
    "message_count",
    "input_tokens",
    "output_tokens",
    "cache_write_5m_tokens",
    "cache_write_1h_tokens",
    "cache_read_tokens",
    "requests",
    "models_apart",
    "tags",
    "unpriced",
    "from_result",
    "trashed_at",  # always NULL in these partial indexes; named so the planner needs no row
)
USAGE_INDEXES = {
    "day": "usage_by_day",
    "hour": "usage_by_day",  # it holds created_at: no row is read
    "model": "usage_by_model",
    "project": "usage_by_project",
    "tags": "usage_by_tags",
}


def _usage_table(group: str) -> str:
    """The sessions a usage query reads, from the covering index in ``group``'s order
    when there is one (who and where a session was stored have none: the table)."""
    index = USAGE_INDEXES.get(group)
    return f"sessions s INDEXED BY {index}" if index else "sessions s"


def _day_range(where: SessionFilter) -> tuple[list[str], list[Any]]:
    """The bounds of ``created_at`` in ``where`` again, on the day number the usage
    indexes lead with, so that one seeks to the period (the bounds on ``created_at``
    alone cannot). Day numbers only grow with the time: no session is lost."""
    clauses: list[str] = []
    params: list[Any] = []
    for _, spec, value in where.given():
        if spec.columns == ("created_at",) and spec.operator in _DAY_BOUNDS:
            at_most = spec.operator is Operator.AT_MOST
            clauses.append(f"{_DAY} {_DAY_BOUNDS[spec.operator]} CAST(? / 86400 AS INTEGER)")
            params.append(moment_bound(value, end_of_day=at_most))
    return clauses, params


_DAY_BOUNDS = {Operator.AT_LEAST: ">=", Operator.AT_MOST: "<="}


def sort_column(criteria: Criteria) -> str:
    """The column a listing is ordered by (newest or dearest first)."""
    if criteria.trashed:
        return "trashed_at"
    return "total_cost" if criteria.by_cost else "updated_at"
