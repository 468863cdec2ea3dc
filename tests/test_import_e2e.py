"""Importing transcripts the real CLI wrote (against the fake Messages API)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from claude_sessions import Session, SessionStore, fork, query, resume
from claude_sessions.importer import default_projects_dir, import_transcripts, importing

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("reader", ["here", "worker"])
def test_imports_real_transcripts_with_forks(fake_claude, tmp_path, reader, monkeypatch):
    if reader == "worker":  # read in a second process, as a large import is
        monkeypatch.setattr(importing, "LARGE_IMPORT_BYTES", 0)
    fake_claude.set_script(["Hello Alice.", "Tables: users.", "GraphQL it is."])
    original = Session.extract_session_id(list(query("My name is Alice")))
    list(resume(original, "Design the tables"))
    forked = Session.extract_session_id(list(fork(original, "Use GraphQL instead")))
    projects = default_projects_dir()
    assert projects == Path(os.environ["HOME"], ".claude", "projects")
    files = sorted(projects.glob("*/*.jsonl"))
    assert {f.stem for f in files} == {original, forked}

    with SessionStore(tmp_path / "store", cleanup_after_days=None) as store:
        report = import_transcripts(store)
        assert report.files_seen == 2 and report.sessions_new == 2
        assert report.bad_lines == 0 and report.errors == []
        assert report.bytes_read == sum(f.stat().st_size for f in files)

        origin_meta = store.get_metadata(original)
        fork_meta = store.get_metadata(forked)
        assert fork_meta.forked_from == original
        assert origin_meta.forked_from is None
        assert origin_meta.turns == 2 and fork_meta.turns == 3
        assert origin_meta.first_prompt == "My name is Alice"
        assert origin_meta.project_key == files[0].parent.name
        texts = " ".join(m.text for m in store.load_session(original).messages)
        assert "Design the tables" in texts and "Tables: users." in texts
        assert [r.session_id for r in store.search(text="GraphQL")] == [forked]

        # The CLI appends to the transcript on resume: only the new part is read.
        size = (projects / files[0].parent.name / f"{original}.jsonl").stat().st_size
        list(resume(original, "Add an index"))
        again = import_transcripts(store)
        assert again.sessions_updated == 1 and again.sessions_new == 0
        grown = (projects / files[0].parent.name / f"{original}.jsonl").stat().st_size
        assert again.bytes_read == grown - size
        assert store.get_metadata(original).turns == 3
        uuids = [m.uuid for m in store.load_session(original).messages if m.uuid]
        assert len(uuids) == len(set(uuids))

        unchanged = import_transcripts(store)
        assert unchanged.files_unchanged == 2 and unchanged.entries_imported == 0
