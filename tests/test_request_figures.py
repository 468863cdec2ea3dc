"""Figures kept per API request: by model, each request is charged to its own model, and
cache writes (5-minute, 1-hour) and reads are given apart from plain input, on the real
fixtures (expected values from tests/transcript_ledger.py, which reads the raw lines)."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from claude_sessions import SessionStore
from claude_sessions.cli import cli
from claude_sessions.importer import import_transcripts
from claude_sessions.views.stats import compute_stats

from .older_store import undo_request_figures
from .transcript_ledger import Ledger, ModelTally, build_ledger

FIXTURES = Path(__file__).parent / "fixtures" / "transcripts"


@pytest.fixture(scope="module")
def ledger() -> Ledger:
    return build_ledger(FIXTURES, sdk=False)


def _import(store: SessionStore, tmp_path: Path) -> None:
    root = tmp_path / "config"
    shutil.copytree(FIXTURES / "projects", root / "projects")
    report = import_transcripts(store, [root])
    assert report.errors == []


def _check_bucket(bucket: dict[str, object], tally: ModelTally) -> None:
    """One model's bucket of ``stats --json`` against the ledger's count of its requests."""
    cached = tally.cache_write_5m + tally.cache_write_1h + tally.cache_read
    assert bucket["cost"] == pytest.approx(tally.cost, abs=1e-9), bucket["key"]
    assert bucket["turns"] == tally.requests
    assert bucket["uncached_input_tokens"] == tally.input
    assert bucket["input_tokens"] == tally.input + cached
    assert bucket["output_tokens"] == tally.output
    assert bucket["cache_write_5m_tokens"] == tally.cache_write_5m
    assert bucket["cache_write_1h_tokens"] == tally.cache_write_1h
    assert bucket["cache_write_tokens"] == tally.cache_write_5m + tally.cache_write_1h
    assert bucket["cache_read_tokens"] == tally.cache_read


def test_a_session_with_two_models_charges_each_request_to_its_own(ledger: Ledger) -> None:
    """The fixtures hold a session with Haiku requests inside an Opus session: the ledger
    sees both models there (what makes the test below mean something)."""
    mixed = [s for s in ledger.sessions.values() if len(s.by_model) > 1]
    assert mixed, "the fixtures hold a session with requests of two models"
    assert any("haiku" in model for session in mixed for model in session.by_model), (
        "a session with Haiku requests"
    )


def test_stats_by_model_and_cache_figures_match_the_raw_lines(
    store: SessionStore, tmp_path: Path, ledger: Ledger
) -> None:
    _import(store, tmp_path)
    found = compute_stats(store, by=("model",), top=0).to_dict()
    buckets = {bucket["key"]: bucket for bucket in found["by"]["model"]}
    expected = {model or "(none)": tally for model, tally in ledger.by_model.items()}
    assert set(buckets) == set(expected)
    for model, tally in expected.items():
        _check_bucket(buckets[model], tally)
    whole = ledger.all_models
    assert found["total_cost"] == pytest.approx(ledger.cost_total, abs=1e-9)
    assert found["cache_write_5m_tokens"] == whole.cache_write_5m
    assert found["cache_write_1h_tokens"] == whole.cache_write_1h
    assert found["cache_read_tokens"] == whole.cache_read
    assert found["uncached_input_tokens"] == whole.input
    assert found["output_tokens"] == whole.output


def test_each_session_keeps_its_cache_figures(
    store: SessionStore, tmp_path: Path, ledger: Ledger
) -> None:
    _import(store, tmp_path)
    for session in ledger.sessions.values():
        meta = store.get_metadata(session.session_id)
        assert meta is not None
        tallies = session.by_model.values()
        assert meta.cache_write_5m_tokens == sum(t.cache_write_5m for t in tallies)
        assert meta.cache_write_1h_tokens == sum(t.cache_write_1h for t in tallies)
        assert meta.cache_read_tokens == sum(t.cache_read for t in tallies)
        assert meta.uncached_input_tokens == sum(t.input for t in tallies)


def test_the_command_line_shows_cache_figures_apart(
    store_location: str, tmp_path: Path, ledger: Ledger
) -> None:
    with SessionStore(store_location, cleanup_after_days=None) as store:
        _import(store, tmp_path)
    runner = CliRunner()
    shown = runner.invoke(cli, ["stats", "--by", "model", "--json", "--store", store_location])
    assert shown.exit_code == 0, shown.output
    buckets = {b["key"]: b for b in json.loads(shown.output)["by"]["model"]}
    for model, tally in ledger.by_model.items():
        _check_bucket(buckets[model or "(none)"], tally)
    table = runner.invoke(cli, ["stats", "--by", "model", "--store", store_location])
    assert table.exit_code == 0, table.output
    whole = ledger.all_models
    assert f"{whole.cache_read:,} cache reads" in table.output
    assert f"{whole.cache_write_5m + whole.cache_write_1h:,} cache writes" in table.output
    assert "Cache write" in table.output and "Requests" in table.output


def _old_state(state: dict[str, Any]) -> dict[str, Any]:
    """A fold state as versions before kept it: four figures per request, no time."""
    old = {**state, "requests": {k: v[:4] for k, v in state.get("requests", {}).items()}}
    for part in ("sub", "side"):
        if state.get(part):
            old[part] = _old_state(state[part])
    return old


def _back_to_before_requests(location: str) -> None:
    """The store as the version before API requests were kept left it."""
    if location.startswith("postgresql://"):
        import psycopg

        with psycopg.connect(location, autocommit=True) as conn:
            conn.execute("SET search_path TO claude_sessions")
            undo_request_figures(conn.execute, postgres=True)
            _old_states(conn.execute, "%s")
            conn.execute("UPDATE store_meta SET value = '5' WHERE key = 'schema_version'")
        return
    db = sqlite3.connect(Path(location) / "sessions.db")
    try:
        undo_request_figures(db.execute, postgres=False)
        _old_states(db.execute, "?")
        db.execute("PRAGMA user_version = 9")
        db.commit()
    finally:
        db.close()


def _old_states(run: Any, mark: str) -> None:
    for ref, state in run("SELECT id, fold_state FROM sessions").fetchall():
        old = json.dumps(_old_state(json.loads(state)))
        run(f"UPDATE sessions SET fold_state = {mark} WHERE id = {mark}", (old, ref))


def test_an_older_store_keeps_its_requests_on_upgrade(
    store_location: str, tmp_path: Path, ledger: Ledger
) -> None:
    with SessionStore(store_location, cleanup_after_days=None) as store:
        _import(store, tmp_path)
    _back_to_before_requests(store_location)
    with SessionStore(store_location, cleanup_after_days=None) as store:
        found = compute_stats(store, by=("model",), top=0).to_dict()
    buckets = {bucket["key"]: bucket for bucket in found["by"]["model"]}
    for model, tally in ledger.by_model.items():
        _check_bucket(buckets[model or "(none)"], tally)


def test_a_copied_store_keeps_its_figures_by_model(
    tmp_path: Path, postgres_database: str, ledger: Ledger
) -> None:
    from claude_sessions.store.transfer import copy_store

    with SessionStore(tmp_path / "src", cleanup_after_days=None) as store:
        _import(store, tmp_path)
    there = copy_store(tmp_path / "src", postgres_database)
    assert there.ok, there.mismatches
    back = copy_store(postgres_database, str(tmp_path / "back"))
    assert back.ok and back.checksum == there.checksum
    for location in (postgres_database, str(tmp_path / "back")):
        with SessionStore(location, cleanup_after_days=None) as copy:
            found = compute_stats(copy, by=("model",), top=0).to_dict()
        buckets = {bucket["key"]: bucket for bucket in found["by"]["model"]}
        for model, tally in ledger.by_model.items():
            _check_bucket(buckets[model or "(none)"], tally)
        whole = ledger.all_models
        with SessionStore(location, cleanup_after_days=None) as copy:
            requests = copy.api_requests()
        assert len(requests) == whole.requests
        assert sum(r.cache_read_tokens for r in requests) == whole.cache_read
