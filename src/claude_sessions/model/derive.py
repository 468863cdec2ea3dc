"""Metadata derived from messages: pure functions, shared by every database.

Derivation is a *fold*: :func:`fold` takes the previous state (a JSON-ready
dict kept beside the session) and a batch of new entries, so appending a
batch never re-reads the transcript. A full recompute is ``fold(None, all)``.
A batch also folds on its own (:func:`batch_state`, knowing nothing stored)
and :func:`combine` adds it to a stored state exactly as folding it in would:
an import folds where it reads, in another process. Subagent transcripts
fold into their own state (``state["sub"]``), so a session's figures keep
its main transcript and its subagents apart.
Whichever path wrote the entries (``save_session`` with stream-json messages,
``append_messages`` with CLI transcript entries, the official SDK's mirror,
an import), the same rules apply:

- API requests: each counts once, keyed by ``message.id`` and ``requestId``;
  the CLI splits one response into several entries and the last carries the
  final usage, so the last entry of a request wins. A request's cost is its
  entry's ``costUSD`` when the CLI recorded one (older versions did), else the
  price of its tokens (:mod:`claude_sessions.model.pricing`). A model without a
  price is listed as unpriced, never counted as $0;
- cost: when result messages carry ``total_cost_usd``, the last one of each
  session id, summed (the figure is cumulative per session: see
  :meth:`claude_sessions.Session.calculate_cost`); otherwise the requests'.
  Subagents add theirs. A fork does not count the requests it replays from
  its origin (``derive(..., inherited=...)``);
- tokens: input (cache writes and reads included) and output of the requests;
- model: the init message's model, else the first assistant ``message.model``
  (the CLI's ``<synthetic>`` placeholder is ignored);
- turns: assistant entries of the main transcript;
- project: the first ``cwd`` seen;
- first prompt: as the official SDK finds it: the first user text that is not
  a tool result, meta or compaction summary, auto-generated marker or IDE
  context; a slash command only when nothing else is found;
- title: the last ``customTitle`` (set by the user), else the last
  ``aiTitle``, else the newest ``summary`` entry's text;
- git branch: the last ``gitBranch``; the CLI's tag: the last ``tag`` entry;
- first/last timestamp: the earliest and latest entry ``timestamp``, subagents
  included (a session whose main transcript is missing still has its times);
- forked from: the ``forkedFrom.sessionId`` the SDK writes into forked entries.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from claude_sessions.model.entries import clean_text, root_entry
from claude_sessions.model.exceptions import InvalidInputError

FIRST_PROMPT_LENGTH = 200
SYNTHETIC_MODEL = "<synthetic>"

# The official SDK's rules for a first prompt (claude_agent_sdk/_internal/sessions.py).
_SKIP_PROMPT_RE = re.compile(
    r"^(?:<local-command-stdout>|<session-start-hook>|<tick>|<goal>|"
    r"\[Request interrupted by user[^\]]*\]|"
    r"\s*<ide_opened_file>[\s\S]*</ide_opened_file>\s*$|"
    r"\s*<ide_selection>[\s\S]*</ide_selection>\s*$)"
)
_COMMAND_NAME_RE = re.compile(r"<command-name>(.*?)</command-name>")

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
    subagent_cost: float
    subagent_input_tokens: int
    subagent_output_tokens: int
    unpriced_models: tuple[str, ...]
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
    return inner if isinstance(inner, dict) else {}


def _blocks(entry: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    content = _body(entry).get("content")
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    if isinstance(content, list):
        return [block for block in content if isinstance(block, dict)]
    return []


def entry_text(entry: Mapping[str, Any]) -> str:
    """The searchable text of one entry: text blocks of user and assistant messages,
    and the titles of ``summary`` entries."""
    kind = entry.get("type")
    if kind == "summary":
        return _str(entry.get("summary")) or ""
    if kind != "user" and kind != "assistant":
        return ""
    content = _body(entry).get("content")
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return ""
    return "\n".join(  # an import's hot path: no intermediate list of blocks
        block["text"]
        for block in content
        if isinstance(block, dict)
        and block.get("type") == "text"
        and isinstance(block.get("text"), str)
    )


def entries_text(entries: Iterable[Mapping[str, Any]]) -> str:
    return "\n".join(text for text in map(entry_text, entries) if text)


def _prompt_of(entry: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """``(prompt, slash command)`` of a user entry, by the official SDK's rules."""
    if entry.get("type") != "user" or entry.get("isMeta") is True:
        return None, None
    if entry.get("isCompactSummary") is True:
        return None, None
    blocks = _blocks(entry)
    if any(block.get("type") == "tool_result" for block in blocks):
        return None, None
    command = None
    for block in blocks:
        raw = block.get("text")
        if block.get("type") != "text" or not isinstance(raw, str):
            continue
        text = raw.replace("\n", " ").strip()
        if not text:
            continue
        found = _COMMAND_NAME_RE.search(text)
        if found:
            command = command or found.group(1)
            continue
        if _SKIP_PROMPT_RE.match(text):
            continue
        if len(text) > FIRST_PROMPT_LENGTH:
            text = text[:FIRST_PROMPT_LENGTH].rstrip() + "\u2026"
        return text, command
    return None, command


def _request_key(entry: Mapping[str, Any], body: Mapping[str, Any], number: int) -> str:
    message_id = _str(body.get("id")) or f"#{number}"
    return f"{message_id}/{_str(entry.get('requestId')) or ''}"


def _requests(state: State) -> dict[str, list[Any]]:
    """The requests of a state: ``key -> [cost or None, input, output, model]``.

    States written before requests were kept (``usage_cost`` and
    ``usage_tokens`` by message id) are read into the same form.
    """
    if "requests" in state:
        return dict(state["requests"])
    tokens = state.get("usage_tokens", {})
    return {
        f"{key}/": [cost, *tokens.get(key, [0, 0]), None]
        for key, cost in state.get("usage_cost", {}).items()
    }


def fold(previous: State | None, entries: Iterable[Mapping[str, Any]]) -> State:
    """The state after ``entries`` were added to a transcript whose state was ``previous``:
    ``combine(previous, batch_state(entries))``."""
    return combine(previous, batch_state(entries))


# Fields the first batch that has them sets, and fields the last one does.
_FIRST = ("model_assistant", "model_init", "project", "forked_from")
_LAST = ("summary_title", "title", "ai_title", "git_branch", "cli_tag")


def combine(previous: State | None, batch: State) -> State:
    """``previous`` with a :func:`batch_state` added, as if its entries had been folded
    one by one after the entries ``previous`` came from.

    So a batch is folded where it was read (an import's reading process), knowing
    nothing of what is stored, and combined with the stored state when it lands.
    A combined state is itself a batch: a batch read in parts lands as their
    combination (see :class:`.imports.Preparing`).
    """
    state: State = dict(previous) if previous else {}
    for old in ("usage_cost", "usage_tokens"):
        state.pop(old, None)
    requests = _requests(previous or {})
    for key, value in batch["requests"].items():
        if key[:1] == "#":  # numbered by position (no message id): number it here
            key = f"#{len(requests)}{key[key.index('/') :]}"
        requests[key] = value
    state["requests"] = requests
    for name in _FIRST:
        if name in batch and name not in state:
            state[name] = batch[name]
    for name in _LAST:
        if name in batch:
            state[name] = batch[name]
    if "first_prompt" not in state:
        if "first_prompt" in batch:
            state["first_prompt"] = batch["first_prompt"]
        if "command_prompt" in batch and "command_prompt" not in state:
            state["command_prompt"] = batch["command_prompt"]
    result_cost = dict(state.get("result_cost", {}))
    result_cost.update(batch["result_cost"])
    state["result_cost"] = result_cost
    for name, pick in (("first_ts", min), ("last_ts", max)):
        if name in batch:
            known = state.get(name)
            state[name] = batch[name] if known is None else pick(known, batch[name])
    state["turns"] = int(state.get("turns", 0)) + batch["turns"]
    return state


def batch_state(entries: Iterable[Mapping[str, Any]]) -> State:
    """The fold state of ``entries`` alone (see :func:`combine`).

    This is the import's hot loop: one pass, one lookup per field, and the CLI's
    timestamps compared as text (see :func:`_times`).
    """
    from claude_sessions.model.pricing import (  # writes only: reads skip it
        default_price_table,
        usage_counts,
    )

    price_for = default_price_table().price_for
    state: State = {}
    result_cost: dict[str, float] = {}
    requests: dict[str, list[Any]] = {}
    turns = 0
    first_text: str | None = None
    last_text: str | None = None
    # Fields set once are tested once: locals, not state lookups, on every entry.
    need_project = need_prompt = True
    branch: str | None = None
    for entry in entries:
        kind = entry.get("type")
        if kind == "assistant":
            turns += 1
            body = _body(entry)
            model = _str(body.get("model"))
            if model == SYNTHETIC_MODEL:
                model = None
            if model and "model_assistant" not in state:
                state["model_assistant"] = model
            usage = body.get("usage")
            if isinstance(usage, dict):
                counts = usage_counts(usage)
                cost = _number(entry.get("costUSD"))
                if cost is None:
                    price = price_for(model)
                    cost = price.cost(counts) if price is not None else None
                key = _request_key(entry, body, len(requests))
                requests[key] = [cost, counts.prompt, counts.output, model]
        elif kind == "user":
            if need_prompt:
                prompt, command = _prompt_of(entry)
                if prompt:
                    state["first_prompt"] = prompt
                    need_prompt = False
                elif command and "command_prompt" not in state:
                    state["command_prompt"] = command
        elif kind == "system" and "model_init" not in state:
            if entry.get("subtype") == "init" and _str(entry.get("model")):
                state["model_init"] = entry["model"]
        elif kind == "result":
            cost = _number(entry.get("total_cost_usd"))
            if cost is not None:
                sid = _str(entry.get("session_id")) or _str(entry.get("sessionId")) or ""
                result_cost[sid] = cost
        elif kind == "tag":
            tag = _str(entry.get("tag"))
            state["cli_tag"] = tag.strip() if tag else None
        elif kind == "summary" and _str(entry.get("summary")):
            state["summary_title"] = entry["summary"]
        if need_project and _str(entry.get("cwd")):
            state["project"] = entry["cwd"]
            need_project = False
        if "customTitle" in entry and _str(entry["customTitle"]):
            state["title"] = entry["customTitle"]
        if "aiTitle" in entry and _str(entry["aiTitle"]):
            state["ai_title"] = entry["aiTitle"]
        found = entry.get("gitBranch")
        if found and type(found) is str:
            branch = found
        if "forkedFrom" in entry and "forked_from" not in state:
            forked = entry["forkedFrom"]
            origin = _str(forked.get("sessionId")) if isinstance(forked, dict) else None
            if origin:
                state["forked_from"] = origin
        stamp = entry.get("timestamp")
        if type(stamp) is str and len(stamp) == 24 and stamp[-1] == "Z" and stamp[10] == "T":
            if first_text is None or stamp < first_text:
                first_text = stamp
            if last_text is None or stamp > last_text:
                last_text = stamp
        elif stamp:  # another form: by its parsed value, at once
            _times(state, stamp, stamp)
    if branch is not None:
        state["git_branch"] = branch
    _times(state, first_text, last_text)
    state["turns"] = turns
    state["result_cost"] = result_cost
    state["requests"] = requests
    return state


def _times(state: State, first: Any, last: Any) -> None:
    """Fold the earliest and latest timestamps seen into the state (by their parsed value).

    The CLI writes one form (``2026-03-01T10:00:00.000Z``), whose text order is its
    time order: :func:`fold` compares those as text and parses only its extremes.
    """
    for text, name, pick in ((first, "first_ts", min), (last, "last_ts", max)):
        moment = parse_timestamp(text) if text else None
        if moment is not None:
            known = state.get(name)
            state[name] = moment if known is None else pick(known, moment)


def fold_subagents(previous: State, entries: Iterable[Mapping[str, Any]]) -> State:
    """The session state after subagent ``entries`` were added (kept in ``state["sub"]``)."""
    return combine_subagents(previous, batch_state(entries))


def combine_subagents(previous: State, batch: State) -> State:
    state = dict(previous)
    state["sub"] = combine(previous.get("sub"), batch)
    return state


@dataclass(frozen=True)
class BatchFacts:
    """What a batch of new entries adds to its session: its :func:`batch_state`, its
    searchable text and its root entry (see :func:`.entries.root_entry`)."""

    state: State
    body: str
    root: dict[str, Any] | None


def facts_of(entries: Sequence[Mapping[str, Any]]) -> BatchFacts:
    return BatchFacts(batch_state(entries), clean_text(entries_text(entries)), root_entry(entries))


def _tally(
    requests: Mapping[str, list[Any]], skip: Collection[str]
) -> tuple[float, int, int, set[str]]:
    cost, tokens_in, tokens_out, unpriced = 0.0, 0, 0, set()
    for key, (price, count_in, count_out, model) in requests.items():
        if key in skip:
            continue
        tokens_in += count_in
        tokens_out += count_out
        if price is None:
            unpriced.add(model or "(unknown model)")
        else:
            cost += price
    return cost, tokens_in, tokens_out, unpriced


def request_keys(state: State) -> set[str]:
    """Every request a session's state counts (main and subagents): what a fork replays."""
    return set(_requests(state)) | set(_requests(state.get("sub") or {}))


def derive(state: State, *, inherited: Collection[str] = ()) -> Derived:
    """The metadata fields of a fold state; ``inherited``: request keys a fork replays
    from its origin, which are its origin's to count."""
    sub = state.get("sub") or {}
    main_cost, main_in, main_out, unpriced = _tally(_requests(state), inherited)
    sub_cost, sub_in, sub_out, sub_unpriced = _tally(_requests(sub), inherited)
    result_cost: Mapping[str, float] = state.get("result_cost", {})
    if result_cost:
        main_cost = sum(result_cost.values(), 0.0)
    times = [t for t in (state.get("first_ts"), sub.get("first_ts")) if t is not None]
    ends = [t for t in (state.get("last_ts"), sub.get("last_ts")) if t is not None]
    return Derived(
        turns=int(state.get("turns", 0)),
        total_cost=round(main_cost + sub_cost, 10),
        input_tokens=main_in + sub_in,
        output_tokens=main_out + sub_out,
        subagent_cost=round(sub_cost, 10),
        subagent_input_tokens=sub_in,
        subagent_output_tokens=sub_out,
        unpriced_models=tuple(sorted(unpriced | sub_unpriced)),
        model=state.get("model_init") or state.get("model_assistant"),
        project=state.get("project") or sub.get("project"),
        first_prompt=state.get("first_prompt") or state.get("command_prompt"),
        title=state.get("title") or state.get("ai_title") or state.get("summary_title"),
        git_branch=state.get("git_branch") or sub.get("git_branch"),
        first_timestamp=min(times) if times else None,
        last_timestamp=max(ends) if ends else None,
        cli_tag=state.get("cli_tag"),
        forked_from=state.get("forked_from"),
    )


def user_text(value: str | None, what: str) -> str | None:
    """``value``, a field the user sets (a tag, a description...), unless it holds a NUL.

    SQLite would keep the NUL and PostgreSQL cannot (it would be U+FFFD there), so
    the field would differ between two copies of a store. Messages keep theirs:
    they are stored as JSON text where JSONB cannot hold them.
    """
    if value is not None and "\x00" in value:
        raise InvalidInputError(f"{what} cannot contain a NUL character (\\x00)")
    return value


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
        user_text(tag, f"the tag {tag!r}")
        if tag:
            cleaned.add(tag)
    return sorted(cleaned)
