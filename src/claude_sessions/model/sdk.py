"""Conversions between the CLI's JSON messages and the official ``claude_agent_sdk`` ones.

Turning JSON into the SDK's typed messages is the SDK's own parser's job, so we
call it rather than keep a second copy of its rules. The other way, a typed
message back to the CLI's JSON, has no SDK function: the dataclasses are
rebuilt into the stream-json shape here. Unknown types have no typed form,
which is why our ``Message`` stays the record of truth. Both directions work
on plain JSON objects; :class:`~claude_sessions.model.message.Message` wraps them.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from claude_agent_sdk import (
    AssistantMessage,
    ResultMessage,
    StreamEvent,
    SystemMessage,
    TextBlock,
    ThinkingBlock,
    ToolResultBlock,
    ToolUseBlock,
    UserMessage,
)

# The SDK exports no public parser; this module path is pinned by the tested
# version range in pyproject.toml.
from claude_agent_sdk._internal.message_parser import parse_message


def to_sdk_message(data: dict[str, Any]) -> Any:
    """The SDK's typed message for the JSON object ``data``, or ``None`` for types it
    does not model."""
    try:
        return parse_message(data)
    except Exception:  # the SDK raises MessageParseError and KeyError on shapes it lacks
        return None


def from_sdk_message(value: Any) -> dict[str, Any]:
    """The CLI's JSON object for an SDK typed message."""
    if isinstance(value, SystemMessage):
        data = dict(value.data)
        data.setdefault("type", "system")
        data.setdefault("subtype", value.subtype)
        return data
    if isinstance(value, AssistantMessage):
        inner = _drop_none(
            {
                "id": value.message_id,
                "type": "message",
                "role": "assistant",
                "model": value.model,
                "content": [_block(b) for b in value.content],
                "stop_reason": value.stop_reason,
                "usage": value.usage,
            }
        )
        return _drop_none(
            {
                "type": "assistant",
                "message": inner,
                "parent_tool_use_id": value.parent_tool_use_id,
                "session_id": value.session_id,
                "uuid": value.uuid,
                "error": value.error,
            }
        )
    if isinstance(value, UserMessage):
        content = (
            value.content if isinstance(value.content, str) else [_block(b) for b in value.content]
        )
        return _drop_none(
            {
                "type": "user",
                "message": {"role": "user", "content": content},
                "parent_tool_use_id": value.parent_tool_use_id,
                "uuid": value.uuid,
                "tool_use_result": value.tool_use_result,
            }
        )
    if isinstance(value, ResultMessage):
        fields = _drop_none(dataclasses.asdict(value))
        if "model_usage" in fields:
            fields["modelUsage"] = fields.pop("model_usage")
        return {"type": "result", **fields}
    if isinstance(value, StreamEvent):
        return {"type": "stream_event", **_drop_none(dataclasses.asdict(value))}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        # Other typed messages (rate limits, task events): keep every field.
        return _drop_none(dataclasses.asdict(value))
    raise TypeError(f"cannot make a message from {type(value).__name__}")


def _block(block: Any) -> dict[str, Any]:
    if isinstance(block, TextBlock):
        return {"type": "text", "text": block.text}
    if isinstance(block, ThinkingBlock):
        return {"type": "thinking", "thinking": block.thinking, "signature": block.signature}
    if isinstance(block, ToolUseBlock):
        return {"type": "tool_use", "id": block.id, "name": block.name, "input": block.input}
    if isinstance(block, ToolResultBlock):
        return _drop_none(
            {
                "type": "tool_result",
                "tool_use_id": block.tool_use_id,
                "content": block.content,
                "is_error": block.is_error,
            }
        )
    if isinstance(block, dict):
        return block
    return _drop_none(dataclasses.asdict(block))


def _drop_none(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v is not None}
