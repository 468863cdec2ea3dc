"""PostgreSQL's dialect: JSONB entries, ``timestamptz`` times, and ``tsvector`` full text.

Entries are JSONB. The few JSON values JSONB cannot hold exactly (NUL
characters, lone surrogates, numbers written with an exponent, which JSONB
would turn into integers, and ``-0.0``) are kept as exact JSON text in
``raw`` instead, so every entry round-trips.

Full text: a generated ``tsvector`` column over description and title
(weighted above) and the message text, the ``simple`` configuration (no
stemming, no stop words, like SQLite's tokenizer), a GIN index and ``ts_rank``
(snippets come from :mod:`.snippets`). The parsed query (:mod:`.text_query`)
becomes a ``tsquery`` built from parameters only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, timezone
from itertools import zip_longest
from typing import TYPE_CHECKING, Any

from claude_sessions.model.aside_text import AsideText
from claude_sessions.model.entries import NewEntry, decode_entry, parsed
from claude_sessions.model.identity import Identity
from claude_sessions.store import feed, lead_walk, member_listing, rollups
from claude_sessions.store.criteria import Criteria
from claude_sessions.store.dialect import META_COLUMNS, Found, found, meta_text, usage_sql
from claude_sessions.store.plan import Op, Stmt
from claude_sessions.store.postgres.tsqueries import (
    ASIDE_CANDIDATES,
    OWN_WEIGHTS,
    PIECE,
    PUNCTUATION,
    SPACES,
    TS_CONFIG,
    WEIGHTS,
    postgres_text,
    tsquery_sql,
    weighted_tsquery_sql,
)
from claude_sessions.store.sqlite.dialect import sort_column
from claude_sessions.store.where import conditions, ranged

if TYPE_CHECKING:  # the query language loads with the first text search
    from claude_sessions.model import text_query
    from claude_sessions.model.filters import SessionFilter

# The LISTEN/NOTIFY channel a write's notice goes to (see .changes).
CHANGES_CHANNEL = "claude_sessions_changes"


def lock(*parts: str) -> Stmt:
    """A transaction-level advisory lock on a name (released at commit or rollback)."""
    return Stmt("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", ("\x1f".join(parts),))


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_EARLIEST = datetime(1, 1, 2, tzinfo=timezone.utc).timestamp()
_LATEST = datetime(9999, 12, 31, tzinfo=timezone.utc).timestamp()
_EXPONENT_RE = re.compile(r"\d[eE]\+?\d")  # positive: JSONB would make it an integer
# A -0.0 number token (compact separators); a match inside a string only costs a raw copy.
_NEGATIVE_ZERO_RE = re.compile(r"[:,\[]-0\.0(?=[,\]}])")


def jsonb_or_raw(text: str) -> tuple[str | None, str | None]:
    """``(jsonb_text, None)``, or ``(None, json_text)`` when JSONB would alter the value."""
    if (
        "\\u0000" in text
        or "\\ud" in text  # an escaped lone surrogate (the encoder escapes only those)
        or "\\uD" in text
        or (("e" in text or "E" in text) and _EXPONENT_RE.search(text))
        or ("-0.0" in text and _NEGATIVE_ZERO_RE.search(text))
    ):
        return None, text
    return text, None


class PostgresDialect:
    """The :class:`~.dialect.Dialect` of PostgreSQL, for the tables in ``schema``."""

    def __init__(self, schema: str) -> None:
        self.schema = schema

    def sql(self, text: str) -> str:
        return text.replace("?", "%s")

    def change_notice(self) -> Stmt:
        # The schema as payload: stores in other schemas of the database share the channel.
        return Stmt("SELECT pg_notify(%s, %s)", (CHANGES_CHANNEL, self.schema))

    def time(self, epoch: float) -> Any:
        return datetime.fromtimestamp(min(max(epoch, _EARLIEST), _LATEST), tz=timezone.utc)

    def epoch(self, value: Any) -> float:
        moment: datetime = value
        return moment.timestamp()

    def moment(self, value: Any) -> datetime:
        moment: datetime = value
        return moment.astimezone(timezone.utc)

    def sort_value(self, value: Any) -> float | int:
        if isinstance(value, datetime):  # whole microseconds: a float could round them
            return (value - _EPOCH) // timedelta(microseconds=1)
        return float(value)

    def sort_param(self, value: float | int, column: str) -> Any:
        if column == "total_cost":
            return value
        return _EPOCH + timedelta(microseconds=int(value))

    def text(self, value: str | None) -> str | None:
        return postgres_text(value)

    def tags(self, value: Any) -> tuple[str, ...]:
        return tuple(value)

    def any_of(self, column: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
        return f"{column} = ANY(?::text[])", [list(values)]

    def starts_with(self, column: str, prefix: str) -> tuple[str, list[Any]]:
        escaped = re.sub(r"([\\%_])", r"\\\1", postgres_text(prefix) or "")
        return f"({column} COLLATE \"C\") LIKE ? ESCAPE '\\'", [escaped + "%"]

    def contains(self, column: str, text: str) -> tuple[str, list[Any]]:
        escaped = re.sub(r"([\\%_])", r"\\\1", text)
        return f"{column} ILIKE %s ESCAPE '\\'", [f"%{escaped}%"]

    def has_tags(self, tags: Sequence[str], *, every: bool) -> tuple[str, list[Any]]:
        return f"s.tags {'@>' if every else '&&'} %s::text[]", [list(tags)]

    def used_tool(self, name: str) -> tuple[str, list[Any]]:
        pieces = " ".join(PIECE.findall(name)) or "-"
        return (
            "s.id IN (SELECT a.session_ref FROM aside_text a "
            f"WHERE a.tools @@ plainto_tsquery('{TS_CONFIG}', %s))",
            [postgres_text(pieces)],
        )

    def lock(self, *names: str) -> Op[None]:
        yield lock(self.schema, *names)

    def insert_session(
        self, session_id: str, project_key: str, now: float, who: Identity
    ) -> Op[int]:
        row = yield Stmt(
            "INSERT INTO sessions (session_id, project_key, created_at, updated_at, "
            "user_name, machine, shared) "
            "VALUES (%s, %s, %s, %s, %s, %s, "
            # a user who shares by default: their new sessions start shared
            "CASE WHEN EXISTS (SELECT 1 FROM users WHERE linked_user = %s "
            "AND share_by_default = 1) THEN 1 ELSE 0 END) RETURNING id",
            (
                session_id,
                postgres_text(project_key),
                self.time(now),
                self.time(now),
                postgres_text(who.user),
                postgres_text(who.machine),
                postgres_text(who.user),
            ),
            "one",
        )
        return int(row["id"])

    def entry_columns(self) -> str:
        return "data, raw"

    def entry_text_column(self) -> str:
        return "coalesce(raw, data::text)"

    def entry(self, row: Mapping[str, Any]) -> dict[str, Any]:
        raw = row["raw"]
        value: dict[str, Any] = decode_entry(raw) if raw is not None else row["data"]
        return value

    def insert_entries(self, ref: int, subpath: str, rows: Sequence[NewEntry]) -> Stmt:
        stored = [jsonb_or_raw(r.text) for r in rows]
        return Stmt(
            "INSERT INTO entries (session_ref, subpath, seq, entry_key, data, raw) "
            "SELECT %s, %s, t.seq, t.entry_key, t.data::jsonb, t.raw "
            # Binary parameters (%b): big JSON texts need no array-literal escaping.
            "FROM unnest(%b::int[], %b::text[], %b::text[], %b::text[]) "
            "AS t(seq, entry_key, data, raw)",
            (
                ref,
                postgres_text(subpath),
                [r.seq for r in rows],
                [postgres_text(r.key) for r in rows],
                [data for data, _ in stored],
                [raw for _, raw in stored],
            ),
        )

    def replace_entry(self, ref: int, subpath: str, key: str, text: str) -> Stmt:
        data, raw = jsonb_or_raw(text)
        return Stmt(
            "UPDATE entries SET data = %s::jsonb, raw = %s WHERE session_ref = %s "
            "AND subpath = %s AND entry_key = %s",
            (data, raw, ref, postgres_text(subpath), postgres_text(key)),
        )

    def rewrite_entry(self, ref: int, subpath: str, seq: int, text: str) -> Stmt:
        data, raw = jsonb_or_raw(text)
        return Stmt(
            "UPDATE entries SET data = %s::jsonb, raw = %s "
            "WHERE session_ref = %s AND subpath = %s AND seq = %s",
            (data, raw, ref, postgres_text(subpath), seq),
        )

    def refresh_tags(self, ref: int) -> Stmt:
        return Stmt(f"UPDATE sessions SET tags = {self.tags_value()} WHERE id = %s", (ref,))

    def tags_value(self) -> str:
        return (
            'ARRAY(SELECT tag FROM tags WHERE session_ref = sessions.id ORDER BY tag COLLATE "C")'
        )

    def set_text(self, ref: int, body: str, meta: str) -> Op[None]:
        # The tsvector is generated from body, description and title: meta needs nothing.
        yield Stmt("UPDATE sessions SET body = %s WHERE id = %s", (postgres_text(body), ref))

    def append_text(self, ref: int, body: str, meta: str) -> Op[None]:
        if body:
            yield Stmt(
                "UPDATE sessions SET body = CASE WHEN body = '' THEN %s "
                "ELSE body || E'\\n' || %s END WHERE id = %s",
                (postgres_text(body), postgres_text(body), ref),
            )

    def set_meta_text(self, ref: int, meta: str) -> Op[None]:
        return
        yield  # pragma: no cover - makes this a generator

    def drop_text(self, refs: Sequence[int]) -> Op[None]:
        return  # searches filter trashed rows out
        yield  # pragma: no cover - makes this a generator

    def index_aside(self, ref: int, subpath: str, rows: Sequence[NewEntry]) -> Op[None]:
        said = AsideText(subagent=bool(subpath))
        for row in rows:
            said.add(parsed(row.entry, row.text))
        got = said.take()
        texts = (got.tool, got.subagent, got.prompt, got.reply)
        pieces = list(zip_longest(*map(_slices, texts), fillvalue=""))
        if got.names and not pieces:
            pieces = [("", "", "", "")]
        if not pieces:
            return
        vector = f"to_tsvector('{TS_CONFIG}', translate(%s, %s, %s))"
        yield Stmt(
            "INSERT INTO aside_text (session_ref, subpath, search, tools, own) VALUES "
            f"(%s, %s, setweight({vector}, 'C') || setweight({vector}, 'D'), {vector}, "
            f"setweight({vector}, 'A') || setweight({vector}, 'B'))",
            [
                (
                    ref,
                    postgres_text(subpath),
                    *(postgres_text(piece[0]), PUNCTUATION, SPACES),
                    *(postgres_text(piece[1]), PUNCTUATION, SPACES),
                    *(postgres_text(got.names if at == 0 else ""), PUNCTUATION, SPACES),
                    *(postgres_text(piece[2]), PUNCTUATION, SPACES),
                    *(postgres_text(piece[3]), PUNCTUATION, SPACES),
                )
                for at, piece in enumerate(pieces)
            ],
            many=True,
        )

    def forget_aside(self, ref: int, subpath: str | None) -> Op[None]:
        if subpath is None:
            yield Stmt("DELETE FROM aside_text WHERE session_ref = %s", (ref,))
        else:
            yield Stmt(
                "DELETE FROM aside_text WHERE session_ref = %s AND subpath = %s",
                (ref, postgres_text(subpath)),
            )

    def reindex_aside(self, ref: int) -> Op[None]:
        yield from self.forget_aside(ref, None)
        rows = yield Stmt(
            f"SELECT subpath, seq, {self.entry_columns()} FROM entries WHERE session_ref = %s "
            "ORDER BY subpath, seq",
            (ref,),
            "all",
        )
        transcripts: dict[str, list[NewEntry]] = {}
        for row in rows:
            entry = NewEntry(int(row["seq"]), None, self.entry(row), "")
            transcripts.setdefault(str(row["subpath"]), []).append(entry)
        for subpath, entries in transcripts.items():
            yield from self.index_aside(ref, subpath, entries)

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
        if criteria.text is None:
            walks = lead_walk.halves(criteria, models, project=False)
            if walks and not feed.walked_tags(criteria) and not member_listing.serves(criteria):
                found_where = (clauses, params)
                rows = yield lead_walk.listing(
                    self, criteria, found_where, walks, criteria.limit, None
                )
                return [found(self, row, "updated_at") for row in rows]
            return (yield from self._listing(criteria, clauses, params))
        return (yield from self._ranked(criteria, criteria.text, clauses, params))

    def usage(self, criteria: Criteria, by: tuple[str, ...]) -> Op[list[Any]]:
        summed = rollups.usage_sql(self, ROLLUPS, criteria, by)
        if summed is not None:  # the sums kept per day and group (see store.rollups)
            return list((yield Stmt(summed[0], summed[1], "all")))
        clauses, params = conditions(self, criteria.where, trashed=criteria.trashed)
        rows: list[Any] = []
        for sql in usage_sql(_DAY, by, clauses, hour=_HOUR):
            rows.extend((yield Stmt(sql, params, "all")))
        return rows

    def _listing(
        self, criteria: Criteria, clauses: list[str], params: list[Any]
    ) -> Op[list[Found]]:
        column = sort_column(criteria)
        key = f"s.{column}"
        tags = feed.walked_tags(criteria)
        # One tag's page from its own index entries. Several tags all required: the GIN
        # index of the tag arrays finds the sessions having every one in one probe.
        if len(tags) == 1:
            rows = yield feed.listing(self, criteria, tags[0], criteria.limit, indexed_by=False)
            return [found(self, row, column) for row in rows]
        if member_listing.serves(criteria):  # a member's own sessions and the shared ones
            rows = yield member_listing.listing(self, criteria, criteria.limit, None)
            return [found(self, row, column) for row in rows]
        if criteria.cursor is not None:
            position = self.sort_param(criteria.cursor.value, column)
            clauses = [*clauses, f"({key}, s.id) < (%s, %s)"]
            params = [*params, position, criteria.cursor.ref]
        where = " AND ".join(clauses)
        if criteria.by_cost or not ranged(criteria.where):
            # Walk the index of the order (updated_at, or the cost: a cost range then
            # stops early), filtering on the way.
            sql = (
                f"SELECT {META_COLUMNS} FROM sessions s WHERE {where} "
                f"ORDER BY {key} DESC, s.id DESC LIMIT %s OFFSET %s"
            )
        else:
            # A date or cost range, newest first: take its rows from the range's
            # index, then sort them. (Walking updated_at and filtering, the planner's usual choice,
            # reads most of the table when the range lies in the past.)
            sql = (
                f"WITH hits AS MATERIALIZED (SELECT s.id, {key} AS sort FROM sessions s "
                f"WHERE {where}) SELECT {META_COLUMNS} FROM (SELECT id, sort FROM hits "
                "ORDER BY sort DESC, id DESC LIMIT %s OFFSET %s) AS page "
                f"JOIN sessions s ON s.id = page.id ORDER BY page.sort DESC, page.id DESC"
            )
        rows = yield Stmt(sql, (*params, criteria.limit, criteria.offset), "all")
        return [found(self, row, column) for row in rows]

    def _ranked(
        self,
        criteria: Criteria,
        node: text_query.Node,
        clauses: list[str],
        params: list[Any],
    ) -> Op[list[Found]]:

        from claude_sessions.store import snippets  # with the first text search
        from claude_sessions.store.locating import located
        from claude_sessions.store.postgres import newest_text

        if (yield from newest_text.answers_newest(criteria, node)):
            return (yield from newest_text.newest_page(self, criteria, node, clauses, params))
        matching, match_params = _matching(criteria.where, node, clauses, params)
        page = ""
        page_params: list[Any] = []
        if criteria.cursor is not None:
            position = criteria.cursor
            page = "WHERE (ranked.score, ranked.id) > (%s, %s)"
            page_params = [position.value, position.ref]
        sql = (
            f"SELECT {META_COLUMNS}, hits.score, left(s.body, %s) AS body "
            "FROM (SELECT ranked.id, ranked.score FROM (SELECT id, min(score) AS score "
            f"FROM ({matching}) AS found GROUP BY id) "
            f"AS ranked {page} ORDER BY ranked.score, ranked.id LIMIT %s OFFSET %s) AS hits "
            "JOIN sessions s ON s.id = hits.id ORDER BY hits.score, hits.id"
        )
        rows = yield Stmt(
            sql,
            (
                snippets.SCAN_CHARS,
                *match_params,
                *page_params,
                criteria.limit,
                criteria.offset,
            ),
            "all",
        )
        results = [
            found(
                self,
                row,
                "updated_at",
                snippet=snippets.snippet(
                    (meta_text(row["description"], row["title"]), row["body"]), node
                ),
                rank=float(row["score"]),
            )
            for row in rows
        ]
        return (yield from located(self, results, node, criteria.where.searched_places))


# A tsvector holds at most 1 MB: longer text is indexed in slices of this many characters.
_SLICE_CHARS = 200_000


def _slices(text: str) -> list[str]:
    return [text[at : at + _SLICE_CHARS] for at in range(0, len(text), _SLICE_CHARS)]


_DAY = "floor(extract(epoch FROM s.created_at) / 86400)::bigint"
# The usage sums' SQL (see store.rollups): tags are a text[].
ROLLUPS = rollups.Engine(
    day=lambda row: f"floor(extract(epoch FROM {row}.created_at) / 86400)::bigint",
    each_tag=lambda row: (
        f"unnest(CASE WHEN cardinality({row}.tags) = 0 THEN ARRAY['']::text[] "
        f"ELSE {row}.tags END) AS each_tag(tag)",
        "each_tag.tag",
    ),
    tag_set=lambda column: f"CASE WHEN {column} = '' THEN '{{}}'::text[] ELSE ARRAY[{column}] END",
)
# The hour of the week (0: Thursday 00:00, as 1970-01-01 was): 168 groups at most.
# mod(), not %: the statement goes through psycopg's placeholders whenever a filter adds one.
_HOUR = "mod(mod(floor(extract(epoch FROM s.created_at) / 3600)::bigint, 168) + 168, 168)"


def _matching(
    where: SessionFilter, node: text_query.Node, clauses: list[str], params: list[Any]
) -> tuple[str, list[Any]]:
    """The sessions matching and their scores, from the conversation's text and from
    tool calls and subagents (each scored after every match of the conversation's
    own text), each place as the filter asks."""
    extra = "".join(f" AND {clause}" for clause in clauses)
    parts: list[str] = []
    values: list[Any] = []
    if where.conversation_places:
        tsparams: list[Any] = []
        # The tsquery is built from parameters only, so it is folded once at plan time.
        parts.append(
            "SELECT s.id, -ts_rank(s.search, fq.q)::float8 AS score FROM sessions s, "
            f"(SELECT {tsquery_sql(node, tsparams)} AS q) AS fq WHERE s.search @@ fq.q{extra}"
        )
        values += [*tsparams, *params]
    aside_places = tuple(place for place in where.aside_places if place in WEIGHTS)
    if aside_places:
        aside: list[Any] = []
        # The matching rows from the word index first (OFFSET 0 keeps the planner from
        # walking the newest rows and testing each one), then the newest of them; a
        # search kept to one place tests only those for its weight.
        joined, kept = "", ""
        if len(aside_places) == 1:
            weight = WEIGHTS[aside_places[0]]
            joined = " JOIN aside_text w ON w.id = hit.id"
            kept = f" AND ts_filter(w.search, '{{{weight}}}') @@ hit.q"
        parts.append(
            "SELECT s.id, (1.0 / (1 + max(hit.id)))::float8 AS score FROM "
            "(SELECT m.id, m.session_ref, m.q FROM "
            "(SELECT a.id, a.session_ref, aq.q FROM aside_text a, "
            f"(SELECT {tsquery_sql(node, aside, split=True)} AS q) AS aq "
            "WHERE a.search @@ aq.q OFFSET 0) AS m ORDER BY m.id DESC LIMIT %s) AS hit"
            f"{joined} JOIN sessions s ON s.id = hit.session_ref "
            f"WHERE true{kept}{extra} GROUP BY s.id"
        )
        values += [*aside, ASIDE_CANDIDATES, *params]
    own_places = tuple(place for place in where.aside_places if place in OWN_WEIGHTS)
    if own_places:
        parts.append(_own_matching(node, own_places, extra, values))
        values += params
    return " UNION ALL ".join(parts), values


def _own_matching(
    node: text_query.Node, places: Sequence[str], extra: str, values: list[Any]
) -> str:
    """The sessions whose prompts or replies (``places``: one of them, which the
    conversation's own text holds together) match, from ``aside_text.own``, whose
    lexemes are weighted by place; scored as tool and subagent matches are."""
    weights = "".join(OWN_WEIGHTS[place] for place in places)
    query = weighted_tsquery_sql(node, values, weights)
    values.append(ASIDE_CANDIDATES)
    return (
        "SELECT s.id, (1.0 / (1 + max(hit.id)))::float8 AS score FROM "
        "(SELECT m.id, m.session_ref FROM (SELECT a.id, a.session_ref FROM aside_text a, "
        f"(SELECT {query} AS q) AS oq WHERE a.own @@ oq.q OFFSET 0) AS m "
        "ORDER BY m.id DESC LIMIT %s) AS hit JOIN sessions s ON s.id = hit.session_ref "
        f"WHERE true{extra} GROUP BY s.id"
    )
