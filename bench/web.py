"""Benchmark: the web app's server time on a large store.

Builds (or reuses) a SQLite store of ``--sessions`` sessions with the corpus
of ``bench/store.py`` (about 30 messages each, dates spread over a year), adds
one session of 2,000 messages, and calls the ASGI app in-process (httpx's
ASGITransport: no network, no browser), timing each request:

- the sessions list at page 1 and at every page down to 500, by keyset cursor;
- full-text search (a common and a rare word);
- the first screen of the 2,000-message session;
- the usage page (its default: the last 30 days; and over all time).

    python bench/web.py                       # 100,000 sessions (building takes minutes)
    python bench/web.py --sessions 5000       # a quick run
    python bench/web.py --dir /tmp/webbench   # keep the store there and reuse it next time
    python bench/web.py --auth                # signed in (serve --auth), as a member

``--auth``: the store gets three users, two members (alice, bob) and an admin (root),
the sessions are spread over them (every tenth shared with the team), and every
request carries a member's bearer token, so each one is signed in and sees what a
member may; the admin's list page is timed too.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
# --clock cpu: CPU time of this process (the app's threads) and of its PostgreSQL backends.
CLOCK = time.perf_counter
FILTERED_NAMES = ("one tag", "one user", "model", "project", "branch", "tag+user+date")
LONG_ID = "10000000-2000-4000-8000-000000002000"
LONG_MESSAGES = 2000
GOALS = {  # (p50, p95) in ms
    **{f"list page {n}, {name}": (20.0, None) for n in (1, 50) for name in FILTERED_NAMES},
    "session, 8 messages": (50.0, None),
    "session, 30 messages": (50.0, None),
    "list page 1": (20.0, 50.0),
    "list page 1 (admin)": (20.0, 50.0),
    "list, pages 1 to 500 (keyset)": (20.0, 50.0),
    "list, page 500 (keyset)": (20.0, 50.0),
    "full-text (common word)": (150.0, None),
    "full-text (rare word)": (150.0, None),
    "session, 2,000 messages": (300.0, None),
    "usage page": (200.0, None),
}


def _corpus_module() -> Any:
    # Imported by its name (not from a path), so its writer processes can import it too.
    sys.path.insert(0, str(HERE))
    return importlib.import_module("store")


def long_session(count: int) -> list[dict[str, Any]]:
    """A CLI transcript of ``count`` entries: prompts, tool calls, their output, answers."""
    entries: list[dict[str, Any]] = []
    parent = None
    for n in range(count):
        step, kind = divmod(n, 4)
        uuid = f"{LONG_ID[:-8]}{n:08d}"
        common = {
            "parentUuid": parent,
            "sessionId": LONG_ID,
            "cwd": "/home/dev/big",
            "uuid": uuid,
            "timestamp": f"2026-10-01T{(n // 3600) % 24:02d}:{(n // 60) % 60:02d}:{n % 60:02d}Z",
        }
        parent = uuid
        if kind == 0:
            message = {"role": "user", "content": f"Step {step}: run the checks and fix what fails"}
            entries.append({**common, "type": "user", "message": message})
        elif kind == 1:
            use = {"type": "tool_use", "id": f"t{n}", "name": "Bash", "input": {"command": "make"}}
            entries.append({**common, "type": "assistant", "message": _answer(n, [use])})
        elif kind == 2:
            output = "\n".join(f"check {i}: ok" for i in range(30))
            result = {"type": "tool_result", "tool_use_id": f"t{n - 1}", "content": output}
            entries.append(
                {**common, "type": "user", "message": {"role": "user", "content": [result]}}
            )
        else:
            text = (
                f"Step {step} passes. The fix:\n\n```python\n"
                f"def check_{step}(value: int) -> bool:\n"
                f"    return value % {step + 2} == 0\n```\n\n- **tests**: 30 passed\n- lint: clean"
            )
            block = {"type": "text", "text": text}
            entries.append({**common, "type": "assistant", "message": _answer(n, [block])})
    return entries


def _answer(n: int, blocks: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": f"msg_{n}",
        "role": "assistant",
        "model": "claude-sonnet-4-5-20250929",
        "content": blocks,
        "usage": {"input_tokens": 1200, "output_tokens": 180},
    }


async def timings(request: Callable[[], Awaitable[Any]], repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        start = CLOCK()
        await request()
        samples.append((CLOCK() - start) * 1000)
    return samples


def p95(samples: list[float]) -> float:
    return sorted(samples)[max(0, round(0.95 * len(samples)) - 1)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=100_000)
    parser.add_argument("--dir", type=Path, help="store directory (reused when it exists)")
    parser.add_argument("--auth", action="store_true", help="sign in (three users), as a member")
    parser.add_argument("--url", help="a PostgreSQL store (built there when it is empty)")
    parser.add_argument("--messages", type=int, default=30, help="messages a built session")
    parser.add_argument(
        "--clock", choices=["wall", "cpu"], default="wall", help="cpu: this process's CPU time"
    )
    args = parser.parse_args(argv)
    global CLOCK
    CLOCK = _corpus_module().cpu_seconds if args.clock == "cpu" else time.perf_counter
    if args.auth and args.url:
        parser.error("--auth spreads the sessions over users in SQLite: not with --url")
    work = args.dir or Path(tempfile.mkdtemp(prefix="claude-sessions-web-bench-"))
    try:
        return asyncio.run(run(args.url or work, args.sessions, args.auth, args.messages))
    finally:
        if args.dir is None:
            shutil.rmtree(work, ignore_errors=True)


def team_tokens(store: Any, work: Path) -> dict[str, str]:
    """Three users (members alice and bob, admin root) with fresh tokens, the sessions
    spread over alice, bob and carol (nobody's user: only the admin sees hers), every
    tenth shared; the long session is alice's."""
    import sqlite3

    from claude_sessions.store.users import add_user, issue_token, list_users

    if not list_users(store):
        add_user(store, "alice")
        add_user(store, "bob")
        add_user(store, "root", admin=True, session_user="carol")
        with sqlite3.connect(work / "sessions.db") as db:
            db.execute(
                "UPDATE sessions SET user_name = CASE WHEN session_id = ? THEN 'alice' "
                "WHEN rowid % 3 = 0 THEN 'alice' WHEN rowid % 3 = 1 THEN 'bob' "
                "ELSE 'carol' END, shared = (rowid % 10 = 0)",
                (LONG_ID,),
            )
    return {name: issue_token(store, name) for name in ("alice", "bob", "root")}


# Filtered lists (the corpus of bench/store.py: 20 users and branches, 50 projects, 40 tags).
FILTERED = dict(
    zip(
        FILTERED_NAMES,
        (
            "tags=tag3",
            "user=user3",
            "model=opus",
            "project=/home/dev/project-7",
            "branch=branch-7",
            "tags=tag3&user=user3&after=2026-01-01",
        ),
        strict=True,
    )
)


async def walk_pages(
    get: Callable[[str], Awaitable[str]], url: str, pages: int
) -> tuple[list[float], str]:
    """Follow the list's next links from ``url`` for up to ``pages`` pages: each
    request's time and the last page's address."""
    walk: list[float] = []
    for _ in range(pages):
        start = CLOCK()
        html = await get(url)
        walk.append((CLOCK() - start) * 1000)
        found = re.search(r'<a rel="next" href="([^"]+)"', html)
        if found is None:
            break
        url = found.group(1).replace("&amp;", "&")
    return walk, url


async def run(location: Path | str, count: int, auth: bool, size: int = 30) -> int:
    import httpx2 as httpx

    from claude_sessions import SessionStore
    from claude_sessions.web import create_app
    from claude_sessions.web.auth import Authority

    corpus = _corpus_module()
    if not corpus._exists(location):
        print(f"building {count} sessions ...", flush=True)
        print(f"  {corpus.build_ours(location, count, size):.1f} s", flush=True)
    with SessionStore(location, cleanup_after_days=None) as store:
        if store.get_metadata(LONG_ID) is None:
            store.save_session(LONG_ID, long_session(LONG_MESSAGES))
        tokens = team_tokens(store, Path(location)) if auth else {}
        authority = Authority(store) if auth else None
        app = create_app(store, read_only=True, auth=authority)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:

            def signed_in(name: str) -> dict[str, str]:
                return {"Authorization": f"Bearer {tokens[name]}"} if auth else {}

            async def get(url: str, as_user: str = "alice") -> str:
                response = await client.get(url, headers=signed_in(as_user))
                # a text search the store stopped at its time limit answers 400: timed too
                refused = response.status_code == 400 and "text=" in url
                if response.status_code != 200 and not refused:
                    raise SystemExit(f"{url}: HTTP {response.status_code}\n{response.text[:500]}")
                return response.text

            await get("/")  # warm up: templates compiled, caches filled
            corpus.watch_server(location)
            results: dict[str, list[float]] = {}
            results["list page 1"] = await timings(lambda: get("/"), 50)
            if auth:
                results["list page 1 (admin)"] = await timings(lambda: get("/", "root"), 50)
            walk, url = await walk_pages(get, "/", 500)
            results["list, pages 1 to 500 (keyset)"] = walk
            results["list, page 500 (keyset)"] = await timings(lambda: get(url), 30)
            for name, query in FILTERED.items():
                results[f"list page 1, {name}"] = await timings(lambda q=query: get(f"/?{q}"), 20)
                _, deep = await walk_pages(get, f"/?{query}", 50)
                results[f"list page 50, {name}"] = await timings(lambda u=deep: get(u), 20)
            common, rare = corpus.COMMON_WORD, corpus.RARE_WORD
            results["full-text (common word)"] = await timings(lambda: get(f"/?text={common}"), 10)
            results["full-text (rare word)"] = await timings(lambda: get(f"/?text={rare}"), 10)
            short = store.list_sessions(limit=1, offset=1)[0].session_id
            results[f"session, {size} messages"] = await timings(lambda: get(f"/s/{short}"), 30)
            results["session, 2,000 messages"] = await timings(lambda: get(f"/s/{LONG_ID}"), 10)
            results["usage page"] = await timings(lambda: get("/usage"), 10)
            results["usage page, last 90 days"] = await timings(lambda: get("/usage?last=90"), 5)
            results["usage page, all time"] = await timings(lambda: get("/usage?last=all"), 5)
        sessions = store.usage(())[0].sessions
    signed = ", signed in as a member (3 users)" if auth else ""
    clock = "wall clock" if CLOCK is time.perf_counter else "CPU time, the server's too"
    print(f"\n{sessions} sessions{signed}; server time per request, in-process (ms, {clock})\n")
    print(f"{'request':<40}{'p50':>9}{'p95':>9}{'goal p50':>10}{'goal p95':>10}  ok")
    for name, samples in results.items():
        median, high = statistics.median(samples), p95(samples)
        goal_p50, goal_p95 = GOALS.get(name, (None, None))
        ok = (goal_p50 is None or median < goal_p50) and (goal_p95 is None or high < goal_p95)
        print(
            f"{name:<40}{median:9.1f}{high:9.1f}"
            f"{goal_p50 if goal_p50 else '':>10}{goal_p95 if goal_p95 else '':>10}"
            f"  {'yes' if ok else 'NO'}"
        )
    print(f"\npages walked: {len(walk)} (fewer when the store has fewer sessions)")
    print("filtered lists: bench/store.py's corpus has user0..19, branch-0..19, project-0..49")
    print(f"full-text words: common {common!r}, rare {rare!r}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
