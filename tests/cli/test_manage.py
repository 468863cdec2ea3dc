"""tag, describe, delete, cleanup and import through click's CliRunner."""

from __future__ import annotations

import pytest

from claude_sessions.cli.common import parse_age, parse_when

from ..transcript_samples import conversation, project_dir, sid, write
from .samples import add_session, as_json


def test_tag_add_and_remove(ids, invoke, store):
    result = invoke("tag", ids["root"][:8], "+new", "-parser", "plain")
    assert result.exit_code == 0, result.output
    assert store.get_metadata(ids["root"]).tags == ("new", "plain", "work")
    assert "new, plain, work" in result.stdout
    shown = as_json(invoke("tag", ids["root"][:8], "--json"))
    assert shown == {"session_id": ids["root"], "tags": ["new", "plain", "work"]}


@pytest.mark.parametrize("args", [["+"], ["-"], ["+  "]])
def test_tag_rejects_empty_tags(ids, invoke, args):
    assert invoke("tag", ids["root"][:8], *args).exit_code == 2


def test_tag_unknown_session(invoke):
    result = invoke("tag", "feedbeef", "+x")
    assert result.exit_code == 2 and result.stderr.startswith("Error:")


def test_describe(ids, invoke, store):
    result = invoke("describe", ids["fork1"][:8], "Recursive descent attempt")
    assert result.exit_code == 0
    assert store.get_metadata(ids["fork1"]).description == "Recursive descent attempt"
    cleared = as_json(invoke("describe", ids["fork1"][:8], "", "--json"))
    assert cleared["description"] is None
    assert invoke("describe", "0000000", "x").exit_code == 2  # ambiguous


def test_delete_moves_to_the_trash_and_purge_asks_first(ids, invoke, store):
    moved = invoke("delete", ids["fork2"][:8])
    assert moved.exit_code == 0 and "trash" in moved.stdout
    assert store.get_metadata(ids["fork2"]) is None
    assert [m.session_id for m in store.list_trash()] == [ids["fork2"]]
    refused = invoke("delete", ids["fork1"][:8], "--purge", stdin="n\n")
    assert refused.exit_code == 1 and store.get_metadata(ids["fork1"]) is not None
    done = as_json(invoke("delete", ids["fork1"], "--purge", "--yes", "--json"))
    assert done == {"session_id": ids["fork1"], "deleted": True, "purged": True}
    assert ids["fork1"] not in {m.session_id for m in store.list_trash()}  # gone for good
    assert invoke("delete", ids["fork1"], "--yes").exit_code == 2  # unknown now


def test_trash_list_restore_empty(ids, invoke, store):
    store.delete_session(ids["fork1"])
    store.delete_session(ids["fork2"])
    listed = as_json(invoke("trash", "list", "--json"))
    assert {s["session_id"] for s in listed} == {ids["fork1"], ids["fork2"]}
    assert all(s["trashed_at"] for s in listed)
    restored = invoke("trash", "restore", ids["fork1"][:8])
    assert restored.exit_code == 0, restored.output
    assert store.get_metadata(ids["fork1"]) is not None
    assert invoke("trash", "restore", ids["fork1"][:8]).exit_code == 2  # not in the trash now
    assert as_json(invoke("trash", "empty", "--older-than", "1d", "--yes", "--json")) == {
        "deleted": 0
    }
    refused = invoke("trash", "empty", stdin="n\n")
    assert refused.exit_code == 1 and len(store.list_trash()) == 1
    assert invoke("trash", "empty", "--yes").stdout.strip() == "Deleted 1 session(s) for good."
    assert store.list_trash() == []


def test_cleanup_dry_run_then_for_real(ids, invoke, store):
    add_session(store, 0x30, ["kept forever"], tags=("keep",))
    preview = as_json(invoke("cleanup", "--older-than", "30d", "--dry-run", "--json"))
    assert {s["session_id"] for s in preview["sessions"]} == set(ids.values())
    text = invoke("cleanup", "--older-than", "30d", "--dry-run")
    assert "Would move 4" in text.output
    assert len(store.list_sessions()) == 5
    assert as_json(invoke("cleanup", "--older-than", "100000d", "--json"))["trashed"] == 0
    assert invoke("cleanup", "--older-than", "4w").stdout.startswith("Moved 4 session(s)")
    assert [m.session_id for m in store.list_sessions()] == [sid(0x30)]  # tagged keep
    assert {m.session_id for m in store.list_trash()} == set(ids.values())


def test_cleanup_bad_age(invoke):
    result = invoke("cleanup", "--older-than", "soon")
    assert result.exit_code == 2 and "not an age" in result.output


def test_import_command(invoke, store, tmp_path):
    root = tmp_path / "config"
    write(project_dir(root) / f"{sid(1)}.jsonl", conversation(sid(1), ["hello"]))
    path = project_dir(root) / f"{sid(2)}.jsonl"
    write(path, conversation(sid(2), ["world"]), extra=b"{broken\n")
    result = invoke("import", str(root))
    assert result.exit_code == 0, result.output
    assert "Sessions: 2 new, 0 updated, 0 unchanged." in result.stdout
    assert "Skipped 1 unreadable line" in result.stdout
    assert len(store.list_sessions()) == 2
    again = as_json(invoke("import", str(root), "--json"))
    assert again["files_unchanged"] == 2 and again["entries_imported"] == 0


def test_import_default_root_from_claude_config_dir(invoke, store, tmp_path, monkeypatch):
    root = tmp_path / "config"
    write(project_dir(root) / f"{sid(1)}.jsonl", conversation(sid(1), ["hello"]))
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(root))
    assert as_json(invoke("import", "--json"))["sessions_new"] == 1


def test_import_missing_path(invoke, tmp_path):
    assert invoke("import", str(tmp_path / "missing")).exit_code == 2


def test_parse_age_and_when():
    assert parse_age("30d").days == 30
    assert parse_age("12h").total_seconds() == 12 * 3600
    assert parse_age("2w").days == 14
    assert parse_age("1.5").total_seconds() == 1.5 * 86400
    with pytest.raises(ValueError, match="not an age"):
        parse_age("-3d")
    from datetime import date, datetime, timezone

    now = datetime(2026, 5, 10, tzinfo=timezone.utc)
    assert parse_when("2026-01-31") == date(2026, 1, 31)
    assert parse_when("7d", now=now) == datetime(2026, 5, 3, tzinfo=timezone.utc)
    assert parse_when("2026-01-31T12:00:00Z") == datetime(2026, 1, 31, 12, tzinfo=timezone.utc)
    assert parse_when("2026-01-31T12:00").tzinfo == timezone.utc
    with pytest.raises(ValueError, match="not a date"):
        parse_when("last tuesday")
