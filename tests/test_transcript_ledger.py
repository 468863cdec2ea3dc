"""The transcript ledger itself, on hand-made lines: every count it reports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from claude_sessions.model.pricing import built_in_price_table

from .transcript_ledger import build_ledger

PROJECT = "-home-user-app"
PARENT = "11111111-1111-4111-8111-111111111111"
FORK = "22222222-2222-4222-8222-222222222222"
FIXTURES = Path(__file__).parent / "fixtures" / "transcripts"


def _user(uuid: str, parent: str | None, text: str, session: str = PARENT) -> dict[str, object]:
    return {
        "type": "user",
        "uuid": uuid,
        "parentUuid": parent,
        "sessionId": session,
        "isSidechain": False,
        "cwd": "/home/user/app",
        "timestamp": "2026-11-01T10:00:00.000Z",
        "message": {"role": "user", "content": text},
    }


def _assistant(
    uuid: str,
    parent: str,
    message_id: str,
    request_id: str,
    usage: dict[str, object],
    *,
    model: str = "claude-opus-4-20250514",
    session: str = PARENT,
    **extra: object,
) -> dict[str, object]:
    return {
        "type": "assistant",
        "uuid": uuid,
        "parentUuid": parent,
        "sessionId": session,
        "requestId": request_id,
        "timestamp": "2026-11-01T10:00:01.000Z",
        "message": {"id": message_id, "model": model, "role": "assistant", "usage": usage,
                    "content": [{"type": "text", "text": "ok"}]},
        **extra,
    }  # fmt: skip


def _write(path: Path, lines: list[object]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines)
    )


@pytest.fixture
def root(tmp_path: Path) -> Path:
    project = tmp_path / "projects" / PROJECT
    first = _user("u1", None, "Build the parser")
    # one response written as two entries (two content blocks): one request
    part_a = _assistant("a1", "u1", "msg_1", "req_1", {"input_tokens": 10, "output_tokens": 1})
    part_b = _assistant(
        "a2",
        "a1",
        "msg_1",
        "req_1",
        {"input_tokens": 10, "output_tokens": 5, "cache_read_input_tokens": 1_000_000},
    )
    costed = _assistant("a3", "a2", "msg_2", "req_2", {"input_tokens": 1_000_000}, costUSD=0.5)
    unknown = _assistant("a4", "a3", "msg_3", "req_3", {"input_tokens": 7}, model="claude-x-9")
    synthetic = _assistant("a5", "a4", "msg_4", "req_4", {"input_tokens": 0}, model="<synthetic>")
    changed = {**first, "message": {"role": "user", "content": "edited"}}
    _write(
        project / f"{PARENT}.jsonl",
        [
            first,
            part_a,
            part_b,
            costed,
            unknown,
            synthetic,
            first,
            changed,
            "not json",
            "[1, 2]",
            "",
        ],
    )
    agent = _assistant(
        "s1", "u1", "msg_9", "req_9", {"output_tokens": 1_000_000}, isSidechain=True, agentId="x"
    )
    _write(project / PARENT / "subagents" / "agent-x.jsonl", [agent])
    nested = _assistant("w1", "u1", "msg_8", "req_8", {"input_tokens": 2}, agentId="w")
    _write(project / PARENT / "subagents" / "workflows" / "wf_1" / "agent-w.jsonl", [nested])
    # a fork replays the parent's first request with the same uuids and ids
    replayed = [_user("u1", None, "Build the parser", FORK)]
    replayed.append({**part_b, "sessionId": FORK})
    fresh = _assistant("f1", "a2", "msg_5", "req_5", {"output_tokens": 10}, session=FORK)
    _write(project / f"{FORK}.jsonl", [*replayed, _user("f0", "a2", "Now in Rust", FORK), fresh])
    return tmp_path


def test_lines_uuids_and_entry_types(root):
    session = build_ledger(root, built_in_price_table()).sessions[PARENT]
    assert session.project == PROJECT
    assert len(session.subagent_files) == 2  # nested workflows/<id>/agent-*.jsonl included
    assert session.lines_read == 10 + 2  # the blank line is not read
    assert (session.json_objects, session.bad_lines) == (10, 2)
    assert session.entry_types == {"user": 3, "assistant": 7}
    assert session.distinct_uuids == 8  # u1 a1..a5 s1 w1
    # u1 three times: same content twice, then edited: counted as different content
    assert (session.duplicate_uuids_same, session.duplicate_uuids_different) == (0, 1)


def test_requests_tokens_and_cost(root):
    session = build_ledger(root, built_in_price_table()).sessions[PARENT]
    assert len(session.requests) == 5  # msg_1 once, msg_2, msg_3, msg_9, msg_8; no synthetic
    # msg_1 counts its last entry only
    assert session.tokens_main == (10 + 1_000_000 + 1_000_000 + 7, 5)
    assert session.tokens_subagents == (2, 1_000_000)
    assert session.tokens_total == (2_000_019, 1_000_005)
    opus_4 = (10 * 15 + 1_000_000 * 1.5 + 5 * 75) / 1e6
    assert session.cost_main == pytest.approx(opus_4 + 0.5)  # costUSD wins for msg_2
    assert session.costusd_requests == 1
    assert session.cost_subagents == pytest.approx(75 + 2 * 15 / 1e6)
    assert session.cost_total == pytest.approx(session.cost_main + session.cost_subagents)
    assert session.unpriced == {"claude-x-9": 1}


def test_a_fork_is_counted_once_across_sessions(root):
    ledger = build_ledger(root, built_in_price_table())
    parent, fork = ledger.sessions[PARENT], ledger.sessions[FORK]
    assert fork.tokens_total == (1_000_010, 5 + 10)  # its own view includes the replay
    assert parent.requests_in_other_sessions == 1 and fork.requests_in_other_sessions == 1
    assert ledger.requests_total == 6
    assert ledger.tokens_total == (
        parent.tokens_total[0],
        parent.tokens_total[1] + 10,
    )
    assert ledger.cost_total == pytest.approx(parent.cost_total + 10 * 75 / 1e6)


def test_title_and_first_prompt_as_the_sdk_gives_them(root):
    session = build_ledger(root, built_in_price_table()).sessions[PARENT]
    assert session.sdk_first_prompt == "Build the parser"
    assert session.sdk_summary == "Build the parser"
    assert session.sdk_custom_title is None
    off = build_ledger(root, built_in_price_table(), sdk=False).sessions[PARENT]
    assert off.sdk_first_prompt is None


@pytest.mark.parametrize(
    ("texts", "expected"),
    [
        (["<task-notification>\n<task-id>b1</task-id>\n</task-notification>", "push?"], "push?"),
        (["This session is being continued from a previous conversation. ...", "go"], "go"),
        (["Stop hook feedback:\n[x.sh]: say ok", "[Request interrupted by user]", "a"], "a"),
        (["Look.\n<system-reminder>\ncontext\n</system-reminder>\nHere"], "Look. Here"),
        (["<command-name>/init</command-name>\n<command-args></command-args>"], "/init"),
        (["<command-name>/x</command-name><command-args>a\nb</command-args>", "real"], "real"),
        (["<command-name>/x</command-name><command-args>a\nb</command-args>"], "/x a b"),
        (
            ["<local-command-stdout>done</local-command-stdout>", "<bash-input>ls</bash-input>"],
            "!ls",
        ),
    ],
)
def test_the_first_prompt_a_person_sees(tmp_path, texts, expected):
    lines = [_user(f"u{n}", None, text) for n, text in enumerate(texts)]
    _write(tmp_path / "projects" / PROJECT / f"{PARENT}.jsonl", lines)
    session = build_ledger(tmp_path, built_in_price_table(), sdk=False).sessions[PARENT]
    assert session.shown_first_prompt == expected


def test_a_subagent_transcript_beside_the_sessions_counts_for_its_session(tmp_path):
    """Claude Code 2.0 wrote ``<project>/agent-<id>.jsonl`` beside the sessions, its lines
    naming the session they belong to; an ``agent-*`` file of a session of its own is one."""
    project = tmp_path / "projects" / PROJECT
    _write(project / f"{PARENT}.jsonl", [_user("u1", None, "Run the tests")])
    first = {**_user("s0", None, "Run the test suite"), "isSidechain": True, "agentId": "ab12"}
    usage = {"input_tokens": 3, "output_tokens": 4}
    answer = _assistant("s1", "s0", "msg_1", "req_1", usage, isSidechain=True, agentId="ab12")
    _write(project / "agent-ab12.jsonl", [first, answer])
    alone = _user("o1", None, "A session named like an agent", "agent-cd34")
    _write(project / "agent-cd34.jsonl", [alone])
    sessions = build_ledger(tmp_path, built_in_price_table(), sdk=False).sessions
    assert set(sessions) == {PARENT, "agent-cd34"}
    assert sessions[PARENT].subagent_files == [project / "agent-ab12.jsonl"]
    assert sessions[PARENT].tokens_subagents == (3, 4)


def test_the_fixtures_are_laid_out_as_a_config_dir():
    ledger = build_ledger(FIXTURES, built_in_price_table(), sdk=False)
    mains = [p for p in FIXTURES.glob("projects/*/*.jsonl") if not p.name.startswith("agent-")]
    assert len(ledger.sessions) == len(mains) == 13
    total = sum(p.stat().st_size for p in FIXTURES.rglob("*.jsonl"))
    assert total < 2_000_000
    for session in ledger.sessions.values():
        assert session.main_file is not None and session.json_objects > 0


def test_sidechain_lines_in_the_main_transcript_are_the_subagents(tmp_path):
    """Older CLIs wrote a subagent's conversation into the main transcript (isSidechain)."""
    project = tmp_path / "projects" / PROJECT
    prompt = _user("u1", None, "Build the parser")
    call = _assistant("a1", "u1", "msg_1", "req_1", {"input_tokens": 10, "output_tokens": 1})
    side_prompt = {**_user("s1", None, "Read the grammar"), "isSidechain": True}
    side_reply = _assistant(
        "s2", "s1", "msg_2", "req_2", {"output_tokens": 7}, model="claude-haiku", isSidechain=True
    )
    other = {**_user("s3", "a1", "Write the tests"), "isSidechain": True}  # a second one
    _write(project / f"{PARENT}.jsonl", [prompt, call, side_prompt, side_reply, other])
    session = build_ledger(tmp_path, built_in_price_table()).sessions[PARENT]
    assert (session.sidechain_lines, session.sidechains) == (3, 2)
    assert session.tokens_main == (10, 1) and session.tokens_subagents == (0, 7)
    assert (session.assistant_lines_main, session.assistant_lines_subagents) == (1, 1)
    assert (session.model_main, session.model_subagents) == (
        "claude-opus-4-20250514",
        "claude-haiku",
    )
    assert session.sdk_first_prompt == "Build the parser"
    assert session.first_prompt_main_chain == "Build the parser"
    # a sidechain that comes first is still not the session's prompt
    _write(project / f"{PARENT}.jsonl", [side_prompt, side_reply, prompt, call])
    session = build_ledger(tmp_path, built_in_price_table()).sessions[PARENT]
    assert session.first_prompt_main_chain == "Build the parser"
