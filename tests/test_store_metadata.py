"""Metadata derived from entries, whichever path wrote them; incremental appends."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from claude_sessions.model import derive as md

from .store_samples import run, transcript


def test_transcript_metadata(store):
    meta = store.append_messages("t-1", transcript("t-1"))
    assert meta.message_count == 5
    assert meta.turns == 3
    assert meta.model == "claude-sonnet-4-5-20250929"
    assert meta.project == "/home/u/proj"
    assert meta.project_key == "-home-u-proj"
    assert meta.first_prompt == "Fix the login bug please"
    assert meta.git_branch == "main"
    assert meta.created_at == datetime(2026, 1, 10, 10, 0, tzinfo=timezone.utc)
    assert meta.updated_at == datetime(2026, 1, 10, 10, 1, tzinfo=timezone.utc)
    # no result message: priced from usage, msg_1 counted once (3000 in, 1000 out at sonnet)
    expected = (1000 * 3 + 1000 * 15 + 2000 * 3) / 1e6
    assert meta.total_cost == pytest.approx(expected)
    assert (meta.input_tokens, meta.output_tokens) == (3000, 1000)  # msg_1 once, msg_2
    assert [m.session_id for m in store.search(text="authentication")] == ["t-1"]


def test_tokens_count_cache_reads_and_writes_as_input():
    usage = {
        "input_tokens": 10,
        "cache_creation_input_tokens": 200,
        "cache_read_input_tokens": 3000,
        "output_tokens": 7,
    }
    entry = {"type": "assistant", "message": {"id": "m", "usage": usage}}
    derived = md.derive(md.fold(None, [entry, entry]))  # one API message, two entries
    assert (derived.input_tokens, derived.output_tokens) == (3210, 7)


def test_append_is_incremental_and_idempotent(store):
    entries = transcript("t-1")
    store.append_messages("t-1", entries[:2])
    meta = store.append_messages("t-1", entries[1:])  # entries[1] again: upsert
    assert meta.message_count == 5
    assert store.load_session("t-1").messages[1].to_dict() == entries[1]
    assert [m.to_dict() for m in store.load_session("t-1").messages] == entries
    again = store.append_messages("t-1", entries)
    assert again.message_count == 5
    assert again.total_cost == meta.total_cost
    no_uuid = {"type": "custom-title", "customTitle": "Login fix", "sessionId": "t-1"}
    meta = store.append_messages("t-1", [no_uuid, no_uuid])
    assert meta.message_count == 7
    assert meta.title == "Login fix"
    assert [m.session_id for m in store.search(text="login fix")] == ["t-1"]


def test_upsert_that_changes_an_entry_recomputes(store):
    entries = transcript("t-1")
    store.append_messages("t-1", entries)
    changed = dict(entries[4])
    changed["message"] = {
        **entries[4]["message"],
        "content": [{"type": "text", "text": "Rewritten zebra"}],
    }
    meta = store.append_messages("t-1", [changed])
    assert meta.message_count == 5
    assert store.load_session("t-1").messages[4].text == "Rewritten zebra"
    assert [m.session_id for m in store.search(text="zebra")] == ["t-1"]
    assert store.search(text="fixed") == []


def test_cli_tag_entries_become_tags(store):
    store.save_session("t-1", transcript("t-1"), tags=["mine"])
    meta = store.append_messages("t-1", [{"type": "tag", "tag": "urgent", "sessionId": "t-1"}])
    assert meta.tags == ("mine", "urgent")
    meta = store.append_messages("t-1", [{"type": "tag", "tag": "later", "sessionId": "t-1"}])
    assert meta.tags == ("later", "mine")
    meta = store.append_messages("t-1", [{"type": "tag", "tag": "", "sessionId": "t-1"}])
    assert meta.tags == ("mine",)


def test_forked_from_shared_uuids(store):
    origin = transcript("orig")
    store.append_messages("orig", origin)
    fork = [{**e, "sessionId": "fork"} for e in origin[:3]]  # same uuids, new session id
    fork.append({**origin[4], "uuid": "fork-new", "sessionId": "fork"})
    meta = store.append_messages("fork", fork)
    assert meta.forked_from == "orig"
    assert store.get_metadata("orig").forked_from is None


def test_forked_from_sdk_field_and_explicit(store):
    entry = {
        **transcript("f2")[0],
        "uuid": "new-uuid",
        "forkedFrom": {"sessionId": "origin-x", "messageUuid": "u"},
    }
    assert store.append_messages("f2", [entry]).forked_from == "origin-x"
    assert store.save_session("f3", run("f3"), forked_from="f2").forked_from == "f2"
    assert store.save_session("f4", run("f4")).forked_from is None


def test_cost_prefers_last_result_per_session(store):
    messages = run("s", cost=0.2) + run("s", cost=0.5)[1:]  # cumulative: 0.2 then 0.5
    assert store.save_session("s", messages).total_cost == pytest.approx(0.5)


def test_subpath_entries_are_separate(store):
    store.append_messages("t-1", transcript("t-1"))
    sub = [{"type": "assistant", "uuid": "sub-1", "message": {"content": "subagent text"}}]
    meta = store.append_messages("t-1", sub, subpath="subagents/agent-1")
    assert meta.message_count == 5
    assert len(store.load_session("t-1").messages) == 5


def test_append_with_project_key_targets_that_session(store):
    store.append_messages("same", [{"type": "x", "n": 1}], project_key="A")
    store.append_messages("same", [{"type": "x", "n": 2}], project_key="B")
    assert len(store.list_sessions()) == 2
    assert store.load_session("same").messages[0]["n"] in (1, 2)
    assert store.delete_session("same") is True
    assert store.list_sessions() == []


def test_save_after_sdk_mirror_is_the_same_row(store, tmp_path):
    project = tmp_path / "proj"
    project.mkdir()
    from claude_agent_sdk import project_key_for_directory

    key = project_key_for_directory(project)
    store.append_messages("s-1", transcript("s-1", cwd=str(project)), project_key=key)
    meta = store.save_session("s-1", run("s-1", cwd=str(project)))
    assert meta.project_key == key
    assert len(store.list_sessions()) == 1


def test_fold_is_pure_and_incremental():
    entries = transcript("t") + run("t")
    whole = md.derive(md.fold(None, entries))
    stepwise = None
    for entry in entries:
        stepwise = md.fold(stepwise, [entry])
    assert md.derive(stepwise) == whole
    assert whole.total_cost == pytest.approx(0.01)  # a result wins over usage


def _user(content, **extra):
    return {"type": "user", "message": {"role": "user", "content": content}, **extra}


@pytest.mark.parametrize(
    ("entries", "expected"),
    [
        # The official SDK's own cases: generated text, meta, results, compaction, IDE context.
        (
            [
                _user("<command-name>/clear</command-name>"),
                _user("meta", isMeta=True),
                _user([{"type": "tool_result", "content": "x"}]),
                _user("This session is being continued...", isCompactSummary=True),
                _user("<local-command-stdout>ok</local-command-stdout>"),
                _user("[Request interrupted by user for tool use]"),
                _user("<ide_opened_file>The user opened a.py</ide_opened_file>"),
                _user([{"type": "text", "text": "<ide_selection>x = 1</ide_selection>"}]),
                _user("  the real\nquestion  "),
            ],
            "the real question",
        ),
        ([_user("<command-name>/review</command-name>")], "/review"),  # only a command
        ([_user("x" * 500)], "x" * 200 + "\u2026"),
        ([_user([{"type": "image", "source": {}}])], None),
    ],
)
def test_first_prompt_follows_the_official_sdk(entries, expected):
    assert md.derive(md.fold(None, entries)).first_prompt == expected


# Claude Code's wrappers and notices, in the shapes real transcripts hold them (the spotter
# and claude-code-log files of tests/fixtures/transcripts, the bundled CLI's own).
_CONTINUED = (
    "This session is being continued from a previous conversation that ran out of "
    "context. The summary below covers the earlier portion of the conversation."
)
_NOTIFIED = (
    "<task-notification>\n<task-id>bd0afab</task-id>\n<status>completed</status>\n"
    "<summary>Background command completed</summary>\n</task-notification>\n"
    "Read the output file to retrieve the result: /tmp/bd0afab.output"
)
_ORCHESTRATOR = (
    "<command-message>orchestrator</command-message>\n<command-name>/orchestrator</command-name>"
    "\n<command-args>create TODO app by Next.js</command-args>"
)


@pytest.mark.parametrize(
    ("entries", "expected"),
    [
        ([_user(_NOTIFIED), _user("did you push?")], "did you push?"),
        ([_user(_CONTINUED), _user("go on")], "go on"),
        (
            [_user([{"type": "text", "text": "Stop hook feedback:\n[x.sh]: say ok"}]), _user("a")],
            "a",
        ),
        (
            [_user("Review it.\n<system-reminder>\ncwd changed\n</system-reminder>\n# Notes")],
            "Review it. # Notes",
        ),
        ([_user("<system-reminder>only context</system-reminder>"), _user("b")], "b"),
        ([_user("<ide_opened_file>a.py</ide_opened_file> explain this")], "explain this"),
        ([_user(_ORCHESTRATOR)], "/orchestrator create TODO app by Next.js"),  # only a command
        ([_user(_ORCHESTRATOR), _user("now deploy it")], "now deploy it"),
        (
            [_user("<command-name>test-command</command-name><command-args>-v</command-args>")],
            "/test-command -v",
        ),
        (
            [
                _user("<local-command-stderr>boom</local-command-stderr>"),
                _user("<local-command-caveat>Caveat: local</local-command-caveat>"),
                _user("<bash-input>ls</bash-input>"),
                _user("<bash-stdout>a.py</bash-stdout><bash-stderr></bash-stderr>"),
            ],
            "!ls",
        ),
    ],
)
def test_first_prompt_leaves_out_what_claude_code_wraps(entries, expected):
    assert md.derive(md.fold(None, entries)).first_prompt == expected


def test_title_prefers_the_user_then_the_ai_then_the_newest_summary():
    summaries = [{"type": "summary", "summary": "Old"}, {"type": "summary", "summary": "New"}]
    assert md.derive(md.fold(None, summaries)).title == "New"
    ai = [*summaries, {"type": "x", "aiTitle": "AI title"}]
    assert md.derive(md.fold(None, ai)).title == "AI title"
    user = [*ai, {"type": "custom-title", "customTitle": "Mine"}]
    assert md.derive(md.fold(None, user)).title == "Mine"


def test_synthetic_model_is_ignored():
    entries = [
        {"type": "assistant", "message": {"model": "<synthetic>", "content": []}},
        {"type": "assistant", "message": {"model": "claude-opus-4-5", "content": []}},
    ]
    assert md.derive(md.fold(None, entries)).model == "claude-opus-4-5"


def _request(message_id, model, tokens_in, tokens_out, **extra):
    usage = {"input_tokens": tokens_in, "output_tokens": tokens_out}
    body = {"id": message_id, "model": model, "usage": usage}
    return {"type": "assistant", "message": body, "uuid": f"u-{message_id}", **extra}


def test_unpriced_models_are_named_never_free(store):
    meta = store.append_messages(
        "p-1",
        [
            _request("a", "claude-sonnet-4-5", 100_000, 0),
            _request("b", "gpt-4", 100_000, 100_000),
        ],
        project_key="-p",
    )
    assert meta.total_cost == pytest.approx(0.3)  # the sonnet request only
    assert meta.unpriced_models == ("gpt-4",)
    assert (meta.input_tokens, meta.output_tokens) == (200_000, 100_000)
    assert store.usage()[0].unpriced_sessions == 1


def test_cost_usd_recorded_by_the_cli_wins(store):
    meta = store.append_messages(
        "p-2", [_request("a", "claude-sonnet-4-5", 100_000, 0, costUSD=0.42)], project_key="-p"
    )
    assert meta.total_cost == pytest.approx(0.42)


def test_the_opus_4_date_is_not_a_version(store):
    meta = store.append_messages(
        "p-3", [_request("a", "claude-opus-4-20250514", 1_000_000, 0)], project_key="-p"
    )
    assert meta.total_cost == pytest.approx(15.0)


def test_subagents_count_in_the_totals_and_apart(store):
    store.append_messages("p-4", [_request("a", "claude-sonnet-4-5", 100_000, 0)], project_key="-p")
    meta = store.append_messages(
        "p-4",
        [_request("s", "claude-haiku-4-5", 100_000, 0, timestamp="2026-01-01T00:00:00Z")],
        project_key="-p",
        subpath="subagents/agent-1",
    )
    assert meta.total_cost == pytest.approx(0.3 + 0.1)
    assert meta.subagent_cost == pytest.approx(0.1)
    assert (meta.input_tokens, meta.subagent_input_tokens) == (200_000, 100_000)
    assert meta.turns == 1 and meta.message_count == 1  # the main transcript's


def test_a_session_with_only_a_subagent_takes_its_times(store):
    meta = store.append_messages(
        "p-5",
        [_request("s", "claude-haiku-4-5", 1000, 10, timestamp="2025-06-01T12:00:00Z")],
        project_key="-p",
        subpath="subagents/agent-9",
    )
    assert meta.created_at == datetime(2025, 6, 1, 12, tzinfo=timezone.utc)
    assert meta.total_cost == pytest.approx(meta.subagent_cost) and meta.total_cost > 0


def test_parse_timestamp():
    assert (
        md.parse_timestamp("2026-01-10T10:00:00.000Z")
        == datetime(2026, 1, 10, 10, tzinfo=timezone.utc).timestamp()
    )
    assert (
        md.parse_timestamp("2026-01-10T10:00:00")
        == datetime(2026, 1, 10, 10, tzinfo=timezone.utc).timestamp()
    )
    assert md.parse_timestamp("garbage") is None
    assert md.parse_timestamp(5) is None
