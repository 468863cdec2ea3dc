"""The session store over the Model Context Protocol, so Claude can search its own history.

``create_server(store, allow_write=False)`` builds the server (official ``mcp``
SDK), ``run_stdio(location)`` serves a store over stdio (what
``claude-sessions mcp`` runs), and ``install``/``uninstall`` register it with
Claude Code. The SDK is imported only when a server is built, so registering
stays quick.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from claude_sessions.mcp.install import install, server_entry, uninstall

if TYPE_CHECKING:
    from claude_sessions.mcp.server import create_server, run_stdio, serve_stdio

__all__ = [
    "create_server",
    "install",
    "run_stdio",
    "serve_stdio",
    "server_entry",
    "uninstall",
]

_SERVER = ("create_server", "run_stdio", "serve_stdio")


def __getattr__(name: str) -> Any:
    if name in _SERVER:
        from claude_sessions.mcp import server

        return getattr(server, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
