"""Figures by model and by 5-hour block add up to the ``stats`` totals for every kind of
token, sessions run through this library included: each run's ``result`` totals are
split across that run's own requests (expected values from the raw result lines and
the fixture transcripts' lines, see tests/transcript_ledger.py)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from claude_sessions import Session, SessionStore, query, resume
from claude_sessions.cli import cli
from claude_sessions.importer import import_transcripts
from claude_sessions.testing import Reply, ToolUse

from .older_store import set_back
from .transcript_ledger import build_ledger

FIXTURES = Path(__file__).parent / "fixtures" / "transcripts"
HAIKU = "claude-haiku-4-5-20251001"
KINDS = (
    "input_tokens",
    "uncached_input_tokens",
    "cache_write_5m_tokens",
    "cache_write_1h_tokens",
    "cache_read_tokens",
    "output_tokens",
)


def _kinds_of_result(usage: dict[str, Any]) -> dict[str, int]:
    """A result's usage by the kinds ``stats --json`` names."""
    plain = usage["input_tokens"]
    cache_write = usage.get("cache_creation_input_tokens", 0)
    detail = usage.get("cache_creation") or {}
    hour = detail.get("ephemeral_1h_input_tokens", 0)
    read = usage.get("cache_read_input_tokens", 0)
    return {
        "input_tokens": plain + cache_write + read,
        "uncached_input_tokens": plain,
        "cache_write_5m_tokens": cache_write - hour,
        "cache_write_1h_tokens": hour,
        "cache_read_tokens": read,
        "output_tokens": usage["output_tokens"],
    }


def _json(location: str, *by: str) -> dict[str, Any]:
    args = ["stats", "--json", "--store", location]
    for name in by:
        args += ["--by", name]
    shown = CliRunner().invoke(cli, args)
    assert shown.exit_code == 0, shown.output
    return json.loads(shown.output)  # type: ignore[no-any-return]


@pytest.mark.e2e
def test_by_model_and_by_block_token_totals_equal_the_stats_totals(
    fake_claude: Any, store_location: str, tmp_path: Path
) -> None:
    tools = [ToolUse("Bash", {"command": "echo one"}), ToolUse("Bash", {"command": "echo two"})]
    fake_claude.set_script(
        [
            Reply("let me look", tool_use=tools, input_tokens=40, output_tokens=300),
            Reply("done", model=HAIKU, input_tokens=50, output_tokens=77),
            Reply("again", input_tokens=60, output_tokens=11),
        ]
    )
    root = tmp_path / "config"
    shutil.copytree(FIXTURES / "projects", root / "projects")
    with SessionStore(store_location, cleanup_after_days=None) as store:
        session_id = Session.extract_session_id(list(query("look around", store=store)))
        list(resume(session_id, "once more", store=store))
        raw = [m.to_dict() for m in store.load_session(session_id).messages]
        assert import_transcripts(store, [root]).errors == []

    results = [_kinds_of_result(m["usage"]) for m in raw if m.get("type") == "result"]
    assert len(results) == 2
    lines = [m["message"]["usage"]["output_tokens"] for m in raw if m.get("type") == "assistant"]
    assert sum(r["output_tokens"] for r in results) != sum(lines)  # what the split is for
    fixtures = build_ledger(FIXTURES, sdk=False).all_models
    cached = fixtures.cache_write_5m + fixtures.cache_write_1h + fixtures.cache_read
    expected = {
        "input_tokens": fixtures.input + cached,
        "uncached_input_tokens": fixtures.input,
        "cache_write_5m_tokens": fixtures.cache_write_5m,
        "cache_write_1h_tokens": fixtures.cache_write_1h,
        "cache_read_tokens": fixtures.cache_read,
        "output_tokens": fixtures.output,
    }
    for kind in KINDS:
        expected[kind] += sum(result[kind] for result in results)

    whole = _json(store_location)
    by_model = _json(store_location, "model")["by"]["model"]
    by_block = _json(store_location, "block")["by"]["block"]
    assert any(bucket["key"] == HAIKU for bucket in by_model)
    for kind in KINDS:
        assert whole[kind] == expected[kind], kind
        assert sum(bucket[kind] for bucket in by_model) == expected[kind], kind
        assert sum(block[kind] for block in by_block) == expected[kind], kind
    for buckets in (by_model, by_block):
        assert sum(b["cost"] for b in buckets) == pytest.approx(whole["total_cost"], abs=1e-9)


def _assistant(message_id: str, input_tokens: int, output_tokens: int) -> dict[str, Any]:
    return {
        "type": "assistant",
        "session_id": "s1",
        "timestamp": "2026-03-02T10:00:00.000Z",
        "message": {
            "id": message_id,
            "role": "assistant",
            "model": "claude-sonnet-4-5-20250929",
            "content": [{"type": "text", "text": "ok"}],
            "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens},
        },
    }


def _result(input_tokens: int, output_tokens: int) -> dict[str, Any]:
    return {
        "type": "result",
        "subtype": "success",
        "session_id": "s1",
        "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens},
    }


def _requests(store: SessionStore) -> dict[str, tuple[int, int]]:
    """Each stored request's input (with cache) and output tokens, by the hour it was made
    at (each request below has its own)."""
    return {
        str(r.model) + "@" + str(r.at): (r.input_tokens, r.output_tokens)
        for r in store.api_requests(None)
    }


def test_each_run_is_split_across_its_own_requests(store: SessionStore) -> None:
    first = [_assistant("m1", 10, 1), _assistant("m2", 30, 1)]
    first[1]["timestamp"] = "2026-03-02T10:05:00.000Z"
    store.save_session("s1", [*first, _result(40, 101)])
    before = _requests(store)
    # Output recorded 1 and 1: the run's 101 shared evenly, the odd token to the first.
    assert sorted(before.values()) == [(10, 51), (30, 50)]
    second = _assistant("m3", 5, 1)
    second["timestamp"] = "2026-03-02T11:00:00.000Z"
    store.append_messages("s1", [second, _result(7, 20)])
    after = _requests(store)
    assert {k: v for k, v in after.items() if k in before} == before
    assert sorted(after.values()) == [(7, 20), (10, 51), (30, 50)]
    meta = store.get_metadata("s1")
    assert (meta.input_tokens, meta.output_tokens) == (40 + 7, 101 + 20)


def test_a_result_without_requests_of_its_own_adds_to_the_run_before(
    store: SessionStore,
) -> None:
    store.save_session("s1", [_assistant("m1", 10, 1), _result(10, 50)])
    store.append_messages("s1", [_result(4, 6)])
    assert list(_requests(store).values()) == [(14, 56)]
    meta = store.get_metadata("s1")
    assert (meta.input_tokens, meta.output_tokens) == (14, 56)


def _before_the_split(run: Callable[..., Any], postgres: bool) -> None:
    """What SQLite 18 / PostgreSQL 14 left: requests with their lines' figures, fold
    states holding the runs' sum only."""
    run("UPDATE api_requests SET output_tokens = 1, input_tokens = 0")
    run("UPDATE sessions SET fold_state = replace(fold_state, '\"result_runs\"', '\"ignored\"')")


def test_a_stored_run_is_split_across_its_requests_on_upgrade(store_location: str) -> None:
    second = _assistant("m2", 5, 1)
    second["timestamp"] = "2026-03-02T11:00:00.000Z"
    with SessionStore(store_location) as opened:
        opened.save_session("s1", [_assistant("m1", 10, 1), _result(10, 50)])
        opened.append_messages("s1", [second, _result(5, 30)])
    set_back(store_location, sqlite=18, postgres=14, undo=_before_the_split)
    with SessionStore(store_location) as opened:
        assert sorted(_requests(opened).values()) == [(5, 30), (10, 50)]


def test_requests_after_the_last_result_count_in_the_session_cost(store_location: str) -> None:
    """A library run, then the same session continued in Claude Code (transcript lines, no
    result): the later request's own price adds to the run's reported cost everywhere."""
    run = [_assistant("m1", 10, 1), {**_result(10, 50), "total_cost_usd": 0.25}]
    later = _assistant("m2", 1_000, 2_000)
    later["timestamp"] = "2026-03-02T16:00:00.000Z"  # another 5-hour block
    later_cost = 1_000 * 3 / 1e6 + 2_000 * 15 / 1e6  # Sonnet 4.5: $3 in, $15 out per million
    with SessionStore(store_location, cleanup_after_days=None) as opened:
        opened.save_session("s1", run)
        opened.append_messages("s1", [later])
        meta = opened.get_metadata("s1")
    assert meta.total_cost == pytest.approx(0.25 + later_cost, abs=1e-9)
    whole = _json(store_location)
    assert whole["total_cost"] == pytest.approx(0.25 + later_cost, abs=1e-9)
    for by in ("model", "block"):
        buckets = _json(store_location, by)["by"][by]
        assert sum(b["cost"] for b in buckets) == pytest.approx(whole["total_cost"], abs=1e-9)
    blocks = sorted(b["cost"] for b in _json(store_location, "block")["by"]["block"])
    assert blocks == pytest.approx(sorted([0.25, later_cost]), abs=1e-9)


def test_a_stored_session_continued_after_its_last_result_is_recounted_on_upgrade(
    store_location: str,
) -> None:
    later = _assistant("m2", 1_000, 2_000)
    later_cost = 1_000 * 3 / 1e6 + 2_000 * 15 / 1e6  # Sonnet 4.5: $3 in, $15 out per million
    with SessionStore(store_location, cleanup_after_days=None) as opened:
        opened.save_session(
            "s1", [_assistant("m1", 10, 1), {**_result(10, 50), "total_cost_usd": 0.25}]
        )
        opened.append_messages("s1", [later])

    def as_counted_before(run: Callable[..., Any], postgres: bool) -> None:
        run("UPDATE sessions SET total_cost = 0.25")  # the requests after the result left out

    set_back(store_location, sqlite=19, postgres=15, undo=as_counted_before)
    with SessionStore(store_location, cleanup_after_days=None) as opened:
        assert opened.get_metadata("s1").total_cost == pytest.approx(0.25 + later_cost, abs=1e-9)
