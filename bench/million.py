"""Benchmark: how the store's searches grow with the store (issue 28's query shapes).

Builds (or reuses) SQLite stores of each ``--sizes`` count of small sessions (8
messages each, dates spread over a year, 0 to 3 of 40 tags) through the public
``save_session``, then times each operation (medians)
against a copy of each store, once per source tree given with ``--code``
(``before=/path/to/src``: each side runs in its own process with that
``PYTHONPATH``, so an older checkout and this one are measured in one run). The
growth column is the largest size's time over the smallest's: flat stays near 1.

    python bench/million.py --sizes 100000,300000 --dir /tmp/million \\
        --code before=/tmp/base/src --code after=src
    python bench/million.py --sizes 2000 --code now=src     # a quick run
    python bench/million.py --backend postgresql --sizes 100000 --code now=src
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

NOW = datetime(2026, 11, 1, tzinfo=timezone.utc)
TAGS = [f"tag{i}" for i in range(40)]
MODELS = ["claude-sonnet-4-5-20250929", "claude-opus-4-5-20251101", "claude-haiku-4-5-20251001"]
WORDS = [f"w{n}" for n in range(2000)]
PAGE = 50


def make_session(rng: random.Random, index: int) -> dict[str, Any]:
    """A session of 8 messages (init, prompt, three answers, two tool results, result)."""
    sid = f"{index:08x}-{rng.getrandbits(16):04x}-4000-8000-{rng.getrandbits(48):012x}"
    model = rng.choice(MODELS)
    cost = round(rng.uniform(0.0, 2.0), 6)

    def text(count: int) -> str:
        return " ".join(rng.choices(WORDS, k=count))

    def answer(n: int) -> dict[str, Any]:
        usage = {"input_tokens": rng.randint(5, 5000), "output_tokens": rng.randint(5, 800)}
        return {
            "type": "assistant",
            "message": {
                "id": f"msg_{sid}_{n}",
                "role": "assistant",
                "model": model,
                "content": [{"type": "text", "text": text(20)}],
                "usage": usage,
            },
            "session_id": sid,
            "uuid": f"{sid}-a{n}",
        }

    def result_of(n: int) -> dict[str, Any]:
        content = [{"type": "tool_result", "tool_use_id": f"t{n}", "content": text(10)}]
        return {
            "type": "user",
            "message": {"role": "user", "content": content},
            "session_id": sid,
            "uuid": f"{sid}-u{n}",
        }

    init = {"type": "system", "subtype": "init", "cwd": f"/home/dev/p{rng.randrange(50)}"}
    prompt = {"type": "user", "message": {"role": "user", "content": text(8)}}
    result = {"type": "result", "subtype": "success", "num_turns": 3, "total_cost_usd": cost}
    messages = [
        {**init, "session_id": sid, "model": model, "uuid": f"{sid}-i"},
        {**prompt, "session_id": sid, "uuid": f"{sid}-p"},
        answer(0),
        result_of(0),
        answer(1),
        result_of(1),
        answer(2),
        {**result, "session_id": sid, "uuid": f"{sid}-r"},
    ]
    return {
        "session_id": sid,
        "messages": messages,
        "tags": rng.sample(TAGS, rng.randint(0, 3)),
        "created": NOW - timedelta(seconds=rng.uniform(0, 365 * 86400)),
    }


def build(location: str, count: int) -> None:
    """Fill the store at ``location`` with ``count`` sessions (a fake clock spreads them)."""
    from claude_sessions import SessionStore

    clock = [NOW]
    rng = random.Random(1)
    with SessionStore(location, cleanup_after_days=None, clock=lambda: clock[0]) as store:
        driver: Any = store._driver
        if hasattr(driver, "_connect"):  # SQLite: building only
            driver._connect().execute("PRAGMA synchronous = OFF")
        # Not bulk_writes: over a few hundred thousand sessions its log outgrew the disk.
        for index in range(count):
            session = make_session(rng, index)
            clock[0] = session["created"]
            store.save_session(session["session_id"], session["messages"], tags=session["tags"])


def median_ms(action: Callable[[], Any], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def operations(store: Any) -> dict[str, Callable[[], Any]]:
    from claude_sessions.views.stats import compute_stats

    march, april = date(2026, 3, 1), date(2026, 3, 31)
    month_ago = NOW - timedelta(days=30)
    return {
        "version()": store.version,
        "list page": lambda: store.search_page(limit=PAGE),
        "search by tag": lambda: store.search(tags=["tag3"], limit=PAGE),
        "tag + date + cost": lambda: store.search(
            tags=["tag3"], after=march, before=april, min_cost=0.5, limit=PAGE
        ),
        "date range": lambda: store.search(after=march, before=april, limit=PAGE),
        "cost range": lambda: store.search(min_cost=0.5, max_cost=0.6, limit=PAGE),
        "sort by cost": lambda: store.search(order="cost", limit=PAGE),
        "cost range by cost": lambda: store.search(
            min_cost=0.5, max_cost=0.6, order="cost", limit=PAGE
        ),
        "compute_stats all time": lambda: compute_stats(store, now=NOW.timestamp()),
        "compute_stats last 30 days": lambda: compute_stats(
            store, after=month_ago, now=NOW.timestamp()
        ),
    }


def measure(location: str) -> dict[str, float]:
    from claude_sessions import SessionStore

    results: dict[str, float] = {}
    start = time.perf_counter()
    store = SessionStore(location, cleanup_after_days=None)  # an upgrade runs here
    results["open (upgrade included)"] = (time.perf_counter() - start) * 1000
    with store:
        for name, action in operations(store).items():
            action()  # warm the cache
            results[name] = median_ms(action, 15 if name.startswith("compute") else 30)
        for page, url in (("", "/"), (" of one tag", "/?tags=tag3")):
            results[f"web list page{page}"] = median_ms(_web_page(store, url), 30)
    return results


def _web_page(store: Any, url: str) -> Callable[[], Any]:
    """A request for the web app's page at ``url``, in-process (no network): server time."""
    import asyncio

    import httpx2 as httpx

    from claude_sessions.web import create_app

    transport = httpx.ASGITransport(app=create_app(store, read_only=True))
    loop = asyncio.new_event_loop()

    async def get() -> None:
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            response = await client.get(url)
            assert response.status_code == 200, response.text[:300]

    loop.run_until_complete(get())  # templates compiled
    return lambda: loop.run_until_complete(get())


def _copy(source: Path, target: Path) -> None:
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(source, target)


def _child(code: str, mode: str, location: str, count: int) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(Path(code).resolve())}
    args = [sys.executable, __file__, f"--{mode}", location, "--sessions", str(count)]
    done = subprocess.run(args, env=env, check=True, capture_output=True, text=True)
    return dict(json.loads(done.stdout.splitlines()[-1]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,300000")
    parser.add_argument("--dir", default="/tmp/million-bench")
    parser.add_argument("--code", action="append", default=[], help="name=path to src")
    parser.add_argument("--build", help=argparse.SUPPRESS)
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--sessions", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.build:
        build(args.build, args.sessions)
        return 0
    if args.measure:
        print(json.dumps(measure(args.measure)))
        return 0
    codes = dict(item.split("=", 1) for item in args.code) or {"now": "src"}
    first_code = next(iter(codes.values()))
    sizes = [int(size) for size in args.sizes.split(",")]
    table: dict[tuple[str, int], dict[str, float]] = {}
    for count in sizes:
        built = Path(args.dir) / f"built-{count}"
        if not (built / "sessions.db").exists():
            start = time.perf_counter()
            shutil.rmtree(built, ignore_errors=True)
            env = {**os.environ, "PYTHONPATH": str(Path(first_code).resolve())}
            subprocess.run(
                [sys.executable, __file__, "--build", str(built), "--sessions", str(count)],
                env=env,
                check=True,
            )
            print(f"built {count:,} sessions in {time.perf_counter() - start:.0f} s", flush=True)
        for name, code in codes.items():
            copy = Path(args.dir) / f"run-{name}-{count}"
            _copy(built, copy)
            table[name, count] = _child(code, "measure", str(copy), count)
            shutil.rmtree(copy, ignore_errors=True)
    _report(table, codes, sizes)
    return 0


def _report(
    table: dict[tuple[str, int], dict[str, float]], codes: dict[str, str], sizes: list[int]
) -> None:
    names = list(codes)
    header = [f"{name} {size // 1000}k" for name in names for size in sizes]
    growth = [f"{name} growth" for name in names] if len(sizes) > 1 else []
    print("| operation (ms) | " + " | ".join(header + growth) + " |")
    print("|---" * (1 + len(header) + len(growth)) + "|")
    for operation in table[names[0], sizes[0]]:
        cells = [f"{table[name, size][operation]:.2f}" for name in names for size in sizes]
        for name in names if len(sizes) > 1 else []:
            low, high = table[name, sizes[0]][operation], table[name, sizes[-1]][operation]
            cells.append(f"x{high / low:.1f}" if low > 0 else "-")
        print(f"| {operation} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    sys.exit(main())
