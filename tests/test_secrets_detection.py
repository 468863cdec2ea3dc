"""Detection: every rule finds its planted fake secret, no decoy is flagged, and an
entry's strings are found in their places."""

from __future__ import annotations

import subprocess
import sys

import pytest

from claude_sessions.model.secret_rules import RULES
from claude_sessions.model.secrets import (
    GENERIC_RULE,
    Finding,
    entry_findings,
    find_secrets,
    masked,
)
from tests.secret_samples import decoys, gcp_service_account, planted

PLANTED = planted()


def test_every_rule_has_a_planted_example_and_a_source() -> None:
    rules = {rule.name for rule in RULES} | {GENERIC_RULE}
    assert rules == {sample.rule for sample in PLANTED}
    for rule in RULES:
        assert rule.confidence in ("high", "medium")
        assert "github.com/" in rule.source and any(
            name in rule.source
            for name in ("gitleaks rule", "trufflehog detector", "detect-secrets")
        )


@pytest.mark.parametrize("sample", PLANTED, ids=[f"{s.rule}-{i}" for i, s in enumerate(PLANTED)])
def test_a_planted_secret_is_found_exactly(sample) -> None:
    text = f"Some output before.\n{sample.text}\nand after."
    start = text.index(sample.value)
    findings = find_secrets(text)
    assert [(f.rule, f.start, f.end) for f in findings] == [
        (sample.rule, start, start + len(sample.value))
    ]


def test_all_planted_secrets_in_one_text_are_found_in_order() -> None:
    text = "\n".join(sample.text for sample in PLANTED)
    expected = []
    for sample in PLANTED:
        start = text.index(sample.value)
        expected.append((start, start + len(sample.value), sample.rule))
    found = find_secrets(text)
    assert [(f.start, f.end, f.rule) for f in found] == sorted(expected)


@pytest.mark.parametrize("kind", sorted(decoys()))
def test_no_decoy_is_flagged(kind: str) -> None:
    assert find_secrets(decoys()[kind]) == []


def test_confidence_is_medium_for_context_dependent_rules() -> None:
    by_rule = {f.rule: f.confidence for s in PLANTED for f in find_secrets(s.text)}
    assert by_rule["jwt"] == "medium"
    assert by_rule[GENERIC_RULE] == "medium"
    assert by_rule["github-pat"] == "high"
    assert by_rule["database-url-password"] == "high"


def test_a_gcp_service_account_key_file_is_found_as_its_private_key() -> None:
    text, escaped_key = gcp_service_account()
    findings = find_secrets(text)
    start = text.index(escaped_key)
    assert [(f.rule, f.start, f.end) for f in findings] == [
        ("private-key", start, start + len(escaped_key))
    ]


def test_a_low_entropy_value_is_not_a_secret() -> None:
    assert find_secrets("password = aaaaaaaaaaaa1111") == []
    assert find_secrets("ghp" + "_" + "a" * 36) == []  # under gitleaks' entropy of 3


def test_masked_shows_four_characters_and_the_length() -> None:
    value = "abcdEFGHijkl"
    assert masked(value) == "abcd… (12 chars)"
    assert "EFGH" not in masked(value)


def _sample(rule: str) -> str:
    return next(s.value for s in PLANTED if s.rule == rule)


def test_entry_findings_names_each_place_and_path() -> None:
    github, stripe, slack, npm = (
        _sample(r)
        for r in ("github-pat", "stripe-access-token", "slack-bot-token", "npm-access-token")
    )
    prompt = {"type": "user", "uuid": "u1", "message": {"role": "user", "content": f"use {github}"}}
    call = {
        "type": "assistant",
        "message": {
            "content": [
                {"type": "text", "text": f"I will set {stripe} now"},
                {
                    "type": "tool_use",
                    "id": "t",
                    "name": "Bash",
                    "input": {"command": f"export K={slack}"},
                },
            ]
        },
    }
    result = {
        "type": "user",
        "message": {
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "t",
                    "content": [{"type": "text", "text": npm}],
                }
            ]
        },
        "toolUseResult": {"stdout": npm},
    }
    assert [(p, path) for p, path, _ in entry_findings(prompt)] == [
        ("prompt", ("message", "content"))
    ]
    assert [(p, path) for p, path, _ in entry_findings(call)] == [
        ("reply", ("message", "content", 0, "text")),
        ("tool input", ("message", "content", 1, "input", "command")),
    ]
    assert [(p, path) for p, path, _ in entry_findings(result)] == [
        ("tool result", ("message", "content", 0, "content", 0, "text")),
        ("tool result", ("toolUseResult", "stdout")),
    ]
    text = call["message"]["content"][1]["input"]["command"]  # type: ignore[index]
    ((_, _, finding),) = entry_findings(call)[1:]
    assert text[finding.start : finding.end] == slack


def test_entry_findings_in_a_subagent_transcript_and_a_sidechain() -> None:
    github = _sample("github-pat")
    entry = {
        "type": "assistant",
        "message": {"content": [{"type": "tool_use", "input": {"c": github}}]},
    }
    assert [p for p, _, _ in entry_findings(entry, subagent=True)] == ["subagent"]
    assert [p for p, _, _ in entry_findings({**entry, "isSidechain": True})] == ["subagent"]


def test_a_value_under_a_key_naming_a_secret_is_checked() -> None:
    value = _sample(GENERIC_RULE)
    entry = {
        "type": "assistant",
        "message": {
            "content": [{"type": "tool_use", "input": {"db_password": value, "user": value}}]
        },
    }
    found = entry_findings(entry)
    assert [(p, path, f) for p, path, f in found] == [
        (
            "tool input",
            ("message", "content", 0, "input", "db_password"),
            Finding(GENERIC_RULE, "medium", 0, len(value)),
        )
    ]


def test_a_base64_image_block_is_not_scanned() -> None:
    data = decoys()["image"].split(",", 1)[1]
    entry = {
        "type": "user",
        "message": {
            "content": [
                {
                    "type": "image",
                    "source": {"type": "base64", "media_type": "image/png", "data": data},
                }
            ]
        },
    }
    assert entry_findings(entry) == []


def test_the_command_line_does_not_load_the_rules_to_start() -> None:
    code = (
        "import sys, claude_sessions.cli.app; print('claude_sessions.model.secrets' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
