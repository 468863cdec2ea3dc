"""Keeping every answer of the MCP tools to its size, whatever the store or the caller holds.

Stored fields (tags, titles, projects, models, branches) come from users and
transcripts and may be of any length; so may the arguments an error quotes. A
long value is cut with a marker saying so, so the model knows it saw a part.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

TAG_CHARS = 100
TAGS_JSON_CHARS = 1_000  # the tags of one session, as JSON: escapes and quotes counted
NAME_CHARS = 255  # a model, a git branch, a message id: as long as the longest session id
ERROR_CHARS = 500


def shorten(text: str, limit: int, *, tail: int = 0) -> str:
    """``text`` itself when it has at most ``limit`` characters; else its start, a marker
    naming its full length, and its last ``tail`` characters: ``limit`` characters in all."""
    if len(text) <= limit:
        return text
    marker = f"\u2026[cut: {len(text):,} characters in all]\u2026"
    room = max(limit - len(marker), 0)
    end = min(tail, room)
    head = room - end
    return text[:head] + marker + (text[len(text) - end :] if end else "")


def one_line_error(text: str) -> str:
    """An error message bounded in size: the start says what was wrong, the end often why
    (``... is too long``), and what lies between may be the caller's megabytes."""
    return shorten(text, ERROR_CHARS, tail=ERROR_CHARS // 3)


def shown_tags(tags: Sequence[str]) -> tuple[list[str], int]:
    """The tags to show, each cut to :data:`TAG_CHARS`, as many as fit
    :data:`TAGS_JSON_CHARS` of JSON; and how many were left out."""
    shown: list[str] = []
    used = 2  # the brackets
    for tag in tags:
        short = shorten(tag, TAG_CHARS)
        cost = len(json.dumps(short, ensure_ascii=False)) + 2  # the comma and space
        if used + cost > TAGS_JSON_CHARS:
            break
        shown.append(short)
        used += cost
    return shown, len(tags) - len(shown)
