"""Indexes that let a filter on a sessions column find its newest page without a scan.

A list filtered by git branch walked the newest-first index and tested each row: a
branch few sessions have (or none: a typo) read every session of the store, 0.6 s at
100k sessions and seconds at 1M. ``sessions_by_branch`` holds the live sessions by
branch, then newest first, so such a page reads only its own rows, and an absent
branch nothing (both databases; SQLite 23, PostgreSQL 20).

A date or cost range, newest first, takes the range's rows from its index and sorts
them by ``updated_at``. On PostgreSQL the index lacked the row's id, so each row of
the range was read from the table (a March of 100k sessions: 7,700 table pages, 150
ms); with the id in the index the range is read from the index alone (PostgreSQL 20;
SQLite's indexes hold the row id already).
"""

from __future__ import annotations

INDEXES = (
    "CREATE INDEX IF NOT EXISTS sessions_by_branch ON sessions (git_branch, updated_at, id) "
    "WHERE trashed_at IS NULL",
)

POSTGRES_RANGE_INDEXES = (
    "DROP INDEX IF EXISTS sessions_by_created",
    "CREATE INDEX sessions_by_created ON sessions (created_at, updated_at, id) "
    "WHERE trashed_at IS NULL",
    "DROP INDEX IF EXISTS sessions_by_cost",
    "CREATE INDEX sessions_by_cost ON sessions (total_cost, updated_at, id) "
    "WHERE trashed_at IS NULL",
)
