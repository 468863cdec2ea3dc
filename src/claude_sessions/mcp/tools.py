"""The MCP server's tools: their schemas, their descriptions for the model, and what they do.

Each tool validates its arguments against its JSON schema, calls the store and
the views (``render``, ``stats``, ``lineage``), and answers with text that
fits a character budget, saying how to get the rest (a cursor). Nothing here
imports the MCP SDK: :mod:`claude_sessions.mcp.server` wires these tools to it.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import jsonschema

from claude_sessions.mcp.bounds import NAME_CHARS, one_line_error, shorten, shown_tags
from claude_sessions.model.exceptions import ClaudeSessionsError, InvalidInputError
from claude_sessions.model.filters import Kind, SessionFilter, read_text, specs
from claude_sessions.store import SessionMetadata, SessionStore
from claude_sessions.views.costs import is_lower_bound
from claude_sessions.views.figures import Bucket, Tokens, figures_sources
from claude_sessions.views.lineage import Lineage, LineageNode, fork_tree
from claude_sessions.views.render import markdown_page
from claude_sessions.views.stats import DEFAULT_BY, GROUPS, PERIODS, Stats, compute_stats
from claude_sessions.views.titles import session_title

log = logging.getLogger(__name__)

PAGE_SIZE = 20
MAX_PAGE_SIZE = 50
CHAR_BUDGET = 20_000
MAX_CHAR_BUDGET = 40_000
MIN_CHAR_BUDGET = 1_000
STATS_ROWS = 20
TITLE_CHARS = 120
TEXT_CHARS = 300
DESCRIPTION_CHARS = 2000

# -- schemas ------------------------------------------------------------------------------

_SESSION_ID = {
    "type": "string",
    "minLength": 1,
    "maxLength": 255,
    "description": "A session id, or any unique prefix of one (the first 8 characters will do).",
}
_CURSOR = {
    "type": "string",
    "minLength": 1,
    "description": "The next_cursor of the previous page, to get the page after it. "
    "Repeat the other arguments unchanged.",
}
_LIMIT = {
    "type": "integer",
    "minimum": 1,
    "maximum": MAX_PAGE_SIZE,
    "default": PAGE_SIZE,
    "description": f"Sessions per page (default {PAGE_SIZE}, at most {MAX_PAGE_SIZE}).",
}
_TAGS = {
    "type": "array",
    "items": {"type": "string", "minLength": 1},
    "maxItems": 50,
}

# Each filter's schema, by the kind of value it takes (its description is its help).
_FILTER_SCHEMAS: dict[Kind, dict[str, Any]] = {
    Kind.WORDS: {"type": "string", "minLength": 1},
    Kind.TAGS: _TAGS,
    Kind.FLAG: {"type": "boolean", "default": False},
    Kind.MOMENT: {"type": "string", "minLength": 1},
    Kind.DOLLARS: {"type": "number", "minimum": 0},
    Kind.NAME: {"type": "string", "minLength": 1},
}
_WORDS_NOTE = (
    " Results then come best match first (words common to very many sessions: newest first, "
    "as `order` says), each with a snippet marking matches [like this]."
)


def filter_properties(*, words: bool) -> dict[str, Any]:
    """Every filter of SessionFilter as a schema property (the full-text one if ``words``)."""
    properties: dict[str, Any] = {}
    for name, spec in specs().items():
        if spec.kind is Kind.WORDS and not words:
            continue
        note = _WORDS_NOTE if spec.kind is Kind.WORDS else ""
        properties[name] = {**_FILTER_SCHEMAS[spec.kind], "description": spec.help + note}
        if spec.choices:
            properties[name]["items"] = {"enum": list(spec.choices)}
    return properties


def session_filter(arguments: dict[str, Any]) -> SessionFilter:
    """The filters among a tool's arguments (schema-checked already), as a SessionFilter."""
    given = {}
    for name, spec in specs().items():
        if name in arguments:
            value = arguments[name]
            given[name] = read_text(name, value) if spec.kind is Kind.MOMENT else value
    return SessionFilter(**given)


SEARCH_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {**filter_properties(words=True), "limit": _LIMIT, "cursor": _CURSOR},
    "additionalProperties": False,
}

LIST_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {**filter_properties(words=False), "limit": _LIMIT, "cursor": _CURSOR},
    "additionalProperties": False,
}

GET_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "session_id": _SESSION_ID,
        "cursor": {
            "type": "string",
            "minLength": 1,
            "description": "Where to go on: the cursor the previous page of this session ended "
            "with. Leave it out to start at the beginning.",
        },
        "max_chars": {
            "type": "integer",
            "minimum": MIN_CHAR_BUDGET,
            "maximum": MAX_CHAR_BUDGET,
            "default": CHAR_BUDGET,
            "description": f"Characters per page (default {CHAR_BUDGET}).",
        },
    },
    "required": ["session_id"],
    "additionalProperties": False,
}

STATS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        **filter_properties(words=False),
        "by": {
            "type": "array",
            "items": {"type": "string", "enum": [*PERIODS, *GROUPS]},
            "uniqueItems": True,
            "description": "Break the figures down by these (default: "
            + ", ".join(DEFAULT_BY)
            + "; [] for the totals only). Periods are those the sessions were created in "
            "(UTC), newest first; "
            f"other groups most expensive first; at most {STATS_ROWS} rows each.",
        },
        "top": {
            "type": "integer",
            "minimum": 0,
            "maximum": 20,
            "default": 5,
            "description": "How many of the most expensive sessions to list (default 5).",
        },
    },
    "additionalProperties": False,
}

LINEAGE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"session_id": _SESSION_ID},
    "required": ["session_id"],
    "additionalProperties": False,
}

TAG_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "session_id": _SESSION_ID,
        "add": {**_TAGS, "description": "Tags to add."},
        "remove": {**_TAGS, "description": "Tags to remove."},
    },
    "required": ["session_id"],
    "additionalProperties": False,
}

DESCRIBE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "session_id": _SESSION_ID,
        "description": {
            "type": "string",
            "maxLength": DESCRIPTION_CHARS,
            "description": 'The new description; "" removes it.',
        },
    },
    "required": ["session_id", "description"],
    "additionalProperties": False,
}

# -- what the tools answer ----------------------------------------------------------------


def _clip(text: str, length: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= length else flat[: length - 1] + "\u2026"


def _stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def _cost_entry(cost: float, of: SessionMetadata | Bucket | Stats) -> dict[str, Any]:
    """``cost_usd``, and ``cost_usd_is_lower_bound`` when part of the usage had no price."""
    entry: dict[str, Any] = {"cost_usd": round(cost, 4)}
    if is_lower_bound(of):
        entry["cost_usd_is_lower_bound"] = True
    if isinstance(of, SessionMetadata) and of.unpriced_models:
        entry["unpriced_models"] = [shorten(name, NAME_CHARS) for name in of.unpriced_models]
    return entry


def session_summary(metadata: SessionMetadata) -> dict[str, Any]:
    """What a listing says about one session: enough to choose it, bounded in size."""
    title = _clip(session_title(metadata), TITLE_CHARS)
    found: dict[str, Any] = {
        "session_id": metadata.session_id,
        "title": title,
        "created_at": _stamp(metadata.created_at),
        "updated_at": _stamp(metadata.updated_at),
        "model": _cut(metadata.model, NAME_CHARS),
        "project": _cut(metadata.project, TEXT_CHARS),
        "git_branch": _cut(metadata.git_branch, NAME_CHARS),
        "user": _cut(metadata.user, NAME_CHARS),
        "machine": _cut(metadata.machine, NAME_CHARS),
        **_tags_entry(metadata.tags),
        "turns": metadata.turns,
        **_cost_entry(metadata.total_cost, metadata),
    }
    for name in ("description", "first_prompt"):
        value = getattr(metadata, name)
        if value and _clip(value, TITLE_CHARS) != title:
            found[name] = _clip(value, TEXT_CHARS)
    if metadata.forked_from:
        found["forked_from"] = _cut(metadata.forked_from, NAME_CHARS)
    if metadata.snippet:
        found["snippet"] = _clip(metadata.snippet, TEXT_CHARS)
    if metadata.match_where:
        found["match_where"] = metadata.match_where
        found["match_uuid"] = metadata.match_uuid
    return {key: value for key, value in found.items() if value is not None}


def _cut(value: str | None, length: int) -> str | None:
    """A stored value as it is, unless it is long: then cut, with a marker saying so."""
    return None if value is None else shorten(value, length)


def _tags_entry(tags: Sequence[str]) -> dict[str, Any]:
    """``tags`` as an answer shows them: a bounded list, and how many it leaves out."""
    shown, left_out = shown_tags(tags)
    return {"tags": shown, "tags_not_shown": left_out} if left_out else {"tags": shown}


def _dump(payload: Any) -> str:
    return json.dumps(payload, ensure_ascii=False)


def _largest_fit(render: Callable[[int], str], count: int, budget: int) -> int:
    """The largest ``n <= count`` whose ``render(n)`` fits ``budget`` characters (at least 0)."""
    low, high = 0, count
    while low < high:
        middle = (low + high + 1) // 2
        if len(render(middle)) <= budget:
            low = middle
        else:
            high = middle - 1
    return low


def _page_text(
    summaries: list[dict[str, Any]],
    next_cursor: str | None,
    tool: str,
    missing: str | None,
    newest_first: bool = False,
) -> str:
    payload: dict[str, Any] = {"sessions": summaries}
    if newest_first:
        payload["order"] = NEWEST_FIRST_ORDER
    if missing:  # never a silent miss: the words said there are not all found yet
        payload["not_indexed"] = f"{missing}: words said there may not be found."
    if next_cursor:
        payload["next_cursor"] = next_cursor
        payload["note"] = (
            f"More sessions match. Call {tool} again with the same arguments and "
            "cursor set to next_cursor."
        )
    elif not summaries:
        payload["note"] = "No session matches."
    return _dump(payload)


NEWEST_FIRST_ORDER = "newest first: the words are common, so matches are not ranked"
_CURSOR_ROOM = "x" * 100  # longer than any page cursor the store makes


def _session_page(
    store: SessionStore, tool: str, where: SessionFilter, limit: int, cursor: str | None
) -> str:
    """One page of sessions as JSON, cut to what fits the budget, with the cursor of the rest."""
    from claude_sessions.store.search_index import not_indexed_note

    missing = not_indexed_note(store, where)
    page = store.search_page(where, limit=limit, cursor=cursor)
    summaries = [session_summary(metadata) for metadata in page.sessions]

    def render(count: int) -> str:
        more = page.next_cursor if count == len(summaries) else _CURSOR_ROOM
        return _page_text(summaries[:count], more, tool, missing, page.newest_first)

    fits = _largest_fit(render, len(summaries), CHAR_BUDGET)
    if fits < len(summaries):  # fetch a shorter page, for the cursor after what fits
        page = store.search_page(where, limit=max(fits, 1), cursor=cursor)
        summaries = [session_summary(metadata) for metadata in page.sessions]
    return _page_text(summaries, page.next_cursor, tool, missing, page.newest_first)


def search_sessions(store: SessionStore, arguments: dict[str, Any]) -> str:
    return _session_page(
        store,
        "search_sessions",
        session_filter(arguments),
        arguments.get("limit", PAGE_SIZE),
        arguments.get("cursor"),
    )


def list_sessions(store: SessionStore, arguments: dict[str, Any]) -> str:
    return _session_page(
        store,
        "list_sessions",
        session_filter(arguments),
        arguments.get("limit", PAGE_SIZE),
        arguments.get("cursor"),
    )


_POSITION = re.compile(r"^(\d{1,9}):(\d{1,9})$")


def _position(cursor: str | None) -> tuple[int, int]:
    if cursor is None:
        return 0, 0
    match = _POSITION.match(cursor)
    if match is None:
        raise InvalidInputError(f"not a get_session cursor: {cursor[:40]!r}")
    return int(match.group(1)), int(match.group(2))


def get_session(store: SessionStore, arguments: dict[str, Any]) -> str:
    session_id = store.resolve_id(arguments["session_id"])
    block, offset = _position(arguments.get("cursor"))
    budget = arguments.get("max_chars", CHAR_BUDGET)

    def footer(page_text: str, shown: str, cursor: str | None) -> str:
        if cursor is None:
            return f"{page_text}\n\n---\n[{shown}; this is the end of the session.]"
        return (
            f"{page_text}\n\n---\n[{shown}. More: call get_session with "
            f'session_id="{session_id}" and cursor="{cursor}".]'
        )

    reserve = len(footer("", "Blocks 999999999-999999999 of 999999999", "999999999:999999999"))
    session = store.load_session(session_id)
    try:
        page = markdown_page(session, block=block, offset=offset, max_chars=budget - reserve)
    except InvalidInputError as error:
        raise InvalidInputError(
            f"cursor {arguments.get('cursor')!r} does not fit: {error}"
        ) from None
    last = page.next_block if page.next_block is not None else page.blocks
    if page.next_offset:
        last += 1
    shown = f"Blocks {page.block + 1}-{last} of {page.blocks}"
    cursor = None if page.next_block is None else f"{page.next_block}:{page.next_offset}"
    return footer(page.text, shown, cursor)


def _tokens(figures: Tokens) -> dict[str, int]:
    """Tokens in (everything read), and apart: plain input, cache writes and reads."""
    return {
        "input_tokens": figures.input_tokens,
        "uncached_input_tokens": figures.uncached_input_tokens,
        "cache_write_tokens": figures.cache_write_tokens,
        "cache_read_tokens": figures.cache_read_tokens,
        "output_tokens": figures.output_tokens,
    }


def session_stats(store: SessionStore, arguments: dict[str, Any]) -> str:
    stats = compute_stats(
        store,
        session_filter(arguments),
        by=arguments.get("by", DEFAULT_BY),
        top=arguments.get("top", 5),
    )
    totals = {
        "sessions": stats.sessions,
        "messages": stats.messages,
        "turns": stats.turns,
        **_tokens(stats),
        **_cost_entry(stats.total_cost, stats),
        "figures_from": stats.figures_from(),
        "token_figures": figures_sources(stats.figures_from()),
    }

    def render(rows: int) -> str:
        notes = []
        groups: dict[str, list[dict[str, Any]]] = {}
        for name, buckets in stats.by.items():
            groups[name] = [
                {
                    "key": _clip(bucket.key, TEXT_CHARS),
                    "sessions": bucket.sessions,
                    "turns": bucket.turns,
                    **_cost_entry(bucket.cost, bucket),
                    **_tokens(bucket),
                }
                for bucket in buckets[:rows]
            ]
            if len(buckets) > rows:
                notes.append(
                    f"by {name}: {rows} of {len(buckets)} rows shown; narrow with after, "
                    "before, project, tags or model to see the others."
                )
        payload: dict[str, Any] = {
            **totals,
            "by": groups,
            "most_expensive": [session_summary(m) for m in stats.top[:rows]],
        }
        if notes:
            payload["notes"] = notes
        return _dump(payload)

    return render(max(1, _largest_fit(render, STATS_ROWS, CHAR_BUDGET)))


def _lineage_entry(node: LineageNode, focus: str) -> dict[str, Any]:
    metadata = node.metadata
    entry: dict[str, Any] = {
        "session_id": metadata.session_id,
        "title": _clip(session_title(metadata), TITLE_CHARS),
        "created_at": _stamp(metadata.created_at),
        "turns": metadata.turns,
        **_cost_entry(metadata.total_cost, metadata),
    }
    if metadata.forked_at:
        entry["forked_at_message"] = shorten(metadata.forked_at, NAME_CHARS)
    if node.session_id == focus:
        entry["this_session"] = True
    return entry


def _lineage_tree(lineage: Lineage, keep: set[str]) -> dict[str, Any]:
    def grow(node: LineageNode) -> dict[str, Any]:
        entry = _lineage_entry(node, lineage.focus)
        children = [grow(child) for child in node.children if child.session_id in keep]
        if children:
            entry["forks"] = children
        return entry

    return grow(lineage.root)


def session_lineage(store: SessionStore, arguments: dict[str, Any]) -> str:
    lineage = fork_tree(store, store.resolve_id(arguments["session_id"]))
    order = [node.session_id for node in lineage.root.walk()]  # parents before children

    def render(count: int) -> str:
        payload: dict[str, Any] = {"focus": lineage.focus}
        if lineage.missing_origin:
            payload["root_forked_from_deleted_session"] = lineage.missing_origin
        payload["tree"] = _lineage_tree(lineage, set(order[:count]))
        if count < len(order):
            payload["note"] = (
                f"{count} of the {len(order)} sessions of this family shown; call "
                "session_lineage on a fork to see its own branch."
            )
        return _dump(payload)

    return render(max(1, _largest_fit(render, len(order), CHAR_BUDGET)))


def tag_session(store: SessionStore, arguments: dict[str, Any]) -> str:
    session_id = store.resolve_id(arguments["session_id"])
    metadata = store.get_metadata(session_id)
    if arguments.get("add"):
        metadata = store.add_tags(session_id, arguments["add"])
    if arguments.get("remove"):
        metadata = store.remove_tags(session_id, arguments["remove"])
    return _dump({"session_id": session_id, **_tags_entry(metadata.tags if metadata else ())})


def describe_session(store: SessionStore, arguments: dict[str, Any]) -> str:
    session_id = store.resolve_id(arguments["session_id"])
    metadata = store.set_description(session_id, arguments["description"].strip() or None)
    return _dump(
        {"session_id": session_id, "description": _cut(metadata.description, DESCRIPTION_CHARS)}
    )


# -- the tools ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Tool:
    """One tool: its name, a title and description for the model, its schema, what it runs."""

    name: str
    title: str
    description: str
    input_schema: dict[str, Any]
    run: Callable[[SessionStore, dict[str, Any]], str]
    writes: bool = False


_SUMMARY = (
    "Each session comes as session_id, title, created_at, updated_at (UTC), model, project, "
    "git_branch, user and machine (who first stored it, and where), tags, turns (your "
    "messages in it), cost_usd, and when they add something "
    "description, first_prompt, forked_from and snippet. Long values are cut, marked "
    "\u2026[cut: N characters in all]\u2026; "
    "tags_not_shown counts the tags a long list leaves out."
)
_PAGING = (
    "A page holds at most `limit` sessions and 20,000 characters; when more match, the answer "
    "has next_cursor: call again with the same arguments and `cursor` set to it."
)

TOOLS: tuple[Tool, ...] = (
    Tool(
        "search_sessions",
        "Search past sessions",
        "Search the user's saved Claude Code sessions (earlier conversations with you, across "
        "projects) by words in their messages, tags, creation dates, cost, model and project. "
        'Use it when the user refers to earlier work ("how did we fix the login bug last '
        'week?", "the session where we set up CI"), then read the best match with get_session. '
        f"All given criteria must hold. {_SUMMARY} With `text`, results come best match first "
        f"with a snippet marking the matches [like this] and match_where (where the first match "
        "is: prompt, reply, tool result of Bash, subagent a93ccab); without, newest first. "
        "Words common to very many sessions give the newest matches first, not ranked: "
        "`order` then says so. "
        f"{_PAGING}",
        SEARCH_SCHEMA,
        search_sessions,
    ),
    Tool(
        "list_sessions",
        "List recent sessions",
        "List the user's saved Claude Code sessions, most recently updated first, optionally "
        "only one project's or one tag's. Use it to see what was worked on lately; use "
        f"search_sessions to find something specific. {_SUMMARY} {_PAGING}",
        LIST_SCHEMA,
        list_sessions,
    ),
    Tool(
        "get_session",
        "Read a session",
        "Read one saved session as a Markdown transcript: a header (title, dates, model, "
        "turns, cost, tags, project, description), then the user's prompts, your answers, "
        "tool calls and tool results in order. The session_id may be any unique prefix. Long "
        "sessions come in pages of max_chars characters (default 20,000): the last line says "
        "which blocks were shown and gives the cursor of the next page; call again with it to "
        "read on.",
        GET_SCHEMA,
        get_session,
    ),
    Tool(
        "session_stats",
        "Usage statistics",
        "Totals of the saved sessions (sessions, messages, turns, tokens in and out, cost in "
        "USD), broken down by day, week, month, model, tag or project, and the most expensive "
        'sessions. Use it for questions about usage and spending ("what did I spend on opus '
        'this month?"). Narrow with the same filters as search_sessions but text.',
        STATS_SCHEMA,
        session_stats,
    ),
    Tool(
        "session_lineage",
        "Fork family of a session",
        "The fork tree a session belongs to: from the oldest saved session it descends from, "
        "every session forked from it, and their forks, oldest first, each with id, title, "
        "creation time, turns and cost; the session asked about is marked this_session. Use "
        "it to find the other branches of an approach that was tried several ways.",
        LINEAGE_SCHEMA,
        session_lineage,
    ),
    Tool(
        "tag_session",
        "Tag a session",
        "Add tags to and remove tags from a saved session, so it is easier to find later "
        "(search_sessions and list_sessions filter by tag). Returns the session's tags "
        "afterwards. Sessions tagged keep are never cleaned up automatically.",
        TAG_SCHEMA,
        tag_session,
        writes=True,
    ),
    Tool(
        "describe_session",
        "Describe a session",
        "Set the description of a saved session (a sentence on what it achieved); an empty "
        "description removes it. Descriptions are searched by search_sessions and shown as "
        "the title when the session has none.",
        DESCRIBE_SCHEMA,
        describe_session,
        writes=True,
    ),
)


def available_tools(*, allow_write: bool = False) -> list[Tool]:
    """The tools a server offers: the read-only ones, and with ``allow_write`` those that write."""
    return [tool for tool in TOOLS if allow_write or not tool.writes]


@dataclass(frozen=True)
class Outcome:
    """What a tool call answers: text for the model, and whether it is an error."""

    text: str
    is_error: bool = False


def _argument_error(error: jsonschema.ValidationError) -> str:
    where = ".".join(str(step) for step in error.absolute_path)
    return one_line_error(f"invalid arguments: {where + ': ' if where else ''}{error.message}")


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _within(name: str, text: str, limit: int) -> str:
    """The last guard of every answer's size: a tool that answers more than ``limit``
    characters is a bug, so its answer is cut (with a marker) and the bug logged."""
    if len(text) <= limit:
        return text
    log.warning("tool %s answered %d characters, more than its %d: cut", name, len(text), limit)
    return shorten(text, limit)


def call_tool(
    store: SessionStore,
    name: str,
    arguments: dict[str, Any] | None,
    tools: Sequence[Tool],
) -> Outcome:
    """Run tool ``name`` of ``tools``; every failure becomes an error outcome with one line."""
    found = {tool.name: tool for tool in tools}.get(name)
    if found is None:
        offered = ", ".join(tool.name for tool in tools)
        return Outcome(one_line_error(f"unknown tool {name!r}; this server offers {offered}"), True)
    arguments = arguments or {}
    error = jsonschema.exceptions.best_match(
        jsonschema.Draft202012Validator(found.input_schema).iter_errors(arguments)
    )
    if error is not None:
        return Outcome(_argument_error(error), True)
    # get_session's max_chars sets its page size; every other answer keeps the budget.
    limit = arguments.get("max_chars", CHAR_BUDGET)
    try:
        return Outcome(_within(name, found.run(store, arguments), limit))
    except ClaudeSessionsError as failure:
        return Outcome(one_line_error(_first_line(failure)), True)
    except Exception as failure:  # a bug: report it to the model, keep serving
        log.exception("tool %s failed", name)
        return Outcome(
            one_line_error(
                f"internal error in {name}: {type(failure).__name__}: {_first_line(failure)}"
            ),
            True,
        )
