"""import_transcripts on hand-made transcripts: incremental, idempotent, forgiving."""

from __future__ import annotations

import json
import os
import zlib
from pathlib import Path

import pytest

from claude_sessions import Message, importer
from claude_sessions.importer import discover, import_transcripts, reading, source_name

from .transcript_samples import (
    PROJECT_KEY,
    append,
    conversation,
    fork_of,
    project_dir,
    sid,
    write,
)


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    """A store behind a URL keeps its import state under ~/.claude_sdk: keep it in tmp."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "claude-config"


def test_imports_every_entry_with_metadata(store, root):
    entries = conversation(
        sid(1), ["Build a parser", "Add tests"], title="Parser work", tag="wip", with_tool=True
    )
    write(project_dir(root) / f"{sid(1)}.jsonl", entries)
    write(project_dir(root) / f"{sid(2)}.jsonl", conversation(sid(2), ["Hello"]))

    report = import_transcripts(store, [root])

    assert report.files_seen == 2 and report.files_read == 2
    assert report.sessions_new == 2 and report.sessions_updated == 0
    assert report.entries_imported == len(entries) + len(conversation(sid(2), ["Hello"]))
    assert report.bad_lines == 0 and report.errors == []
    assert report.bytes_read == sum(p.stat().st_size for p in project_dir(root).iterdir())
    data = store.load_session(sid(1))
    assert [m.to_dict() for m in data.messages] == entries  # verbatim, in order
    meta = data.metadata
    assert meta.project_key == PROJECT_KEY
    assert meta.title == "Parser work"
    assert "wip" in meta.tags
    assert meta.git_branch == "main"
    assert meta.model == "claude-sonnet-4-5-20250929"
    assert meta.first_prompt == "Build a parser"
    assert meta.turns == 3
    assert meta.total_cost > 0  # estimated from usage: transcripts carry no result messages
    usage = {m["message"]["id"]: m["message"]["usage"] for m in entries if m["type"] == "assistant"}
    assert meta.output_tokens == sum(u["output_tokens"] for u in usage.values()) > 0
    assert meta.input_tokens >= sum(u["input_tokens"] for u in usage.values()) > 0
    assert meta.created_at.isoformat().startswith("2026-03-01T10:00")


def test_second_import_skips_unchanged_files(store, root):
    path = write(project_dir(root) / f"{sid(1)}.jsonl", conversation(sid(1), ["one"]))
    import_transcripts(store, [root])
    count = store.get_metadata(sid(1)).message_count

    again = import_transcripts(store, [root])

    assert again.files_unchanged == 1 and again.files_read == 0
    assert again.bytes_read == 0 and again.entries_imported == 0
    assert again.sessions_unchanged == 1 and again.sessions_new == again.sessions_updated == 0
    os.utime(path)  # touched but unchanged: read from where it stopped, nothing new
    touched = import_transcripts(store, [root])
    assert touched.entries_imported == 0 and touched.bytes_read == 0
    assert store.get_metadata(sid(1)).message_count == count


def test_grown_file_is_read_from_where_it_stopped(store, root):
    first = conversation(sid(1), ["one"])
    path = write(project_dir(root) / f"{sid(1)}.jsonl", first)
    import_transcripts(store, [root])
    size = path.stat().st_size
    more = conversation(sid(1), ["two"], start=100)  # includes uuid-less entries
    append(path, more)

    report = import_transcripts(store, [root])

    assert report.bytes_read == path.stat().st_size - size
    assert report.entries_imported == len(more)
    assert report.sessions_updated == 1 and report.sessions_new == 0
    stored = [m.to_dict() for m in store.load_session(sid(1)).messages]
    assert stored == first + more  # uuid-less entries (queue-operation...) not duplicated
    assert store.get_metadata(sid(1)).turns == 2


def test_rewritten_file_is_read_again_without_duplicates(store, root):
    entries = conversation(sid(1), ["one", "two"])
    path = write(project_dir(root) / f"{sid(1)}.jsonl", entries)
    import_transcripts(store, [root])
    chained = [e for e in entries if "uuid" in e]
    write(path, [{"type": "summary", "summary": "Rewritten", "leafUuid": "x"}, *chained])

    report = import_transcripts(store, [root])

    assert report.bytes_read == path.stat().st_size  # read again from the start
    uuids = [m.uuid for m in store.load_session(sid(1)).messages if m.uuid]
    assert len(uuids) == len(set(uuids)) == len(chained)


def test_bad_lines_are_counted_never_fatal(store, root):
    good = conversation(sid(1), ["one"])
    path = project_dir(root) / f"{sid(1)}.jsonl"
    write(path, good[:2])
    append(path, [], raw=b"{not json\n")
    append(path, [], raw=b"[1, 2, 3]\n\n   \n")
    append(
        path, [], raw=b'{"type": "user", "message": {"content": "caf\xe9"}, "uuid": "bad-utf8"}\n'
    )
    append(path, [{"type": "brand-new-kind", "sessionId": sid(1), "payload": {"x": 1}}])
    append(path, good[2:])
    append(path, [], raw=b'{"type": "assistant", "uuid": "half')  # being written right now

    report = import_transcripts(store, [root])

    # The broken line and the JSON array; the truncated tail is not read until it ends.
    assert report.bad_lines == 2
    assert report.bad_reasons == {"not JSON": 1, "not a JSON object": 1}
    assert report.lines_read == report.entries_imported + report.duplicates + report.bad_lines
    assert report.repaired_lines == 1
    assert report.unknown_types == {"brand-new-kind": 1}
    assert report.errors == []
    messages = store.load_session(sid(1)).messages
    assert any(m.type == "brand-new-kind" for m in messages)  # kept verbatim
    assert any(m.uuid == "bad-utf8" and "caf\ufffd" in m.text for m in messages)
    count = len(messages)

    append(path, [], raw=b'", "message": {"content": []}}\n')  # the tail is completed
    later = import_transcripts(store, [root])
    assert later.bad_lines == 0 and later.entries_imported == 1
    assert len(store.load_session(sid(1)).messages) == count + 1


def test_file_deleted_on_disk_stays_in_the_store(store, root):
    path = write(project_dir(root) / f"{sid(1)}.jsonl", conversation(sid(1), ["keep me"]))
    import_transcripts(store, [root])
    path.unlink()
    report = import_transcripts(store, [root])
    assert report.files_seen == 0
    assert store.get_metadata(sid(1)) is not None


def test_fork_is_linked_to_its_origin_whatever_the_file_order(store, root):
    origin_id, fork_id = (
        "ffffffff-0000-4000-8000-000000000001",
        "00000000-0000-4000-8000-00000000f0f0",
    )
    origin = conversation(origin_id, ["Design a REST API", "Add auth"])
    write(project_dir(root) / f"{origin_id}.jsonl", origin)
    write(
        project_dir(root) / f"{fork_id}.jsonl",
        fork_of(origin, origin_id, fork_id, "Use GraphQL instead"),
    )
    assert [f.session_id for f in discover([root]).files] == [
        fork_id,
        origin_id,
    ]  # fork sorts first

    import_transcripts(store, [root])

    assert store.get_metadata(fork_id).forked_from == origin_id
    assert store.get_metadata(origin_id).forked_from is None
    # The fork replays its origin's requests: they are the origin's to count.
    origin_meta, fork_meta = store.get_metadata(origin_id), store.get_metadata(fork_id)
    assert (fork_meta.input_tokens, fork_meta.output_tokens) == (10, 5)
    totals = store.usage()[0]
    assert totals.input_tokens == origin_meta.input_tokens + 10
    assert totals.cost == pytest.approx(origin_meta.total_cost + fork_meta.total_cost)


def test_a_shared_first_uuid_alone_is_no_fork(store, root):
    one = conversation(sid(1), ["First question"])
    other = conversation(sid(2), ["Something else entirely"])
    other[1]["uuid"] = one[1]["uuid"]  # the same uuid, different content
    write(project_dir(root) / f"{sid(1)}.jsonl", one)
    write(project_dir(root) / f"{sid(2)}.jsonl", other)
    import_transcripts(store, [root])
    assert store.get_metadata(sid(2)).forked_from is None


def test_subagent_transcripts_go_under_their_session(store, root):
    main = write(project_dir(root) / f"{sid(1)}.jsonl", conversation(sid(1), ["delegate"]))
    agent_entries = conversation(sid(1), ["sub task"], start=200)
    for entry in agent_entries:
        entry["isSidechain"] = True
    write(main.with_suffix("") / "subagents" / "agent-abc123.jsonl", agent_entries)

    report = import_transcripts(store, [root])

    assert report.files_seen == 2 and report.sessions_new == 1
    loaded = store.load_session(sid(1), subagents=True)
    assert loaded.subagents == {"subagents/agent-abc123": [Message(e) for e in agent_entries]}
    assert len(store.load_session(sid(1)).messages) == len(conversation(sid(1), ["delegate"]))


def test_subagent_of_a_session_without_main_file(store, root):
    write(project_dir(root) / sid(3) / "subagents" / "agent-x.jsonl", conversation(sid(3), ["x"]))
    report = import_transcripts(store, [root])
    assert report.entries_imported > 0 and report.errors == []


def test_default_root_honours_claude_config_dir(store, root, monkeypatch):
    write(project_dir(root) / f"{sid(1)}.jsonl", conversation(sid(1), ["hi"]))
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(root))
    assert importer.default_projects_dir() == root / "projects"
    assert import_transcripts(store).sessions_new == 1


def test_default_root_is_home_dot_claude(store, tmp_path, monkeypatch):
    monkeypatch.delenv("CLAUDE_CONFIG_DIR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert importer.default_projects_dir() == tmp_path / ".claude" / "projects"
    assert import_transcripts(store).files_seen == 0  # no such directory: nothing to do


def test_paths_may_be_files_project_dirs_or_roots(store, root):
    one = write(project_dir(root) / f"{sid(1)}.jsonl", conversation(sid(1), ["a"]))
    write(project_dir(root) / f"{sid(2)}.jsonl", conversation(sid(2), ["b"]))
    assert [f.session_id for f in discover([one]).files] == [sid(1)]
    assert discover([one]).files[0].project_key == PROJECT_KEY
    assert len(discover([project_dir(root)]).files) == 2
    assert len(discover([root / "projects"]).files) == 2
    assert len(discover([root, one]).files) == 2  # no file twice
    assert discover([root / "missing"]).files == []


def test_interrupted_import_resumes_without_duplicates(store, root, monkeypatch):
    monkeypatch.setattr(importer.reading, "BATCH_ENTRIES", 3)
    entries = conversation(sid(1), ["a", "b", "c", "d"])
    write(project_dir(root) / f"{sid(1)}.jsonl", entries)
    real = store.core.import_batches
    calls = {"n": 0}

    def flaky(batches):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real(batches)

    monkeypatch.setattr(store.core, "import_batches", flaky)
    with pytest.raises(KeyboardInterrupt):
        import_transcripts(store, [root])
    monkeypatch.setattr(store.core, "import_batches", real)

    report = import_transcripts(store, [root])

    assert report.entries_imported == len(entries) - 6
    assert [m.to_dict() for m in store.load_session(sid(1)).messages] == entries


def test_batches_keep_memory_flat(store, root, monkeypatch):
    monkeypatch.setattr(importer.reading, "BATCH_ENTRIES", 4)
    entries = conversation(sid(1), [f"prompt {i}" for i in range(10)])
    write(project_dir(root) / f"{sid(1)}.jsonl", entries)
    sizes = []
    real = store.core.import_batches

    def spy(batches):
        sizes.append(sum(len(batch.lines) for batch in batches))
        return real(batches)

    monkeypatch.setattr(store.core, "import_batches", spy)
    report = import_transcripts(store, [root])
    assert max(sizes) == 4 and sum(sizes) == len(entries)
    path = project_dir(root) / f"{sid(1)}.jsonl"
    assert report.bytes_read == path.stat().st_size  # every batch's lines counted
    assert report.lines_read == report.entries_imported == len(entries)


def test_small_files_commit_together(store, root, monkeypatch):
    for n in range(1, 6):
        write(project_dir(root) / f"{sid(n)}.jsonl", conversation(sid(n), [f"prompt {n}"]))
    groups = []
    real = store.core.import_batches

    def spy(batches):
        groups.append([batch.session_id for batch in batches])
        return real(batches)

    monkeypatch.setattr(store.core, "import_batches", spy)
    report = import_transcripts(store, [root])
    assert len(groups) == 1 and sorted(groups[0]) == sorted(sid(n) for n in range(1, 6))
    assert report.sessions_new == 5 and report.files_read == 5
    assert {m.session_id for m in store.list_sessions()} == {sid(n) for n in range(1, 6)}


def test_progress_reports_bytes(store, root):
    write(project_dir(root) / f"{sid(1)}.jsonl", conversation(sid(1), ["a"]))
    write(project_dir(root) / f"{sid(2)}.jsonl", conversation(sid(2), ["b"]))
    events = []
    report = import_transcripts(store, [root], progress=events.append)
    assert events and events[-1].bytes_done == events[-1].bytes_total == report.bytes_read
    assert events[-1].files_done == 2


def test_invalid_session_file_name_is_reported(store, root):
    write(project_dir(root) / f"{sid(1)}.jsonl", conversation(sid(1), ["fine"]))
    write(project_dir(root) / "bad\\name.jsonl", conversation(sid(2), ["x"]))
    report = import_transcripts(store, [root])
    assert report.sessions_new == 1
    assert len(report.errors) == 1 and "bad" in report.errors[0]


def test_file_positions_live_in_the_store(store, root):
    path = write(project_dir(root) / f"{sid(1)}.jsonl", conversation(sid(1), ["a"]))
    import_transcripts(store, [root])
    state = store.run(store.core.file_state(source_name(path)))
    assert state is not None and state.consumed == state.size == path.stat().st_size
    if "://" not in store.location:
        beside = Path(store.location).parent
        assert sorted(p.name for p in beside.iterdir()) == [
            "capture-handover",  # where captures and imports claim transcripts: no positions
            "sessions.db",
            "sessions.db-shm",
            "sessions.db-wal",
            "sessions.search.db",  # the full text of tool calls: how far it is indexed
            "sessions.search.db-shm",
            "sessions.search.db-wal",
        ]
        assert [p.name for p in (beside / "capture-handover").iterdir()] == ["locks"]


def test_a_store_that_lost_the_session_gets_it_again(store, root):
    write(project_dir(root) / f"{sid(1)}.jsonl", conversation(sid(1), ["a"]))
    import_transcripts(store, [root])
    store.delete_session(sid(1), purge=True)
    report = import_transcripts(store, [root])
    assert report.sessions_new == 1
    assert store.get_metadata(sid(1)) is not None


def test_a_session_in_the_trash_stays_there(store, root):
    path = write(project_dir(root) / f"{sid(1)}.jsonl", conversation(sid(1), ["a"]))
    import_transcripts(store, [root])
    store.delete_session(sid(1))
    with path.open("a") as grown:
        grown.write(json.dumps(conversation(sid(1), ["more"], start=50)[0]) + "\n")
    report = import_transcripts(store, [root])
    assert store.get_metadata(sid(1)) is None
    assert report.sessions_new == 0 and "in the trash" in report.skipped[0]
    assert [m.session_id for m in store.list_trash()] == [sid(1)]


def test_report_is_json_ready(store, root):
    write(project_dir(root) / f"{sid(1)}.jsonl", conversation(sid(1), ["a"]))
    report = import_transcripts(store, [root])
    assert json.loads(json.dumps(report.to_dict()))["sessions_new"] == 1
    assert report.mb_per_second >= 0


def test_imported_history_survives_automatic_cleanup(store, root):
    # The transcript is months old: its updated_at is its last entry's time.
    write(project_dir(root) / f"{sid(1)}.jsonl", conversation(sid(1), ["Old work"]))
    write(project_dir(root) / f"{sid(2)}.jsonl", conversation(sid(2), ["Known already"]))
    store.save_session(sid(2), conversation(sid(2), ["Known already"]), tags=["mine"])

    import_transcripts(store, [root])

    assert store.get_metadata(sid(1)).tags == ("imported",)
    assert store.get_metadata(sid(2)).tags == ("mine",)  # not created by the import
    doomed = [m.session_id for m in store.cleanup_old_sessions(max_age_days=30, dry_run=True)]
    assert doomed == [sid(2)]  # as old, but not protected
    store.remove_tags(sid(1), ["imported"])
    doomed = [m.session_id for m in store.cleanup_old_sessions(max_age_days=30, dry_run=True)]
    assert sorted(doomed) == [sid(1), sid(2)]


def test_each_line_is_kept_as_its_json_text_and_located_in_the_file(tmp_path):
    """Whatever surrounds a line's JSON (white space, CRLF) is not part of its text, and
    the reading process's positions name exactly the bytes of each text."""
    lines = [
        b'{"type":"user","uuid":"u1"}\n',
        b'  {"type":"user","uuid":"u2"}\r\n',
        b'{"type":"user","uuid":"u3"} \t\n',
        '{"type":"user","uuid":"u4","text":"caf\u00e9 \u2192"}\n'.encode(),
        b"\n",
        b'{"type":"user","uuid":"u5","message":"caf\xe9"}\n',
        b'{"type":"user","uuid":"u6"}',
    ]
    path = tmp_path / "t.jsonl"
    data = b"".join(lines)
    path.write_bytes(data)
    ((batch, prepared),) = reading.read_batches(path, 0, locate=True)
    texts = [line.text for line in batch.lines]
    assert texts[:4] == [raw.strip().decode() for raw in lines[:4]]
    assert json.loads(texts[4]) == {"type": "user", "uuid": "u5", "message": "caf\ufffd"}
    assert texts[5] == '{"type":"user","uuid":"u6"}'
    assert [e.key for e in prepared.merge.new] == ["u1", "u2", "u3", "u4", "u5", "u6"]
    for line, size in zip(batch.lines, batch.sizes, strict=True):
        if size >= 0:
            assert data[line.offset : line.offset + size].decode() == line.text
    assert batch.sizes[1] == -1 and batch.sizes[4] == -1  # indented, repaired: sent as text
    assert batch.sizes[2] == len(lines[2].strip())
    assert (batch.start, batch.end, batch.last) == (0, len(data), True)
    assert batch.crc == zlib.crc32(data)
