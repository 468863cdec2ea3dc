"""The fold state kept beside every session: typed in Python, the same JSON in the store.

``data/fold_state_before_typing.json`` holds a session's transcripts and the
``fold_state`` column the store wrote for them before the state had a type (the
state was a plain dict then): stores written then must read the same, and what
is written now must be what was written then.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings

from claude_sessions.model.derive import derive, facts_of, fold, fold_subagents
from claude_sessions.model.fold_state import FoldState
from claude_sessions.store.plan import Stmt, Txn, single
from tests.store_fixtures import store_factory  # noqa: F401 - fixture
from tests.test_fold import TRANSCRIPTS

WRITTEN = json.loads((Path(__file__).parent / "data" / "fold_state_before_typing.json").read_text())
SID = WRITTEN["session_id"]
EPOCH_0300_0900 = 1772269200.0  # 2026-02-28T09:00:00Z, the subagent's first entry
EPOCH_0301_1003 = 1772359380.0  # 2026-03-01T10:03:00Z, the first reply's
EPOCH_0301_1030 = 1772361000.0  # 2026-03-01T10:30:00Z (12:30+02:00), the last main entry
# By hand: Sonnet 4.5 at $3 / $15 per million tokens in / out, cache reads $0.30.
MAIN_SONNET = 1000 * 3e-6 + 2000 * 0.3e-6 + 100 * 15e-6  # 0.0051
RECORDED = 0.5  # the entry's own costUSD
SUB_SONNET = 100 * 3e-6 + 10 * 15e-6  # 0.00045


def test_a_state_stored_before_reads_back_to_the_same_json():
    stored = json.loads(WRITTEN["fold_state"])
    state = FoldState.from_json(WRITTEN["fold_state"])
    assert state.to_dict() == stored
    assert json.loads(state.to_json()) == stored
    assert state.cli_tag is None and state.cli_tag_set  # the tag entry that cleared it
    assert state.sub is not None and state.sub.turns == 1


def test_a_state_stored_before_gives_its_figures():
    derived = derive(FoldState.from_json(WRITTEN["fold_state"]))
    assert derived.turns == 3
    assert derived.total_cost == pytest.approx(MAIN_SONNET + RECORDED + SUB_SONNET)
    assert derived.subagent_cost == pytest.approx(SUB_SONNET)
    assert (derived.input_tokens, derived.output_tokens) == (3000 + 10 + 7 + 100, 100 + 20 + 3 + 10)
    assert derived.unpriced_models == ("mystery-model-2",)
    assert derived.model == "claude-opus-4-5"  # the init message's, not the first reply's
    assert (derived.project, derived.git_branch) == ("/work/proj", "feature")
    assert (derived.first_prompt, derived.title, derived.cli_tag) == (
        "Fix the parser",
        "My title",
        None,
    )
    assert (derived.first_timestamp, derived.last_timestamp) == (EPOCH_0300_0900, EPOCH_0301_1030)


def _requests_as_before(state: dict[str, Any]) -> dict[str, Any]:
    """The state with its requests' first four figures: what was kept of them then."""
    requests = {key: value[:4] for key, value in state["requests"].items()}
    sub = state.get("sub")
    return {**state, "requests": requests, **({"sub": _requests_as_before(sub)} if sub else {})}


def test_folding_today_writes_what_was_written_before():
    state = fold_subagents(fold(None, WRITTEN["main"]), WRITTEN["subagent"])
    before = json.loads(WRITTEN["fold_state"])
    # Changes since: a summary naming a leaf entry ("leafUuid") titles the session
    # holding that entry, which the store finds; it is no longer this session's own.
    assert before.pop("summary_title") == "Parser work"
    # And each request also keeps its time and its cache writes (5m, 1h) and reads.
    written = json.loads(state.to_json())
    assert _requests_as_before(written) == before
    assert written["requests"]["msg_1/req_1"][4:] == [EPOCH_0301_1003, 0, 0, 2000]
    assert facts_of(WRITTEN["main"]).summaries == {"x": "Parser work"}


def test_a_state_from_before_requests_were_kept_whole_still_counts():
    legacy = {"usage_cost": {"msg_1": 0.25, "msg_2": None}, "usage_tokens": {"msg_1": [10, 5]}}
    state = FoldState.from_dict({**legacy, "turns": 2, "result_cost": {}})
    assert state.requests == {"msg_1/": [0.25, 10, 5, None], "msg_2/": [None, 0, 0, None]}
    assert "usage_cost" not in state.to_dict() and "usage_tokens" not in state.to_dict()
    derived = derive(state)
    assert (derived.total_cost, derived.input_tokens, derived.unpriced_models) == (
        0.25,
        10,
        ("(unknown model)",),
    )


def test_an_empty_column_is_a_state_with_nothing_folded():
    assert FoldState.from_json("{}") == FoldState() == FoldState.from_json("")
    assert derive(FoldState()).turns == 0


@settings(max_examples=200, deadline=None)
@given(TRANSCRIPTS, TRANSCRIPTS)
def test_every_state_survives_its_json(main: list[dict[str, Any]], sub: list[dict[str, Any]]):
    state = fold_subagents(fold(None, main), sub)
    assert FoldState.from_json(state.to_json()) == state


def test_a_store_continues_from_a_state_written_before(store_factory):  # noqa: F811
    store = store_factory()
    first = {"type": "user", "uuid": "u-1", "message": {"role": "user", "content": "hi"}}
    store.append_messages(SID, [first], project_key="-work-proj")
    d = store.core.d

    def write_old_state() -> Any:
        yield Stmt(
            d.sql("UPDATE sessions SET fold_state = ? WHERE session_id = ?"),
            (WRITTEN["fold_state"], SID),
        )

    store.run(single(Txn(write_old_state, write=True)))
    reply = {
        "type": "assistant",
        "uuid": "a-new",
        "timestamp": "2026-03-02T08:00:00.000Z",
        "message": {"id": "msg_new", "model": "claude-sonnet-4-5", "role": "assistant",
                    "content": [{"type": "text", "text": "later"}],
                    "usage": {"input_tokens": 2000, "output_tokens": 0}},
    }  # fmt: skip
    meta = store.append_messages(SID, [reply], project_key="-work-proj")
    assert meta.turns == 4
    assert meta.total_cost == pytest.approx(MAIN_SONNET + RECORDED + SUB_SONNET + 2000 * 3e-6)
    assert meta.input_tokens == 3117 + 2000
    assert meta.title == "My title" and meta.model == "claude-opus-4-5"
    assert meta.first_prompt == "Fix the parser"
