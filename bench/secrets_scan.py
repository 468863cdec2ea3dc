"""Secrets scan benchmark: the corpus of bench/import.py, imported, then scanned.

    python bench/secrets_scan.py             # 200 MB corpus, 3 rounds
    python bench/secrets_scan.py --mb 20 --rounds 1

Measures, in MB of transcript per second: (a) detection alone, every entry of the
corpus parsed and passed to ``entry_findings`` (the rules, no store); (b) the first
``secrets scan`` of a fresh store (entries read back in batches, scanned, findings
and marks written), median of the rounds, each on a fresh copy of the store; (c) a
re-scan with nothing added (only the marks are read). A handful of fake secrets is
planted in the corpus so the scan has findings to write; the count found is checked.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType

from claude_sessions import SessionStore
from claude_sessions.importer import import_transcripts
from claude_sessions.model.secrets import entry_findings
from claude_sessions.views.secrets import scan_secrets

HERE = Path(__file__).resolve().parent
PLANTED = 25  # sessions given one fake secret each


def _import_bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_import", HERE / "import.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_import"] = module
    spec.loader.exec_module(module)
    return module


def _fake_token(n: int) -> str:
    # Built here so no literal in the repository looks like a key.
    return "ghp" + "_" + f"{n:04d}Qz8Xw2Lm5Np7Rt9Vb3Kd6Hf1Jg4Sy0Ua"[:36]


def plant(root: Path) -> int:
    """Append one entry holding a fake token to the first ``PLANTED`` transcripts."""
    paths = sorted(root.glob("projects/*/*.jsonl"))[:PLANTED]
    for n, path in enumerate(paths):
        entry = {
            "type": "user",
            "uuid": f"planted-{n}",
            "message": {"role": "user", "content": f"export GITHUB_TOKEN={_fake_token(n)}"},
        }
        with path.open("a") as handle:
            handle.write(json.dumps(entry) + "\n")
    return len(paths)


def detection_alone(root: Path) -> tuple[float, int, int]:
    """Seconds, bytes and findings of ``entry_findings`` over every line."""
    size = found = 0
    entries = []
    for path in sorted(root.glob("projects/*/*.jsonl")):
        for line in path.read_bytes().splitlines():
            size += len(line)
            entries.append(json.loads(line))
    started = time.perf_counter()
    for entry in entries:
        found += len(entry_findings(entry))
    return time.perf_counter() - started, size, found


def first_scan(store_dir: Path, copy: Path) -> tuple[float, int]:
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(store_dir, copy)
    with SessionStore(str(copy), cleanup_after_days=None) as store:
        started = time.perf_counter()
        found = scan_secrets(store)
        return time.perf_counter() - started, len(found)


def rescan(store_dir: Path) -> float:
    with SessionStore(str(store_dir), cleanup_after_days=None) as store:
        started = time.perf_counter()
        scan_secrets(store)
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=200.0, help="corpus size in MB (200)")
    parser.add_argument("--rounds", type=int, default=3, help="first scans measured (3)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-secrets-"))
    try:
        root, store_dir = work / "claude", work / "store"
        files, _ = _import_bench().generate(root, args.mb)
        planted = plant(root)
        with SessionStore(str(store_dir), cleanup_after_days=None) as store:
            import_transcripts(store, [root])
        seconds, size, found = detection_alone(root)
        mb = size / 1e6
        print(f"corpus: {files} transcripts, {mb:.1f} MB, {planted} planted secrets")
        print(f"detection alone: {seconds:.2f} s, {mb / seconds:.1f} MB/s, {found} found")
        rounds = [first_scan(store_dir, work / "copy") for _ in range(args.rounds)]
        median = statistics.median(took for took, _ in rounds)
        counts = {count for _, count in rounds}
        print(f"first scan: {median:.2f} s, {mb / median:.1f} MB/s, findings {sorted(counts)}")
        first_scan(store_dir, store_dir.with_name("scanned"))
        print(f"re-scan, nothing new: {rescan(store_dir.with_name('scanned')):.3f} s")
        if counts != {planted}:
            sys.exit(f"expected {planted} findings, got {sorted(counts)}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
