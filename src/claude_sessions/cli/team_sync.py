"""``sync``: send the team server what it lacks of the local store, or bring down what
the user may see there (``--pull``)."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator

import click

from claude_sessions.cli.common import echo_json, json_option, open_store, store_option
from claude_sessions.cli.terminal import for_terminal


@click.command("sync")
@click.option(
    "--server", metavar="URL", help="The team server (default: `hooks install --server`'s)."
)
@click.option("--token", metavar="TOKEN", help="Your token there (with --server).")
@click.option(
    "--pull",
    is_flag=True,
    help="Bring down the sessions you may see on the server that this store lacks.",
)
@click.option(
    "--from-start",
    is_flag=True,
    help="With --pull: walk the server's whole list, not only what changed since the last pull.",
)
@click.option(
    "--batch-entries",
    type=click.IntRange(1, 1000),
    default=1000,
    show_default=True,
    help="Entries per request at most (each also stays under 4 MiB).",
)
@store_option
@json_option
def sync_command(
    server: str | None,
    token: str | None,
    pull: bool,
    from_start: bool,
    batch_entries: int,
    store_location: str | None,
    as_json: bool,
) -> None:
    """Send the team server every stored entry it lacks (resumable: run it again after
    a failure), or with --pull bring down the sessions you may see there (those changed
    since the last pull)."""
    from claude_sessions.capture import server_config, syncing
    from claude_sessions.capture.team_server import TeamServer

    config = server_config.chosen(store_location, server, token)
    store = open_store(store_location, write=True)
    remote = TeamServer(config.url, config.token, timeout=30.0)
    show_bar = not as_json and sys.stderr.isatty()
    with _bar(show_bar, "Pulling" if pull else "Sending") as update:
        if pull:
            pulled = syncing.pull(store, remote, progress=update, from_start=from_start)
            result, line = pulled.to_dict(), pulled.line()
        else:
            pushed = syncing.send_all(store, remote, batch_entries=batch_entries, progress=update)
            result, line = pushed.to_dict(), pushed.line()
    if as_json:
        echo_json({"server": config.url, **result})
    else:
        click.echo(for_terminal(f"{line} ({config.url})"))


@contextlib.contextmanager
def _bar(shown: bool, verb: str) -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar of entries on a terminal (``None`` elsewhere)."""
    if not shown:
        yield None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    from claude_sessions.cli.common import console

    columns = (TextColumn(f"[bold]{verb}"), BarColumn(), MofNCompleteColumn())
    with Progress(
        *columns, TimeRemainingColumn(), console=console(stderr=True), transient=True
    ) as bar:
        task = bar.add_task(verb, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, total=total or None, completed=done)

        yield update
