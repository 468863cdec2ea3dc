"""The text of tool calls and subagents, which search finds in an index of its own.

Two thirds of a transcript's bytes are tool inputs and results. Tokenizing them
while an import writes the store would slow it by a third; on SQLite they are
indexed afterwards, from the stored entries, into a database beside the store's
(:mod:`claude_sessions.store.sqlite.side_index`). Two places: ``tool`` (tool
inputs and results of the session itself) and ``subagent`` (anything a subagent
said or did: lines of ``<session>/subagents/`` transcripts and the
``isSidechain`` lines older CLIs wrote into the main one); and the names of the
tools called, for a search by tool. Prompts and replies are gathered too, each
apart: the conversation's own index holds them as one text, so a search kept to
one of them is answered here (see ``SessionFilter.aside_places``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple

ASIDE_PLACES = ("tool", "subagent")


class Gathered(NamedTuple):
    """What a batch of entries said, by place; ``names``: the tools called (their
    names between spaces)."""

    tool: str
    subagent: str
    names: str
    prompt: str
    reply: str


def values_of(value: Any) -> Iterator[str]:
    """The strings of a tool input, keys left out (they are the tool's, not what was said)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from values_of(item)
    elif isinstance(value, list):
        for item in value:
            yield from values_of(item)


def _result_text(content: Any) -> Iterator[str]:
    if isinstance(content, str):
        yield content
    elif isinstance(content, list):
        for block in content:
            if isinstance(block, dict) and isinstance(block.get("text"), str):
                yield block["text"]


def tool_names(entry: Mapping[str, Any]) -> Iterator[str]:
    """The names of the tools an entry calls."""
    message = entry.get("message")
    content = message.get("content") if isinstance(message, Mapping) else None
    if isinstance(content, list):
        for block in content:
            named = isinstance(block, dict) and isinstance(block.get("name"), str)
            if named and block.get("type") == "tool_use":
                yield block["name"]


def _pieces(entry: Mapping[str, Any], *, whole: bool) -> Iterator[str]:
    """The strings of an entry's tool calls and results (``whole``: its text blocks too,
    for a subagent's entry, all of which is the subagent's)."""
    message = entry.get("message")
    content = message.get("content") if isinstance(message, Mapping) else None
    if isinstance(content, str):
        if whole:
            yield content
        return
    if not isinstance(content, list):
        return
    for block in content:
        if not isinstance(block, dict):
            continue
        sort = block.get("type")
        if sort == "tool_use":
            if isinstance(block.get("name"), str):
                yield block["name"]
            yield from values_of(block.get("input"))
        elif sort == "tool_result":
            yield from _result_text(block.get("content"))
        elif whole and sort == "text" and isinstance(block.get("text"), str):
            yield block["text"]


def _own_text(entry: Mapping[str, Any]) -> Iterator[str]:
    """The text blocks of a message (what was typed, or Claude's reply)."""
    message = entry.get("message")
    content = message.get("content") if isinstance(message, Mapping) else None
    if isinstance(content, str):
        yield content
    elif isinstance(content, list):
        for block in content:
            if isinstance(block, dict) and block.get("type") == "text":
                text = block.get("text")
                if isinstance(text, str):
                    yield text


class AsideText:
    """What a batch of entries said in tool calls, subagents, prompts and replies,
    gathered as they are read; ``subagent``: they are a subagent transcript's."""

    def __init__(self, *, subagent: bool = False) -> None:
        self._subagent = subagent
        self._tool: list[str] = []
        self._aside: list[str] = []
        self._names: set[str] = set()
        self._own: dict[str, list[str]] = {"prompt": [], "reply": []}

    def add(self, entry: Mapping[str, Any]) -> None:
        kind = entry.get("type")
        if kind == "summary" and not self._subagent:  # a title Claude wrote: a reply's
            if isinstance(entry.get("summary"), str):
                self._own["reply"].append(entry["summary"])
            return
        if kind != "user" and kind != "assistant":
            return
        aside = self._subagent or entry.get("isSidechain") is True
        (self._aside if aside else self._tool).extend(_pieces(entry, whole=aside))
        if not aside:
            self._own["prompt" if kind == "user" else "reply"].extend(_own_text(entry))
        self._names.update(tool_names(entry))

    def take(self) -> Gathered:
        """What was gathered since the last call."""
        said = Gathered(
            "\n".join(self._tool),
            "\n".join(self._aside),
            " ".join(sorted(self._names)),
            "\n".join(self._own["prompt"]),
            "\n".join(self._own["reply"]),
        )
        self._tool, self._aside, self._names = [], [], set()
        self._own = {"prompt": [], "reply": []}
        return said
