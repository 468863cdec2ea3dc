"""The filters a page's URL carries, read into a SessionFilter, and the form that sets them.

A filter travels as a query parameter named as its field of
:class:`~claude_sessions.model.filters.SessionFilter` (``?tags=auth&min_cost=1``),
so a page can be bookmarked and shared; an empty one counts as absent (forms
send every field). Both the reading and the form's fields come from the
filters' specs: a filter added to the definition appears here by itself. A
value that is not a date or a number raises :class:`InvalidQueryError` with a
message for the reader, as the store does for criteria it cannot take.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from urllib.parse import urlencode

from starlette.datastructures import QueryParams

from claude_sessions.model.exceptions import InvalidQueryError
from claude_sessions.model.filters import Kind, Operator, SessionFilter, read_text, specs

_TAG_SPLIT_RE = re.compile(r"[,\s]+")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
PERIODS = ("day", "week", "month")
STACKS = ("model", "project", "tag")
# How far back the usage page looks by default: a month reads well as daily bars, and
# adding up every session ever stored costs the store a full pass over them.
LAST_DAYS = ("7", "30", "90", "365", "all")
DEFAULT_LAST = "30"


def split_tags(text: str) -> list[str]:
    return [tag for tag in _TAG_SPLIT_RE.split(text.strip()) if tag]


@dataclass(frozen=True)
class Input:
    """One form field of a filter, as a template draws it."""

    name: str
    label: str
    help: str
    type: str  # an <input> type: text, date, number or checkbox
    value: str
    placeholder: str = ""


def _input_type(kind: Kind, value: str) -> str:
    if kind is Kind.FLAG:
        return "checkbox"
    if kind is Kind.DOLLARS:
        return "number"
    if kind is Kind.MOMENT and (not value or _DATE_RE.match(value)):
        return "date"  # an age (7d) or a time stays text: a date field would drop it
    return "text"


@dataclass(frozen=True)
class Filters:
    """What narrows the sessions shown: the text of each filter, as the URL has it."""

    texts: dict[str, str] = field(default_factory=dict)

    @classmethod
    def read(cls, params: QueryParams, *, words: bool = True) -> Filters:
        """The filters in ``params`` (all of them, or without ``words`` all but the text
        and what only narrows a text search, such as where the words were said)."""
        return cls(
            {
                name: params.get(spec.param or name, "").strip()
                for name, spec in specs().items()
                if words or (spec.kind is not Kind.WORDS and spec.operator is not Operator.MODIFIES)
            }
        )

    def get(self, name: str) -> str:
        return self.texts.get(name, "")

    def session_filter(self) -> SessionFilter:
        """The filters as the store takes them; :class:`InvalidQueryError` on a bad value."""
        return SessionFilter(
            **{name: read_text(name, text) for name, text in self.texts.items() if text}
        )

    def inputs(self) -> list[Input]:
        """The form fields of every filter but the search box's text."""
        return [
            Input(
                spec.param or name,
                spec.label,
                spec.help,
                _input_type(spec.kind, self.get(name)),
                self.get(name),
                spec.placeholder,
            )
            for name, spec in specs().items()
            if name in self.texts and spec.kind is not Kind.WORDS
        ]

    def params(self) -> list[tuple[str, str]]:
        """The non-empty filters as query parameters."""
        named = specs()
        return [(named[name].param or name, text) for name, text in self.texts.items() if text]

    def query(self, **extra: str | None) -> str:
        """A query string of these filters and ``extra`` (``None`` values left out)."""
        pairs = self.params() + [(k, v) for k, v in extra.items() if v is not None]
        return urlencode(pairs)

    @property
    def active(self) -> bool:
        return bool(self.params())


@dataclass(frozen=True)
class UsageView:
    """The usage page's choices: the period of a bar, what its stack splits by, how many
    days back it looks (``last``; dates given in ``after``/``before`` win), and the list's
    filters but the text (``claude-sessions stats`` takes the same)."""

    period: str = "day"
    stack: str = "model"
    last: str = DEFAULT_LAST
    filters: Filters = field(default_factory=Filters)
    since: date | None = None

    @classmethod
    def read(cls, params: QueryParams, today: date) -> UsageView:
        period = params.get("period", "").strip() or "day"
        stack = params.get("stack", "").strip() or "model"
        last = params.get("last", "").strip() or DEFAULT_LAST
        if period not in PERIODS:
            raise InvalidQueryError(f"period must be one of {', '.join(PERIODS)}, not {period!r}")
        if stack not in STACKS:
            raise InvalidQueryError(f"stack must be one of {', '.join(STACKS)}, not {stack!r}")
        if last not in LAST_DAYS:
            raise InvalidQueryError(f"last must be one of {', '.join(LAST_DAYS)}, not {last!r}")
        kept = Filters.read(params, words=False)  # usage is not narrowed by text
        since = None
        if last != "all" and not kept.get("after"):
            since = today - timedelta(days=int(last) - 1)
        return cls(period, stack, last, kept, since)

    def session_filter(self) -> SessionFilter:
        """What ``store.usage``, :func:`~claude_sessions.views.stats.compute_stats` and
        :func:`~claude_sessions.views.stats.usage_series` cover."""
        found = self.filters.session_filter()
        return replace(found, after=self.since) if self.since is not None else found
