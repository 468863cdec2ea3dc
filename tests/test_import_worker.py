"""A large import reads in a second process: the store it leaves is the one a plain import
leaves, whatever the lines, and the process never outlives the import."""

from __future__ import annotations

import json
import logging
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from claude_sessions import SessionStore
from claude_sessions.importer import (
    ImportProgress,
    ImportReport,
    import_transcripts,
    importing,
    reading,
    worker,
)

from .transcript_samples import conversation, fork_of, project_dir, sid, write


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


@pytest.fixture
def every_kind_of_line(tmp_path: Path) -> Path:
    """Transcripts with what real ones hold and what breaks readers."""
    root = tmp_path / "claude"
    projects = project_dir(root)
    origin = conversation(sid(1), ["Design a REST API", "Add auth"], title="API", with_tool=True)
    write(projects / f"{sid(1)}.jsonl", origin)
    write(projects / f"{sid(2)}.jsonl", fork_of(origin, sid(1), sid(2), "Use GraphQL"))
    agent = conversation(sid(1), ["sub task"], start=200)
    write(projects / sid(1) / "subagents" / "workflows" / "w1" / "agent-a1.jsonl", agent)
    odd = conversation(sid(3), [f"prompt {n}" for n in range(40)])
    odd.insert(5, dict(odd[3]))  # the same line twice
    conflict = dict(odd[8])
    conflict["message"] = {"role": "user", "content": "same uuid, other words"}
    odd.insert(9, conflict)
    odd[20]["message"] = {"role": "user", "content": "caf\u00e9 \u2615 \U0001f600 \u2192 done"}
    lines = [json.dumps(entry, ensure_ascii=False) for entry in odd]
    lines[21] = "  \t" + lines[21]  # indented: its text is not the line's first bytes
    lines.append(lines[4])  # a line with a uuid again, the same: a duplicate
    lines[12:12] = [
        "not json at all",
        "[1, 2, 3]",
        '{"type": "user", "n": NaN}',
        '{"type": "x", "deep": ' + "[" * 300 + "]" * 300 + "}",
        '{"type": "future-kind", "big": 123456789012345678901234567890}',
        "",
        "   ",
    ]
    text = "\n".join(lines) + "\n"
    big = {"type": "user", "uuid": "big-1", "message": {"role": "user", "content": "x" * 3_000_000}}
    text += json.dumps(big) + "\n"
    data = text.encode() + b'{"type":"user","uuid":"bad-utf8","message":"caf\xe9"}\n'
    data += b'{"type": "user", "uuid": "cut-off", "mess'  # the CLI is still writing it
    (projects / f"{sid(3)}.jsonl").write_bytes(data)
    return root


def contents(store: SessionStore) -> dict[str, Any]:
    """Everything an import decides, without the times of the import itself, and each
    entry's text exactly as stored."""
    found: dict[str, Any] = {}
    for meta in store.list_sessions():
        data = store.load_session(meta.session_id)
        record = meta.to_dict()
        record.pop("updated_at" if meta.turns == 0 else "mtime", None)
        found[meta.session_id] = (record, [m.to_dict() for m in data.messages])
    with sqlite3.connect(store.location) as db:
        found["rows"] = db.execute(
            "SELECT s.session_id, e.subpath, e.seq, e.entry_key, e.data FROM entries e "
            "JOIN sessions s ON s.id = e.session_ref ORDER BY 1, 2, 3"
        ).fetchall()
    return found


def import_both(root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any]:
    with SessionStore(tmp_path / "here", cleanup_after_days=None) as store:
        here = import_transcripts(store, [root]), contents(store)
    monkeypatch.setattr(importing, "LARGE_IMPORT_BYTES", 0)
    with SessionStore(tmp_path / "worker", cleanup_after_days=None) as store:
        there = import_transcripts(store, [root]), contents(store)
    return here, there


def same_reports(here: ImportReport, there: ImportReport) -> None:
    left, right = here.to_dict(), there.to_dict()
    for report in (left, right):
        report.pop("seconds")
    assert left == right


def test_a_worker_stores_what_a_plain_import_stores(every_kind_of_line, tmp_path, monkeypatch):
    spawned = []
    real = subprocess.Popen

    def spy(*args: Any, **kwargs: Any) -> Any:
        spawned.append(real(*args, **kwargs))
        return spawned[-1]

    monkeypatch.setattr(worker.subprocess, "Popen", spy)
    (report, stored), (worker_report, worker_stored) = import_both(
        every_kind_of_line, tmp_path, monkeypatch
    )
    assert len(spawned) == 1 and spawned[0].returncode is not None  # it ran, and ended
    with SessionStore(tmp_path / "worker", cleanup_after_days=None) as store:
        assert import_transcripts(store, [every_kind_of_line]).files_read == 0
    assert len(spawned) == 1  # nothing new to read: no second process
    same_reports(report, worker_report)
    assert worker_stored == stored
    assert report.bad_lines == 4 and report.repaired_lines == 1 and report.conflicts == 1
    assert report.lines_read == report.entries_imported + report.duplicates + report.bad_lines
    assert stored[sid(2)][0]["forked_from"] == sid(1)


def test_a_worker_that_cannot_start_leaves_the_reading_here(
    every_kind_of_line, tmp_path, monkeypatch, caplog
):
    monkeypatch.setattr(worker.sys, "executable", str(tmp_path / "no-python-here"))
    with caplog.at_level(logging.WARNING, logger="claude_sessions.importer"):
        (report, stored), (worker_report, worker_stored) = import_both(
            every_kind_of_line, tmp_path, monkeypatch
        )
    assert "reads on in this process" in caplog.text
    same_reports(report, worker_report)
    assert worker_stored == stored


def test_a_file_that_changed_since_the_worker_read_it_is_read_again_here(
    every_kind_of_line, tmp_path, monkeypatch, caplog
):
    """The store takes each line's text from the file: bytes that differ from those the
    worker parsed (a rewrite in between) are never stored with what it worked out."""
    path = project_dir(every_kind_of_line) / f"{sid(3)}.jsonl"
    real = worker._Texts.of
    rewritten = []

    def rewrite_first(self: Any, sent: Any) -> Any:
        if not rewritten and self._jobs[sent.job].path == path:
            data = path.read_bytes()
            path.write_bytes(data.replace(b"prompt 1", b"PROMPT 1"))  # the same size
            rewritten.append(path)
        return real(self, sent)

    monkeypatch.setattr(worker._Texts, "of", rewrite_first)
    monkeypatch.setattr(importing, "LARGE_IMPORT_BYTES", 0)
    logs = caplog.at_level(logging.WARNING, logger="claude_sessions.importer")
    with logs, SessionStore(tmp_path / "worker", cleanup_after_days=None) as store:
        report, stored = import_transcripts(store, [every_kind_of_line]), contents(store)
    assert rewritten and "changed while it was read" in caplog.text
    monkeypatch.setattr(importing, "LARGE_IMPORT_BYTES", 1 << 40)
    with SessionStore(tmp_path / "here", cleanup_after_days=None) as store:
        plain, expected = import_transcripts(store, [every_kind_of_line]), contents(store)
    same_reports(plain, report)
    assert stored == expected
    assert any("PROMPT 1" in row[-1] for row in stored["rows"])
    assert not any("prompt 1" in row[-1] for row in stored["rows"])


def test_a_worker_that_dies_half_way_is_taken_over(every_kind_of_line, tmp_path, monkeypatch):
    monkeypatch.setattr(reading, "BATCH_ENTRIES", 7)  # many batches to stop between
    real = worker._Worker.__iter__

    def dies_after_three(self: Any) -> Any:
        for count, item in enumerate(real(self)):
            yield item
            if count == 2:
                self._process.kill()
                self._process.wait()

    monkeypatch.setattr(worker._Worker, "__iter__", dies_after_three)
    (report, stored), (worker_report, worker_stored) = import_both(
        every_kind_of_line, tmp_path, monkeypatch
    )
    same_reports(report, worker_report)
    assert worker_stored == stored


def test_no_worker_outlives_an_interrupted_import(every_kind_of_line, tmp_path, monkeypatch):
    monkeypatch.setattr(importing, "LARGE_IMPORT_BYTES", 0)
    monkeypatch.setattr(reading, "BATCH_ENTRIES", 7)
    spawned = []
    real = subprocess.Popen

    def spy(*args: Any, **kwargs: Any) -> Any:
        spawned.append(real(*args, **kwargs))
        return spawned[-1]

    def interrupt(progress: ImportProgress) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(worker.subprocess, "Popen", spy)
    with SessionStore(tmp_path / "store", cleanup_after_days=None) as store:
        with pytest.raises(KeyboardInterrupt):
            import_transcripts(store, [every_kind_of_line], progress=interrupt)
        assert spawned and spawned[0].returncode is not None
        again = import_transcripts(store, [every_kind_of_line])  # resumes, duplicates nothing
        assert again.errors == []
        uuids = [m.uuid for m in store.load_session(sid(3)).messages if m.uuid]
        assert len(uuids) == len(set(uuids)) + 1  # the conflicting line is kept beside


def test_an_unreadable_file_is_reported_and_the_rest_imported(
    every_kind_of_line, tmp_path, monkeypatch
):
    monkeypatch.setattr(importing, "LARGE_IMPORT_BYTES", 0)
    real = reading.read_batches

    def refuse_one(path: Path, start: int, **options: Any) -> Any:
        if path.name == f"{sid(2)}.jsonl":
            raise PermissionError(13, "Permission denied", str(path))
        return real(path, start, **options)

    monkeypatch.setattr(reading, "read_batches", refuse_one)
    monkeypatch.setattr(worker.sys, "executable", "/nonexistent")  # read here: the patch applies
    with SessionStore(tmp_path / "store", cleanup_after_days=None) as store:
        report = import_transcripts(store, [every_kind_of_line])
        assert len(report.errors) == 1 and "Permission denied" in report.errors[0]
        assert {m.session_id for m in store.list_sessions()} == {sid(1), sid(3)}


def test_the_worker_runs_without_the_callers_main_module(tmp_path):
    """A script without a ``__main__`` guard is not run again by the worker."""
    script = tmp_path / "unguarded.py"
    marker = tmp_path / "ran"
    script.write_text(
        "import pathlib, sys\n"
        f"pathlib.Path({str(marker)!r}).open('a').write('x')\n"
        "from claude_sessions.importer import worker\n"
        f"jobs = [worker.Job(pathlib.Path({str(script)!r}), 0)]\n"
        "items = list(worker.read_in_worker(jobs))\n"
        "print(len(items))\n"
    )
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "1" and marker.read_text() == "x"


@pytest.mark.parametrize("fold_lines", [1, 2, 3, 7])
def test_batches_folded_in_parts_store_what_whole_ones_do(
    every_kind_of_line, tmp_path, monkeypatch, fold_lines
):
    """Repeated and conflicting lines fall in different parts of a batch, and the
    parts' combined facts are the batch's."""
    with SessionStore(tmp_path / "whole", cleanup_after_days=None) as store:
        whole = import_transcripts(store, [every_kind_of_line]), contents(store)
    monkeypatch.setattr(reading, "FOLD_LINES", fold_lines)
    with SessionStore(tmp_path / "parts", cleanup_after_days=None) as store:
        parts = import_transcripts(store, [every_kind_of_line]), contents(store)
    same_reports(whole[0], parts[0])
    assert parts[1] == whole[1]
    assert whole[0].duplicates == 1 and whole[0].conflicts == 1
