"""Resuming a session that only the store still has.

The CLI resumes from its transcript file on disk, which it deletes after
``cleanupPeriodDays`` (and which other machines never had). When a resume
names such a session and the store holds its transcript entries (mirrored by
the official SDK or imported), we lay the transcript out in a temporary
config directory with the official SDK's ``materialize_resume_session`` (the
same code its own store-backed resume uses, auth files included), point the
CLI at it with ``CLAUDE_CONFIG_DIR``, and afterwards copy what the CLI
appended back into the store before the directory is removed.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import os
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any, TypeVar

from claude_agent_sdk import ClaudeAgentOptions

# Not exported by the SDK; pinned by the tested version range in pyproject.toml.
from claude_agent_sdk._internal.session_resume import (
    MaterializedResume,
    materialize_resume_session,
)
from claude_agent_sdk._internal.sessions import project_key_for_directory

from claude_sessions.importer.discovery import has_local_transcript
from claude_sessions.model.message import Message, read_jsonl
from claude_sessions.runs.process import Invocation

if TYPE_CHECKING:
    from claude_sessions.store import AsyncSessionStore, SessionStore

T = TypeVar("T")


class StoreResume:
    """A materialized transcript for one run; ``finish`` copies the new entries back."""

    def __init__(self, invocation: Invocation, materialized: MaterializedResume) -> None:
        self.materialized = materialized
        self.project_key = project_key_for_directory(invocation.cwd)
        self.invocation = dataclasses.replace(
            invocation,
            env={**invocation.env, "CLAUDE_CONFIG_DIR": str(materialized.config_dir)},
        )

    def new_entries(self, session_id: str) -> list[Message]:
        path = self.materialized.config_dir / "projects" / self.project_key / f"{session_id}.jsonl"
        return read_jsonl(path) if path.is_file() else []


async def _materialize(invocation: Invocation, sdk_store: Any) -> MaterializedResume | None:
    options = ClaudeAgentOptions(
        cwd=invocation.cwd or os.getcwd(),
        resume=invocation.resume_id,
        session_store=sdk_store,
        env=dict(invocation.env),
    )
    return await materialize_resume_session(options)


def _needs_store(invocation: Invocation) -> bool:
    return bool(invocation.resume_id) and not has_local_transcript(
        invocation.resume_id or "", invocation.env
    )


def prepare_sync(invocation: Invocation, store: SessionStore) -> StoreResume | None:
    if not _needs_store(invocation):
        return None
    materialized = _run_coroutine(_materialize(invocation, store.sdk_store()))
    return StoreResume(invocation, materialized) if materialized else None


async def prepare_async(invocation: Invocation, store: AsyncSessionStore) -> StoreResume | None:
    if not _needs_store(invocation):
        return None
    materialized = await _materialize(invocation, store.sdk_store())
    return StoreResume(invocation, materialized) if materialized else None


def cleanup_sync(resume: StoreResume) -> None:
    _run_coroutine(resume.materialized.cleanup())


def _run_coroutine(coroutine: Awaitable[T]) -> T:
    """Run ``coroutine`` to completion from sync code, even inside a running loop."""

    async def wrapper() -> T:
        return await coroutine

    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, wrapper()).result()
