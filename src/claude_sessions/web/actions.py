"""The state-changing routes: tags, the description and sharing. Each is a POST with the CSRF
token; a read-only app does not register them at all."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import parse_qsl, quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from claude_sessions.model.exceptions import InvalidInputError
from claude_sessions.store import SessionStore
from claude_sessions.store.visibility import share_session
from claude_sessions.web.filters import split_tags
from claude_sessions.web.security import CSRF_FIELD, CSRF_HEADER, csrf_valid
from claude_sessions.web.viewer import store_for

MAX_FORM_BYTES = 64 * 1024
MAX_DESCRIPTION = 10_000

Handler = Callable[[Request], Awaitable[Response]]


async def small_form(request: Request) -> dict[str, str]:
    """A small url-encoded form (the only kind these pages send, sign-in included)."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise InvalidInputError("the form is too large")
    try:
        return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    except UnicodeDecodeError:
        raise InvalidInputError("the form is not UTF-8") from None


class Actions:
    def __init__(self, store: SessionStore, secret: bytes) -> None:
        self.store = store
        self.secret = secret

    def protected(
        self, handler: Callable[[Request, dict[str, str]], Awaitable[Response]]
    ) -> Handler:
        """``handler`` behind the CSRF check: a request without the token gets 403."""

        async def checked(request: Request) -> Response:
            form = await small_form(request)
            submitted = form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER)
            if not csrf_valid(self.secret, request, submitted):
                return PlainTextResponse(
                    "Refused: this form is stale or came from another site. Reload the page.",
                    status_code=403,
                )
            return await handler(request, form)

        return checked

    async def add_tags(self, request: Request, form: dict[str, str]) -> Response:
        session_id = request.path_params["session_id"]
        tags = split_tags(form.get("tags", ""))
        if tags:
            store = store_for(request, self.store)
            await run_in_threadpool(store.add_tags, session_id, tags)
        return _back(session_id)

    async def remove_tag(self, request: Request, form: dict[str, str]) -> Response:
        session_id = request.path_params["session_id"]
        store = store_for(request, self.store)
        await run_in_threadpool(store.remove_tags, session_id, [form.get("tag", "")])
        return _back(session_id)

    async def describe(self, request: Request, form: dict[str, str]) -> Response:
        session_id = request.path_params["session_id"]
        text = form.get("description", "").strip()
        if len(text) > MAX_DESCRIPTION:
            raise InvalidInputError(f"a description holds at most {MAX_DESCRIPTION} characters")
        store = store_for(request, self.store)
        await run_in_threadpool(store.set_description, session_id, text or None)
        return _back(session_id)

    async def share(self, request: Request, form: dict[str, str]) -> Response:
        """Share the session with the team (``shared=1``) or stop (``shared=0``)."""
        session_id = request.path_params["session_id"]
        store = store_for(request, self.store)
        await run_in_threadpool(share_session, store, session_id, form.get("shared") == "1")
        return _back(session_id)


def _back(session_id: str) -> Response:
    # Post/redirect/get: reloading the page afterwards does not post again.
    return RedirectResponse(f"/s/{quote(session_id, safe='')}#panel", status_code=303)
