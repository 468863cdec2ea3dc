"""File names that are not UTF-8 (or look like markup) in what the real command prints.

Python reads such a name with one lone surrogate for each byte it cannot
decode (0xFF reads as U+DCFF). The command line never writes them raw: JSON
holds them as ``\\udcff`` escapes (and stderr says so), plain output shows them
as the same visible escapes, and ``path`` in a pipe gives the name's own bytes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .transcript_samples import conversation, project_dir, sid, write

BAD_NAME = b"bad\xffname.jsonl"
# Python may write what stdout cannot encode as raw bytes (surrogateescape) or
# fail (strict): the output must be the same valid UTF-8 either way.
STDOUT_ERRORS = ["surrogateescape", "strict"]


def claude_sessions(
    *args: str | bytes, errors: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    done = subprocess.run(
        [sys.executable, "-m", "claude_sessions", *args],
        capture_output=True,
        env=os.environ | {"PYTHONIOENCODING": f"utf-8:{errors}"} | (env or {}),
        timeout=120,
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    return done


@pytest.fixture
def transcripts(tmp_path: Path) -> Path:
    """A transcript folder holding one file whose name is not UTF-8."""
    root = tmp_path / "claude"
    write(project_dir(root) / f"{sid(1)}.jsonl", conversation(sid(1), ["hi"]))
    with open(os.fsencode(project_dir(root)) + b"/" + BAD_NAME, "wb") as file:
        file.write(json.dumps(conversation(sid(2), ["hello"])[0]).encode() + b"\n")
    return root


@pytest.mark.parametrize("errors", STDOUT_ERRORS)
def test_import_json_is_valid_utf8_and_keeps_the_name(tmp_path, transcripts, errors):
    done = claude_sessions(
        "import", str(transcripts), "--json", "--store", str(tmp_path / "s"), errors=errors
    )
    report = json.loads(done.stdout.decode("utf-8"))
    bad_path = os.fsencode(project_dir(transcripts)) + b"/" + BAD_NAME
    named = [e for e in report["errors"] if os.fsencode(e.split(": ", 1)[0]) == bad_path]
    assert len(named) == 1, report["errors"]
    assert "not valid UTF-8" in done.stderr.decode()


@pytest.mark.parametrize("errors", STDOUT_ERRORS)
def test_import_summary_shows_the_name_as_escapes(tmp_path, transcripts, errors):
    done = claude_sessions(
        "import", str(transcripts), "--store", str(tmp_path / "s"), errors=errors
    )
    shown = ascii(os.fsdecode(BAD_NAME))[1:-1]  # bad\udcffname.jsonl
    assert f"{project_dir(transcripts)}/{shown}: " in done.stdout.decode("utf-8")


@pytest.mark.parametrize("errors", STDOUT_ERRORS)
def test_path_in_a_pipe_is_the_stores_own_bytes(tmp_path, errors):
    store = os.fsencode(tmp_path) + b"/store\xff"
    done = claude_sessions("path", "--store", store, errors=errors)
    assert done.stdout == store + b"/sessions.db\n"
    as_json = claude_sessions("path", "--json", "--store", store, errors=errors)
    location = json.loads(as_json.stdout.decode("utf-8"))["location"]
    assert os.fsencode(location) == store + b"/sessions.db"


@pytest.mark.parametrize("errors", STDOUT_ERRORS)
def test_prices_names_the_users_file_as_it_is_named(tmp_path, errors):
    folder = os.fsencode(tmp_path) + b"/[bold]odd\xff"
    os.mkdir(folder)
    prices = folder + b"/prices.json"
    with open(prices, "w") as file:
        json.dump({"models": {}}, file)
    done = claude_sessions(
        "prices", errors=errors, env={"CLAUDE_SESSIONS_PRICES": os.fsdecode(prices)}
    )
    assert ascii(os.fsdecode(prices))[1:-1] in done.stdout.decode("utf-8")
