"""Readable transcripts: plain text, Markdown, JSON and HTML.

Every format renders the conversation read model (:mod:`.conversation`):
turns of text, thinking, tool calls with their results, images and markers,
slash commands with their output, system reminders folded to a label, with
each subagent's transcript nested under the call that started it. JSON
keeps the messages verbatim (subagent transcripts beside them, with the call
each belongs to, and so the subagent conversations older CLIs wrote into the
main transcript, see :mod:`.sidechains`). HTML is the web app's session page
(``claude_sessions.web.export``): a face that offers it passes that renderer in.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from claude_sessions.model.exceptions import InvalidInputError
from claude_sessions.store.visibility import record_exports
from claude_sessions.views.conversation import (
    Block,
    Conversation,
    build_conversation,
    call_arguments,
    image_label,
    reminder_label,
    subagent_label,
    turn_label,
)
from claude_sessions.views.costs import bounded, is_lower_bound, metadata_json
from claude_sessions.views.edits import change_heading, diff_line_kind
from claude_sessions.views.sidechains import split_sidechains
from claude_sessions.views.titles import (
    FORMATS,
    Renderer,
    session_title,
)

if TYPE_CHECKING:
    from claude_sessions.model.filters import SessionFilter
    from claude_sessions.store import SessionData, SessionMetadata, SessionStore

Format = Literal["text", "markdown", "json", "html"]
EXTENSIONS = {"text": "txt", "markdown": "md", "json": "json", "html": "html"}


def _cache_line(metadata: SessionMetadata) -> str:
    """The part of the input tokens written to the cache and read from it."""
    five, hour = metadata.cache_write_5m_tokens, metadata.cache_write_1h_tokens
    return (
        f"{five + hour:,} written (5m {five:,}, 1h {hour:,}), "
        f"{metadata.cache_read_tokens:,} read; {metadata.uncached_input_tokens:,} in uncached"
    )


def _header_lines(metadata: SessionMetadata) -> list[tuple[str, str]]:
    cost = bounded(f"${metadata.total_cost:.4f}", is_lower_bound(metadata))
    if metadata.subagent_cost:
        cost += f" (subagents ${metadata.subagent_cost:.4f})"
    if metadata.unpriced_models:
        cost += f", no price for {', '.join(metadata.unpriced_models)}"
    rows = [
        ("Session", metadata.session_id),
        ("Created", metadata.created_at.isoformat(timespec="seconds")),
        ("Updated", metadata.updated_at.isoformat(timespec="seconds")),
        ("Model", metadata.model or "-"),
        ("User", f"{metadata.user} on {metadata.machine}"),
        ("Turns", str(metadata.turns)),
        ("Tokens", f"{metadata.input_tokens:,} in, {metadata.output_tokens:,} out"),
        ("Cache", _cache_line(metadata)),
        ("Cost", cost),
    ]
    for name, value in (
        ("Tags", ", ".join(metadata.tags)),
        ("Project", metadata.project),
        ("Forked from", metadata.forked_from),
        ("Description", metadata.description),
        ("Redacted", _redaction_line(metadata)),
    ):
        if value:
            rows.append((name, value))
    return rows


def _redaction_line(metadata: SessionMetadata) -> str | None:
    """When the session's secrets were redacted in the store, and by which rules."""
    if metadata.redacted_at is None:
        return None
    when = metadata.redacted_at.isoformat(timespec="seconds")
    return f"{when} ({', '.join(metadata.redacted_rules)})"


def _one_line(text: str, length: int = 120) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= length else flat[: length - 1] + "\u2026"


# -- plain text -----------------------------------------------------------------------------


class StyledLine(str):
    """A line of the text transcript that a terminal may colour: ``kind`` says what it is
    (a line of a diff: see :func:`~.edits.diff_line_kind`; ``code:<language>``: a line of
    a file written, after ``indent`` characters of indentation)."""

    kind: str
    indent: int = 0


def _styled(text: str, kind: str, indent: int = 0) -> StyledLine:
    line = StyledLine(text)
    line.kind = kind
    line.indent = indent
    return line


def _text_change(block: Block, indent: str) -> Iterator[str]:
    assert block.change is not None and block.name is not None
    change = block.change
    yield f"{indent}── {change_heading(block.name, change)} ──"
    if change.content is not None:
        kind = f"code:{change.language}" if change.language else ""
        for line in change.content.split("\n"):
            yield _styled(indent + line, kind, len(indent))
        return
    for line in change.diff.split("\n") if change.diff else []:
        yield _styled(indent + line, diff_line_kind(line))


def _text_block(block: Block, indent: str) -> Iterator[str]:
    if block.kind == "image":
        yield indent + image_label(block)
        return
    if block.kind == "reminder":
        yield indent + reminder_label(block)
        return
    if block.kind == "command":
        yield indent + block.text
        if block.result is not None:
            yield from _text_block(block.result, indent)
        return
    if block.kind == "marker":
        yield f"{indent}── {block.text} ──"
        if block.result is not None:
            yield from _indented(block.result.text, indent + "   ")
        return
    if block.kind == "tool_use":
        if block.change is not None:
            yield from _text_change(block, indent)
        else:
            yield f"{indent}── Tool call: {block.name} ──"
            yield from _indented(call_arguments(block), indent)
        if block.result is not None:
            yield from _text_block(block.result, indent + "   ")
        if block.subagent is not None:
            yield f"{indent}   ── {subagent_label(block)} ──"
            yield from _text_conversation(block.subagent, indent + "   │ ")
        return
    heading = {"tool_result": "Tool result", "thinking": "Thinking", "output": "Output"}.get(
        block.kind
    )
    if heading:
        yield f"{indent}── {heading}{' (error)' if block.is_error else ''} ──"
    yield from _indented(_shown_output(block), indent)
    for item in block.attachments:
        yield from _text_block(item, indent)


def _shown_output(block: Block) -> str:
    return "(no output)" if block.kind == "output" and not block.text else block.text


def _indented(text: str, indent: str) -> Iterator[str]:
    for line in text.split("\n"):
        yield indent + line


def _text_conversation(
    conversation: Conversation, indent: str = "", *, uuids: bool = False
) -> Iterator[str]:
    for turn in conversation.turns:
        yield ""
        if turn.role in ("user", "assistant"):
            where = f" · {turn.uuid}" if uuids and turn.uuid else ""
            yield f"{indent}── {turn_label(turn)}{where} ──"
        for block in turn.blocks:
            yield from _text_block(block, indent)
    for path, agent in conversation.unlinked.items():
        yield ""
        yield f"{indent}── Subagent {path} ──"
        yield from _text_conversation(agent, indent + "│ ")


def _conversation(session: SessionData) -> Conversation:
    return build_conversation(session.messages, session.subagents)


def text_lines(session: SessionData, *, uuids: bool = False) -> list[str]:
    """The lines of :func:`render_text`; those a terminal may colour are :class:`StyledLine`."""
    lines = [f"{name}: {value}" for name, value in _header_lines(session.metadata)]
    return lines + list(_text_conversation(_conversation(session), uuids=uuids))


def render_text(session: SessionData, *, uuids: bool = False) -> str:
    """A plain-text transcript, subagents nested (and indented) under their calls;
    ``uuids`` puts each message's uuid beside its heading (to fork or resume at it)."""
    return "\n".join(text_lines(session, uuids=uuids)) + "\n"


# How many messages either side of the one ``show --at`` asks for.
AROUND = 3


def _focus(session: SessionData, conversation: Conversation, uuid: str) -> int:
    """The position of the turn that shows message ``uuid``: its own, or for a message that
    shows inside another (a tool result, a subagent's line), the turn holding it."""
    turns = conversation.turns
    for position, turn in enumerate(turns):
        if turn.uuid == uuid:
            return position
    for path, entries in session.subagents.items():
        if any(entry.uuid == uuid for entry in entries):
            agent = path.rsplit("/", 1)[-1].removeprefix("agent-")
            return next(
                (p for p, t in enumerate(turns) if any(b.agent_id == agent for b in t.blocks)), 0
            )
    index = next(i for i, message in enumerate(session.messages) if message.uuid == uuid)
    return max((p for p, turn in enumerate(turns) if turn.index <= index), default=0)


def text_lines_around(session: SessionData, prefix: str, *, around: int = AROUND) -> list[str]:
    """The text transcript near one message (a uuid, or its start): ``around`` messages
    either side of it, uuids shown, its own heading marked."""
    from claude_sessions.views.lineage import find_message_uuid

    everything = [*session.messages, *(m for ms in session.subagents.values() for m in ms)]
    uuid = find_message_uuid(everything, prefix)
    conversation = _conversation(session)
    turns = conversation.turns
    focus = _focus(session, conversation, uuid)
    start, end = max(focus - around, 0), min(focus + around + 1, len(turns))
    lines = [f"Session: {session.metadata.session_id}", f"Around message: {uuid}"]
    if start:
        lines += ["", f"({start} earlier message(s) not shown)"]
    for position in range(start, end):
        shown = list(_text_conversation(Conversation([turns[position]]), uuids=True))
        if position == focus and len(shown) > 1:
            shown[1] = _styled(shown[1].replace("── ", "▶▶ ", 1), "focus")
        lines += shown
    if end < len(turns):
        lines += ["", f"({len(turns) - end} later message(s) not shown)"]
    return lines


# -- Markdown ---------------------------------------------------------------------------------


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


def _code_span(text: str) -> str:
    """``text`` as inline code: delimiters longer than any backtick run inside it, and a
    space inside each (which Markdown takes off again)."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    ticks = "`" * (longest + 1)
    return f"{ticks} {text} {ticks}"


def _quote(text: str) -> str:
    return "\n".join(f"> {line}" if line else ">" for line in text.split("\n"))


def _markdown_block(block: Block) -> str:
    if block.kind == "image":
        return f"*{image_label(block)}*"
    if block.kind == "reminder":
        return f"<details><summary>System reminder</summary>\n\n{_fence(block.text)}\n\n</details>"
    if block.kind == "command":
        command = _code_span(block.text)
        return command if block.result is None else f"{command}\n\n{_markdown_block(block.result)}"
    if block.kind == "output":
        return f"**Output{' (error)' if block.is_error else ''}**\n\n{_fence(_shown_output(block))}"
    if block.kind == "marker":
        text = f"*— {block.text} —*"
        return text if block.result is None else text + "\n\n" + _fence(block.result.text)
    if block.kind == "thinking":
        return "**Thinking**\n\n" + _fence(block.text)
    if block.kind == "tool_result":
        parts = [f"**Tool result{' (error)' if block.is_error else ''}**", _fence(block.text)]
        parts += [_markdown_block(item) for item in block.attachments]
        return "\n\n".join(parts)
    if block.kind == "tool_use":
        parts = _markdown_call(block)
        if block.result is not None:
            parts.append(_markdown_block(block.result))
        if block.subagent is not None:
            nested = "\n\n".join(_markdown_turns(block.subagent, level=4))
            parts.append(_quote(f"**{subagent_label(block)}**\n\n{nested}"))
        return "\n\n".join(parts)
    return block.text


def _markdown_call(block: Block) -> list[str]:
    """A tool call's heading and arguments; a file edit's as its diff or content."""
    change = block.change
    if change is None or block.name is None:
        return [f"**Tool call: {block.name}**", _fence(call_arguments(block), "json")]
    heading = f"**{change_heading(block.name, replace(change, path=_code_span(change.path)))}**"
    if change.content is not None:
        return [heading, _fence(change.content.removesuffix("\n"), change.language)]
    return [heading, _fence(change.diff, "diff")] if change.diff else [heading]


def _markdown_turns(conversation: Conversation, *, level: int = 2) -> list[str]:
    heading = "#" * level
    sections = []
    for turn in conversation.turns:
        body = "\n\n".join(_markdown_block(block) for block in turn.blocks)
        if turn.role in ("user", "assistant"):
            body = f"{heading} {turn_label(turn)}\n\n{body}"
        sections.append(body)
    for path, agent in conversation.unlinked.items():
        nested = "\n\n".join(_markdown_turns(agent, level=level + 1))
        sections.append(f"{heading} Subagent {path}\n\n{_quote(nested)}")
    return sections


def markdown_blocks(session: SessionData) -> list[str]:
    """The Markdown transcript in blocks: the header, then one block per turn."""
    return [markdown_header(session.metadata), *_markdown_turns(_conversation(session))]


def render_markdown(session: SessionData) -> str:
    """A Markdown transcript; tool calls and results go in code fences, subagents in quotes."""
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


# -- JSON and HTML ------------------------------------------------------------------------------


def _agent_calls(conversation: Conversation) -> dict[str, str]:
    """Agent id -> the id of the tool call that started that subagent."""
    return {
        block.agent_id: block.tool_use_id or ""
        for block in conversation.blocks()
        if block.subagent is not None and block.agent_id
    }


def session_json(session: SessionData) -> dict[str, Any]:
    """The session as JSON-ready data: metadata, every message verbatim, and each subagent
    transcript verbatim with the tool call that started it (``null``: none found).

    A subagent conversation an older CLI wrote into the main transcript is listed with
    the subagents (its ``subpath`` ``null``), its lines taken out of ``messages``."""
    calls = _agent_calls(_conversation(session)) if session.subagents else {}
    subagents: list[dict[str, Any]] = []
    for path, messages in session.subagents.items():
        agent = path.rsplit("/", 1)[-1].removeprefix("agent-")
        subagents.append(
            {
                "subpath": path,
                "agent_id": agent,
                "tool_use_id": calls.get(agent) or None,
                "messages": [message.to_dict() for message in messages],
            }
        )
    sidechains = split_sidechains(session.messages)
    for chain in sidechains:
        subagents.append(
            {
                "subpath": None,
                "agent_id": chain.agent_id,
                "tool_use_id": chain.tool_use_id,
                "messages": [message.to_dict() for message in chain.messages],
            }
        )
    taken = {position for chain in sidechains for position in chain.positions}
    return {
        "session": metadata_json(session.metadata),
        "messages": [m.to_dict() for i, m in enumerate(session.messages) if i not in taken],
        "subagents": subagents,
    }


def render_json(session: SessionData) -> str:
    return json.dumps(session_json(session), ensure_ascii=False, indent=2) + "\n"


def render(session: SessionData, fmt: str = "text", *, html: Renderer | None = None) -> str:
    """``session`` in one of :data:`FORMATS`; ``html``: the renderer of that one (the
    web app's ``claude_sessions.web.export.session_html``, its session page as a file)."""
    renderers: dict[str, Renderer] = {
        "text": render_text,
        "markdown": render_markdown,
        "json": render_json,
    }
    if fmt not in FORMATS:
        raise InvalidInputError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if fmt == "html":
        if html is None:
            raise InvalidInputError(
                "HTML is the web app's session page: pass "
                "html=claude_sessions.web.export.session_html"
            )
        return html(session)
    return renderers[fmt](session)


def export_filename(metadata: SessionMetadata, fmt: str) -> str:
    """The file name ``export --all`` gives a session: ``<session id>.<extension>``."""
    return f"{metadata.session_id}.{EXTENSIONS[fmt]}"


def export_session(
    store: SessionStore,
    session_id: str,
    fmt: str = "markdown",
    *,
    uuids: bool = False,
    html: Renderer | None = None,
) -> str:
    """One stored session, subagents included, rendered in ``fmt`` (``uuids``: see
    :func:`render_text`; the other formats hold them anyway, or have no place for them;
    ``html``: see :func:`render`)."""
    if fmt not in FORMATS:
        raise InvalidInputError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    session = store.load_session(session_id, subagents=True)
    record_exports(store, [session.session_id], fmt)
    if uuids and fmt == "text":
        return render_text(session, uuids=True)
    return render(session, fmt, html=html)


def export_all(
    store: SessionStore,
    directory: str | os.PathLike[str],
    fmt: str = "markdown",
    where: SessionFilter | None = None,
    *,
    html: Renderer | None = None,
) -> list[Path]:
    """Every stored session ``where`` selects (all of them by default) written to
    ``directory`` as ``<id>.<ext>``; the paths written (``html``: see :func:`render`)."""
    if fmt not in FORMATS:
        raise InvalidInputError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    target = Path(directory)
    target.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    exported: list[str] = []
    for metadata in store.list_sessions(where=where):
        session = store.get_session(metadata.session_id, subagents=True)
        if session is None:  # deleted meanwhile
            continue
        path = target / export_filename(metadata, fmt)
        write_export(path, render(session, fmt, html=html))
        written.append(path)
        exported.append(session.session_id)
    record_exports(store, exported, fmt)
    return written


def export_bytes(text: str) -> bytes:
    """A rendered session as a file or a pipe gets it: UTF-8, as stored.

    The one exception is a lone surrogate (text that never was valid Unicode,
    such as a name that is not UTF-8): UTF-8 cannot hold it, so it is written
    as the escape ``\\udcff``, which inside a JSON string reads back as the same text.
    """
    return text.encode("utf-8", "backslashreplace")


def write_export(path: Path, text: str) -> None:
    """``text`` written to ``path`` (see :func:`export_bytes`).

    A full disk often shows only when the file is closed, by an error naming no
    file: the error raised names ``path`` whatever failed.
    """
    try:
        path.write_bytes(export_bytes(text))
    except OSError as error:
        if error.filename is not None:
            raise
        raise OSError(error.errno, error.strerror, str(path)) from error
