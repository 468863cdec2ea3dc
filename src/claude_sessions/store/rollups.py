"""Usage sums kept per day, project, tag set, user and machine (and model), so that usage
reports and ``stats`` read a few rows per day instead of every session.

Two tables, both databases: ``usage_rollup_days`` holds, per group, the sums a usage
query without a model grouping adds up over sessions; ``usage_rollup_models`` those
by model, where each request counts under its own model (a session whose
requests were all of its own model under it, the others per ``session_models``
row), as :func:`~claude_sessions.store.dialect.usage_sql` counts them.

Triggers keep them in the same transaction as every write: a change of a
``sessions`` row takes the old row's share out and puts the new one's in (a
trashed session has none), a change of a ``session_models`` row does the same
for that row's share. Each trigger sees one table change with the other table
as it is, so the sums stay exact whatever order a write changes them in. A
session's delete takes its share out before the row goes (its model rows are
still there); their own deletes, which follow, find no session and change
nothing. Groups whose sessions all left keep a row with nothing in it, which
reads skip.

A query the sums cannot answer (text, cost, model name or branch filters, a
time bound inside a day, trashed sessions, the hour of the week) reads the
sessions as before.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from claude_sessions.model.filters import Operator, moment_bound

if TYPE_CHECKING:
    from claude_sessions.store.criteria import Criteria
    from claude_sessions.store.dialect import Dialect

DAY_TABLE = "usage_rollup_days"
MODEL_TABLE = "usage_rollup_models"
GROUP_COLUMNS = ("day", "project", "project_key", "tags", "user_name", "machine")
SUM_COLUMNS = (
    "sessions",
    "messages",
    "turns",
    "cost",
    "input_tokens",
    "output_tokens",
    "unpriced",
    "cache_write_5m_tokens",
    "cache_write_1h_tokens",
    "cache_read_tokens",
    "from_result",
)
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


def create_table(table: str, types: dict[str, str], suffix: str = "") -> str:
    """CREATE TABLE of either table (``types``: the engine's type of ``day``, ``text``,
    ``tags``, ``count`` and ``cost``), keyed by its groups."""
    kinds = {"day": "day", "tags": "tags", "cost": "cost"}
    keys = _keys(table == MODEL_TABLE)
    groups = [f"{c} {types[kinds.get(c, 'text')]} NOT NULL" for c in keys]
    sums = [f"{c} {types[kinds.get(c, 'count')]} NOT NULL DEFAULT 0" for c in SUM_COLUMNS]
    columns = ", ".join([*groups, *sums, f"PRIMARY KEY ({', '.join(keys)})"])
    return f"CREATE TABLE IF NOT EXISTS {table} ({columns}){suffix}"


def _keys(with_model: bool) -> list[str]:
    return [*GROUP_COLUMNS, *(["model"] if with_model else [])]


def _upsert(table: str, with_model: bool, values: list[str], source: str) -> str:
    keys = _keys(with_model)
    columns = [*keys, *SUM_COLUMNS]
    added = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in SUM_COLUMNS)
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(values)} {source} "
        f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {added}"
    )


def _group_values(day: Callable[[str], str], s: str) -> list[str]:
    return [day(s), f"coalesce({s}.project, '')", *(f"{s}.{c}" for c in GROUP_COLUMNS[2:])]


def _own_values(s: str, sign: int, turns: str) -> list[str]:
    """A session's share under its own grouping (``turns``: its turns, or its requests
    when grouped by model)."""
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


def session_share(day: Callable[[str], str], s: str, sign: int) -> list[str]:
    """Statements adding (``sign`` 1) or taking out (-1) the share of the session row
    ``s`` (``OLD`` or ``NEW`` in a trigger) in both tables; ``day``: the engine's day
    number of a row's ``created_at``."""
    live = f"WHERE {s}.trashed_at IS NULL"
    groups = _group_values(day, s)
    return [
        _upsert(DAY_TABLE, False, [*groups, *_own_values(s, sign, "turns")], live),
        _upsert(
            MODEL_TABLE,
            True,
            [*groups, f"coalesce({s}.model, '')", *_own_values(s, sign, "requests")],
            f"{live} AND {s}.models_apart = 0",
        ),
        _upsert(
            MODEL_TABLE,
            True,
            [*groups, *_model_row_share("m", s, sign)],
            f"FROM session_models m {live} AND {s}.models_apart <> 0 AND m.session_ref = {s}.id",
        ),
    ]


def _model_row_share(m: str, s: str, sign: int) -> list[str]:
    read = " + ".join(f"{m}.{c}" for c in ("input_tokens", *_CACHE))
    return [
        f"{m}.model",
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


def model_row_share(day: Callable[[str], str], m: str, sign: int) -> str:
    """The statement adding or taking out the share of the ``session_models`` row ``m``
    (``OLD`` or ``NEW``): only while its session is live and has requests apart."""
    return _upsert(
        MODEL_TABLE,
        True,
        [*_group_values(day, "s"), *_model_row_share(m, "s", sign)],
        f"FROM sessions s WHERE s.id = {m}.session_ref AND s.trashed_at IS NULL "
        "AND s.models_apart <> 0",
    )


def fill(day: Callable[[str], str]) -> list[str]:
    """Statements that make both tables anew from the stored sessions (an upgrade)."""
    groups = _group_values(day, "s")
    live = "WHERE s.trashed_at IS NULL"
    by_day = _named(False, [*groups, *_own_values("s", 1, "turns")])
    own = _named(True, [*groups, "coalesce(s.model, '')", *_own_values("s", 1, "requests")])
    apart = _named(True, [*groups, *_model_row_share("m", "s", 1)])
    each_model = (
        f"SELECT {own} FROM sessions s {live} AND s.models_apart = 0 UNION ALL "
        f"SELECT {apart} FROM sessions s JOIN session_models m ON m.session_ref = s.id "
        f"{live} AND s.models_apart <> 0"
    )
    return [
        f"DELETE FROM {DAY_TABLE}",
        f"DELETE FROM {MODEL_TABLE}",
        _summed(DAY_TABLE, False, f"SELECT {by_day} FROM sessions s {live}"),
        _summed(MODEL_TABLE, True, each_model),
    ]


def _named(with_model: bool, values: list[str]) -> str:
    return ", ".join(
        f"{value} AS {column}"
        for value, column in zip(values, [*_keys(with_model), *SUM_COLUMNS], strict=True)
    )


def _summed(table: str, with_model: bool, rows: str) -> str:
    keys = ", ".join(_keys(with_model))
    sums = ", ".join(f"sum({c})" for c in SUM_COLUMNS)
    return (
        f"INSERT INTO {table} ({keys}, {', '.join(SUM_COLUMNS)}) "
        f"SELECT {keys}, {sums} FROM ({rows}) AS shares GROUP BY {keys}"
    )


# -- reading ------------------------------------------------------------------------------

_GROUPS = {
    "day": ("s.day",),
    "project": ("nullif(s.project, '')", "s.project_key"),
    "tags": ("s.tags",),
    "user": ("s.user_name",),
    "machine": ("s.machine",),
    "model": ("nullif(s.model, '')",),
}
_EQUALS = {("project", "project_key"), ("user_name",), ("machine",)}
DAY_SECONDS = 86400


def usage_sql(
    d: Dialect,
    criteria: Criteria,
    by: tuple[str, ...],
    tags_condition: Callable[[Sequence[str], bool], tuple[str, list[Any]]],
) -> tuple[str, list[Any]] | None:
    """The query reading the sums for a usage of ``criteria`` grouped ``by`` (the
    columns :func:`~claude_sessions.store.dialect.usage_sql` gives), or ``None`` when
    the sums cannot answer it. ``tags_condition``: the engine's test of the tag set."""
    if criteria.trashed or criteria.visible_to is not None or "hour" in by:
        return None
    found = _conditions(d, criteria, tags_condition)
    if found is None:
        return None
    clauses, params = found
    keys = [
        f"{column} AS g_{name}_{position}"
        for name in by
        for position, column in enumerate(_GROUPS[name])
    ]
    sums = [f"coalesce(sum(s.{column}), 0) AS {column}" for column in SUM_COLUMNS]
    table = MODEL_TABLE if "model" in by else DAY_TABLE
    group = f" GROUP BY {', '.join(str(n) for n in range(1, len(keys) + 1))}" if keys else ""
    sql = (
        f"SELECT {', '.join([*keys, *sums])} FROM {table} s "
        f"WHERE {' AND '.join(['s.sessions > 0', *clauses])}{group}"
    )
    return sql, params


def _conditions(
    d: Dialect,
    criteria: Criteria,
    tags_condition: Callable[[Sequence[str], bool], tuple[str, list[Any]]],
) -> tuple[list[str], list[Any]] | None:
    clauses: list[str] = []
    params: list[Any] = []
    where = criteria.where
    for _, spec, value in where.given():
        operator = spec.operator
        if operator is Operator.MODIFIES:
            continue
        if operator is Operator.HAS_TAGS:  # in the engine's style already
            clause, values = tags_condition([d.text(t) or "" for t in value], where.match_all_tags)
            clauses.append(clause)
            params.extend(values)
            continue
        if operator is Operator.EQUALS and spec.columns in _EQUALS:
            clause = "(" + " OR ".join(f"s.{c} = ?" for c in spec.columns) + ")"
            values = [d.text(value)] * len(spec.columns)
        elif spec.columns == ("created_at",) and operator in (Operator.AT_LEAST, Operator.AT_MOST):
            day = _whole_day(moment_bound(value, end_of_day=operator is Operator.AT_MOST), operator)
            if day is None:
                return None
            clause, values = f"s.day {'>=' if operator is Operator.AT_LEAST else '<='} ?", [day]
        else:
            return None
        clauses.append(d.sql(clause))
        params.extend(values)
    return clauses, params


def _whole_day(bound: float, operator: Operator) -> int | None:
    """The day a time bound falls on when it keeps or leaves out whole days (from a
    day's start, or to its last microsecond); ``None`` for a bound inside a day."""
    if operator is Operator.AT_LEAST:
        return int(bound // DAY_SECONDS) if bound % DAY_SECONDS == 0 else None
    end = bound + 1e-6
    if abs(end - round(end / DAY_SECONDS) * DAY_SECONDS) < 1e-4:
        return round(end / DAY_SECONDS) - 1
    return None
