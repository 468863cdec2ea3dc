"""Which sessions: every filter defined once, with what each face makes of it.

A :class:`SessionFilter` says which sessions a search, a listing, the usage
figures or an export cover. Every face builds one from its input (command-line
options, a page's URL, an MCP tool's arguments) and hands it whole to the store.

Each field carries a :class:`Spec` in its metadata: the session column it
narrows and how (an :class:`Operator`, which both SQL dialects compile in one
loop), its help text, and its :class:`Kind`, which says how the value is read
from text and what an option, a form field or a JSON schema makes of it. The
faces are generated from the specs: a field added here appears on the command
line, in the web app and in the MCP tools' schemas, on both databases.
"""

from __future__ import annotations

import enum
import functools
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, fields
from datetime import date, datetime, time, timezone
from typing import TYPE_CHECKING, Any, TypedDict

from claude_sessions.model.exceptions import InvalidQueryError
from claude_sessions.model.when import parse_when

if TYPE_CHECKING:  # the query language loads with the first text filter
    from claude_sessions.model import text_query

# Where words are said: what a person typed, Claude's replies, tool inputs and results,
# and anything a subagent said or did (a session's title and description are read
# with prompts and replies together).
PLACES = ("prompt", "reply", "tool", "subagent")
_EARLIEST = datetime(1, 1, 1, tzinfo=timezone.utc).timestamp()
_LATEST = datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=timezone.utc).timestamp()
_YES = ("1", "on", "true", "yes")


class Kind(enum.Enum):
    """What sort of value a filter takes, and so how it is read from text."""

    WORDS = "words"  # a full-text query: words, "phrases", prefix*, AND/OR/NOT
    TAGS = "tags"  # tags, any of them
    FLAG = "flag"  # yes or no
    MOMENT = "moment"  # a date, an ISO 8601 time, or an age ago (7d)
    DOLLARS = "dollars"  # an amount in US dollars, >= 0
    NAME = "name"  # a piece of text, compared as it is


class Operator(enum.Enum):
    """How a filter narrows the sessions (the SQL dialects compile each one)."""

    MATCHES = "matches"  # full text: the ranked search path
    HAS_TAGS = "has tags"  # any of the tags (every one with match_all_tags)
    MODIFIES = "modifies"  # changes how another filter narrows: no condition of its own
    AT_LEAST = ">="
    AT_MOST = "<="
    EQUALS = "="  # equals one of the columns
    CONTAINS = "contains"  # contains the text, whatever the case
    HAS_ROWS = "has rows"  # the session has a row in the table its columns name
    USED_TOOL = "used tool"  # called the tool of this name (the dialects know where)


@dataclass(frozen=True)
class Spec:
    """Everything a face or a dialect needs to know about one filter.

    ``columns``: the ``sessions`` columns it compares (``EQUALS`` accepts any
    of them). ``label``: a form field's caption; ``help``: one line for an
    option, a form field's tooltip and a schema's description. ``aliases``:
    more option names on the command line. ``param``: the web app's URL parameter
    when not the field's name.
    """

    kind: Kind
    operator: Operator
    label: str
    help: str
    columns: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    placeholder: str = ""
    param: str = ""
    choices: tuple[str, ...] = ()  # the only values it takes, when it is so limited


def _spec(kind: Kind, operator: Operator, label: str, text: str, **more: Any) -> dict[str, Spec]:
    """A field's metadata: its :class:`Spec`."""
    return {"spec": Spec(kind, operator, label, text, **more)}


@dataclass(frozen=True)
class SessionFilter:
    """Which sessions: each given field narrows them further (criteria combine with AND).

    Build one from keyword arguments (``SessionFilter(tags=["auth"], min_cost=0.1)``)
    and pass it to ``SessionStore.search``, ``list_sessions``, ``usage``,
    :func:`~claude_sessions.views.stats.compute_stats` or an export. Bad values
    raise :class:`~claude_sessions.InvalidQueryError` here, before any query runs.
    Dates are ``date`` or ``datetime`` (naive means UTC); a ``before`` date covers
    its whole day.
    """

    text: str | None = field(
        default=None,
        metadata=_spec(
            Kind.WORDS,
            Operator.MATCHES,
            "Search",
            "Words in the messages, title or description: all must occur; "
            '"a phrase", prefix*, AND, OR, NOT and parentheses work.',
        ),
    )
    places: Sequence[str] = field(
        default=(),
        metadata=_spec(
            Kind.TAGS,
            Operator.MODIFIES,
            "Said in",
            "Find the search words only where they were said: prompt, reply, tool "
            "(inputs and results), subagent (the title and description: with prompt "
            "and reply both, or no place named).",
            aliases=("--in",),
            placeholder="tool, subagent",
            choices=PLACES,
            param="in",
        ),
    )
    tool: str | None = field(
        default=None,
        metadata=_spec(
            Kind.NAME,
            Operator.USED_TOOL,
            "Tool",
            "Called this tool (Bash, Read, mcp__server__tool), itself or in a subagent.",
            placeholder="Bash",
        ),
    )
    tags: Sequence[str] = field(
        default=(),
        metadata=_spec(
            Kind.TAGS,
            Operator.HAS_TAGS,
            "Tags",
            "Has any of these tags.",
            aliases=("--tag",),
            placeholder="auth, api",
        ),
    )
    match_all_tags: bool = field(
        default=False,
        metadata=_spec(
            Kind.FLAG,
            Operator.MODIFIES,
            "all of them",
            "Require every tag instead of any.",
            aliases=("--all-tags",),
        ),
    )
    after: date | datetime | None = field(
        default=None,
        metadata=_spec(
            Kind.MOMENT,
            Operator.AT_LEAST,
            "Created from",
            "Created on or after: 2026-01-31, an ISO time, or an age such as 7d.",
            columns=("created_at",),
            aliases=("--since",),
        ),
    )
    before: date | datetime | None = field(
        default=None,
        metadata=_spec(
            Kind.MOMENT,
            Operator.AT_MOST,
            "to",
            "Created on or before (a date includes that whole day).",
            columns=("created_at",),
            aliases=("--until",),
        ),
    )
    min_cost: float | None = field(
        default=None,
        metadata=_spec(
            Kind.DOLLARS,
            Operator.AT_LEAST,
            "Cost from $",
            "Cost at least (USD).",
            columns=("total_cost",),
        ),
    )
    max_cost: float | None = field(
        default=None,
        metadata=_spec(
            Kind.DOLLARS, Operator.AT_MOST, "to $", "Cost at most (USD).", columns=("total_cost",)
        ),
    )
    model: str | None = field(
        default=None,
        metadata=_spec(
            Kind.NAME,
            Operator.CONTAINS,
            "Model",
            "The model's name contains this, whatever the case (sonnet, opus).",
            columns=("model",),
            placeholder="sonnet",
        ),
    )
    project: str | None = field(
        default=None,
        metadata=_spec(
            Kind.NAME,
            Operator.EQUALS,
            "Project",
            "Run in this project directory (or with this project key).",
            columns=("project", "project_key"),
            placeholder="/home/me/app",
        ),
    )
    forked_from: str | None = field(
        default=None,
        metadata=_spec(
            Kind.NAME,
            Operator.EQUALS,
            "Forked from",
            "Forks of this session id.",
            columns=("forked_from",),
        ),
    )
    branch: str | None = field(
        default=None,
        metadata=_spec(
            Kind.NAME,
            Operator.EQUALS,
            "Git branch",
            "Run on this git branch.",
            columns=("git_branch",),
            placeholder="main",
        ),
    )
    user: str | None = field(
        default=None,
        metadata=_spec(
            Kind.NAME,
            Operator.EQUALS,
            "User",
            "Stored by this user (CLAUDE_SESSIONS_USER, git's user.email or the OS user).",
            columns=("user_name",),
            placeholder="alice@example.com",
        ),
    )
    machine: str | None = field(
        default=None,
        metadata=_spec(
            Kind.NAME,
            Operator.EQUALS,
            "Machine",
            "Stored on this machine (CLAUDE_SESSIONS_MACHINE or the host name).",
            columns=("machine",),
            placeholder="laptop",
        ),
    )
    has_secrets: bool = field(
        default=False,
        metadata=_spec(
            Kind.FLAG,
            Operator.HAS_ROWS,
            "Has secrets",
            "A secrets scan found secrets in it (claude-sessions secrets scan).",
            columns=("secret_findings",),
            param="secrets",
        ),
    )

    def __post_init__(self) -> None:
        for name, spec in specs().items():
            value = getattr(self, name)
            if value is None or value is False or value == ():
                if spec.kind in _DEFAULTS and value != _DEFAULTS[spec.kind]:
                    object.__setattr__(self, name, _DEFAULTS[spec.kind])
                continue
            object.__setattr__(self, name, _CHECKS[spec.kind](value, name))
        _check_ranges(self)
        if self.text is not None:
            _ = self.parsed_text  # malformed or too costly: refused now
        unknown = set(self.places) - set(PLACES)
        if unknown:
            raise InvalidQueryError(
                f"not a place words are said in: {', '.join(sorted(unknown))} "
                f"(one of {', '.join(PLACES)})"
            )

    @property
    def searched_places(self) -> tuple[str, ...]:
        """The places a text search reads (all of them unless ``places`` says)."""
        return tuple(place for place in PLACES if place in self.places) or PLACES

    @property
    def conversation_places(self) -> tuple[str, ...]:
        """The places the search reads in the conversation's own index: prompts and
        replies together (it holds them as one text), or neither."""
        own = self._own_places
        return own if len(own) == 2 else ()

    @property
    def aside_places(self) -> tuple[str, ...]:
        """The places the search reads in the index of tool calls and subagents, which
        also holds prompts and replies each apart: a search kept to one reads it there."""
        own = self._own_places
        return tuple(
            place
            for place in self.searched_places
            if place in ("tool", "subagent") or (len(own) == 1 and place in own)
        )

    @property
    def _own_places(self) -> tuple[str, ...]:
        return tuple(place for place in self.searched_places if place in ("prompt", "reply"))

    @functools.cached_property
    def parsed_text(self) -> text_query.Node | None:
        """The parsed full-text query (``None`` without ``text``)."""
        if self.text is None:
            return None
        from claude_sessions.model import text_query

        return text_query.parse(self.text)

    def given(self) -> Iterator[tuple[str, Spec, Any]]:
        """The fields that narrow something: name, spec and value."""
        for name, spec in specs().items():
            value = getattr(self, name)
            if value is not None and value is not False and value != ():
                yield name, spec, value

    def to_dict(self) -> dict[str, Any]:
        """The given fields, JSON-ready (dates as ISO 8601 strings, tags as a list)."""
        shown: dict[str, Any] = {}
        for name, _, value in self.given():
            if isinstance(value, date):
                shown[name] = value.isoformat()
            else:
                shown[name] = list(value) if isinstance(value, tuple) else value
        return shown


class FilterArgs(TypedDict, total=False):
    """The fields of :class:`SessionFilter` as keyword arguments (``search(tags=...)``),
    for type checkers; a test keeps the two the same."""

    text: str | None
    places: Sequence[str] | str | None
    tool: str | None
    tags: Sequence[str] | str | None
    match_all_tags: bool
    after: date | datetime | None
    before: date | datetime | None
    min_cost: float | None
    max_cost: float | None
    model: str | None
    project: str | None
    forked_from: str | None
    branch: str | None
    user: str | None
    machine: str | None
    has_secrets: bool


@functools.cache
def specs() -> dict[str, Spec]:
    """Every filter's spec, by field name, in the order of :class:`SessionFilter`."""
    return {item.name: item.metadata["spec"] for item in fields(SessionFilter)}


def read_text(name: str, text: str) -> Any:
    """A filter's value from text as a form, a URL or a tool argument gives it
    (``None`` when empty); checked when the :class:`SessionFilter` is made."""
    kind, value = specs()[name].kind, text.strip()
    if kind is Kind.FLAG:
        return value.lower() in _YES
    if not value:
        return None
    if kind is Kind.TAGS:
        return [tag for tag in value.replace(",", " ").split() if tag]
    if kind is Kind.MOMENT:
        try:
            return parse_when(value)
        except ValueError as error:
            raise InvalidQueryError(f"{name}: {error}") from None
    if kind is Kind.DOLLARS:
        try:
            return float(value.lstrip("$"))
        except ValueError:
            raise InvalidQueryError(f"{name} is not a number of dollars: {text!r}") from None
    return value


def moment_bound(value: date | datetime, *, end_of_day: bool) -> float:
    """Epoch seconds of a filter's date or datetime (naive is UTC); with ``end_of_day`` a
    date stands for its last microsecond."""
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
        try:
            return min(max(moment.timestamp(), _EARLIEST), _LATEST)
        except (OverflowError, ValueError):  # an offset pushes it past year 1 or 9999
            return _EARLIEST if moment.year < 5000 else _LATEST
    start = datetime.combine(value, time(), tzinfo=timezone.utc).timestamp()
    return min(start + 86400 - 1e-6, _LATEST) if end_of_day else start


# -- checking values ----------------------------------------------------------------------


def _words(value: Any, name: str) -> str | None:
    if not isinstance(value, str):
        raise InvalidQueryError(f"{name} must be a string, not {type(value).__name__}")
    if not value.strip():
        raise InvalidQueryError(f"{name} cannot be empty")
    return value.strip()


def _tags(value: Any, name: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, Iterable):
        raise InvalidQueryError(f"{name} must be a list of strings, not {type(value).__name__}")
    tags: list[str] = []
    for tag in value:
        if not isinstance(tag, str):
            raise InvalidQueryError(f"a tag is a string, not {type(tag).__name__}")
        if tag.strip() and tag.strip() not in tags:
            tags.append(tag.strip())
    return tuple(tags)


def _flag(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidQueryError(f"{name} must be True or False")
    return value


def _moment(value: Any, name: str) -> date | datetime:
    if not isinstance(value, date):
        raise InvalidQueryError(f"{name} must be a date or datetime, not {type(value).__name__}")
    return value


def _dollars(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidQueryError(f"{name} must be a number, not {type(value).__name__}")
    if not math.isfinite(value) or value < 0:
        raise InvalidQueryError(f"{name} must be a finite number >= 0, not {value!r}")
    return float(value)


_DEFAULTS: dict[Kind, Any] = {Kind.TAGS: (), Kind.FLAG: False}  # what None stands for
_CHECKS = {
    Kind.WORDS: _words,
    Kind.TAGS: _tags,
    Kind.FLAG: _flag,
    Kind.MOMENT: _moment,
    Kind.DOLLARS: _dollars,
    Kind.NAME: _words,
}


def _check_ranges(where: SessionFilter) -> None:
    """A lower bound above the upper bound of the same column is a mistake, not an
    empty result."""
    low: dict[str, tuple[str, float]] = {}
    high: dict[str, tuple[str, float]] = {}
    for name, spec, value in where.given():
        if spec.operator in (Operator.AT_LEAST, Operator.AT_MOST):
            at_most = spec.operator is Operator.AT_MOST
            number = moment_bound(value, end_of_day=at_most) if spec.kind is Kind.MOMENT else value
            (high if at_most else low)[spec.columns[0]] = (name, number)
    for column, (low_name, bottom) in low.items():
        if column in high and bottom > high[column][1]:
            top_name = high[column][0]
            raise InvalidQueryError(
                f"{low_name} ({getattr(where, low_name)}) is above {top_name} "
                f"({getattr(where, top_name)})"
            )
