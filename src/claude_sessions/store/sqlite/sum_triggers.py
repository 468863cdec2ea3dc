"""The SQL that makes SQLite's usage sums (see :mod:`claude_sessions.store.rollups` and
:mod:`claude_sessions.store.hour_rollups`): their tables, the triggers that keep them in
the same transaction as every write, and their filling from the stored sessions. Each
list of statements can run at any version number: the triggers are made anew.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from claude_sessions.store.sqlite.dialect import rollups_engine

if TYPE_CHECKING:
    from claude_sessions.store import rollups


def trigger(name: str, when: str, body: list[str]) -> str:
    return f"CREATE TRIGGER {name} {when} BEGIN {'; '.join(body)}; END"


def usage_rollups(filled: tuple[rollups.Table, ...] | None = None) -> list[str]:
    """The usage sums' tables, their triggers, and the filling of ``filled`` (all of
    them by default; any version number: the tables and triggers are made anew)."""
    from claude_sessions.store import rollups  # opening a store needs none of it

    engine = rollups_engine()
    types = {"day": "INTEGER", "text": "TEXT", "count": "INTEGER", "cost": "REAL"}
    changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in rollups.SESSION_INPUTS)
    share, row_share = rollups.session_share, rollups.model_row_share
    triggers = {
        "usage_session_new": ("AFTER INSERT ON sessions", share(engine, "NEW", 1)),
        "usage_session_change": (
            f"AFTER UPDATE OF {', '.join(rollups.SESSION_INPUTS)} ON sessions WHEN {changed}",
            share(engine, "OLD", -1) + share(engine, "NEW", 1),
        ),
        "usage_session_gone": ("BEFORE DELETE ON sessions", share(engine, "OLD", -1)),
        "usage_models_new": ("AFTER INSERT ON session_models", row_share(engine, "NEW", 1)),
        "usage_models_change": (
            "AFTER UPDATE ON session_models",
            row_share(engine, "OLD", -1) + row_share(engine, "NEW", 1),
        ),
        "usage_models_gone": ("AFTER DELETE ON session_models", row_share(engine, "OLD", -1)),
    }
    return [
        *(f"DROP TRIGGER IF EXISTS {name}" for name in triggers),
        *(rollups.create_table(table, types, " WITHOUT ROWID") for table in rollups.TABLES),
        *(trigger(name, when, body) for name, (when, body) in triggers.items()),
        *rollups.fill(engine, rollups.TABLES if filled is None else filled),
    ]


def usage_hours() -> list[str]:
    """The sums by hour (see store.hour_rollups): their table, triggers and filling (any
    version number: the triggers are made anew)."""
    from claude_sessions.store import hour_rollups as h  # opening a store needs none of it

    hours = h.Hours(
        created=lambda row: f"CAST({row}.created_at / {h.HOUR_SECONDS} AS INTEGER)",
        at=lambda column: f"CAST({column} / {h.HOUR_SECONDS} AS INTEGER)",
    )
    session_changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in h.SESSION_INPUTS)
    request_changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in h.REQUEST_INPUTS)
    old_session, new_session = h.session_share(hours, "OLD", -1), h.session_share(hours, "NEW", 1)
    old_request, new_request = h.request_share(hours, "OLD", -1), h.request_share(hours, "NEW", 1)
    triggers = {
        "hours_session_new": ("AFTER INSERT ON sessions", new_session),
        "hours_session_change": (
            f"AFTER UPDATE OF {', '.join(h.SESSION_INPUTS)} ON sessions WHEN {session_changed}",
            old_session + new_session,
        ),
        "hours_session_gone": ("BEFORE DELETE ON sessions", old_session),
        "hours_request_new": (f"AFTER INSERT ON api_requests WHEN {h.counted('NEW')}", new_request),
        "hours_request_change": (
            f"AFTER UPDATE ON api_requests WHEN {request_changed}",
            old_request + new_request,
        ),
        "hours_request_gone": (
            f"AFTER DELETE ON api_requests WHEN {h.counted('OLD')}",
            old_request,
        ),
    }
    return [
        *(f"DROP TRIGGER IF EXISTS {name}" for name in triggers),
        h.create_table({"count": "INTEGER", "cost": "REAL"}, " WITHOUT ROWID"),
        *(trigger(name, when, body) for name, (when, body) in triggers.items()),
        *h.fill(hours),
    ]
