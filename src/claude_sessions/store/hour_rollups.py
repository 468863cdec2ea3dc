"""Sums by the hour things happened: what was spent then, by the requests' own times, and
how many sessions were created then. Budgets and the status line (today's and this
month's spend) and the usage page's hour-of-week grid read a few rows per hour here
instead of every request or session.

One table, both databases: ``usage_rollup_hours``, keyed by the UTC hour number since
the epoch. ``sessions``: the live sessions created in that hour. ``spent``: what
:func:`~claude_sessions.store.request_reads.spend` counts for that hour, each request
with a time on the hour it was made, and the rest of a session's cost (what no timed
request carries) on the hour it was created. A request made in the hour its session
was created changes nothing there, so most requests write no row at all.

The hour alone is the key: by project, user or machine too, a store spread over a year
would keep about one row per session (100,000 sessions over 8,760 hours and 50 projects
make some 89,000 groups), and the reads that need them read the sessions as before.

Triggers keep it in the same transaction as every write, as :mod:`.rollups` does: a
change of a ``sessions`` row takes the old row's share out and puts the new one's in
(reading its requests as they are), a change of an ``api_requests`` row does the same
for that request (reading its session as it is). A session's delete takes its share out
before the row goes; its requests' deletes, which follow, find no session.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from claude_sessions.model.filters import Operator, SessionFilter, moment_bound
from claude_sessions.store.plan import Op, Stmt

if TYPE_CHECKING:
    from claude_sessions.store.dialect import Dialect

TABLE = "usage_rollup_hours"
HOUR_SECONDS = 3600
WEEK_HOURS = 168
# The sessions columns a session's share is made of: only their changes touch the sums.
SESSION_INPUTS = ("created_at", "total_cost", "trashed_at")
REQUEST_INPUTS = ("at", "cost")


@dataclass(frozen=True)
class Hours:
    """What the sums' SQL needs of a database: the UTC hour number of a ``sessions``
    row's ``created_at`` (``created``) and of a request's ``at`` (``at``)."""

    created: Callable[[str], str]
    at: Callable[[str], str]


def create_table(types: dict[str, str], suffix: str = "") -> str:
    """CREATE TABLE (``types``: the engine's ``count`` and ``cost`` types)."""
    return (
        f"CREATE TABLE IF NOT EXISTS {TABLE} (hour {types['count']} PRIMARY KEY, "
        f"sessions {types['count']} NOT NULL DEFAULT 0, "
        f"spent {types['cost']} NOT NULL DEFAULT 0){suffix}"
    )


def counted(r: str) -> str:
    """Whether the ``api_requests`` row ``r`` may change a sum: one with a time and a cost."""
    return f"{r}.at IS NOT NULL AND {r}.cost IS NOT NULL"


def _upsert(select: str) -> str:
    return (
        f"INSERT INTO {TABLE} (hour, sessions, spent) {select} "
        "ON CONFLICT (hour) DO UPDATE SET sessions = "
        f"{TABLE}.sessions + excluded.sessions, spent = {TABLE}.spent + excluded.spent"
    )


def _elsewhere(hours: Hours, r: str, s: str) -> str:
    """Whether request ``r`` of session ``s`` was made outside the hour ``s`` was created."""
    return f"{r}.at IS NOT NULL AND {hours.at(f'{r}.at')} <> {hours.created(s)}"


def session_share(hours: Hours, s: str, sign: int) -> list[str]:
    """Statements adding (``sign`` 1) or taking out (-1) the share of the session row
    ``s`` (``OLD`` or ``NEW`` in a trigger): nothing while it is in the trash."""
    elsewhere = _elsewhere(hours, "r", s)
    moved = f"SELECT sum(r.cost) FROM api_requests r WHERE r.session_ref = {s}.id AND {elsewhere}"
    own = (
        f"SELECT {hours.created(s)}, {sign}, {sign} * ({s}.total_cost - coalesce(({moved}), 0)) "
        f"WHERE {s}.trashed_at IS NULL"
    )
    requests = (
        f"SELECT {hours.at('r.at')}, 0, {sign} * sum(r.cost) FROM api_requests r "
        f"WHERE r.session_ref = {s}.id AND {s}.trashed_at IS NULL AND r.cost IS NOT NULL "
        f"AND {elsewhere} GROUP BY 1"
    )
    return [_upsert(own), _upsert(requests)]


def request_share(hours: Hours, r: str, sign: int) -> list[str]:
    """Statements adding or taking out the share of the ``api_requests`` row ``r``: its
    cost on its hour, taken from its session's hour (nothing when they are the same)."""
    where = (
        f"FROM sessions s WHERE s.id = {r}.session_ref AND s.trashed_at IS NULL "
        f"AND {r}.cost IS NOT NULL AND {_elsewhere(hours, r, 's')}"
    )
    return [
        _upsert(f"SELECT {hours.at(f'{r}.at')}, 0, {sign} * {r}.cost {where}"),
        _upsert(f"SELECT {hours.created('s')}, 0, {-sign} * {r}.cost {where}"),
    ]


def fill(hours: Hours) -> list[str]:
    """Statements that make the table anew from the stored sessions (an upgrade)."""
    elsewhere = _elsewhere(hours, "r", "s")
    moved = f"SELECT sum(r.cost) FROM api_requests r WHERE r.session_ref = s.id AND {elsewhere}"
    own = (
        f"SELECT {hours.created('s')} AS hour, 1 AS sessions, "
        f"s.total_cost - coalesce(({moved}), 0) AS spent "
        "FROM sessions s WHERE s.trashed_at IS NULL"
    )
    requests = (
        f"SELECT {hours.at('r.at')}, 0, r.cost FROM sessions s "
        "JOIN api_requests r ON r.session_ref = s.id "
        f"WHERE s.trashed_at IS NULL AND r.cost IS NOT NULL AND {elsewhere}"
    )
    return [
        f"DELETE FROM {TABLE}",
        f"INSERT INTO {TABLE} (hour, sessions, spent) SELECT hour, sum(sessions), sum(spent) "
        f"FROM ({own} UNION ALL {requests}) AS shares GROUP BY hour",
    ]


# -- reading ------------------------------------------------------------------------------


def whole_hours(since: float, until: float | None) -> tuple[int, int | None] | None:
    """The hours ``[since, until)`` spans when both fall on an hour's start."""
    if since % HOUR_SECONDS or (until is not None and until % HOUR_SECONDS):
        return None
    return int(since // HOUR_SECONDS), None if until is None else int(until // HOUR_SECONDS)


def spend_sql(since: int, until: int | None) -> tuple[str, list[int]]:
    """What was spent in the hours ``since`` to before ``until`` (``?`` placeholders)."""
    bound = " AND hour < ?" if until is not None else ""
    params = [since] + ([until] if until is not None else [])
    return f"SELECT coalesce(sum(spent), 0) AS spent FROM {TABLE} WHERE hour >= ?{bound}", params


def week_hours_sql(where: SessionFilter) -> tuple[str, list[int]] | None:
    """Sessions by the hour of the week they were created in (0: Thursday 00:00 UTC, as
    the usage queries number them), for a filter of whole-hour creation bounds at most;
    ``None`` for any other filter. ``?`` placeholders."""
    clauses: list[str] = ["sessions <> 0"]
    params: list[int] = []
    for _, spec, value in where.given():
        if spec.operator is Operator.MODIFIES:
            continue
        if spec.columns != ("created_at",) or spec.operator not in (
            Operator.AT_LEAST,
            Operator.AT_MOST,
        ):
            return None
        at_most = spec.operator is Operator.AT_MOST
        bound = moment_bound(value, end_of_day=at_most) + (1e-6 if at_most else 0)
        if abs(bound - round(bound / HOUR_SECONDS) * HOUR_SECONDS) > 1e-4:
            return None  # a bound inside an hour
        clauses.append("hour < ?" if at_most else "hour >= ?")
        params.append(round(bound / HOUR_SECONDS))
    week = f"mod(mod(hour, {WEEK_HOURS}) + {WEEK_HOURS}, {WEEK_HOURS})"
    return (
        f"SELECT {week} AS hour, sum(sessions) AS sessions FROM {TABLE} "
        f"WHERE {' AND '.join(clauses)} GROUP BY 1",
        params,
    )


def rows(d: Dialect, sql: str, params: list[Any]) -> Op[list[Any]]:
    """The rows of one of the queries above (``?`` placeholders)."""
    found = yield Stmt(d.sql(sql), params, "all")
    return list(found)
