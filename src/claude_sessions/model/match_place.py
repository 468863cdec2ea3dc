"""Where in a session a search word was said: the message and a name for the place.

Each piece of an entry's text has a place: ``prompt`` (what a person typed),
``reply`` (Claude's text, and summaries), ``tool`` (a tool's input or result)
or ``subagent`` (anything in a ``<session>/subagents/`` transcript or an
``isSidechain`` line). :func:`locate` finds the first message whose text in
the places searched matches, and names where: ``prompt``, ``reply``, ``tool
result of Bash``, ``tool input of Read``, ``subagent a93ccab``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from claude_sessions.model.aside_text import values_of


class Said(NamedTuple):
    """One piece of an entry's text: its place, and the tool it belongs to (if any)."""

    place: str
    text: str
    tool_name: str | None = None
    tool_id: str | None = None
    is_result: bool = False


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _result_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            block["text"]
            for block in content
            if isinstance(block, dict) and isinstance(block.get("text"), str)
        )
    return ""


def entry_pieces(entry: Mapping[str, Any]) -> Iterator[Said]:
    """The searchable pieces of one entry, in order (subagent lines not told apart here)."""
    kind = entry.get("type")
    if kind == "summary":
        if isinstance(entry.get("summary"), str):
            yield Said("reply", entry["summary"])
        return
    if kind != "user" and kind != "assistant":
        return
    message = entry.get("message")
    content = message.get("content") if isinstance(message, Mapping) else None
    own = "prompt" if kind == "user" else "reply"
    if isinstance(content, str):
        yield Said(own, content)
        return
    for block in content if isinstance(content, list) else ():
        if not isinstance(block, dict):
            continue
        sort = block.get("type")
        if sort == "text" and isinstance(block.get("text"), str):
            yield Said(own, block["text"])
        elif sort == "tool_use" and isinstance(block.get("name"), str):
            text = "\n".join([block["name"], *values_of(block.get("input"))])
            yield Said("tool", text, block["name"], _str(block.get("id")))
        elif sort == "tool_result":
            text = _result_text(block.get("content"))
            yield Said("tool", text, None, _str(block.get("tool_use_id")), is_result=True)


@dataclass(frozen=True)
class Located:
    """Where a search's first match is: the message's uuid and a name for the place.
    ``tool_id``: the call a tool result answers, when the entries read did not hold
    it (``where`` then ends in ``of `` and wants the tool's name)."""

    uuid: str | None
    where: str
    tool_id: str | None = None
    text: str = ""  # the piece of text holding the match (for a snippet of it)


def locate(
    transcripts: Iterable[tuple[str, Sequence[Mapping[str, Any]]]],
    pattern: re.Pattern[str],
    places: Sequence[str],
) -> Located | None:
    """The first message of ``transcripts`` (``(subpath, entries)``, the main one first)
    whose text in one of ``places`` matches ``pattern``."""
    for subpath, entries in transcripts:
        names: dict[str, str] = {}
        for entry in entries:
            aside = bool(subpath) or entry.get("isSidechain") is True
            for said in entry_pieces(entry):
                if said.tool_name is not None and said.tool_id is not None:
                    names[said.tool_id] = said.tool_name
                place = "subagent" if aside else said.place
                if place in places and said.text and pattern.search(said.text):
                    return _where(entry, said, subpath, names)
    return None


def _where(entry: Mapping[str, Any], said: Said, subpath: str, names: dict[str, str]) -> Located:
    uuid, text = _str(entry.get("uuid")), said.text
    if subpath or entry.get("isSidechain") is True:
        agent = _str(entry.get("agentId")) or _agent_of(subpath)
        return Located(uuid, f"subagent {agent[:7]}" if agent else "subagent", text=text)
    if said.place != "tool":
        return Located(uuid, said.place, text=text)
    name = said.tool_name or names.get(said.tool_id or "")
    kind = "result" if said.is_result else "input"
    if name is None and said.tool_id is not None:
        return Located(uuid, f"tool {kind} of ", said.tool_id, text)
    return Located(uuid, f"tool {kind} of {name or 'a tool'}", text=text)


def _agent_of(subpath: str) -> str:
    stem = subpath.rsplit("/", 1)[-1].removesuffix(".jsonl")
    return stem.removeprefix("agent-")
