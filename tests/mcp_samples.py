"""Sessions and a stdio client for the MCP server tests (no tests here)."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
from mcp import ClientSession, StdioServerParameters, stdio_client
from mcp.types import CallToolResult

from claude_sessions import SessionStore

from .cli.samples import add_session
from .transcript_samples import sid

LOGIN, POSTGRES, JWT, LONG = sid(0x101), sid(0x102), sid(0x103), sid(0x104)
LONG_PROMPTS = [
    f"Step {n}: explain the parser change number {n} in detail. " + "Tokens and grammar. " * 40
    for n in range(30)
]


def fill(store: SessionStore) -> None:
    """Four sessions: a login bug fix, a database migration, a fork of the fix, a long one."""
    add_session(
        store,
        0x101,
        ["Fix the login bug: the CSRF token expired after a deploy", "Rotate the secret"],
        day="2026-03-10",
        cost=0.42,
        tags=("bug", "auth"),
        description="Login bug fixed by rotating the CSRF secret",
    )
    add_session(
        store,
        0x102,
        ["Migrate the store to PostgreSQL"],
        day="2026-03-12",
        cost=1.25,
        tags=("infra",),
        model="claude-opus-4-1",
    )
    add_session(
        store,
        0x103,
        ["Try JWT tokens instead of the CSRF cookie"],
        day="2026-03-13",
        cost=0.1,
        tags=("auth",),
        forked_from=LOGIN,
    )
    add_session(store, 0x104, LONG_PROMPTS, day="2026-03-14", cost=2.0)


# The sample sessions are dated months ago: keep automatic cleanup away from them.
SERVER_ENV = {"CLAUDE_SESSIONS_CLEANUP_DAYS": "never"}


def server_command(location: str, *options: str) -> list[str]:
    return [sys.executable, "-m", "claude_sessions", "mcp", "--store", location, *options]


@contextlib.asynccontextmanager
async def connected(
    location: str, log: Path, *options: str, env: dict[str, str] = SERVER_ENV
) -> AsyncIterator[ClientSession]:
    """An initialized client session with ``claude-sessions mcp`` over stdio; the server's
    stderr goes to ``log``."""
    command, *args = server_command(location, *options)
    parameters = StdioServerParameters(command=command, args=args, env=env)
    with log.open("a") as errlog:
        async with (
            stdio_client(parameters, errlog=errlog) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            yield session


def talk(
    location: str,
    log: Path,
    body: Callable[[ClientSession], Awaitable[None]],
    *options: str,
    env: dict[str, str] = SERVER_ENV,
) -> None:
    """Run ``body`` against a server on ``location`` started for it."""

    async def main() -> None:
        async with connected(location, log, *options, env=env) as session:
            await body(session)

    anyio.run(main)


def text(result: CallToolResult) -> str:
    (content,) = result.content
    assert content.type == "text"
    return content.text


def answer(result: CallToolResult) -> Any:
    """The JSON a successful tool call answered."""
    assert not result.is_error, text(result)
    return json.loads(text(result))


def error(result: CallToolResult) -> str:
    """The one-line message of a tool error."""
    assert result.is_error, text(result)
    message = text(result)
    assert message and "\n" not in message
    return message
