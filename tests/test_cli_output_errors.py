"""Output that cannot be written: a full disk, a file in the way, a reader that left.

The real command runs in a subprocess with its standard output buffered, as a
user's is: a full disk is one ``Error:`` line and exit status 1 (never a
traceback, nor a second error as Python flushes stdout on the way out), and a
closed pipe ends the command quietly.
"""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from pathlib import Path

import pytest

from claude_sessions import SessionStore

from .store_samples import run
from .transcript_samples import conversation, project_dir, sid, write

SESSION = "0d0d0d0d-1111-4222-8333-444444444444"
TRASHED = "0e0e0e0e-1111-4222-8333-444444444444"
NO_SPACE = os.strerror(errno.ENOSPC)


@pytest.fixture
def store_location(tmp_path: Path) -> str:
    location = str(tmp_path / "store")
    with SessionStore(location, cleanup_after_days=None) as store:
        store.save_session(SESSION, run(SESSION, text="hello there"), tags=["work"])
        store.save_session(TRASHED, run(TRASHED, text="gone"))
        store.delete_session(TRASHED)
    return location


@pytest.fixture
def transcripts(tmp_path: Path) -> Path:
    root = tmp_path / "claude"
    write(project_dir(root) / f"{sid(1)}.jsonl", conversation(sid(1), ["hi"]))
    return root


# Python buffers a redirected stdout unless told not to (as a test runner may be).
BUFFERED = {name: value for name, value in os.environ.items() if name != "PYTHONUNBUFFERED"}


def command(store: str, *args: str, stdout: object = None) -> subprocess.CompletedProcess[bytes]:
    """``claude-sessions ARGS`` on ``store``, stdout buffered as in a user's shell."""
    return subprocess.run(
        [sys.executable, "-m", "claude_sessions", *args],
        stdout=stdout,
        stderr=subprocess.PIPE,
        env=BUFFERED | {"CLAUDE_SESSIONS_STORE": store, "CLAUDE_SESSIONS_CLEANUP_DAYS": "never"},
        timeout=120,
    )


def one_error_line(done: subprocess.CompletedProcess[bytes]) -> str:
    stderr = done.stderr.decode()
    assert done.returncode == 1, stderr
    assert "Traceback" not in stderr and "Exception ignored" not in stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), stderr
    return lines[0]


WRITERS = [
    ["show", SESSION[:8]],
    ["show", SESSION[:8], "--format", "json"],
    ["show", SESSION[:8], "--format", "markdown"],
    ["show", SESSION[:8], "--format", "html"],
    ["export", SESSION[:8]],
    ["list"],
    ["list", "--json"],
    ["search", "hello"],
    ["search", "hello", "--json"],
    ["stats"],
    ["stats", "--json"],
    ["tree", SESSION[:8]],
    ["tree", SESSION[:8], "--json"],
    ["path"],
    ["path", "--json"],
    ["trash", "list"],
    ["trash", "list", "--json"],
    ["prices"],
    ["prices", "--json"],
    ["tag", SESSION[:8]],
    ["tag", SESSION[:8], "--json"],
]


@pytest.mark.parametrize("args", WRITERS, ids=" ".join)
def test_a_full_disk_under_stdout_is_one_error_line(store_location, args):
    with open("/dev/full", "wb") as full:
        done = command(store_location, *args, stdout=full)
    assert one_error_line(done) == f"Error: {NO_SPACE}"


@pytest.mark.parametrize("as_json", [[], ["--json"]], ids=["plain", "json"])
def test_import_reporting_to_a_full_disk_is_one_error_line(store_location, transcripts, as_json):
    with open("/dev/full", "wb") as full:
        done = command(store_location, "import", str(transcripts), *as_json, stdout=full)
    assert one_error_line(done) == f"Error: {NO_SPACE}"
    with SessionStore(store_location, read_only=True) as store:
        assert store.get_metadata(sid(1)) is not None  # what was imported stays


def test_export_to_a_full_disk_names_the_file(store_location):
    done = command(store_location, "export", SESSION[:8], "-o", "/dev/full")
    assert one_error_line(done) == f"Error: /dev/full: {NO_SPACE}"


def test_export_all_into_an_existing_file_leaves_it_alone(store_location, tmp_path):
    existing = tmp_path / "notes.txt"
    existing.write_text("mine\n")
    done = command(store_location, "export", "--all", "-o", str(existing))
    assert one_error_line(done) == f"Error: {existing}: {os.strerror(errno.EEXIST)}"
    assert existing.read_text() == "mine\n"


def test_export_all_stops_at_a_directory_in_a_files_place(store_location, tmp_path):
    target = tmp_path / "exported"
    in_the_way = target / f"{SESSION}.md"
    in_the_way.mkdir(parents=True)
    done = command(store_location, "export", "--all", "-o", str(target))
    assert one_error_line(done) == f"Error: {in_the_way}: {os.strerror(errno.EISDIR)}"


def test_export_into_a_missing_directory_names_the_file(store_location, tmp_path):
    missing = tmp_path / "no" / "such" / "session.md"
    done = command(store_location, "export", SESSION[:8], "-o", str(missing))
    assert one_error_line(done) == f"Error: {missing}: {os.strerror(errno.ENOENT)}"


@pytest.mark.parametrize(
    "args",
    [["show", SESSION[:8]], ["list", "--json"], ["prices"], ["path"]],
    ids=" ".join,
)
def test_a_closed_pipe_ends_the_command_quietly(store_location, args):
    reading, writing = os.pipe()
    os.close(reading)  # the reader has gone before the first byte
    try:
        done = command(store_location, *args, stdout=writing)
    finally:
        os.close(writing)
    assert (done.returncode, done.stderr) == (1, b"")


def test_a_reader_that_stops_early_ends_a_long_output_quietly(store_location, tmp_path):
    big = "0f0f0f0f-1111-4222-8333-444444444444"
    with SessionStore(store_location) as store:  # a transcript far larger than a pipe holds
        store.save_session(big, run(big, text="many words " * 200_000))
    process = subprocess.Popen(
        [sys.executable, "-m", "claude_sessions", "show", big[:8]],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=BUFFERED | {"CLAUDE_SESSIONS_STORE": store_location},
    )
    assert process.stdout is not None and process.stderr is not None
    first = process.stdout.readline()  # as `| head -1` does, then leave
    process.stdout.close()
    stderr = process.stderr.read()
    assert process.wait(timeout=120) == 1
    assert first.startswith(b"Session") and stderr == b""
