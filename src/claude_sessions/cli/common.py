"""Options and helpers the command modules share: --store, --json, ids, dates and ages."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click
from rich.console import Console

from ..exceptions import SessionNotFoundError
from ..store import SessionStore, default_location
from ..terminal import json_for_terminal

F = TypeVar("F", bound=Callable[..., Any])

if TYPE_CHECKING:  # click 8.2+ makes ParamType generic; older ones cannot be subscripted
    _ParamType = click.ParamType[Any]
else:
    _ParamType = click.ParamType

STORE_ENV_VAR = "CLAUDE_SESSIONS_STORE"
ID_PREFIX_LENGTH = 8
PIPE_WIDTH = 200

_AGE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$", re.IGNORECASE)
_AGE_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 7 * 86400.0, "": 86400.0}
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def store_option(function: F) -> F:
    """``--store LOCATION`` (also ``$CLAUDE_SESSIONS_STORE``), passed as ``store_location``."""
    return click.option(
        "--store",
        "store_location",
        envvar=STORE_ENV_VAR,
        metavar="LOCATION",
        help="Store directory, .db file or URL (default: $CLAUDE_SESSIONS_STORE or "
        "~/.claude_sdk/sessions).",
    )(function)


def json_option(function: F) -> F:
    """``--json``: machine-readable output, passed as ``as_json``."""
    return click.option("--json", "as_json", is_flag=True, help="Print JSON instead.")(function)


def open_store(location: str | None, *, write: bool = False) -> SessionStore:
    """The store at ``location``, closed when the command ends.

    Only a command that writes (``write=True``) runs the store's automatic
    cleanup: reading never moves a session. ``claude-sessions --read-only``
    opens every store read-only.
    """
    context = click.get_current_context(silent=True)
    root = context.find_root() if context is not None else None
    if root is not None and (root.obj or {}).get("read_only"):
        store = SessionStore(location, read_only=True)
    elif write:
        store = SessionStore(location)
    else:
        store = SessionStore(location, cleanup_after_days=None, trash_days=None)
    if context is not None:
        context.call_on_close(store.close)
    return store


def existing_store(location: str | None) -> SessionStore | None:
    """The store at ``location`` if there is one (a path that exists, or a URL); never creates."""
    chosen = location or default_location()
    if "://" in chosen or Path(chosen).expanduser().exists():
        return open_store(location, write=True)
    return None


def resolve_id(store: SessionStore, prefix: str) -> str:
    """The stored session id that ``prefix`` starts (unknown or ambiguous: an error, exit 2)."""
    return store.resolve_id(prefix)


def resolve_or_pass(store: SessionStore | None, prefix: str) -> str:
    """The stored id ``prefix`` names, else ``prefix`` itself (the CLI may know it)."""
    if store is None:
        return prefix
    try:
        return store.resolve_id(prefix)
    except SessionNotFoundError:
        return prefix


def echo_json(value: Any) -> None:
    click.echo(json_for_terminal(json.dumps(value, ensure_ascii=False, indent=2, default=str)))


def console(*, stderr: bool = False) -> Console:
    """A rich console: colours on a terminal; plain, wide text in a pipe (no squeezed tables)."""
    found = Console(stderr=stderr, highlight=False)
    if found.is_terminal:
        return found
    return Console(stderr=stderr, highlight=False, width=PIPE_WIDTH)


def short_id(session_id: str) -> str:
    return session_id[:ID_PREFIX_LENGTH]


def parse_age(text: str) -> timedelta:
    """``30d``, ``12h``, ``2w``, ``90m``, ``45s`` (a bare number is days)."""
    match = _AGE_RE.match(text)
    if match is None:
        raise ValueError(f"not an age: {text!r} (use e.g. 30d, 12h, 2w)")
    try:
        return timedelta(seconds=float(match.group(1)) * _AGE_UNITS[match.group(2).lower()])
    except OverflowError:
        raise ValueError(f"age too large: {text!r}") from None


def parse_when(text: str, *, now: datetime | None = None) -> date | datetime:
    """``YYYY-MM-DD`` (a date), an ISO 8601 datetime (naive is UTC), or an age ago (``7d``)."""
    value = text.strip()
    if _DATE_RE.match(value):
        return date.fromisoformat(value)
    if _AGE_RE.match(value):
        try:
            return (now or datetime.now(timezone.utc)) - parse_age(value)
        except OverflowError:
            raise ValueError(f"{text!r} reaches back before the year 1") from None
    iso = value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        raise ValueError(
            f"not a date, datetime or age: {text!r} (use 2026-01-31, 2026-01-31T12:00, or 7d)"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


class WhenType(_ParamType):
    name = "WHEN"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, date):
            return value
        try:
            return parse_when(str(value))
        except ValueError as error:
            self.fail(str(error), param, ctx)


class AgeType(_ParamType):
    name = "AGE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, timedelta):
            return value
        try:
            return parse_age(str(value))
        except ValueError as error:
            self.fail(str(error), param, ctx)


WHEN = WhenType()
AGE = AgeType()


def stdin_is_terminal() -> bool:
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False


def format_cost(cost: float) -> str:
    return f"${cost:.4f}" if cost < 100 else f"${cost:,.2f}"
