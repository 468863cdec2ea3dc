"""The CLI's run totals split across the requests of each run, so that figures kept by
request (by model, by 5-hour block, spend by day) add up to a session's own totals.

A session run through this library counts its main conversation's tokens from the
CLI's ``result`` usage (see :mod:`.derive`: the transcript lines under-record
output), and its cost from the results' ``total_cost_usd`` (cumulative per session
id: a run's own cost is what it adds to the one before). Each result's totals are
shared out among the requests of its own run (those after the result before it):
each kind of token apart (plain input, output, 5-minute and 1-hour cache writes,
cache reads), in proportion to what the requests' lines recorded of that kind
(evenly when they recorded none), in whole tokens that add up exactly (largest
remainders first, then the earlier request); the run's cost in proportion to the
requests' own prices (evenly when they are all nothing), among the priced ones. A
run without a request of its own to carry its totals (a result that came with no
new request, a fork's run that only replayed its origin's) adds them to the run
before it, else to the next one. Requests after the last result keep their lines'
figures. Where a run reported no cost, or none of its requests is priced, the costs
stay the requests' own and :func:`.derive.model_figures` charges what is left.
Splitting run by run keeps an earlier run's requests as they were when a later run
lands.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from claude_sessions.model.fold_state import FoldState


@dataclass(frozen=True)
class RequestFigures:
    """One API request a session counts: its key, time (epoch seconds, ``None`` when
    its entry had none), model, tokens (``input``: plain input, cache writes and reads
    apart), cost (``None``: unpriced) and whether a subagent made it."""

    key: str
    at: float | None
    model: str | None
    input: int
    output: int
    cache_write_5m: int
    cache_write_1h: int
    cache_read: int
    cost: float | None
    subagent: bool


# The kinds of token, as RequestFigures names them, in the order they are split.
_KINDS = ("input", "output", "cache_write_5m", "cache_write_1h", "cache_read")


def split_result_totals(state: FoldState, requests: list[RequestFigures]) -> list[RequestFigures]:
    """``requests`` (a session's counted requests) with the main conversation's figures
    of each run the CLI reported replaced by that run's share of its totals."""
    if not state.result_runs:
        return requests
    ends = [run[0] for run in state.result_runs]
    position = {key: n for n, key in enumerate(state.requests)}
    members: list[list[int]] = [[] for _ in ends]
    for index, request in enumerate(requests):
        if not request.subagent:
            run = bisect_right(ends, position[request.key])
            if run < len(ends):
                members[run].append(index)
    totals = [_kinds(run[1:6]) for run in state.result_runs]
    split = list(requests)
    for group in _carried(members, totals, _run_costs(state.result_runs)):
        _share(requests, split, group)
    return split


def _run_costs(runs: list[list[Any]]) -> list[float | None]:
    """What each run cost: its result's cumulative ``total_cost_usd`` less the one before
    of the same session id (``None``: not reported)."""
    last: dict[str, float] = {}
    found: list[float | None] = []
    for run in runs:
        if len(run) < 8 or run[7] is None:
            found.append(None)
            continue
        sid, cost = run[6], float(run[7])
        found.append(cost - last.get(sid, 0.0))
        last[sid] = cost
    return found


@dataclass
class _Group:
    """The requests a run's totals are shared among (by index), with those totals."""

    indexes: list[int]
    tokens: list[int]
    cost: float | None


def _share(requests: list[RequestFigures], split: list[RequestFigures], group: _Group) -> None:
    shares = [
        _apportion(total, [getattr(requests[i], kind) for i in group.indexes])
        for kind, total in zip(_KINDS, group.tokens, strict=True)
    ]
    costs = _cost_shares(group.cost, [requests[i].cost for i in group.indexes])
    for n, index in enumerate(group.indexes):
        plain, output, five, hour, read = (share[n] for share in shares)
        split[index] = replace(
            requests[index],
            input=plain,
            output=output,
            cache_write_5m=five,
            cache_write_1h=hour,
            cache_read=read,
            cost=costs[n],
        )


def _cost_shares(total: float | None, own: list[float | None]) -> list[float | None]:
    """``total`` among the priced requests, in proportion to their own cost (evenly when
    that is nothing); their own costs when no total is known or none is priced."""
    priced = [cost for cost in own if cost is not None]
    if total is None or not priced:
        return own
    whole = sum(priced)
    if whole > 0:
        return [None if cost is None else total * cost / whole for cost in own]
    return [None if cost is None else total / len(priced) for cost in own]


def _kinds(usage: list[int]) -> list[int]:
    """A result's usage ([input with cache writes and reads, output, 5-minute writes,
    1-hour writes, reads]) by the kinds of :data:`_KINDS` (plain input apart)."""
    prompt, output, five, hour, read = usage
    return [prompt - five - hour - read, output, five, hour, read]


def _carried(
    members: list[list[int]], totals: list[list[int]], costs: list[float | None]
) -> list[_Group]:
    """Each run with requests and its totals, with those of the runs without any added
    to the run before them (to the next one when none came before). A group's cost is
    known only when each of its runs reported one."""
    groups: list[_Group] = []
    waiting = _Group([], [0] * len(_KINDS), 0.0)
    for indexes, tokens, cost in zip(members, totals, costs, strict=True):
        into = groups[-1] if groups and not indexes else waiting
        into.tokens = [a + b for a, b in zip(into.tokens, tokens, strict=True)]
        into.cost = None if into.cost is None or cost is None else into.cost + cost
        if indexes:
            into.indexes = indexes
            groups.append(into)
            waiting = _Group([], [0] * len(_KINDS), 0.0)
    return groups


def _apportion(total: int, weights: list[int]) -> list[int]:
    """``total`` in whole parts proportional to ``weights`` (equal parts when they add up
    to nothing) that add up to it exactly: the largest remainders get the units left."""
    weights = [max(weight, 0) for weight in weights]
    whole = sum(weights)
    if whole == 0:
        weights, whole = [1] * len(weights), len(weights)
    exact = [total * weight for weight in weights]
    shares = [part // whole for part in exact]
    left = total - sum(shares)
    order = sorted(range(len(weights)), key=lambda n: (-(exact[n] % whole), n))
    for n in order[:left]:
        shares[n] += 1
    return shares
