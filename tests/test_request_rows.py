"""Appending to a session writes only the request rows that change (capture of a long
session stays cheap per turn), while every figure built from the rows stays right."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from claude_sessions import SessionStore
from claude_sessions.cli import cli

# Sonnet 4.5: $3 per million tokens in, $15 out.
IN_PRICE, OUT_PRICE = 3e-6, 15e-6
SENTINEL = 123.0


def _turn(n: int, output_tokens: int = 100) -> list[dict[str, Any]]:
    """A prompt and one API request (1,000 tokens in), an hour after the one before."""
    stamp = f"2026-03-02T{n:02d}:30:00.000Z"
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
            "sessionId": "s1",
            "requestId": f"req-{n}",
            "timestamp": stamp,
            "message": {
                "id": f"msg-{n}",
                "role": "assistant",
                "model": "claude-sonnet-4-5",
                "content": [{"type": "text", "text": "ok"}],
                "usage": {"input_tokens": 1000, "output_tokens": output_tokens},
            },
        },
    ]


def _execute(location: str, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Run SQL on the store's database directly (what no public call can do)."""
    if location.startswith("postgresql://"):
        import psycopg

        with psycopg.connect(location, autocommit=True) as conn:
            conn.execute("SET search_path TO claude_sessions")
            cursor = conn.execute(sql.replace("?", "%s"), params)  # type: ignore[arg-type]
            return cursor.fetchall() if cursor.description else []
    conn = sqlite3.connect(Path(location) / "sessions.db")
    try:
        rows = conn.execute(sql, params).fetchall()
        conn.commit()
        return rows
    finally:
        conn.close()


def _stats(location: str, *by: str) -> dict[str, Any]:
    args = ["stats", "--json", "--store", location, *(arg for b in by for arg in ("--by", b))]
    shown = CliRunner().invoke(cli, args)
    assert shown.exit_code == 0, shown.output
    return json.loads(shown.output)  # type: ignore[no-any-return]


def test_an_append_leaves_the_earlier_request_rows_untouched(store_location: str) -> None:
    with SessionStore(store_location) as store:
        store.save_session("s1", [entry for n in range(3) for entry in _turn(n)])
    # Mark the stored rows: a write that rewrote them would put their own cost back.
    _execute(store_location, "UPDATE api_requests SET cost = ?", (SENTINEL,))
    with SessionStore(store_location) as store:
        store.append_messages("s1", _turn(3))
    costs = dict(_execute(store_location, "SELECT request_key, cost FROM api_requests"))
    request_cost = 1000 * IN_PRICE + 100 * OUT_PRICE
    assert costs == pytest.approx(
        {
            "msg-0/req-0": SENTINEL,
            "msg-1/req-1": SENTINEL,
            "msg-2/req-2": SENTINEL,
            "msg-3/req-3": request_cost,
        },
        abs=1e-12,
    )


def test_after_appends_the_rows_add_up_to_the_session(store_location: str) -> None:
    with SessionStore(store_location) as store:
        store.save_session("s1", _turn(0))
        for n in range(1, 4):
            store.append_messages("s1", _turn(n))
        # The CLI writes a request again with its final usage: that row changes.
        store.append_messages("s1", _turn(2, output_tokens=400)[1:])
    rows = _execute(store_location, "SELECT request_key, output_tokens FROM api_requests")
    assert dict(rows) == {
        "msg-0/req-0": 100,
        "msg-1/req-1": 100,
        "msg-2/req-2": 400,
        "msg-3/req-3": 100,
    }
    whole = _stats(store_location)
    output = 3 * 100 + 400
    assert whole["output_tokens"] == output
    cost = 4 * 1000 * IN_PRICE + output * OUT_PRICE
    assert abs(whole["total_cost"] - cost) < 1e-9
    for name in ("model", "block"):
        buckets = _stats(store_location, name)["by"][name]
        assert sum(b["output_tokens"] for b in buckets) == output, name
        assert sum(b["input_tokens"] for b in buckets) == 4000, name
        assert abs(sum(b["cost"] for b in buckets) - cost) < 1e-9, name
