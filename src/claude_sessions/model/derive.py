"""Metadata derived from messages: pure functions, shared by every database.

Derivation is a *fold*: :func:`fold` takes the previous state (a
:class:`~.fold_state.FoldState`, kept beside the session as JSON) and a batch
of new entries, so appending a batch never re-reads the transcript. A full
recompute is ``fold(None, all)``. A batch also folds on its own
(:func:`batch_state`, knowing nothing stored) and :func:`combine` adds it to a
stored state exactly as folding it in would: an import folds where it reads,
in another process. Subagent transcripts
fold into their own state (``state.sub``), and so do the subagent conversations
older CLIs wrote into the main transcript itself, marked ``isSidechain``
(``state.side``): a session's figures keep its main conversation and its
subagents apart.
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
  :meth:`claude_sessions.Session.calculate_cost`), plus the own prices of the
  requests after the last result (the session continued in Claude Code);
  otherwise the requests'.
  Subagents add theirs. A fork does not count the requests it replays from
  its origin (``derive(..., inherited=...)``);
- tokens: input (cache writes and reads included) and output of the requests,
  and apart, their 5-minute and 1-hour cache writes and their cache reads; each
  request keeps its time and model (:func:`counted_requests`), so figures by
  model charge each request to its own model. The CLI's lines under-record a
  request's ``output_tokens`` (they are written, and streamed, before the
  reply's final count: a reply with thinking and two tool calls shows 9), so
  where ``result`` messages report a run's ``usage`` (not cumulative, unlike
  its cost), the main conversation's tokens are those results' sums, and the
  requests after the last result keep their lines' (``figures_from``); each run's
  totals are split across its own requests (:mod:`.result_split`), so figures by
  request add up to the session's;
- model: the init message's model, else the first assistant ``message.model``
  (the CLI's ``<synthetic>`` placeholder is ignored);
- turns: assistant entries of the main conversation;
- project: the first ``cwd`` seen;
- first prompt: what a person typed first: the first user text that is not a
  tool result, meta or compaction summary, nor a notice Claude Code wrote
  (:mod:`.wrappers`: a local command's output, a task notification, a stop
  hook's feedback, an interruption, a continued session's summary), without
  the system reminders and IDE context it holds; a slash command, with its
  arguments, only when nothing else is found. The official SDK's rules are
  narrower (the SDK protocol's summaries keep them: see ``sdk_summary``). A
  subagent's prompt (a sidechain's) is never the session's;
- a session whose main transcript holds no conversation yet (only its
  subagents' transcripts were captured) takes its turns, model and first
  prompt from its subagents;
- title: the last ``customTitle`` (set by the user), else the last
  ``aiTitle``, else the summary that names one of the session's entries as
  its leaf (``summary`` entries are often written into ANOTHER session's file:
  the store matches them by ``leafUuid``, see
  :mod:`claude_sessions.store.summary_writes`), else the newest ``summary``
  entry without a ``leafUuid``;
- git branch: the last ``gitBranch``; the CLI's tag: the last ``tag`` entry;
- first/last timestamp: the earliest and latest entry ``timestamp``, subagents
  included (a session whose main transcript is missing still has its times);
- forked from: the last other session an entry names as the one it was copied
  from: the CLI's ``requestSessionId`` (the session that made a request, which
  ``--fork-session`` and ``/branch`` write into the entries they copy), else the
  SDK's ``forkedFrom.sessionId``. A fork of a fork copies its grand-origin's
  marks first and its origin's last.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any

from claude_sessions.model.entries import SYNTHETIC_MODEL, clean_text, root_entry
from claude_sessions.model.fold_state import FoldState, Request
from claude_sessions.model.result_split import RequestFigures, split_result_totals
from claude_sessions.model.wrappers import prompt_text, typed_command

FIRST_PROMPT_LENGTH = 200
# Where a session's main token figures come from (see derive).
RESULT = "result"
TRANSCRIPT = "transcript"


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
    cache_write_5m_tokens: int
    cache_write_1h_tokens: int
    cache_read_tokens: int
    requests: int
    models_apart: bool
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
    figures_from: str = TRANSCRIPT


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
    """``(prompt, typed command)`` of a user entry (see the first prompt above)."""
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
        typed = typed_command(raw)
        if typed is not None:
            command = command or _shortened(typed)
            continue
        text = prompt_text(raw)
        if text is None:
            continue
        return _shortened(text), command
    return None, command


def _shortened(text: str) -> str:
    if len(text) > FIRST_PROMPT_LENGTH:
        return text[:FIRST_PROMPT_LENGTH].rstrip() + "\u2026"
    return text


def _request_key(entry: Mapping[str, Any], body: Mapping[str, Any], number: int) -> str:
    message_id = _str(body.get("id")) or f"#{number}"
    return f"{message_id}/{_str(entry.get('requestId')) or ''}"


def fold(previous: FoldState | None, entries: Iterable[Mapping[str, Any]]) -> FoldState:
    """The state after ``entries`` were added to a transcript whose state was ``previous``:
    ``combine(previous, batch_state(entries))``."""
    return combine(previous, batch_state(entries))


def _first(known: Any, new: Any) -> Any:
    """A field the first batch that has it sets."""
    return known if known is not None else new


def _last(known: Any, new: Any) -> Any:
    """A field the last batch that has it sets."""
    return new if new is not None else known


def _extreme(pick: Any, known: float | None, new: float | None) -> float | None:
    if known is None or new is None:
        return new if known is None else known
    return pick(known, new)  # type: ignore[no-any-return]


def combine(previous: FoldState | None, batch: FoldState) -> FoldState:
    """``previous`` with a :func:`batch_state` added, as if its entries had been folded
    one by one after the entries ``previous`` came from.

    So a batch is folded where it was read (an import's reading process), knowing
    nothing of what is stored, and combined with the stored state when it lands.
    A combined state is itself a batch: a batch read in parts lands as their
    combination (see :class:`.preparing.Preparing`).
    """
    known = previous if previous is not None else FoldState()
    requests = dict(known.requests)
    covered = known.result_covered
    counts = [len(requests)]  # how many requests are known after each of the batch's
    for position, (key, value) in enumerate(batch.requests.items()):
        if key[:1] == "#":  # numbered by position (no message id): number it here
            key = f"#{len(requests)}{key[key.index('/') :]}"
        requests[key] = value
        counts.append(len(requests))
        if position < batch.result_covered:
            covered = len(requests)
    if batch.result_usage:  # its first result counted the requests known before it
        covered = max(covered, len(known.requests))
    runs = [[counts[run[0]], *run[1:]] for run in batch.result_runs]
    first_prompt, command_prompt = known.first_prompt, known.command_prompt
    if first_prompt is None:
        first_prompt = batch.first_prompt
        command_prompt = _first(command_prompt, batch.command_prompt)
    tag_from = batch if batch.cli_tag_set else known
    side = known.side if batch.side is None else combine(known.side, batch.side)
    return FoldState(
        requests=requests,
        result_cost={**known.result_cost, **batch.result_cost},
        result_usage=_added(known.result_usage, batch.result_usage),
        result_covered=covered,
        result_runs=[*known.result_runs, *runs],
        turns=known.turns + batch.turns,
        model_assistant=_first(known.model_assistant, batch.model_assistant),
        model_init=_first(known.model_init, batch.model_init),
        project=_first(known.project, batch.project),
        forked_from=_last(known.forked_from, batch.forked_from),
        summary_title=_last(known.summary_title, batch.summary_title),
        title=_last(known.title, batch.title),
        ai_title=_last(known.ai_title, batch.ai_title),
        git_branch=_last(known.git_branch, batch.git_branch),
        first_prompt=first_prompt,
        command_prompt=command_prompt,
        cli_tag=tag_from.cli_tag,
        cli_tag_set=tag_from.cli_tag_set,
        first_ts=_extreme(min, known.first_ts, batch.first_ts),
        last_ts=_extreme(max, known.last_ts, batch.last_ts),
        sub=known.sub,
        side=side,
    )


def _added(known: list[int], new: list[int]) -> list[int]:
    if not known or not new:
        return known or new
    return [a + b for a, b in zip(known, new, strict=True)]


def batch_state(entries: Iterable[Mapping[str, Any]]) -> FoldState:
    """The fold state of ``entries`` alone (see :func:`combine`).

    This is the import's hot loop: one pass, one lookup per field, and the CLI's
    timestamps compared as text (see :class:`_BatchFold`).
    """
    return _folded(entries).state()


def _folded(entries: Iterable[Mapping[str, Any]]) -> _BatchFold:
    folding = _BatchFold()
    add = folding.add
    for entry in entries:
        add(entry)
    return folding


class _BatchFold:
    """A batch's state as its entries come, kept in attributes (not a dict) and with the
    fields set once tested once: this runs for every entry an import reads.

    The CLI writes one form of timestamp (``2026-03-01T10:00:00.000Z``), whose text
    order is its time order: those are compared as text and only the extremes parsed.
    ``isSidechain`` entries (a subagent's, which older CLIs wrote into the main
    transcript) fold apart, into ``side``.
    """

    def __init__(self, *, nested: bool = False) -> None:
        from claude_sessions.model.pricing import (  # writes only: reads skip it
            default_price_table,
            usage_counts,
        )

        self.price_for = default_price_table().price_for
        self.usage_counts = usage_counts
        self.requests: dict[str, Request] = {}
        self.result_cost: dict[str, float] = {}
        self.result_usage: list[int] = []
        self.result_covered = 0
        self.result_runs: list[list[Any]] = []
        self.turns = 0
        self.text: dict[str, Any] = {}  # the text fields found, by name
        self.cli_tag: str | None = None
        self.cli_tag_set = False
        self.summaries: dict[str, str] = {}  # by the uuid of the entry they name
        self.need_project = self.need_prompt = True
        self.first_text: str | None = None
        self.last_text: str | None = None
        self.first_ts: float | None = None
        self.last_ts: float | None = None
        self.nested = nested
        self.side: _BatchFold | None = None

    def add(self, entry: Mapping[str, Any]) -> None:
        if entry.get("isSidechain") is True and not self.nested:
            if self.side is None:
                self.side = _BatchFold(nested=True)
            self.side.add(entry)
            return
        text = self.text
        kind = entry.get("type")
        if kind == "assistant":
            self._assistant(entry)
        elif kind == "user":
            if self.need_prompt:
                self._prompt(entry)
        elif kind == "system" and "model_init" not in text:
            if entry.get("subtype") == "init" and _str(entry.get("model")):
                text["model_init"] = entry["model"]
        elif kind == "result":
            cost = _number(entry.get("total_cost_usd"))
            sid = _str(entry.get("session_id")) or _str(entry.get("sessionId")) or ""
            if cost is not None:
                self.result_cost[sid] = cost
            if isinstance(entry.get("usage"), dict):
                self._result_usage(entry["usage"], sid, cost)
        elif kind == "tag":
            tag = _str(entry.get("tag"))
            self.cli_tag, self.cli_tag_set = (tag.strip() if tag else None), True
        elif kind == "summary" and _str(entry.get("summary")):
            leaf = _str(entry.get("leafUuid"))
            if leaf is not None:
                self.summaries[leaf] = entry["summary"]
            else:
                text["summary_title"] = entry["summary"]
        if self.need_project and _str(entry.get("cwd")):
            text["project"] = entry["cwd"]
            self.need_project = False
        if "customTitle" in entry and _str(entry["customTitle"]):
            text["title"] = entry["customTitle"]
        if "aiTitle" in entry and _str(entry["aiTitle"]):
            text["ai_title"] = entry["aiTitle"]
        found = entry.get("gitBranch")
        if found and type(found) is str:
            text["git_branch"] = found
        if "requestSessionId" in entry or "forkedFrom" in entry:
            origin = copied_from(entry)
            if origin is not None:
                text["forked_from"] = origin
        stamp = entry.get("timestamp")
        if type(stamp) is str and len(stamp) == 24 and stamp[-1] == "Z" and stamp[10] == "T":
            if self.first_text is None or stamp < self.first_text:
                self.first_text = stamp
            if self.last_text is None or stamp > self.last_text:
                self.last_text = stamp
        elif stamp:  # another form: by its parsed value, at once
            self._times(stamp, stamp)

    def _assistant(self, entry: Mapping[str, Any]) -> None:
        self.turns += 1
        body = _body(entry)
        model = _str(body.get("model"))
        if model == SYNTHETIC_MODEL:
            model = None
        if model and "model_assistant" not in self.text:
            self.text["model_assistant"] = model
        usage = body.get("usage")
        if isinstance(usage, dict):
            counts = self.usage_counts(usage)
            cost = _number(entry.get("costUSD"))
            if cost is None:
                price = self.price_for(model)
                cost = price.cost(counts) if price is not None else None
            key = _request_key(entry, body, len(self.requests))
            self.requests[key] = [
                cost,
                counts.prompt,
                counts.output,
                model,
                parse_timestamp(entry.get("timestamp")),
                counts.cache_write_5m,
                counts.cache_write_1h,
                counts.cache_read,
            ]

    def _result_usage(self, usage: Mapping[str, Any], sid: str, cost: float | None) -> None:
        """A run's own totals: the CLI counts every request's final usage, which the
        lines it wrote (and streamed) often under-record (see :func:`derive`); kept with
        the session id and cumulative cost the result reported."""
        counts = self.usage_counts(usage)
        found = [
            counts.prompt,
            counts.output,
            counts.cache_write_5m,
            counts.cache_write_1h,
            counts.cache_read,
        ]
        self.result_usage = _added(self.result_usage, found)
        self.result_covered = len(self.requests)
        self.result_runs.append([self.result_covered, *found, sid, cost])

    def _prompt(self, entry: Mapping[str, Any]) -> None:
        prompt, command = _prompt_of(entry)
        if prompt:
            self.text["first_prompt"] = prompt
            self.need_prompt = False
        elif command and "command_prompt" not in self.text:
            self.text["command_prompt"] = command

    def _times(self, first: Any, last: Any) -> None:
        """Fold the earliest and latest timestamps seen (by their parsed value)."""
        early = parse_timestamp(first) if first else None
        late = parse_timestamp(last) if last else None
        self.first_ts = _extreme(min, self.first_ts, early)
        self.last_ts = _extreme(max, self.last_ts, late)

    def state(self) -> FoldState:
        self._times(self.first_text, self.last_text)
        return FoldState(
            requests=self.requests,
            result_cost=self.result_cost,
            result_usage=self.result_usage,
            result_covered=self.result_covered,
            result_runs=self.result_runs,
            turns=self.turns,
            cli_tag=self.cli_tag,
            cli_tag_set=self.cli_tag_set,
            first_ts=self.first_ts,
            last_ts=self.last_ts,
            side=self.side.state() if self.side is not None else None,
            **self.text,
        )


def copied_from(entry: Mapping[str, Any]) -> str | None:
    """The other session an entry was copied from, as the CLI reads it back: the
    ``requestSessionId`` it wrote on a copied request, else the SDK's
    ``forkedFrom.sessionId``; ``None`` when that is the entry's own session."""
    named = _str(entry.get("requestSessionId"))
    if named is None:
        forked = entry.get("forkedFrom")
        named = _str(forked.get("sessionId")) if isinstance(forked, dict) else None
    return named if named is not None and named != entry.get("sessionId") else None


def fold_subagents(previous: FoldState, entries: Iterable[Mapping[str, Any]]) -> FoldState:
    """The session state after subagent ``entries`` were added (kept in ``state.sub``)."""
    return combine_subagents(previous, batch_state(entries))


def combine_subagents(previous: FoldState, batch: FoldState) -> FoldState:
    """``previous`` with a batch of subagent entries added to ``sub``: all of them, its
    ``isSidechain`` ones (which a subagent's transcript is made of) included."""
    whole = batch if batch.side is None else combine(replace(batch, side=None), batch.side)
    return replace(previous, sub=combine(previous.sub, whole))


@dataclass(frozen=True)
class BatchFacts:
    """What a batch of new entries adds to its session: its :func:`batch_state`, its
    searchable text, its root entry (see :func:`.entries.root_entry`), and the
    ``summary`` entries it holds by the uuid of the entry each names
    (``leafUuid``), which may be another session's: the store matches them."""

    state: FoldState
    body: str
    root: dict[str, Any] | None
    summaries: dict[str, str] = field(default_factory=dict)


def facts_of(entries: Sequence[Mapping[str, Any]]) -> BatchFacts:
    folding = _folded(entries)
    return BatchFacts(
        folding.state(),
        clean_text(entries_text(entries)),
        root_entry(entries),
        folding.summaries,
    )


@dataclass
class _Tally:
    cost: float = 0.0
    tokens_in: int = 0
    tokens_out: int = 0
    cache_5m: int = 0
    cache_1h: int = 0
    cache_read: int = 0
    requests: int = 0
    unpriced: set[str] = field(default_factory=set)
    models: set[str | None] = field(default_factory=set)


def _tally(requests: Mapping[str, Request], skip: Collection[str]) -> _Tally:
    tally = _Tally()
    for key, request in requests.items():
        if key in skip:
            continue
        price, count_in, count_out, model = request[:4]
        tally.requests += 1
        tally.models.add(model)
        tally.tokens_in += count_in
        tally.tokens_out += count_out
        if len(request) > 7:  # kept with its cache counts (see fold_state.Request)
            tally.cache_5m += request[5]
            tally.cache_1h += request[6]
            tally.cache_read += request[7]
        if price is None:
            tally.unpriced.add(model or "(unknown model)")
        else:
            tally.cost += price
    return tally


def counted_requests(state: FoldState, *, inherited: Collection[str] = ()) -> list[RequestFigures]:
    """The requests a session's figures count (``inherited``: as for :func:`derive`),
    main transcript first, then its subagents'."""
    found: list[RequestFigures] = []
    for requests, subagent in ((state.requests, False), (_subagents(state).requests, True)):
        for key, request in requests.items():
            if key in inherited:
                continue
            cost, prompt, output, model = request[:4]
            at, five, hour, read = request[4:8] if len(request) > 7 else (None, 0, 0, 0)
            found.append(
                RequestFigures(
                    key,
                    at,
                    model,
                    prompt - five - hour - read,
                    output,
                    five,
                    hour,
                    read,
                    cost,
                    subagent,
                )
            )
    return split_result_totals(state, found)


def request_keys(state: FoldState) -> set[str]:
    """Every request a session's state counts (main and subagents): what a fork replays."""
    return set(state.requests) | set(_subagents(state).requests)


def requests_apart(state: FoldState) -> dict[tuple[bool, str], Request]:
    """Every request a session's state holds, by whether a subagent made it and its key."""
    found = {(False, key): request for key, request in state.requests.items()}
    found.update({(True, key): request for key, request in _subagents(state).requests.items()})
    return found


def _subagents(state: FoldState) -> FoldState:
    """The subagents' state: their transcripts' and the main transcript's sidechains."""
    if state.side is None:
        return state.sub if state.sub is not None else FoldState()
    return state.side if state.sub is None else combine(state.side, state.sub)


def _model(state: FoldState) -> str | None:
    return state.model_init or state.model_assistant


def _prompt(state: FoldState) -> str | None:
    return state.first_prompt or state.command_prompt


def _silent(state: FoldState) -> bool:
    """Whether the main transcript holds no conversation (yet): no prompt, no reply."""
    return state.turns == 0 and _prompt(state) is None


def derive(
    state: FoldState, *, inherited: Collection[str] = (), summary: str | None = None
) -> Derived:
    """The metadata fields of a fold state; ``inherited``: request keys a fork replays
    from its origin, which are its origin's to count; ``summary``: the text of the
    summary whose leaf the session holds (the store finds it across sessions)."""
    sub = _subagents(state)
    main = _tally(state.requests, inherited)
    if state.result_usage:
        main = _with_result_usage(state, main, inherited)
    subs = _tally(sub.requests, inherited)
    main_cost = main.cost
    if state.result_cost:
        uncounted = _tally(state.requests, {*inherited, *_result_counted(state)})
        main_cost = sum(state.result_cost.values(), 0.0) + uncounted.cost
    times = [t for t in (state.first_ts, sub.first_ts) if t is not None]
    ends = [t for t in (state.last_ts, sub.last_ts) if t is not None]
    stand_in = sub if _silent(state) else state  # a session known from its subagents alone
    model = _model(state) or _model(stand_in)
    return Derived(
        turns=state.turns or stand_in.turns,
        total_cost=round(main_cost + subs.cost, 10),
        input_tokens=main.tokens_in + subs.tokens_in,
        output_tokens=main.tokens_out + subs.tokens_out,
        subagent_cost=round(subs.cost, 10),
        subagent_input_tokens=subs.tokens_in,
        subagent_output_tokens=subs.tokens_out,
        cache_write_5m_tokens=main.cache_5m + subs.cache_5m,
        cache_write_1h_tokens=main.cache_1h + subs.cache_1h,
        cache_read_tokens=main.cache_read + subs.cache_read,
        requests=main.requests + subs.requests,
        models_apart=bool((main.models | subs.models) - {model}),
        unpriced_models=tuple(sorted(main.unpriced | subs.unpriced)),
        model=model,
        project=state.project or sub.project,
        first_prompt=_prompt(state) or _prompt(stand_in),
        title=state.title or state.ai_title or summary or state.summary_title,
        git_branch=state.git_branch or sub.git_branch,
        first_timestamp=min(times) if times else None,
        last_timestamp=max(ends) if ends else None,
        cli_tag=state.cli_tag,
        forked_from=state.forked_from,
        figures_from=RESULT if state.result_usage else TRANSCRIPT,
    )


def _result_counted(state: FoldState) -> list[str]:
    """The keys of the main requests the CLI's results counted: those before the last
    result with usage (all of them when no result reported usage, only a cost)."""
    requests = list(state.requests)
    return requests[: state.result_covered] if state.result_usage else requests


def _with_result_usage(state: FoldState, main: _Tally, inherited: Collection[str]) -> _Tally:
    """``main`` with its tokens from the CLI's results, and those of the requests no
    result counted (after the last one) from their lines."""
    after = _tally(state.requests, {*inherited, *_result_counted(state)})
    prompt, output, five, hour, read = state.result_usage
    return replace(
        main,
        tokens_in=prompt + after.tokens_in,
        tokens_out=output + after.tokens_out,
        cache_5m=five + after.cache_5m,
        cache_1h=hour + after.cache_1h,
        cache_read=read + after.cache_read,
    )


@dataclass
class ModelFigures:
    """A session's requests of one model, added up (``input``: plain input)."""

    model: str
    requests: int = 0
    cost: float = 0.0
    unpriced_requests: int = 0
    input: int = 0
    output: int = 0
    cache_write_5m: int = 0
    cache_write_1h: int = 0
    cache_read: int = 0


def model_figures(state: FoldState, requests: Iterable[RequestFigures]) -> list[ModelFigures]:
    """A session's :func:`counted_requests` added up by model (``""``: unknown).

    Where the CLI reported the main conversation's cost (``result`` messages: see
    :func:`derive`), that figure stands: what the main requests' own costs leave of
    it is charged to the session's model, so the models add up to its total.
    """
    found: dict[str, ModelFigures] = {}
    main_cost = 0.0
    counted = set(_result_counted(state))
    for one in requests:
        figures = found.setdefault(one.model or "", ModelFigures(one.model or ""))
        figures.requests += 1
        figures.input += one.input
        figures.output += one.output
        figures.cache_write_5m += one.cache_write_5m
        figures.cache_write_1h += one.cache_write_1h
        figures.cache_read += one.cache_read
        if one.cost is None:
            figures.unpriced_requests += 1
            continue
        figures.cost += one.cost
        main_cost += one.cost if not one.subagent and one.key in counted else 0.0
    rest = sum(state.result_cost.values(), 0.0) - main_cost if state.result_cost else 0.0
    if round(rest, 10):  # what the split (see result_split) left to no request
        model = _model(state) or ""
        figures = found.setdefault(model, ModelFigures(model))
        figures.cost += rest
    for figures in found.values():
        figures.cost = round(figures.cost, 10)
    return list(found.values())
