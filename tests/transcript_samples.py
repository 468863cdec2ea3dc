"""Hand-made CLI transcripts, shaped like the ones Claude Code 2.1 writes (no tests here)."""

from __future__ import annotations

import json
import uuid as uuidlib
from pathlib import Path
from typing import Any

CWD = "/home/alice/work/my_app"
PROJECT_KEY = "-home-alice-work-my-app"


def sid(n: int) -> str:
    return f"{n:08x}-1111-4222-8333-444444444444"


def uid(session: str, n: int) -> str:
    return str(uuidlib.uuid5(uuidlib.NAMESPACE_URL, f"{session}/{n}"))


def _common(session_id: str, n: int, parent: str | None, minute: int) -> dict[str, Any]:
    return {
        "parentUuid": parent,
        "isSidechain": False,
        "userType": "external",
        "cwd": CWD,
        "sessionId": session_id,
        "version": "2.1.331",
        "gitBranch": "main",
        "entrypoint": "cli",
        "uuid": uid(session_id, n),
        "timestamp": f"2026-03-01T10:{minute:02d}:00.000Z",
    }


def conversation(
    session_id: str,
    prompts: list[str],
    *,
    model: str = "claude-sonnet-4-5-20250929",
    start: int = 0,
    title: str | None = None,
    tag: str | None = None,
    with_tool: bool = False,
) -> list[dict[str, Any]]:
    """Entries of a session: per prompt a queue-operation, user, assistant (+ a tool round)."""
    entries: list[dict[str, Any]] = []
    parent: str | None = None
    n = start
    for index, prompt in enumerate(prompts):
        entries.append(
            {
                "type": "queue-operation",
                "operation": "enqueue",
                "timestamp": f"2026-03-01T10:{n % 60:02d}:00.000Z",
                "sessionId": session_id,
                "content": prompt,
            }
        )
        user = _common(session_id, n, parent, n % 60)
        user.update(type="user", message={"role": "user", "content": prompt})
        entries.append(user)
        parent, n = user["uuid"], n + 1
        if with_tool and index == 0:
            call = _common(session_id, n, parent, n % 60)
            call.update(
                type="assistant",
                message={
                    "id": f"msg_{session_id}_{n}",
                    "type": "message",
                    "role": "assistant",
                    "model": model,
                    "content": [
                        {
                            "type": "tool_use",
                            "id": f"toolu_{n}",
                            "name": "Bash",
                            "input": {"command": "ls -la"},
                        },
                    ],
                    "usage": {"input_tokens": 100, "output_tokens": 20},
                },
            )
            entries.append(call)
            parent, n = call["uuid"], n + 1
            result = _common(session_id, n, parent, n % 60)
            result.update(
                type="user",
                message={
                    "role": "user",
                    "content": [
                        {
                            "type": "tool_result",
                            "tool_use_id": f"toolu_{n - 1}",
                            "content": "README.md\nsrc",
                        }
                    ],
                },
            )
            entries.append(result)
            parent, n = result["uuid"], n + 1
        answer = _common(session_id, n, parent, n % 60)
        answer.update(
            type="assistant",
            message={
                "id": f"msg_{session_id}_{n}",
                "type": "message",
                "role": "assistant",
                "model": model,
                "content": [{"type": "text", "text": f"Answer to: {prompt}"}],
                "stop_reason": "end_turn",
                "usage": {"input_tokens": 1000, "output_tokens": 200},
            },
        )
        entries.append(answer)
        parent, n = answer["uuid"], n + 1
    entries.append(
        {
            "type": "last-prompt",
            "lastPrompt": prompts[-1],
            "sessionId": session_id,
            "leafUuid": parent,
        }
    )
    if title:
        entries.append({"type": "custom-title", "customTitle": title, "sessionId": session_id})
    if tag:
        entries.append({"type": "tag", "tag": tag, "sessionId": session_id})
    return entries


def fork_of(
    origin_entries: list[dict[str, Any]], origin_id: str, fork_id: str, prompt: str
) -> list[dict[str, Any]]:
    """What ``--fork-session`` writes: the chain copied (same uuids, new sessionId), then more."""
    copied: list[dict[str, Any]] = [{"type": "mode", "mode": "normal", "sessionId": fork_id}]
    for entry in origin_entries:
        if "parentUuid" not in entry:
            continue
        clone = json.loads(json.dumps(entry))
        clone["sessionId"] = fork_id
        if clone["type"] == "assistant":
            clone["requestSessionId"] = origin_id
        copied.append(clone)
    last = copied[-1]["uuid"]
    user = _common(fork_id, 500, last, 30)
    user.update(type="user", message={"role": "user", "content": prompt})
    answer = _common(fork_id, 501, user["uuid"], 31)
    answer.update(
        type="assistant",
        message={
            "id": f"msg_{fork_id}",
            "role": "assistant",
            "model": "claude-opus-4-1",
            "content": [{"type": "text", "text": "forked answer"}],
            "usage": {"input_tokens": 10, "output_tokens": 5},
        },
    )
    return [*copied, user, answer]


def write(path: Path, entries: list[dict[str, Any]], *, extra: bytes = b"") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        for entry in entries:
            handle.write(json.dumps(entry).encode() + b"\n")
        handle.write(extra)
    return path


def append(path: Path, entries: list[dict[str, Any]], *, raw: bytes = b"") -> None:
    with path.open("ab") as handle:
        handle.write(raw)
        for entry in entries:
            handle.write(json.dumps(entry).encode() + b"\n")


def project_dir(root: Path) -> Path:
    return root / "projects" / PROJECT_KEY
