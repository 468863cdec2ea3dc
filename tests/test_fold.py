"""The metadata fold: a batch folded on its own and combined later equals folding it in.

An import folds each batch where it reads it (another process, for a large
import) and combines the result with the stored state when the batch lands;
these properties are what makes that exact.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from claude_sessions.model.derive import batch_state, combine, derive, fold

STAMPS = st.one_of(
    st.builds(
        "2026-03-{:02d}T{:02d}:{:02d}:00.000Z".format,
        st.integers(1, 28),
        st.integers(0, 23),
        st.integers(0, 59),
    ),
    st.sampled_from(["2026-03-01T10:00:00+02:00", "2026-02-28 23:59:59", "yesterday", ""]),
)
WORDS = st.sampled_from(["hello", "fix the parser", "", "  ", "<command-name>/init</command-name>"])
IDS = st.one_of(st.none(), st.sampled_from(["msg_1", "msg_2", "msg_3"]))


@st.composite
def entries(draw: Any) -> dict[str, Any]:
    kind = draw(st.sampled_from(["assistant", "user", "system", "result", "tag", "summary", "x"]))
    entry: dict[str, Any] = {"type": kind}
    if draw(st.booleans()):
        entry["timestamp"] = draw(STAMPS)
    if kind == "assistant":
        body: dict[str, Any] = {
            "model": draw(st.sampled_from(["claude-sonnet-4-5", "<synthetic>", "mystery-1", ""]))
        }
        message_id = draw(IDS)
        if message_id is not None:
            body["id"] = message_id
        if draw(st.booleans()):
            body["usage"] = {
                "input_tokens": draw(st.integers(0, 5000)),
                "output_tokens": draw(st.integers(0, 900)),
                "cache_read_input_tokens": draw(st.integers(0, 50000)),
            }
        entry["message"] = body
        if draw(st.booleans()):
            entry["requestId"] = draw(st.sampled_from(["req_a", "req_b"]))
        if draw(st.booleans()):
            entry["costUSD"] = draw(st.floats(0, 2, allow_nan=False))
    elif kind == "user":
        entry["message"] = {"role": "user", "content": draw(WORDS)}
        entry["isMeta"] = draw(st.booleans())
    elif kind == "system":
        entry.update(subtype=draw(st.sampled_from(["init", "other"])), model="claude-opus-4-5")
    elif kind == "result":
        entry["total_cost_usd"] = draw(st.floats(0, 5, allow_nan=False))
        entry["session_id"] = draw(st.sampled_from(["s1", "s2"]))
    elif kind == "tag":
        entry["tag"] = draw(st.sampled_from(["wip", " done ", ""]))
    elif kind == "summary":
        entry["summary"] = draw(st.sampled_from(["Parser work", "Other title"]))
    for field in ("cwd", "gitBranch", "customTitle", "aiTitle"):
        if draw(st.integers(0, 5)) == 0:
            entry[field] = draw(st.sampled_from(["/home/a", "main", "feature", ""]))
    if draw(st.integers(0, 8)) == 0:
        entry["forkedFrom"] = {"sessionId": draw(st.sampled_from(["origin-1", "origin-2"]))}
    if draw(st.integers(0, 4)) == 0:  # a subagent's line in the main transcript (older CLIs)
        entry["isSidechain"] = True
    return entry


TRANSCRIPTS = st.lists(entries(), max_size=30)


@settings(max_examples=300, deadline=None)
@given(TRANSCRIPTS, st.data())
def test_folding_in_two_batches_equals_folding_at_once(items, data):
    cut = data.draw(st.integers(0, len(items)))
    at_once = fold(None, items)
    in_two = fold(fold(None, items[:cut]), items[cut:])
    assert in_two == at_once
    assert derive(in_two) == derive(at_once)


@settings(max_examples=200, deadline=None)
@given(TRANSCRIPTS, TRANSCRIPTS, TRANSCRIPTS)
def test_batches_combine_in_any_grouping(first, second, third):
    a, b, c = (batch_state(part) for part in (first, second, third))
    left = combine(combine(combine(None, a), b), c)
    assert left == fold(None, first + second + third)


@settings(max_examples=200, deadline=None)
@given(TRANSCRIPTS, TRANSCRIPTS, TRANSCRIPTS)
def test_combined_batches_land_as_one_batch(stored, first, second):
    """An import folds a batch in parts and lands the parts' combined state as one."""
    previous = fold(None, stored)
    parts = combine(combine(None, batch_state(first)), batch_state(second))
    assert combine(previous, parts) == fold(previous, first + second)
    assert combine(previous, combine(None, batch_state(first))) == fold(previous, first)


def test_requests_without_a_message_id_are_numbered_as_if_folded_at_once():
    entry = {"type": "assistant", "message": {"model": "claude-sonnet-4-5", "usage": {}}}
    state = fold(fold(None, [entry, entry]), [entry])
    assert sorted(state.requests) == ["#0/", "#1/", "#2/"]
