"""The text of tool calls and subagents, which search finds in an index of its own.

Two thirds of a transcript's bytes are tool inputs and results. Tokenizing them
while an import writes the store would slow it by a third; on SQLite they are
indexed afterwards, from the stored entries, into a database beside the store's
(:mod:`claude_sessions.store.sqlite.side_index`). Two places: ``tool`` (tool
inputs and results of the session itself) and ``subagent`` (anything a subagent
said or did: lines of ``<session>/subagents/`` transcripts and the
``isSidechain`` lines older CLIs wrote into the main one); and the names of the
tools called, for a search by tool.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

ASIDE_PLACES = ("tool", "subagent")


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


class AsideText:
    """What a batch of entries said in tool calls and subagents, gathered as they are
    read; ``subagent``: they are a subagent transcript's."""

    def __init__(self, *, subagent: bool = False) -> None:
        self._subagent = subagent
        self._tool: list[str] = []
        self._aside: list[str] = []
        self._names: set[str] = set()

    def add(self, entry: Mapping[str, Any]) -> None:
        kind = entry.get("type")
        if kind != "user" and kind != "assistant":
            return
        aside = self._subagent or entry.get("isSidechain") is True
        (self._aside if aside else self._tool).extend(_pieces(entry, whole=aside))
        self._names.update(tool_names(entry))

    def take(self) -> tuple[str, str, str]:
        """The tool text, the subagent text and the tools called (their names between
        spaces), gathered since the last call."""
        said = "\n".join(self._tool), "\n".join(self._aside), " ".join(sorted(self._names))
        self._tool, self._aside, self._names = [], [], set()
        return said
