"""The conversation as the session page shows it: turns of blocks.

This is the web app's stand-in for the shared conversation view model
(``claude_sessions.conversation``, coming): the same ``Conversation``,
``Turn`` and ``Block`` shapes, so the templates, written one partial per
block kind, keep working when the stand-in is swapped for it. It reads the
messages the way :func:`claude_sessions.render.conversation` does (the
same blocks, bookkeeping entries skipped) and adds what a chat view needs:
a tool call paired with its result, a Task call with its subagent's
transcript, images, compaction markers, and per-turn tokens, cost and
duration.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..message import Message
from ..pricing import default_price_table, token_counts


@dataclass
class Block:
    """One piece of a turn; ``kind`` is text, thinking, tool_use, tool_result, image or
    marker. A tool call carries its ``result`` and, for a Task call, the ``subagent``'s
    conversation; a tool result carries the ``images`` it returned."""

    kind: str
    text: str = ""
    name: str | None = None
    tool_use_id: str | None = None
    input: Any = None
    is_error: bool = False
    media_type: str | None = None
    data: str | None = None
    result: Block | None = None
    subagent: Conversation | None = None
    images: list[Block] = field(default_factory=list)


@dataclass
class Turn:
    """One message of the chat: a user's, an assistant's (its entries merged when the
    CLI split one API message over several), or the system's (``marker`` says which)."""

    role: str
    blocks: list[Block]
    uuid: str | None = None
    timestamp: str | None = None
    model: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    cost: float | None = None
    duration_ms: int | None = None
    marker: str | None = None
    message_id: str | None = None


@dataclass
class Conversation:
    turns: list[Turn]


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _image(block: Mapping[str, Any]) -> Block | None:
    source = block.get("source")
    if not isinstance(source, Mapping) or source.get("type") != "base64":
        return None
    return Block(
        "image", media_type=_text(source.get("media_type")), data=_text(source.get("data"))
    )


def _result(block: Mapping[str, Any]) -> Block:
    content = block.get("content")
    found = Block("tool_result", tool_use_id=_text(block.get("tool_use_id")) or None)
    found.is_error = block.get("is_error") is True
    if isinstance(content, str):
        found.text = content
    elif isinstance(content, list):
        pieces = []
        for item in content:
            if not isinstance(item, Mapping):
                continue
            if item.get("type") == "image":
                image = _image(item)
                if image is not None:
                    found.images.append(image)
            elif isinstance(item.get("text"), str):
                pieces.append(item["text"])
        found.text = "\n".join(pieces)
    elif content is not None:
        found.text = str(content)
    return found


def _marker(message: Message) -> Turn | None:
    """The system's turn for a message that is not a user's or an assistant's, if any."""
    stamp = message.timestamp
    if message.is_init:
        return Turn("system", [], timestamp=stamp, marker="start", model=message.model)
    if message.type == "system" and message.subtype == "compact_boundary":
        details = message.get("compactMetadata")
        details = details if isinstance(details, Mapping) else {}
        text = "Conversation compacted"
        if isinstance(details.get("trigger"), str):
            text += f" ({details['trigger']})"
        before = _int(details.get("preTokens"))
        if before is not None:
            text += f", {before:,} tokens before"
        return Turn("system", [Block("marker", text)], timestamp=stamp, marker="compact")
    if message.type == "summary" and isinstance(message.get("summary"), str):
        return Turn("system", [Block("marker", message["summary"])], marker="summary")
    if message.is_result:
        details = [message.subtype or "result"]
        if message.num_turns is not None:
            details.append(f"{message.num_turns} turn(s)")
        if message.total_cost_usd is not None:
            details.append(f"${message.total_cost_usd:.4f}")
        marker = Block("marker", ", ".join(details), is_error=message.is_error)
        return Turn(
            "system",
            [marker],
            timestamp=stamp,
            marker="result",
            cost=message.total_cost_usd,
            duration_ms=_int(message.get("duration_ms")),
        )
    return None


class _Builder:
    def __init__(self, subagents: Mapping[str, list[Message]]) -> None:
        self.turns: list[Turn] = []
        self.calls: dict[str, Block] = {}
        self.subagents = subagents
        self.prices = default_price_table()

    def add(self, message: Message) -> None:
        if message.type == "system" and message.subtype == "turn_duration":
            duration = _int(message.get("durationMs"))
            last = next((t for t in reversed(self.turns) if t.role == "assistant"), None)
            if last is not None and duration is not None:
                last.duration_ms = duration
            return
        if message.type not in ("user", "assistant"):
            marker = _marker(message)
            if marker is not None:
                self.turns.append(marker)
            return
        if message.get("isMeta") is True:
            return
        blocks = [b for b in (self._block(message, raw) for raw in message.content) if b]
        if not blocks:
            return
        if message.type == "user" and message.get("isCompactSummary") is True:
            self.turns.append(
                Turn("user", blocks, message.uuid, message.timestamp, marker="summary")
            )
            return
        message_id = _text(message.body.get("id")) or None
        last = self.turns[-1] if self.turns else None
        if (
            message.type == "assistant"
            and message_id is not None
            and last is not None
            and last.message_id == message_id
        ):
            last.blocks.extend(blocks)  # the same API message, split over entries
            self._usage(last, message)
            return
        turn = Turn(message.type, blocks, message.uuid, message.timestamp, message_id=message_id)
        if message.type == "assistant":
            turn.model = message.model
            self._usage(turn, message)
        self.turns.append(turn)

    def _usage(self, turn: Turn, message: Message) -> None:
        # Each entry of a split message repeats its usage, the last one final (as the
        # store counts it: once per API message, the last entry's figures).
        if message.usage:
            turn.input_tokens, turn.output_tokens = token_counts(message.usage)
            turn.cost = self.prices.cost(message.model, message.usage)

    def _block(self, message: Message, raw: Mapping[str, Any]) -> Block | None:
        kind = raw.get("type")
        if kind == "text" and _text(raw.get("text")).strip():
            return Block("text", raw["text"])
        if kind == "thinking" and _text(raw.get("thinking")).strip():
            return Block("thinking", raw["thinking"])
        if kind == "image":
            return _image(raw)
        if kind == "tool_use":
            call = Block(
                "tool_use",
                name=_text(raw.get("name")) or "tool",
                tool_use_id=_text(raw.get("id")) or None,
                input=raw.get("input", {}),
            )
            if call.tool_use_id:
                self.calls[call.tool_use_id] = call
            return call
        if kind == "tool_result":
            result = _result(raw)
            paired = self.calls.pop(result.tool_use_id or "", None)
            if paired is None:
                return result  # its call is not in this transcript: show it on its own
            paired.result = result
            paired.subagent = self._subagent(message)
            return None
        return None

    def _subagent(self, message: Message) -> Conversation | None:
        details = message.get("toolUseResult")
        agent = details.get("agentId") if isinstance(details, Mapping) else None
        if not isinstance(agent, str) or not agent:
            return None
        suffix = f"agent-{agent}"
        for path, messages in self.subagents.items():
            if path.rsplit("/", 1)[-1] == suffix:
                return build_conversation(messages)
        return None


def build_conversation(
    messages: Iterable[Message], subagents: Mapping[str, list[Message]] | None = None
) -> Conversation:
    """The turns of ``messages``; Task calls get the transcript of ``subagents`` they ran."""
    builder = _Builder(subagents or {})
    for message in messages:
        builder.add(Message.coerce(message))
    return Conversation(builder.turns)


# A call unanswered this many turns later was abandoned (an interrupted run), not pending.
PENDING_WINDOW = 50


def settled(conversation: Conversation) -> int:
    """How many leading turns can no longer change as the session grows: those before
    the last turn and before a recent tool call still waiting for its result."""
    turns = conversation.turns
    last = max(len(turns) - 1, 0)
    for index in range(max(last - PENDING_WINDOW, 0), last):
        if any(b.kind == "tool_use" and b.result is None for b in turns[index].blocks):
            return index
    return last
