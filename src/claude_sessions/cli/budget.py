"""Spending budgets: ``budget set``, ``budget show`` and ``budget clear``."""

from __future__ import annotations

import click

from claude_sessions.cli.common import echo_json, json_option, open_store, store_option
from claude_sessions.model.exceptions import InvalidInputError
from claude_sessions.views import budgets

_USD = click.FloatRange(min=0, min_open=True)


@click.group("budget")
def budget_group() -> None:
    """Daily, monthly and 5-hour block spending budgets, kept in the store.

    `stats`, the usage page and the status line show spend against them; past
    80% and 100% the status line says so and the capture hook logs it. Nothing
    is ever stopped.
    """


@budget_group.command("set")
@click.option("--daily", type=_USD, metavar="USD", help="Budget for each UTC day.")
@click.option("--monthly", type=_USD, metavar="USD", help="Budget for each UTC month.")
@click.option("--block", type=_USD, metavar="USD", help="Budget for each 5-hour usage block.")
@store_option
@json_option
def set_command(
    daily: float | None,
    monthly: float | None,
    block: float | None,
    store_location: str | None,
    as_json: bool,
) -> None:
    """Set budgets in US dollars (those not named stay as they were)."""
    if daily is None and monthly is None and block is None:
        raise InvalidInputError("name at least one budget: --daily, --monthly or --block")
    store = open_store(store_location, write=True)
    done = budgets.set_budgets(store, daily=daily, monthly=monthly, block=block)
    if as_json:
        echo_json(done.to_dict())
        return
    for kind, limit in done.limits().items():
        click.echo(f"{kind} budget: ${limit:,.2f}")


@budget_group.command("show")
@store_option
@json_option
def show_command(store_location: str | None, as_json: bool) -> None:
    """The budgets and what was spent against each."""
    store = open_store(store_location)
    found = budgets.budget_status(store)
    if as_json:
        echo_json([state.to_dict() for state in found])
        return
    if not found:
        click.echo("No budget set (claude-sessions budget set --daily USD --monthly USD).")
    for state in found:
        click.echo(state.describe())


@budget_group.command("clear")
@store_option
@json_option
def clear_command(store_location: str | None, as_json: bool) -> None:
    """Remove every budget."""
    removed = budgets.clear_budgets(open_store(store_location, write=True))
    if as_json:
        echo_json({"removed": removed})
    else:
        click.echo(f"Removed {removed} budget(s).")
