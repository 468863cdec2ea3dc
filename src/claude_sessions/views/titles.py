"""What a listing needs of a session's rendering, without the renderers: its title,
a search snippet's marked pieces, the names of the export formats, and the name of
the grouping by usage block (the stats command's option is made with the listing's)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from claude_sessions.store import SessionData, SessionMetadata

FORMATS: tuple[str, ...] = ("text", "markdown", "json", "html")
BLOCK = "block"  # stats by 5-hour usage blocks (see views.blocks), built from the requests' times
Renderer = Callable[["SessionData"], str]
# What a session's title is made of, best first.
TITLE_FIELDS = ("title", "description", "first_prompt", "session_id")


def session_title(metadata: SessionMetadata) -> str:
    """The best short name of a session: title, description, first prompt or id."""
    return next(
        (str(getattr(metadata, name)) for name in TITLE_FIELDS if getattr(metadata, name)), ""
    )


def snippet_spans(snippet: str) -> list[tuple[str, bool]]:
    """A search snippet split into ``(text, is_match)`` pieces (the store marks ``[match]``)."""
    spans: list[tuple[str, bool]] = []
    position = 0
    for match in re.finditer(r"\[([^\[\]\n]+)\]", snippet):
        if match.start() > position:
            spans.append((snippet[position : match.start()], False))
        spans.append((match.group(1), True))
        position = match.end()
    if position < len(snippet):
        spans.append((snippet[position:], False))
    return spans
