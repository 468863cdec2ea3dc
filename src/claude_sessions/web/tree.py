"""A fork tree laid out for a server-drawn SVG (see ``templates/lineage.html``).

The root sits on the left and forks grow to the right, one column per
generation; leaves take one row each and a parent sits level with the middle
of its children. A fork that branched before its origin's last message
(``forked_at``) gets a marker on its edge.
"""

from __future__ import annotations

from dataclasses import dataclass

from claude_sessions.store import SessionMetadata
from claude_sessions.views.lineage import Lineage
from claude_sessions.views.titles import session_title

NODE_WIDTH = 280
NODE_HEIGHT = 54
COLUMN_GAP = 70
ROW_GAP = 18
PAD = 16
TITLE_LENGTH = 34


@dataclass(frozen=True)
class Node:
    x: float
    y: float
    metadata: SessionMetadata | None  # None: the origin that is no longer stored
    label: str
    focus: bool


@dataclass(frozen=True)
class Edge:
    path: str
    branch_x: float
    branch_y: float
    forked_at: str | None
    origin: str | None  # the session the fork branched from


@dataclass(frozen=True)
class Drawing:
    width: float
    height: float
    nodes: list[Node]
    edges: list[Edge]
    node_width: int = NODE_WIDTH
    node_height: int = NODE_HEIGHT


def _short(text: str, length: int = TITLE_LENGTH) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= length else flat[: length - 1] + "\u2026"


def layout(lineage: Lineage) -> Drawing:
    shift = 1 if lineage.missing_origin else 0
    order = lineage.root.walk()
    depth: dict[int, int] = {id(lineage.root): shift}
    for node in order:
        for child in node.children:
            depth[id(child)] = depth[id(node)] + 1
    row: dict[int, float] = {}
    next_row = 0
    for node in order:  # depth first: leaves come in drawing order
        if not node.children:
            row[id(node)] = next_row
            next_row += 1
    for node in reversed(order):  # children before their parent
        if node.children:
            row[id(node)] = (row[id(node.children[0])] + row[id(node.children[-1])]) / 2

    def x_of(column: int) -> float:
        return PAD + column * (NODE_WIDTH + COLUMN_GAP)

    def y_of(line: float) -> float:
        return PAD + line * (NODE_HEIGHT + ROW_GAP)

    nodes: list[Node] = []
    edges: list[Edge] = []
    if lineage.missing_origin:
        origin_y = y_of(row[id(lineage.root)])
        nodes.append(Node(x_of(0), origin_y, None, _short(lineage.missing_origin), False))
        edges.append(_edge(x_of(0), origin_y, x_of(1), origin_y, None, None))
    for node in order:
        x, y = x_of(depth[id(node)]), y_of(row[id(node)])
        title = _short(session_title(node.metadata))
        nodes.append(Node(x, y, node.metadata, title, node.session_id == lineage.focus))
        for child in node.children:
            edges.append(
                _edge(
                    x,
                    y,
                    x_of(depth[id(child)]),
                    y_of(row[id(child)]),
                    child.metadata.forked_at,
                    node.session_id,
                )
            )
    columns = max(depth.values()) + 1
    return Drawing(
        width=2 * PAD + columns * NODE_WIDTH + (columns - 1) * COLUMN_GAP,
        height=2 * PAD + next_row * NODE_HEIGHT + max(next_row - 1, 0) * ROW_GAP,
        nodes=nodes,
        edges=edges,
    )


def _edge(
    parent_x: float,
    parent_y: float,
    child_x: float,
    child_y: float,
    forked_at: str | None,
    origin: str | None,
) -> Edge:
    start_x, start_y = parent_x + NODE_WIDTH, parent_y + NODE_HEIGHT / 2
    end_x, end_y = child_x, child_y + NODE_HEIGHT / 2
    middle = (start_x + end_x) / 2
    path = f"M{start_x},{start_y} C{middle},{start_y} {middle},{end_y} {end_x},{end_y}"
    return Edge(path, start_x + 10, start_y, forked_at, origin)
