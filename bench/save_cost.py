"""Benchmark: the cost of one save (a 30-message session) at a store's size, before and after.

    python bench/save_cost.py --backend postgresql --sizes 10000 100000
    python bench/save_cost.py --backend postgresql --against /path/to/other/checkout/src

The corpus is bench/store.py's (the same sessions, the same fake clock), built once
through the public ``save_session``. With ``--against``, that other checkout's code
builds it and times it, and a copy of it (``CREATE DATABASE ... TEMPLATE`` on
PostgreSQL, a copy of the folder on SQLite), opened (so upgraded) by this checkout's
code, is timed by this checkout, the two in turn, round by round (A B A B ...), each
round in a fresh child process saving new sessions: a machine whose speed drifts still
compares like with like. ``--profile`` (PostgreSQL) also prints, for this checkout, the
server's time per statement (``pg_stat_statements``, the triggers' statements included)
and per trigger function, per save. Times are medians of every save of every round.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
HERE = BENCH.parent / "src"
PROFILE_SETTINGS = {
    "shared_preload_libraries": "pg_stat_statements",
    "pg_stat_statements.track": "all",
    "track_functions": "all",
}


def child(argv: list[str]) -> None:
    """In a child process: ``build LOCATION FROM TO`` (the corpus's sessions FROM to TO)
    or ``save LOCATION COUNT SEED`` (prints each save's time)."""
    sys.path.insert(0, str(BENCH))
    import store as corpus_bench  # bench/store.py: the corpus and its build
    from claude_sessions import SessionStore

    action, location, count = argv[0], argv[1], int(argv[2])
    if action == "build":
        _build(corpus_bench, location, count, int(argv[3]))
        return
    sessions = list(corpus_bench.corpus(count, seed=int(argv[3])))
    times = []
    with SessionStore(location, cleanup_after_days=None) as store:
        for session in sessions:
            started = time.perf_counter()
            store.save_session(
                session["session_id"],
                session["messages"],
                tags=session["tags"],
                description=session["description"],
            )
            times.append((time.perf_counter() - started) * 1000)
    print(json.dumps(times))


def _build(corpus_bench: Any, location: str, start: int, end: int) -> None:
    """What bench/store.py's build does, from the ``start``-th session of its corpus."""
    from claude_sessions import SessionStore

    clock = [corpus_bench.NOW]
    with SessionStore(location, cleanup_after_days=None, clock=lambda: clock[0]) as store:
        driver: Any = store._driver
        if hasattr(driver, "_connect"):  # SQLite
            driver._connect().execute("PRAGMA synchronous = OFF")  # building only
        for index, session in enumerate(corpus_bench.corpus(end)):
            if index < start:
                continue
            clock[0] = session["created"]
            store.save_session(
                session["session_id"],
                session["messages"],
                tags=session["tags"],
                description=session["description"],
            )
        corpus_bench._index_aside(store)


def _run_child(src: Path, *args: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(src)}
    done = subprocess.run(
        [sys.executable, __file__, "--child", *args], env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"child {args[:1]} failed: {done.stderr[-2000:]}")
    return done.stdout


class Stores:
    """Where the two stores live: PostgreSQL databases of one server, or SQLite folders."""

    def __init__(self, backend: str, work: Path, stack: contextlib.ExitStack, profile: bool):
        self.backend, self.work = backend, work
        if backend == "postgresql":
            from claude_sessions.testing.postgres import TemporaryPostgres

            # Durability like SQLite's WAL + synchronous=NORMAL, as bench/store.py runs it.
            settings = {"fsync": "on", "full_page_writes": "on", "synchronous_commit": "off"}
            settings["shared_buffers"] = "1GB"
            if profile:
                settings.update(PROFILE_SETTINGS)
            self.server = stack.enter_context(TemporaryPostgres(settings=settings))
            self.server.create_database("before")

    def location(self, name: str) -> str:
        if self.backend == "postgresql":
            return self.server.url_for(name)
        return str(self.work / name)

    def copy(self, source: str, target: str) -> None:
        """A copy of store ``source``, set back one schema version: the last upgrade step
        (the split of run totals) stays last, so the steps a newer checkout adds take
        numbers from it, and a store at the older checkout's last version would skip them.
        Set back, the copy runs them, then that last step again (it changes nothing)."""
        if self.backend == "postgresql":
            import psycopg

            with psycopg.connect(self.server.url_for("postgres"), autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {target}")
                conn.execute(f"CREATE DATABASE {target} TEMPLATE {source}")
            with psycopg.connect(self.server.url_for(target), autocommit=True) as conn:
                conn.execute(
                    "UPDATE claude_sessions.store_meta SET value = (value::int - 1)::text "
                    "WHERE key = 'schema_version'"
                )
        else:
            import sqlite3

            shutil.rmtree(self.work / target, ignore_errors=True)
            shutil.copytree(self.work / source, self.work / target)
            conn = sqlite3.connect(self.work / target / "sessions.db")
            (found,) = conn.execute("PRAGMA user_version").fetchone()
            conn.execute(f"PRAGMA user_version = {found - 1}")
            conn.close()


def _median(times: list[float]) -> str:
    return f"{statistics.median(times):.2f}" if times else "-"


def measure(
    stores: Stores, size: int, rounds: int, saves: int, against: Path | None, profile: bool
) -> None:
    sides = {"this": (HERE, "after" if against else "before")}
    if against is not None:
        sides = {"before": (against, "before"), **sides}
        stores.copy("before", "after")
        _run_child(HERE, "save", stores.location("after"), "0", "1")  # upgrade it first
    found: dict[str, list[float]] = {name: [] for name in sides}
    for number in range(rounds):
        for name, (src, database) in sides.items():
            seed = 10_000 + size + number * 2 + (name == "this")
            out = _run_child(src, "save", stores.location(database), str(saves), str(seed))
            found[name].extend(json.loads(out)[1:])  # the first save warms the connection
    row = "  ".join(f"{name} {_median(times)} ms" for name, times in found.items())
    print(f"{size:>9,} sessions  save median: {row}", flush=True)
    if profile and stores.backend == "postgresql":
        _profile(stores, sides["this"][1], saves)


def _profile(stores: Stores, database: str, saves: int) -> None:
    import psycopg

    with psycopg.connect(stores.location(database), autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        conn.execute("SELECT pg_stat_statements_reset(), pg_stat_reset()")
        _run_child(HERE, "save", stores.location(database), str(saves), "777")
        print("  server time per save (ms), statements per save, statement:")
        rows = conn.execute(
            "SELECT toplevel, calls, total_exec_time, "
            "left(regexp_replace(query, '\\s+', ' ', 'g'), 100) FROM pg_stat_statements "
            "WHERE query NOT LIKE '%pg_stat%' ORDER BY total_exec_time DESC LIMIT 25"
        ).fetchall()
        for top, calls, total, query in rows:
            kind = "" if top else "(in a trigger) "
            print(f"  {total / saves:7.3f} {calls / saves:6.2f}  {kind}{query}")
        print("  trigger functions: ms per save (self), calls per save")
        for name, calls, total in conn.execute(
            "SELECT funcname, calls, self_time FROM pg_stat_user_functions ORDER BY 3 DESC"
        ):
            print(f"  {total / saves:7.3f} {calls / saves:6.2f}  {name}")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        child(argv[1:])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="postgresql")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--rounds", type=int, default=6, help="rounds per side and size")
    parser.add_argument("--saves", type=int, default=40, help="saves per round")
    parser.add_argument("--against", type=Path, help="the src folder of the code to compare")
    parser.add_argument("--profile", action="store_true", help="time each statement (PostgreSQL)")
    args = parser.parse_args(argv)
    builder = args.against or HERE
    with contextlib.ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="save-cost-")))
        stores = Stores(args.backend, work, stack, args.profile)
        built = 0
        for size in sorted(args.sizes):
            started = time.perf_counter()
            _run_child(builder, "build", stores.location("before"), str(built), str(size))
            print(f"built {size:,} sessions in {time.perf_counter() - started:.0f} s", flush=True)
            built = size  # the timed saves (new sessions) stay in the store too
            measure(stores, size, args.rounds, args.saves, args.against, args.profile)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
