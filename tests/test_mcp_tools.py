"""The MCP tools in-process: budgets of the larger answers, and failures of any kind."""

from __future__ import annotations

import json
import logging

from claude_sessions.mcp.tools import CHAR_BUDGET, STATS_ROWS, Tool, available_tools, call_tool

from .cli.samples import add_session
from .transcript_samples import sid

TOOLS = available_tools()


def run(store, name, **arguments):
    outcome = call_tool(store, name, arguments, TOOLS)
    assert not outcome.is_error, outcome.text
    assert len(outcome.text) <= CHAR_BUDGET
    return json.loads(outcome.text)


def test_a_large_fork_family_is_cut_to_the_budget(store):
    root = add_session(store, 1, ["the original approach"], description="Root " + "x" * 100)
    for n in range(150):
        add_session(store, 0x100 + n, [f"variant {n}"], forked_from=root, day="2026-03-02")
    family = run(store, "session_lineage", session_id=sid(0x100 + 7))
    shown = family["tree"]["forks"]
    assert family["tree"]["session_id"] == root and 20 < len(shown) < 150
    assert family["note"].startswith(f"{len(shown) + 1} of the 151 sessions of this family shown")
    assert [fork["session_id"] for fork in shown] == [sid(0x100 + n) for n in range(len(shown))]


def test_stats_rows_are_capped_with_a_note(store):
    for n in range(STATS_ROWS + 5):
        add_session(store, 0x200 + n, [f"day {n}"], day=f"2026-05-{n + 1:02d}", tags=(f"t{n}",))
    stats = run(store, "session_stats", by=["day", "tag"], top=20)
    assert stats["sessions"] == STATS_ROWS + 5
    assert [row["key"] for row in stats["by"]["day"]][:2] == ["2026-05-25", "2026-05-24"]
    assert len(stats["by"]["day"]) == len(stats["by"]["tag"]) == STATS_ROWS
    assert stats["notes"] == [
        f"by {name}: {STATS_ROWS} of {STATS_ROWS + 5} rows shown; narrow with since, until, "
        "project, tags or model to see the others."
        for name in ("day", "tag")
    ]
    assert len(stats["most_expensive"]) == 20


def test_a_failing_tool_is_an_error_answer_and_is_logged(store, caplog):
    def broken(store, arguments):
        raise RuntimeError("disk on fire\nsecond line")

    tools = [Tool("broken", "Broken", "Fails.", {"type": "object"}, broken)]
    with caplog.at_level(logging.ERROR, logger="claude_sessions.mcp.tools"):
        outcome = call_tool(store, "broken", None, tools)
    assert outcome.is_error
    assert outcome.text == "internal error in broken: RuntimeError: disk on fire"
    assert "tool broken failed" in caplog.text and "Traceback" in caplog.text
