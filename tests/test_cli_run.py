"""query/continue/resume/fork: argument handling (no CLI run needed for these)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from claude_sessions.cli import cli
from claude_sessions.cli.run import read_prompt


@pytest.fixture
def runner():
    return CliRunner()


def test_query_needs_a_prompt(runner, tmp_path):
    result = runner.invoke(cli, ["query"], input="")
    assert result.exit_code == 2 and "no prompt" in result.output


def test_query_dash_with_empty_stdin(runner):
    assert runner.invoke(cli, ["query", "-"], input="   \n").exit_code == 2


def test_tags_need_save(runner, tmp_path):
    result = runner.invoke(cli, ["query", "hello", "--tag", "x"], input="")
    assert result.exit_code == 2 and "--save" in result.output


def test_max_turns_must_be_positive(runner):
    assert runner.invoke(cli, ["query", "hi", "--max-turns", "0"]).exit_code == 2


@pytest.mark.parametrize("seconds", ["0", "-1", "soon"])
def test_timeout_must_be_a_positive_number(runner, seconds):
    assert runner.invoke(cli, ["query", "hi", "--timeout", seconds]).exit_code == 2


def test_cwd_must_exist(runner, tmp_path):
    assert runner.invoke(cli, ["query", "hi", "--cwd", str(tmp_path / "nope")]).exit_code == 2


def test_resume_ambiguous_prefix_exits_2(runner, store_location):
    from claude_sessions import SessionStore

    from .cli.samples import populate

    with SessionStore(store_location, cleanup_after_days=None) as store:
        populate(store)
    # The samples are months old: keep automatic cleanup away from them.
    result = runner.invoke(
        cli,
        ["resume", "0000000", "hi", "--store", store_location],
        input="",
        env={"CLAUDE_SESSIONS_CLEANUP_DAYS": "never"},
    )
    assert result.exit_code == 2 and "ambiguous" in result.stderr


def test_read_prompt(monkeypatch):
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO("from stdin\n"))
    assert read_prompt(None, required=True) == "from stdin"
    monkeypatch.setattr("sys.stdin", io.StringIO("piped"))
    assert read_prompt("-", required=False) == "piped"
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert read_prompt(None, required=False) is None
    assert read_prompt("given", required=True) == "given"


def test_help_lists_every_command(runner):
    result = runner.invoke(cli, ["--help"])
    for name in (
        "query",
        "continue",
        "resume",
        "fork",
        "list",
        "search",
        "show",
        "export",
        "tag",
        "describe",
        "delete",
        "cleanup",
        "stats",
        "tree",
        "import",
        "path",
    ):
        assert f"  {name} " in result.output
