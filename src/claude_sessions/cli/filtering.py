"""Every filter of :class:`~claude_sessions.model.filters.SessionFilter` as options.

One decorator adds them all, in the style of sqlite-utils' option bundles, and
hands the command a single ``where`` argument: a filter added to the
definition is an option of ``list``, ``search``, ``stats`` and ``export --all``
at once. Values are read as every face reads them
(:func:`~claude_sessions.model.filters.read_text`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import fields
from typing import Any, TypeVar

import click

from claude_sessions.cli.common import ParamType
from claude_sessions.model.exceptions import InvalidQueryError
from claude_sessions.model.filters import Kind, SessionFilter, Spec, read_text, specs

F = TypeVar("F", bound=Callable[..., Any])

_METAVARS = {Kind.MOMENT: "WHEN", Kind.DOLLARS: "USD", Kind.NAME: "TEXT", Kind.TAGS: "TAG"}


class _FilterValue(ParamType):
    """One filter's value, read from the command line as the other faces read it."""

    def __init__(self, name: str) -> None:
        self.name = name

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if not isinstance(value, str):
            return value
        try:
            return read_text(self.name, value)
        except InvalidQueryError as error:
            self.fail(str(error), param, ctx)


def _option_type(name: str, spec: Spec) -> Any:
    if spec.choices:
        return click.Choice(spec.choices)
    return str if spec.kind is Kind.TAGS else _FilterValue(name)


def _option(name: str, spec: Spec) -> Callable[[F], F]:
    names = [f"--{name.replace('_', '-')}", *spec.aliases, name]
    if spec.kind is Kind.FLAG:
        return click.option(*names, is_flag=True, help=spec.help)
    return click.option(
        *names,
        type=_option_type(name, spec),
        multiple=spec.kind is Kind.TAGS,
        metavar=None if spec.choices else _METAVARS.get(spec.kind),
        help=spec.help + (" (repeatable)" if spec.kind is Kind.TAGS else ""),
    )


def filter_options(*, words: bool = False) -> Callable[[F], F]:
    """The filters as options, given to the command as ``where`` (a SessionFilter).

    ``words``: the full-text query is the command's arguments (``search WORDS...``);
    without, the command offers no text filter.
    """

    def decorate(command: F) -> F:
        offered = [name for name, spec in specs().items() if spec.kind is not Kind.WORDS]

        @functools.wraps(command)
        def run(*args: Any, **kwargs: Any) -> Any:
            given = {name: kwargs.pop(name) for name in offered}
            if words:
                typed = kwargs.pop("text")
                given["text"] = " ".join(typed) if typed else None
            kwargs["where"] = SessionFilter(**given)
            return command(*args, **kwargs)

        decorated: Any = run
        for item in reversed(fields(SessionFilter)):
            if item.name in offered:
                decorated = _option(item.name, specs()[item.name])(decorated)
        if words:
            decorated = click.argument("text", nargs=-1)(decorated)
        return decorated  # type: ignore[no-any-return]

    return decorate
