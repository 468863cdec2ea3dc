"""What differs between the databases: SQL spelling, value types and full text.

The store's transactions (:mod:`.writes`, :mod:`.reads`) are written once,
with ``?`` placeholders and plain SQL both engines accept. A
:class:`Dialect` supplies the rest: how a time or a list of tags is passed
and read back, how entries are stored (JSON text, or JSONB), the per-session
advisory lock PostgreSQL needs, the full-text index and the search query.
:class:`SessionRow` is a session row read back in engine-neutral form.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Protocol

from claude_sessions.model.entries import NewEntry, decode_entry
from claude_sessions.store.criteria import Criteria
from claude_sessions.store.plan import Op, Stmt
from claude_sessions.store.records import SessionMetadata

# Metadata columns, for listings; ROW_COLUMNS adds what writes need.
META_COLUMNS = (
    "s.id, s.session_id, s.project_key, s.created_at, s.updated_at, s.mtime_ms, "
    "s.message_count, s.turns, s.total_cost, s.input_tokens, s.output_tokens, "
    "s.subagent_cost, s.subagent_input_tokens, s.subagent_output_tokens, s.unpriced, s.tags, "
    "s.description, s.model, s.project, s.first_prompt, s.title, s.git_branch, "
    "s.forked_from, s.forked_at, s.trashed_at"
)
ROW_COLUMNS = META_COLUMNS + ", s.root_key, s.fold_state, s.sdk_summary"


@dataclass(frozen=True)
class SessionRow:
    """One row of ``sessions``; times in epoch seconds."""

    ref: int
    session_id: str
    project_key: str
    created_at: float
    updated_at: float
    mtime_ms: int
    message_count: int
    turns: int
    total_cost: float
    input_tokens: int
    output_tokens: int
    subagent_cost: float
    subagent_input_tokens: int
    subagent_output_tokens: int
    unpriced: str | None
    tags: tuple[str, ...]
    description: str | None
    model: str | None
    project: str | None
    first_prompt: str | None
    title: str | None
    git_branch: str | None
    forked_from: str | None
    forked_at: str | None
    trashed_at: float | None
    root_key: str | None  # the key of the main transcript's root entry (see entries.root_entry)
    fold_state: dict[str, Any]
    sdk_summary: dict[str, Any] | None

    def metadata(self, snippet: str | None = None, rank: float | None = None) -> SessionMetadata:
        return SessionMetadata(
            session_id=self.session_id,
            created_at=utc(self.created_at),
            updated_at=utc(self.updated_at),
            message_count=self.message_count,
            turns=self.turns,
            total_cost=self.total_cost,
            input_tokens=self.input_tokens,
            output_tokens=self.output_tokens,
            subagent_cost=self.subagent_cost,
            subagent_input_tokens=self.subagent_input_tokens,
            subagent_output_tokens=self.subagent_output_tokens,
            unpriced_models=_unpriced(self.unpriced),
            tags=self.tags,
            description=self.description,
            model=self.model,
            project=self.project,
            project_key=self.project_key,
            first_prompt=self.first_prompt,
            title=self.title,
            git_branch=self.git_branch,
            forked_from=self.forked_from,
            forked_at=self.forked_at,
            trashed_at=utc(self.trashed_at) if self.trashed_at is not None else None,
            snippet=snippet,
            rank=rank,
        )


@dataclass(frozen=True)
class Found:
    """A search hit: its metadata, its row id, and the value the results are ordered by
    (``updated_at``, ``trashed_at`` or the cost as the dialect passes it back, or the
    rank), which a next-page cursor carries."""

    metadata: SessionMetadata
    ref: int
    sort: float | int


def found(
    d: Dialect,
    row: Mapping[str, Any],
    sort_column: str,
    *,
    snippet: str | None = None,
    rank: float | None = None,
) -> Found:
    """A hit from a row selected with ``META_COLUMNS``: metadata straight from the row
    (listings read 50 at a time, so no intermediate objects)."""
    trashed = row["trashed_at"]
    metadata = SessionMetadata(
        session_id=row["session_id"],
        created_at=d.moment(row["created_at"]),
        updated_at=d.moment(row["updated_at"]),
        message_count=row["message_count"],
        turns=row["turns"],
        total_cost=row["total_cost"],
        input_tokens=row["input_tokens"],
        output_tokens=row["output_tokens"],
        subagent_cost=row["subagent_cost"],
        subagent_input_tokens=row["subagent_input_tokens"],
        subagent_output_tokens=row["subagent_output_tokens"],
        unpriced_models=_unpriced(row["unpriced"]),
        tags=d.tags(row["tags"]),
        description=row["description"],
        model=row["model"],
        project=row["project"],
        project_key=row["project_key"],
        first_prompt=row["first_prompt"],
        title=row["title"],
        git_branch=row["git_branch"],
        forked_from=row["forked_from"],
        forked_at=row["forked_at"],
        trashed_at=d.moment(trashed) if trashed is not None else None,
        snippet=snippet,
        rank=rank,
    )
    sort = rank if rank is not None else d.sort_value(row[sort_column])
    return Found(metadata, int(row["id"]), sort)


def _unpriced(value: str | None) -> tuple[str, ...]:
    return tuple(value.split(",")) if value else ()


def utc(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, tz=timezone.utc)


class Dialect(Protocol):
    """The SQL and value conventions of one database engine."""

    def sql(self, text: str) -> str:
        """``text`` (``?`` placeholders) in this engine's placeholder style."""
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

    def lock(self, *names: str) -> Op[None]:
        """Serialise writers on ``names`` until the transaction ends (when the engine needs it)."""
        ...

    def insert_session(self, session_id: str, project_key: str, now: float) -> Op[int]:
        """A new, empty, live session row (and its full-text row); returns its id."""
        ...

    def entry_columns(self) -> str:
        """The ``entries`` columns holding the JSON, for :meth:`entry`."""
        ...

    def entry(self, row: Mapping[str, Any]) -> dict[str, Any]:
        """The entry stored in ``row`` (selected with :meth:`entry_columns`)."""
        ...

    def insert_entries(self, ref: int, subpath: str, rows: Sequence[NewEntry]) -> Stmt: ...

    def replace_entry(self, ref: int, subpath: str, key: str, text: str) -> Stmt: ...

    def refresh_tags(self, ref: int) -> Stmt:
        """Copy the session's tags (sorted) into ``sessions.tags``."""
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

    def search(self, criteria: Criteria) -> Op[list[Found]]:
        """Live sessions (or trashed, per ``criteria.trashed``) matching ``criteria``:
        newest ``updated_at`` first, or ranked best first for a text search."""
        ...

    def usage(self, criteria: Criteria, by: tuple[str, ...]) -> Op[list[Any]]:
        """Rows of :func:`usage_sql` for the sessions matching ``criteria``."""
        ...


def session_row(dialect: Dialect, row: Mapping[str, Any]) -> SessionRow:
    """A ``sessions`` row selected with ``ROW_COLUMNS`` or ``META_COLUMNS``."""
    full = "fold_state" in row.keys()  # noqa: SIM118 - ROW_COLUMNS, not META_COLUMNS
    state = row["fold_state"] if full else None
    summary = row["sdk_summary"] if full else None
    trashed = row["trashed_at"]
    return SessionRow(
        ref=int(row["id"]),
        session_id=row["session_id"],
        project_key=row["project_key"],
        created_at=dialect.epoch(row["created_at"]),
        updated_at=dialect.epoch(row["updated_at"]),
        mtime_ms=int(row["mtime_ms"]),
        message_count=int(row["message_count"]),
        turns=int(row["turns"]),
        total_cost=float(row["total_cost"]),
        input_tokens=int(row["input_tokens"]),
        output_tokens=int(row["output_tokens"]),
        subagent_cost=float(row["subagent_cost"]),
        subagent_input_tokens=int(row["subagent_input_tokens"]),
        subagent_output_tokens=int(row["subagent_output_tokens"]),
        unpriced=row["unpriced"],
        tags=dialect.tags(row["tags"]),
        description=row["description"],
        model=row["model"],
        project=row["project"],
        first_prompt=row["first_prompt"],
        title=row["title"],
        git_branch=row["git_branch"],
        forked_from=row["forked_from"],
        forked_at=row["forked_at"],
        trashed_at=dialect.epoch(trashed) if trashed is not None else None,
        root_key=row["root_key"] if full else None,
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
}


def usage_sql(
    day: str, by: tuple[str, ...], clauses: list[str], *, table: str = "sessions s"
) -> str:
    """The aggregate query behind ``SessionStore.usage`` (both dialects).

    ``by`` names :data:`USAGE_GROUPS` or ``day`` (``day`` is this dialect's SQL
    for the UTC day number since the epoch: the store rolls days up into weeks
    and months). Groups are plain columns, as stored (the store names what is
    missing), so an index in the same order serves the grouping without a
    sort. Tags are grouped as whole sets, which the store splits: far fewer
    groups than sessions, and no join. ``table`` may name the index to read.
    Each group's columns come back as ``g_<group>_<n>``.
    """
    groups = {**USAGE_GROUPS, "day": (day,)}
    keys = [
        f"{column} AS g_{name}_{position}"
        for name in by
        for position, column in enumerate(groups[name])
    ]
    group = f" GROUP BY {', '.join(str(n) for n in range(1, len(keys) + 1))}" if keys else ""
    return (
        f"SELECT {', '.join([*keys, 'count(*) AS sessions'])}, "
        "coalesce(sum(s.message_count), 0) AS messages, "
        "coalesce(sum(s.turns), 0) AS turns, coalesce(sum(s.total_cost), 0) AS cost, "
        "coalesce(sum(s.input_tokens), 0) AS input_tokens, "
        "coalesce(sum(s.output_tokens), 0) AS output_tokens, "
        "coalesce(sum(CASE WHEN s.unpriced IS NULL THEN 0 ELSE 1 END), 0) AS unpriced "
        f"FROM {table} WHERE {' AND '.join(clauses)}{group}"
    )


def usage_group(row: Any, name: str) -> Any:
    """The value of group ``name`` in a row of :func:`usage_sql`: a day number, a tag
    set as stored, or the model's or project's name (``(none)`` when unknown)."""
    first = row[f"g_{name}_0"]
    if name == "project":
        return first or row["g_project_1"] or "(none)"
    if name == "model":
        return first or "(none)"
    return first
