"""``copy_store`` and ``claude-sessions copy``: SQLite -> PostgreSQL -> SQLite, losslessly."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from claude_sessions import SessionStore, StoreError
from claude_sessions.cli import cli
from claude_sessions.model.identity import USER_ENV_VAR
from claude_sessions.store import transfer
from claude_sessions.store.auth import signed_in_user, start_sign_in
from claude_sessions.store.redacting import redaction_policy, set_redaction_policy
from claude_sessions.store.transfer import CopyReport, copy_store
from claude_sessions.store.users import add_user, list_users, verify_token
from claude_sessions.store.visibility import audit_log, set_share_by_default, share_session
from claude_sessions.views.budgets import read_budgets, set_budgets

from .store_fixtures import FakeClock
from .store_samples import run, transcript

pytestmark = pytest.mark.postgres

ODD = [
    {"type": "odd", "text": "nul \x00 inside", "big": 1.7976931348623157e308, "neg": -0.0},
    {"type": "odd", "text": "lone \ud800 surrogate", "nested": {"b": 1, "a": [1.5, None]}},
]


def fill(location: str | Path, clock: FakeClock) -> SessionStore:
    """A store with every kind of session the store can hold."""
    store = SessionStore(location, cleanup_after_days=None, clock=clock)
    store.save_session(
        "s-1", run("s-1", text="GraphQL schema"), tags=["b", "a"], description="first one"
    )
    clock.advance(hours=1)
    store.save_session("s-2", [*run("s-2"), *ODD], project="/elsewhere/proj")
    clock.advance(hours=1)
    store.record_run("s-3", run("s-3"), forked_from="s-1", tags=["fork"])
    store.save_session("café-ü-日本", run("café-ü-日本", text="unicode id"))
    sdk = store.sdk_store()
    key = {"project_key": "-home-u-proj", "session_id": "mirrored"}
    entries = transcript("mirrored")
    tag_entry = {"type": "tag", "tag": "from-cli", "sessionId": "mirrored", "uuid": "tag-1"}

    async def mirror() -> None:
        await sdk.append(key, [*entries, tag_entry])
        await sdk.append({**key, "subpath": "subagents/agent-7"}, [{"type": "user", "n": 1}])
        # The same session id under a second project key is a second session.
        await sdk.append({"project_key": "-other", "session_id": "mirrored"}, entries[:2])

    asyncio.run(mirror())
    store.add_tags("mirrored", ["user-tag"])
    return store


def snapshot(store: SessionStore) -> dict[str, object]:
    """Everything observable through the public API (and the SDK adapter)."""
    sdk = store.sdk_store()
    sessions = {}
    for meta in store.list_sessions():
        key = {"project_key": meta.project_key, "session_id": meta.session_id}
        sessions[(meta.session_id, meta.project_key)] = (
            meta,
            asyncio.run(sdk.load(key)),
            asyncio.run(sdk.list_subkeys(key)),
        )
    return {
        "sessions": sessions,
        "summaries": sorted(
            json.dumps(s, sort_keys=True)
            for s in asyncio.run(sdk.list_session_summaries("-home-u-proj"))
        ),
        "search": {m.session_id for m in store.search(text="graphql OR unicode")},  # ranks differ
    }


def test_sqlite_to_postgresql_and_back_is_lossless(
    tmp_path: Path, postgres_database: str, fake_clock: FakeClock
) -> None:
    source = fill(tmp_path / "src", fake_clock)
    before = snapshot(source)
    assert len(before["sessions"]) == 6  # type: ignore[arg-type]
    source.close()

    there = copy_store(tmp_path / "src", postgres_database)
    assert isinstance(there, CopyReport)
    assert there.ok and there.sessions == 6 and there.verified == 6 and not there.mismatches
    assert there.entries == 3 + 5 + 3 + 3 + (6 + 1) + 2
    back = copy_store(postgres_database, str(tmp_path / "back"))
    assert back.ok and back.sessions == 6
    assert back.checksum == there.checksum  # the same content at every step

    for location in (postgres_database, str(tmp_path / "back")):
        with SessionStore(location, cleanup_after_days=None, clock=fake_clock) as copy:
            assert snapshot(copy) == before
            # Tag origins survived: a new CLI tag replaces the CLI's, not the user's.
            copy.append_messages(
                "mirrored",
                [{"type": "tag", "tag": "renamed", "sessionId": "mirrored", "uuid": "tag-2"}],
                project_key="-home-u-proj",
            )
            meta = copy.get_metadata("mirrored")
            assert meta is not None and meta.tags == ("renamed", "user-tag")


def test_migrating_again_replaces_instead_of_duplicating(
    tmp_path: Path, postgres_database: str, fake_clock: FakeClock
) -> None:
    fill(tmp_path / "src", fake_clock).close()
    first = copy_store(str(tmp_path / "src"), postgres_database)
    second = copy_store(str(tmp_path / "src"), postgres_database)
    assert first.ok and second.ok and second.checksum == first.checksum
    with SessionStore(postgres_database, cleanup_after_days=None) as copy:
        assert len(copy.list_sessions()) == 6


def test_a_bad_copy_is_reported(
    tmp_path: Path,
    postgres_database: str,
    fake_clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fill(tmp_path / "src", fake_clock).close()
    real_import = transfer._import

    def lossy(d, record):
        if record["session_id"] == "s-2":
            record = {**record, "entries": record["entries"][:-1]}
        return real_import(d, record)

    monkeypatch.setattr(transfer, "_import", lossy)
    report = copy_store(str(tmp_path / "src"), postgres_database)
    assert not report.ok
    assert report.mismatches == ["s-2 (-elsewhere-proj)"]
    result = CliRunner().invoke(
        cli, ["copy", "--from", str(tmp_path / "src"), "--to", postgres_database]
    )
    assert result.exit_code == 1
    assert "MISMATCHED" in result.output


def test_same_store_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="same store"):
        copy_store(str(tmp_path / "one"), str(tmp_path / "one"))


def test_cli_copy(tmp_path: Path, postgres_database: str, fake_clock: FakeClock) -> None:
    fill(tmp_path / "src", fake_clock).close()
    runner = CliRunner()
    result = runner.invoke(
        cli, ["copy", "--from", str(tmp_path / "src"), "--to", postgres_database]
    )
    assert result.exit_code == 0, result.output
    assert "copied 6 sessions" in result.output and "6 verified" in result.output
    with SessionStore(tmp_path / "src", cleanup_after_days=None) as source:
        assert len(source.list_sessions()) == 6  # old sessions were copied, not cleaned up
    password = postgres_database.split(":")[2].split("@")[0]
    assert password not in result.output
    result = runner.invoke(
        cli,
        ["copy", "--from", postgres_database, "--to", str(tmp_path / "back"), "--json"],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["ok"] is True and data["sessions"] == 6 and data["verified"] == 6
    bad = runner.invoke(cli, ["copy", "--from", str(tmp_path / "src")])
    assert bad.exit_code == 2
    missing = runner.invoke(
        cli, ["copy", "--from", str(tmp_path / "nothing"), "--to", str(tmp_path / "x")]
    )
    assert missing.exit_code == 2 and "no store at" in missing.output
    assert not (tmp_path / "nothing").exists() and not (tmp_path / "x").exists()


def test_a_team_keeps_its_users_sign_ins_budgets_policy_and_audit_log(
    tmp_path: Path, postgres_database: str, fake_clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(USER_ENV_VAR, "alice")
    source = fill(tmp_path / "src", fake_clock)
    alice, alice_token = add_user(source, "alice", admin=True)
    _, bob_token = add_user(source, "bob")
    set_share_by_default(source, "bob", True)
    cookie = start_sign_in(source, alice)
    assert cookie is not None
    set_budgets(source, daily=5.0, monthly=120.0)
    set_redaction_policy(source, True)
    share_session(source, "s-1")
    share_session(source, "s-1", on=False)
    logged = [(e.actor, e.action, e.session_id) for e in audit_log(source)]
    assert logged[-2:] == [("alice", "share", "s-1"), ("alice", "unshare", "s-1")]
    source.close()

    for _ in range(2):  # copying again adds no second audit line and changes nothing
        there = copy_store(tmp_path / "src", postgres_database)
        assert there.ok and there.users == 2
    back = copy_store(postgres_database, tmp_path / "back")
    assert back.ok and back.users == 2

    for location in (postgres_database, str(tmp_path / "back")):
        with SessionStore(location, cleanup_after_days=None, clock=fake_clock) as copy:
            users = {u.name: u for u in list_users(copy)}
            assert users["alice"].admin and not users["bob"].admin
            assert verify_token(copy, alice_token) == users["alice"]
            assert verify_token(copy, bob_token) == users["bob"]
            assert verify_token(copy, alice_token[:-1] + "x") is None
            assert signed_in_user(copy, cookie) == users["alice"]
            budgets = read_budgets(copy)
            assert (budgets.daily, budgets.monthly, budgets.block) == (5.0, 120.0, None)
            assert redaction_policy(copy) is True
            found = [(e.actor, e.action, e.session_id) for e in audit_log(copy)]
            assert found == logged, (location, audit_log(copy))
            monkeypatch.setenv(USER_ENV_VAR, "bob")
            assert copy.save_session("s-bob", run("s-bob")).shared  # his default came along
            monkeypatch.setenv(USER_ENV_VAR, "alice")


def test_a_lost_user_is_reported(
    tmp_path: Path, postgres_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with SessionStore(tmp_path / "src", cleanup_after_days=None) as source:
        add_user(source, "alice")
    real_import = transfer.import_records

    def lossy(d, records):
        return real_import(d, {**records, "users": []})

    monkeypatch.setattr(transfer, "import_records", lossy)
    report = copy_store(tmp_path / "src", postgres_database)
    assert not report.ok and report.mismatches == ["1 users row(s) not copied"]
