"""Hostile values: one bad line or message never stops an import or corrupts the store."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from claude_sessions import InvalidMessageError
from claude_sessions.importer import import_transcripts

from .store_samples import run
from .transcript_samples import conversation, project_dir, sid, write

DEEP = ('{"a":' * 1000 + "1" + "}" * 1000).encode()
HOSTILE_LINES = {
    "deep": b'{"type": "user", "x": ' + DEEP + b"}",
    "overflow": b'{"type": "assistant", "message": {"id": "m-inf", "model": "claude-sonnet-4-5",'
    b' "usage": {"input_tokens": 1e400}}}',
    "nan": b'{"type": "assistant", "message": {"id": "m-nan", "usage": {"input_tokens": NaN}}}',
}


def test_hostile_lines_are_counted_and_the_rest_imported(store, tmp_path):
    root = tmp_path / "claude"
    good = conversation(sid(1), ["first", "second"])
    path = write(project_dir(root) / f"{sid(1)}.jsonl", good[:3])
    with path.open("ab") as file:
        for line in HOSTILE_LINES.values():
            file.write(line + b"\n")
        late = {**good[3], "timestamp": "9999-12-31T23:59:59-23:59"}
        file.write(json.dumps(late).encode() + b"\n")
        for entry in good[4:]:
            file.write(json.dumps(entry).encode() + b"\n")
    odd_name = os.fsencode(project_dir(root)) + b"/bad\xff-name.jsonl"
    with open(odd_name, "wb") as file:
        file.write(json.dumps(good[0]).encode() + b"\n")

    report = import_transcripts(store, [root])

    assert report.bad_lines == 3
    assert report.bad_reasons == {
        "nested deeper than 255 levels": 1,
        "1e400 is out of range for a number": 1,
        "NaN is not a JSON number": 1,
    }
    assert report.lines_read == report.entries_imported + report.duplicates + report.bad_lines
    assert len(report.errors) == 1 and "bad" in report.errors[0]  # the file name, reported
    data = store.load_session(sid(1))
    assert [m.to_dict() for m in data.messages] == [*good[:3], late, *good[4:]]
    assert data.metadata.updated_at.year == 2026  # the impossible time is ignored
    assert import_transcripts(store, [root]).files_unchanged == 1


def test_a_chain_of_many_forks_imports(store, tmp_path):
    root = tmp_path / "claude"
    count = 1500
    for n in range(count):
        entries = conversation(sid(n), [f"step {n}"])
        if n:
            entries[0]["requestSessionId"] = sid(n - 1)
        write(project_dir(root) / f"{sid(n)}.jsonl", entries)
    report = import_transcripts(store, [root])
    assert report.errors == [] and report.sessions_new == count


def _nested(depth: int) -> dict[str, object]:
    value: dict[str, object] = {"leaf": 1}
    for _ in range(depth):
        value = {"a": value}
    return value


@pytest.mark.parametrize(
    ("value", "why"),
    [
        (_nested(300), "nested deeper"),
        ({"usage": {"input_tokens": float("inf")}}, "inf"),
        ({"usage": {"input_tokens": float("nan")}}, "nan"),
        ({"when": {1, 2}}, "JSON cannot hold"),
    ],
)
def test_messages_json_cannot_hold_are_refused_whole(store, value, why):
    with pytest.raises(InvalidMessageError, match=why):
        store.save_session("h-1", [*run("h-1"), {"type": "odd", "value": value}])
    with pytest.raises(InvalidMessageError, match=why):
        store.append_messages("h-2", [{"type": "odd", "value": value}])
    assert store.list_sessions() == []


def test_odd_but_valid_values_are_kept(store):
    odd = {
        "type": "assistant",
        "timestamp": "9999-12-31T23:59:59-23:59",
        "message": {"id": "m", "model": "claude-sonnet-4-5", "usage": {"input_tokens": 10**400}},
    }
    meta = store.save_session("v-1", [*run("v-1"), odd])
    assert meta.message_count == 4 and meta.input_tokens == 10  # the absurd count adds nothing
    assert store.load_session("v-1").messages[-1].to_dict() == odd


def test_a_large_line_round_trips(store, tmp_path):
    root = tmp_path / "claude"
    entries = conversation(sid(2), ["big"])
    entries[1]["message"]["content"] = "x" * 5_000_000
    path: Path = write(project_dir(root) / f"{sid(2)}.jsonl", entries)
    report = import_transcripts(store, [root])
    assert report.bad_lines == 0 and path.stat().st_size > 5_000_000
    assert store.load_session(sid(2)).messages[1].to_dict() == entries[1]
