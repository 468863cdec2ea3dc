"""Token figures from the CLI's own ``result`` usage, preferred over its transcript lines
(which under-record output tokens), and ``stats`` saying which figure came from where."""

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from claude_sessions import Session, SessionStore, query, resume
from claude_sessions.cli import cli
from claude_sessions.testing import Reply, ToolUse
from tests.older_store import undo_request_figures


def _prompt(usage: dict[str, Any]) -> int:
    """Everything the model read, as the store counts input: plain, cache writes, reads."""
    return (
        usage["input_tokens"]
        + usage.get("cache_creation_input_tokens", 0)
        + usage.get("cache_read_input_tokens", 0)
    )


def _of(messages: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [m for m in messages if m.get("type") == kind]


def _stats(location: str) -> dict[str, Any]:
    result = CliRunner().invoke(cli, ["stats", "--json", "--store", location])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)  # type: ignore[no-any-return]


@pytest.mark.e2e
def test_runs_of_the_real_cli_count_the_results_usage(fake_claude, store_location):
    tools = [ToolUse("Bash", {"command": "echo one"}), ToolUse("Bash", {"command": "echo two"})]
    fake_claude.set_script(
        [
            Reply("let me look", tool_use=tools, input_tokens=40, output_tokens=300),
            Reply("done", input_tokens=50, output_tokens=77),
            Reply("again", input_tokens=60, output_tokens=11),
        ]
    )
    with SessionStore(store_location) as store:
        first = list(query("look around", store=store))
        session_id = Session.extract_session_id(first)
        list(resume(session_id, "once more", store=store))
        raw = [m.to_dict() for m in store.load_session(session_id).messages]
        meta = store.get_metadata(session_id)

    results = [m["usage"] for m in _of(raw, "result")]
    lines = {m["message"]["id"]: m["message"]["usage"] for m in _of(raw, "assistant")}
    assert len(results) == 2
    expected_out = sum(usage["output_tokens"] for usage in results)
    # What the lines say is not what the runs cost: the reason the results win.
    assert expected_out != sum(usage["output_tokens"] for usage in lines.values())
    assert meta.output_tokens == expected_out
    assert meta.input_tokens == sum(_prompt(usage) for usage in results)

    stats = _stats(store_location)
    assert stats["figures_from"] == {"result": 1, "transcript": 0}
    assert stats["output_tokens"] == expected_out
    text = CliRunner().invoke(cli, ["stats", "--store", store_location]).output
    assert "1 session(s) from the CLI's own run totals, 0 from transcript lines" in text


def _assistant(message_id: str, input_tokens: int, output_tokens: int) -> dict[str, Any]:
    return {
        "type": "assistant",
        "session_id": "s1",
        "message": {
            "id": message_id,
            "role": "assistant",
            "model": "claude-sonnet-4-5-20250929",
            "content": [{"type": "text", "text": "ok"}],
            "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens},
        },
    }


def _result(usage: dict[str, Any]) -> dict[str, Any]:
    return {"type": "result", "subtype": "success", "session_id": "s1", "usage": usage}


def test_requests_no_result_counted_keep_their_lines(store):
    reported = {
        "input_tokens": 12,
        "cache_creation_input_tokens": 30,
        "cache_read_input_tokens": 500,
        "output_tokens": 900,
    }
    store.save_session("s1", [_assistant("m1", 12, 1), _result(reported)])
    # A later batch whose run reported no result (an imported line): its own figures.
    store.append_messages("s1", [_assistant("m2", 7, 4)])
    meta = store.get_metadata("s1")
    assert meta.output_tokens == 900 + 4
    assert meta.input_tokens == 12 + 30 + 500 + 7
    assert meta.cache_read_tokens == 500

    store.save_session("s2", [{**_assistant("m3", 5, 2), "session_id": "s2"}])
    found = store.usage()
    assert [bucket.result_figures_sessions for bucket in found] == [1]
    assert store.get_metadata("s2").output_tokens == 2


def test_a_result_in_a_later_batch_counts_the_requests_before_it(store):
    store.append_messages("s1", [_assistant("m1", 10, 1)])
    store.append_messages("s1", [_result({"input_tokens": 10, "output_tokens": 250})])
    meta = store.get_metadata("s1")
    assert (meta.input_tokens, meta.output_tokens) == (10, 250)


def _back_to_before_result_figures(location: str) -> None:
    """The store as the versions before it kept result figures left it (SQLite 10,
    PostgreSQL 6: what ``undo_request_figures`` takes out), with the lines' count."""
    if location.startswith("postgresql://"):
        import psycopg

        with psycopg.connect(location, autocommit=True) as conn:
            conn.execute("SET search_path TO claude_sessions")
            undo_request_figures(conn.execute, postgres=True)
            conn.execute("UPDATE sessions SET output_tokens = 1")
            conn.execute("UPDATE store_meta SET value = '6' WHERE key = 'schema_version'")
        return
    conn = sqlite3.connect(Path(location) / "sessions.db")
    undo_request_figures(conn.execute, postgres=False)
    conn.execute("UPDATE sessions SET output_tokens = 1")
    conn.execute("PRAGMA user_version = 10")
    conn.commit()
    conn.close()


def test_an_older_store_counts_its_runs_results_on_upgrade(store_location):
    location = store_location
    with SessionStore(location) as opened:
        opened.save_session(
            "s1", [_assistant("m1", 12, 1), _result({"input_tokens": 12, "output_tokens": 640})]
        )
    _back_to_before_result_figures(location)
    with SessionStore(location) as opened:
        assert opened.get_metadata("s1").output_tokens == 640
    assert _stats(location)["figures_from"] == {"result": 1, "transcript": 0}
