"""FTS5 query text made from a parsed query (:mod:`claude_sessions.model.text_query`): every
term a quoted string, so no user text is syntax; the side index of tool calls and
subagents keeps no word positions, so a phrase is matched there as all of its words.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the query language loads with the first text search
    from claude_sessions.model import text_query

# The newest rows of the side index a search reads at most: a common word's matches
# are not all ranked, only the sessions of its newest ones.
ASIDE_CANDIDATES = 2000


def fts_query(node: text_query.Node) -> str:
    """A parsed query in FTS5 syntax: every term a quoted string, so no user text is syntax."""
    from claude_sessions.model import text_query

    if isinstance(node, text_query.Term):
        quoted = '"' + " ".join(node.words).replace('"', '""') + '"'
        return quoted + " *" if node.prefix else quoted
    if isinstance(node, text_query.Without):
        return f"({fts_query(node.keep)} NOT {fts_query(node.drop)})"
    joiner = " AND " if isinstance(node, text_query.AllOf) else " OR "
    return "(" + joiner.join(fts_query(part) for part in node.parts) + ")"


def aside_query(node: text_query.Node) -> str:
    """A parsed query for the side index, which keeps no word positions: a phrase is
    matched as all of its words."""
    from claude_sessions.model import text_query

    if isinstance(node, text_query.Term) and len(node.words) > 1:
        last = len(node.words) - 1
        words = [
            text_query.Term((word,), node.prefix and at == last)
            for at, word in enumerate(node.words)
        ]
        return aside_query(text_query.AllOf(tuple(words)))
    if isinstance(node, text_query.Without):
        return f"({aside_query(node.keep)} NOT {aside_query(node.drop)})"
    if isinstance(node, text_query.Term):
        return f"({fts_query(node)})"
    joiner = " AND " if isinstance(node, text_query.AllOf) else " OR "
    return "(" + joiner.join(aside_query(part) for part in node.parts) + ")"
