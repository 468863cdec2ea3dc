"""The Jinja2 environment of the web app: autoescaping on, and the filters pages use.

Stored text reaches a page only through ``{{ ... }}`` (escaped) or through
the filters of :mod:`.markup`, which build their HTML from escaped text.
"""

from __future__ import annotations

import functools
import re
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse

from claude_sessions.views.conversation import image_label, reminder_brief
from claude_sessions.views.costs import bounded, is_lower_bound
from claude_sessions.views.edits import change_heading
from claude_sessions.views.figures import figures_source, figures_sources
from claude_sessions.views.sidechains import SUBAGENT_TOOLS
from claude_sessions.views.titles import TITLE_FIELDS, session_title
from claude_sessions.web import chart_markup, markup
from claude_sessions.web.security import csrf_token, nonce_of

if TYPE_CHECKING:
    from claude_sessions.store import SessionMetadata
    from claude_sessions.views.figures import Bucket
    from claude_sessions.views.stats import Stats

NONE = "\u2013"  # an en dash: the cell has no value

# The session page's templates: a metadata field they name (``m.<field>``) is shown
# where they put it; the panel lists any other field as it is.
SESSION_TEMPLATES = ("session.html", "session_head.html", "facts.html")


@functools.cache
def shown_fields(environment: jinja2.Environment) -> frozenset[str]:
    """The metadata fields the session page shows by name (its title is made of some)."""
    assert environment.loader is not None
    named = set(TITLE_FIELDS)
    for template in SESSION_TEMPLATES:
        source, _, _ = environment.loader.get_source(environment, template)
        named.update(re.findall(r"\bm\.(\w+)", source))
    return frozenset(named)


def extra_fields(metadata: SessionMetadata, shown: frozenset[str]) -> list[tuple[str, Any]]:
    """Metadata fields the page shows nowhere by name, with a value worth showing."""
    return [
        (name.replace("_", " "), value)
        for name, value in metadata.to_dict().items()
        if name not in shown and value not in (None, "", [], {}, 0, 0.0)
    ]


def cost(value: float | None, of: SessionMetadata | Bucket | Stats | None = None) -> str:
    """USD for a cell; ``at least`` before it when the usage of ``of`` (the session,
    group or report it is the cost of) has requests without a price."""
    if value is None:
        return NONE
    if value == 0:
        shown = "$0"
    elif value < 0.01:
        shown = f"${value:.4f}"
    else:
        shown = f"${value:,.2f}" if value >= 100 else f"${value:.2f}"
    return bounded(shown, of is not None and is_lower_bound(of))


def tokens(value: int | None) -> str:
    """A token count for a table cell: 950, 12.3k, 4.5M."""
    if value is None:
        return NONE
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if value >= size:
            return f"{value / size:.1f}{suffix}"
    return str(value)


def when(moment: datetime | None) -> str:
    """UTC, minutes; the page's script shows it in the reader's own time zone."""
    if moment is None:
        return NONE
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M")


def iso(moment: datetime | None) -> str:
    return "" if moment is None else moment.astimezone(timezone.utc).isoformat()


def stamp(text: str | None) -> str:
    """A message's ISO timestamp as ``HH:MM:SS`` (UTC), or the text as it is."""
    if not text:
        return ""
    try:
        moment = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    except ValueError:
        return text
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def duration(milliseconds: int | None) -> str:
    if milliseconds is None:
        return ""
    seconds = milliseconds / 1000
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, seconds = divmod(round(seconds), 60)
    return f"{minutes} min {seconds:02d} s"


def one_line(text: str | None, length: int = 120) -> str:
    flat = " ".join((text or "").split())
    return flat if len(flat) <= length else flat[: length - 1] + "\u2026"


_MODEL_DATE_RE = re.compile(r"-\d{8}$")


def model_name(model: str | None) -> str:
    """A model id short enough for a table cell: ``claude-sonnet-4-5-20250929`` is
    ``sonnet-4-5`` (the full id goes in the cell's title)."""
    if not model:
        return NONE
    return _MODEL_DATE_RE.sub("", model.removeprefix("claude-"))


def basename(path: str | None) -> str:
    """The last part of a project directory (the full path goes in the cell's title)."""
    return (path or "").rstrip("/").rsplit("/", 1)[-1] or NONE


def thousands(value: int) -> str:
    return f"{value:,}"


def short_uuid(uuid: str) -> str:
    """A message uuid shown short (session ids: ``SessionStore.unique_prefixes``)."""
    return uuid[:8]


# The argument that says most about a call, for its one-line summary.
_BRIEF_KEYS = ("command", "file_path", "path", "pattern", "url", "query", "description", "prompt")


def tool_brief(arguments: Any) -> str:
    if not isinstance(arguments, dict):
        return ""
    for key in _BRIEF_KEYS:
        if isinstance(arguments.get(key), str):
            return one_line(arguments[key], 90)
    return one_line(next((v for v in arguments.values() if isinstance(v, str)), ""), 90)


def page_environment() -> jinja2.Environment:
    """The environment of every page, the HTML export's included."""
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("claude_sessions.web", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters.update(
        cost=cost,
        tokens=tokens,
        when=when,
        iso=iso,
        stamp=stamp,
        duration=duration,
        one_line=one_line,
        short_uuid=short_uuid,
        model_name=model_name,
        basename=basename,
        thousands=thousands,
        title=session_title,
        figures_source=figures_source,
        figures_sources=figures_sources,
        markdown=markup.markdown,
        snippet=markup.snippet,
        json_text=markup.json_text,
        bar_rects=chart_markup.bar_rects,
        number_cells=chart_markup.number_cells,
        column_heads=chart_markup.column_heads,
    )
    environment.globals.update(
        split_lines=markup.split_lines,
        data_url=markup.data_url,
        tool_brief=tool_brief,
        highlight_code=markup.highlight_code,
        change_heading=change_heading,
        subagent_tools=SUBAGENT_TOOLS,
        image_label=image_label,
        reminder_brief=reminder_brief,
    )
    return environment


class Pages:
    """Renders templates into responses, with what every page needs."""

    def __init__(self, *, read_only: bool, secret: bytes, location: str) -> None:
        self.environment = page_environment()
        self.read_only = read_only
        self.secret = secret
        self.location = location

    def html(self, name: str, **context: Any) -> str:
        return self.environment.get_template(name).render(**context)

    def csrf(self, request: Request) -> str:
        """The token this browser's forms carry ("" on an error page the guard never saw)."""
        nonce = nonce_of(request)
        return csrf_token(self.secret, nonce) if nonce else ""

    def response(
        self, request: Request, name: str, status_code: int = 200, **context: Any
    ) -> HTMLResponse:
        text = self.html(
            name,
            request=request,
            read_only=self.read_only,
            csrf=self.csrf(request),
            location=self.location,
            **context,
        )
        return HTMLResponse(text, status_code=status_code, headers={"Cache-Control": "no-store"})
