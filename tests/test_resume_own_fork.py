"""``resume()`` (and ``aresume()``) with a store, of a session the store holds as another
user's, continues it as the current user's own fork, said in one line; one's own
session is resumed as before. The real CLI against the fake Messages API."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import pytest

from claude_sessions import AsyncSessionStore, SessionStore, aresume, query, resume
from claude_sessions.model.identity import USER_ENV_VAR
from claude_sessions.model.session import Session

pytestmark = pytest.mark.e2e


def _alices(store: SessionStore, monkeypatch: pytest.MonkeyPatch) -> tuple[str, int]:
    monkeypatch.setenv(USER_ENV_VAR, "alice")
    first = list(query("alice's question", store=store))
    session_id = Session.extract_session_id(first)
    assert session_id is not None
    return session_id, len(store.load_session(session_id).messages)


def test_resuming_another_users_session_makes_ones_own_fork(
    fake_claude: Any,
    store_factory: Any,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    store: SessionStore = store_factory()
    hers, held = _alices(store, monkeypatch)
    monkeypatch.setenv(USER_ENV_VAR, "bob")
    with caplog.at_level(logging.INFO, logger="claude_sessions.runs"):
        went = list(resume(hers, "bob's question", store=store))
    fork = Session.extract_session_id(went)
    assert fork is not None and fork != hers
    said = [r.getMessage() for r in caplog.records if r.name == "claude_sessions.runs"]
    assert len(said) == 1 and "alice's" in said[0] and hers in said[0]
    meta = store.get_metadata(fork)
    assert meta is not None and (meta.user, meta.forked_from) == ("bob", hers)
    assert "alice's question" in fake_claude.model_requests[-1].all_text  # her history
    assert len(store.load_session(hers).messages) == held  # hers is as she left it

    monkeypatch.setenv(USER_ENV_VAR, "alice")  # her own session: resumed, not forked
    caplog.clear()
    mine = list(resume(hers, "alice goes on", store=store))
    assert Session.extract_session_id(mine) == hers
    assert not [r for r in caplog.records if r.name == "claude_sessions.runs"]


def test_aresume_makes_ones_own_fork_too(
    fake_claude: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with SessionStore(tmp_path / "store") as store:
        hers, held = _alices(store, monkeypatch)
    monkeypatch.setenv(USER_ENV_VAR, "bob")

    async def flow() -> str | None:
        async with AsyncSessionStore(tmp_path / "store") as store:
            went = [m async for m in aresume(hers, "bob's question", store=store)]
        return Session.extract_session_id(went)

    fork = asyncio.run(flow())
    assert fork is not None and fork != hers
    with SessionStore(tmp_path / "store") as store:
        meta = store.get_metadata(fork)
        assert meta is not None and (meta.user, meta.forked_from) == ("bob", hers)
        assert len(store.load_session(hers).messages) == held
