"""Reading the API requests the store keeps (``api_requests``), for reports that follow
the requests' own times (usage blocks), over the sessions a filter selects."""

from __future__ import annotations

from typing import Any

from claude_sessions.model.filters import SessionFilter
from claude_sessions.store import hour_rollups
from claude_sessions.store.dialect import Dialect
from claude_sessions.store.plan import Op, Stmt
from claude_sessions.store.records import ApiRequest
from claude_sessions.store.where import conditions

_COLUMNS = (
    "s.session_id, r.at, r.model, r.input_tokens, r.output_tokens, r.cache_write_5m_tokens, "
    "r.cache_write_1h_tokens, r.cache_read_tokens, r.cost, r.subagent"
)


def api_requests(
    d: Dialect,
    where: SessionFilter,
    *,
    since: float | None,
    until: float | None,
    newest_first: bool,
    limit: int | None,
) -> Op[list[ApiRequest]]:
    """The requests with a time in ``[since, until)`` of the live sessions ``where``
    selects, by time (``newest_first``: the other way), at most ``limit``."""
    clauses, params = conditions(d, where, trashed=False)
    clauses.append("r.at IS NOT NULL")
    if since is not None:
        clauses.append(d.sql("r.at >= ?"))
        params.append(since)
    if until is not None:
        clauses.append(d.sql("r.at < ?"))
        params.append(until)
    order = " DESC" if newest_first else ""
    bound = ""
    if limit is not None:
        bound = d.sql(" LIMIT ?")
        params.append(limit)
    rows = yield Stmt(
        f"SELECT {_COLUMNS} FROM api_requests r JOIN sessions s ON s.id = r.session_ref "
        f"WHERE {' AND '.join(clauses)} "
        f"ORDER BY r.at{order}, r.session_ref{order}, r.request_key{order}{bound}",
        params,
        "all",
    )
    return [_request(row) for row in rows]


def _request(row: Any) -> ApiRequest:
    cost = row["cost"]
    return ApiRequest(
        session_id=row["session_id"],
        at=float(row["at"]),
        model=row["model"] or None,
        uncached_input_tokens=int(row["input_tokens"]),
        output_tokens=int(row["output_tokens"]),
        cache_write_5m_tokens=int(row["cache_write_5m_tokens"]),
        cache_write_1h_tokens=int(row["cache_write_1h_tokens"]),
        cache_read_tokens=int(row["cache_read_tokens"]),
        cost=None if cost is None else float(cost),
        subagent=bool(row["subagent"]),
    )


def spend(d: Dialect, since: float, until: float | None = None) -> Op[float]:
    """What the live sessions spent in ``[since, until)``: each request made then, by
    its own time, and what of a session created then no timed request carries (the
    cost of a run that reported no request figures, of requests without a time).
    Read from the sums by hour when both bounds fall on an hour's start (a day's, a
    month's: budgets and the status line)."""
    hours = hour_rollups.whole_hours(since, until)
    if hours is not None:
        sql, hour_params = hour_rollups.spend_sql(*hours)
        summed = yield Stmt(d.sql(sql), hour_params, "one")
        return round(float(summed["spent"]), 10)
    bound, params = "", [since]
    if until is not None:
        bound = " AND r.at < ?"
        params.append(until)
    requests = yield Stmt(
        d.sql(
            "SELECT coalesce(sum(r.cost), 0) AS spent FROM api_requests r "
            f"JOIN sessions s ON s.id = r.session_ref WHERE r.at >= ?{bound} "
            "AND s.trashed_at IS NULL"
        ),
        params,
        "one",
    )
    carried = (
        "SELECT sum(r.cost) FROM api_requests r WHERE r.session_ref = s.id AND r.at IS NOT NULL"
    )
    created = [d.time(since)] + ([d.time(until)] if until is not None else [])
    rest = yield Stmt(
        d.sql(
            f"SELECT coalesce(sum(s.total_cost - coalesce(({carried}), 0)), 0) AS spent "
            f"FROM sessions s WHERE s.created_at >= ?{bound.replace('r.at', 's.created_at')} "
            "AND s.trashed_at IS NULL"
        ),
        created,
        "one",
    )
    return round(float(requests["spent"]) + float(rest["spent"]), 10)
