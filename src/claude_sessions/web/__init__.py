"""The local web app behind ``claude-sessions serve``.

``create_app(store, read_only=False, token=None)`` returns an ASGI
application (Starlette) to run under any ASGI server; ``serve`` runs it
under uvicorn (:mod:`claude_sessions.web.server`). Pages: the sessions
(filtered, searched, paged by keyset), one session as a chat, its fork
lineage, and usage over time; lists and sessions update live as the store
changes. See :mod:`claude_sessions.web.security` for what guards them, and
:mod:`claude_sessions.web.auth` for signing in (``create_app(store,
auth=Authority(store))``, ``serve --auth``).

Importing this package loads Starlette, Jinja2, markdown-it and Pygments,
so the command line imports it only inside ``serve``.
"""

from claude_sessions.web.app import create_app

__all__ = ["create_app"]
