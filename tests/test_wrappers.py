"""What Claude Code wraps around user text, read for a person in every face: a slash command
shown as typed, with its arguments and its output; system reminders folded and labelled;
never a raw wrapper in the chat, the exports or a title. On the real transcripts of
tests/fixtures/transcripts: ``tool_heavy`` (a ``/mcp`` command, its output, Read results
carrying a reminder), ``subagent`` (a skill command with arguments), claude-code-log's
``system_reminder`` (a reminder inside a prompt)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from claude_sessions import SessionStore
from claude_sessions.cli import cli
from claude_sessions.importer import import_transcripts
from claude_sessions.mcp.tools import available_tools, call_tool
from claude_sessions.views.render import EXTENSIONS
from claude_sessions.web import create_app

FIXTURES = Path(__file__).parent / "fixtures" / "transcripts" / "projects"
TOOL_HEAVY = "d6e0bada-1959-4eec-a9d2-0bfade768d8f"
SKILL_COMMAND = "491e126e-1e71-469c-ade2-fcc8af567c74"
# The raw wrappers, as text or as the web page's escaped text.
RAW = re.compile(r"(<|&lt;)(command-name|command-message|command-args|local-command-stdout|"
                 r"system-reminder)(>|&gt;)")  # fmt: skip
READ_REMINDER = "Whenever you read a file, you should consider whether it would be considered"


def _raw_lines(session_id: str) -> list[dict[str, object]]:
    path = next(FIXTURES.glob(f"*/{session_id}.jsonl"))
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _reminders_in_results(session_id: str) -> int:
    """How many tool results of the raw file end in a system reminder (counted by hand)."""
    found = 0
    for entry in _raw_lines(session_id):
        content = entry.get("message", {}).get("content") if entry.get("type") == "user" else None
        for block in content if isinstance(content, list) else []:
            if block.get("type") == "tool_result":
                found += json.dumps(block.get("content")).count("<system-reminder>")
    return found


@pytest.fixture
def imported(store: SessionStore) -> SessionStore:
    import_transcripts(store, [FIXTURES])
    return store


@pytest.fixture(scope="module")
def location(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SQLite store holding the fixtures, for the command line."""
    path = tmp_path_factory.mktemp("wrapped") / "store.db"
    with SessionStore(path, cleanup_after_days=None) as store:
        import_transcripts(store, [FIXTURES])
    return str(path)


def _cli(location: str, *args: str) -> str:
    result = CliRunner().invoke(cli, list(args), env={"CLAUDE_SESSIONS_STORE": location})
    assert result.exit_code == 0, result.output
    return result.output


def test_show_reads_a_slash_command_its_output_and_reminders(location: str) -> None:
    shown = _cli(location, "show", TOOL_HEAVY)
    assert not RAW.search(shown)
    command = shown.index("── User ──\n/mcp\n── Output ──\nReconnected to tidewave.")
    assert "MCP dialog dismissed" in shown[command : command + 200]  # its second output line
    assert shown.count(f"[system reminder: {READ_REMINDER}") == _reminders_in_results(TOOL_HEAVY)
    with_args = _cli(location, "show", SKILL_COMMAND)
    assert (
        "── User ──\n/handgemacht:create-beads websearch to learn how to fastest setup credo"
        in with_args
    )


@pytest.mark.parametrize("fmt", ["markdown", "html"])
def test_exports_show_no_raw_wrapper(location: str, fmt: str, tmp_path: Path) -> None:
    _cli(location, "export", "--all", "--format", fmt, "--output", str(tmp_path))
    for path in tmp_path.iterdir():
        assert not RAW.search(path.read_text(encoding="utf-8")), path.name
    page = (tmp_path / f"{TOOL_HEAVY}.{EXTENSIONS[fmt]}").read_text(encoding="utf-8")
    reminders = _reminders_in_results(TOOL_HEAVY)
    if fmt == "html":
        assert '<div class="command"><code>/mcp</code></div>' in page  # as the web page has it
        folded = re.findall(r'<details class="reminder">\s*<summary>System reminder', page)
        assert len(folded) == reminders
    else:
        assert "` /mcp `\n\n**Output**\n\n```\nReconnected to tidewave." in page
        assert page.count("<details><summary>System reminder</summary>") == reminders


def test_a_reminder_inside_a_prompt_is_set_apart(location: str) -> None:
    shown = _cli(location, "show", "system_reminder")
    assert (
        "── User ──\nPlease review the change.\n"
        "[system reminder: cwd changed to /tmp/project via /cd.]\n"
        "# Project notes\nThe tail content still renders as user text."
    ) in shown
    assert "── User ──\n[system reminder: cwd changed to /tmp/other via /cd]" in shown


def test_the_session_page_shows_commands_output_and_folded_reminders(
    imported: SessionStore,
) -> None:
    client = TestClient(create_app(imported))
    html = client.get(f"/s/{TOOL_HEAVY}").text
    assert not RAW.search(html)
    command = html.index('<div class="command"><code>/mcp</code></div>')
    output = html.index('<pre class="output">Reconnected to tidewave.\nMCP dialog dismissed</pre>')
    assert command < output < html.index("</article>", command)
    folded = re.findall(r'<details class="reminder">\s*<summary>System reminder', html)
    assert len(folded) == _reminders_in_results(TOOL_HEAVY)
    prompt = client.get("/s/system_reminder").text
    assert '<div class="text plain">Please review the change.</div>' in prompt
    assert "<h1>Please review the change. # Project notes" in prompt


def test_mcp_reads_the_command_and_folds_reminders(imported: SessionStore) -> None:
    outcome = call_tool(imported, "get_session", {"session_id": TOOL_HEAVY}, available_tools())
    assert not outcome.is_error and not re.search(r"<command-|<local-command", outcome.text)
    assert "` /mcp `" in outcome.text
    assert outcome.text.count("<summary>System reminder</summary>") >= 1


def test_titles_show_no_wrapper(location: str) -> None:
    listed = _cli(location, "list", "--json")
    titles = {m["session_id"]: m["first_prompt"] for m in json.loads(listed)}
    assert titles["fa812bfe-b295-4cca-9c2f-fdf01028cb46"] == "continue until all are done"
    assert not any(RAW.search(title or "") for title in titles.values())
    table = _cli(location, "list")
    assert "continue until all are done" in table and "task-notification" not in table


def test_a_local_command_s_colours_are_left_out(tmp_path: Path) -> None:
    """The compaction's output in a real file (spotter's ae4a77f8, line 1485) is coloured."""
    from claude_sessions.views.conversation import build_conversation

    entries = [
        {"type": "user", "message": {"content": "<command-name>/compact</command-name>\n"
            "            <command-message>compact</command-message>\n"
            "            <command-args>and continue with the reamining tasks</command-args>"}},
        {"type": "user", "message": {"content": "<local-command-stdout>\x1b[2mCompacted "
            "(ctrl+o to see full summary)\x1b[22m\n\x1b[2mPreCompact [bd prime] completed "
            "successfully\x1b[22m</local-command-stdout>"}},
    ]  # fmt: skip
    (turn,) = build_conversation(entries).turns
    (command,) = turn.blocks
    assert command.kind == "command" and command.result is not None
    assert command.text == "/compact and continue with the reamining tasks"
    assert command.result.text == (
        "Compacted (ctrl+o to see full summary)\nPreCompact [bd prime] completed successfully"
    )


@pytest.mark.e2e
def test_commands_the_cli_writes(fake_claude: object, tmp_path: Path) -> None:
    """The bundled CLI runs a custom slash command with arguments, then a local command
    (``/usage``, whose output newer versions write as a ``system`` entry)."""
    from claude_sessions import Session, query, resume
    from claude_sessions.importer import default_projects_dir

    commands = Path.cwd() / ".claude" / "commands"
    commands.mkdir(parents=True)
    (commands / "orchestrator.md").write_text("Plan and build: $ARGUMENTS\n")
    fake_claude.set_script(["Planned the TODO app."])  # type: ignore[attr-defined]
    with SessionStore(tmp_path / "saved.db", cleanup_after_days=None) as saved:
        typed = "/orchestrator create TODO app by Next.js"
        session_id = Session.extract_session_id(list(query(typed, store=saved)))
        assert session_id is not None
        list(resume(session_id, "/usage"))
        assert saved.get_metadata(session_id).first_prompt == typed  # from the stream
    location = str(tmp_path / "imported.db")
    with SessionStore(location, cleanup_after_days=None) as store:
        import_transcripts(store, [default_projects_dir()])
        assert store.get_metadata(session_id).first_prompt == typed
    shown = _cli(location, "show", session_id)
    assert not RAW.search(shown)
    assert f"── User ──\n{typed}\n\n── Assistant" in shown
    assert "── User ──\n/usage\n── Output ──\nEstimated cost:" in shown
    assert "Plan and build" not in shown  # the command's expansion is Claude Code's, not shown
