"""Benchmark: how fast each command starts, as a whole process, against a floor.

The floor is a Python process that imports what any command line of this
kind needs (``python -c "import sqlite3, click, rich.table, rich.console"``).
Each command is timed paired with the floor, A B A B ..., in one run, and
the ratio is taken pair by pair, so a machine whose speed drifts still
compares like with like. Goal: every command at most 2x the floor.

    python bench/cli.py                   # a store of 2,000 sessions, 21 pairs each
    python bench/cli.py --sessions 20000 --runs 41
    python bench/cli.py --store /tmp/bench/ours --only list,search,show,stats  # a built store

The children run with bytecode caching on (``PYTHONDONTWRITEBYTECODE`` is
removed from their environment), as users' installs do; one warm-up run of
each command comes first. ``hooks capture`` imports a transcript that grows
by one turn (12 lines) before each call, as it does in Claude Code;
``statusline`` gets the JSON Claude Code passes its status line (a stored
session). Goal for ``statusline`` alone: under 100 ms. ``--team-server`` also times
``hooks capture`` sending each turn to a real ``serve --auth`` on this machine (its own
store), as ``hooks install --server`` sets it up.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

FLOOR = [sys.executable, "-c", "import sqlite3, click, rich.table, rich.console"]
GOAL = 2.0


def build_store(location: Path, sessions: int) -> str:
    """A store of ``sessions`` small sessions; returns one of their ids."""
    from claude_sessions import SessionStore
    from claude_sessions.store.budgets import Budgets

    rng = random.Random(7)
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    moment = [start]
    with SessionStore(location, cleanup_after_days=None, clock=lambda: moment[0]) as store:
        sid = ""
        for n in range(sessions):
            moment[0] = start + timedelta(minutes=n)
            sid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            store.save_session(
                sid,
                [
                    {
                        "type": "system",
                        "subtype": "init",
                        "session_id": sid,
                        "cwd": "/repo",
                        "model": "claude-sonnet-4-5",
                    },
                    {
                        "type": "user",
                        "message": {"role": "user", "content": f"fix the parser bug {n}"},
                    },
                    {
                        "type": "assistant",
                        "message": {
                            "id": f"m{n}",
                            "role": "assistant",
                            "model": "claude-sonnet-4-5",
                            "content": [{"type": "text", "text": "Fixed the tokenizer."}],
                            "usage": {"input_tokens": 100, "output_tokens": 20},
                        },
                    },
                ],
                tags=["bench", f"t{n % 10}"],
            )
        # Budgets set, so that the status line and stats work out their spend too.
        store.run(store.core.set_budgets(Budgets(daily=1.0, monthly=30.0)))
    return sid


def transcript_turn(session_id: str, turn: int) -> str:
    """Twelve transcript lines of one turn, with fresh uuids."""
    lines = []
    parent = None
    for n in range(12):
        kind = "assistant" if n == 11 else ("user" if n == 0 else "attachment")
        entry = {
            "parentUuid": parent,
            "type": kind,
            "uuid": str(uuid.uuid4()),
            "sessionId": session_id,
            "timestamp": "2026-11-25T10:00:00.000Z",
            "cwd": "/repo",
            "message": {"role": "user" if kind != "assistant" else "assistant",
                        "content": f"turn {turn} line {n} " + "x" * 400},
        }  # fmt: skip
        parent = entry["uuid"]
        lines.append(json.dumps(entry))
    return "\n".join(lines) + "\n"


def newest_session(location: Path) -> str:
    from claude_sessions import SessionStore

    with SessionStore(location, cleanup_after_days=None) as store:
        return store.list_sessions(limit=1)[0].session_id


def timed(argv: list[str], env: dict[str, str], stdin: bytes | None) -> float:
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, input=stdin, capture_output=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{argv[3:]} failed: {done.stderr.decode()[-500:]}")
    return elapsed


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=21, help="pairs per command")
    parser.add_argument("--team-server", action="store_true", help="also capture to a server")
    parser.add_argument("--store", type=Path, help="an existing store instead of a built one")
    parser.add_argument("--only", help="the commands to time, by their first word: list,show")
    return parser.parse_args()


def main() -> None:
    args = parse_args()

    work = Path(tempfile.mkdtemp(prefix="cli-bench-"))
    store = args.store or work / "store"
    if args.store:
        sid = newest_session(store)
    else:
        print(f"Building a store of {args.sessions:,} sessions...", file=sys.stderr)
        sid = build_store(store, args.sessions)
    hook_session = str(uuid.uuid4())
    transcript = work / "projects" / "-repo" / f"{hook_session}.jsonl"
    transcript.parent.mkdir(parents=True)
    transcript.write_text(transcript_turn(hook_session, 0))
    payload = json.dumps(
        {"session_id": hook_session, "transcript_path": str(transcript),
         "cwd": "/repo", "hook_event_name": "Stop"}
    ).encode()  # fmt: skip

    status_payload = json.dumps(
        {"session_id": sid, "transcript_path": str(transcript), "cwd": "/repo",
         "model": {"id": "claude-sonnet-4-5", "display_name": "Sonnet 4.5"},
         "workspace": {"current_dir": "/repo", "project_dir": "/repo"},
         "cost": {"total_cost_usd": 0.01}}
    ).encode()  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["CLAUDE_SESSIONS_STORE"] = str(store)
    env["CLAUDE_SESSIONS_CLEANUP_DAYS"] = "never"
    env["CLAUDE_CONFIG_DIR"] = str(work)  # the hook reads transcripts under its projects/ only
    tool = [sys.executable, "-m", "claude_sessions"]
    commands = {
        "--version": [*tool, "--version"],
        "list --limit 5": [*tool, "list", "--limit", "5"],
        "search TEXT": [*tool, "search", "tokenizer", "--limit", "5"],
        "show ID": [*tool, "show", sid if args.store else sid[:8]],  # copies share prefixes
        "stats": [*tool, "stats"],
        "hooks capture": [*tool, "hooks", "capture", "--store", str(store)],
        "statusline": [*tool, "statusline", "--store", str(store)],
    }
    if args.team_server:
        commands["capture +server"] = commands["hooks capture"]
    if args.only:
        wanted = set(args.only.split(","))
        commands = {name: argv for name, argv in commands.items() if name.split()[0] in wanted}
    turn = [0]

    def grow() -> None:
        turn[0] += 1
        with transcript.open("a") as out:
            out.write(transcript_turn(hook_session, turn[0]))

    print(f"{'command':<16} {'median ms':>10} {'floor ms':>9} {'ratio':>6}  goal <= {GOAL:g}x")
    server = None
    for name, argv in commands.items():
        if name == "capture +server":
            server = team_server(work, store, env)
        stdin = {"statusline": status_payload}.get(name, payload if "capture" in name else None)
        timed(argv, env, stdin)  # warm-up: bytecode written, caches filled
        timed(FLOOR, env, None)
        ours, floor, ratios = [], [], []
        for _ in range(args.runs):
            if "capture" in name:
                grow()
            a = timed(argv, env, stdin)
            b = timed(FLOOR, env, None)
            ours.append(a)
            floor.append(b)
            ratios.append(a / b)
        ratio = statistics.median(ratios)
        print(
            f"{name:<16} {statistics.median(ours) * 1000:>10.0f} "
            f"{statistics.median(floor) * 1000:>9.0f} {ratio:>6.2f}  "
            f"{'ok' if ratio <= GOAL else 'over'}"
        )
    if server is not None:
        server.kill()
        server.wait()
        log = (store / "capture.log").read_text().splitlines()
        print(f"last capture: {log[-1]}", file=sys.stderr)


def team_server(work: Path, store: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    """A ``serve --auth`` on its own store, and ``store``'s captures sent to it."""
    import re

    from claude_sessions import SessionStore
    from claude_sessions.capture import server_config
    from claude_sessions.store import users

    with SessionStore(work / "server", cleanup_after_days=None) as served:
        token = users.add_user(served, "bench")[1]
    child = subprocess.Popen(
        [sys.executable, "-m", "claude_sessions", "serve", "--store", str(work / "server"),
         "--port", "0", "--auth"],
        stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    assert child.stderr is not None
    found = re.search(r"at (http://127\.0\.0\.1:\d+)/", child.stderr.readline())
    if found is None:
        child.kill()
        raise SystemExit("the server did not start")
    server_config.save(store, found.group(1), token)
    return child


if __name__ == "__main__":
    main()
