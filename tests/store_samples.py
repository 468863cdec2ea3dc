"""Sample messages for the store tests: stream-json runs and CLI transcript entries."""

from __future__ import annotations

from typing import Any


def run(
    session_id: str,
    *,
    cost: float = 0.01,
    text: str = "Hello Alice",
    model: str = "claude-sonnet-4-5-20250929",
    cwd: str = "/work/app",
) -> list[dict[str, Any]]:
    """One stream-json run: init, assistant, result."""
    return [
        {
            "type": "system",
            "subtype": "init",
            "session_id": session_id,
            "model": model,
            "cwd": cwd,
            "tools": ["Bash"],
            "permissionMode": "default",
        },
        {
            "type": "assistant",
            "session_id": session_id,
            "uuid": f"{session_id}-a",
            "parent_tool_use_id": None,
            "message": {
                "id": f"msg-{session_id}",
                "model": model,
                "role": "assistant",
                "content": [{"type": "text", "text": text}],
                "usage": {"input_tokens": 10, "output_tokens": 5},
            },
        },
        {
            "type": "result",
            "subtype": "success",
            "is_error": False,
            "num_turns": 1,
            "result": text,
            "session_id": session_id,
            "total_cost_usd": cost,
        },
    ]


def transcript(
    session_id: str, *, cwd: str = "/home/u/proj", start: int = 0, uuids: list[str] | None = None
) -> list[dict[str, Any]]:
    """CLI transcript entries (as in ~/.claude/projects/...jsonl)."""
    uuids = uuids or [f"{session_id}-{i}" for i in range(5)]
    common = {
        "sessionId": session_id,
        "cwd": cwd,
        "gitBranch": "main",
        "version": "2.1.331",
        "isSidechain": False,
        "userType": "external",
    }
    return [
        {
            **common,
            "type": "user",
            "uuid": uuids[0],
            "parentUuid": None,
            "timestamp": f"2026-01-10T10:00:0{start}.000Z",
            "message": {
                "role": "user",
                "content": [
                    {"type": "text", "text": "<ide_opened_file>login.py</ide_opened_file>"},
                    {"type": "text", "text": "Fix the login bug please"},
                ],
            },
        },
        {
            **common,
            "type": "assistant",
            "uuid": uuids[1],
            "parentUuid": uuids[0],
            "timestamp": "2026-01-10T10:00:05.000Z",
            "message": {
                "id": "msg_1",
                "model": "claude-sonnet-4-5-20250929",
                "role": "assistant",
                "content": [{"type": "thinking", "thinking": "hmm"}],
                "usage": {"input_tokens": 1000, "output_tokens": 1000},
            },
        },
        {
            **common,
            "type": "assistant",
            "uuid": uuids[2],
            "parentUuid": uuids[1],
            "timestamp": "2026-01-10T10:00:06.000Z",
            "message": {
                "id": "msg_1",
                "model": "claude-sonnet-4-5-20250929",
                "role": "assistant",
                "content": [{"type": "text", "text": "Looking at the authentication code"}],
                "usage": {"input_tokens": 1000, "output_tokens": 1000},
            },
        },
        {
            **common,
            "type": "user",
            "uuid": uuids[3],
            "parentUuid": uuids[2],
            "timestamp": "2026-01-10T10:00:07.000Z",
            "message": {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "ok"}],
            },
        },
        {
            **common,
            "type": "assistant",
            "uuid": uuids[4],
            "parentUuid": uuids[3],
            "timestamp": "2026-01-10T10:01:00.000Z",
            "message": {
                "id": "msg_2",
                "model": "claude-sonnet-4-5-20250929",
                "role": "assistant",
                "content": [{"type": "text", "text": "Fixed it"}],
                "usage": {"input_tokens": 2000, "output_tokens": 0},
            },
        },
    ]
