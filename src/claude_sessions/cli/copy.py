"""``claude-sessions copy --from SRC --to DST``: copy a whole store, between backends too."""

from __future__ import annotations

from pathlib import Path

import click

from claude_sessions.cli.app import EXIT_FAILURE
from claude_sessions.cli.common import echo_json, json_option
from claude_sessions.store import SessionStore
from claude_sessions.store.location import is_server_location
from claude_sessions.store.transfer import copy_store


def _open(location: str) -> SessionStore:
    # Never with automatic cleanup: old sessions must be copied, not trashed.
    store = SessionStore(location, cleanup_after_days=None, trash_days=None)
    click.get_current_context().call_on_close(store.close)
    return store


@click.command("copy")
@click.option("--from", "source", required=True, metavar="SRC", help="Store to copy from.")
@click.option("--to", "destination", required=True, metavar="DST", help="Store to copy into.")
@json_option
def copy_command(source: str, destination: str, as_json: bool) -> None:
    """Copy every session from store SRC into store DST and verify the copy.

    SRC and DST are store locations: a directory or .db file (SQLite), a
    postgresql://user@host/db URL or a 'host=... dbname=...' string. Sessions
    already in DST with the same id and project are replaced; the others stay.
    Counts and a checksum of every session are compared at the end; a mismatch
    exits with status 1.
    """
    if not is_server_location(source) and not Path(source).expanduser().exists():
        raise click.BadParameter(f"no store at {source}", param_hint="--from")
    src = _open(source)
    dst = _open(destination)
    report = copy_store(src, dst)
    if as_json:
        echo_json(report.to_dict())
    else:
        click.echo(report.summary())
    if not report.ok:
        if not as_json:
            for mismatch in report.mismatches[:20]:
                click.echo(f"mismatch: {mismatch}", err=True)
        raise click.exceptions.Exit(EXIT_FAILURE)


__all__ = ["copy_command"]
