"""Sharing a session with the team (``share``) and reading the audit log (``audit``)."""

from __future__ import annotations

from datetime import date, datetime

import click

from claude_sessions.cli.common import (
    WHEN,
    echo_json,
    json_option,
    open_store,
    resolve_id,
    store_option,
)
from claude_sessions.cli.terminal import for_terminal
from claude_sessions.store.visibility import audit_log, share_session


@click.command("share")
@click.argument("session_id")
@click.option("--off", is_flag=True, help="Stop sharing it.")
@store_option
@json_option
def share_command(session_id: str, off: bool, store_location: str | None, as_json: bool) -> None:
    """Share session SESSION_ID with the team (its owner and the admins may).

    On a team store everyone sees their own sessions and the shared ones; admins
    see all. The command acts as the user $CLAUDE_SESSIONS_USER names, if any.
    """
    store = open_store(store_location, write=True)
    found = resolve_id(store, session_id)
    share_session(store, found, not off)
    if as_json:
        echo_json({"session_id": found, "shared": not off})
    else:
        state = "no longer shared" if off else "shared with the team"
        click.echo(f"Session {for_terminal(found)} is {state}.")


@click.command("audit")
@click.option("--since", type=WHEN, help="Only what happened on or after (2026-01-31, 7d).")
@store_option
@json_option
def audit_command(since: date | datetime | None, store_location: str | None, as_json: bool) -> None:
    """The audit log: tags, descriptions, the trash, shares and exports (admins only)."""
    entries = audit_log(open_store(store_location), since=since)
    if as_json:
        echo_json([entry.to_dict() for entry in entries])
        return
    if not entries:
        click.echo("The audit log is empty.", err=True)
    for e in entries:
        line = f"{e.at:%Y-%m-%d %H:%M:%S}  {e.actor}  {e.action}  {e.session_id or '-'}"
        click.echo(for_terminal(f"{line}  {e.detail}" if e.detail else line))
