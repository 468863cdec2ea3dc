"""What differs between the databases: SQL spelling, value types and full text.

The store's transactions (:mod:`.writes`, :mod:`.reads`) are written once,
with ``?`` placeholders and plain SQL both engines accept. A
:class:`Dialect` supplies the rest: how a time or a list of tags is passed
and read back, how entries are stored (JSON text, or JSONB), the per-session
advisory lock PostgreSQL needs, the full-text index and the search query.
:class:`SessionRow` is a session row read back in engine-neutral form.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from claude_sessions.model.entries import NewEntry, decode_entry
from claude_sessions.model.identity import Identity
from claude_sessions.store.criteria import Criteria
from claude_sessions.store.plan import Op, Stmt
from claude_sessions.store.records import SessionMetadata, stored_fields

# A session's columns follow SessionMetadata's fields (records.stored_fields); writes
# also read ROW_ONLY, which no face sees.
META_COLUMNS = ", ".join(["s.id", *(f"s.{kept.column}" for kept in stored_fields())])
ROW_ONLY = ("mtime_ms", "root_key", "fold_state", "sdk_summary")
ROW_COLUMNS = ", ".join([META_COLUMNS, *(f"s.{column}" for column in ROW_ONLY)])


@dataclass(frozen=True)
class SessionRow:
    """One row of ``sessions``: the session's metadata, and what only writes read.

    ``created_at`` is also kept as stored (epoch seconds), so that a write that
    keeps it keeps it exactly.
    """

    ref: int
    metadata: SessionMetadata
    created_at: float
    mtime_ms: int
    root_key: str | None  # the key of the main transcript's root entry (see entries.root_entry)
    fold_state: dict[str, Any]
    sdk_summary: dict[str, Any] | None


@dataclass(frozen=True)
class Found:
    """A search hit: its metadata, its row id, and the value the results are ordered by
    (``updated_at``, ``trashed_at`` or the cost as the dialect passes it back, or the
    rank), which a next-page cursor carries."""

    metadata: SessionMetadata
    ref: int
    sort: float | int
    # A text search's hit given newest first, not ranked (its words are common).
    newest_first: bool = False


# A row's columns in the order of SessionMetadata's fields (all read in one C call), and
# those whose value needs converting.
_READ_COLUMNS = operator.itemgetter(*(kept.column for kept in stored_fields()))
_CONVERTED = tuple((index, kept.read) for index, kept in enumerate(stored_fields()) if kept.read)


def read_metadata(
    d: Dialect, row: Mapping[str, Any], *, snippet: str | None = None, rank: float | None = None
) -> SessionMetadata:
    """The metadata of a row selected with ``META_COLUMNS`` (or ``ROW_COLUMNS``)."""
    values = list(_READ_COLUMNS(row))
    for index, read in _CONVERTED:
        value = values[index]
        if read == "moment":
            values[index] = d.moment(value) if value is not None else None
        elif read == "tags":
            values[index] = d.tags(value)
        elif read == "source":  # from_result: see SessionMetadata.figures_from
            values[index] = "result" if value else "transcript"
        elif read == "flag":
            values[index] = bool(value)
        else:  # "names": a comma-separated column
            values[index] = tuple(value.split(",")) if value else ()
    # Stored fields come first, in order: the rest (snippet, rank) are a search's.
    values += (snippet, rank, None, None)
    return SessionMetadata(*values)


def found(
    d: Dialect,
    row: Mapping[str, Any],
    sort_column: str,
    *,
    snippet: str | None = None,
    rank: float | None = None,
) -> Found:
    """A hit from a row selected with ``META_COLUMNS``."""
    sort = rank if rank is not None else d.sort_value(row[sort_column])
    return Found(read_metadata(d, row, snippet=snippet, rank=rank), int(row["id"]), sort)


class Dialect(Protocol):
    """The SQL and value conventions of one database engine."""

    def sql(self, text: str) -> str:
        """``text`` (``?`` placeholders) in this engine's placeholder style."""
        ...

    def change_notice(self) -> Stmt | None:
        """What a write transaction runs to tell other processes it changed the
        store, delivered at the commit; ``None`` when the engine has no such thing."""
        ...

    def time(self, epoch: float) -> Any:
        """A time parameter for ``created_at``-like columns."""
        ...

    def epoch(self, value: Any) -> float: ...

    def moment(self, value: Any) -> datetime:
        """A time column as an aware UTC datetime."""
        ...

    def sort_value(self, value: Any) -> float | int:
        """A sort column's value as a page cursor keeps it (exactly)."""
        ...

    def sort_param(self, value: float | int, column: str) -> Any:
        """A cursor's value as a parameter compared with ``column``."""
        ...

    def text(self, value: str | None) -> str | None:
        """A text parameter this engine accepts (lone surrogates, NUL)."""
        ...

    def tags(self, value: Any) -> tuple[str, ...]:
        """The ``sessions.tags`` column as read back."""
        ...

    def any_of(self, column: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
        """A condition: ``column`` equals one of ``values``."""
        ...

    def starts_with(self, column: str, prefix: str) -> tuple[str, list[Any]]:
        """A condition: ``column`` starts with ``prefix`` (case matters)."""
        ...

    def contains(self, column: str, text: str) -> tuple[str, list[Any]]:
        """A condition: ``column`` contains ``text``, whatever the case."""
        ...

    def has_tags(self, tags: Sequence[str], *, every: bool) -> tuple[str, list[Any]]:
        """A condition: the session has any of ``tags`` (``every``: all of them)."""
        ...

    def used_tool(self, name: str) -> tuple[str, list[Any]]:
        """A condition: the session (or one of its subagents) called the tool ``name``."""
        ...

    def lock(self, *names: str) -> Op[None]:
        """Serialise writers on ``names`` until the transaction ends (when the engine needs it)."""
        ...

    def insert_session(
        self, session_id: str, project_key: str, now: float, who: Identity
    ) -> Op[int]:
        """A new, empty, live session row (and its full-text row) of ``who``; returns its id."""
        ...

    def entry_columns(self) -> str:
        """The ``entries`` columns holding the JSON, for :meth:`entry`."""
        ...

    def entry_text_column(self) -> str:
        """An entry's JSON as text, for :meth:`contains` (a search for its message)."""
        ...

    def entry(self, row: Mapping[str, Any]) -> dict[str, Any]:
        """The entry stored in ``row`` (selected with :meth:`entry_columns`)."""
        ...

    def insert_entries(self, ref: int, subpath: str, rows: Sequence[NewEntry]) -> Stmt: ...

    def replace_entry(self, ref: int, subpath: str, key: str, text: str) -> Stmt: ...

    def rewrite_entry(self, ref: int, subpath: str, seq: int, text: str) -> Stmt:
        """Put ``text`` in place of the entry at ``seq`` of a transcript (a redaction)."""
        ...

    def refresh_tags(self, ref: int) -> Stmt:
        """Copy the session's tags (sorted) into ``sessions.tags``."""
        ...

    def tags_value(self) -> str:
        """The SQL of what :meth:`refresh_tags` sets ``sessions.tags`` to, in an UPDATE of
        ``sessions`` (so that one UPDATE can set them with other columns)."""
        ...

    def set_text(self, ref: int, body: str, meta: str) -> Op[None]:
        """Replace the session's searchable text (message ``body``, and ``meta``:
        description and title)."""
        ...

    def append_text(self, ref: int, body: str, meta: str) -> Op[None]: ...

    def set_meta_text(self, ref: int, meta: str) -> Op[None]: ...

    def drop_text(self, refs: Sequence[int]) -> Op[None]:
        """Take trashed sessions out of the full-text index."""
        ...

    def index_aside(self, ref: int, subpath: str, rows: Sequence[NewEntry]) -> Op[None]:
        """Index what new entries of a transcript said in tool calls and subagents, where
        the engine does so as they are written (SQLite's side index catches up later)."""
        ...

    def forget_aside(self, ref: int, subpath: str | None) -> Op[None]:
        """Drop what :meth:`index_aside` indexed of a transcript (``None``: all of the
        session's), before it is written anew."""
        ...

    def reindex_aside(self, ref: int) -> Op[None]:
        """Index the session's tool calls and subagents anew from its stored entries
        (they were rewritten in place: a redaction)."""
        ...

    def search(self, criteria: Criteria) -> Op[list[Found]]:
        """Live sessions (or trashed, per ``criteria.trashed``) matching ``criteria``:
        newest ``updated_at`` first, or ranked best first for a text search."""
        ...

    def usage(self, criteria: Criteria, by: tuple[str, ...]) -> Op[list[Any]]:
        """Rows of :func:`usage_sql` for the sessions matching ``criteria``."""
        ...


def session_row(dialect: Dialect, row: Mapping[str, Any]) -> SessionRow:
    """A ``sessions`` row selected with ``ROW_COLUMNS``."""
    state, summary = row["fold_state"], row["sdk_summary"]
    return SessionRow(
        ref=int(row["id"]),
        metadata=read_metadata(dialect, row),
        created_at=dialect.epoch(row["created_at"]),
        mtime_ms=int(row["mtime_ms"]),
        root_key=row["root_key"],
        fold_state=decode_entry(state) if state else {},
        sdk_summary=decode_entry(summary) if summary else None,
    )


def meta_text(description: str | None, title: str | None) -> str:
    """The searchable text beside the messages: description and title."""
    return "\n".join(part for part in (description, title) if part)


USAGE_GROUPS = {
    "model": ("s.model",),
    "project": ("s.project", "s.project_key"),
    "tags": ("s.tags",),
    "user": ("s.user_name",),
    "machine": ("s.machine",),
}


def usage_sql(
    day: str,
    by: tuple[str, ...],
    clauses: list[str],
    *,
    table: str = "sessions s",
    hour: str = "NULL",
    joined: str = "sessions s",
    join: str = "JOIN",
) -> list[str]:
    """The aggregate queries behind ``SessionStore.usage`` (both dialects): each gives
    rows of sums by group, and the store adds up the rows of the same group.

    ``by`` names :data:`USAGE_GROUPS`, ``day`` or ``hour`` (``day`` is this
    dialect's SQL for the UTC day number since the epoch, which the store rolls up
    into weeks and months; ``hour`` for the hour of the week, 0 to 167 from Thursday
    00:00 UTC, the epoch's). Groups are plain columns, as stored (the store names
    what is missing), so an index in the same order serves the grouping without a
    sort. Tags are grouped as whole sets, which the store splits: far fewer groups
    than sessions, and no join. ``table`` may name the index to read. Each group's
    columns come back as ``g_<group>_<n>``.

    By model, each request counts under its own model: the sessions whose requests
    were all of their own model are grouped by it as they are (from ``table``, in
    the index's order), and only the others (``models_apart``) by their sums per
    model (``session_models``), joined (``join``: the dialect's keyword) to the
    sessions the filters select (from ``joined``).
    """
    times = (day, hour)
    if "model" not in by:
        return [_usage_query(times, by, clauses, table, _SESSION_SUMS, "s.model")]
    own = [*clauses, "s.models_apart = 0"]
    apart = [*clauses, "s.models_apart <> 0"]
    joined = f"{joined} {join} session_models m ON m.session_ref = s.id"
    return [
        _usage_query(times, by, own, table, _OWN_MODEL_SUMS, "s.model"),
        _usage_query(times, by, apart, joined, _MODEL_SUMS, "m.model"),
    ]


def _usage_query(
    times: tuple[str, str],
    by: tuple[str, ...],
    clauses: list[str],
    table: str,
    sums: str,
    model: str,
) -> str:
    day, hour = times
    groups = {**USAGE_GROUPS, "day": (day,), "hour": (hour,), "model": (model,)}
    keys = [
        f"{column} AS g_{name}_{position}"
        for name in by
        for position, column in enumerate(groups[name])
    ]
    group = f" GROUP BY {', '.join(str(n) for n in range(1, len(keys) + 1))}" if keys else ""
    return (
        f"SELECT {', '.join([*keys, 'count(*) AS sessions'])}, {sums} "
        f"FROM {table} WHERE {' AND '.join(clauses)}{group}"
    )


_CACHE_SUMS = (
    "coalesce(sum({t}.cache_write_5m_tokens), 0) AS cache_write_5m_tokens, "
    "coalesce(sum({t}.cache_write_1h_tokens), 0) AS cache_write_1h_tokens, "
    "coalesce(sum({t}.cache_read_tokens), 0) AS cache_read_tokens"
)
_SESSION_FIGURES = (
    "coalesce(sum(s.total_cost), 0) AS cost, "
    "coalesce(sum(s.input_tokens), 0) AS input_tokens, "
    "coalesce(sum(s.output_tokens), 0) AS output_tokens, "
    "coalesce(sum(CASE WHEN s.unpriced IS NULL THEN 0 ELSE 1 END), 0) AS unpriced, "
    "coalesce(sum(s.from_result), 0) AS from_result, " + _CACHE_SUMS.format(t="s")
)
_SESSION_SUMS = (
    "coalesce(sum(s.message_count), 0) AS messages, "
    "coalesce(sum(s.turns), 0) AS turns, " + _SESSION_FIGURES
)
# By model, a group's turns are its requests.
_OWN_MODEL_SUMS = (
    "coalesce(sum(s.message_count), 0) AS messages, "
    "coalesce(sum(s.requests), 0) AS turns, " + _SESSION_FIGURES
)
# A session's requests of one model: their input counts what the model read, as a
# session's does (session_models keeps plain input apart from the cache's part).
_MODEL_SUMS = (
    "coalesce(sum(s.message_count), 0) AS messages, "
    "coalesce(sum(m.requests), 0) AS turns, coalesce(sum(m.cost), 0) AS cost, "
    "coalesce(sum(m.input_tokens + m.cache_write_5m_tokens + m.cache_write_1h_tokens "
    "+ m.cache_read_tokens), 0) AS input_tokens, "
    "coalesce(sum(m.output_tokens), 0) AS output_tokens, "
    "coalesce(sum(CASE WHEN m.unpriced_requests = 0 THEN 0 ELSE 1 END), 0) AS unpriced, "
    "coalesce(sum(s.from_result), 0) AS from_result, " + _CACHE_SUMS.format(t="m")
)


def usage_group(row: Any, name: str) -> Any:
    """The value of group ``name`` in a row of :func:`usage_sql`'s: a day number, a tag
    set as stored, or the model's or project's name (``(none)`` when unknown)."""
    first = row[f"g_{name}_0"]
    if name == "project":
        return first or row["g_project_1"] or "(none)"
    if name == "model":
        return first or "(none)"
    return first
