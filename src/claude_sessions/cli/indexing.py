"""``index``: the full text of tool calls and subagents caught up with the store.

On SQLite an import leaves that text to a catch-up indexer (see
:mod:`claude_sessions.store.search_index`): ``import`` ends by starting one as
a detached process at the lowest CPU priority (as ``git gc --auto`` does), and
``search`` catches up what is left before it searches, or says what is not
indexed yet. On PostgreSQL only an older store's prompts and replies are left to it.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from claude_sessions.cli.common import console, open_store, store_option
from claude_sessions.model.filters import SessionFilter
from claude_sessions.store import SessionStore
from claude_sessions.store.search_index import (
    IndexRun,
    indexed_text,
    indexer_running,
    missing_note,
    not_indexed,
    not_indexed_for,
    update_search_index,
)


def index_with_progress(store: SessionStore) -> IndexRun:
    """Catch up in this process, with a progress bar on a terminal."""
    out = console(stderr=True)
    if not out.is_terminal:
        return update_search_index(store)
    with Progress(
        TextColumn(f"[bold]Indexing {indexed_text(store)}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("entries"),
        TimeRemainingColumn(),
        console=out,
        transient=True,
    ) as bar:
        task = bar.add_task("index", total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, total=total or None, completed=done)

        return update_search_index(store, progress=update)


def start_in_background(store: SessionStore) -> bool:
    """Start ``claude-sessions index`` on ``store`` as a detached process (nothing to
    do on PostgreSQL or a read-only store); whether one was started."""
    if store.read_only or not not_indexed(store):
        return False
    from claude_sessions.store import sqlite_path

    # A PostgreSQL location is known here without its password: that indexer runs on
    # the command line (``index``, or a ``search`` catching up first).
    if sqlite_path(store.location) is None:
        return False
    command = [sys.executable, "-m", "claude_sessions", "index", "--detached"]
    subprocess.Popen(
        [*command, "--store", store.location],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # outlives the command and its terminal's signals
        close_fds=True,
    )
    return True


def catch_up_before_search(store: SessionStore, where: SessionFilter) -> None:
    """Index what a search by ``where`` may not find yet before it, with progress, or
    say why the search may not find all of it (another process indexes it, or the
    store is read-only)."""
    pending = not_indexed_for(store, where)
    if not pending:
        return
    running = indexer_running(store)
    if store.read_only or running:
        why = "a background indexer is at it" if running else "the store is read-only"
        missing = missing_note(pending, indexed_text(store))
        click.echo(f"Note: {missing} ({why}): this search may miss words said there.", err=True)
        return
    if console(stderr=True).is_terminal:  # a log or a pipe gets the results alone
        what = f"the {indexed_text(store)} of {pending} session{'s' * (pending != 1)}"
        click.echo(f"Indexing {what}…", err=True)
    index_with_progress(store)


@click.command("index")
@click.option("--background", is_flag=True, help="Index in a detached process and return.")
@click.option("--detached", is_flag=True, hidden=True)  # what --background starts
@store_option
def index_command(background: bool, detached: bool, store_location: str | None) -> None:
    """Index tool inputs, tool results and subagents for search (what an import left to
    a background indexer; one runs at a time). On PostgreSQL: the prompts and replies
    of sessions stored before they were indexed apart."""
    store = open_store(store_location)  # the side index only: no cleanup of the store
    if background:
        started = start_in_background(store)
        click.echo("Indexing in the background." if started else "Nothing to index.")
        return
    if detached:
        with contextlib.suppress(OSError):
            os.nice(19)  # the lowest CPU priority: it waits for whatever else runs
        update_search_index(store)
        return
    if indexer_running(store):
        click.echo("Another process is indexing this store: it will finish the work.")
        return
    run = index_with_progress(store)
    if run.busy:
        click.echo("Another process is indexing this store: it will finish the work.")
    else:
        plural = "s" * (run.sessions != 1)
        click.echo(f"Indexed {run.entries} entries of {run.sessions} session{plural}.")
