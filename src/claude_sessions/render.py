"""Readable transcripts: plain text, Markdown, JSON and HTML.

:func:`conversation` turns stored messages (stream-json messages or CLI
transcript entries) into :class:`Part` items (user and assistant text,
thinking, tool calls, tool results, the final result) and skips the CLI's
bookkeeping entries. Every format renders those parts; JSON keeps the
messages verbatim. HTML goes through Jinja2 with autoescaping, so nothing a
message holds can inject markup.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import jinja2

from .exceptions import InvalidInputError
from .message import Message

if TYPE_CHECKING:
    from .store import SessionData, SessionMetadata, SessionStore

Format = Literal["text", "markdown", "json", "html"]
FORMATS: tuple[str, ...] = ("text", "markdown", "json", "html")
EXTENSIONS = {"text": "txt", "markdown": "md", "json": "json", "html": "html"}

PartKind = Literal["user", "assistant", "thinking", "tool_use", "tool_result", "result", "system"]


@dataclass(frozen=True)
class Part:
    """One readable piece of a conversation."""

    kind: PartKind
    text: str
    name: str | None = None  # the tool's name, for tool_use
    is_error: bool = False
    timestamp: str | None = None


def _tool_result_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        pieces = []
        for block in content:
            if isinstance(block, dict) and isinstance(block.get("text"), str):
                pieces.append(block["text"])
            elif isinstance(block, dict) and block.get("type") == "image":
                pieces.append("[image]")
        return "\n".join(pieces)
    return "" if content is None else json.dumps(content, ensure_ascii=False)


def _message_parts(message: Message) -> Iterable[Part]:
    kind = message.type
    stamp = message.timestamp
    if kind == "system" and message.is_init:
        model = message.model or "unknown model"
        yield Part("system", f"session started ({model})", timestamp=stamp)
        return
    if kind == "result":
        cost = message.total_cost_usd
        details = [f"{message.subtype or 'result'}"]
        if message.num_turns is not None:
            details.append(f"{message.num_turns} turn(s)")
        if cost is not None:
            details.append(f"${cost:.4f}")
        yield Part("result", ", ".join(details), is_error=message.is_error, timestamp=stamp)
        return
    if kind not in ("user", "assistant") or message.get("isMeta") is True:
        return
    for block in message.content:
        block_type = block.get("type")
        if block_type == "text" and isinstance(block.get("text"), str) and block["text"].strip():
            yield Part(kind, block["text"], timestamp=stamp)  # type: ignore[arg-type]
        elif block_type == "thinking" and isinstance(block.get("thinking"), str):
            if block["thinking"].strip():
                yield Part("thinking", block["thinking"], timestamp=stamp)
        elif block_type == "tool_use":
            arguments = json.dumps(block.get("input", {}), indent=2, ensure_ascii=False)
            name = block.get("name") if isinstance(block.get("name"), str) else "tool"
            yield Part("tool_use", arguments, name=name, timestamp=stamp)
        elif block_type == "tool_result":
            yield Part(
                "tool_result",
                _tool_result_text(block.get("content")),
                is_error=block.get("is_error") is True,
                timestamp=stamp,
            )


def conversation(messages: Iterable[Message | dict[str, Any]]) -> list[Part]:
    """The readable parts of ``messages``, in order."""
    parts: list[Part] = []
    for message in messages:
        parts.extend(_message_parts(Message.coerce(message)))
    return parts


_LABELS = {
    "user": "User",
    "assistant": "Assistant",
    "thinking": "Thinking",
    "tool_use": "Tool call",
    "tool_result": "Tool result",
    "result": "Result",
    "system": "System",
}


def label(part: Part) -> str:
    text = _LABELS[part.kind]
    if part.kind == "tool_use" and part.name:
        text += f": {part.name}"
    if part.is_error:
        text += " (error)"
    return text


def session_title(metadata: SessionMetadata) -> str:
    """The best short name of a session: title, description, first prompt or id."""
    return metadata.title or metadata.description or metadata.first_prompt or metadata.session_id


def _header_lines(metadata: SessionMetadata) -> list[tuple[str, str]]:
    rows = [
        ("Session", metadata.session_id),
        ("Created", metadata.created_at.isoformat(timespec="seconds")),
        ("Updated", metadata.updated_at.isoformat(timespec="seconds")),
        ("Model", metadata.model or "-"),
        ("Turns", str(metadata.turns)),
        ("Cost", f"${metadata.total_cost:.4f}"),
    ]
    if metadata.tags:
        rows.append(("Tags", ", ".join(metadata.tags)))
    if metadata.project:
        rows.append(("Project", metadata.project))
    if metadata.forked_from:
        rows.append(("Forked from", metadata.forked_from))
    if metadata.description:
        rows.append(("Description", metadata.description))
    return rows


def render_text(session: SessionData) -> str:
    """A plain-text transcript."""
    lines = [f"{name}: {value}" for name, value in _header_lines(session.metadata)]
    for part in conversation(session.messages):
        lines.append("")
        lines.append(f"── {label(part)} ──")
        lines.append(part.text)
    return "\n".join(lines) + "\n"


def _fence(text: str, language: str = "") -> str:
    """``text`` in a code fence longer than any backtick run inside it."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{language}\n{text}\n{fence}"


def markdown_header(metadata: SessionMetadata) -> str:
    """The Markdown title and facts of a session (no trailing newline)."""
    lines = [f"# {_one_line(session_title(metadata))}", ""]
    lines += [f"- **{name}:** {value}" for name, value in _header_lines(metadata)]
    return "\n".join(lines)


def markdown_part(part: Part) -> str:
    """One part as a Markdown section; tool calls and results go in code fences."""
    if part.kind == "tool_use":
        body = _fence(part.text, "json")
    elif part.kind in ("tool_result", "thinking"):
        body = _fence(part.text)
    else:
        body = part.text
    return f"## {label(part)}\n\n{body}"


def markdown_blocks(session: SessionData) -> list[str]:
    """The Markdown transcript in blocks: the header, then one block per part."""
    return [markdown_header(session.metadata)] + [
        markdown_part(part) for part in conversation(session.messages)
    ]


def render_markdown(session: SessionData) -> str:
    """A Markdown transcript; tool calls and results go in code fences."""
    return "\n\n".join(markdown_blocks(session)) + "\n"


CONTINUED = "*(continued)*\n\n"


@dataclass(frozen=True)
class MarkdownPage:
    """A stretch of a Markdown transcript that fits a character budget.

    Positions count blocks of :func:`markdown_blocks` (0 is the header) and
    characters within a block. ``next_block``/``next_offset`` are where the
    next page starts, ``None`` on the last page.
    """

    text: str
    block: int
    offset: int
    next_block: int | None
    next_offset: int
    blocks: int


def markdown_page(
    session: SessionData, *, block: int = 0, offset: int = 0, max_chars: int = 20_000
) -> MarkdownPage:
    """The Markdown transcript from ``block`` (at ``offset`` characters into it), as many
    whole blocks as fit in ``max_chars``; a block longer than a page is split across
    pages, a page that starts inside a block says it continues."""
    blocks = markdown_blocks(session)
    if max_chars < 2 * len(CONTINUED):
        raise InvalidInputError(f"max_chars must be at least {2 * len(CONTINUED)}")
    if not 0 <= block < len(blocks) or not 0 <= offset < max(1, len(blocks[block])):
        raise InvalidInputError(
            f"position {block}:{offset} is outside this transcript of {len(blocks)} blocks"
        )
    pieces: list[str] = []
    used = 0
    position, start = block, offset
    while position < len(blocks):
        text = blocks[position][start:]
        if start:
            text = CONTINUED + text
        separator = 2 if pieces else 0
        room = max_chars - used - separator
        if len(text) <= room:
            pieces.append(text)
            used += separator + len(text)
            position, start = position + 1, 0
            continue
        if pieces and room < max_chars // 4:  # the next page starts this block afresh
            break
        taken = room - (len(CONTINUED) if start else 0)
        pieces.append(text[:room])
        start += taken
        break
    more = position < len(blocks)
    return MarkdownPage(
        text="\n\n".join(pieces),
        block=block,
        offset=offset,
        next_block=position if more else None,
        next_offset=start if more else 0,
        blocks=len(blocks),
    )


def _one_line(text: str, length: int = 120) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= length else flat[: length - 1] + "\u2026"


def session_json(session: SessionData) -> dict[str, Any]:
    """The session as JSON-ready data: metadata and every message verbatim."""
    return {
        "session": session.metadata.to_dict(),
        "messages": [message.to_dict() for message in session.messages],
    }


def render_json(session: SessionData) -> str:
    return json.dumps(session_json(session), ensure_ascii=False, indent=2) + "\n"


_HTML = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{ title }}</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem;
       color: #222; }
table.meta td { padding: 0.1rem 0.8rem 0.1rem 0; vertical-align: top; }
.part { border-left: 4px solid #ccc; margin: 1rem 0; padding: 0.3rem 0.8rem; }
.part h2 { font-size: 0.85rem; margin: 0 0 0.3rem; text-transform: uppercase; color: #555; }
.user { border-color: #2b6cb0; } .assistant { border-color: #2f855a; }
.tool_use, .tool_result { border-color: #b7791f; } .thinking { border-color: #999; }
.result, .system { border-color: #666; } .error { border-color: #c53030; }
pre { white-space: pre-wrap; word-wrap: break-word; margin: 0; }
</style>
</head>
<body>
<h1>{{ title }}</h1>
<table class="meta">
{% for name, value in header %}<tr><td><b>{{ name }}</b></td><td>{{ value }}</td></tr>
{% endfor %}</table>
{% for part in parts %}<div class="part {{ part.kind }}{% if part.is_error %} error{% endif %}">
<h2>{{ label(part) }}</h2>
<pre>{{ part.text }}</pre>
</div>
{% endfor %}</body>
</html>
"""

_environment = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
_html_template = _environment.from_string(_HTML)


def render_html(session: SessionData) -> str:
    """A self-contained HTML page; every value is escaped by Jinja2's autoescaping."""
    return _html_template.render(
        title=_one_line(session_title(session.metadata)),
        header=_header_lines(session.metadata),
        parts=conversation(session.messages),
        label=label,
    )


def render(session: SessionData, fmt: str = "text") -> str:
    """``session`` in one of :data:`FORMATS`."""
    renderers = {
        "text": render_text,
        "markdown": render_markdown,
        "json": render_json,
        "html": render_html,
    }
    if fmt not in renderers:
        raise InvalidInputError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    return renderers[fmt](session)


def export_filename(metadata: SessionMetadata, fmt: str) -> str:
    """The file name ``export --all`` gives a session: ``<session id>.<extension>``."""
    return f"{metadata.session_id}.{EXTENSIONS[fmt]}"


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


def export_session(store: SessionStore, session_id: str, fmt: str = "markdown") -> str:
    """One stored session rendered in ``fmt``."""
    if fmt not in FORMATS:
        raise InvalidInputError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    return render(store.load_session(session_id), fmt)


def export_all(
    store: SessionStore, directory: str | os.PathLike[str], fmt: str = "markdown"
) -> list[Path]:
    """Every stored session written to ``directory`` as ``<id>.<ext>``; the paths written."""
    if fmt not in FORMATS:
        raise InvalidInputError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    target = Path(directory)
    target.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for metadata in store.list_sessions():
        session = store.get_session(metadata.session_id)
        if session is None:  # deleted meanwhile
            continue
        path = target / export_filename(metadata, fmt)
        path.write_text(render(session, fmt), encoding="utf-8")
        written.append(path)
    return written
