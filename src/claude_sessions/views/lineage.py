"""Fork lineage: the tree of sessions forked from one another.

The store records ``forked_from`` on a fork (from the marks its copied entries
carry, the run that made it, or the entries it shares with its origin, whatever
order they were stored in) and ``forked_at`` when it branched before the
origin's last message.
:func:`fork_tree` walks up to the root of a session's family and back down
through every fork, one indexed query per session, so it costs the size of
the family, not of the store.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from claude_sessions.model.exceptions import MessageNotFoundError, SessionNotFoundError
from claude_sessions.model.message import Message, read_jsonl

if TYPE_CHECKING:
    from claude_sessions.store import SessionMetadata, SessionStore

MAX_FAMILY = 10_000


@dataclass
class LineageNode:
    """A session and the sessions forked from it (oldest first)."""

    metadata: SessionMetadata
    children: list[LineageNode] = field(default_factory=list)

    @property
    def session_id(self) -> str:
        return self.metadata.session_id

    def walk(self) -> list[LineageNode]:
        """This node and every descendant, depth first."""
        found: list[LineageNode] = []
        stack = [self]
        while stack:
            node = stack.pop()
            found.append(node)
            stack.extend(reversed(node.children))
        return found

    def to_dict(self) -> dict[str, Any]:
        return {
            "session": self.metadata.to_dict(),
            "children": [child.to_dict() for child in self.children],
        }


@dataclass
class Lineage:
    """A fork tree; ``focus`` is the session asked about, ``missing_origin`` the id the
    root was forked from when that session is no longer stored."""

    root: LineageNode
    focus: str
    missing_origin: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "focus": self.focus,
            "missing_origin": self.missing_origin,
            "root": self.root.to_dict(),
        }


def fork_tree(store: SessionStore, session_id: str) -> Lineage:
    """The fork family of ``session_id`` (an exact id), from its oldest stored ancestor."""
    start = store.get_metadata(session_id)
    if start is None:
        raise SessionNotFoundError(session_id)
    root, seen, missing = start, {start.session_id}, None
    while root.forked_from and root.forked_from not in seen:  # a cycle stops where it closes
        parent = store.get_metadata(root.forked_from)
        if parent is None:
            missing = root.forked_from
            break
        seen.add(parent.session_id)
        root = parent
    top = LineageNode(root)
    placed = {root.session_id}
    queue = [top]
    while queue and len(placed) < MAX_FAMILY:
        node = queue.pop(0)
        forks = store.search(forked_from=node.session_id)
        for child in sorted(forks, key=lambda m: (m.created_at, m.session_id)):
            if child.session_id not in placed:
                placed.add(child.session_id)
                branch = LineageNode(child)
                node.children.append(branch)
                queue.append(branch)
    return Lineage(top, start.session_id, missing)


def find_message_uuid(messages: Iterable[Message], prefix: str) -> str:
    """The uuid of the one message whose uuid starts with ``prefix`` (case ignored).

    Raises :class:`MessageNotFoundError` when none does, or several do.
    """
    wanted = prefix.strip().lower()
    if not wanted:
        raise MessageNotFoundError("a message uuid (or the start of one) is needed")
    found = sorted(
        {m.uuid for m in messages if isinstance(m.uuid, str) and m.uuid.lower().startswith(wanted)}
    )
    if not found:
        raise MessageNotFoundError(f"no message uuid starts with {prefix!r}")
    if len(found) > 1:
        shown = ", ".join(found[:5]) + (", ..." if len(found) > 5 else "")
        raise MessageNotFoundError(f"message uuid prefix {prefix!r} is ambiguous: {shown}")
    return found[0]


def branch_point(
    session_id: str,
    prefix: str,
    *,
    store: SessionStore | None = None,
    local_transcript: Callable[[str], Path | None] | None = None,
) -> str:
    """The full uuid of the message of ``session_id`` that ``prefix`` names (``fork --at``).

    The store's copy of the session is searched, else the CLI's transcript on
    disk that ``local_transcript`` finds for the session id (the caller knows
    where the CLI keeps its files: views read none of their own).
    """
    stored = store.get_session(session_id) if store is not None else None
    if stored is not None:
        return find_message_uuid(stored.messages, prefix)
    path = local_transcript(session_id) if local_transcript is not None else None
    if path is None:
        raise SessionNotFoundError(session_id)
    return find_message_uuid(read_jsonl(path), prefix)
