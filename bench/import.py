"""Import benchmark: a synthetic corpus of CLI transcripts, read floor vs full import.

    python bench/import.py            # 200 MB corpus
    python bench/import.py --mb 50 --profile

(a) the floor: read every line and ``json.loads`` it; (b) ``import_transcripts``
into a fresh store. Prints MB/s of each and their ratio (goal: import >= 120 MB/s
and at least a third of the floor's throughput, durability kept).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import random
import shutil
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from claude_sessions import SessionStore
from claude_sessions.importer import import_transcripts

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


def floor(root: Path) -> tuple[int, float]:
    started = time.perf_counter()
    size = 0
    for path in sorted(root.glob("projects/*/*.jsonl")):
        with path.open("rb") as handle:
            for line in handle:
                size += len(line)
                json.loads(line)
    return size, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mb", type=float, default=200.0, help="corpus size in MB (200)")
    parser.add_argument("--profile", action="store_true", help="cProfile the import")
    parser.add_argument("--keep", action="store_true", help="keep the temp directory")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="cs-import-bench-"))
    try:
        files, size = generate(work / "claude", args.mb)
        print(f"corpus: {files} files, {size / 1e6:.1f} MB in {work}")
        read, seconds = floor(work / "claude")
        floor_rate = read / 1e6 / seconds
        print(f"(a) read + json.loads: {seconds:6.2f} s  {floor_rate:7.1f} MB/s")
        with SessionStore(work / "store", cleanup_after_days=None) as store:
            profiler = cProfile.Profile() if args.profile else None
            if profiler:
                profiler.enable()
            started = time.perf_counter()
            report = import_transcripts(store, [work / "claude"])
            elapsed = time.perf_counter() - started
            if profiler:
                profiler.disable()
            rate = report.bytes_read / 1e6 / elapsed
            print(
                f"(b) full import:       {elapsed:6.2f} s  {rate:7.1f} MB/s  "
                f"({report.entries_imported} entries, {report.sessions_new} sessions)"
            )
            met = rate >= 120 and rate >= floor_rate / 3
            print(
                f"ratio import/floor: {elapsed / seconds:.2f}x slower "
                f"({rate / floor_rate:.0%} of the floor's throughput); goal >= 120 MB/s "
                f"and >= 1/3 of the floor: {'met' if met else 'NOT met'}"
            )
            started = time.perf_counter()
            again = import_transcripts(store, [work / "claude"])
            print(
                f"re-import (nothing changed): {time.perf_counter() - started:.3f} s, "
                f"{again.files_unchanged} files unchanged"
            )
            db = Path(store.location)
            print(f"store size: {db.stat().st_size / 1e6:.1f} MB")
            if profiler:
                stats = pstats.Stats(profiler)
                stats.sort_stats("cumulative").print_stats(25)
                stats.sort_stats("tottime").print_stats(20)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
