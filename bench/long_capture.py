"""Benchmark: capturing one more turn of a long session (the write a capture hook makes
after each reply), on a session that already made 2,000 API requests.

    python bench/long_capture.py                          # this checkout
    python bench/long_capture.py --before /tmp/base/src   # and an older one, same run

Each side runs in its own child process, with ``PYTHONPATH`` set to its ``src``, on
its own temporary SQLite store: the session is built in batches of turns, then each
timed write appends one turn (a prompt and one request) through the public
``append_messages``. Times are medians in milliseconds.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve()
SRC = HERE.parent.parent / "src"
BATCH = 200


def turn(n: int) -> list[dict[str, Any]]:
    """A prompt and one API request, a second after the turn before."""
    seconds = 1_772_000_000 + n
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(seconds))
    return [
        {
            "type": "user",
            "uuid": f"u{n}",
            "sessionId": "s1",
            "timestamp": stamp,
            "message": {"role": "user", "content": f"prompt {n}"},
        },
        {
            "type": "assistant",
            "uuid": f"a{n}",
            "parentUuid": f"u{n}",
            "sessionId": "s1",
            "requestId": f"req-{n}",
            "timestamp": stamp,
            "message": {
                "id": f"msg-{n}",
                "role": "assistant",
                "model": "claude-sonnet-4-5",
                "content": [{"type": "text", "text": "ok"}],
                "usage": {"input_tokens": 1000, "output_tokens": 100},
            },
        },
    ]


def child(requests: int, repeat: int) -> dict[str, float]:
    from claude_sessions import SessionStore

    with tempfile.TemporaryDirectory() as directory, SessionStore(directory) as store:
        store.save_session("s1", turn(0))
        for start in range(1, requests, BATCH):
            batch = range(start, min(start + BATCH, requests))
            store.append_messages("s1", [entry for n in batch for entry in turn(n)])
        times = []
        for n in range(requests, requests + repeat):
            began = time.perf_counter()
            store.append_messages("s1", turn(n))
            times.append((time.perf_counter() - began) * 1000)
        assert store.get_metadata("s1").output_tokens == 100 * (requests + repeat)
    return {"median_ms": statistics.median(times), "max_ms": max(times)}


def _side(src: Path, requests: int, repeat: int) -> dict[str, float]:
    shown = subprocess.run(
        [
            sys.executable,
            str(HERE),
            "--child",
            "--requests",
            str(requests),
            "--repeat",
            str(repeat),
        ],
        env={**os.environ, "PYTHONPATH": str(src)},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(shown.stdout)  # type: ignore[no-any-return]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=21)
    parser.add_argument("--before", type=Path, help="the src folder of an older checkout")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.requests, args.repeat)))
        return 0
    sides = [("before", args.before)] if args.before else []
    sides.append(("this checkout", SRC))
    print(f"append one turn to a session of {args.requests:,} requests ({args.repeat} times)")
    for name, src in sides:
        found = _side(src, args.requests, args.repeat)
        print(f"  {name:14} median {found['median_ms']:7.2f} ms   max {found['max_ms']:7.2f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
