"""``Message``: a faithful record of one JSON object the CLI emitted."""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Mapping
from typing import Any


class Message:
    """One object of the CLI's stream-json output (or one transcript entry).

    The whole object is kept as it came in, unknown types and fields included,
    and comes back unchanged from :meth:`to_dict`. The properties are
    read-only conveniences over it; none of them raises on an odd shape.
    """

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[str, Any]) -> None:
        if not isinstance(data, Mapping):
            raise TypeError(f"a Message is built from a JSON object, not {type(data).__name__}")
        self._data: dict[str, Any] = dict(data)

    @classmethod
    def from_json(cls, line: str | bytes) -> Message:
        return cls(json.loads(line))

    @classmethod
    def coerce(cls, value: Any) -> Message:
        """A ``Message`` from a ``Message``, a mapping or an official SDK message."""
        if isinstance(value, Message):
            return value
        if isinstance(value, Mapping):
            return cls(value)
        from claude_sessions.model.sdk import from_sdk_message

        return cls(from_sdk_message(value))

    def to_dict(self) -> dict[str, Any]:
        """A deep copy of the original object."""
        return copy.deepcopy(self._data)

    def to_json(self) -> str:
        return json.dumps(self._data, ensure_ascii=False, separators=(",", ":"))

    def to_sdk(self) -> Any:
        """The official ``claude_agent_sdk`` typed message, or ``None`` where it has none."""
        from claude_sessions.model.sdk import to_sdk_message

        return to_sdk_message(self.to_dict())

    def get(self, key: str, default: Any = None) -> Any:
        return self._data.get(key, default)

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Message):
            return self._data == other._data
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable JSON inside

    def __repr__(self) -> str:
        details = f"type={self.type!r}"
        if self.subtype:
            details += f", subtype={self.subtype!r}"
        if self.session_id:
            details += f", session_id={self.session_id!r}"
        return f"Message({details})"

    @property
    def type(self) -> str:
        value = self._data.get("type")
        return value if isinstance(value, str) else ""

    @property
    def subtype(self) -> str | None:
        return _str_or_none(self._data.get("subtype"))

    @property
    def session_id(self) -> str | None:
        # stream-json says session_id, transcripts on disk say sessionId.
        return _str_or_none(self._data.get("session_id") or self._data.get("sessionId"))

    @property
    def uuid(self) -> str | None:
        return _str_or_none(self._data.get("uuid"))

    @property
    def is_init(self) -> bool:
        return self.type == "system" and self.subtype == "init"

    @property
    def is_assistant(self) -> bool:
        return self.type == "assistant"

    @property
    def is_result(self) -> bool:
        return self.type == "result"

    @property
    def is_error(self) -> bool:
        """A result (or assistant message) the CLI flagged as an error."""
        return bool(self._data.get("is_error")) or (
            self.is_result and (self.subtype or "").startswith("error")
        )

    @property
    def body(self) -> dict[str, Any]:
        """The inner API message (``message``) of user and assistant entries."""
        inner = self._data.get("message")
        return inner if isinstance(inner, dict) else {}

    @property
    def content(self) -> list[dict[str, Any]]:
        """Content blocks of a user or assistant message; a bare string becomes one text block."""
        raw = self.body.get("content")
        if isinstance(raw, str):
            return [{"type": "text", "text": raw}]
        if isinstance(raw, list):
            return [block for block in raw if isinstance(block, dict)]
        return []

    @property
    def text(self) -> str:
        """The text blocks joined; for a result, its ``result`` string."""
        if self.is_result:
            return _str_or_none(self._data.get("result")) or ""
        return "".join(
            block["text"]
            for block in self.content
            if block.get("type") == "text" and isinstance(block.get("text"), str)
        )

    @property
    def tool_uses(self) -> list[dict[str, Any]]:
        return [block for block in self.content if block.get("type") == "tool_use"]

    @property
    def model(self) -> str | None:
        return _str_or_none(self._data.get("model")) or _str_or_none(self.body.get("model"))

    @property
    def usage(self) -> dict[str, Any]:
        usage = self._data.get("usage") if self.is_result else self.body.get("usage")
        return usage if isinstance(usage, dict) else {}

    @property
    def total_cost_usd(self) -> float | None:
        cost = self._data.get("total_cost_usd")
        return float(cost) if isinstance(cost, int | float) and not isinstance(cost, bool) else None

    @property
    def num_turns(self) -> int | None:
        turns = self._data.get("num_turns")
        return turns if isinstance(turns, int) and not isinstance(turns, bool) else None

    @property
    def api_error_status(self) -> int | None:
        status = self._data.get("api_error_status")
        return status if isinstance(status, int) and not isinstance(status, bool) else None

    @property
    def timestamp(self) -> str | None:
        return _str_or_none(self._data.get("timestamp"))


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def read_jsonl(path: str | os.PathLike[str]) -> list[Message]:
    """The JSON objects of a JSON-lines file (a CLI transcript), in order; lines that
    hold no JSON object are skipped."""
    messages = []
    with open(path, encoding="utf-8", errors="replace") as lines:
        for line in lines:
            try:
                data = json.loads(line)
            except ValueError:
                continue
            if isinstance(data, dict):
                messages.append(Message(data))
    return messages
