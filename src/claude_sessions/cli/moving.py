"""``move``: a project that moved to another directory keeps its sessions."""

from __future__ import annotations

import click

from claude_sessions.cli.common import echo_json, existing_store, json_option, store_option
from claude_sessions.cli.terminal import for_terminal


@click.command("move")
@click.argument("old_dir", type=click.Path(file_okay=False))
@click.argument("new_dir", type=click.Path(file_okay=False))
@click.option("--dry-run", is_flag=True, help="Change nothing: print what would change.")
@click.option(
    "--config-dir",
    type=click.Path(file_okay=False),
    help="Claude Code's config directory (default: $CLAUDE_CONFIG_DIR or ~/.claude).",
)
@store_option
@json_option
def move_command(
    old_dir: str,
    new_dir: str,
    dry_run: bool,
    config_dir: str | None,
    store_location: str | None,
    as_json: bool,
) -> None:
    """Move the sessions of the project at OLD_DIR to NEW_DIR, where it lives now.

    Claude Code's transcript folder for the project is re-keyed and each entry's cwd
    rewritten, so `claude --resume` finds them in NEW_DIR; the store's sessions follow.
    Never overwrites; the old folder is backed up first.
    """
    from claude_sessions.capture.project_move import move_project

    done = move_project(
        old_dir,
        new_dir,
        store=existing_store(store_location),
        config_dir=config_dir,
        dry_run=dry_run,
    )
    if as_json:
        echo_json(done.to_dict())
        return
    plan, would = done.files, "Would move" if dry_run else "Moved"
    if plan.backup is not None:
        click.echo(for_terminal(f"Backup of {plan.source}: {plan.backup}"))
    click.echo(
        for_terminal(f"{would} {len(plan.files)} file(s) from {plan.source} to {plan.target}")
    )
    for moved in plan.files:
        note = " (already there)" if moved.already_there else ""
        relative = moved.target.relative_to(plan.target)
        click.echo(
            for_terminal(f"  {relative}: cwd rewritten in {moved.entries_rewritten} entries{note}")
        )
    if done.stored is not None:
        count, ids = len(done.stored.session_ids), ", ".join(done.stored.session_ids) or "none"
        verb = "would be re-keyed" if dry_run else "re-keyed"
        click.echo(for_terminal(f"Store: {count} session(s) {verb} to {plan.new_dir}: {ids}"))
    if dry_run:
        click.echo("Dry run: nothing was changed.")
