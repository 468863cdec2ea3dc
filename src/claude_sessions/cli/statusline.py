"""Claude Code's status line: ``statusline`` (Claude Code runs it), ``install``, ``uninstall``.

Only what the line itself needs is imported at start: Claude Code runs it
after every reply.
"""

from __future__ import annotations

import os
import sys
from typing import cast

import click

from claude_sessions.capture import status_line
from claude_sessions.capture.claude_config import Scope
from claude_sessions.cli.common import echo_json, json_option, scope_option, store_option
from claude_sessions.cli.terminal import for_terminal

_SCOPE = scope_option(
    "user: ~/.claude/settings.json, every project; project: .claude/settings.json here."
)


@click.group("statusline", invoke_without_command=True)
@store_option
@click.option(
    "--no-color", is_flag=True, help="Plain text (also when $NO_COLOR is set or TERM=dumb)."
)
@click.pass_context
def statusline_group(ctx: click.Context, store_location: str | None, no_color: bool) -> None:
    """Print Claude Code's status line from its JSON on stdin (Claude Code runs this).

    The model, this session's cost, today's cost, the active 5-hour block and
    the budgets past 80% or spent. Always exits 0: whatever it cannot find, it
    leaves out. `statusline install` makes it Claude Code's status line.
    """
    if ctx.invoked_subcommand is not None:
        return
    plain = no_color or bool(os.environ.get("NO_COLOR")) or os.environ.get("TERM") == "dumb"
    click.echo(status_line.render(sys.stdin, store_location, colour=not plain), color=not plain)


@statusline_group.command("install")
@_SCOPE
@store_option
@json_option
def install_command(scope: str, store_location: str | None, as_json: bool) -> None:
    """Make `claude-sessions statusline` Claude Code's status line.

    Any other status line setting is replaced; the previous file is backed up first.
    """
    done = status_line.install(cast(Scope, scope), location=store_location)
    if as_json:
        echo_json(done.to_dict())
        return
    where = for_terminal(str(done.path))
    if done.changed:
        click.echo(f"Installed the status line in {where}")
    else:
        click.echo(f"The status line was already installed in {where}")
    if done.backup:
        click.echo(f"Backup of the previous file: {for_terminal(str(done.backup))}")


@statusline_group.command("uninstall")
@_SCOPE
@json_option
def uninstall_command(scope: str, as_json: bool) -> None:
    """Remove our status line (another one is left alone) from Claude Code's settings."""
    done = status_line.uninstall(cast(Scope, scope))
    if as_json:
        echo_json(done.to_dict())
    elif done.changed:
        click.echo(f"Removed the status line from {for_terminal(str(done.path))}")
    else:
        click.echo(f"Our status line was not installed in {for_terminal(str(done.path))}")
