"""``secrets scan`` over the planted-secrets fixture set, on both databases: every
planted secret found where it is, no decoy, findings kept, re-scans read only new
entries, the ``has_secrets`` filter, and an older store gaining the tables."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import claude_sessions.model.secrets as detection
from claude_sessions import SessionStore
from claude_sessions.cli import cli
from claude_sessions.importer import import_transcripts
from claude_sessions.model.filters import SessionFilter
from claude_sessions.views.secrets import scan_secrets, sessions_with_secrets
from tests.fixtures.secrets.transcripts import (
    DECOYS,
    PROMPTS,
    SUBAGENT,
    TOOL_RESULTS,
    Placed,
    write_fixture_set,
)
from tests.older_store import set_back, undo_tag_copies
from tests.secret_samples import planted
from tests.store_fixtures import BACKENDS


@pytest.fixture
def planted_store(store: SessionStore, tmp_path: Path) -> tuple[SessionStore, list[Placed]]:
    placed = write_fixture_set(tmp_path / "claude")
    import_transcripts(store, [tmp_path / "claude"])
    return store, placed


def _value(store: SessionStore, finding: Any) -> str:
    """The text a finding covers, read from the stored entry independently of the scan."""
    data = store.load_session(finding.session_id, subagents=True)
    transcript = data.messages if finding.subpath == "" else data.subagents[finding.subpath]
    node: Any = transcript[finding.seq].to_dict()
    for step in finding.json_path:
        node = node[step]
    return str(node)[finding.start : finding.end]


def _entry_uuids(store: SessionStore, session_id: str) -> set[str]:
    data = store.load_session(session_id, subagents=True)
    every = [*data.messages, *(m for ms in data.subagents.values() for m in ms)]
    return {m.to_dict()["uuid"] for m in every if "uuid" in m.to_dict()}


def test_scan_finds_every_planted_secret_and_no_decoy(planted_store):
    store, placed = planted_store
    found = scan_secrets(store)
    seen = {(f.session_id, f.entry_uuid, f.place, f.rule, _value(store, f)) for f in found}
    expected = {(p.session_id, p.entry_uuid, p.place, p.rule, p.value) for p in placed}
    assert seen == expected
    # a tool's output is kept twice by Claude Code (the block and toolUseResult)
    results = [f for f in found if f.session_id == TOOL_RESULTS]
    assert {f.json_path[0] for f in results} == {"message", "toolUseResult"}
    assert not {f.entry_uuid for f in found} & _entry_uuids(store, DECOYS)
    assert sessions_with_secrets(store, [PROMPTS, DECOYS, SUBAGENT]) == {PROMPTS, SUBAGENT}


def test_a_trashed_session_keeps_its_secrets_badge(planted_store):
    store, _placed = planted_store
    scan_secrets(store)
    store.delete_session(PROMPTS)  # to the trash
    assert sessions_with_secrets(store, [PROMPTS, DECOYS, SUBAGENT]) == {PROMPTS, SUBAGENT}


def test_the_badge_query_reads_no_session_it_was_not_asked_about(tmp_path):
    """The list page asks for its 50 sessions' badges: the query finds them by index,
    never reading every session (150 ms a page at 100,000 sessions)."""
    from claude_sessions.store.secret_findings import _with_secrets
    from claude_sessions.store.sqlite.dialect import SQLiteDialect
    from tests.store_samples import run

    with SessionStore(tmp_path, cleanup_after_days=None) as store:
        for n in range(200):
            store.save_session(f"s{n}", run(f"s{n}"))
    statement = next(_with_secrets(SQLiteDialect(), ["s1", "s2"]))
    with sqlite3.connect(tmp_path / "sessions.db") as db:
        db.execute("ANALYZE")  # the statistics a store that grew has
        plan = db.execute(f"EXPLAIN QUERY PLAN {statement.sql}", statement.params).fetchall()
    steps = [row[-1] for row in plan]
    assert not [step for step in steps if step.startswith("SCAN s")], steps


def test_findings_show_a_masked_preview_never_the_value(planted_store):
    store, _ = planted_store
    for finding in scan_secrets(store, [PROMPTS]):
        value = _value(store, finding)
        assert finding.preview == f"{value[:4]}… ({len(value)} chars)"
        assert value not in json.dumps(finding.to_dict())


def test_a_rescan_reads_only_entries_added_since(planted_store, monkeypatch):
    store, placed = planted_store
    first = scan_secrets(store)
    scanned: list[dict[str, Any]] = []
    real = detection.entry_findings

    def counting(entry: dict[str, Any], **kwargs: Any) -> Any:
        scanned.append(entry)
        return real(entry, **kwargs)

    monkeypatch.setattr(detection, "entry_findings", counting)
    assert scan_secrets(store) == first
    assert scanned == []
    token = next(p.value for p in placed if p.rule == "github-pat")
    added = {"type": "user", "uuid": "added-1", "message": {"role": "user", "content": token}}
    store.append_messages(PROMPTS, [added])
    again = scan_secrets(store)
    assert scanned == [added]
    new = [f for f in again if f not in first]
    assert [(f.entry_uuid, f.rule, _value(store, f)) for f in new] == [
        ("added-1", "github-pat", token)
    ]


def test_scan_of_named_sessions_by_prefix(planted_store):
    store, _ = planted_store
    found = scan_secrets(store, [PROMPTS[:10]])
    assert found and {f.session_id for f in found} == {PROMPTS}
    assert sessions_with_secrets(store, [TOOL_RESULTS]) == set()  # not scanned yet


def test_the_has_secrets_filter(planted_store):
    store, _ = planted_store
    assert store.search(has_secrets=True) == []  # nothing scanned: nothing known
    scan_secrets(store)
    listed = {m.session_id for m in store.search(SessionFilter(has_secrets=True))}
    everything = {m.session_id for m in store.search()}
    assert listed == everything - {DECOYS}
    assert DECOYS in everything


def test_a_deleted_session_takes_its_findings(planted_store):
    store, _ = planted_store
    scan_secrets(store)
    store.delete_session(PROMPTS, purge=True)
    assert {f.session_id for f in scan_secrets(store)} == {
        SUBAGENT,
        TOOL_RESULTS,
        "5ec00002-0000-4000-8000-000000000002",
    }


def test_secrets_scan_command(tmp_path):
    placed = write_fixture_set(tmp_path / "claude")
    where = tmp_path / "store"
    runner = CliRunner()
    done = runner.invoke(cli, ["import", str(tmp_path / "claude"), "--store", str(where)])
    assert done.exit_code == 0, done.output
    shown = runner.invoke(cli, ["secrets", "scan", PROMPTS[:8], "--json", "--store", str(where)])
    assert shown.exit_code == 0, shown.output
    rows = json.loads(shown.output)
    mine = [p for p in placed if p.session_id == PROMPTS]
    assert sorted((r["message_uuid"], r["where"], r["rule"]) for r in rows) == sorted(
        (p.entry_uuid, p.place, p.rule) for p in mine
    )
    assert {r["preview"] for r in rows} == {f"{p.value[:4]}… ({len(p.value)} chars)" for p in mine}
    text = runner.invoke(cli, ["secrets", "scan", "--store", str(where)])
    assert text.exit_code == 0, text.output
    for secret in placed:
        assert secret.value not in text.output and secret.value not in shown.output
    lines = text.output.splitlines()
    assert lines[-1] == f"{len(lines) - 1} secret(s) found in 4 session(s)."
    listed = runner.invoke(cli, ["list", "--has-secrets", "--json", "--store", str(where)])
    assert {s["session_id"] for s in json.loads(listed.output)} == {p.session_id for p in placed}


def _without_findings(run, postgres):
    undo_tag_copies(run, postgres=postgres)
    run("DROP TABLE secret_findings")
    run("DROP TABLE secret_scans")


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_older_store_gains_the_findings_tables(backend, request, tmp_path):
    if backend == "sqlite":
        location = str(tmp_path / "old")
    else:
        location = request.getfixturevalue("postgres_database")
    write_fixture_set(tmp_path / "claude")
    with SessionStore(location, cleanup_after_days=None) as store:
        import_transcripts(store, [tmp_path / "claude"])
    set_back(location, sqlite=13, postgres=9, undo=_without_findings)
    with SessionStore(location, cleanup_after_days=None) as store:
        assert {f.session_id for f in scan_secrets(store, [PROMPTS])} == {PROMPTS}
        assert [m.session_id for m in store.search(has_secrets=True)] == [PROMPTS]


def _badges(html: str) -> int:
    return html.count('class="badge secrets"')


def test_the_web_app_badges_and_filters_sessions_with_secrets(planted_store):
    from starlette.testclient import TestClient

    from claude_sessions.web import create_app

    store, _ = planted_store
    with TestClient(create_app(store)) as client:
        assert _badges(client.get("/").text) == 0  # nothing scanned yet
        scan_secrets(store)
        listing = client.get("/").text
        assert _badges(listing) == 4 and DECOYS in listing
        only = client.get("/?secrets=1").text
        assert _badges(only) == 4 and DECOYS not in only
        assert 'name="secrets" value="1" checked' in only
        assert _badges(client.get(f"/s/{PROMPTS}").text) == 1
        assert _badges(client.get(f"/s/{DECOYS}").text) == 0


def test_the_mcp_tools_take_has_secrets(planted_store):
    from claude_sessions.mcp.tools import filter_properties, list_sessions

    store, _ = planted_store
    assert filter_properties(words=False)["has_secrets"]["type"] == "boolean"
    scan_secrets(store)
    listed = list_sessions(store, {"has_secrets": True})
    assert PROMPTS in listed and SUBAGENT in listed and DECOYS not in listed


def test_a_read_only_store_lists_what_was_found_without_scanning(tmp_path):
    placed = write_fixture_set(tmp_path / "claude")
    where = tmp_path / "store"
    runner = CliRunner()
    runner.invoke(cli, ["import", str(tmp_path / "claude"), "--store", str(where)])
    args = ["--read-only", "secrets", "scan", PROMPTS[:8], "--json", "--store", str(where)]
    before = runner.invoke(cli, args)
    assert before.exit_code == 0, before.output
    assert json.loads(before.output) == []  # never scanned, and read-only scans nothing
    runner.invoke(cli, ["secrets", "scan", PROMPTS[:8], "--store", str(where)])
    after = runner.invoke(cli, args)
    assert len(json.loads(after.output)) == len([p for p in placed if p.session_id == PROMPTS])


def _prompt(key: str, text: str) -> dict[str, Any]:
    return {"type": "user", "uuid": key, "message": {"role": "user", "content": text}}


def test_a_rewritten_entry_is_scanned_again(store):
    token = next(p.value for p in planted() if p.rule == "github-pat")
    store.save_session("rewritten", [_prompt("a", "hello"), _prompt("b", f"use {token}")])
    assert [(f.entry_uuid, f.rule) for f in scan_secrets(store)] == [("b", "github-pat")]
    store.append_messages("rewritten", [_prompt("b", "use the token from the vault")])
    assert scan_secrets(store) == []  # the upsert replaced the entry holding it
    store.append_messages("rewritten", [_prompt("a", f"here: {token}")])
    assert [(f.entry_uuid, f.rule) for f in scan_secrets(store)] == [("a", "github-pat")]
    store.save_session("rewritten", [_prompt("c", "all new")])
    assert scan_secrets(store) == []  # saved again: its old entries are gone


def test_a_deleted_subagent_transcript_takes_its_findings(store):
    token = next(p.value for p in planted() if p.rule == "npm-access-token")
    store.save_session("parent", [_prompt("a", "delegate")])
    sub = "subagents/agent-x"
    store.append_messages("parent", [_prompt("s", token)], subpath=sub)
    assert [(f.place, f.subpath) for f in scan_secrets(store)] == [("subagent", sub)]
    project_key = store.get_metadata("parent").project_key
    store.run(store.core.sdk_delete("parent", project_key, sub))
    assert scan_secrets(store) == []
