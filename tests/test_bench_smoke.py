"""The benchmarks still run: each on a tiny corpus, so a change that breaks one shows here."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"


@pytest.mark.parametrize(
    ("script", "args", "expected"),
    [
        ("store.py", ["--sessions", "300"], "full-text (rare word)"),
        ("web.py", ["--sessions", "300"], "usage page, all time"),
        ("import.py", ["--mb", "2"], "re-import (nothing changed)"),
        ("cli.py", ["--sessions", "30", "--runs", "1"], "hooks capture"),
        ("secrets_scan.py", ["--mb", "2", "--rounds", "1"], "first scan"),
        pytest.param("overhead.py", ["--runs", "1"], "ratio", marks=pytest.mark.e2e),
    ],
)
def test_benchmark_runs(script, args, expected):
    done = subprocess.run(
        [sys.executable, str(BENCH / script), *args],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert expected in done.stdout
