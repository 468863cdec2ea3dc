"""Which message of a search result holds its first match, and where it was said.

Found after ranking, for the page of results only, from the stored entries:
the indexes hold one document per session or per batch of entries (see the
dialects), so they cannot say which message matched. Entries are read a batch at a time and the read
stops at the first match; a session's reading stops after
:data:`MAX_ENTRIES` entries, which bounds what a page of results costs: a match
beyond them is named by its place alone when one place was searched, and never
left out (the indexes found it in the places searched).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from claude_sessions.model import text_query
from claude_sessions.model.match_place import Located, entry_pieces, locate
from claude_sessions.store.dialect import Dialect, Found
from claude_sessions.store.plan import Op, Stmt
from claude_sessions.store.snippets import match_pattern, positive_terms, snippet

MAX_ENTRIES = 1_000
_BATCH = 200


def located(
    d: Dialect, results: list[Found], node: text_query.Node, places: Sequence[str]
) -> Op[list[Found]]:
    """``results`` with the uuid and place of each one's first match.

    Every result matched in the places searched (a search kept to prompts or to
    replies is answered by the index that holds them apart): one whose match is not
    found here (past :data:`MAX_ENTRIES`) stays, named by its place when only one
    was searched."""
    pattern = match_pattern(node)
    hints = _hints(node)
    apart = len({"prompt", "reply"} & set(places)) == 1
    shown = []
    for result in results:
        # Only the entries whose raw text holds a term are decoded (an ASCII word is
        # never escaped in JSON); none holding one, the match is in the title or
        # description. Other words read the entries in order, up to MAX_ENTRIES.
        where = yield from _first_match(d, result.ref, pattern, places, hints)
        if where is None and "prompt" in places:
            where = _in_meta(result, pattern)
        if where is not None:
            where = yield from _named(d, result.ref, where)
            metadata = dataclasses.replace(
                result.metadata,
                match_uuid=where.uuid,
                match_where=where.where,
                snippet=_snippet(result.metadata.snippet, where, node, apart=apart),
            )
            result = dataclasses.replace(result, metadata=metadata)
        elif len(places) == 1:
            metadata = dataclasses.replace(result.metadata, match_where=places[0])
            result = dataclasses.replace(result, metadata=metadata)
        shown.append(result)
    return shown


def _snippet(
    shown: str | None, where: Located, node: text_query.Node, *, apart: bool
) -> str | None:
    """The snippet of the conversation's text, or of the text the match is in when
    the conversation's does not hold it or holds the other place's words too
    (``apart``: a search kept to prompts or to replies)."""
    if where.where in ("title", "description") or not where.text:
        return shown
    if where.where in ("prompt", "reply") and not apart:
        return shown
    return snippet((where.text,), node)


def _in_meta(result: Found, pattern: Any) -> Located | None:
    for name in ("title", "description"):
        text = getattr(result.metadata, name)
        if text and pattern.search(text):
            return Located(None, name)
    return None


def _hints(node: text_query.Node) -> tuple[str, ...]:
    """A piece of each positive term its entry's raw JSON must hold (an ASCII word is
    never escaped there); none when a term has no such piece."""
    pieces = []
    for term in positive_terms(node):
        word = max(term.words, key=len)
        if not (word.isascii() and word.isalnum()):
            return ()
        pieces.append(word)
    return tuple(dict.fromkeys(pieces))


def _first_match(
    d: Dialect,
    ref: int,
    pattern: Any,
    places: Sequence[str],
    hints: Sequence[str],
) -> Op[Located | None]:
    read, after = 0, ("", -1)
    narrowed, params = _narrowing(d, hints)
    # Main transcript first (subpath ''), then each subagent's, in order.
    while read < MAX_ENTRIES:
        rows = yield Stmt(
            d.sql(
                f"SELECT subpath, seq, {d.entry_columns()} FROM entries WHERE session_ref = ? "
                f"AND (subpath, seq) > (?, ?){narrowed} ORDER BY subpath, seq LIMIT ?"
            ),
            (ref, after[0], after[1], *params, _BATCH),
            "all",
        )
        if not rows:
            return None
        read += len(rows)
        after = (rows[-1]["subpath"], int(rows[-1]["seq"]))
        found = locate(_transcripts(d, rows), pattern, places)
        if found is not None:
            return found
    return None


def _narrowing(d: Dialect, hints: Sequence[str]) -> tuple[str, list[Any]]:
    if not hints:
        return "", []
    clauses, params = [], []
    for hint in hints:
        clause, values = d.contains(d.entry_text_column(), hint)
        clauses.append(clause)
        params.extend(values)
    return f" AND ({' OR '.join(clauses)})", params


def _named(d: Dialect, ref: int, where: Located) -> Op[Located]:
    """``where`` with the name of the tool whose result it is, when the entries read
    did not hold its call."""
    if where.tool_id is None:
        return where
    clause, params = d.contains(d.entry_text_column(), where.tool_id)
    rows = yield Stmt(
        d.sql(
            f"SELECT {d.entry_columns()} FROM entries WHERE session_ref = ? AND {clause} "
            "ORDER BY subpath, seq LIMIT 4"
        ),
        (ref, *params),
        "all",
    )
    for row in rows:
        for said in entry_pieces(d.entry(row)):
            if said.tool_id == where.tool_id and said.tool_name is not None:
                return Located(where.uuid, f"{where.where}{said.tool_name}", text=where.text)
    return Located(where.uuid, f"{where.where}a tool", text=where.text)


def _transcripts(
    d: Dialect, rows: Sequence[Mapping[str, Any]]
) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    subpath: str | None = None
    entries: list[dict[str, Any]] = []
    for row in rows:
        if row["subpath"] != subpath and entries:
            yield subpath or "", entries
            entries = []
        subpath = row["subpath"]
        entries.append(d.entry(row))
    if entries:
        yield subpath or "", entries
