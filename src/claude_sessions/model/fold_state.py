"""A session's fold state: what :mod:`.derive` keeps beside a session so that a new batch
of entries folds in without reading the transcript again.

The store keeps it as JSON (the ``fold_state`` column). The JSON holds a key only
once its field is set, as it always has: :meth:`FoldState.to_json` writes what
earlier versions wrote, and :meth:`FoldState.from_json` reads what any of them
wrote (requests kept as ``usage_cost`` and ``usage_tokens`` by message id, before
requests were kept whole, included).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from claude_sessions.model.entries import decode_entry

# A request: [cost in USD or None (unpriced), input tokens (cache writes and reads
# included), output tokens, model or None, time (epoch seconds) or None, 5-minute cache
# writes, 1-hour cache writes, cache reads]. States stored before requests had a time
# and cache counts hold the first four (the store folds them again on upgrade).
Request = list[Any]

# The text fields, by their JSON key (the field's name).
TEXT_FIELDS = (
    "model_assistant",
    "model_init",
    "project",
    "forked_from",
    "summary_title",
    "title",
    "ai_title",
    "git_branch",
    "first_prompt",
    "command_prompt",
)


@dataclass(frozen=True)
class FoldState:
    """What the entries of a transcript (or of one batch of them) add up to.

    ``requests``: each API request once, by ``<message id>/<request id>``;
    ``result_cost``: the last ``total_cost_usd`` of each session id's results.
    ``result_usage``: the ``usage`` the CLI's results reported, summed ([input with
    cache writes and reads, output, 5-minute and 1-hour cache writes, cache reads];
    empty: none reported); ``result_covered``: how many of ``requests`` (in their
    order) those results counted: the requests before the last of them.
    ``result_runs``: each result apart, ``[requests counted before it, *its usage,
    session id, total_cost_usd or None]``, so a run's totals can be split across that
    run's own requests (states stored before it was kept read as one run, without its
    session id and cost).
    ``cli_tag_set``: a ``tag`` entry was seen, so ``cli_tag`` (``None``: the tag was
    cleared) replaces any earlier one. ``sub``: the subagent transcripts' own state;
    ``side``: that of the subagent conversations older CLIs wrote into the main
    transcript itself (its ``isSidechain`` lines).
    """

    requests: dict[str, Request] = field(default_factory=dict)
    result_cost: dict[str, float] = field(default_factory=dict)
    result_usage: list[int] = field(default_factory=list)
    result_covered: int = 0
    result_runs: list[list[Any]] = field(default_factory=list)
    turns: int = 0
    model_assistant: str | None = None
    model_init: str | None = None
    project: str | None = None
    forked_from: str | None = None
    summary_title: str | None = None
    title: str | None = None
    ai_title: str | None = None
    git_branch: str | None = None
    first_prompt: str | None = None
    command_prompt: str | None = None
    cli_tag: str | None = None
    cli_tag_set: bool = False
    first_ts: float | None = None
    last_ts: float | None = None
    sub: FoldState | None = None
    side: FoldState | None = None

    def to_dict(self) -> dict[str, Any]:
        """The state as the store's JSON object (see the module docstring)."""
        data: dict[str, Any] = {
            "requests": self.requests,
            "result_cost": self.result_cost,
            "turns": self.turns,
        }
        if self.result_usage:
            data["result_usage"] = self.result_usage
            data["result_covered"] = self.result_covered
            data["result_runs"] = self.result_runs
        for name in TEXT_FIELDS:
            value = getattr(self, name)
            if value is not None:
                data[name] = value
        if self.cli_tag_set:
            data["cli_tag"] = self.cli_tag
        if self.first_ts is not None:
            data["first_ts"] = self.first_ts
        if self.last_ts is not None:
            data["last_ts"] = self.last_ts
        if self.sub is not None:
            data["sub"] = self.sub.to_dict()
        if self.side is not None:
            data["side"] = self.side.to_dict()
        return data

    def to_json(self) -> str:
        """Compact JSON: orjson for speed (a session's state is rewritten with every batch);
        ``json`` for what orjson refuses (lone surrogates), escaped to ASCII."""
        data = self.to_dict()
        try:
            return orjson.dumps(data).decode()
        except TypeError:
            return json.dumps(data, separators=(",", ":"))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FoldState:
        """The state of a stored JSON object (``{}``: nothing folded yet)."""
        sub, side = data.get("sub"), data.get("side")
        return cls(
            requests=_requests(data),
            result_cost=dict(data.get("result_cost") or {}),
            result_usage=list(data.get("result_usage") or []),
            result_covered=int(data.get("result_covered") or 0),
            result_runs=_runs(data),
            turns=int(data.get("turns") or 0),
            **{name: data.get(name) for name in TEXT_FIELDS},
            cli_tag=data.get("cli_tag"),
            cli_tag_set="cli_tag" in data,
            first_ts=data.get("first_ts"),
            last_ts=data.get("last_ts"),
            sub=cls.from_dict(sub) if sub else None,
            side=cls.from_dict(side) if side else None,
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> FoldState:
        return cls.from_dict(decode_entry(text) if text else {})


def _requests(data: Mapping[str, Any]) -> dict[str, Request]:
    """The requests of a stored state, those of states written before requests were kept
    whole (``usage_cost`` and ``usage_tokens`` by message id) read into the same form."""
    if "requests" in data:
        return dict(data["requests"])
    tokens = data.get("usage_tokens", {})
    return {
        f"{key}/": [cost, *tokens.get(key, [0, 0]), None]
        for key, cost in data.get("usage_cost", {}).items()
    }


def _runs(data: Mapping[str, Any]) -> list[list[Any]]:
    """The results apart; a state stored before they were kept holds their sum only,
    read as one run that counted every covered request."""
    if "result_runs" in data:
        return [list(run) for run in data["result_runs"]]
    usage = data.get("result_usage")
    return [[int(data.get("result_covered") or 0), *usage]] if usage else []
