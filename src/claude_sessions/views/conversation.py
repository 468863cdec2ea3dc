"""A session as a conversation: the read model every face renders (terminal, HTML, web, MCP).

:func:`build_conversation` turns stored messages (stream-json messages, CLI
transcript entries, or both) into :class:`Turn` items of :class:`Block`s:

- a tool call carries its result (``Block.result``), found by ``tool_use_id``;
  user messages that only carried results then drop out;
- a subagent call (``Task``/``Agent``) carries the subagent's own transcript
  (``Block.subagent``), linked by the ``agentId`` the CLI records on the call's
  result, or its conversation when an older CLI wrote it into the main
  transcript (see :mod:`.sidechains`); subagent transcripts linked to no call
  (compaction agents, a trimmed transcript) are kept in ``Conversation.unlinked``;
- compaction, summaries and the session's start and end become markers
  (``Turn.marker`` says which);
- a tool result's images and system reminders ride on it (``Block.attachments``);
- what Claude Code wraps in user text is read for a person (:mod:`..model.wrappers`):
  a slash command becomes a ``command`` block as typed, with its arguments, and
  the output of a local command its ``result`` (an ``output`` block; on its own
  when no command precedes it); a system reminder becomes a ``reminder`` block,
  which faces show folded and labelled;
- assistant turns carry their tokens and cost (each API request counted once,
  on its last entry: the CLI splits one response into several entries whose
  last one has the final usage), and duration where the CLI recorded one.

Bookkeeping entries (progress, queue operations, file snapshots, ...) carry
nothing to read and are left out; ``Turn.index`` keeps each turn's position in
the stored messages, so a face can page through them, and :func:`settled` says how
many leading turns can no longer change as the session grows (for a live view).
:func:`join_replies` makes one turn of each response the CLI split over entries, for a
face that shows a reply as one piece.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal, TypeVar

from claude_sessions.model.entries import SYNTHETIC_MODEL
from claude_sessions.model.message import Message
from claude_sessions.model.wrappers import Piece, command_output, read_user_text, with_reminders
from claude_sessions.views.edits import ChangeTracker, FileChange
from claude_sessions.views.sidechains import SUBAGENT_TOOLS, Sidechain, split_sidechains

INLINE_IMAGES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
_ROLES = {"user": "User", "assistant": "Assistant", "system": "System", "result": "Result"}

BlockKind = Literal[
    "text", "thinking", "tool_use", "tool_result", "image", "marker",
    "command", "output", "reminder",
]  # fmt: skip
Role = Literal["user", "assistant", "system", "result"]
# What a marker turn stands for: the session's start, a compaction (its boundary, then the
# summary the conversation went on from), a summary entry, the end of a run.
MarkerKind = Literal["start", "compact", "compact_summary", "summary", "result"]


@dataclass
class Block:
    """One readable piece of a message."""

    kind: BlockKind
    text: str = ""
    name: str | None = None  # a tool call's tool
    tool_use_id: str | None = None
    input: Any = None  # a tool call's arguments
    is_error: bool = False
    media_type: str | None = None  # an image's type
    data: str | None = None  # an image's base64 data, when inline
    size: int | None = None  # an image's size in bytes, when known
    result: Block | None = None  # a tool call's result, once paired; a command's output
    subagent: Conversation | None = None  # a subagent call's transcript
    agent_id: str | None = None
    attachments: list[Block] = field(default_factory=list)  # a tool result's images, reminders
    change: FileChange | None = None  # what an Edit, MultiEdit or Write call changed
    uuid: str | None = None  # a paired tool result's own message, which a link may name


@dataclass
class Turn:
    """One message of the conversation, with what is known about it."""

    role: Role
    blocks: list[Block]
    index: int
    uuid: str | None = None
    timestamp: str | None = None
    model: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    cost: float | None = None
    duration_ms: int | None = None
    marker: MarkerKind | None = None  # set on the marker turns of system and result
    message_id: str | None = None  # an assistant turn's API message (the CLI splits one)
    joined_uuids: list[str] = field(default_factory=list)  # see join_replies


@dataclass
class Conversation:
    """The turns of one transcript; ``unlinked``: subagent transcripts no call names."""

    turns: list[Turn] = field(default_factory=list)
    unlinked: dict[str, Conversation] = field(default_factory=dict)

    def blocks(self) -> Iterable[Block]:
        """Every block, nested results and subagents included, depth first."""
        for turn in self.turns:
            for block in turn.blocks:
                yield from _walk(block)
        for agent in self.unlinked.values():
            yield from agent.blocks()


def _walk(block: Block) -> Iterable[Block]:
    yield block
    yield from block.attachments
    if block.result is not None:
        yield from _walk(block.result)
    if block.subagent is not None:
        yield from block.subagent.blocks()


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _image(source: Any) -> Block:
    source = source if isinstance(source, Mapping) else {}
    data = _str(source.get("data")) if source.get("type") == "base64" else None
    media = _str(source.get("media_type")) or "image"
    size = len(data) * 3 // 4 if data else None
    return Block("image", media_type=media, data=data, size=size)


def _result_blocks(content: Any) -> tuple[str, list[Block]]:
    """A tool result's text, and the images and system reminders it holds."""
    if isinstance(content, str):
        return _without_reminders(content, [])
    pieces: list[str] = []
    images: list[Block] = []
    for item in content if isinstance(content, list) else []:
        if not isinstance(item, Mapping):
            continue
        if item.get("type") == "image":
            images.append(_image(item.get("source")))
        elif isinstance(item.get("text"), str):
            pieces.append(item["text"])
    return _without_reminders("\n".join(pieces), images)


def _without_reminders(text: str, images: list[Block]) -> tuple[str, list[Block]]:
    pieces = with_reminders(text)
    if all(piece.kind == "text" for piece in pieces):
        return text, images
    kept = "\n".join(piece.text for piece in pieces if piece.kind == "text")
    return kept, images + [_piece_block(p) for p in pieces if p.kind == "reminder"]


def _piece_block(piece: Piece) -> Block:
    return Block(piece.kind, piece.text, is_error=piece.is_error)


def _user_text_blocks(text: str) -> list[Block]:
    return [_piece_block(piece) for piece in read_user_text(text)]


def _content_blocks(message: Message) -> list[Block]:
    blocks: list[Block] = []
    for raw in message.content:
        kind = raw.get("type")
        if kind == "text" and isinstance(raw.get("text"), str) and raw["text"].strip():
            if message.type == "user":
                blocks.extend(_user_text_blocks(raw["text"]))
            else:
                blocks.append(Block("text", raw["text"]))
        elif (
            kind == "thinking" and isinstance(raw.get("thinking"), str) and raw["thinking"].strip()
        ):
            blocks.append(Block("thinking", raw["thinking"]))
        elif kind == "tool_use":
            name = _str(raw.get("name")) or "tool"
            blocks.append(
                Block(
                    "tool_use", name=name, tool_use_id=_str(raw.get("id")), input=raw.get("input")
                )
            )
        elif kind == "tool_result":
            text, images = _result_blocks(raw.get("content"))
            result = Block(
                "tool_result",
                text,
                tool_use_id=_str(raw.get("tool_use_id")),
                is_error=raw.get("is_error") is True,
                attachments=images,
            )
            blocks.append(result)
        elif kind == "image":
            blocks.append(_image(raw.get("source")))
    return blocks


def _marker(message: Message, own: Collection[str]) -> tuple[MarkerKind, str] | None:
    """The marker a bookkeeping message stands for, if any; ``own``: the uuids of the
    transcript's messages (a summary whose leaf is not among them names another session,
    often the one before it)."""
    data = message.to_dict() if message.type in ("summary", "system") else {}
    if message.type == "summary" and _str(data.get("summary")):
        leaf = data.get("leafUuid")
        if isinstance(leaf, str) and leaf not in own:
            return "summary", f"Summary of another session: {data['summary']}"
        return "summary", f"Summary: {data['summary']}"
    if message.is_init:
        return "start", f"Session started ({message.model or 'unknown model'})"
    if message.type == "system" and message.subtype == "compact_boundary":
        meta = data.get("compactMetadata")
        meta = meta if isinstance(meta, Mapping) else {}
        details = [_str(meta.get("trigger"))]
        before = _int(meta.get("preTokens"))
        details.append(f"{before:,} tokens before" if before else None)
        shown = ", ".join(d for d in details if d)
        return "compact", "Conversation compacted" + (f" ({shown})" if shown else "")
    return None


def _result_marker(message: Message) -> str:
    details = [message.subtype or "result"]
    if message.num_turns is not None:  # the CLI's count of its requests to the model
        details.append(f"{message.num_turns} API request(s)")
    cost = message.total_cost_usd
    if cost is not None:
        details.append(f"${cost:.4f}")
    return "Result: " + ", ".join(details)


def _request_key(message: Message, index: int) -> str:
    """The API request an assistant entry belongs to (the CLI splits one over entries)."""
    return f"{_str(message.body.get('id')) or f'#{index}'}/{_str(message.get('requestId')) or ''}"


def _usage_owners(messages: list[Message]) -> dict[int, Mapping[str, Any]]:
    """The index of the last entry of each API request, with its usage."""
    last: dict[str, int] = {}
    for index, message in enumerate(messages):
        if message.is_assistant and message.usage:
            last[_request_key(message, index)] = index
    return {index: messages[index].usage for index in last.values()}


def api_requests(messages: Iterable[Message | Mapping[str, Any]]) -> int:
    """How many requests to the model the main conversation of ``messages`` made, each
    once: the assistant entries with usage, by message id and request id (Claude Code's
    ``<synthetic>`` placeholders are none, a subagent's sidechain lines are its own)."""
    found = [Message.coerce(m) for m in messages]
    return len(
        {
            _request_key(message, index)
            for index, message in enumerate(found)
            if message.is_assistant
            and message.usage
            and message.model != SYNTHETIC_MODEL
            and message.get("isSidechain") is not True
        }
    )


def _request_cost(model: str | None, usage: Mapping[str, Any], message: Message) -> float | None:
    recorded = message.get("costUSD")
    if isinstance(recorded, int | float) and not isinstance(recorded, bool):
        return float(recorded)
    from claude_sessions.model.pricing import default_price_table

    return default_price_table().cost(model, usage)


def _agent_id(entry: Message) -> str | None:
    result = entry.get("toolUseResult")
    return _str(result.get("agentId")) if isinstance(result, Mapping) else None


def build_conversation(
    messages: Iterable[Message | Mapping[str, Any]],
    subagents: Mapping[str, Iterable[Message | Mapping[str, Any]]] | None = None,
) -> Conversation:
    """The conversation of ``messages``, with ``subagents`` (by subpath) nested in it."""
    found = [Message.coerce(m) for m in messages]
    agents = {
        path: [Message.coerce(m) for m in entries] for path, entries in (subagents or {}).items()
    }
    own_uuids = {m.uuid for m in found if m.uuid}
    builder = _Builder(agents, _usage_owners(found), split_sidechains(found), own_uuids)
    for index, message in enumerate(found):
        builder.add(index, message)
    return builder.finish()


class _Builder:
    """The conversation of one transcript as its messages come, in order."""

    def __init__(
        self,
        agents: dict[str, list[Message]],
        usage: dict[int, Mapping[str, Any]],
        sidechains: list[Sidechain],
        own_uuids: Collection[str],
    ) -> None:
        self.agents = agents
        self.sidechains = sidechains
        self.sidechain_lines = {p for chain in sidechains for p in chain.positions}
        self.sidechain_calls = {c.tool_use_id: c for c in sidechains if c.tool_use_id}
        self.by_agent_id = {path.rsplit("/", 1)[-1].removeprefix("agent-"): path for path in agents}
        self.usage = usage
        self.conversation = Conversation()
        self.calls: dict[str, Block] = {}  # tool calls by id, waiting for their results
        self.linked: set[str] = set()  # subagent transcripts a call took
        self.last_assistant: Turn | None = None
        self.command: Block | None = None  # the last turn's command, waiting for its output
        self.own_uuids = own_uuids

    def add(self, index: int, message: Message) -> None:
        if index in self.sidechain_lines or self._bookkeeping(index, message):
            return
        if message.type == "system" and message.subtype == "local_command":
            self._command_output(index, message)
            return
        if message.type not in ("user", "assistant") or message.get("isMeta") is True:
            return
        if message.get("isCompactSummary") is True:
            block = Block("marker", "Compaction summary")
            block.result = Block("text", message.text or "(compaction summary)")
            self._marker_turn(index, message, block, "compact_summary")
            return
        blocks = self._unpaired_blocks(message)
        if blocks and not self._took_output(blocks):
            self._message_turn(index, message, blocks)

    def finish(self) -> Conversation:
        for path, entries in self.agents.items():
            if path not in self.linked:
                self.conversation.unlinked[path] = build_conversation(entries)
        unlinked = [chain for chain in self.sidechains if chain.tool_use_id is None]
        for number, chain in enumerate(unlinked, 1):
            self.conversation.unlinked[f"sidechain {number}"] = build_conversation(chain.messages)
        _read_changes(self.conversation)
        return self.conversation

    def _bookkeeping(self, index: int, message: Message) -> bool:
        """Markers, results and turn durations: whether ``message`` was one of them."""
        marker = _marker(message, self.own_uuids)
        if marker is not None:
            kind, text = marker
            self._marker_turn(index, message, Block("marker", text), kind)
        elif message.is_result:
            if self.last_assistant is not None and _int(message.get("duration_ms")):
                self.last_assistant.duration_ms = _int(message.get("duration_ms"))
            block = Block("marker", _result_marker(message), is_error=message.is_error)
            self.command = None
            self.conversation.turns.append(
                Turn("result", [block], index, timestamp=message.timestamp, marker="result")
            )
        elif message.type == "system" and message.subtype == "turn_duration":
            if self.last_assistant is not None:
                self.last_assistant.duration_ms = _int(message.get("durationMs"))
        else:
            return False
        return True

    def _marker_turn(self, index: int, message: Message, block: Block, kind: MarkerKind) -> None:
        self.command = None
        self.conversation.turns.append(
            Turn("system", [block], index, message.uuid, message.timestamp, marker=kind)
        )

    def _command_output(self, index: int, message: Message) -> None:
        """A local command's output as newer versions write it: a ``system`` entry."""
        content = message.get("content")
        output = command_output(content) if isinstance(content, str) else None
        if output is not None:
            blocks = [_piece_block(output)]
            if not self._took_output(blocks):
                self._message_turn(index, message, blocks, role="user")

    def _took_output(self, blocks: list[Block]) -> bool:
        """Whether ``blocks``, a command's output alone, went to the command before it
        (after any output it already has: a command may write several)."""
        if self.command is None or len(blocks) != 1 or blocks[0].kind != "output":
            return False
        earlier, output = self.command.result, blocks[0]
        if earlier is not None:
            text = "\n".join(part for part in (earlier.text, output.text) if part)
            output = Block("output", text, is_error=earlier.is_error and output.is_error)
        self.command.result = output
        return True

    def _unpaired_blocks(self, message: Message) -> list[Block]:
        """The message's blocks, less the tool results that went to their calls (a
        subagent call's result also brings the subagent's transcript)."""
        blocks = []
        agent = _agent_id(message)
        for block in _content_blocks(message):
            call = self.calls.get(block.tool_use_id or "") if block.kind == "tool_result" else None
            if call is None:
                blocks.append(block)
                continue
            call.result = block
            block.uuid = message.uuid
            path = self.by_agent_id.get(agent or "")
            if path is not None and call.name in SUBAGENT_TOOLS and call.subagent is None:
                call.agent_id = agent
                call.subagent = build_conversation(self.agents[path])
                self.linked.add(path)
        for block in blocks:
            if block.kind == "tool_use" and block.tool_use_id:
                self.calls[block.tool_use_id] = block
                chain = self.sidechain_calls.get(block.tool_use_id)
                if chain is not None:
                    block.agent_id = chain.agent_id
                    block.subagent = build_conversation(chain.messages)
        return blocks

    def _message_turn(
        self, index: int, message: Message, blocks: list[Block], role: Role | None = None
    ) -> None:
        turn = Turn(
            role or message.type,  # type: ignore[arg-type]
            blocks,
            index,
            message.uuid,
            message.timestamp,
            message.model if message.is_assistant else None,
            message_id=_str(message.body.get("id")) if message.is_assistant else None,
        )
        if index in self.usage:
            counts = self.usage[index]
            turn.input_tokens = sum(
                _int(counts.get(key)) or 0
                for key in (
                    "input_tokens",
                    "cache_creation_input_tokens",
                    "cache_read_input_tokens",
                )
            )
            turn.output_tokens = _int(counts.get("output_tokens"))
            turn.cost = _request_cost(turn.model, counts, message)
        if message.is_assistant:
            self.last_assistant = turn
        self.command = blocks[-1] if blocks[-1].kind == "command" else None
        self.conversation.turns.append(turn)


def _read_changes(conversation: Conversation) -> None:
    """Each file-editing call of the transcript (not its subagents') with its change."""
    tracker = ChangeTracker()
    for turn in conversation.turns:
        for block in turn.blocks:
            if block.kind != "tool_use" or block.name is None:
                continue
            result = block.result
            block.change = tracker.see(
                block.name,
                block.input,
                result.text if result is not None else None,
                result is not None and result.is_error,
            )


_Figure = TypeVar("_Figure", int, float)


def _plus(total: _Figure | None, more: _Figure | None) -> _Figure | None:
    return more if total is None else total if more is None else total + more


def join_replies(conversation: Conversation) -> Conversation:
    """The conversation with one assistant turn per API response, subagents' included.

    The CLI writes a response as several entries (one a block) with one message id; here
    consecutive assistant turns of one message id become one: its blocks in order, its
    figures added up (the last entry carries them), the first entry's uuid, time and index,
    the later entries' uuids in ``joined_uuids``. ``conversation`` is left as it was.
    """
    turns: list[Turn] = []
    for turn in conversation.turns:
        blocks = [
            replace(b, subagent=join_replies(b.subagent)) if b.subagent is not None else b
            for b in turn.blocks
        ]
        last = turns[-1] if turns else None
        if (
            last is not None
            and turn.role == last.role == "assistant"
            and turn.message_id is not None
            and turn.message_id == last.message_id
        ):
            last.blocks.extend(blocks)
            last.input_tokens = _plus(last.input_tokens, turn.input_tokens)
            last.output_tokens = _plus(last.output_tokens, turn.output_tokens)
            last.cost = _plus(last.cost, turn.cost)
            if turn.duration_ms is not None:
                last.duration_ms = turn.duration_ms
            last.model = last.model or turn.model
            last.joined_uuids += [turn.uuid] if turn.uuid else []
            last.joined_uuids += turn.joined_uuids
            continue
        turns.append(replace(turn, blocks=blocks, joined_uuids=list(turn.joined_uuids)))
    unlinked = {path: join_replies(agent) for path, agent in conversation.unlinked.items()}
    return Conversation(turns, unlinked)


def message_uuids(turn: Turn) -> Iterator[str]:
    """Every stored message ``turn`` shows: its own, the entries joined into it, its
    calls' results and its subagents' messages (a search match names one of these)."""
    if turn.uuid:
        yield turn.uuid
    yield from turn.joined_uuids
    for block in turn.blocks:
        if block.result is not None and block.result.uuid:
            yield block.result.uuid
        if block.subagent is not None:
            for inner in block.subagent.turns:
                yield from message_uuids(inner)


def turn_showing(conversation: Conversation, uuid: str) -> int | None:
    """The index of the turn that shows message ``uuid``: ``len(turns)`` when a subagent
    no call names holds it (those come after the last turn), None when none does."""
    for index, turn in enumerate(conversation.turns):
        if uuid in message_uuids(turn):
            return index
    for agent in conversation.unlinked.values():
        if any(uuid in message_uuids(turn) for turn in agent.turns):
            return len(conversation.turns)
    return None


# A call unanswered this many turns later was abandoned (an interrupted run), not pending.
PENDING_WINDOW = 50


def settled(conversation: Conversation) -> int:
    """How many leading turns can no longer change as the session grows.

    What comes later changes only the last turn (a later entry of the same API request
    takes its tokens, or joins it; a duration lands on it) and the tool calls still waiting
    for their result (and, with it, a subagent's transcript): so the turns before the last
    one and before a recent unanswered call are settled. This holds of a conversation
    :func:`join_replies` made too.
    """
    turns = conversation.turns
    last = max(len(turns) - 1, 0)
    for index in range(max(last - PENDING_WINDOW, 0), last):
        if any(b.kind == "tool_use" and b.result is None for b in turns[index].blocks):
            return index
    return last


# -- labels every face shows ---------------------------------------------------------------


def _size(size: int | None) -> str:
    if size is None:
        return "linked"
    return f"{size / 1024:.1f} KB" if size >= 1024 else f"{size} B"


def image_label(block: Block) -> str:
    return f"[image: {block.media_type}, {_size(block.size)}]"


def reminder_brief(block: Block, length: int = 100) -> str:
    """A system reminder's first line, cut to ``length``: what a folded reminder shows."""
    first = next((line.strip() for line in block.text.splitlines() if line.strip()), "")
    return first if len(first) <= length else first[: length - 1] + "\u2026"


def reminder_label(block: Block) -> str:
    """A system reminder folded to one line: ``[system reminder: its first line]``."""
    brief = reminder_brief(block)
    return f"[system reminder: {brief}]" if brief else "[system reminder]"


def turn_label(turn: Turn) -> str:
    """``Assistant (model · tokens · cost · duration)``: what is known about a turn."""
    facts = [turn.model] if turn.model else []
    if turn.input_tokens is not None or turn.output_tokens is not None:
        facts.append(f"{turn.input_tokens or 0:,} in / {turn.output_tokens or 0:,} out")
    if turn.cost is not None:
        facts.append(f"${turn.cost:.4f}")
    if turn.duration_ms is not None:
        facts.append(f"{turn.duration_ms / 1000:.1f}s")
    name = _ROLES[turn.role]
    return f"{name} ({' · '.join(facts)})" if facts else name


def subagent_label(block: Block) -> str:
    """``Subagent <agent id>``, or ``Subagent`` for one an older CLI wrote without an id."""
    return f"Subagent {block.agent_id}" if block.agent_id else "Subagent"


def call_arguments(block: Block) -> str:
    return json.dumps(block.input if block.input is not None else {}, indent=2, ensure_ascii=False)
