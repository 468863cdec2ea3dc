"""Fork lineage: the tree of sessions forked from one another.

The store records ``forked_from`` on a fork (from the SDK's ``forkedFrom``
marker, the run that made it, or transcript entries shared with an earlier
session). :func:`fork_tree` walks up to the root of a session's family and
back down through every fork.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .exceptions import SessionNotFoundError

if TYPE_CHECKING:
    from .store import SessionMetadata, SessionStore


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
        found = [self]
        for child in self.children:
            found.extend(child.walk())
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
    everyone = {m.session_id: m for m in store.list_sessions()}
    everyone[start.session_id] = start
    root = start
    seen = {root.session_id}
    missing: str | None = None
    while root.forked_from:
        parent = everyone.get(root.forked_from)
        if parent is None:
            missing = root.forked_from
            break
        if parent.session_id in seen:  # a cycle: stop where it closes
            break
        seen.add(parent.session_id)
        root = parent
    children: dict[str, list[SessionMetadata]] = {}
    for metadata in everyone.values():
        if metadata.forked_from and metadata.forked_from != metadata.session_id:
            children.setdefault(metadata.forked_from, []).append(metadata)

    def build(metadata: SessionMetadata, ancestors: frozenset[str]) -> LineageNode:
        node = LineageNode(metadata)
        kids = sorted(children.get(metadata.session_id, []), key=lambda m: m.created_at)
        for child in kids:
            if child.session_id not in ancestors:
                node.children.append(build(child, ancestors | {child.session_id}))
        return node

    return Lineage(build(root, frozenset({root.session_id})), start.session_id, missing)
