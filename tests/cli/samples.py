"""Sample sessions for the command-line tests (no tests here)."""

from __future__ import annotations

import json
from typing import Any

from claude_sessions import SessionStore

from ..transcript_samples import conversation, sid


def dated(entries: list[dict[str, Any]], day: str) -> list[dict[str, Any]]:
    for entry in entries:
        if isinstance(entry.get("timestamp"), str):
            entry["timestamp"] = day + entry["timestamp"][10:]
    return entries


def add_session(
    store: SessionStore,
    n: int,
    prompts: list[str],
    *,
    day: str = "2026-03-01",
    cost: float = 0.01,
    model: str = "claude-sonnet-4-5-20250929",
    tags: tuple[str, ...] = (),
    description: str | None = None,
    forked_from: str | None = None,
) -> str:
    session_id = sid(n)
    entries = dated(conversation(session_id, prompts, model=model), day)
    entries.append(
        {
            "type": "result",
            "subtype": "success",
            "session_id": session_id,
            "total_cost_usd": cost,
            "num_turns": len(prompts),
            "result": "ok",
            "is_error": False,
        }
    )
    store.save_session(
        session_id, entries, tags=list(tags), description=description, forked_from=forked_from
    )
    return session_id


def populate(store: SessionStore) -> dict[str, str]:
    """Four sessions: a root, two forks of it and a fork of a fork."""
    return {
        "root": add_session(
            store,
            1,
            ["Write a parser for TOML"],
            day="2026-03-01",
            cost=0.5,
            tags=("work", "parser"),
            description="Parser project",
        ),
        "fork1": add_session(
            store,
            2,
            ["Use a recursive descent parser"],
            day="2026-03-02",
            cost=0.25,
            tags=("work",),
            forked_from=sid(1),
            model="claude-opus-4-1",
        ),
        "fork2": add_session(
            store,
            3,
            ["Try a PEG grammar"],
            day="2026-03-03",
            cost=1.5,
            tags=("play",),
            forked_from=sid(1),
        ),
        "grandchild": add_session(
            store, 0x10, ["Benchmark it"], day="2026-03-04", cost=0.05, forked_from=sid(2)
        ),
    }


# The sample sessions are dated months ago: keep automatic cleanup away from them.
ENV = {"CLAUDE_SESSIONS_CLEANUP_DAYS": "never"}


def as_json(result):
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)
