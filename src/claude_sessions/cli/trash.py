"""``trash``: what delete and cleanup moved aside, to list, bring back or delete for good."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import click

from claude_sessions.cli.common import (
    AGE,
    WHEN,
    echo_json,
    format_cost,
    json_option,
    open_store,
    store_option,
)
from claude_sessions.cli.terminal import for_terminal
from claude_sessions.store import RestoreReport, SessionStore
from claude_sessions.views.costs import is_lower_bound

CONFLICTS_SHOWN = 5


@click.group("trash")
def trash_group() -> None:
    """Sessions moved to the trash by delete or cleanup: restorable, whole, until emptied.

    The trash empties itself of sessions trashed more than 30 days ago
    ($CLAUDE_SESSIONS_TRASH_DAYS, or 'never').
    """


@trash_group.command("list")
@click.option("--limit", type=click.IntRange(min=1), help="Show at most this many.")
@store_option
@json_option
def list_command(limit: int | None, store_location: str | None, as_json: bool) -> None:
    """Sessions in the trash, most recently trashed first."""
    store = open_store(store_location)
    trashed = store.list_trash(limit=limit)
    if as_json:
        echo_json([m.to_dict() for m in trashed])
        return
    shown_ids = store.unique_prefixes((m.session_id for m in trashed), trashed=True)
    for metadata in trashed:
        when = f"{metadata.trashed_at:%Y-%m-%d %H:%M}" if metadata.trashed_at else "?"
        title = metadata.title or metadata.first_prompt or metadata.description or ""
        click.echo(
            for_terminal(
                f"{shown_ids[metadata.session_id]}  trashed {when}  "
                f"updated {metadata.updated_at:%Y-%m-%d}  "
                f"{format_cost(metadata.total_cost, lower_bound=is_lower_bound(metadata))}  "
                f"{' '.join(title.split())[:60]}"
            )
        )
    click.echo(f"{len(trashed)} session(s) in the trash.", err=True)


@trash_group.command("restore")
@click.argument("session_id", metavar="[ID]", required=False)
@click.option("--all", "everything", is_flag=True, help="Restore everything in the trash.")
@click.option(
    "--since", type=WHEN, help="With --all: only sessions trashed on or after (2026-01-31, 7d)."
)
@click.option(
    "--tag",
    "tags",
    multiple=True,
    metavar="TAG",
    help="With --all: only sessions with this tag (repeatable: any of them).",
)
@store_option
@json_option
def restore_command(
    session_id: str | None,
    everything: bool,
    since: date | datetime | None,
    tags: tuple[str, ...],
    store_location: str | None,
    as_json: bool,
) -> None:
    """Bring session ID (any unique prefix), or with --all every session in the trash,
    back with its tags and metadata. A session whose id a live session holds stays in
    the trash."""
    if everything:
        if session_id is not None:
            raise click.UsageError("give a session ID or --all, not both")
        store = open_store(store_location, write=True)
        _echo_report(store, store.restore_sessions(since=since, tags=tags), as_json)
        return
    if session_id is None:
        raise click.UsageError("give the ID of the session to restore, or --all")
    if since is not None or tags:
        raise click.UsageError("--since and --tag go with --all")
    store = open_store(store_location, write=True)
    metadata = store.restore_session(store.resolve_id(session_id, trashed=True))
    if as_json:
        echo_json(metadata.to_dict())
    else:
        click.echo(for_terminal(f"Restored {metadata.session_id}"))


def _echo_report(store: SessionStore, report: RestoreReport, as_json: bool) -> None:
    if as_json:
        echo_json(report.to_dict())
        return
    line = f"Restored {report.restored} session(s) from the trash."
    if report.conflicts:
        named = store.unique_prefixes(report.conflicts[:CONFLICTS_SHOWN], trashed=True)
        shown = list(named.values())
        if len(report.conflicts) > CONFLICTS_SHOWN:
            shown.append(f"{len(report.conflicts) - CONFLICTS_SHOWN} more (--json lists them)")
        line += (
            f" {len(report.conflicts)} stayed there, as a live session holds their id: "
            + ", ".join(shown)
        )
    click.echo(for_terminal(line))


@trash_group.command("empty")
@click.option(
    "--older-than",
    type=AGE,
    help="Only sessions trashed longer ago than this: 30d, 12h, 2w (default: all).",
)
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@store_option
@json_option
def empty_command(
    older_than: timedelta | None, yes: bool, store_location: str | None, as_json: bool
) -> None:
    """Delete what the trash holds, for good."""
    store = open_store(store_location, write=True)
    days = older_than.total_seconds() / 86400 if older_than is not None else None
    if not yes:
        which = f"trashed more than {days:g} days ago" if days is not None else "in the trash"
        click.confirm(f"Delete every session {which}, for good?", abort=True, err=True)
    count = store.empty_trash(days)
    if as_json:
        echo_json({"deleted": count})
    else:
        click.echo(f"Deleted {count} session(s) for good.")
