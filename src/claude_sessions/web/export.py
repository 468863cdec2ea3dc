"""A session as one self-contained HTML file (``export --format html``, the page's download).

It is the web app's session page: the same templates (``export.html`` includes the
conversation and the panel's figures as the page does) and the same styles, inlined.
It needs nothing else: no script (tool calls, outputs and subagents fold as
``<details>``), images as ``data:`` URLs, and a Content-Security-Policy that lets it
load nothing from anywhere. Every stored value is escaped by Jinja's autoescaping.
"""

from __future__ import annotations

import functools
from importlib.resources import files

import jinja2
from markupsafe import Markup

from claude_sessions.store import SessionData
from claude_sessions.views.conversation import api_requests, build_conversation, join_replies
from claude_sessions.web.templating import extra_fields, page_environment, shown_fields

STYLES = ("app.css", "pygments.css")


@functools.cache
def _environment() -> jinja2.Environment:
    return page_environment()


@functools.cache
def _styles() -> Markup:
    """The page's own style sheets (package files, not stored text), as one."""
    static = files("claude_sessions.web") / "static"
    return Markup("\n".join(static.joinpath(name).read_text("utf-8") for name in STYLES))


def session_html(session: SessionData) -> str:
    """``session``, subagents included, as its page shows it, in one file."""
    conversation = join_replies(build_conversation(session.messages, session.subagents))
    turns = conversation.turns
    return (
        _environment()
        .get_template("export.html")
        .render(
            m=session.metadata,
            styles=_styles(),
            counts={"exchanges": len(turns), "requests": api_requests(session.messages)},
            extra=extra_fields(session.metadata, shown_fields(_environment())),
            turns=list(enumerate(turns)),
            start=0,
            end=len(turns),
            total=len(turns),
            settled=len(turns),
            unlinked=conversation.unlinked,
            session_id=session.metadata.session_id,
        )
    )
