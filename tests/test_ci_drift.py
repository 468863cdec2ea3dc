"""CI's drift check names what moved from the lock, and which tests failed against it."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def load_drift():
    spec = importlib.util.spec_from_file_location("ci_drift", ROOT / ".ci" / "drift.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_lock_pins_every_package_the_test_environment_installs():
    drift = load_drift()
    locked = drift.pins((ROOT / "constraints.txt").read_text())
    for name in ("claude-agent-sdk", "mcp", "starlette", "psycopg", "pytest", "click"):
        assert name in locked, name
    assert all(version and version[0].isdigit() for version in locked.values())


def test_moves_name_each_package_and_both_versions():
    drift = load_drift()
    locked = drift.pins("# a comment\nclaude-agent-sdk==0.2.190\nStarlette==1.10.0\nold_one==1\n")
    newest = drift.pins("claude_agent_sdk==0.2.191\nstarlette==1.10.0\nnew-one==2.0\n")
    assert drift.moves(locked, newest) == [
        "claude-agent-sdk 0.2.190 -> 0.2.191",
        "new-one (not in the lock) 2.0",
        "old-one 1 (no longer installed)",
    ]
    assert drift.moves(locked, locked) == []


def test_failures_are_read_from_the_junit_report(tmp_path):
    drift = load_drift()
    report = tmp_path / "report.xml"
    report.write_text(
        '<testsuites><testsuite name="pytest">'
        '<testcase classname="tests.test_a" name="test_ok"/>'
        '<testcase classname="tests.test_a" name="test_bad"><failure message="x"/></testcase>'
        '<testcase classname="tests.test_b" name="test_broken"><error message="y"/></testcase>'
        '<testcase classname="tests.test_b" name="test_skipped"><skipped/></testcase>'
        "</testsuite></testsuites>"
    )
    assert drift.failures(report) == ["tests.test_a::test_bad", "tests.test_b::test_broken"]
    assert drift.failures(tmp_path / "missing.xml") == []


def test_the_tests_run_again_only_when_a_release_moved():
    drift = load_drift()
    assert not drift.drifted([], "2.1.0", "2.1.0")
    assert drift.drifted(["mcp 2.3.0 -> 2.4.0"], "2.1.0", "2.1.0")
    assert drift.drifted([], "2.1.0", "2.1.1")  # a newer wheel bundling another CLI
