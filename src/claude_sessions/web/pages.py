"""The pages: sessions, one session (and its fragments), lineage, usage, downloads.

Each handler reads its URL, runs one function of blocking store and view
calls in a worker thread, and renders a template. Nothing here decides what
a session's numbers are: the store, :mod:`claude_sessions.views.stats`,
:mod:`claude_sessions.views.lineage`, :mod:`claude_sessions.views.conversation` (the
conversation every face reads) and :mod:`claude_sessions.views.render` do.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from claude_sessions.model import text_query
from claude_sessions.model.exceptions import InvalidQueryError, SessionNotFoundError
from claude_sessions.store import SessionMetadata, SessionStore
from claude_sessions.store.access import may_edit
from claude_sessions.store.criteria import WEEKDAYS
from claude_sessions.store.visibility import audit_log, record_exports
from claude_sessions.views import render
from claude_sessions.views.budgets import BudgetState, budget_status
from claude_sessions.views.conversation import (
    Conversation,
    Turn,
    api_requests,
    build_conversation,
    join_replies,
    settled,
    turn_showing,
)
from claude_sessions.views.lineage import Lineage, fork_tree
from claude_sessions.views.secrets import sessions_with_secrets
from claude_sessions.views.stats import compute_stats, usage_series, week_hours
from claude_sessions.web import charts, tree
from claude_sessions.web.filters import Filters, UsageView
from claude_sessions.web.templating import Pages, cost, extra_fields, shown_fields, tokens
from claude_sessions.web.viewer import store_for, viewer

PAGE_SIZE = 50
SLICE = 100  # turns per piece of a long session: the first screen, then as the reader scrolls
FORKS_SHOWN = 50
USAGE_GROUPS = ("model", "project", "tag", "block")
DOWNLOADS = {"html": "text/html", "markdown": "text/markdown", "json": "application/json"}


def session_version(metadata: SessionMetadata) -> str:
    """A value that changes whenever anything the session page shows does."""
    facts = repr(sorted(metadata.to_dict().items())).encode()
    return hashlib.sha256(facts).hexdigest()[:20]


def search_words(query: str | None) -> list[str]:
    """The words of a search (a result's link passes it as ``?q=``) that the session
    page highlights, as the store reads them; none for a query it would refuse."""
    if not query:
        return []
    try:
        found = text_query.terms(text_query.parse(query))
    except InvalidQueryError:
        return []
    return list(dict.fromkeys(word for term in found for word in term.words))


@dataclass
class Loaded:
    """A session as its page shows it; ``requests``: the main transcript's API requests."""

    metadata: SessionMetadata
    conversation: Conversation
    requests: int
    parent: SessionMetadata | None = None
    forks: list[SessionMetadata] = field(default_factory=list)
    secrets: bool = False  # a secrets scan found some

    def counts(self) -> dict[str, int]:
        """What the panel counts beside the turns: the chat's exchanges, the API requests."""
        return {"exchanges": len(self.conversation.turns), "requests": self.requests}


class Site:
    """The handlers of every page, over one store."""

    def __init__(self, store: SessionStore, pages: Pages) -> None:
        self.store = store
        self.pages = pages
        # The session last loaded, with the store's version then and who asked: a live
        # page asks for its new turns, then for the panel's figures, at one version.
        self._last: tuple[str, str, str | None, Loaded] | None = None

    # -- sessions ------------------------------------------------------------------------

    async def sessions(self, request: Request) -> Response:
        filters = Filters.read(request.query_params)
        cursor = request.query_params.get("cursor") or None
        store = store_for(request, self.store)
        version, page, secrets, missing = await run_in_threadpool(
            self._sessions, store, filters, cursor
        )
        template = "rows.html" if request.query_params.get("fragment") else "sessions.html"
        return self.pages.response(
            request,
            template,
            filters=filters,
            page=page,
            cursor=cursor,
            version=version,
            secrets=secrets,
            not_indexed=missing,
        )

    def _sessions(
        self, store: SessionStore, filters: Filters, cursor: str | None
    ) -> tuple[str, Any, set[str], str | None]:
        from claude_sessions.store.search_index import not_indexed_note

        where = filters.session_filter()
        version = store.version()  # first: a change after this read shows at the next poll
        missing = not_indexed_note(store, where)
        page = store.search_page(where, limit=PAGE_SIZE, cursor=cursor)
        shown = [m.session_id for m in page.sessions]
        return version, page, sessions_with_secrets(store, shown), missing

    # -- one session ---------------------------------------------------------------------

    def _resolve(self, store: SessionStore, session_id: str) -> SessionMetadata | str:
        """The session's metadata, or the full id a unique prefix names."""
        metadata = store.get_metadata(session_id)
        if metadata is not None:
            return metadata
        return store.resolve_id(session_id)

    def _load(self, request: Request, session_id: str, *, neighbours: bool) -> Loaded | str:
        store, asking = store_for(request, self.store), viewer(request)
        who = None if asking is None else asking.name
        version = store.version()  # first: a change after this read loads again
        last = self._last
        if not neighbours and last is not None and last[:3] == (session_id, version, who):
            return last[3]
        found = self._resolve(store, session_id)
        if isinstance(found, str):
            return found
        data = store.load_session(found.session_id, subagents=True)
        conversation = join_replies(build_conversation(data.messages, data.subagents))
        loaded = Loaded(data.metadata, conversation, api_requests(data.messages))
        self._last = (found.session_id, version, who, loaded)
        if neighbours:
            if data.metadata.forked_from:
                loaded.parent = store.get_metadata(data.metadata.forked_from)
            loaded.forks = store.search(forked_from=found.session_id, limit=FORKS_SHOWN)
            loaded.secrets = bool(sessions_with_secrets(store, [found.session_id]))
        return loaded

    async def session(self, request: Request) -> Response:
        session_id = request.path_params["session_id"]
        loaded = await run_in_threadpool(self._load, request, session_id, neighbours=True)
        if isinstance(loaded, str):
            return RedirectResponse(f"/s/{quote(loaded, safe='')}", status_code=302)
        turns = loaded.conversation.turns
        return self.pages.response(
            request,
            "session.html",
            m=loaded.metadata,
            parent=loaded.parent,
            forks=loaded.forks,
            secrets=loaded.secrets,
            extra=extra_fields(loaded.metadata, shown_fields(self.pages.environment)),
            version=session_version(loaded.metadata),
            counts=loaded.counts(),
            words=search_words(request.query_params.get("q")),
            may_change=may_edit(viewer(request), loaded.metadata),
            **self._slice(loaded, 0, turns),
        )

    def _slice(
        self, loaded: Loaded, start: int, turns: list[Turn], reach: int = 0
    ) -> dict[str, Any]:
        """The turns from ``start``: a piece of :data:`SLICE`, or as many pieces as it
        takes to hold turn ``reach - 1`` (a link to a message further down)."""
        pieces = max(1, -(-(reach - start) // SLICE))
        end = min(start + SLICE * pieces, len(turns))
        return {
            "turns": list(enumerate(turns[start:end], start)),
            "start": start,
            "end": end,
            "total": len(turns),
            "settled": settled(loaded.conversation),
            "unlinked": loaded.conversation.unlinked if end >= len(turns) else {},
            "session_id": loaded.metadata.session_id,
        }

    async def turns(self, request: Request) -> Response:
        """A piece of the conversation from ``start``: the next screen, or what changed;
        with ``at`` (a message uuid), through the turn that shows that message."""
        session_id = request.path_params["session_id"]
        start = _int_param(request, "start")
        loaded = await run_in_threadpool(self._load, request, session_id, neighbours=False)
        if isinstance(loaded, str):
            raise SessionNotFoundError(session_id)
        turns = loaded.conversation.turns
        at = request.query_params.get("at")
        shown_at = turn_showing(loaded.conversation, at) if at else None
        reach = 0 if shown_at is None else shown_at + 1
        return self.pages.response(
            request, "turns.html", **self._slice(loaded, min(start, len(turns)), turns, reach)
        )

    async def facts(self, request: Request) -> Response:
        """The side panel's figures, for a live page to refresh."""
        session_id = request.path_params["session_id"]
        loaded = await run_in_threadpool(self._load, request, session_id, neighbours=False)
        if isinstance(loaded, str):
            raise SessionNotFoundError(session_id)
        metadata = loaded.metadata
        extra = extra_fields(metadata, shown_fields(self.pages.environment))
        return self.pages.response(
            request, "facts.html", m=metadata, extra=extra, counts=loaded.counts()
        )

    async def download(self, request: Request) -> Response:
        session_id = request.path_params["session_id"]
        fmt = request.path_params["fmt"]
        if fmt not in DOWNLOADS:
            raise SessionNotFoundError(session_id, f"no download as {fmt!r}")
        from claude_sessions.web.export import session_html  # it builds on this module

        store = store_for(request, self.store)
        data = await run_in_threadpool(store.load_session, session_id, subagents=True)
        await run_in_threadpool(record_exports, store, [data.session_id], fmt)
        body = render.render(data, fmt, html=session_html)
        name = render.export_filename(data.metadata, fmt)
        plain = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
        disposition = f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(name)}"
        return Response(
            body,
            media_type=f"{DOWNLOADS[fmt]}; charset=utf-8",
            headers={"Content-Disposition": disposition, "Cache-Control": "no-store"},
        )

    # -- lineage -------------------------------------------------------------------------

    async def lineage(self, request: Request) -> Response:
        session_id = request.path_params["session_id"]
        store = store_for(request, self.store)
        found, shown_ids = await run_in_threadpool(self._lineage, store, session_id)
        return self.pages.response(
            request,
            "lineage.html",
            lineage=found,
            drawing=tree.layout(found),
            focus=next(n.metadata for n in found.root.walk() if n.session_id == found.focus),
            shown_ids=shown_ids,
        )

    def _lineage(self, store: SessionStore, session_id: str) -> tuple[Lineage, dict[str, str]]:
        """The fork tree, and each of its sessions' shortest unique id prefix."""
        found = fork_tree(store, session_id)
        return found, store.unique_prefixes(n.session_id for n in found.root.walk())

    # -- the audit log (admins) ------------------------------------------------------------

    async def audit(self, request: Request) -> Response:
        store = store_for(request, self.store)
        entries = await run_in_threadpool(audit_log, store)
        return self.pages.response(request, "audit.html", entries=entries)

    # -- usage ---------------------------------------------------------------------------

    async def usage(self, request: Request) -> Response:
        view = UsageView.read(request.query_params, datetime.now(timezone.utc).date())
        store = store_for(request, self.store)
        stats, series, week, budgets = await run_in_threadpool(self._usage, store, view)
        title = f"per {view.period}, by {view.stack}"
        periods, costs = charts.spread(series.periods, series.cost, view.period)
        counts, sessions = (
            charts.spread(
                series.periods,
                {name: [float(v) for v in values] for name, values in figures.items()},
                view.period,
            )[1]
            for figures in (series.tokens, series.sessions)
        )
        colours = charts.palette(costs, counts)
        cost_chart = charts.stacked_bars(f"Cost {title}", periods, costs, cost, colours=colours)
        token_chart = charts.stacked_bars(
            f"Tokens {title}", periods, counts, lambda value: tokens(round(value)), colours=colours
        )
        timeline = {
            "sessions": charts.stacked_bars(
                f"Sessions {title}",
                periods,
                sessions,
                lambda value: f"{round(value):,}",
                colours=colours,
                counts=True,
            ),
            "week": charts.heatmap(
                "Sessions by weekday and hour they started (UTC)",
                WEEKDAYS,
                [f"{hour:02d}" for hour in range(24)],
                week,
                "sessions",
            ),
        }
        return self.pages.response(
            request,
            "usage.html",
            view=view,
            stats=stats,
            budgets=budgets,
            charts=[cost_chart, token_chart],
            timeline=timeline,
        )

    def _usage(
        self, store: SessionStore, view: UsageView
    ) -> tuple[Any, Any, list[list[int]], list[BudgetState]]:
        where = view.session_filter()
        stats = compute_stats(store, where, by=USAGE_GROUPS)
        series = usage_series(store, view.period, view.stack, where)
        return stats, series, week_hours(store, where), budget_status(store)


def _int_param(request: Request, name: str) -> int:
    text = request.query_params.get(name, "0")
    if not text.isdigit():
        raise InvalidQueryError(f"{name} must be a whole number >= 0, not {text!r}")
    return int(text)
