"""``copy_store`` and ``claude-sessions copy``: SQLite -> PostgreSQL -> SQLite, losslessly."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from claude_sessions import SessionStore, StoreError
from claude_sessions.cli import cli
from claude_sessions.store import transfer
from claude_sessions.store.transfer import CopyReport, copy_store

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
