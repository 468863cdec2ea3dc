"""A session's facts are defined once, by SessionMetadata's fields: the store's columns, the
rows it reads, to_dict, a copy between stores and the web app's panel follow them."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import datetime, timezone

from claude_sessions.store import SessionMetadata, SessionStore
from claude_sessions.store.dialect import META_COLUMNS
from claude_sessions.store.plan import Stmt, Txn
from claude_sessions.store.records import stored_fields
from claude_sessions.web.templating import extra_fields, page_environment, shown_fields

from .store_samples import run

SEARCH_ONLY = {
    "snippet",
    "rank",
    "match_uuid",
    "match_where",
}  # set on search results, never stored


def _table_columns(store: SessionStore) -> set[str]:
    postgres = store.location.startswith("postgresql")
    sql = (
        "SELECT column_name AS name FROM information_schema.columns "
        "WHERE table_name = 'sessions' AND table_schema = current_schema()"
        if postgres
        else "SELECT name FROM pragma_table_info('sessions')"
    )

    def read() -> Iterator[Stmt]:
        return (yield Stmt(sql, (), "all"))

    def plan() -> Iterator[Txn[object]]:
        return (yield Txn(read))

    return {row["name"] for row in store.run(plan())}


def test_every_stored_field_has_its_column(store):
    stored = {kept.name for kept in stored_fields()}
    assert stored == {item.name for item in dataclasses.fields(SessionMetadata)} - SEARCH_ONLY
    assert {kept.column for kept in stored_fields()} <= _table_columns(store)
    assert META_COLUMNS.count("s.") == len(stored_fields()) + 1  # and the row id
    saved = store.save_session("s-1", run("s-1"), tags=["b", "a"], description="d")
    assert store.get_metadata("s-1") == saved  # every field read back as written


def test_to_dict_holds_every_field_json_ready():
    moment = datetime(2026, 3, 1, 12, tzinfo=timezone.utc)
    metadata = SessionMetadata("s", moment, moment, tags=("a",), unpriced_models=("m",))
    shown = metadata.to_dict()
    assert list(shown) == [item.name for item in dataclasses.fields(SessionMetadata)]
    assert shown["created_at"] == "2026-03-01T12:00:00+00:00" and shown["tags"] == ["a"]


def test_the_panel_lists_what_no_template_names():
    shown = shown_fields(page_environment())
    every = {item.name for item in dataclasses.fields(SessionMetadata)}
    assert every - shown == SEARCH_ONLY  # each fact has its place on the session page
    moment = datetime(2026, 3, 1, tzinfo=timezone.utc)
    metadata = SessionMetadata("s", moment, moment, git_branch="main", turns=3)
    assert extra_fields(metadata, shown) == []
    assert extra_fields(metadata, shown - {"git_branch"}) == [("git branch", "main")]
