"""Real third-party transcripts (tests/fixtures/transcripts) imported and audited against an
independent count of their raw lines (tests/transcript_ledger.py) and the official SDK."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
from pathlib import Path

import pytest

from claude_sessions.importer import import_transcripts, importing
from claude_sessions.views.render import render_json, render_text, session_title

from .transcript_ledger import build_ledger

FIXTURES = Path(__file__).parent / "fixtures" / "transcripts"
TASK_NOTIFIED = "fa812bfe-b295-4cca-9c2f-fdf01028cb46"
# What Claude Code wraps around user text, never part of a title.
WRAPPERS = re.compile(
    r"<(?:system-reminder|command-|local-command-|task-notification|bash-)|"
    r"Stop hook feedback|\[Request interrupted|This session is being continued"
)


@pytest.fixture(scope="module")
def ledger():
    return build_ledger(FIXTURES)


@pytest.fixture(params=["here", "worker"])
def imported(request, store, tmp_path, monkeypatch):
    """The fixtures imported; read in this process, or in a worker as a large import is."""
    if request.param == "worker":
        monkeypatch.setattr(importing, "LARGE_IMPORT_BYTES", 0)
    root = tmp_path / "config"
    shutil.copytree(FIXTURES / "projects", root / "projects")
    report = import_transcripts(store, [root])
    return store, report, root


def test_every_line_is_accounted_for(imported, ledger):
    _, report, _ = imported
    assert report.errors == [] and report.skipped == []
    lines = sum(session.lines_read for session in ledger.sessions.values())
    bad = sum(session.bad_lines for session in ledger.sessions.values())
    assert report.lines_read == lines
    assert report.bad_lines == bad
    assert report.lines_read == report.entries_imported + report.duplicates + report.bad_lines


def test_tokens_and_cost_match_the_independent_count(imported, ledger):
    store, _, _ = imported
    for session in ledger.sessions.values():
        meta = store.get_metadata(session.session_id)
        assert meta is not None, session.session_id
        assert (meta.input_tokens, meta.output_tokens) == session.tokens_total, session.session_id
        assert (meta.subagent_input_tokens, meta.subagent_output_tokens) == (
            session.tokens_subagents
        )
        assert meta.total_cost == pytest.approx(session.cost_total, abs=1e-9), session.session_id
        assert meta.subagent_cost == pytest.approx(session.cost_subagents, abs=1e-9)
        assert set(meta.unpriced_models) == set(session.unpriced)


def test_a_retired_model_is_priced_from_its_published_price(imported):
    """edge_cases.jsonl talks to claude-3-sonnet-20240229, retired 2025-07-21: its cost is
    its raw lines' usage at the $3 in / $15 out Anthropic published for Sonnet 3 (one line
    of the file, pasted from another session, is Sonnet 4: $3 / $15 on the pricing page)."""
    store, _, _ = imported
    published = {"claude-3-sonnet-20240229": (3, 15), "claude-sonnet-4": (3, 15)}
    expected, requests = 0.0, set()
    for line in (FIXTURES / "projects" / "-tmp" / "edge_cases.jsonl").read_text().splitlines():
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue
        message = entry.get("message") if isinstance(entry, dict) else None
        if isinstance(message, dict) and message.get("role") == "assistant":
            assert message["id"] not in requests  # each request once: no repeated lines here
            requests.add(message["id"])
            per_million_in, per_million_out = published[message["model"]]
            usage = message["usage"]
            expected += (
                usage["input_tokens"] * per_million_in
                + usage["output_tokens"] * per_million_out
                + usage.get("cache_creation_input_tokens", 0) * per_million_in * 1.25
                + usage.get("cache_read_input_tokens", 0) * per_million_in * 0.1
            ) / 1_000_000
    meta = store.get_metadata("edge_cases")
    assert len(requests) == 4 and expected > 0
    assert meta.unpriced_models == ()
    assert meta.total_cost == pytest.approx(expected, abs=1e-12)


def test_first_prompts_are_what_a_person_typed(imported, ledger):
    """A session's first prompt (its title when it has no other) leaves out what Claude Code
    wraps around user text, and a subagent's prompt written into the main transcript (a
    sidechain), as the independent recount finds it; what the SDK protocol
    returns keeps the official SDK's own rules (over the whole transcript: the SDK reads
    only the first 64 KB of a file, which would make the answer depend on where a file is
    cut)."""
    from claude_agent_sdk._internal.session_summary import summary_entry_to_sdk_info
    from claude_agent_sdk._internal.sessions import _extract_first_prompt_from_head

    store, _, _ = imported
    sdk = store.sdk_store()
    for session in ledger.sessions.values():
        meta = store.get_metadata(session.session_id)
        assert meta.first_prompt == session.shown_first_prompt, meta
        assert not WRAPPERS.search(session_title(meta)), meta
        if session.sdk_custom_title:
            assert meta.title == session.sdk_custom_title
        summaries = asyncio.run(sdk.list_session_summaries(meta.project_key))
        summary = next(s for s in summaries if s["session_id"] == session.session_id)
        info = summary_entry_to_sdk_info(summary, None)
        whole = session.main_file.read_text(encoding="utf-8") if session.main_file else ""
        sdk_prompt = _extract_first_prompt_from_head(whole) or None
        assert (info.first_prompt if info else None) == sdk_prompt
    # What the wrappers hid: a task notification before the prompt, a reminder inside it.
    assert store.get_metadata(TASK_NOTIFIED).first_prompt == "continue until all are done"
    reminded = store.get_metadata("system_reminder")
    assert reminded.first_prompt == (
        "Please review the change. # Project notes The tail content still renders as user text."
    )
    edge = store.get_metadata("edge_cases")
    assert edge.title and edge.title.startswith("Tested various edge cases")
    assert [m.session_id for m in store.search(text="edge cases transcript viewer")] == [
        "edge_cases"
    ]


def test_subagents_are_shown_under_their_call(imported):
    store, _, _ = imported
    data = store.load_session("ae4a77f8-aedd-4bc1-888f-c94edc91af04", subagents=True)
    assert set(data.subagents) == {
        "subagents/agent-aac57f5",
        "subagents/agent-acompact-946d2b",
    }
    text = render_text(data)
    assert "── Subagent aac57f5 ──" in text and "OpenTelemetry" in text
    linked = {a["agent_id"]: a["tool_use_id"] for a in _json(render_json(data))["subagents"]}
    assert linked == {"aac57f5": "toolu_01Hf8v1Za7y4af8VUwSR4CXU", "acompact-946d2b": None}
    nested = store.load_session("22220000-0000-4000-8000-000000000002", subagents=True)
    assert list(nested.subagents) == ["subagents/workflows/wf_sp01/agent-agsp0001"]


def test_compaction_is_a_visible_marker(imported):
    store, _, _ = imported
    data = store.load_session("8463c716-a2ea-4c14-9efa-87158ebd9f20")
    text = render_text(data)
    assert "── Conversation compacted (" in text and "── Compaction summary ──" in text


def test_importing_again_changes_nothing(imported, ledger):
    store, _, root = imported
    again = import_transcripts(store, [root])
    assert again.files_unchanged == again.files_seen and again.lines_read == 0


def _json(text: str):
    import json

    return json.loads(text)
