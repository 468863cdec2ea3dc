"""Import benchmark: a synthetic corpus of CLI transcripts, read floor vs full import.

    python bench/import.py            # 200 MB corpus, 3 rounds
    python bench/import.py --mb 50 --rounds 1 --profile

Each round, each in a fresh process: (a) the floor: read every line and
``json.loads`` it; (b) SQLite alone: every line, unparsed, inserted into a
table shaped like the store's entries (what storing costs before any of the
import's own work); (c) ``import_transcripts`` into a fresh store as it runs
(a large import reads in a second process); (d) the same with the reading
done in the importing process. Prints the medians, MB/s, each import's ratio
to the floor measured in the same run, and peak memory (the importing
process, and its reading process). Goal: (c) >= 120 MB/s and at least a
third of the floor's throughput, durability kept (synchronous=NORMAL), under
200 MB. Then: importing again with nothing changed, and one file whose single
line is --line-mb MB (its peak memory).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import random
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from claude_sessions import SessionStore
from claude_sessions.importer import import_transcripts, reading, worker

WORDS = [
    "the",
    "parser",
    "reads",
    "tokens",
    "from",
    "stream",
    "and",
    "builds",
    "tree",
    "of",
    "nodes",
    "then",
    "checker",
    "walks",
    "it",
    "to",
    "find",
    "errors",
    "before",
    "code",
    "generation",
    "emits",
    "bytecode",
    "for",
    "each",
    "function",
    "while",
    "tests",
    "cover",
    "edge",
    "cases",
    "like",
    "empty",
    "input",
    "unicode",
    "deep",
    "nesting",
]


def prose(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words))


def code_blob(rng: random.Random, lines: int) -> str:
    return "\n".join(
        f"{i:4d}  def f_{rng.randrange(10**6)}(x): return x * {rng.randrange(100)}"
        f"  # {prose(rng, 6)}"
        for i in range(lines)
    )


def session_lines(rng: random.Random, session_id: str, target_bytes: int, cwd: str) -> list[str]:
    lines: list[str] = []
    size = 0
    parent: str | None = None
    minute = 0

    def common() -> dict[str, Any]:
        nonlocal minute
        minute += 1
        return {
            "parentUuid": parent,
            "isSidechain": False,
            "userType": "external",
            "cwd": cwd,
            "sessionId": session_id,
            "version": "2.1.331",
            "gitBranch": "main",
            "entrypoint": "cli",
            "uuid": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "timestamp": f"2026-10-{1 + minute // 1440 % 28:02d}T"
            f"{minute // 60 % 24:02d}:{minute % 60:02d}:00.000Z",
        }

    def emit(entry: dict[str, Any]) -> None:
        nonlocal size, parent
        text = json.dumps(entry, separators=(",", ":"))
        lines.append(text)
        size += len(text) + 1
        if "uuid" in entry:
            parent = entry["uuid"]

    while size < target_bytes:
        prompt = prose(rng, rng.randrange(5, 60))
        emit(
            {
                "type": "queue-operation",
                "operation": "enqueue",
                "sessionId": session_id,
                "timestamp": "2026-10-01T00:00:00.000Z",
                "content": prompt,
            }
        )
        emit({**common(), "type": "user", "message": {"role": "user", "content": prompt}})
        emit(
            {
                **common(),
                "type": "attachment",
                "attachment": {"type": "date", "date": "2026-10-01"},
                "rendered": [
                    {"content": "<system-reminder>" + prose(rng, 30) + "</system-reminder>"}
                ],
            }
        )
        for _ in range(rng.randrange(1, 5)):
            tool_id = f"toolu_{rng.getrandbits(64):x}"
            message_id = f"msg_{rng.getrandbits(64):x}"
            usage = {
                "input_tokens": rng.randrange(10, 5000),
                "output_tokens": rng.randrange(10, 900),
                "cache_read_input_tokens": rng.randrange(0, 50000),
                "cache_creation_input_tokens": rng.randrange(0, 3000),
            }
            emit(
                {
                    **common(),
                    "type": "assistant",
                    "message": {
                        "id": message_id,
                        "type": "message",
                        "role": "assistant",
                        "model": "claude-sonnet-4-5-20250929",
                        "content": [
                            {
                                "type": "tool_use",
                                "id": tool_id,
                                "name": "Read",
                                "input": {"file_path": f"{cwd}/src/mod_{rng.randrange(99)}.py"},
                            }
                        ],
                        "stop_reason": "tool_use",
                        "usage": usage,
                    },
                }
            )
            emit(
                {
                    **common(),
                    "type": "user",
                    "message": {
                        "role": "user",
                        "content": [
                            {
                                "type": "tool_result",
                                "tool_use_id": tool_id,
                                "content": code_blob(rng, rng.randrange(5, 120)),
                            }
                        ],
                    },
                    "toolUseResult": {"type": "text", "file": {"numLines": 40}},
                }
            )
        emit(
            {
                **common(),
                "type": "assistant",
                "message": {
                    "id": f"msg_{rng.getrandbits(64):x}",
                    "type": "message",
                    "role": "assistant",
                    "model": "claude-sonnet-4-5-20250929",
                    "content": [{"type": "text", "text": prose(rng, rng.randrange(20, 400))}],
                    "stop_reason": "end_turn",
                    "usage": {"input_tokens": 100, "output_tokens": 300},
                },
            }
        )
        emit({"type": "last-prompt", "lastPrompt": prompt[:50], "sessionId": session_id})
    return lines


def generate(root: Path, total_mb: float, seed: int = 7) -> tuple[int, int]:
    rng = random.Random(seed)
    total = int(total_mb * 1e6)
    written = files = 0
    while written < total:
        project = root / "projects" / f"-home-dev-project-{files % 12}"
        project.mkdir(parents=True, exist_ok=True)
        session_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        size = min(int(rng.lognormvariate(13.2, 1.0)), 8_000_000, total - written + 1000)
        text = "\n".join(
            session_lines(rng, session_id, max(size, 2000), f"/home/dev/p{files % 12}")
        )
        path = project / f"{session_id}.jsonl"
        path.write_text(text + "\n")
        written += path.stat().st_size
        files += 1
    return files, written


def floor(root: Path) -> dict[str, Any]:
    started = time.perf_counter()
    size = 0
    for path in sorted(root.glob("projects/*/*.jsonl")):
        with path.open("rb") as handle:
            for line in handle:
                size += len(line)
                json.loads(line)
    return {"seconds": time.perf_counter() - started, "bytes": size}


def insert_floor(root: Path, store_dir: Path) -> dict[str, Any]:
    """SQLite alone: every line, unparsed, into a table shaped like the store's entries
    (its two indexes), 5,000 rows a transaction, WAL, synchronous=NORMAL."""
    store_dir.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(store_dir / "floor.db", isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = NORMAL")
    db.execute(
        "CREATE TABLE entries (id INTEGER PRIMARY KEY, session_ref INTEGER NOT NULL, "
        "subpath TEXT NOT NULL, seq INTEGER NOT NULL, entry_key TEXT, data TEXT NOT NULL, "
        "UNIQUE (session_ref, subpath, seq))"
    )
    db.execute("CREATE UNIQUE INDEX entries_by_key ON entries (session_ref, subpath, entry_key)")
    started = time.perf_counter()
    size = 0
    rows: list[tuple[int, str, int, str, str]] = []
    for ref, path in enumerate(sorted(root.glob("projects/*/*.jsonl"))):
        with path.open("rb") as handle:
            for seq, line in enumerate(handle):
                size += len(line)
                rows.append((ref, "", seq, str(seq), line.rstrip(b"\n").decode()))
                if len(rows) == 5000:
                    db.execute("BEGIN IMMEDIATE")
                    db.executemany("INSERT INTO entries VALUES (NULL, ?, ?, ?, ?, ?)", rows)
                    db.execute("COMMIT")
                    rows.clear()
    db.execute("BEGIN IMMEDIATE")
    db.executemany("INSERT INTO entries VALUES (NULL, ?, ?, ?, ?, ?)", rows)
    db.execute("COMMIT")
    seconds = time.perf_counter() - started
    db.close()
    return {"seconds": seconds, "bytes": size}


def run_import(root: Path, store_dir: Path, mode: str, profile: bool) -> dict[str, Any]:
    if mode == "here":  # the same import, its reading done in this process
        worker.read_in_worker = reading.read_jobs  # type: ignore[assignment]
    with SessionStore(store_dir, cleanup_after_days=None) as store:
        profiler = cProfile.Profile() if profile else None
        if profiler:
            profiler.enable()
        started = time.perf_counter()
        report = import_transcripts(store, [root])
        seconds = time.perf_counter() - started
        if profiler:
            profiler.disable()
            pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime").print_stats(20)
        started = time.perf_counter()
        again = import_transcripts(store, [root])
        result = {
            "seconds": seconds,
            "bytes": report.bytes_read,
            "entries": report.entries_imported,
            "sessions": report.sessions_new,
            "bad": report.bad_lines,
            "again": time.perf_counter() - started,
            "unchanged": again.files_unchanged,
            "index_seconds": _index_after(store),
        }
    result["store_mb"] = sum(path.stat().st_size for path in store_dir.iterdir()) / 1e6
    return result


def _index_after(store: SessionStore) -> float | None:
    """The time the indexer of tool calls and subagents then takes (what ``import`` leaves
    to a background process), where the checkout has one; at normal priority here."""
    try:
        from claude_sessions.store.search_index import update_search_index
    except ImportError:
        return None
    started = time.perf_counter()
    update_search_index(store)
    return time.perf_counter() - started


def child(args: argparse.Namespace) -> None:
    """One measurement in this (fresh) process; prints it as JSON with the peak memory."""
    root, store_dir = Path(args.child[1]), Path(args.child[2])
    mode = args.child[0]
    if mode == "floor":
        result = floor(root)
    elif mode == "insert":
        result = insert_floor(root, store_dir)
    else:
        result = run_import(root, store_dir, mode, args.profile)
    result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result["worker_peak_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps(result))


def measure(mode: str, root: Path, store_dir: Path, profile: bool = False) -> dict[str, Any]:
    shutil.rmtree(store_dir, ignore_errors=True)
    os.sync()  # the disk's backlog (the corpus, the last store) is not this run's
    command = [sys.executable, __file__, "--child", mode, str(root), str(store_dir)]
    done = subprocess.run(command + (["--profile"] * profile), capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    if profile:
        print(done.stderr)
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def huge_line(root: Path, megabytes: float) -> None:
    """A session whose tool result is one line of ``megabytes`` MB, between normal lines."""
    rng = random.Random(11)
    session_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    lines = session_lines(rng, session_id, 20_000, "/home/dev/huge")
    entry = json.loads(lines[4])
    entry["message"]["content"] = [{"type": "tool_result", "tool_use_id": "t", "content": ""}]
    blob = code_blob(rng, int(megabytes * 1e6 / 80) + 1)
    entry["message"]["content"][0]["content"] = blob[: int(megabytes * 1e6)]
    lines[4] = json.dumps(entry, separators=(",", ":"))
    project = root / "projects" / "-home-dev-huge"
    project.mkdir(parents=True, exist_ok=True)
    (project / f"{session_id}.jsonl").write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mb", type=float, default=200.0, help="corpus size in MB (200)")
    parser.add_argument("--rounds", type=int, default=3, help="measurements of each (3)")
    parser.add_argument("--line-mb", type=float, default=32.0, help="the one huge line (32)")
    parser.add_argument("--profile", action="store_true", help="cProfile the first import")
    parser.add_argument("--keep", action="store_true", help="keep the temp directory")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    work = Path(tempfile.mkdtemp(prefix="cs-import-bench-"))
    try:
        files, size = generate(work / "claude", args.mb)
        print(f"corpus: {files} files, {size / 1e6:.1f} MB in {work}")
        modes = ("floor", "insert", "worker", "here")
        runs: dict[str, list[dict[str, Any]]] = {mode: [] for mode in modes}
        for round_number in range(args.rounds):
            for mode in runs:
                profile = args.profile and round_number == 0 and mode == "worker"
                runs[mode].append(measure(mode, work / "claude", work / "store", profile))
        floor_s = statistics.median(r["seconds"] for r in runs["floor"])
        floor_rate = size / 1e6 / floor_s
        print(f"median of {args.rounds} rounds, each in a fresh process:")
        print(f"(a) read + json.loads:   {floor_s:6.2f} s  {floor_rate:7.1f} MB/s")
        insert_s = statistics.median(r["seconds"] for r in runs["insert"])
        print(
            f"(b) SQLite insert alone: {insert_s:6.2f} s  {size / 1e6 / insert_s:7.1f} MB/s  "
            "(every line unparsed into an entries-shaped table)"
        )
        for label, mode in (("(c) import", "worker"), ("(d) import, reading here", "here")):
            seconds = statistics.median(r["seconds"] for r in runs[mode])
            rate = size / 1e6 / seconds
            last = runs[mode][-1]
            print(
                f"{label + ':':27s}{seconds:6.2f} s  {rate:7.1f} MB/s  "
                f"{rate / floor_rate:4.0%} of the floor  peak {last['peak_mb']:.0f} MB"
                + (
                    f" + reading process {last['worker_peak_mb']:.0f} MB"
                    if mode == "worker"
                    else ""
                )
                + f"  ({last['entries']} entries, {last['sessions']} sessions)"
            )
        seconds = statistics.median(r["seconds"] for r in runs["worker"])
        rate = size / 1e6 / seconds
        here = statistics.median(r["seconds"] for r in runs["here"])
        print(f"reading in a second process: {here / seconds:.2f}x the import reading here")
        indexed = [r["index_seconds"] for r in runs["worker"] if r.get("index_seconds")]
        if indexed:
            index_s = statistics.median(indexed)
            print(
                f"(e) background indexer after (c): {index_s:6.2f} s  "
                f"{size / 1e6 / index_s:7.1f} MB/s  (tool calls and subagents, for search)"
            )
        met = rate >= 120 and rate >= floor_rate / 3
        print(
            f"ratio import/floor: {seconds / floor_s:.2f}x slower ({rate / floor_rate:.0%} of the "
            f"floor's throughput); goal >= 120 MB/s and >= 1/3 of the floor: "
            f"{'met' if met else 'NOT met'}"
        )
        print(f"the import's time: {seconds / insert_s:.2f}x SQLite's insert alone")
        last = runs["worker"][-1]
        print(
            f"re-import (nothing changed): {last['again']:.3f} s, {last['unchanged']} files "
            f"unchanged; store size: {last['store_mb']:.1f} MB"
        )
        line_root = work / "huge"
        huge_line(line_root, args.line_mb)
        one = measure("worker", line_root, work / "huge-store")
        print(
            f"one line of {args.line_mb:g} MB: imported in {one['seconds']:.2f} s, peak "
            f"{one['peak_mb']:.0f} MB ({one['entries']} entries, {one['bad']} bad)"
        )
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
