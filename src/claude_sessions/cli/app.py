"""The command group, shared options and error handling.

Each command lives in a module of this package and calls one library
function; library errors become a one-line message and a non-zero exit.
"""

from __future__ import annotations

import logging
import signal
from collections.abc import Sequence
from types import FrameType

import click

from .. import __version__
from ..exceptions import (
    AmbiguousSessionIdError,
    ClaudeSessionsError,
    InvalidInputError,
    SessionNotFoundError,
)
from ..terminal import for_terminal

# Exit codes: 1 for a failed operation, 2 for bad input (click's own usage code).
EXIT_FAILURE = 1
EXIT_USAGE = 2


class ErrorHandlingGroup(click.Group):
    """Turns the project's exceptions into ``Error: ...`` on stderr and an exit code.

    Bad input (an invalid id or query, an unknown or ambiguous session) exits
    2, any other failure 1. Anything else is a bug and keeps its traceback.
    """

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:  # a command's arguments: one line like the rest
            raise _fail(_UsageLineError(exc), EXIT_USAGE) from exc
        except (InvalidInputError, SessionNotFoundError, AmbiguousSessionIdError) as exc:
            raise _fail(exc, EXIT_USAGE) from exc
        except ClaudeSessionsError as exc:
            raise _fail(exc, EXIT_FAILURE) from exc


class _UsageLineError(Exception):
    """A click usage error as one line, with where to look for help."""

    def __init__(self, error: click.UsageError) -> None:
        name = error.ctx.command_path if error.ctx is not None else "claude-sessions"
        super().__init__(f"{error.format_message()} (see {name} --help)")


def _fail(exc: Exception, code: int) -> click.exceptions.Exit:
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    click.echo(f"Error: {for_terminal(message)}", err=True)
    return click.exceptions.Exit(code)


@click.group(cls=ErrorHandlingGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="claude-sessions")
@click.option(
    "--read-only",
    is_flag=True,
    help="Open the store read-only: nothing is written, no automatic cleanup.",
)
@click.pass_context
def cli(ctx: click.Context, read_only: bool) -> None:
    """Query, continue, resume and fork Claude Code sessions, and keep them searchable."""
    ctx.obj = {"read_only": read_only}
    _show_store_notices()


class _Notices(logging.Handler):
    """Log records as one line each on the command's stderr (looked up at each record)."""

    def emit(self, record: logging.LogRecord) -> None:
        click.echo(self.format(record), err=True)


def _show_store_notices() -> None:
    """The store's notices (what automatic cleanup moved) on stderr."""
    logger = logging.getLogger("claude_sessions.store")
    if not any(isinstance(handler, _Notices) for handler in logger.handlers):
        logger.addHandler(_Notices())
    logger.setLevel(logging.INFO)


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    """End the command by unwinding, as Ctrl-C does, so cleanup runs and stops the CLI child."""
    raise SystemExit(128 + signum)


def main(argv: Sequence[str] | None = None) -> None:
    # Only the command line does this: the library installs no signal handlers.
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    cli.main(args=list(argv) if argv is not None else None, prog_name="claude-sessions")
