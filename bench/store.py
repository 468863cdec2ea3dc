"""Benchmark: the SQLite SessionStore against a baseline doing what the Elixir store does.

The baseline keeps one JSON file per session (metadata and messages) and, on
start, reads every file to hold all metadata in memory; listing and searching
filter that in memory, and it has no full-text index, so a text search reads
every file. Ours is ``claude_sessions.SessionStore``.

    python bench/store.py                      # 100,000 sessions (~30 messages each)
    python bench/store.py --sessions 2000      # a quick run
    python bench/store.py --backend postgresql # ours on PostgreSQL (a temporary server,
                                               # or --url postgresql://... of a running one)

Each side runs its timed operations in its own child process (spawn), so the
peak RSS reported is that side's alone. The corpus is built once per side
before timing (ours through the public ``save_session`` with a fake clock for
spread-out dates, with ``synchronous=OFF`` while building only); every timed
operation goes through the public API. Times are medians.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import multiprocessing
import os
import random
import resource
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from queue import Empty
from typing import Any

NOW = datetime(2026, 11, 1, tzinfo=timezone.utc)
TAGS = [f"tag{i}" for i in range(40)]
MODELS = ["claude-sonnet-4-5-20250929", "claude-opus-4-5-20251101", "claude-haiku-4-5-20251001"]
TOOLS = ["Task", "Bash", "Glob", "Grep", "Read", "Edit", "Write", "WebFetch", "TodoWrite"]
VOCAB_SIZE = 5000
PAGE = 50
SERVER_PIDS: list[int] = []  # PostgreSQL backends serving this process (--clock cpu)


def cpu_seconds() -> float:
    """CPU time of this process and of the PostgreSQL backends serving it (their
    schedstat: nanoseconds on a CPU), for a machine shared with other work."""
    spent = time.process_time()
    for pid in SERVER_PIDS:
        with contextlib.suppress(OSError):
            spent += int(Path(f"/proc/{pid}/schedstat").read_text().split()[0]) / 1e9
    return spent


def watch_server(location: Path | str) -> None:
    """Note the PostgreSQL backends of the database at ``location`` (this process's
    connections, once it has made them) for :func:`cpu_seconds`."""
    if isinstance(location, Path) or not str(location).startswith("postgres"):
        return
    import psycopg

    from claude_sessions.store.location import parse_postgres

    found = parse_postgres(str(location))
    with psycopg.connect(found.conninfo, password=found.password) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
        ).fetchall()
    SERVER_PIDS[:] = [row[0] for row in rows]


# BENCH_CLOCK=cpu (--clock cpu): CPU time instead of the wall clock (see cpu_seconds).
CLOCK = cpu_seconds if os.environ.get("BENCH_CLOCK") == "cpu" else time.perf_counter
GOALS = {
    "list page 500 (keyset)": 5.0,
    "list page 100 of one tag (keyset)": 20.0,
    "list page 20 of one user+tag (keyset)": 20.0,
    "version()": 5.0,
    "open": 50.0,
    "save (30 messages)": 2.0,
    "list page": 5.0,
    "search tag": 20.0,
    "search date range": 20.0,
    "search cost range": 20.0,
    "search tag+date+cost": 20.0,
    "full-text (common word)": 100.0,
    "full-text (rare word)": 100.0,
    "full-text (most common)": 200.0,
}


# -- corpus --------------------------------------------------------------------


def _vocab() -> tuple[list[str], list[float]]:
    rng = random.Random(7)
    letters = "abcdefghijklmnopqrstuvwxyz"
    words: list[str] = []
    seen: set[str] = set()
    while len(words) < VOCAB_SIZE:
        word = "".join(rng.choice(letters) for _ in range(rng.randint(3, 10)))
        if word not in seen:
            seen.add(word)
            words.append(word)
    cumulative: list[float] = []
    total = 0.0
    for rank in range(VOCAB_SIZE):
        total += 1.0 / (rank + 1)
        cumulative.append(total)
    return words, cumulative


WORDS, CUM_WEIGHTS = _vocab()
COMMON_WORD = WORDS[20]
MOST_COMMON_WORD = WORDS[0]
RARE_WORD = WORDS[3000]
# Queries that once took minutes on a large store: each must answer (or be refused) in 1 s.
WORST_TEXT = {
    "one word x10": " ".join([WORDS[0]] * 10),
    "one word x40": " ".join([WORDS[0]] * 40),
    "a* OR b* ... p*": " OR ".join(f"{letter}*" for letter in "abcdefghijklmnop"),
    "16 common words OR": " OR ".join(WORDS[:16]),
    "16 common words AND": " ".join(WORDS[:16]),
    "3 short prefixes": " OR ".join(f"{word[:3]}*" for word in WORDS[:3]),
    "8-word common phrase": '"' + " ".join(WORDS[:8]) + '"',
}


def _text(rng: random.Random, low: int, high: int) -> str:
    return " ".join(rng.choices(WORDS, cum_weights=CUM_WEIGHTS, k=rng.randint(low, high)))


def make_session(rng: random.Random, index: int, size: int = 30) -> dict[str, Any]:
    """A session as the CLI's stream-json would give it: ``size`` messages (even, at least
    4: init, answers with their tool results, the prompt, the result), plus save options.
    Its git branch and user follow from ``index`` (20 branches, 20 users)."""
    turns = max(1, (size - 2) // 2)
    sid = f"{rng.getrandbits(32):08x}-{index:04x}-4000-8000-{rng.getrandbits(48):012x}"
    model = rng.choice(MODELS)
    cwd = f"/home/dev/project-{rng.randrange(50)}"
    messages: list[dict[str, Any]] = [
        {
            "type": "system",
            "subtype": "init",
            "cwd": cwd,
            "session_id": sid,
            "tools": TOOLS,
            "mcp_servers": [],
            "model": model,
            "permissionMode": "default",
            "slash_commands": ["compact", "context", "cost", "review"],
            "apiKeySource": "ANTHROPIC_API_KEY",
            "claude_code_version": "2.1.331",
            "output_style": "default",
            "gitBranch": f"branch-{index % 20}",
            "uuid": f"{sid}-init",
        }
    ]
    for turn in range(turns):
        tool_id = f"toolu_{rng.getrandbits(64):016x}"
        content: list[dict[str, Any]] = [{"type": "text", "text": _text(rng, 10, 60)}]
        if turn < turns - 1:
            content.append(
                {
                    "type": "tool_use",
                    "id": tool_id,
                    "name": rng.choice(TOOLS),
                    "input": {"command": _text(rng, 2, 6)},
                }
            )
        messages.append(
            {
                "type": "assistant",
                "message": {
                    "id": f"msg_{rng.getrandbits(64):016x}",
                    "type": "message",
                    "role": "assistant",
                    "model": model,
                    "content": content,
                    "stop_reason": "tool_use" if turn < turns - 1 else "end_turn",
                    "usage": {
                        "input_tokens": rng.randint(5, 5000),
                        "output_tokens": rng.randint(5, 800),
                        "cache_read_input_tokens": rng.randint(0, 20000),
                    },
                },
                "parent_tool_use_id": None,
                "session_id": sid,
                "uuid": f"{sid}-a{turn}",
            }
        )
        if turn < turns - 1:
            messages.append(
                {
                    "type": "user",
                    "message": {
                        "role": "user",
                        "content": [
                            {
                                "type": "tool_result",
                                "tool_use_id": tool_id,
                                "content": _text(rng, 20, 80),
                            }
                        ],
                    },
                    "parent_tool_use_id": None,
                    "session_id": sid,
                    "uuid": f"{sid}-u{turn}",
                }
            )
    messages.append(
        {
            "type": "user",
            "message": {"role": "user", "content": _text(rng, 5, 20)},
            "session_id": sid,
            "uuid": f"{sid}-p",
        }
    )
    cost = round(rng.uniform(0.0, 2.0), 6)
    messages.append(
        {
            "type": "result",
            "subtype": "success",
            "is_error": False,
            "duration_ms": rng.randint(1000, 90000),
            "duration_api_ms": rng.randint(1000, 90000),
            "num_turns": turns,
            "result": messages[-2]["message"]["content"][0]["text"][:200]
            if messages[-2]["type"] == "assistant"
            else "done",
            "session_id": sid,
            "total_cost_usd": cost,
            "usage": {"input_tokens": 1000, "output_tokens": 500},
            "uuid": f"{sid}-r",
        }
    )
    created = NOW - timedelta(seconds=rng.uniform(0, 365 * 86400))
    return {
        "session_id": sid,
        "messages": messages,
        "tags": rng.sample(TAGS, rng.randint(0, 3)),
        "description": _text(rng, 3, 8),
        "created": created,
        "cost": cost,
        "model": model,
        "user": f"user{index % 20}",
    }


def corpus(count: int, seed: int = 1, size: int = 30) -> Any:
    rng = random.Random(seed)
    for index in range(count):
        yield make_session(rng, index, size)


# -- timing helpers --------------------------------------------------------------


def median_ms(action: Callable[[], Any], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        start = CLOCK()
        action()
        samples.append((CLOCK() - start) * 1000)
    return statistics.median(samples)


def text_ms(results: dict[str, float], name: str, action: Callable[[], Any], repeat: int) -> None:
    """The median of a full-text search; one stopped at the time limit counts its time,
    and the name says how many were."""
    from claude_sessions import QueryTooExpensiveError

    refused = 0

    def answered() -> None:
        nonlocal refused
        try:
            action()
        except QueryTooExpensiveError:
            refused += 1

    value = median_ms(answered, repeat)
    results[f"{name} ({refused}/{repeat} refused)" if refused else name] = value


def worst_case_ms(store: Any, text: str) -> float:
    """The slowest of three runs of a hostile full-text query (an error counts: it answered)."""
    from claude_sessions import InvalidQueryError

    slowest = 0.0
    for _ in range(3):
        start = CLOCK()
        # Refused at once, or stopped at the time limit: either way it answered.
        with contextlib.suppress(InvalidQueryError):
            store.search(text=text, limit=20)
        slowest = max(slowest, (CLOCK() - start) * 1000)
    return slowest


def peak_rss_mb() -> float:
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb / 1024 if sys.platform != "darwin" else kb / 1024 / 1024


def fresh_sessions(count: int) -> list[dict[str, Any]]:
    return list(corpus(count, seed=99))


# -- ours ----------------------------------------------------------------------


BATCH = 50  # sessions saved per transaction while building


def build_ours(directory: Path | str, count: int, size: int = 30, writers: int = 1) -> float:
    """Fill the store with ``count`` sessions of ``size`` messages through the public
    ``save_session`` plans, ``BATCH`` of them per transaction, by ``writers`` processes
    (each saves every ``writers``-th session; PostgreSQL lets them write at once)."""
    from claude_sessions import SessionStore

    start = time.perf_counter()
    SessionStore(directory, cleanup_after_days=None).close()  # made before the writers start
    if writers == 1:
        build_part(str(directory), count, size, 1, 0)
    else:
        _build_apart(str(directory), count, size, writers)
    with SessionStore(directory, cleanup_after_days=None) as store:
        _index_aside(store)
    return time.perf_counter() - start


def _build_apart(directory: str, count: int, size: int, writers: int) -> None:
    context = multiprocessing.get_context("spawn")
    workers = [
        context.Process(target=build_part, args=(directory, count, size, writers, part))
        for part in range(writers)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
        if worker.exitcode != 0:
            raise SystemExit(f"a writer failed (exit code {worker.exitcode})")


def build_part(directory: str, count: int, size: int, writers: int, part: int) -> None:
    """One writer's share of the build: the sessions whose index is ``part`` modulo
    ``writers`` (every writer makes the whole corpus, so each session is the same)."""
    from claude_sessions import SessionStore

    clock = [NOW]
    start = time.perf_counter()
    with SessionStore(directory, cleanup_after_days=None, clock=lambda: clock[0]) as store:
        driver: Any = store._driver
        if hasattr(driver, "_connect"):  # SQLite
            driver._connect().execute("PRAGMA synchronous = OFF")  # building only
        batch: list[dict[str, Any]] = []
        with store.bulk_writes():
            for index, session in enumerate(corpus(count, size=size)):
                if index % writers == part:
                    batch.append(session)
                if len(batch) == BATCH or (index == count - 1 and batch):
                    save_together(store, batch, clock)
                    batch = []
                if part == 0 and (index + 1) % 50_000 == 0:
                    print(f"  {index + 1} in {time.perf_counter() - start:.0f} s", flush=True)


def save_together(store: Any, sessions: list[dict[str, Any]], clock: list[datetime]) -> None:
    """Save ``sessions`` in one transaction: each ``save_session`` plan's write, in turn
    (a plan reads the clock as it starts, its write the user as it runs)."""
    from claude_sessions.model.identity import USER_ENV_VAR
    from claude_sessions.store.plan import Txn, single

    started = []
    for session in sessions:
        clock[0] = session["created"]
        plan = store.core.save_session(
            session["session_id"],
            session["messages"],
            tags=session["tags"],
            description=session["description"],
        )
        started.append((plan, next(plan)))

    def together() -> Any:
        results = []
        for session, (_, txn) in zip(sessions, started, strict=True):
            os.environ[USER_ENV_VAR] = session["user"]
            results.append((yield from txn.make()))
        return results

    results = store.run(single(Txn(together, write=True)))
    for (plan, _), result in zip(started, results, strict=True):
        with contextlib.suppress(StopIteration):  # no cleanup: cleanup_after_days=None
            plan.send(result)
            raise RuntimeError("a save planned a second transaction")


def _index_aside(store: Any) -> None:
    """Catch the full text of tool calls and subagents up, where a checkout keeps it apart
    (an import leaves it to a background indexer; saved sessions too)."""
    try:
        from claude_sessions.store.search_index import update_search_index
    except ImportError:  # an older checkout indexes what it indexes as it writes
        return
    start = time.perf_counter()
    run = update_search_index(store)
    print(
        f"  indexed tool calls and subagents: {time.perf_counter() - start:.1f} s, "
        f"{run.entries} entries",
        flush=True,
    )


def time_ours(directory: str, count: int, queue: Any) -> None:
    from claude_sessions import SessionStore

    results: dict[str, float] = {}
    results["open"] = median_ms(lambda: SessionStore(directory, cleanup_after_days=None).close(), 7)
    store = SessionStore(directory, cleanup_after_days=None)
    rng = random.Random(5)
    ids = [m.session_id for m in store.list_sessions(limit=2000)]
    watch_server(directory)
    extra = iter(fresh_sessions(300))

    def save() -> None:
        session = next(extra)
        store.save_session(
            session["session_id"],
            session["messages"],
            tags=session["tags"],
            description=session["description"],
        )

    results["save (30 messages)"] = median_ms(save, 300)
    results["load"] = median_ms(lambda: store.load_session(rng.choice(ids)), 300)
    results["list page"] = median_ms(lambda: store.list_sessions(limit=PAGE), 50)
    results["list page 100"] = median_ms(
        lambda: store.list_sessions(limit=PAGE, offset=PAGE * 100), 20
    )
    after, before = date(2026, 3, 1), date(2026, 3, 31)
    results["search tag"] = median_ms(lambda: store.search(tags=["tag3"], limit=PAGE), 30)
    results["search date range"] = median_ms(
        lambda: store.search(after=after, before=before, limit=PAGE), 30
    )
    results["search cost range"] = median_ms(
        lambda: store.search(min_cost=0.5, max_cost=0.6, limit=PAGE), 30
    )
    results["search tag+date+cost"] = median_ms(
        lambda: store.search(
            tags=["tag3", "tag7"], after=after, before=before, min_cost=0.5, limit=PAGE
        ),
        30,
    )
    for name, word in (
        ("full-text (common word)", COMMON_WORD),
        ("full-text (rare word)", RARE_WORD),
        ("full-text (most common)", MOST_COMMON_WORD),
    ):
        text_ms(results, name, lambda word=word: store.search(text=word, limit=20), 10)
    from claude_sessions import SessionFilter

    if "places" in {field.name for field in dataclasses.fields(SessionFilter)}:
        _time_places(store, results)
    results.update(time_filters(store))
    results["list page 500 (keyset)"] = median_ms(deep_page(store, 500), 20)
    results["list page 100 of one tag (keyset)"] = median_ms(
        deep_page(store, 100, tags=["tag3"]), 20
    )
    results["list page 20 of one user+tag (keyset)"] = median_ms(
        deep_page(store, 20, user="user3", tags=["tag3"]), 20
    )
    results.update(time_reports(store))
    for name, text in WORST_TEXT.items():
        results[f"worst text: {name}"] = worst_case_ms(store, text)
    store.close()
    results["peak RSS (MB)"] = peak_rss_mb()
    queue.put(results)


def _time_places(store: Any, results: dict[str, float]) -> None:
    """Full text kept to each place, and the sessions that called a tool."""
    for label, word in (("common", COMMON_WORD), ("rare", RARE_WORD)):
        text_ms(
            results,
            f"full-text in tools ({label})",
            lambda word=word: store.search(text=word, places=["tool"], limit=20),
            10,
        )
    for place in ("prompt", "reply", "subagent"):
        for label, word in (("common", COMMON_WORD), ("rare", RARE_WORD)):
            text_ms(
                results,
                f"full-text in {place} ({label})",
                lambda word=word, place=place: store.search(text=word, places=[place], limit=20),
                10,
            )
    text_ms(
        results,
        "full-text common + tool",
        lambda: store.search(text=COMMON_WORD, tool="Bash", limit=20),
        10,
    )
    results["search by tool"] = median_ms(lambda: store.search(tool="Bash", limit=PAGE), 10)


def deep_page(store: Any, depth: int, **criteria: Any) -> Callable[[], Any]:
    """Reading page ``depth`` of a (filtered) list, by its keyset cursor."""
    cursor = None
    for _ in range(depth - 1):
        cursor = store.search_page(limit=PAGE, cursor=cursor, **criteria).next_cursor
    return lambda: store.search_page(limit=PAGE, cursor=cursor, **criteria)


def time_filters(store: Any) -> dict[str, float]:
    """Searches by each filter the issue names and some combinations of them."""
    march, april = date(2026, 3, 1), date(2026, 3, 31)
    searches: dict[str, dict[str, Any]] = {
        "search model": {"model": "opus"},
        "search project": {"project": "/home/dev/project-7"},
        "search branch": {"branch": "branch-7"},
        "search branch (none has it)": {"branch": "no-such-branch"},
        "search project (none has it)": {"project": "/home/dev/nowhere"},
        "search model (none has it)": {"model": "gpt"},
        "search user": {"user": "user7"},
        "search model+date": {"model": "haiku", "after": march, "before": april},
        "search project+tag": {"project": "/home/dev/project-7", "tags": ["tag3"]},
        "search user+branch+cost": {"user": "user7", "branch": "branch-7", "min_cost": 1.5},
        "search all tags (2)": {"tags": ["tag3", "tag7"], "match_all_tags": True},
        "search user+model+date": {
            "user": "user7",
            "model": "sonnet",
            "after": march,
            "before": april,
        },
    }
    return {
        name: median_ms(lambda criteria=criteria: store.search(limit=PAGE, **criteria), 30)
        for name, criteria in searches.items()
    }


def time_reports(store: Any) -> dict[str, float]:
    """version(), usage and stats (the last 30 days and all time)."""
    from claude_sessions.views.stats import compute_stats

    month_ago = NOW - timedelta(days=30)
    reports: dict[str, Callable[[], Any]] = {
        "version()": store.version,
        "usage by day, 30 days": lambda: store.usage("day", after=month_ago),
        "usage by day, all time": lambda: store.usage("day"),
        "usage by model x day, all time": lambda: store.usage(["model", "day"]),
        "usage by tag, all time": lambda: store.usage("tag"),
        "usage by project, one user": lambda: store.usage("project", user="user7"),
        "stats, 30 days": lambda: compute_stats(store, after=month_ago, now=NOW.timestamp()),
        "stats, all time": lambda: compute_stats(store, now=NOW.timestamp()),
    }
    return {name: median_ms(action, 15) for name, action in reports.items()}


# -- baseline: one JSON file per session, metadata in memory -----------------------


def _baseline_metadata(session: dict[str, Any], created: str, updated: str) -> dict[str, Any]:
    return {
        "session_id": session["session_id"],
        "created_at": created,
        "updated_at": updated,
        "message_count": len(session["messages"]),
        "total_cost": session["cost"],
        "tags": session["tags"],
        "description": session["description"],
        "model": session["model"],
    }


def _baseline_write(directory: Path, session: dict[str, Any], created: str) -> dict[str, Any]:
    meta = _baseline_metadata(session, created, created)
    path = directory / f"{session['session_id']}.json"
    path.write_text(json.dumps({"metadata": meta, "messages": session["messages"]}))
    return meta


def build_baseline(directory: Path, count: int) -> float:
    directory.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    for session in corpus(count):
        _baseline_write(directory, session, session["created"].isoformat())
    return time.perf_counter() - start


class Baseline:
    """What the Elixir SessionStore does: files on disk, all metadata in memory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.sessions: dict[str, dict[str, Any]] = {}
        for path in directory.glob("*.json"):
            data = json.loads(path.read_text())
            self.sessions[data["metadata"]["session_id"]] = data["metadata"]

    def save(self, session: dict[str, Any]) -> None:
        now = datetime.now(timezone.utc).isoformat()
        old = self.sessions.get(session["session_id"])
        meta = _baseline_write(self.directory, session, old["created_at"] if old else now)
        self.sessions[session["session_id"]] = meta

    def load(self, session_id: str) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((self.directory / f"{session_id}.json").read_text())
        return data

    def list(self, limit: int, offset: int = 0) -> list[dict[str, Any]]:
        ordered = sorted(self.sessions.values(), key=lambda m: m["updated_at"], reverse=True)
        return ordered[offset : offset + limit]

    def search(self, limit: int, **criteria: Any) -> list[dict[str, Any]]:
        tags = set(criteria.get("tags") or ())
        after = criteria.get("after")
        before = criteria.get("before")
        low, high = criteria.get("min_cost"), criteria.get("max_cost")
        found = []
        for meta in self.sessions.values():
            if tags and not tags & set(meta["tags"]):
                continue
            day = meta["created_at"][:10]
            if after and day < after.isoformat():
                continue
            if before and day > before.isoformat():
                continue
            if low is not None and meta["total_cost"] < low:
                continue
            if high is not None and meta["total_cost"] > high:
                continue
            found.append(meta)
        found.sort(key=lambda m: m["updated_at"], reverse=True)
        return found[:limit]

    def text(self, word: str, limit: int) -> list[str]:
        """No index: read every session and look for the word in message text."""
        hits = []
        for session_id in self.sessions:
            data = self.load(session_id)
            for message in data["messages"]:
                if word in json.dumps(message.get("message", {}).get("content", "")):
                    hits.append(session_id)
                    break
        return hits[:limit]


def time_baseline(directory: str, count: int, queue: Any) -> None:
    path = Path(directory)
    results: dict[str, float] = {}
    results["open"] = median_ms(lambda: Baseline(path), 1 if count > 10000 else 3)
    store = Baseline(path)
    rng = random.Random(5)
    ids = list(store.sessions)[:2000]
    extra = iter(fresh_sessions(300))
    results["save (30 messages)"] = median_ms(lambda: store.save(next(extra)), 300)
    results["load"] = median_ms(lambda: store.load(rng.choice(ids)), 300)
    results["list page"] = median_ms(lambda: store.list(PAGE), 10)
    results["list page 100"] = median_ms(lambda: store.list(PAGE, PAGE * 100), 10)
    after, before = date(2026, 3, 1), date(2026, 3, 31)
    results["search tag"] = median_ms(lambda: store.search(PAGE, tags=["tag3"]), 10)
    results["search date range"] = median_ms(
        lambda: store.search(PAGE, after=after, before=before), 10
    )
    results["search cost range"] = median_ms(
        lambda: store.search(PAGE, min_cost=0.5, max_cost=0.6), 10
    )
    results["search tag+date+cost"] = median_ms(
        lambda: store.search(PAGE, tags=["tag3", "tag7"], after=after, before=before, min_cost=0.5),
        10,
    )
    results["full-text (common word)"] = median_ms(lambda: store.text(COMMON_WORD, 20), 1)
    results["full-text (rare word)"] = median_ms(lambda: store.text(RARE_WORD, 20), 1)
    results["peak RSS (MB)"] = peak_rss_mb()
    queue.put(results)


# -- main ----------------------------------------------------------------------


def run_child(target: Callable[..., None], directory: Path | str, count: int) -> dict[str, float]:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=target, args=(str(directory), count, queue))
    process.start()
    while True:  # a child that failed puts nothing: stop waiting for it then
        with contextlib.suppress(Empty):
            results: dict[str, float] = queue.get(timeout=5)
            break
        if not process.is_alive():
            raise SystemExit(f"the timing process failed (exit code {process.exitcode})")
    process.join()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=100_000)
    parser.add_argument("--dir", type=Path, help="work directory (default: a temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the corpus afterwards")
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--url", help="PostgreSQL URL (default: a temporary server)")
    parser.add_argument(
        "--messages", type=int, default=30, help="messages a session (even; the 1M run: 8)"
    )
    parser.add_argument(
        "--clock", choices=["wall", "cpu"], default="wall", help="cpu: this process's CPU time"
    )
    parser.add_argument(
        "--writers", type=int, default=1, help="processes building the store (PostgreSQL)"
    )
    args = parser.parse_args(argv)
    os.environ["BENCH_CLOCK"] = args.clock  # the timing child reads it
    work = args.dir or Path(tempfile.mkdtemp(prefix="claude-sessions-bench-"))
    ours_dir, base_dir = work / "ours", work / "baseline"
    with contextlib.ExitStack() as stack:
        ours: Path | str = ours_dir
        if args.backend == "postgresql":
            ours = args.url or _temporary_postgres(stack)
        try:
            return _run(args, ours, base_dir)
        finally:
            if not args.keep and args.dir is None:
                shutil.rmtree(work, ignore_errors=True)
    return 0


def _temporary_postgres(stack: contextlib.ExitStack) -> str:
    from claude_sessions.testing.postgres import TemporaryPostgres

    # Durability like SQLite's WAL + synchronous=NORMAL: fsync on, no wait at commit.
    settings = {"fsync": "on", "full_page_writes": "on", "synchronous_commit": "off"}
    server = stack.enter_context(TemporaryPostgres(settings={**settings, "shared_buffers": "1GB"}))
    return server.create_database("bench")


def _exists(ours: Path | str) -> bool:
    if isinstance(ours, Path):
        return (ours / "sessions.db").exists()
    from claude_sessions import SessionStore

    with SessionStore(ours, cleanup_after_days=None) as store:
        return bool(store.list_sessions(limit=1))


def _size_text(ours: Path | str) -> str:
    if isinstance(ours, Path):
        files = [ours / "sessions.db", ours / "sessions.search.db"]
        size = sum(path.stat().st_size for path in files if path.exists())
        return f"SQLite {size / 1e6:.0f} MB"
    import psycopg

    from claude_sessions.store.location import parse_postgres

    location = parse_postgres(ours)
    with psycopg.connect(location.conninfo, password=location.password) as conn:
        row = conn.execute(
            "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relkind = 'r'",
            [location.schema],
        ).fetchone()
    return f"PostgreSQL {float(row[0] if row and row[0] else 0) / 1e6:.0f} MB"


def _run(args: argparse.Namespace, ours_dir: Path | str, base_dir: Path) -> int:
    if not _exists(ours_dir):
        print(f"building {args.sessions} sessions (ours) ...", flush=True)
        print(
            f"  {build_ours(ours_dir, args.sessions, args.messages, args.writers):.1f} s",
            flush=True,
        )
    if not args.skip_baseline and not base_dir.exists():
        print(f"building {args.sessions} sessions (baseline) ...", flush=True)
        print(f"  {build_baseline(base_dir, args.sessions):.1f} s", flush=True)
    from claude_sessions import SessionStore

    SessionStore(ours_dir, cleanup_after_days=None).close()  # migrate an older corpus first
    ours = run_child(time_ours, ours_dir, args.sessions)
    base = {} if args.skip_baseline else run_child(time_baseline, base_dir, args.sessions)
    size = _size_text(ours_dir)
    clock = "CPU time, the database server's too" if args.clock == "cpu" else "wall clock"
    print(f"\n{args.sessions} sessions; ours: {size}; times are medians (ms, {clock})\n")
    print(f"{'operation':<40}{'baseline':>12}{'ours':>10}{'ratio':>9}{'goal':>8}  ok")
    for name, value in ours.items():
        before = base.get(name)
        goal = GOALS.get(name, 200.0 if "RSS" in name else None)
        if name.startswith("search ") and goal is None:
            goal = 50.0
        if name.startswith(("usage", "stats")):
            goal = 200.0
        if name.startswith("worst text"):
            goal = 1000.0
        ratio = f"{before / value:8.1f}x" if before and value else f"{'-':>9}"
        met = "" if goal is None else ("yes" if value < goal else "NO")
        goal_text = f"{goal:8.0f}" if goal is not None else f"{'':>8}"
        base_text = f"{before:12.2f}" if before is not None else f"{'-':>12}"
        print(f"{name:<40}{base_text}{value:10.2f}{ratio}{goal_text}  {met}")
    print(f"\nfull-text words: common {COMMON_WORD!r}, rare {RARE_WORD!r}")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    raise SystemExit(main())
