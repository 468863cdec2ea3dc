"""Who is asking: the signed-in user, as the sign-in middleware leaves it in the ASGI
scope (key ``claude_sessions.user``), and the store as that user sees it.

No user in the scope (nobody signed in, or a server without sign-in) means no team
rules: the app shows the whole store, as a server on your own machine always has.
What a user sees is decided below the faces (:mod:`claude_sessions.store.visibility`).
"""

from __future__ import annotations

from starlette.requests import Request

from claude_sessions.model.identity import User
from claude_sessions.store import SessionStore
from claude_sessions.store.visibility import seen_by
from claude_sessions.views.redacted import RedactingStore

SCOPE_KEY = "claude_sessions.user"


def viewer(request: Request) -> User | None:
    found = request.scope.get(SCOPE_KEY)
    return found if isinstance(found, User) else None


def store_for(request: Request, store: SessionStore) -> SessionStore:
    """``store`` (or its redacting face) as the user asking sees it."""
    if isinstance(store, RedactingStore):
        return store.seen_by(viewer(request))  # type: ignore[return-value]
    return seen_by(store, viewer(request))
