"""PostgreSQL ``tsquery`` SQL built from a parsed query (:mod:`claude_sessions.model.text_query`),
from parameters only, and the text settings the full-text vectors are made with.

Tool and subagent text (``aside_text.search``) and prompts and replies kept apart
(``aside_text.own``) are indexed as runs of letters and digits, weighted by place.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from claude_sessions.model.entries import clean_text

if TYPE_CHECKING:  # the query language loads with the first text search
    from claude_sessions.model import text_query

# Full text without stemming or stop words, like SQLite's unicode61 tokenizer.
TS_CONFIG = "simple"
# ASCII punctuation, each made a space in tool and subagent text: PostgreSQL's parser
# keeps a path, a host or a hyphenated word whole, where SQLite splits it into words.
PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
SPACES = " " * len(PUNCTUATION)
PIECE = re.compile(r"[^\W_]+")

# The newest rows of tool and subagent text a search reads at most: a common word's
# matches are not all ranked, only the sessions of its newest ones.
ASIDE_CANDIDATES = 2000

WEIGHTS = {"tool": "c", "subagent": "d"}
OWN_WEIGHTS = {"prompt": "A", "reply": "B"}


def postgres_text(value: str | None) -> str | None:
    """Text PostgreSQL accepts: no NUL, no lone surrogates (both replaced)."""
    if value is None:
        return None
    if "\x00" in value:
        value = value.replace("\x00", "\ufffd")
    return clean_text(value)


def weighted_tsquery_sql(node: text_query.Node, params: list[Any], weights: str) -> str:
    """SQL for a ``tsquery`` matching only lexemes of ``weights``: each word's runs of
    letters and digits (as aside text is indexed, so no quote or operator is among
    them), each one labelled."""
    from claude_sessions.model import text_query

    if isinstance(node, text_query.Term):
        words = [piece for word in node.words for piece in PIECE.findall(word)]
        if not words:
            params.append("")
            return f"to_tsquery('{TS_CONFIG}', %s)"
        labelled = [f"'{word}':{weights}" for word in words]
        if node.prefix:
            labelled[-1] = f"'{words[-1]}':*{weights}"
        params.append(postgres_text(" <-> ".join(labelled)))
        return f"to_tsquery('{TS_CONFIG}', %s)"
    if isinstance(node, text_query.Without):
        keep = weighted_tsquery_sql(node.keep, params, weights)
        return f"({keep} && !!{weighted_tsquery_sql(node.drop, params, weights)})"
    joiner = " && " if isinstance(node, text_query.AllOf) else " || "
    return (
        "(" + joiner.join(weighted_tsquery_sql(part, params, weights) for part in node.parts) + ")"
    )


def tsquery_sql(node: text_query.Node, params: list[Any], *, split: bool = False) -> str:
    """SQL for the ``tsquery`` of a parsed query; its values go to ``params``. ``split``:
    each word's runs of letters and digits, as tool and subagent text is indexed."""
    from claude_sessions.model import text_query

    if isinstance(node, text_query.Term):
        words = node.words
        if split:
            words = tuple(piece for word in words for piece in PIECE.findall(word)) or ("-",)
        if not node.prefix:
            params.append(postgres_text(" ".join(words)))
            return f"phraseto_tsquery('{TS_CONFIG}', %s)"
        quoted = [f"'{word}'" for word in words]
        quoted[-1] += ":*"
        params.append(postgres_text(" <-> ".join(quoted)))
        return f"to_tsquery('{TS_CONFIG}', %s)"
    if isinstance(node, text_query.Without):
        keep = tsquery_sql(node.keep, params, split=split)
        return f"({keep} && !!{tsquery_sql(node.drop, params, split=split)})"
    joiner = " && " if isinstance(node, text_query.AllOf) else " || "
    return "(" + joiner.join(tsquery_sql(part, params, split=split) for part in node.parts) + ")"
