"""A session with the planted secrets of tests/secret_samples.py in every place a
transcript holds text: prompts, replies, tool inputs, tool results (and
``toolUseResult``), a subagent's transcript, a summary and the description."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from .secret_samples import Planted, decoys, planted

# Recent: a command that writes moves sessions not updated for a month to the trash.
_START = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=1)


def _id(number: int) -> str:
    return str(uuid.UUID(int=number, version=4))


def secrets() -> list[Planted]:
    return planted()


def needles() -> list[bytes]:
    """The bytes that must not be left anywhere: each secret's value."""
    return [item.value.encode() for item in secrets()]


def _entry(number: int, parent: int | None, kind: str, content: Any, **more: Any) -> dict[str, Any]:
    return {
        "type": kind,
        "uuid": _id(number),
        "parentUuid": _id(parent) if parent is not None else None,
        "sessionId": more.pop("session_id"),
        "timestamp": (_START + timedelta(seconds=number)).isoformat().replace("+00:00", "Z"),
        "cwd": "/work/project",
        "message": {"role": "user" if kind == "user" else "assistant", "content": content}
        | ({"model": "claude-sonnet-4-5", "id": f"msg_{number}"} if kind == "assistant" else {}),
        **more,
    }


def main_entries(session_id: str) -> list[dict[str, Any]]:
    """Each planted secret in a prompt, a reply, a tool input and a tool result; the
    decoys in a prompt."""
    entries: list[dict[str, Any]] = []
    number = 1
    parent: int | None = None
    every = secrets()
    texts = "\n".join(item.text for item in every)
    entries.append(
        _entry(number, parent, "user", f"Please look at this:\n{texts}", session_id=session_id)
    )
    parent, number = number, number + 1
    for index, item in enumerate(every):
        tool_id = f"toolu_{index:04d}"
        reply = [
            {"type": "text", "text": f"I see {item.text} there."},
            {"type": "tool_use", "id": tool_id, "name": "Bash", "input": {"command": item.text}},
        ]
        entries.append(_entry(number, parent, "assistant", reply, session_id=session_id))
        parent, number = number, number + 1
        result = [{"type": "tool_result", "tool_use_id": tool_id, "content": item.text}]
        entries.append(
            _entry(
                number,
                parent,
                "user",
                result,
                session_id=session_id,
                toolUseResult={"stdout": item.text, "stderr": ""},
            )
        )
        parent, number = number, number + 1
    decoy_text = "\n".join(decoys().values())
    entries.append(_entry(number, parent, "user", decoy_text, session_id=session_id))
    entries.append(
        {"type": "summary", "summary": f"Rotate {every[0].text}", "leafUuid": _id(number)}
    )
    return entries


def subagent_entries(session_id: str) -> list[dict[str, Any]]:
    texts = "\n".join(item.text for item in secrets())
    return [
        _entry(
            1000, None, "user", f"Check these: {texts}", session_id=session_id, isSidechain=True
        ),
        _entry(
            1001,
            1000,
            "assistant",
            [{"type": "text", "text": texts}],
            session_id=session_id,
            isSidechain=True,
        ),
    ]


def write_transcripts(folder: Path, session_id: str) -> Path:
    """The session as Claude Code lays it out: ``<id>.jsonl`` and its subagent's file."""
    project = folder / "-work-project"
    (project / session_id / "subagents").mkdir(parents=True)
    main = project / f"{session_id}.jsonl"
    main.write_text("".join(json.dumps(entry) + "\n" for entry in main_entries(session_id)))
    agent = project / session_id / "subagents" / "agent-a1.jsonl"
    agent.write_text("".join(json.dumps(e) + "\n" for e in subagent_entries(session_id)))
    return main
