"""Benchmark: what reads spend by request time, before and after: today's and this
month's spend (budgets, the status line), the usage page's hour-of-week grid, and the
``statusline`` command as a whole process.

    python bench/request_time.py --sessions 100000 --against /path/to/other/checkout/src

The store is bench/cli.py's (small sessions a minute apart, budgets set), built once by
the ``--against`` code; a copy of its folder, opened (so upgraded) by this checkout's
code, is timed by this checkout, the two in turn (A B A B ...), each round in a fresh
child process. SQLite (``--backend postgresql``: the same on a temporary server).
Times are medians.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from save_cost import HERE, Stores  # noqa: E402 - the sibling script

START = datetime(2026, 1, 1, tzinfo=timezone.utc)  # bench/cli.py's first session


def moment(sessions: int) -> datetime:
    """The time of the store's newest session (bench/cli.py's are a minute apart)."""
    return START + timedelta(minutes=sessions)


def child(argv: list[str]) -> None:
    """In a child process: ``build LOCATION COUNT`` or ``time LOCATION REPEAT SESSIONS``."""
    from claude_sessions import SessionStore

    action, location, count = argv[0], argv[1], int(argv[2])
    if action == "build":
        import cli as cli_bench  # bench/cli.py

        cli_bench.build_store(Path(location) if "://" not in location else location, count)
        return
    from claude_sessions.views.budgets import spent_this_month, spent_today
    from claude_sessions.views.stats import week_hours
    from claude_sessions.web.filters import UsageView

    found: dict[str, list[float]] = {"today": [], "this month": [], "hour-of-week": []}
    now = moment(int(argv[3]))
    where = UsageView.read({}, now.date()).session_filter()  # type: ignore[arg-type]
    with SessionStore(location, cleanup_after_days=None) as store:
        for _ in range(count):
            for name, read in (
                ("today", lambda: spent_today(store, now)),
                ("this month", lambda: spent_this_month(store, now)),
                ("hour-of-week", lambda: week_hours(store, None)),
                ("hour-of-week, last days", lambda: week_hours(store, where)),
            ):
                started = time.perf_counter()
                read()
                found.setdefault(name, []).append((time.perf_counter() - started) * 1000)
    print(json.dumps(found))


def _statusline(src: Path, location: str, payload: bytes) -> float:
    env = {**os.environ, "PYTHONPATH": str(src), "CLAUDE_SESSIONS_CLEANUP_DAYS": "never"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as users' installs run
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "claude_sessions", "statusline", "--store", location],
        input=payload,
        env=env,
        capture_output=True,
        check=True,
    )
    return (time.perf_counter() - started) * 1000


def main() -> int:
    if sys.argv[1:2] == ["--child"]:
        child(sys.argv[2:])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--sessions", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--against", type=Path, required=True, help="the other src folder")
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="request-time-")))
        stores = Stores(args.backend, work, stack, profile=False)
        started = time.perf_counter()
        _run(args.against, "build", stores.location("before"), str(args.sessions))
        print(f"built {args.sessions:,} sessions in {time.perf_counter() - started:.0f} s")
        stores.copy("before", "after")
        count = str(args.sessions)
        _run(HERE, "time", stores.location("after"), "1", count)  # upgrade it first
        sides = {"before": (args.against, "before"), "after": (HERE, "after")}
        payload = json.dumps({"session_id": "x", "cwd": "/repo", "model": {}}).encode()
        found: dict[str, dict[str, list[float]]] = {name: {} for name in sides}
        for _ in range(args.rounds):
            for name, (src, database) in sides.items():
                for key, times in json.loads(
                    _run(src, "time", stores.location(database), "5", count)
                ).items():
                    found[name].setdefault(key, []).extend(times[1:])
                line = _statusline(src, stores.location(database), payload)
                found[name].setdefault("statusline (process)", []).append(line)
        for key in found["before"]:
            row = "  ".join(f"{name} {statistics.median(found[name][key]):8.2f}" for name in sides)
            print(f"{key:<26} ms: {row}")
    return 0


def _run(src: Path, *args: str) -> str:
    env = {**os.environ, "PYTHONPATH": f"{src}:{BENCH}"}
    done = subprocess.run(
        [sys.executable, __file__, "--child", *args], env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"child {args[:1]} failed: {done.stderr[-2000:]}")
    return done.stdout


if __name__ == "__main__":
    raise SystemExit(main())
