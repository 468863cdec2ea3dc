"""The team server's API for laptops (``/api/v1/``): ingest, and what ``sync --pull`` reads
(the sessions the token's user may see, and their entries, in pages).

Only a bearer token opens it (the sign-in gate takes no cookie here, so no page of
another site can post to it through a browser); the user is the token's. Every
answer is JSON, an error ``{"error": "<one line>"}``. A body is refused (413) past the
app's limit before it is parsed: from its ``Content-Length``, or while it is read when
it comes without one.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from claude_sessions.model.exceptions import (
    IngestRefusedError,
    InvalidInputError,
    SessionNotFoundError,
    StoreConnectionError,
)
from claude_sessions.model.identity import User
from claude_sessions.store import SessionStore
from claude_sessions.store.ingest import batch_from_json, ingest
from claude_sessions.store.pull import (
    MAX_ENTRIES,
    MAX_SESSIONS,
    entries_page,
    page_size,
    sessions_page,
)
from claude_sessions.views.redacted import redact_entry_page
from claude_sessions.web.viewer import viewer

API_PREFIX = "/api/v1/"
DEFAULT_INGEST_LIMIT = 8 * 1024 * 1024


class RequestRefusedError(Exception):
    """An answer other than 200: its status and one line saying why."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def error(status: int, reason: str) -> Response:
    return JSONResponse({"error": reason}, status, headers={"Cache-Control": "no-store"})


def _refuse_constant(name: str) -> Any:
    raise InvalidInputError(f"{name} is not JSON")


def _parsed(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:  # integers past 64 bits; orjson refuses them
        try:
            return json.loads(body, parse_constant=_refuse_constant)
        except (ValueError, RecursionError):
            raise InvalidInputError("the body is not JSON") from None


async def _body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    too_big = f"the batch is over the server's limit of {limit} bytes"
    if declared is not None:
        if not declared.isdigit():
            raise RequestRefusedError(400, "Content-Length is not a number")
        if int(declared) > limit:
            raise RequestRefusedError(413, too_big)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise RequestRefusedError(413, too_big)
    return bytes(body)


Handler = Callable[[Request, User], Awaitable[Response]]


def _signed_in(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """``handler`` for the token's user; what the store or the batch refuses as JSON."""

    async def answer(request: Request) -> Response:
        user = viewer(request)
        if user is None:  # the sign-in gate lets nobody through: a server without --auth
            return error(403, "this server's API needs users: it runs without --auth")
        try:
            return await handler(request, user)
        except RequestRefusedError as refused:
            return error(refused.status, refused.reason)
        except IngestRefusedError as owned:
            return error(409, str(owned))
        except SessionNotFoundError:
            return error(404, "no such session")
        except InvalidInputError as invalid:
            return error(400, " ".join(str(invalid).split()))
        except StoreConnectionError:
            return error(503, "the store is unavailable")

    return answer


class Api:
    def __init__(self, store: SessionStore, ingest_limit: int, redact: bool) -> None:
        self.store = store
        self.ingest_limit = ingest_limit
        self.redact = redact

    async def ingest(self, request: Request, user: User) -> Response:
        body = await _body(request, self.ingest_limit)
        batch = batch_from_json(_parsed(body))
        done = await run_in_threadpool(ingest, self.store, batch, user)
        return JSONResponse(done.to_dict())

    async def sessions(self, request: Request, user: User) -> Response:
        query = request.query_params
        limit = page_size(query.get("limit"), MAX_SESSIONS)
        page = await run_in_threadpool(sessions_page, self.store, user, query.get("after"), limit)
        return JSONResponse(page.to_dict(), headers={"Cache-Control": "no-store"})

    async def entries(self, request: Request, user: User) -> Response:
        query = request.query_params
        limit = page_size(query.get("limit"), MAX_ENTRIES)
        page = await run_in_threadpool(
            entries_page,
            self.store,
            user,
            request.path_params["session_id"],
            query.get("project_key"),
            query.get("after"),
            limit,
        )
        if self.redact:
            page = redact_entry_page(page)
        return JSONResponse(page.to_dict(), headers={"Cache-Control": "no-store"})


def api_routes(store: SessionStore, ingest_limit: int, *, redact: bool) -> list[BaseRoute]:
    """The API's routes; ``redact``: the entries it gives have their secrets redacted."""
    api = Api(store, ingest_limit, redact)
    return [
        Route(f"{API_PREFIX}ingest", _signed_in(api.ingest), methods=["POST"]),
        Route(f"{API_PREFIX}sessions", _signed_in(api.sessions)),
        Route(f"{API_PREFIX}sessions/{{session_id}}/entries", _signed_in(api.entries)),
    ]
