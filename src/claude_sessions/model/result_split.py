"""The CLI's run totals split across the requests of each run, so that figures kept by
request (by model, by 5-hour block) add up to a session's own totals.

A session run through this library counts its main conversation's tokens from the
CLI's ``result`` usage (see :mod:`.derive`: the transcript lines under-record
output). Each result's usage is shared out among the requests of its own run (those
after the result before it), each kind of token apart (plain input, output, 5-minute
and 1-hour cache writes, cache reads), in proportion to what the requests' lines
recorded of that kind (evenly when they recorded none), in whole tokens that add up
exactly (largest remainders first, then the earlier request). A run without a request
of its own to carry its totals (a result that came with no new request, a fork's run
that only replayed its origin's) adds them to the run before it, else to the next one.
Requests after the last result keep their lines' figures, and every request keeps its
own cost (the CLI's cost is charged by :func:`.derive.model_figures`). Splitting run by
run keeps an earlier run's requests as they were when a later run lands.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from claude_sessions.model.derive import RequestFigures
    from claude_sessions.model.fold_state import FoldState

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
    split = list(requests)
    for indexes, totals in _carried(members, [_kinds(run[1:]) for run in state.result_runs]):
        shares = [
            _apportion(total, [getattr(requests[i], kind) for i in indexes])
            for kind, total in zip(_KINDS, totals, strict=True)
        ]
        for n, index in enumerate(indexes):
            plain, output, five, hour, read = (share[n] for share in shares)
            split[index] = replace(
                requests[index],
                input=plain,
                output=output,
                cache_write_5m=five,
                cache_write_1h=hour,
                cache_read=read,
            )
    return split


def _kinds(usage: list[int]) -> list[int]:
    """A result's usage ([input with cache writes and reads, output, 5-minute writes,
    1-hour writes, reads]) by the kinds of :data:`_KINDS` (plain input apart)."""
    prompt, output, five, hour, read = usage
    return [prompt - five - hour - read, output, five, hour, read]


def _carried(
    members: list[list[int]], totals: list[list[int]]
) -> list[tuple[list[int], list[int]]]:
    """Each run with requests and its totals, with those of the runs without any added
    to the run before them (to the next one when none came before)."""
    groups: list[tuple[list[int], list[int]]] = []
    waiting = [0] * len(_KINDS)
    for indexes, run in zip(members, totals, strict=True):
        if indexes:
            groups.append((indexes, [a + b for a, b in zip(run, waiting, strict=True)]))
            waiting = [0] * len(_KINDS)
        elif groups:
            groups[-1][1][:] = [a + b for a, b in zip(groups[-1][1], run, strict=True)]
        else:
            waiting = [a + b for a, b in zip(waiting, run, strict=True)]
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
