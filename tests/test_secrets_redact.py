"""Redaction: of one entry (pure), of stored sessions in place (``secrets redact``), and
at capture (``import --redact``, ``hooks capture --redact``, the store's policy); after
each, no byte of a planted secret is left in the database's files (SQLite: the file,
its log and the full-text index in it) or in ``pg_dump``'s output (PostgreSQL)."""

from __future__ import annotations

import io
import json
import subprocess
from pathlib import Path

import pytest

from claude_sessions.capture import hooks
from claude_sessions.importer import import_transcripts
from claude_sessions.model.redaction import redact_entry
from claude_sessions.store import (
    SessionStore,
    redact_stored,
    redaction_policy,
    set_redaction_policy,
    sqlite_path,
)
from claude_sessions.testing.postgres import find_bindir
from claude_sessions.views.secrets import scan_secrets

from .fixtures.secrets.transcripts import DECOYS, write_fixture_set
from .secrets_planted import (
    main_entries,
    needles,
    secrets,
    subagent_entries,
    write_transcripts,
)

SESSION = "5ec2e75e-0000-4000-8000-000000000025"
AGENT = "subagents/agent-a1"


def stored_bytes(location: str) -> bytes:
    """Everything the database keeps: SQLite's file with its log and shared memory,
    or PostgreSQL's ``pg_dump`` of the database."""
    if location.startswith("postgresql://"):
        url = location.split("?")[0]
        dump = subprocess.run(
            [str(find_bindir() / "pg_dump"), "--dbname", url],
            capture_output=True,
            check=True,
            timeout=120,
        )
        return dump.stdout
    path = sqlite_path(location)
    files = [path, Path(f"{path}-wal"), Path(f"{path}-shm")]
    assert path.exists()
    return b"".join(file.read_bytes() for file in files if file.exists())


def _pieces(value: str) -> list[bytes]:
    """What to look for: the value, or each line of one on several lines (a PEM key,
    whose line breaks JSON and a dump write escaped)."""
    lines = value.replace("\\n", "\n").split("\n")
    return [line.encode() for line in lines if len(line) >= 8]


def left(location: str, values: list[str] | None = None) -> list[str]:
    """The planted secrets (``values``, else this module's) of which a piece is still
    somewhere in the store."""
    data = stored_bytes(location)
    chosen = values if values is not None else [item.value for item in secrets()]
    return [value for value in chosen if any(p in data for p in _pieces(value))]


def save_planted(store: SessionStore) -> None:
    first = secrets()[0]
    store.save_session(SESSION, main_entries(SESSION), description=f"uses {first.text}")
    store.append_messages(SESSION, subagent_entries(SESSION), subpath=AGENT)


# -- one entry ----------------------------------------------------------------------------


def test_an_entry_keeps_its_structure_and_loses_every_secret():
    for entry in main_entries(SESSION):
        before = json.dumps(entry)
        redacted = redact_entry(entry)
        after = json.dumps(redacted.value)
        assert not [n for n in needles() if n.decode() in after]
        for key in ("uuid", "parentUuid", "type", "sessionId", "timestamp"):
            assert redacted.value.get(key) == entry.get(key)
        assert json.loads(after).keys() == entry.keys()
        if redacted.rules:
            assert all(f"[REDACTED:{rule}]" in after for rule in redacted.rules)
        assert json.dumps(entry) == before  # the entry given is not changed


def test_every_planted_rule_is_redacted_in_each_place():
    entries = main_entries(SESSION)
    rules = set()
    for entry in entries:
        rules |= redact_entry(entry).rules
    assert rules == {item.rule for item in secrets()}
    tool_use = entries[1]["message"]["content"][1]
    assert tool_use["input"]["command"] == secrets()[0].text  # the test's own entry unchanged
    redacted = redact_entry(entries[1]).value["message"]["content"][1]
    assert redacted["id"] == tool_use["id"] and redacted["name"] == "Bash"
    assert redacted["input"]["command"] == secrets()[0].text.replace(
        secrets()[0].value, f"[REDACTED:{secrets()[0].rule}]"
    )


def test_redacting_twice_changes_nothing():
    for entry in main_entries(SESSION):
        once = redact_entry(entry).value
        again = redact_entry(once)
        assert again.rules == frozenset() and again.value == once


def test_decoys_are_left_as_they_are():
    decoy_entry = main_entries(SESSION)[-2]
    assert redact_entry(decoy_entry).rules == frozenset()


# -- after the fact -----------------------------------------------------------------------


def test_redacting_every_session_leaves_no_byte_of_a_secret(store_location):
    store = SessionStore(store_location, cleanup_after_days=None)
    try:
        save_planted(store)
        assert len(left(store_location)) == len(secrets())  # the check can see them
        report = redact_stored(store, None)
        assert report.sessions_seen == 1 and report.scrubbed
        assert set(report.redacted[0].rules) == {item.rule for item in secrets()}
        assert left(store_location) == []
        meta = store.get_metadata(SESSION)
        assert meta is not None and meta.redacted_at is not None
        assert set(meta.redacted_rules) == {item.rule for item in secrets()}
        assert "[REDACTED:" in (meta.description or "")
        assert store.search(text="REDACTED")  # the full-text index holds the new text
        assert not store.search(text=secrets()[0].value)
    finally:
        store.close()
    assert left(store_location) == []


def test_a_redacted_session_keeps_its_lineage(store):
    save_planted(store)
    before = store.load_session(SESSION, subagents=True)
    redact_stored(store, [SESSION])
    after = store.load_session(SESSION, subagents=True)
    assert [m.to_dict().get("uuid") for m in after.messages] == [
        m.to_dict().get("uuid") for m in before.messages
    ]
    assert [m.to_dict().get("parentUuid") for m in after.messages] == [
        m.to_dict().get("parentUuid") for m in before.messages
    ]
    assert len(after.subagents[AGENT]) == len(before.subagents[AGENT])
    assert after.metadata.message_count == before.metadata.message_count
    assert after.metadata.first_prompt != before.metadata.first_prompt
    assert "[REDACTED:" in (after.metadata.first_prompt or "")


def test_a_session_without_secrets_is_not_marked(store):
    store.save_session(SESSION, [{"type": "user", "uuid": "u1", "message": {"content": "hi"}}])
    report = redact_stored(store, None)
    assert report.redacted == ()
    meta = store.get_metadata(SESSION)
    assert meta is not None and meta.redacted_at is None and meta.redacted_rules == ()


# -- at capture ---------------------------------------------------------------------------


def test_the_policy_is_kept_in_the_store(store):
    assert redaction_policy(store) is False
    set_redaction_policy(store, True)
    assert redaction_policy(store) is True
    set_redaction_policy(store, False)
    assert redaction_policy(store) is False


@pytest.mark.parametrize("how", ["option", "policy"])
def test_an_import_that_redacts_stores_no_byte_of_a_secret(store_location, tmp_path, how):
    write_transcripts(tmp_path / "projects", SESSION)
    with SessionStore(store_location, cleanup_after_days=None) as store:
        if how == "policy":
            set_redaction_policy(store, True)
        report = import_transcripts(store, [tmp_path / "projects"], redact=how == "option")
        assert report.entries_imported == len(main_entries(SESSION)) + 2
        assert report.redacted_lines > 0
        assert left(store_location) == []
        meta = store.get_metadata(SESSION)
        assert meta is not None and meta.redacted_at is not None
        assert set(meta.redacted_rules) == {item.rule for item in secrets()}
        subagents = store.load_session(SESSION, subagents=True).subagents
        assert "[REDACTED:" in json.dumps([m.to_dict() for m in subagents[AGENT]])


def test_an_import_without_redaction_keeps_the_text(tmp_path):
    write_transcripts(tmp_path / "projects", SESSION)
    location = str(tmp_path / "store")
    with SessionStore(location, cleanup_after_days=None) as store:
        import_transcripts(store, [tmp_path / "projects"])
    assert len(left(location)) == len(secrets())


def test_the_capture_hook_redacts_when_told(tmp_path, monkeypatch):
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path))
    transcript = write_transcripts(tmp_path / "projects", SESSION)
    location = str(tmp_path / "store")
    payload = {"hook_event_name": "Stop", "session_id": SESSION, "transcript_path": str(transcript)}
    line = hooks.capture(io.StringIO(json.dumps(payload)), location, redact=True)
    assert "error" not in line
    assert left(location) == []
    assert "--redact" in hooks.hook_command(location, redact=True)
    assert "--redact" not in hooks.hook_command(location)


def test_a_redacted_line_is_never_taken_again_from_the_file(tmp_path):
    """A reading process sends where each line's text is in the file, for the importer
    to take it from there: a redacted line's text is not the file's, so it is sent."""
    from claude_sessions.importer.reading import Job, read_job

    main = write_transcripts(tmp_path / "projects", SESSION)
    (read,) = read_job(0, Job(main, 0, redact=True), locate=True)
    batch = read.batch
    redacted = [i for i, line in enumerate(batch.lines) if "[REDACTED:" in line.text]
    assert redacted and all(batch.sizes[i] == -1 for i in redacted)
    assert all(batch.sizes[i] >= 0 for i in range(len(batch.lines)) if i not in redacted)
    assert batch.counts.redacted_lines == len(redacted)


# -- the planted-secrets fixture set ------------------------------------------------------


@pytest.mark.parametrize("how", ["redact --all", "redact-on-capture"])
def test_no_byte_of_the_fixture_set_s_secrets_is_left(store_location, tmp_path, how):
    placed = write_fixture_set(tmp_path)
    values = sorted({one.value for one in placed})
    with SessionStore(store_location, cleanup_after_days=None) as store:
        if how == "redact-on-capture":
            set_redaction_policy(store, True)
        import_transcripts(store, [tmp_path / "projects"])
        if how == "redact --all":
            assert len(left(store_location, values)) == len(values)  # the check sees them
            assert scan_secrets(store)  # findings kept, with their previews
            redact_stored(store, None)
        assert left(store_location, values) == []
        assert scan_secrets(store) == []  # a marker is no secret, not even in a URL
        assert redact_stored(store, None).redacted == ()  # a second time changes nothing
        for session_id in {one.session_id for one in placed}:
            meta = store.get_metadata(session_id)
            assert meta is not None and meta.redacted_at is not None
        decoys = store.get_metadata(DECOYS)
        assert decoys is not None and decoys.redacted_at is None
    assert left(store_location, values) == []
