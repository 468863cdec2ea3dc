"""Usage sums kept per day, project, user and machine (and model, and tag), so that usage
reports and ``stats`` read a few rows per day instead of every session.

Seven tables, both databases. ``usage_rollup_days`` holds, per day, project, user
and machine, the sums a
usage query without a model grouping adds up over sessions;
``usage_rollup_models`` those by model, where each request counts under its own
model (a session whose requests were all of its own model under it, the others
per ``session_models`` row), as :func:`~claude_sessions.store.dialect.usage_sql`
counts them. ``usage_rollup_tags`` and ``usage_rollup_tag_models`` are the same
per day and tag, once per tag of each session (``''``: none), for reports by tag
or of one tag. ``usage_rollup_day_totals``, ``usage_rollup_day_models`` and
``usage_rollup_day_projects`` are the first two per day alone, per day and model and per
day and project: with many projects, users and machines nearly every session has a row
of its own in the first two, so a report that needs no more reads these few rows a day
instead.

Triggers keep them in the same transaction as every write: a change of a
``sessions`` row takes the old row's share out and puts the new one's in (a
trashed session has none), a change of a ``session_models`` row does the same
for that row's share. Each trigger sees one table change with the other table
as it is, so the sums stay exact whatever order a write changes them in. A
session's delete takes its share out before the row goes (its model rows are
still there); their own deletes, which follow, find no session and change
nothing. Groups whose sessions all left keep a row with nothing in it, which
reads skip.

A query the sums cannot answer (text, cost, model name or branch filters, several
tags, a tag filter beside a grouping by tag, a tag with a project, user or machine,
a time bound inside a day, trashed sessions, the hour of the week) reads the
sessions as before.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from claude_sessions.model.filters import Operator, moment_bound
from claude_sessions.store.records import SUM_COLUMNS

if TYPE_CHECKING:
    from claude_sessions.store.criteria import Criteria
    from claude_sessions.store.dialect import Dialect


@dataclass(frozen=True)
class Engine:
    """What the sums' SQL needs of a database: ``day`` (a row's UTC day number from its
    ``created_at``), ``each_tag`` (a FROM item giving one row per tag of a session row's
    tags, one ``''`` row when it has none, and that column) and ``tag_set`` (a tag
    column as a tag set, as ``sessions.tags`` holds one)."""

    day: Callable[[str], str]
    each_tag: Callable[[str], tuple[str, str]]
    tag_set: Callable[[str], str]


@dataclass(frozen=True)
class Table:
    """One table of sums: by day, and by tag and by model when it says so, and by the
    place columns it names (project, user, machine: ``places``)."""

    name: str
    by_tag: bool
    by_model: bool
    places: tuple[str, ...]

    @property
    def keys(self) -> list[str]:
        tag = ["tag"] if self.by_tag else []
        return ["day", *tag, *self.places, *(["model"] if self.by_model else [])]


PLACE_COLUMNS = ("project", "project_key", "user_name", "machine")
PROJECT = ("project", "project_key")
DAYS = Table("usage_rollup_days", by_tag=False, by_model=False, places=PLACE_COLUMNS)
MODELS = Table("usage_rollup_models", by_tag=False, by_model=True, places=PLACE_COLUMNS)
# A session counts once per tag: its places too would make about as many rows as
# sessions (tags by project), where the tags alone make a few per day.
TAGS = Table("usage_rollup_tags", by_tag=True, by_model=False, places=())
TAG_MODELS = Table("usage_rollup_tag_models", by_tag=True, by_model=True, places=())
DAY_TOTALS = Table("usage_rollup_day_totals", by_tag=False, by_model=False, places=())
DAY_MODELS = Table("usage_rollup_day_models", by_tag=False, by_model=True, places=())
DAY_PROJECTS = Table("usage_rollup_day_projects", by_tag=False, by_model=False, places=PROJECT)
TABLES = (DAYS, MODELS, TAGS, TAG_MODELS, DAY_TOTALS, DAY_MODELS, DAY_PROJECTS)
COARSE = (DAY_TOTALS, DAY_MODELS, DAY_PROJECTS)  # the tables a later schema step added
# The sessions columns a session's share is made of: only their changes touch the sums.
SESSION_INPUTS = (
    "created_at",
    "project",
    "project_key",
    "tags",
    "user_name",
    "machine",
    "model",
    "message_count",
    "turns",
    "requests",
    "models_apart",
    "total_cost",
    "input_tokens",
    "output_tokens",
    "unpriced",
    "cache_write_5m_tokens",
    "cache_write_1h_tokens",
    "cache_read_tokens",
    "from_result",
    "trashed_at",
)
_CACHE = ("cache_write_5m_tokens", "cache_write_1h_tokens", "cache_read_tokens")


def create_table(table: Table, types: dict[str, str], suffix: str = "") -> str:
    """CREATE TABLE of one table (``types``: the engine's type of ``day``, ``text``,
    ``count`` and ``cost``), keyed by its groups."""
    groups = [f"{c} {types['day' if c == 'day' else 'text']} NOT NULL" for c in table.keys]
    sums = [
        f"{c} {types['cost' if c == 'cost' else 'count']} NOT NULL DEFAULT 0" for c in SUM_COLUMNS
    ]
    columns = ", ".join([*groups, *sums, f"PRIMARY KEY ({', '.join(table.keys)})"])
    return f"CREATE TABLE IF NOT EXISTS {table.name} ({columns}){suffix}"


@dataclass(frozen=True)
class _Share:
    """One part of a session's share in a table: its values (groups, then sums), the
    FROM items beside the session row, and the conditions."""

    table: Table
    values: list[str]
    sources: list[str]
    conditions: list[str]


def _own_sums(s: str, sign: int, turns: str) -> list[str]:
    """A session's own figures (``turns``: its turns, or its requests by model)."""
    return [
        f"{sign}",
        f"{sign} * {s}.message_count",
        f"{sign} * {s}.{turns}",
        f"{sign} * {s}.total_cost",
        f"{sign} * {s}.input_tokens",
        f"{sign} * {s}.output_tokens",
        f"{sign} * CASE WHEN {s}.unpriced IS NULL THEN 0 ELSE 1 END",
        *(f"{sign} * {s}.{c}" for c in _CACHE),
        f"{sign} * {s}.from_result",
    ]


def _model_sums(m: str, s: str, sign: int) -> list[str]:
    """The figures of the ``session_models`` row ``m`` of session ``s``."""
    read = " + ".join(f"{m}.{c}" for c in ("input_tokens", *_CACHE))
    return [
        f"{sign}",
        f"{sign} * {s}.message_count",
        f"{sign} * {m}.requests",
        f"{sign} * {m}.cost",
        f"{sign} * ({read})",
        f"{sign} * {m}.output_tokens",
        f"{sign} * CASE WHEN {m}.unpriced_requests = 0 THEN 0 ELSE 1 END",
        *(f"{sign} * {m}.{c}" for c in _CACHE),
        f"{sign} * {s}.from_result",
    ]


def _shares(engine: Engine, s: str, m: str | None, sign: int) -> list[_Share]:
    """The parts of session row ``s``'s share in every table; with ``m`` (a
    ``session_models`` row) only that row's part (``s`` is then read beside it)."""
    live = [f"{s}.trashed_at IS NULL"]
    shares: list[_Share] = []
    for table in TABLES:
        tags, tag = engine.each_tag(s)
        sources = [tags] if table.by_tag else []
        groups = [engine.day(s), *([tag] if table.by_tag else [])]
        groups += [
            f"coalesce({s}.project, '')" if c == "project" else f"{s}.{c}" for c in table.places
        ]
        apart = [*live, f"{s}.models_apart <> 0", f"{m or 'sm'}.session_ref = {s}.id"]
        if m is None and not table.by_model:
            shares.append(_Share(table, [*groups, *_own_sums(s, sign, "turns")], sources, live))
        elif m is None:
            own = [*groups, f"coalesce({s}.model, '')", *_own_sums(s, sign, "requests")]
            shares.append(_Share(table, own, sources, [*live, f"{s}.models_apart = 0"]))
            rows = [*groups, "sm.model", *_model_sums("sm", s, sign)]
            shares.append(_Share(table, rows, ["session_models sm", *sources], apart))
        elif table.by_model:
            values = [*groups, f"{m}.model", *_model_sums(m, s, sign)]
            shares.append(_Share(table, values, [f"sessions {s}", *sources], apart))
    return shares


def _upsert(share: _Share) -> str:
    keys = share.table.keys
    columns = [*keys, *SUM_COLUMNS]
    table = share.table.name
    added = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in SUM_COLUMNS)
    sources = f"FROM {', '.join(share.sources)} " if share.sources else ""
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(share.values)} "
        f"{sources}WHERE {' AND '.join(share.conditions)} "
        f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {added}"
    )


def session_share(engine: Engine, s: str, sign: int) -> list[str]:
    """Statements adding (``sign`` 1) or taking out (-1) the share of the session row
    ``s`` (``OLD`` or ``NEW`` in a trigger) in every table."""
    return [_upsert(share) for share in _shares(engine, s, None, sign)]


def model_row_share(engine: Engine, m: str, sign: int) -> list[str]:
    """Statements adding or taking out the share of the ``session_models`` row ``m``
    (``OLD`` or ``NEW``): only while its session is live and has requests apart."""
    return [_upsert(share) for share in _shares(engine, "s", m, sign)]


def fill(engine: Engine, tables: tuple[Table, ...] = TABLES) -> list[str]:
    """Statements that make ``tables`` anew from the stored sessions (an upgrade)."""
    statements = [f"DELETE FROM {table.name}" for table in tables]
    for table in tables:
        parts = [share for share in _shares(engine, "s", None, 1) if share.table == table]
        selects = " UNION ALL ".join(
            f"SELECT {_named(table, share.values)} "
            f"FROM {', '.join(['sessions s', *share.sources])} "
            f"WHERE {' AND '.join(share.conditions)}"
            for share in parts
        )
        keys = ", ".join(table.keys)
        sums = ", ".join(f"sum({c})" for c in SUM_COLUMNS)
        statements.append(
            f"INSERT INTO {table.name} ({keys}, {', '.join(SUM_COLUMNS)}) "
            f"SELECT {keys}, {sums} FROM ({selects}) AS shares GROUP BY {keys}"
        )
    return statements


def _named(table: Table, values: list[str]) -> str:
    columns = [*table.keys, *SUM_COLUMNS]
    return ", ".join(f"{value} AS {column}" for value, column in zip(values, columns, strict=True))


# -- reading ------------------------------------------------------------------------------

_GROUPS = {
    "day": ("s.day",),
    "project": ("nullif(s.project, '')", "s.project_key"),
    "user": ("s.user_name",),
    "machine": ("s.machine",),
    "model": ("nullif(s.model, '')",),
}
_EQUALS = {PROJECT, ("user_name",), ("machine",)}
_PLACES = {"project": PROJECT, "user": ("user_name",), "machine": ("machine",)}
DAY_SECONDS = 86400


def usage_sql(
    d: Dialect, engine: Engine, criteria: Criteria, by: tuple[str, ...]
) -> tuple[str, list[Any]] | None:
    """The query reading the sums for a usage of ``criteria`` grouped ``by`` (the
    columns :func:`~claude_sessions.store.dialect.usage_sql` gives), or ``None`` when
    the sums cannot answer it."""
    if criteria.trashed or criteria.visible_to is not None or "hour" in by:
        return None
    found = _conditions(d, criteria)
    if found is None:
        return None
    clauses, params, one_tag, placed = found
    if one_tag is not None and "tags" in by:
        return None  # the other tags of the sessions having it are not in these rows
    table = _table(by, one_tag is not None, placed)
    if table is None:
        return None  # the sums by tag are not kept by place
    if one_tag is not None:
        clauses, params = [d.sql("s.tag = ?"), *clauses], [one_tag, *params]
    groups = {**_GROUPS, "tags": (engine.tag_set("s.tag"),)}
    keys = [
        f"{column} AS g_{name}_{position}"
        for name in by
        for position, column in enumerate(groups[name])
    ]
    sums = [f"coalesce(sum(s.{column}), 0) AS {column}" for column in SUM_COLUMNS]
    group = f" GROUP BY {', '.join(str(n) for n in range(1, len(keys) + 1))}" if keys else ""
    sql = (
        f"SELECT {', '.join([*keys, *sums])} FROM {table.name} s "
        f"WHERE {' AND '.join(['s.sessions > 0', *clauses])}{group}"
    )
    return sql, params


def _table(by: tuple[str, ...], one_tag: bool, placed: set[str]) -> Table | None:
    """The table with the fewest places (so the fewest rows) that keeps the groups
    ``by`` and the place columns ``placed`` filters name."""
    by_tag = "tags" in by or one_tag
    needed = placed | {c for name in by for c in _PLACES.get(name, ())}
    kept = [
        t
        for t in TABLES
        if (t.by_tag, t.by_model) == (by_tag, "model" in by) and needed <= set(t.places)
    ]
    return min(kept, key=lambda t: len(t.places), default=None)


def _conditions(
    d: Dialect, criteria: Criteria
) -> tuple[list[str], list[Any], str | None, set[str]] | None:
    """The filters as conditions on the sums' rows, the one tag asked for (if any) and
    the place columns they name; ``None`` when a filter is not one the sums can
    answer."""
    clauses: list[str] = []
    params: list[Any] = []
    one_tag: str | None = None
    placed: set[str] = set()
    for _, spec, value in criteria.where.given():
        operator = spec.operator
        if operator is Operator.MODIFIES:
            continue
        if operator is Operator.HAS_TAGS and len(set(value)) == 1:
            one_tag = d.text(value[0]) or ""
            continue
        if operator is Operator.EQUALS and spec.columns in _EQUALS:
            clause = "(" + " OR ".join(f"s.{c} = ?" for c in spec.columns) + ")"
            values: list[Any] = [d.text(value)] * len(spec.columns)
            placed.update(spec.columns)
        elif spec.columns == ("created_at",) and operator in (Operator.AT_LEAST, Operator.AT_MOST):
            day = _whole_day(moment_bound(value, end_of_day=operator is Operator.AT_MOST), operator)
            if day is None:
                return None
            clause, values = f"s.day {'>=' if operator is Operator.AT_LEAST else '<='} ?", [day]
        else:
            return None
        clauses.append(d.sql(clause))
        params.extend(values)
    return clauses, params, one_tag, placed


def _whole_day(bound: float, operator: Operator) -> int | None:
    """The day a time bound falls on when it keeps or leaves out whole days (from a
    day's start, or to its last microsecond); ``None`` for a bound inside a day."""
    if operator is Operator.AT_LEAST:
        return int(bound // DAY_SECONDS) if bound % DAY_SECONDS == 0 else None
    end = bound + 1e-6
    if abs(end - round(end / DAY_SECONDS) * DAY_SECONDS) < 1e-4:
        return round(end / DAY_SECONDS) - 1
    return None
