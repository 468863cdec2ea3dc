"""A forgiving import of real transcripts (tests/fixtures/transcripts) as people keep them:
packed with gzip, in backup folders at any depth beside files that are no transcripts, one
session file named alone, entries without a type. Expected figures come from the
independent ledger of the unpacked fixtures."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest

from claude_sessions.importer import discover, import_transcripts, importing

from .transcript_ledger import build_ledger

FIXTURES = Path(__file__).parent / "fixtures" / "transcripts"
WITH_SUBAGENTS = "ae4a77f8-aedd-4bc1-888f-c94edc91af04"  # <session>/subagents/, two of them
WITH_AGENT_BESIDE = "258c7280-ae70-4798-800f-63464d01a85d"  # <project>/agent-a881341.jsonl


@pytest.fixture(scope="module")
def ledger():
    return build_ledger(FIXTURES, sdk=False)


def _packed_copy(source: Path, target: Path) -> None:
    """``source``'s tree with each transcript gzipped (``x.jsonl`` -> ``x.jsonl.gz``)."""
    for path in sorted(source.rglob("*.jsonl")):
        packed = target / path.relative_to(source).with_name(path.name + ".gz")
        packed.parent.mkdir(parents=True, exist_ok=True)
        packed.write_bytes(gzip.compress(path.read_bytes()))


def _matches_the_ledger(store, ledger, sessions=None) -> None:
    expected = ledger.sessions if sessions is None else {s: ledger.sessions[s] for s in sessions}
    assert sorted(m.session_id for m in store.list_sessions()) == sorted(expected)
    for session in expected.values():
        meta = store.get_metadata(session.session_id)
        assert meta.project_key == session.project, session.session_id
        assert (meta.input_tokens, meta.output_tokens) == session.tokens_total, session.session_id
        assert (meta.subagent_input_tokens, meta.subagent_output_tokens) == (
            session.tokens_subagents
        )
        assert meta.total_cost == pytest.approx(session.cost_total, abs=1e-9), session.session_id


def _bytes(paths) -> int:
    return sum(path.stat().st_size for path in paths)


# -- .jsonl.gz ----------------------------------------------------------------------------


def test_a_packed_transcript_is_read_as_the_text_it_packs(store, tmp_path, ledger):
    plain = FIXTURES / "projects" / "-home-marco-projects-spotter"
    plain = plain / "d6e0bada-1959-4eec-a9d2-0bfade768d8f.jsonl"
    packed = tmp_path / "-home-marco-projects-spotter" / (plain.name + ".gz")
    packed.parent.mkdir()
    packed.write_bytes(gzip.compress(plain.read_bytes()))

    report = import_transcripts(store, [packed])

    expected = ledger.sessions[plain.stem]
    assert report.errors == [] and report.skipped == []
    assert (report.lines_read, report.bad_lines) == (expected.lines_read, 0)
    assert report.bytes_read == plain.stat().st_size
    _matches_the_ledger(store, ledger, [plain.stem])


@pytest.mark.parametrize("reader", ["here", "worker"])
def test_a_folder_of_packed_transcripts_imports_as_the_plain_one(
    store, tmp_path, ledger, reader, monkeypatch
):
    if reader == "worker":  # read in a second process, as a large import is
        monkeypatch.setattr(importing, "LARGE_IMPORT_BYTES", 0)
    _packed_copy(FIXTURES / "projects", tmp_path / "projects")

    report = import_transcripts(store, [tmp_path])

    plain = sorted((FIXTURES / "projects").rglob("*.jsonl"))
    assert report.errors == [] and report.skipped == []
    assert report.files_seen == report.files_read == len(plain)
    assert report.bytes_read == _bytes(plain)
    assert report.lines_read == sum(s.lines_read for s in ledger.sessions.values())
    _matches_the_ledger(store, ledger)
    again = import_transcripts(store, [tmp_path])
    assert again.files_unchanged == again.files_seen and again.lines_read == 0


def test_a_packed_transcript_packed_again_longer_is_read_again_without_duplicates(
    store, tmp_path, ledger
):
    plain = FIXTURES / "projects" / "-home-marco-projects-spotter"
    plain = plain / "55604662-cf2a-4331-851a-ec234028f8ca.jsonl"
    lines = plain.read_bytes().splitlines(keepends=True)
    packed = tmp_path / "p" / (plain.name + ".gz")
    packed.parent.mkdir()
    packed.write_bytes(gzip.compress(b"".join(lines[:5])))
    first = import_transcripts(store, [tmp_path])
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    second = import_transcripts(store, [tmp_path])
    assert first.entries_imported + second.entries_imported == len(lines)
    assert second.duplicates == 5
    assert [m.uuid for m in store.load_session(plain.stem).messages] == [
        json.loads(line).get("uuid") for line in lines
    ]


def test_damaged_packed_files_are_named_with_why(store, tmp_path):
    folder = tmp_path / "p"
    folder.mkdir()
    (folder / "notes.jsonl.gz").write_bytes(b'{"type": "user"}\n')  # not gzip at all
    whole = gzip.compress(b'{"type": "user", "uuid": "u1"}\n' * 50)
    cut = folder / "11111111-2222-4333-8444-555555555555.jsonl.gz"
    cut.write_bytes(whole[: len(whole) // 2])

    report = import_transcripts(store, [tmp_path])

    (skipped,) = report.skipped
    assert skipped.startswith(f"{folder / 'notes.jsonl.gz'}: unreadable (") and "gzip" in skipped
    (error,) = report.errors
    assert error.startswith(f"{cut}: ") and "ended before" in error


# -- any depth, and what is skipped ---------------------------------------------------------


def _backup(tmp_path: Path) -> tuple[Path, dict[Path, str]]:
    """A backup folder holding a config dir two levels down, beside files that hold no
    transcript; and those files, with why each is skipped."""
    backup = tmp_path / "backup"
    config = backup / "2026-02" / "laptop" / ".claude"
    shutil.copytree(FIXTURES / "projects", config / "projects")
    history = config / "history.jsonl"  # the CLI's prompt history: no transcript
    history.write_text(json.dumps({"display": "hi", "timestamp": 1, "project": "/w"}) + "\n")
    listing = backup / "2026-02" / "ls.jsonl"
    listing.write_text('["not", "an", "object"]\n')
    empty = backup / "empty.jsonl"
    empty.write_text("\n")
    garbled = backup / "2026-02" / "laptop" / "garbled.jsonl.gz"
    garbled.write_bytes(b"\x1f\x8b" + bytes(20))
    odd = config / "projects" / "-tmp" / "odd.jsonl"
    odd.write_text("not json\n")
    return backup, {
        history: "not a transcript (its first line has no entry type)",
        listing: "not a transcript (its first line is not a JSON object)",
        empty: "not a transcript (it has no line)",
        garbled: "unreadable",
        odd: "not a transcript (its first line is not JSON)",
    }


def test_transcripts_at_any_depth_keep_their_folder_as_project(store, tmp_path, ledger):
    backup, skipped = _backup(tmp_path)

    report = import_transcripts(store, [backup])

    assert report.errors == []
    named = {line.split(": ", 1)[0]: line.split(": ", 1)[1] for line in report.skipped}
    assert set(named) == {str(path) for path in skipped}
    for path, why in skipped.items():
        assert named[str(path)].startswith(why)
    assert report.files_read == len(list((FIXTURES / "projects").rglob("*.jsonl")))
    _matches_the_ledger(store, ledger)


def test_a_projects_root_is_still_read_as_projects():
    found = discover([FIXTURES / "projects"])
    keys = {(f.session_id, f.project_key) for f in found.files if f.subpath is None}
    plain = {(p.stem, p.parent.name) for p in (FIXTURES / "projects").glob("*/*.jsonl")}
    assert keys == {pair for pair in plain if not pair[0].startswith("agent-")}
    assert found.skipped == []


# -- one session file ------------------------------------------------------------------------


@pytest.mark.parametrize("session", [WITH_SUBAGENTS, WITH_AGENT_BESIDE])
def test_one_session_file_brings_its_subagents(store, tmp_path, ledger, session):
    shutil.copytree(FIXTURES / "projects", tmp_path / "projects")
    (main,) = (tmp_path / "projects").glob(f"*/{session}.jsonl")

    report = import_transcripts(store, [main])

    assert report.files_read == 1 + len(ledger.sessions[session].subagent_files)
    _matches_the_ledger(store, ledger, [session])


# -- entries without a type ------------------------------------------------------------------


def test_entries_without_a_type_are_counted_as_such(store, tmp_path):
    edge = FIXTURES / "projects" / "-tmp" / "edge_cases.jsonl"
    untyped = 0
    for raw in edge.read_bytes().splitlines():
        try:
            entry = json.loads(raw)
        except ValueError:
            continue
        untyped += isinstance(entry, dict) and not isinstance(entry.get("type"), str)
    folder = tmp_path / "-tmp"
    folder.mkdir()
    shutil.copy(edge, folder)
    odd = [{"uuid": "t1", "type": []}, {"uuid": "t2", "type": None}, {"uuid": "t3", "type": 7}]
    (folder / "11111111-2222-4333-8444-555555555555.jsonl").write_text(
        "".join(json.dumps(entry) + "\n" for entry in odd)
    )

    report = import_transcripts(store, [tmp_path])

    assert untyped == 1 and report.untyped_entries == untyped + len(odd)
    assert report.errors == [] and "None" not in report.unknown_types
    assert report.lines_read == report.entries_imported + report.duplicates + report.bad_lines
