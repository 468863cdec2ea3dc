"""A NUL character in a field the user sets (tags, description, project, ...) is refused on both
databases before anything is written: SQLite would keep it and PostgreSQL cannot, so two copies
of one store would differ (messages keep theirs: see test_store_migrate)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from claude_agent_sdk import rename_session_via_store, tag_session_via_store

from claude_sessions import InvalidInputError, SessionStore, query

from .store_samples import run

NUL_TEXT = "a\x00b"
SESSION = "11111111-2222-4333-8444-555555555555"  # the SDK's tag and rename want a UUID


def stored(store: SessionStore) -> dict[str, Any]:
    """Everything a refused write could have changed."""
    found = store.get_session(SESSION)
    if found is None:
        return {}
    return {"metadata": found.metadata.to_dict(), "messages": found.messages}


def saved(store: SessionStore) -> SessionStore:
    store.save_session(SESSION, run(SESSION), tags=["kept"], description="before")
    return store


REFUSED_CHANGES: dict[str, Callable[[SessionStore], Any]] = {
    "add a tag": lambda s: s.add_tags(SESSION, ["fine", NUL_TEXT]),
    "remove a tag": lambda s: s.remove_tags(SESSION, NUL_TEXT),
    "describe": lambda s: s.set_description(SESSION, NUL_TEXT),
    "save with a tag": lambda s: s.save_session(SESSION, run(SESSION), tags=[NUL_TEXT]),
    "save with a description": lambda s: s.save_session(
        SESSION, run(SESSION), description=NUL_TEXT
    ),
    "save with a project": lambda s: s.save_session(SESSION, run(SESSION), project="/p\x00q"),
    "record a run with a tag": lambda s: s.record_run(SESSION, run(SESSION), tags=[NUL_TEXT]),
    "record a run with a description": lambda s: s.record_run(
        SESSION, run(SESSION), description=NUL_TEXT
    ),
    "record a run with a project key": lambda s: s.record_run(
        SESSION, run(SESSION), project_key=NUL_TEXT
    ),
    "record a fork's message id": lambda s: s.record_run(
        SESSION, run(SESSION), forked_from="22222222", forked_at=NUL_TEXT
    ),
    "append under a project key": lambda s: s.append_messages(
        SESSION, run(SESSION), project_key=NUL_TEXT
    ),
}


@pytest.mark.parametrize("change", REFUSED_CHANGES)
@pytest.mark.parametrize("existing", [False, True], ids=["new", "stored"])
def test_a_nul_in_a_field_the_user_sets_is_refused_before_writing(
    store: SessionStore, change: str, existing: bool
) -> None:
    if existing:
        saved(store)
    before = stored(store)
    with pytest.raises(InvalidInputError, match="cannot contain a NUL character"):
        REFUSED_CHANGES[change](store)
    assert stored(store) == before


@pytest.mark.parametrize(
    "write",
    [
        lambda sdk: tag_session_via_store(sdk, SESSION, NUL_TEXT),
        lambda sdk: rename_session_via_store(sdk, SESSION, NUL_TEXT),
    ],
    ids=["tag_session", "rename_session"],
)
def test_the_sdk_tag_and_rename_refuse_a_nul(store: SessionStore, write: Any) -> None:
    saved(store)
    before = stored(store)
    with pytest.raises(InvalidInputError, match="cannot contain a NUL character"):
        asyncio.run(write(store.sdk_store()))
    assert stored(store) == before


def test_a_run_with_such_a_tag_is_refused_before_the_cli_starts(store: SessionStore) -> None:
    # query() returns its iterator without starting anything: the refusal comes first.
    with pytest.raises(InvalidInputError):
        query("hello", store=store, tags=[NUL_TEXT])
    with pytest.raises(InvalidInputError):
        query("hello", store=store, description=NUL_TEXT)
