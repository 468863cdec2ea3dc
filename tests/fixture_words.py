"""Which sessions of the real fixtures hold a word, by the place it was said in, read
from the raw lines without the code under test (no tests here)."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent / "fixtures" / "transcripts"
WORD = re.compile(r"[^\W_]+")


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _pieces(line: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(place, text) of one raw line."""
    message = line.get("message")
    if line.get("type") not in ("user", "assistant") or not isinstance(message, dict):
        return
    content = message.get("content")
    own = "prompt" if line.get("type") == "user" else "reply"
    if isinstance(content, str):
        yield own, content
    for block in content if isinstance(content, list) else ():
        if not isinstance(block, dict):
            continue
        if block.get("type") == "text":
            yield own, block.get("text") or ""
        elif block.get("type") == "tool_use":
            yield "tool", "\n".join([str(block.get("name")), *_strings(block.get("input"))])
        elif block.get("type") == "tool_result":
            inner = block.get("content")
            if isinstance(inner, list):
                inner = "\n".join(b["text"] for b in inner if isinstance(b, dict) and "text" in b)
            yield "tool", inner if isinstance(inner, str) else ""


def raw_lines(root: Path = FIXTURES) -> Iterator[tuple[Path, dict[str, Any]]]:
    for path in sorted((root / "projects").rglob("*.jsonl")):
        for raw in path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                line = json.loads(raw)
            except ValueError:
                continue
            if isinstance(line, dict) and isinstance(line.get("sessionId"), str):
                yield path, line


def words_by_place(root: Path = FIXTURES) -> dict[str, dict[str, set[str]]]:
    """{word: {place: {session ids}}} from every fixture line (a subagent's file or a
    sidechain line is the subagent's, whatever it says)."""
    found: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for path, line in raw_lines(root):
        aside = "subagents" in path.parts or line.get("isSidechain") is True
        for place, text in _pieces(line):
            where = "subagent" if aside else place
            for word in WORD.findall(text.lower()):
                found[word][where].add(line["sessionId"])
    return found


def only_in(found: dict[str, dict[str, set[str]]], place: str, avoid: set[str]) -> str:
    """The word said in ``place`` alone in the most sessions (not one of ``avoid``:
    titles and descriptions, which are a session's own text)."""
    only = [
        (len(places[place]), word)
        for word, places in found.items()
        if set(places) == {place} and word.isalpha() and len(word) > 4 and word not in avoid
    ]
    assert only, f"the fixtures hold no word said only in {place}"
    return max(only)[1]


def tool_callers() -> dict[str, set[str]]:
    """{tool name: the sessions calling it}, subagents' calls counted for their session."""
    callers: dict[str, set[str]] = defaultdict(set)
    for _, line in raw_lines():
        message = line.get("message")
        content = message.get("content") if isinstance(message, dict) else None
        for block in content if isinstance(content, list) else ():
            if isinstance(block, dict) and block.get("type") == "tool_use":
                callers[str(block.get("name"))].add(line["sessionId"])
    return callers
