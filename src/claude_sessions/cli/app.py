"""The command group, shared options and error handling.

Each command lives in a module of this package and calls one library
function; library errors become a one-line message and a non-zero exit.
"""

from __future__ import annotations

import signal
from collections.abc import Sequence
from types import FrameType

import click

from .. import __version__
from ..exceptions import AmbiguousSessionIdError, ClaudeSessionsError, SessionNotFoundError
from ..terminal import for_terminal

# Exit codes: 1 for a failed operation, 2 for bad input (click's own usage code).
EXIT_FAILURE = 1
EXIT_USAGE = 2


class ErrorHandlingGroup(click.Group):
    """Turns library exceptions into ``Error: ...`` on stderr and an exit code."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except (SessionNotFoundError, AmbiguousSessionIdError, ValueError) as exc:
            raise _fail(exc, EXIT_USAGE) from exc
        except ClaudeSessionsError as exc:
            raise _fail(exc, EXIT_FAILURE) from exc


def _fail(exc: Exception, code: int) -> click.exceptions.Exit:
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    click.echo(f"Error: {for_terminal(message)}", err=True)
    return click.exceptions.Exit(code)


@click.group(cls=ErrorHandlingGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="claude-sessions")
def cli() -> None:
    """Query, continue, resume and fork Claude Code sessions, and keep them searchable."""


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    """End the command by unwinding, as Ctrl-C does, so cleanup runs and stops the CLI child."""
    raise SystemExit(128 + signum)


def main(argv: Sequence[str] | None = None) -> None:
    # Only the command line does this: the library installs no signal handlers.
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    cli.main(args=list(argv) if argv is not None else None, prog_name="claude-sessions")
