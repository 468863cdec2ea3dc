"""Indexes that let a filter on a sessions column find its newest page without a scan.

A list filtered by git branch walked the newest-first index and tested each row: a
branch few sessions have (or none: a typo) read every session of the store, 0.6 s at
100k sessions and seconds at 1M. ``sessions_by_branch`` holds the live sessions by
branch, then newest first, so such a page reads only its own rows, and an absent
branch nothing (both databases; SQLite 24, PostgreSQL 21).
"""

from __future__ import annotations

INDEXES = (
    "CREATE INDEX IF NOT EXISTS sessions_by_branch ON sessions (git_branch, updated_at, id) "
    "WHERE trashed_at IS NULL",
)
