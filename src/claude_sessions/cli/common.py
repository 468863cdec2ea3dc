"""Options and helpers the command modules share: --store, --json, ids, dates and ages."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from claude_sessions.cli.terminal import for_terminal, holds_surrogates, json_for_terminal
from claude_sessions.model.exceptions import SessionNotFoundError
from claude_sessions.model.when import parse_age, parse_when
from claude_sessions.store import SessionStore, default_location
from claude_sessions.store.location import is_server_location
from claude_sessions.store.visibility import environment_viewer, seen_by
from claude_sessions.views.costs import bounded

F = TypeVar("F", bound=Callable[..., Any])

if TYPE_CHECKING:
    from rich.console import Console

    from claude_sessions.runs.locate import ClaudeCode

if TYPE_CHECKING:  # click 8.2+ makes ParamType generic; older ones cannot be subscripted
    ParamType = click.ParamType[Any]
else:
    ParamType = click.ParamType

STORE_ENV_VAR = "CLAUDE_SESSIONS_STORE"
UUID_SHOWN = 8  # a message uuid shown short (uuid4s do not share prefixes)
PIPE_WIDTH = 200


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


def scope_option(help_text: str) -> Callable[[F], F]:
    """``--scope user|project``: which Claude Code configuration a command changes."""
    return click.option(
        "--scope",
        type=click.Choice(["user", "project"]),
        default="user",
        show_default=True,
        help=help_text,
    )


def json_option(function: F) -> F:
    """``--json``: machine-readable output, passed as ``as_json``."""
    return click.option("--json", "as_json", is_flag=True, help="Print JSON instead.")(function)


def open_store(location: str | None, *, write: bool = False) -> SessionStore:
    """The store at ``location``, closed when the command ends.

    Only a command that writes (``write=True``) runs the store's automatic
    cleanup: reading never moves a session. ``claude-sessions --read-only``
    opens every store read-only. When ``$CLAUDE_SESSIONS_USER`` names a user of
    the store, the command sees and changes what that user may (see
    :mod:`claude_sessions.store.visibility`).
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
    return seen_by(store, environment_viewer(store))


redact_option = click.option(
    "--redact",
    is_flag=True,
    help="Replace each secret found with [REDACTED:rule] (the store is unchanged).",
)


def shown_store(location: str | None, *, redact: bool) -> SessionStore:
    """The store at ``location`` to read for output; with ``redact``, its secrets redacted."""
    store = open_store(location)
    if not redact:
        return store
    from claude_sessions.views.redacted import RedactingStore

    redacted: SessionStore = RedactingStore(store)  # type: ignore[assignment]
    return redacted


def existing_store(location: str | None) -> SessionStore | None:
    """The store at ``location`` if there is one (a path that exists, or a URL); never creates."""
    chosen = location or default_location()
    if is_server_location(chosen) or Path(chosen).expanduser().exists():
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


NOT_UTF8_NOTE = (
    "Note: this JSON holds text that is not valid UTF-8 (a file name, say): "
    "each byte 0xNN that could not be decoded is written as the escape \\udcNN."
)


def echo_json(value: Any) -> None:
    echo_json_text(json.dumps(value, ensure_ascii=False, indent=2, default=str), nl=True)


def echo_json_text(text: str, *, nl: bool) -> None:
    """JSON on stdout: valid UTF-8 whatever the names it holds (which stderr then notes)."""
    click.echo(json_for_terminal(text), nl=nl)
    if holds_surrogates(text):
        click.echo(NOT_UTF8_NOTE, err=True)


def console(*, stderr: bool = False) -> Console:
    """A rich console: colours on a terminal; plain, wide text in a pipe (no squeezed tables).

    No ``:name:`` emoji codes: our own strings hold none (stored text is printed as
    ``Text``, never read for codes), and looking them up loads rich's table of them.
    """
    from rich.console import Console

    found = Console(stderr=stderr, highlight=False, emoji=False)
    if found.is_terminal:
        return found
    return Console(stderr=stderr, highlight=False, emoji=False, width=PIPE_WIDTH)


def short_uuid(uuid: str) -> str:
    """A message uuid shown short (session ids: ``SessionStore.unique_prefixes``)."""
    return uuid[:UUID_SHOWN]


class WhenType(ParamType):
    name = "WHEN"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, date):
            return value
        try:
            return parse_when(str(value))
        except ValueError as error:
            self.fail(str(error), param, ctx)


class AgeType(ParamType):
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


def stdout_is_terminal() -> bool:
    try:
        return sys.stdout is not None and sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False


def format_cost(cost: float, *, lower_bound: bool = False) -> str:
    """USD for the terminal; ``at least`` before it when part of the usage had no price."""
    return bounded(f"${cost:.4f}" if cost < 100 else f"${cost:,.2f}", lower_bound)


def echo_clis(clis: list[ClaudeCode]) -> None:
    """One line per Claude Code CLI found (what the hooks and MCP commands report)."""
    if not clis:
        click.echo("Claude Code: not found (install claude-agent-sdk, or put `claude` on PATH)")
    for found in clis:
        click.echo(for_terminal(found.describe()))
