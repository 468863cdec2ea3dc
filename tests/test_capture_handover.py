"""Captures and imports of one transcript hand over to each other: a capture that finds
the transcript being read leaves at once, and no line is ever left behind. Real
processes, on both databases."""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from claude_sessions import SessionStore
from claude_sessions.importer import import_session_files, import_transcripts
from claude_sessions.importer.handover import Desk
from tests.capture_storm import SESSION, storm, transcript_uuids

# Generous, for a loaded machine: a capture that hands over starts Python and leaves
# (0.1 s when the machine is idle); one that waited here would wait for ever.
QUICK_SECONDS = 10.0
# Beyond what merely starting the command takes, at the same time (see the storm).
HAND_OVER_SECONDS = 1.0


@pytest.fixture
def place(tmp_path, monkeypatch):
    """A home and a Claude Code config folder of this test's own, here and in children."""
    home, config = tmp_path / "home", tmp_path / "claude"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(config))
    monkeypatch.setenv("CLAUDE_SESSIONS_CLEANUP_DAYS", "never")
    monkeypatch.delenv("CLAUDE_SESSIONS_TRANSCRIPT_DIRS", raising=False)
    return home, config / "projects" / "-repo" / f"{SESSION}.jsonl"


def append_turns(transcript: Path, turns: int) -> list[str]:
    """Append ``turns`` turns of four lines; their uuids."""
    transcript.parent.mkdir(parents=True, exist_ok=True)
    uuids = []
    with transcript.open("a", encoding="utf-8") as out:
        for n in range(turns * 4):
            uuids.append(str(uuid.uuid4()))
            entry = {"type": "user", "uuid": uuids[-1], "sessionId": SESSION,
                     "message": {"role": "user", "content": f"line {n}"}}  # fmt: skip
            out.write(json.dumps(entry) + "\n")
    return uuids


def stored_uuids(location: str) -> list[str]:
    with SessionStore(location, cleanup_after_days=None) as store:
        found = store.get_session(SESSION)
        return [message.uuid for message in found.messages] if found is not None else []


def log_of(location: str, home: Path) -> list[str]:
    """The capture log's lines, found where the README says it is."""
    where = home / ".claude_sdk" if location.startswith("postgresql") else Path(location)
    return (where / "capture.log").read_text().splitlines()


def said(location: str, home: Path) -> list[str]:
    """What each logged capture said (after its event and session)."""
    return [line.split(" ", 3)[3] for line in log_of(location, home)]


def capture_process(location: str, transcript: Path, label: str) -> float:
    """Run the hook command as Claude Code does; its wall time."""
    hook = {"session_id": label, "transcript_path": str(transcript), "hook_event_name": "Stop"}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "claude_sessions", "hooks", "capture", "--store", location],
        input=json.dumps(hook),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    return time.perf_counter() - started


def test_a_capture_hands_over_to_the_holder_and_leaves_at_once(store_location, place):
    home, transcript = place
    written = append_turns(transcript, 3)
    claim = Desk(store_location).claim(transcript)  # held by this test, as by a capture
    assert claim is not None
    written += append_turns(transcript, 2)
    # A capture that waited for the claim would wait for this test: forever.
    took = capture_process(store_location, transcript, "second")
    assert took < QUICK_SECONDS
    assert said(store_location, home)[-1].startswith("handed over")
    assert stored_uuids(store_location) == []  # it left the lines to the holder
    with SessionStore(store_location, cleanup_after_days=None) as store:
        report = import_session_files(store, transcript, claim=claim)
    assert report.entries_imported == len(written)
    assert stored_uuids(store_location) == written


def test_an_import_reads_again_what_a_capture_handed_over_meanwhile(store_location, place):
    home, transcript = place
    written = append_turns(transcript, 3)
    during: list[float] = []

    def meanwhile(progress) -> None:  # the import holds the claim and has read its lines
        if not during:
            written.extend(append_turns(transcript, 2))
            during.append(capture_process(store_location, transcript, "during"))

    with SessionStore(store_location, cleanup_after_days=None) as store:
        report = import_transcripts(store, [transcript], progress=meanwhile)
    assert during and during[0] < QUICK_SECONDS
    assert said(store_location, home)[-1].startswith("handed over")
    assert report.entries_imported == len(written) == 20  # its own lines, then the capture's
    assert stored_uuids(store_location) == written


def test_an_import_leaves_a_transcript_being_captured_to_its_capture(store_location, place):
    _, transcript = place
    written = append_turns(transcript, 2)
    claim = Desk(store_location).claim(transcript)
    assert claim is not None
    done = subprocess.run(
        [sys.executable, "-m", "claude_sessions", "import", str(transcript),
         "--store", store_location, "--json"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert (report["handed_over"], report["entries_imported"]) == ([str(transcript)], 0)
    assert claim.let_go() is True  # asked to read more: the claim is this test's again
    with SessionStore(store_location, cleanup_after_days=None) as store:
        import_session_files(store, transcript, claim=claim)
    assert stored_uuids(store_location) == written


def test_a_claim_dies_with_its_process(store_location, place):
    _, transcript = place
    written = append_turns(transcript, 1)
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time\nfrom claude_sessions.importer.handover import Desk\n"
         "assert Desk(sys.argv[1]).claim(sys.argv[2]) is not None\n"
         "print('held', flush=True)\ntime.sleep(600)", store_location, str(transcript)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert holder.stdout is not None and holder.stdout.readline() == "held\n"
    assert Desk(store_location).claim(transcript) is None
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=30)
    holder.stdout.close()
    capture_process(store_location, transcript, "after")
    assert stored_uuids(store_location) == written


@pytest.mark.timeout(600)
def test_a_storm_of_captures_and_imports_stores_every_line(store_location, place, tmp_path):
    """The issue's case: many captures and a few imports of one growing transcript."""
    home, transcript = place
    done = storm(
        store_location,
        transcript.parents[2],
        env={"HOME": str(home)},
        captures=12,
        imports=2,
        floors=tmp_path / "floor",
    )
    assert done.failures == []
    written = transcript_uuids(done.transcript)
    assert len(set(written)) == len(written) > 400 * 12
    assert sorted(stored_uuids(store_location)) == sorted(written)  # each once, none lost
    logged = dict(line.split(" ", 3)[2:] for line in log_of(store_location, home))
    assert sorted(logged) == sorted(f"{run.label}:" for run in done.captures)  # one line each
    handed = [r.wall for r in done.captures if logged[f"{r.label}:"].startswith("handed over")]
    assert len(handed) >= 3
    print(f"\n{done.line()}; {len(handed)} handed over: median {statistics.median(handed):.2f} s")
    floor = statistics.median(run.wall for run in done.floors)
    assert statistics.median(handed) < floor + HAND_OVER_SECONDS


def test_claims_are_per_store(tmp_path, place):
    _, transcript = place
    append_turns(transcript, 1)
    one, other = str(tmp_path / "one"), str(tmp_path / "other")
    held, elsewhere = Desk(one).claim(transcript), Desk(other).claim(transcript)
    assert held is not None and elsewhere is not None
    assert Desk(os.path.join(one, "sessions.db")).claim(transcript) is None  # same store
    held.release()
    elsewhere.release()
