"""Subagent conversations that older Claude Code CLIs wrote into the main transcript.

Before subagents had transcripts of their own (``<session>/subagents/``), the CLI
wrote the conversation of each ``Task`` call's subagent into the main transcript,
every line of it marked ``isSidechain: true``: the subagent's prompt as a user
entry with no ``parentUuid``, then its replies and tool calls chained by
``parentUuid``, written before the call's result. Read as they stand, they would
pass for the user's own prompts and Claude's replies.

:func:`split_sidechains` takes those conversations out of the main one and links
each to the call that started it, by what the lines hold, surest first:

- the ``agentId`` its lines carry, which the call's result names too (CLIs that
  wrote both);
- its prompt, which is the call's ``prompt`` input;
- its last reply, which the call's result repeats.

A sidechain that none of them links stays unlinked. A transcript that holds no
conversation besides sidechain lines (a subagent's own) is left whole.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from claude_sessions.model.message import Message

SUBAGENT_TOOLS = frozenset({"Task", "Agent"})


@dataclass
class Sidechain:
    """One subagent conversation of the main transcript, and the call that started it."""

    positions: list[int]  # where its lines stand in the transcript
    messages: list[Message]
    agent_id: str | None = None
    tool_use_id: str | None = None  # the Task call, once linked


@dataclass
class _Call:
    tool_use_id: str
    prompt: str
    reply: str = ""  # its result's text
    agent_id: str | None = None  # the agent its result names
    taken: bool = False


def is_sidechain(message: Message) -> bool:
    return message.get("isSidechain") is True


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def split_sidechains(messages: Sequence[Message]) -> list[Sidechain]:
    """The sidechains of a main transcript, in the order they start, each linked to its call
    where the lines allow (see the module docstring)."""
    if not any(m.type in ("user", "assistant") and not is_sidechain(m) for m in messages):
        return []
    chains = _chains(messages)
    if chains:
        calls = _calls(m for m in messages if not is_sidechain(m))
        for chain in chains:
            _link(chain, calls)
    return chains


def _chains(messages: Sequence[Message]) -> list[Sidechain]:
    """Sidechain lines grouped by their ``parentUuid`` chains: a line whose parent is no
    sidechain line starts a chain of its own."""
    chains: list[Sidechain] = []
    chain_of: dict[str, Sidechain] = {}
    for position, message in enumerate(messages):
        if not is_sidechain(message):
            continue
        chain = chain_of.get(_str(message.get("parentUuid")) or "")
        if chain is None:
            chain = Sidechain([], [])
            chains.append(chain)
        chain.positions.append(position)
        chain.messages.append(message)
        chain.agent_id = chain.agent_id or _str(message.get("agentId"))
        if message.uuid:
            chain_of[message.uuid] = chain
    return chains


def _calls(main: Iterable[Message]) -> list[_Call]:
    """The subagent calls of the main conversation, in order, with what their results say."""
    calls: dict[str, _Call] = {}
    for message in main:
        for block in message.content:
            kind = block.get("type")
            if kind == "tool_use" and block.get("name") in SUBAGENT_TOOLS and _str(block.get("id")):
                arguments = block.get("input")
                prompt = arguments.get("prompt") if isinstance(arguments, Mapping) else None
                calls[block["id"]] = _Call(block["id"], _flat(prompt))
            elif kind == "tool_result" and block.get("tool_use_id") in calls:
                call = calls[block["tool_use_id"]]
                call.reply = _flat(block.get("content"))
                call.agent_id = _result_agent(message)
    return list(calls.values())


def _result_agent(message: Message) -> str | None:
    result = message.get("toolUseResult")
    named = result.get("agentId") if isinstance(result, Mapping) else None
    return _str(named) or _str(message.get("agentId"))


def _flat(content: Any) -> str:
    """The text of a prompt or a tool result (a string, or text blocks), trimmed."""
    if isinstance(content, str):
        return content.strip()
    if not isinstance(content, list):
        return ""
    texts = [
        b["text"] for b in content if isinstance(b, Mapping) and isinstance(b.get("text"), str)
    ]
    return "".join(texts).strip()


def _link(chain: Sidechain, calls: list[_Call]) -> None:
    first = chain.messages[0]
    prompt = first.text.strip() if first.type == "user" else ""
    replies = [m.text.strip() for m in chain.messages if m.is_assistant and m.text.strip()]
    reply = replies[-1] if replies else ""
    tests: tuple[Callable[[_Call], bool], ...] = (
        lambda call: chain.agent_id is not None and call.agent_id == chain.agent_id,
        lambda call: bool(prompt) and call.prompt == prompt,
        lambda call: bool(reply) and call.reply == reply,
    )
    for test in tests:
        found = next((call for call in calls if not call.taken and test(call)), None)
        if found is not None:
            found.taken = True
            chain.tool_use_id = found.tool_use_id
            return
