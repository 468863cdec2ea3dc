"""Redaction: each secret found in a transcript entry becomes ``[REDACTED:rule]``.

Pure: an entry (parsed JSON) in, a redacted copy and the rules that fired out.
Every string value anywhere in the entry is looked at (message content blocks,
tool inputs, tool results, ``toolUseResult``, attachments), but the fields that
tie entries together (uuids, type, ids, times) are kept as they are, so lineage,
resume and write-back work on a redacted session. Only string values change,
never the shape, so the result is always an entry with valid JSON.

The secrets themselves are found by :mod:`claude_sessions.model.secrets`: in an
entry by ``entry_findings`` (the values under a secret's name too), in any other
text by ``find_secrets``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol


class Span(Protocol):
    """What a finder reports: a rule, and the offsets of the secret value."""

    @property
    def rule(self) -> str: ...

    @property
    def start(self) -> int: ...

    @property
    def end(self) -> int: ...


Finder = Callable[[str], Sequence[Span]]

# The fields that link entries and sessions: ids, kinds and times, never free text.
# A secret there would break resume or lineage if replaced, and none fits them.
STRUCTURAL_KEYS = frozenset(
    {
        "uuid",
        "parentUuid",
        "logicalParentUuid",
        "leafUuid",
        "sessionId",
        "type",
        "id",
        "tool_use_id",
        "toolUseID",
        "parentToolUseID",
        "requestId",
        "promptId",
        "messageId",
        "agentId",
        "timestamp",
        "role",
        "model",
        "stop_reason",
        "isSidechain",
        "userType",
        "version",
    }
)


def marker(rule: str) -> str:
    """What a secret found by ``rule`` is replaced with."""
    return f"[REDACTED:{rule}]"


def redact_text(text: str, spans: Iterable[Span]) -> str:
    """``text`` with each span replaced by its marker (overlapping spans: the first wins)."""
    pieces: list[str] = []
    done = 0
    for span in sorted(spans, key=lambda item: item.start):
        if span.start < done or span.end <= span.start:
            continue
        pieces.append(text[done : span.start])
        pieces.append(marker(span.rule))
        done = span.end
    pieces.append(text[done:])
    return "".join(pieces)


@dataclass(frozen=True)
class Redacted:
    """A redacted value and the rules whose secrets it replaced (empty: unchanged)."""

    value: Any
    rules: frozenset[str]


def _default_finder() -> Finder:
    from claude_sessions.model.secrets import find_secrets

    return find_secrets


def redact_value(value: Any, find: Finder | None = None) -> Redacted:
    """``value`` (any JSON value: a title, a description) with the secrets of its
    strings redacted."""
    rules: set[str] = set()
    result = _walk(value, find or _default_finder(), rules)
    return Redacted(result, frozenset(rules))


def _walk(value: Any, find: Finder, rules: set[str]) -> Any:
    if isinstance(value, str):
        spans = find(value)
        if not spans:
            return value
        rules.update(span.rule for span in spans)
        return redact_text(value, spans)
    if isinstance(value, Mapping):
        return {
            key: item if key in STRUCTURAL_KEYS else _walk(item, find, rules)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_walk(item, find, rules) for item in value]
    return value


def redact_entry(entry: Mapping[str, Any], *, subagent: bool = False) -> Redacted:
    """A redacted copy of one transcript entry: every secret :func:`entry_findings` finds
    (the values under a secret's name too), its structural fields kept."""
    from claude_sessions.model.secrets import entry_findings

    by_path: dict[tuple[str | int, ...], list[Span]] = {}
    for _, path, finding in entry_findings(entry, subagent=subagent):
        if any(key in STRUCTURAL_KEYS for key in path if isinstance(key, str)):
            continue
        by_path.setdefault(path, []).append(finding)
    if not by_path:
        return Redacted(entry, frozenset())
    copy = copy_json(entry)
    for path, spans in by_path.items():
        _replace_at(copy, path, spans)
    return Redacted(copy, frozenset(span.rule for spans in by_path.values() for span in spans))


def copy_json(value: Any) -> Any:
    """A copy of a JSON value whose dicts and lists may be changed."""
    if isinstance(value, Mapping):
        return {key: copy_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [copy_json(item) for item in value]
    return value


def _at(root: Any, path: Sequence[str | int]) -> str:
    for step in path:
        root = root[step]
    return str(root)


def _replace_at(root: Any, path: Sequence[str | int], spans: Sequence[Span]) -> None:
    holder = root
    for step in path[:-1]:
        holder = holder[step]
    holder[path[-1]] = redact_text(holder[path[-1]], spans)
