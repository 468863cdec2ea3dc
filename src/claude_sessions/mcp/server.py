"""The stdio MCP server over a session store, on the official ``mcp`` SDK's low-level server.

The tools (:mod:`claude_sessions.mcp.tools`) run in worker threads, so a slow
query never stalls the protocol, and every failure comes back as a tool error
(``isError``) with one line of explanation; the server keeps serving.
"""

from __future__ import annotations

import io
import os
import signal
import socket
import sys
import threading
from contextlib import suppress
from typing import Any

import anyio
import mcp.types as types
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server

from claude_sessions import __version__
from claude_sessions.mcp.awaited import AwaitedStore, missing_store, with_hint
from claude_sessions.mcp.install import SERVER_NAME
from claude_sessions.mcp.tools import Outcome, Tool, available_tools, call_tool
from claude_sessions.store import SessionStore
from claude_sessions.store.visibility import environment_viewer, seen_by
from claude_sessions.views.redacted import redacting

INSTRUCTIONS = (
    "This server searches the user's saved Claude Code sessions: the earlier conversations "
    "they had with you, with their prompts, answers, tool calls and costs. When the user "
    "refers to past work (how something was fixed, what was decided, a session from last "
    "week), find it with search_sessions, then read it with get_session. Session ids may be "
    "shortened to any unique prefix."
)


def _tool_definition(tool: Tool) -> types.Tool:
    return types.Tool(
        name=tool.name,
        title=tool.title,
        description=tool.description,
        input_schema=tool.input_schema,
        annotations=types.ToolAnnotations(
            title=tool.title,
            read_only_hint=not tool.writes,
            destructive_hint=False,
            idempotent_hint=True,
            open_world_hint=False,
        ),
    )


Served = SessionStore | AwaitedStore


def _answer(
    store: Served,
    name: str,
    arguments: dict[str, Any] | None,
    tools: list[Tool],
    redact: bool = True,
) -> Outcome:
    """A tool's answer from ``store`` (from a store still awaited: with how to fill it),
    with ``redact`` its secrets replaced by ``[REDACTED:rule]``."""
    if isinstance(store, SessionStore):
        return call_tool(redacting(store, redact), name, arguments, tools)
    current, hint = store.current()
    outcome = call_tool(redacting(current, redact), name, arguments, tools)
    if hint is None:
        return outcome
    return Outcome(with_hint(outcome.text, hint, is_error=outcome.is_error), outcome.is_error)


def create_server(store: Served, *, allow_write: bool = False, redact: bool = True) -> Server[Any]:
    """An MCP server offering ``store``'s sessions: read-only tools, and with ``allow_write``
    ``tag_session`` and ``describe_session``. The caller keeps and closes ``store``.
    ``redact``: what it answers goes to a model, so secrets are redacted unless told not."""
    tools = available_tools(allow_write=allow_write)
    definitions = [_tool_definition(tool) for tool in tools]

    async def list_tools(
        ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        return types.ListToolsResult(tools=definitions)

    async def call(
        ctx: ServerRequestContext[Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        outcome = await anyio.to_thread.run_sync(
            _answer, store, params.name, params.arguments, tools, redact
        )
        return types.CallToolResult(
            content=[types.TextContent(text=outcome.text)], is_error=outcome.is_error
        )

    return Server(
        SERVER_NAME,
        version=__version__,
        title="Claude sessions",
        description="Search and read saved Claude Code sessions",
        instructions=INSTRUCTIONS,
        on_list_tools=list_tools,
        on_call_tool=call,
    )


async def serve_stdio(store: Served, *, allow_write: bool = False, redact: bool = True) -> None:
    """Serve ``store`` over stdin and stdout until the client closes stdin, or until
    cancelled (Ctrl-C): then at once, without waiting for the client's next line."""
    server = create_server(store, allow_write=allow_write, redact=redact)
    with _StoppableStdin() as stdin:
        async with anyio.create_task_group() as group:
            group.start_soon(stdin.end_when_cancelled)
            async with stdio_server(stdin=stdin.text) as (read_stream, write_stream):
                await server.run(read_stream, write_stream, server.create_initialization_options())
            group.cancel_scope.cancel()


class _StoppableStdin:
    """Standard input as the SDK reads it, with a way to end it early.

    The SDK reads stdin in a worker thread that cancellation cannot stop, so a
    server told to stop would wait for the client's next line (or hang on exit).
    Here a daemon thread copies stdin into one end of a socket pair and the SDK
    reads the other: ending is shutting the writing side, and the SDK reads
    end-of-file at once. (A shut socket, unlike a closed pipe, keeps its
    descriptor: the copying thread can never write into a file opened since.)
    """

    def __init__(self) -> None:
        self._reading, self._writing = socket.socketpair()
        self.text = anyio.wrap_file(
            io.TextIOWrapper(self._reading.makefile("rb"), encoding="utf-8", errors="replace")
        )

    def __enter__(self) -> _StoppableStdin:
        threading.Thread(target=self._copy, name="claude-sessions-mcp-stdin", daemon=True).start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.end()
        self._reading.close()

    def _copy(self) -> None:
        try:
            while chunk := os.read(sys.stdin.fileno(), 65536):
                self._writing.sendall(chunk)
        except (OSError, ValueError):  # ended by us, or no stdin at all
            pass
        self.end()

    def end(self) -> None:
        with suppress(OSError):
            self._writing.shutdown(socket.SHUT_WR)

    async def end_when_cancelled(self) -> None:
        try:
            await anyio.sleep_forever()
        finally:
            self.end()


# What ends a server at once (and is raised again once it is gone).
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def run_stdio(
    location: str | os.PathLike[str] | None = None,
    *,
    allow_write: bool = False,
    redact: bool = True,
) -> None:
    """Open the store at ``location`` (read-only unless ``allow_write``) and serve it over
    stdio until the client goes, or until Ctrl-C or SIGTERM: the server then ends at
    once, and the signal is raised again, for whatever handles it outside (Ctrl-C is a
    KeyboardInterrupt by default). The server never deletes and never cleans up.

    Read-only, where no store exists yet, it serves an empty one until one appears
    (see :mod:`.awaited`): it never makes the store itself."""
    store = open_served(location, allow_write=allow_write)
    with store:
        received = _serve_until_signalled(store, allow_write, redact)
    if received is not None:
        signal.raise_signal(received)


def open_served(location: str | os.PathLike[str] | None, *, allow_write: bool) -> Served:
    """The store ``run_stdio`` serves: as the user ``$CLAUDE_SESSIONS_USER`` names sees it,
    when it names a user of the store (see :mod:`claude_sessions.store.visibility`)."""
    awaited = None if allow_write else missing_store(location)
    if awaited is not None:
        return AwaitedStore(location, awaited)  # an empty store: no users yet
    if allow_write:
        store = SessionStore(location, cleanup_after_days=None, trash_days=None)
    else:
        store = SessionStore(location, read_only=True)
    return seen_by(store, environment_viewer(store))


def _serve_until_signalled(store: Served, allow_write: bool, redact: bool) -> int | None:
    """Serve; a stop signal is the event loop's to handle (it cancels the server), never
    an exception raised on whatever line of the loop it lands. The signals wait, blocked,
    while the loop starts; the handlers they had are theirs again afterwards."""
    handlers = {sig: signal.getsignal(sig) for sig in STOP_SIGNALS}
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        return anyio.run(_serve, store, allow_write, redact, mask)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        for sig, handler in handlers.items():
            if handler is not None:
                signal.signal(sig, handler)


async def _serve(
    store: Served, allow_write: bool, redact: bool, mask: set[int | signal.Signals]
) -> int | None:
    received: list[int] = []
    with anyio.open_signal_receiver(*STOP_SIGNALS) as signals:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)  # from now on, the receiver's
        async with anyio.create_task_group() as group:

            async def stop_on_signal() -> None:
                async for signum in signals:
                    received.append(signum)
                    group.cancel_scope.cancel()
                    return

            group.start_soon(stop_on_signal)
            await serve_stdio(store, allow_write=allow_write, redact=redact)
            group.cancel_scope.cancel()
    return received[0] if received else None
