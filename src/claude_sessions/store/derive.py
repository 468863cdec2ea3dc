"""Metadata derived from messages: pure functions, shared by every database.

Derivation is a *fold*: :func:`fold` takes the previous state (a JSON-ready
dict kept beside the session) and a batch of new entries, so appending a
batch never re-reads the transcript. A full recompute is ``fold(None, all)``.
Whichever path wrote the entries (``save_session`` with stream-json messages,
``append_messages`` with CLI transcript entries, the official SDK's mirror),
the same rules apply:

- model: the init message's model, else the first assistant ``message.model``
  (the CLI's ``<synthetic>`` placeholder is ignored);
- cost: when result messages carry ``total_cost_usd``, the last one of each
  session id, summed (the figure is cumulative per session: see
  :meth:`claude_sessions.Session.calculate_cost`); otherwise an estimate from
  assistant ``usage`` tokens (:mod:`.pricing`), counted once per API message
  id because transcripts split one API message into several entries;
- tokens: the same assistant ``usage``, once per API message id: input
  tokens (cache writes and reads included) and output tokens;
- turns: assistant entries;
- project: the first ``cwd`` seen (init message or transcript entry);
- first prompt: the first user text that is not a tool result, a
  ``<system-reminder>``, a slash command or another generated marker;
- title: the last ``customTitle``; git branch: the last ``gitBranch``;
- first/last timestamp: the earliest and latest entry ``timestamp``;
- the CLI's tag: the last ``tag`` entry (an empty tag clears it);
- forked from: the ``forkedFrom.sessionId`` the SDK writes into forked entries.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from .pricing import estimate_cost, token_counts

FIRST_PROMPT_LENGTH = 200
SYNTHETIC_MODEL = "<synthetic>"

_REMINDER_RE = re.compile(r"<system-reminder>[\s\S]*?(?:</system-reminder>|$)")
_SKIP_PROMPT_RE = re.compile(
    r"^(?:<local-command-stdout>|<local-command-stderr>|<session-start-hook>|<tick>|<goal>|"
    r"<command-name>|<command-message>|<command-args>|<bash-input>|<bash-stdout>|"
    r"\[Request interrupted by user)"
)
_SPACE_RE = re.compile(r"\s+")

State = dict[str, Any]
_EARLIEST = datetime(1, 1, 2, tzinfo=timezone.utc).timestamp()
_LATEST = datetime(9999, 12, 31, tzinfo=timezone.utc).timestamp()


@dataclass(frozen=True)
class Derived:
    """The metadata fields a fold state yields."""

    turns: int
    total_cost: float
    input_tokens: int
    output_tokens: int
    model: str | None
    project: str | None
    first_prompt: str | None
    title: str | None
    git_branch: str | None
    first_timestamp: float | None
    last_timestamp: float | None
    cli_tag: str | None
    forked_from: str | None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:  # an integer too large for a float
        return None
    return number if math.isfinite(number) else None


def parse_timestamp(value: Any) -> float | None:
    """Epoch seconds of an ISO 8601 timestamp (naive means UTC), or ``None``."""
    if not isinstance(value, str) or not value:
        return None
    text = value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    try:
        epoch = moment.timestamp()
    except (OverflowError, ValueError):
        return None
    # An offset can push a valid-looking time past year 9999 (or before year 1).
    return epoch if _EARLIEST <= epoch <= _LATEST else None


def _body(entry: Mapping[str, Any]) -> Mapping[str, Any]:
    inner = entry.get("message")
    return inner if isinstance(inner, Mapping) else {}


def _blocks(entry: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    content = _body(entry).get("content")
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    if isinstance(content, list):
        return [block for block in content if isinstance(block, Mapping)]
    return []


def entry_text(entry: Mapping[str, Any]) -> str:
    """The searchable text of one entry: text blocks of user and assistant messages."""
    if entry.get("type") not in ("user", "assistant"):
        return ""
    return "\n".join(
        block["text"]
        for block in _blocks(entry)
        if block.get("type") == "text" and isinstance(block.get("text"), str)
    )


def entries_text(entries: Iterable[Mapping[str, Any]]) -> str:
    return "\n".join(text for text in map(entry_text, entries) if text)


def _prompt_of(entry: Mapping[str, Any]) -> str | None:
    if entry.get("type") != "user" or entry.get("isMeta") is True:
        return None
    if entry.get("isCompactSummary") is True:
        return None
    blocks = _blocks(entry)
    if any(block.get("type") == "tool_result" for block in blocks):
        return None
    for block in blocks:
        raw = block.get("text")
        if block.get("type") != "text" or not isinstance(raw, str):
            continue
        text = _SPACE_RE.sub(" ", _REMINDER_RE.sub(" ", raw)).strip()
        if not text or _SKIP_PROMPT_RE.match(text):
            continue
        if len(text) > FIRST_PROMPT_LENGTH:
            text = text[:FIRST_PROMPT_LENGTH].rstrip() + "\u2026"
        return text
    return None


def fold(previous: State | None, entries: Iterable[Mapping[str, Any]]) -> State:
    """The state after ``entries`` were added to a session whose state was ``previous``."""
    state: State = dict(previous) if previous else {}
    result_cost: dict[str, float] = dict(state.get("result_cost", {}))
    usage_cost: dict[str, float] = dict(state.get("usage_cost", {}))
    usage_tokens: dict[str, list[int]] = dict(state.get("usage_tokens", {}))
    turns = int(state.get("turns", 0))
    for entry in entries:
        kind = entry.get("type")
        body = _body(entry)
        if kind == "system" and entry.get("subtype") == "init":
            if "model_init" not in state and _str(entry.get("model")):
                state["model_init"] = entry["model"]
        elif kind == "assistant":
            turns += 1
            model = _str(body.get("model"))
            if model == SYNTHETIC_MODEL:
                model = None
            if model and "model_assistant" not in state:
                state["model_assistant"] = model
            usage = body.get("usage")
            if isinstance(usage, Mapping):
                message_id = _str(body.get("id")) or f"#{len(usage_cost)}"
                usage_cost[message_id] = estimate_cost(model, usage)
                usage_tokens[message_id] = token_counts(usage)
        elif kind == "result":
            cost = _number(entry.get("total_cost_usd"))
            if cost is not None:
                sid = _str(entry.get("session_id")) or _str(entry.get("sessionId")) or ""
                result_cost[sid] = cost
        elif kind == "tag":
            tag = _str(entry.get("tag"))
            state["cli_tag"] = tag.strip() if tag else None
        if "project" not in state and _str(entry.get("cwd")):
            state["project"] = entry["cwd"]
        if "first_prompt" not in state:
            prompt = _prompt_of(entry)
            if prompt:
                state["first_prompt"] = prompt
        title = _str(entry.get("customTitle"))
        if title:
            state["title"] = title
        branch = _str(entry.get("gitBranch"))
        if branch:
            state["git_branch"] = branch
        forked = entry.get("forkedFrom")
        if "forked_from" not in state and isinstance(forked, Mapping):
            origin = _str(forked.get("sessionId"))
            if origin:
                state["forked_from"] = origin
        moment = parse_timestamp(entry.get("timestamp"))
        if moment is not None:
            first = state.get("first_ts")
            last = state.get("last_ts")
            state["first_ts"] = moment if first is None else min(first, moment)
            state["last_ts"] = moment if last is None else max(last, moment)
    state["turns"] = turns
    state["result_cost"] = result_cost
    state["usage_cost"] = usage_cost
    state["usage_tokens"] = usage_tokens
    return state


def derive(state: State) -> Derived:
    """The metadata fields of a fold state."""
    result_cost: Mapping[str, float] = state.get("result_cost", {})
    usage_cost: Mapping[str, float] = state.get("usage_cost", {})
    cost = sum(result_cost.values(), 0.0) if result_cost else sum(usage_cost.values(), 0.0)
    tokens: Mapping[str, list[int]] = state.get("usage_tokens", {})
    return Derived(
        turns=int(state.get("turns", 0)),
        total_cost=round(cost, 10),
        input_tokens=sum(counts[0] for counts in tokens.values()),
        output_tokens=sum(counts[1] for counts in tokens.values()),
        model=state.get("model_init") or state.get("model_assistant"),
        project=state.get("project"),
        first_prompt=state.get("first_prompt"),
        title=state.get("title"),
        git_branch=state.get("git_branch"),
        first_timestamp=state.get("first_ts"),
        last_timestamp=state.get("last_ts"),
        cli_tag=state.get("cli_tag"),
        forked_from=state.get("forked_from"),
    )


def normalize_tags(tags: Iterable[str] | str | None) -> list[str]:
    """Tags as a sorted list without duplicates or blanks (a lone string is one tag)."""
    if tags is None:
        return []
    if isinstance(tags, str):
        tags = [tags]
    cleaned: set[str] = set()
    for tag in tags:
        if not isinstance(tag, str):
            raise TypeError(f"a tag is a string, not {type(tag).__name__}")
        tag = tag.strip()
        if tag:
            cleaned.add(tag)
    return sorted(cleaned)
