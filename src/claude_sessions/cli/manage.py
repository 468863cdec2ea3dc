"""Changing the store: ``tag``, ``describe``, ``delete``, ``cleanup`` and ``import``."""

from __future__ import annotations

import sys
from datetime import timedelta
from typing import TYPE_CHECKING

import click
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from claude_sessions.cli.common import (
    AGE,
    console,
    echo_json,
    format_cost,
    json_option,
    open_store,
    resolve_id,
    store_option,
)
from claude_sessions.cli.terminal import for_terminal
from claude_sessions.importer import ImportProgress, ImportReport, import_transcripts
from claude_sessions.views.costs import is_lower_bound

if TYPE_CHECKING:
    from claude_sessions.store import SessionStore


def parse_tag_changes(changes: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """``+a`` and ``a`` add, ``-b`` removes."""
    add: list[str] = []
    remove: list[str] = []
    for change in changes:
        if change.startswith("-"):
            target = remove
            name = change[1:]
        else:
            target = add
            name = change[1:] if change.startswith("+") else change
        if not name.strip():
            raise click.BadParameter(f"empty tag in {change!r}", param_hint="TAGS")
        target.append(name.strip())
    return add, remove


@click.command("tag", context_settings={"ignore_unknown_options": True})
@click.argument("session_id", metavar="ID")
@click.argument("changes", metavar="[+TAG|-TAG|TAG]...", nargs=-1, type=click.UNPROCESSED)
@store_option
@json_option
def tag_command(
    session_id: str, changes: tuple[str, ...], store_location: str | None, as_json: bool
) -> None:
    """Add (+TAG or TAG) and remove (-TAG) tags of session ID; no change prints the tags."""
    add, remove = parse_tag_changes(changes)
    store = open_store(store_location, write=True)
    resolved = resolve_id(store, session_id)
    metadata = store.get_metadata(resolved)
    if add:
        metadata = store.add_tags(resolved, add)
    if remove:
        metadata = store.remove_tags(resolved, remove)
    tags = list(metadata.tags) if metadata else []
    if as_json:
        echo_json({"session_id": resolved, "tags": tags})
    else:
        shown = ", ".join(tags) if tags else "(no tags)"
        click.echo(for_terminal(f"{store.unique_prefixes([resolved])[resolved]}: {shown}"))


@click.command("describe")
@click.argument("session_id", metavar="ID")
@click.argument("text")
@store_option
@json_option
def describe_command(session_id: str, text: str, store_location: str | None, as_json: bool) -> None:
    """Set the description of session ID ("" clears it)."""
    store = open_store(store_location, write=True)
    metadata = store.set_description(resolve_id(store, session_id), text.strip() or None)
    if as_json:
        echo_json(metadata.to_dict())
    else:
        description = metadata.description or "(no description)"
        shown = store.unique_prefixes([metadata.session_id])[metadata.session_id]
        click.echo(for_terminal(f"{shown}: {description}"))


@click.command("delete")
@click.argument("session_id", metavar="ID")
@click.option("--purge", is_flag=True, help="Delete for good at once, not to the trash.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation (with --purge).")
@store_option
@json_option
def delete_command(
    session_id: str, purge: bool, yes: bool, store_location: str | None, as_json: bool
) -> None:
    """Move session ID to the trash (`trash restore` brings it back); --purge deletes it.

    The CLI's own transcript is left alone.
    """
    store = open_store(store_location, write=True)
    resolved = resolve_id(store, session_id)
    if purge and not yes:
        click.confirm(f"Delete session {for_terminal(resolved)} for good?", abort=True, err=True)
    deleted = store.delete_session(resolved, purge=purge)
    if as_json:
        echo_json({"session_id": resolved, "deleted": deleted, "purged": purge})
        return
    shown = for_terminal(resolved)
    if not deleted:
        click.echo(f"{shown} was already gone")
    elif purge:
        click.echo(f"Deleted {shown} for good")
    else:
        prefix = store.unique_prefixes([resolved], trashed=True)[resolved]
        click.echo(
            f"Moved {shown} to the trash (claude-sessions trash restore {for_terminal(prefix)})"
        )


@click.command("cleanup")
@click.option(
    "--older-than",
    type=AGE,
    help="Sessions not updated for this long: 30d, 12h, 2w (default: the store's 30d).",
)
@click.option("--dry-run", is_flag=True, help="Only list what would be moved.")
@store_option
@json_option
def cleanup_command(
    older_than: timedelta | None, dry_run: bool, store_location: str | None, as_json: bool
) -> None:
    """Move sessions not updated for a while to the trash (tagged 'keep' or 'imported' stay)."""
    store = open_store(store_location, write=True)
    days = older_than.total_seconds() / 86400 if older_than is not None else None
    if dry_run:
        doomed = store.cleanup_old_sessions(days, dry_run=True)
        if as_json:
            echo_json({"dry_run": True, "sessions": [m.to_dict() for m in doomed]})
            return
        shown_ids = store.unique_prefixes(m.session_id for m in doomed)
        for metadata in doomed:
            click.echo(
                f"{for_terminal(shown_ids[metadata.session_id])}  {metadata.updated_at:%Y-%m-%d}  "
                f"{format_cost(metadata.total_cost, lower_bound=is_lower_bound(metadata))}"
            )
        click.echo(f"Would move {len(doomed)} session(s) to the trash.", err=True)
        return
    count = store.cleanup_old_sessions(days)
    if as_json:
        echo_json({"dry_run": False, "trashed": count})
    else:
        click.echo(f"Moved {count} session(s) to the trash (claude-sessions trash list).")


def _summary(report: ImportReport) -> str:
    lines = [
        f"Imported {report.entries_imported} entries from {report.files_read} of "
        f"{report.files_seen} file(s) ({report.files_unchanged} unchanged) in "
        f"{report.seconds:.1f}s, {report.bytes_read / 1e6:.1f} MB.",
        f"Sessions: {report.sessions_new} new, {report.sessions_updated} updated, "
        f"{report.sessions_unchanged} unchanged.",
    ]
    if report.bad_lines or report.repaired_lines:
        lines.append(
            f"Skipped {report.bad_lines} unreadable line(s); "
            f"{report.repaired_lines} line(s) had invalid UTF-8 (replaced)."
        )
    if report.unknown_types:
        kinds = ", ".join(f"{k} ({v})" for k, v in sorted(report.unknown_types.items()))
        lines.append(f"Unknown entry types (kept): {kinds}")
    if report.untyped_entries:
        lines.append(f"Entries without a type (kept): {report.untyped_entries}")
    for skipped in report.skipped:
        lines.append(f"Skipped {skipped}")
    for error in report.errors:
        lines.append(f"Error: {error}")
    return "\n".join(lines)


@click.command("import")
@click.argument("paths", nargs=-1, type=click.Path(exists=True))
@click.option(
    "--redact",
    is_flag=True,
    help="Store each secret found as [REDACTED:rule]: the secret never reaches the store.",
)
@click.option(
    "--index-now",
    is_flag=True,
    help="Index tool calls and subagents for search before returning, not in the background.",
)
@store_option
@json_option
def import_command(
    paths: tuple[str, ...], redact: bool, index_now: bool, store_location: str | None, as_json: bool
) -> None:
    """Copy the Claude Code CLI's transcripts into the store (new and grown files only).

    PATHS: transcript files (.jsonl or .jsonl.gz; a session's brings its subagents') or
    folders holding them at any depth (default: $CLAUDE_CONFIG_DIR/projects or
    ~/.claude/projects). Files that hold no transcript are named, with why.
    """
    store = open_store(store_location, write=True)
    show_bar = not as_json and sys.stderr.isatty()
    if show_bar:
        with Progress(
            TextColumn("[bold]Importing"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=console(stderr=True),
            transient=True,
        ) as bar:
            task = bar.add_task("import", total=None)

            def update(event: ImportProgress) -> None:
                bar.update(task, total=event.bytes_total or None, completed=event.bytes_done)

            report = import_transcripts(store, list(paths) or None, progress=update, redact=redact)
    else:
        report = import_transcripts(store, list(paths) or None, redact=redact)
    if as_json:
        echo_json(report.to_dict())
    else:
        click.echo(for_terminal(_summary(report)))
    _index_after(store, now=index_now, quiet=as_json)


def _index_after(store: SessionStore, *, now: bool, quiet: bool) -> None:
    """Index what the import stored of tool calls and subagents: here (``now``), or in a
    detached process at the lowest priority, so the import returns at once."""
    from claude_sessions.cli.indexing import index_with_progress, start_in_background

    if now:
        index_with_progress(store)
    elif start_in_background(store) and not quiet:
        click.echo("Tool calls and subagents are being indexed for search in the background.")
