"""Keeping every session: ``hooks``, ``watch`` and ``write-back``."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, cast

import click

from claude_sessions.capture import hooks
from claude_sessions.capture.claude_config import Scope
from claude_sessions.cli.common import (
    echo_clis,
    echo_json,
    json_option,
    open_store,
    resolve_id,
    scope_option,
    store_option,
)
from claude_sessions.cli.terminal import for_terminal

if TYPE_CHECKING:
    from claude_sessions.capture.syncing import SyncStatus

_SCOPE = scope_option(
    "user: ~/.claude/settings.json, every project; project: .claude/settings.json here."
)
_TRANSCRIPTS = click.option(
    "--transcripts",
    "transcripts",
    multiple=True,
    metavar="DIR",
    type=click.Path(),  # never refused here: a hook that fails on its options breaks Claude Code
    help="Also capture transcripts under DIR (repeatable). Without it, only those under "
    "Claude Code's projects folder ($CLAUDE_CONFIG_DIR or ~/.claude) and the folders "
    "in $CLAUDE_SESSIONS_TRANSCRIPT_DIRS.",
)
_REDACT = click.option(
    "--redact",
    is_flag=True,
    help="Store each secret found as [REDACTED:rule]: the secret never reaches the store.",
)


@click.group("hooks")
def hooks_group() -> None:
    """Capture every turn: Claude Code hooks that copy each session into the store."""


_SERVER = click.option(
    "--server",
    metavar="URL",
    help="Also send each captured turn to this team server (`serve --auth`), with --token.",
)
_TOKEN = click.option(
    "--token",
    metavar="TOKEN",
    help="Your token on the team server (`claude-sessions users add` there gives it).",
)


@hooks_group.command("install")
@_SCOPE
@store_option
@_TRANSCRIPTS
@_REDACT
@_SERVER
@_TOKEN
@click.option("--no-server", is_flag=True, help="Stop sending captures to a team server.")
@json_option
def install_command(
    scope: str,
    store_location: str | None,
    transcripts: tuple[str, ...],
    redact: bool,
    server: str | None,
    token: str | None,
    no_server: bool,
    as_json: bool,
) -> None:
    """Add the capture hook (Stop, SubagentStop, PreCompact, SessionEnd) to Claude Code.

    Merged with the hooks already there; the previous file is backed up first. With
    --server and --token, each capture also sends the new turns to the team server; the
    URL and token are kept in a file only you may read, beside the store (never in
    Claude Code's settings).
    """
    kept = _keep_server(store_location, server, token, no_server)
    done = hooks.install(
        cast(Scope, scope), location=store_location, transcripts=transcripts, redact=redact
    )
    if as_json:
        echo_json({**done.to_dict(), "team_server": kept})
        return
    if kept is not None:
        click.echo(for_terminal(kept))
    where = for_terminal(str(done.path))
    if done.changed:
        click.echo(f"Installed the capture hook for {', '.join(hooks.EVENTS)} in {where}")
    else:
        click.echo(f"The capture hook was already installed in {where}")
    if done.backup:
        click.echo(f"Backup of the previous file: {for_terminal(str(done.backup))}")
    click.echo(f"Captures are logged to {for_terminal(str(hooks.log_path(store_location)))}")


def _keep_server(
    location: str | None, server: str | None, token: str | None, no_server: bool
) -> str | None:
    """Keep or forget the team server, before the hook is installed; says what it did."""
    from claude_sessions.capture import server_config

    if no_server and (server or token):
        raise click.UsageError("--no-server takes no --server or --token")
    if no_server:
        gone = server_config.remove(location)
        return "Captures go to no team server" + ("" if gone else " (none was set)")
    if (server is None) != (token is None):
        raise click.UsageError("--server and --token go together")
    if server is None or token is None:
        return None
    path = server_config.save(location, server, token)
    return f"Captures also go to {server_config.server_url(server)} (kept in {path}, mode 600)"


@hooks_group.command("uninstall")
@_SCOPE
@json_option
def uninstall_command(scope: str, as_json: bool) -> None:
    """Remove the capture hook (and nothing else) from Claude Code's settings."""
    done = hooks.uninstall(cast(Scope, scope))
    if as_json:
        echo_json(done.to_dict())
    elif done.changed:
        click.echo(f"Removed the capture hook from {for_terminal(str(done.path))}")
    else:
        click.echo(f"The capture hook was not installed in {for_terminal(str(done.path))}")


@hooks_group.command("status")
@store_option
@json_option
def status_command(store_location: str | None, as_json: bool) -> None:
    """Where the capture hook is installed, and what the last capture did."""
    from claude_sessions.runs.locate import installed_clis

    found, clis = hooks.status(store_location), installed_clis()
    server = _server_status(store_location)
    if as_json:
        team = server if isinstance(server, str) or server is None else server.to_dict()
        echo_json(
            {**found.to_dict(), "team_server": team, "claude_code": [c.to_dict() for c in clis]}
        )
        return
    for scope, events in (("user", found.user), ("project", found.project)):
        shown = ", ".join(events) if events else "not installed"
        click.echo(f"{scope:>8}: {shown}")
    click.echo(f"     log: {for_terminal(str(found.log))}")
    click.echo(f"    last: {for_terminal(found.last or '(no capture yet)')}")
    if isinstance(server, str):
        click.echo(f"  server: {for_terminal(server)}")
    elif server is not None:
        for line in server.lines():
            click.echo(for_terminal(line))
    echo_clis(clis)


def _server_status(location: str | None) -> SyncStatus | str | None:
    """The team server's backlog and last send (``None``: no server; text: why the
    kept settings are not used)."""
    from claude_sessions.capture import server_config
    from claude_sessions.capture.syncing import sync_status
    from claude_sessions.model.exceptions import InvalidInputError

    try:
        config = server_config.load(location)
    except InvalidInputError as error:
        return str(error)
    return None if config is None else sync_status(open_store(location), config.url)


@hooks_group.command("capture")
@store_option
@_TRANSCRIPTS
@_REDACT
def capture_command(store_location: str | None, transcripts: tuple[str, ...], redact: bool) -> None:
    """Import the transcript named by a hook's JSON on stdin (Claude Code runs this).

    Only a .jsonl transcript under Claude Code's projects folder or a folder named
    with --transcripts; when another capture or an import is reading it, this one
    leaves it to them. Always exits 0, so it can never break Claude Code; what it
    did, or what went wrong, is logged (see `hooks status`).
    """
    hooks.capture(sys.stdin, store_location, transcripts=transcripts, redact=redact)


@click.command("watch")
@click.argument("directory", required=False, type=click.Path(file_okay=False))
@click.option(
    "--debounce",
    type=click.FloatRange(min=0.05, max=60),
    default=1.0,
    show_default=True,
    help="Seconds of quiet before changed transcripts are imported.",
)
@store_option
def watch_command(directory: str | None, debounce: float, store_location: str | None) -> None:
    """Import transcripts as Claude Code writes them, until Ctrl-C (an alternative to hooks).

    DIRECTORY: what to watch (default: $CLAUDE_CONFIG_DIR/projects or ~/.claude/projects).
    """
    from claude_sessions.capture.watch import watch
    from claude_sessions.cli.common import console

    store = open_store(store_location, write=True)
    out = console(stderr=True)
    last = "nothing imported"
    try:
        with out.status("Importing what is there…") as status:
            for state in watch(store, directory, debounce=debounce):
                last = state.line()
                if out.is_terminal:
                    status.update(for_terminal(last))
                else:  # a log, not a terminal: one line per import
                    click.echo(for_terminal(last), err=True)
    except KeyboardInterrupt:  # each batch is its own transaction: nothing is half-done
        click.echo(for_terminal(f"Stopped. {last}"), err=True)
        raise


@click.command("write-back")
@click.argument("session_id", metavar="ID")
@click.option(
    "--config-dir",
    type=click.Path(file_okay=False),
    help="Claude Code's config directory (default: $CLAUDE_CONFIG_DIR or ~/.claude).",
)
@click.option(
    "--cwd",
    type=click.Path(file_okay=False),
    help="The project's directory on this machine (default: the one the session ran in); "
    "each entry's cwd is moved there.",
)
@click.option("--force", is_flag=True, help="Replace a shorter transcript already on disk.")
@store_option
@json_option
def write_back_command(
    session_id: str,
    config_dir: str | None,
    cwd: str | None,
    force: bool,
    store_location: str | None,
    as_json: bool,
) -> None:
    """Write stored session ID back as a Claude Code transcript, so `claude --resume` finds it.

    With --cwd, for a project that lives in another directory on this machine
    (the session was captured on another machine, or the project moved).
    """
    from claude_sessions.capture.write_back import write_back

    store = open_store(store_location)
    done = write_back(
        store, resolve_id(store, session_id), config_dir=config_dir, cwd=cwd, force=force
    )
    if as_json:
        echo_json(done.to_dict())
        return
    click.echo(
        for_terminal(
            f"Wrote {done.session_id} back: {done.entries} entries to {done.path}"
            + (f" and {len(done.subagents)} subagent transcript(s)" if done.subagents else "")
        )
    )
    if done.moved_from and cwd is not None:
        here = os.path.abspath(os.path.expanduser(cwd))
        click.echo(for_terminal(f"Each entry's cwd moved from {done.moved_from} to {here}"))
    click.echo(for_terminal(f"Resume it with: claude --resume {done.session_id}"))
