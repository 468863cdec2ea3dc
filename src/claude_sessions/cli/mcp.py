"""``mcp``: serve the store to Claude over the Model Context Protocol, and register it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, cast

import click
from click.core import ParameterSource

from claude_sessions.cli.common import (
    echo_clis,
    echo_json,
    json_option,
    scope_option,
    stdin_is_terminal,
    store_option,
)
from claude_sessions.cli.terminal import for_terminal
from claude_sessions.model.exceptions import ClaudeSessionsError
from claude_sessions.store import SessionStore

if TYPE_CHECKING:
    from claude_sessions.capture.claude_config import Scope

_SCOPE = scope_option(
    "user: ~/.claude.json, for all your projects; project: .mcp.json here, to share."
)
_ALLOW_WRITE = click.option(
    "--allow-write",
    is_flag=True,
    help="Also offer tag_session and describe_session (nothing ever deletes).",
)


@click.group("mcp", invoke_without_command=True)
@store_option
@_ALLOW_WRITE
@click.option(
    "--redact/--no-redact",
    default=True,
    show_default=True,
    help="Replace each secret found with [REDACTED:rule] in what Claude reads.",
)
@click.pass_context
def mcp_group(
    ctx: click.Context, store_location: str | None, allow_write: bool, redact: bool
) -> None:
    """Serve the session store over MCP on stdin/stdout, so Claude can search its history.

    Claude Code starts this itself once registered: see `mcp install`. The
    store opens read-only unless --allow-write.
    """
    if ctx.invoked_subcommand is not None:
        if any(
            ctx.get_parameter_source(name) == ParameterSource.COMMANDLINE
            for name in ("store_location", "allow_write", "redact")
        ):
            raise click.UsageError(
                f"put --store, --allow-write and --no-redact after '{ctx.invoked_subcommand}'"
            )
        return
    if allow_write and (ctx.find_root().obj or {}).get("read_only"):
        raise click.UsageError("--allow-write contradicts --read-only")
    from claude_sessions.mcp.server import run_stdio

    if stdin_is_terminal():
        click.echo(
            "Serving MCP on stdin/stdout; Claude Code starts this itself once registered "
            "(claude-sessions mcp install). Ctrl-C stops.",
            err=True,
        )
    run_stdio(store_location, allow_write=allow_write, redact=redact)


@mcp_group.command("install")
@_SCOPE
@store_option
@_ALLOW_WRITE
@json_option
def install_command(
    scope: str, store_location: str | None, allow_write: bool, as_json: bool
) -> None:
    """Register the server with Claude Code (as `claude mcp add` does)."""
    from claude_sessions.capture.claude_config import trusted_folder
    from claude_sessions.mcp.install import install
    from claude_sessions.runs.locate import installed_clis

    done = install(cast("Scope", scope), location=store_location, allow_write=allow_write)
    trusted, clis = trusted_folder(), installed_clis()
    if as_json:
        echo_json(
            {
                **done.to_dict(),
                "trusted_folder": str(trusted) if trusted else None,
                "claude_code": [found.to_dict() for found in clis],
            }
        )
    else:
        where = for_terminal(str(done.path))
        click.echo(
            f"{'Registered' if done.changed else 'Already registered'} claude-sessions in {where}"
        )
        if done.backup:
            click.echo(f"Backup of the previous file: {for_terminal(str(done.backup))}")
        click.echo(_trust_note(trusted))
        echo_clis(clis)
    _check_store(store_location)


def _trust_note(trusted: Path | None) -> str:
    rule = "Claude Code checks and starts MCP servers only in folders you trust"
    if trusted is None:
        return f"{rule}: run `claude` here once and accept, to trust this one."
    return f"{rule}: this one is trusted (through {for_terminal(str(trusted))})."


def _check_store(location: str | None) -> None:
    """Warn when the server could not open the store yet (as it will: read-only)."""
    try:
        SessionStore(location, read_only=True).close()
    except ClaudeSessionsError as error:
        click.echo(
            f"Warning: the server cannot open the store yet: {for_terminal(str(error))}", err=True
        )


@mcp_group.command("uninstall")
@_SCOPE
@json_option
def uninstall_command(scope: str, as_json: bool) -> None:
    """Remove the server from Claude Code's configuration (and nothing else)."""
    from claude_sessions.mcp.install import uninstall

    done = uninstall(cast("Scope", scope))
    if as_json:
        echo_json(done.to_dict())
    elif done.changed:
        click.echo(f"Removed claude-sessions from {for_terminal(str(done.path))}")
    else:
        click.echo(f"claude-sessions was not registered in {for_terminal(str(done.path))}")
