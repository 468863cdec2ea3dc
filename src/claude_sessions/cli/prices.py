"""``claude-sessions prices``: the price table in force, its sources and date."""

from __future__ import annotations

from typing import Any

import click
from rich.table import Table
from rich.text import Text

from claude_sessions.cli.common import console, echo_json, json_option
from claude_sessions.cli.terminal import for_terminal
from claude_sessions.model.pricing import PRICES_ENV_VAR, price_report


def _money(value: float) -> str:
    return f"${value:g}"


def _plain(text: str) -> Text:
    """Text from the user's price file (a path, a model name): shown as written, never markup."""
    return Text(for_terminal(text))


def _long(row: dict[str, Any]) -> str:
    long = row.get("long_context")
    if not long:
        return ""
    return (
        f">{long['above_prompt_tokens']:,} prompt tokens: "
        f"{_money(long['input'])}/{_money(long['output'])}, "
        f"writes {_money(long['cache_write_5m'])}/{_money(long['cache_write_1h'])}, "
        f"reads {_money(long['cache_read'])}"
    )


@click.command("prices")
@json_option
def prices_command(as_json: bool) -> None:
    """Show the model prices used to estimate costs (USD per million tokens).

    The built-in table comes from Anthropic's pricing page (its URL and the
    date it was checked are printed), retired models from Anthropic's
    announcements (each row from elsewhere names its source); a JSON or TOML file named by
    $CLAUDE_SESSIONS_PRICES adds or replaces entries, marked "user".
    A model not listed is unpriced: its cost is reported as unknown, never $0.
    """
    report = price_report()
    if as_json:
        echo_json(report)
        return
    out = console()
    table = Table(title="Model prices, USD per million tokens", title_justify="left")
    for column in ("model", "input", "output", "5m write", "1h write", "cache read"):
        table.add_column(column, justify="left" if column == "model" else "right")
    table.add_column("long context")
    table.add_column("from")
    for row in report["models"]:
        table.add_row(
            _plain(row["model"]),
            _money(row["input"]),
            _money(row["output"]),
            _money(row["cache_write_5m"]),
            _money(row["cache_write_1h"]),
            _money(row["cache_read"]),
            _long(row),
            row["origin"],
        )
    out.print(table)
    out.print(f"Source: {report['source']} (and the model pages), checked {report['checked']}.")
    out.print(f"Also checked against the {report['cli_catalog']}.")
    for row in report["models"]:
        if row["origin"] == "built-in" and report["source"] not in row["source"]:
            out.print(_plain(f"{row['model']}: {row['source']}"))
    out.print('Web search: $0.01 per request. US-only inference (inference_geo "us"): x1.1.')
    if report["user_file"]:
        out.print(_plain(f"User prices from ${PRICES_ENV_VAR}: {report['user_file']}"))
    else:
        out.print(f"No user prices (set ${PRICES_ENV_VAR} to a JSON or TOML file to add some).")
    for row in report["unpriced"]:
        out.print(_plain(f"Unpriced: {row['model']}: {row['reason']}"))


__all__ = ["prices_command"]
