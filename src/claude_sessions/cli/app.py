"""The command group, shared options and error handling.

Each command lives in a module of this package and calls one library
function; library errors become a one-line message and a non-zero exit.
"""

from __future__ import annotations

import contextlib
import copy
import errno
import importlib
import logging
import os
import signal
import sys
from collections.abc import Sequence
from types import FrameType
from typing import NoReturn

import click

from claude_sessions import __version__
from claude_sessions.cli.terminal import for_terminal
from claude_sessions.model.exceptions import (
    AmbiguousSessionIdError,
    ClaudeSessionsError,
    InvalidInputError,
    SessionNotFoundError,
)

# Exit codes: 1 for a failed operation, 2 for bad input (click's own usage code).
EXIT_FAILURE = 1
EXIT_USAGE = 2


# Each command's module, imported only when that command runs: a command starts in
# the time its own imports take (``--version`` imports none of them).
COMMANDS = {
    "query": "run:query_command",
    "continue": "run:continue_command",
    "resume": "run:resume_command",
    "fork": "run:fork_command",
    "list": "browse:list_command",
    "search": "browse:search_command",
    "show": "browse:show_command",
    "export": "browse:export_command",
    "tree": "browse:tree_command",
    "stats": "browse:stats_command",
    "path": "browse:path_command",
    "tag": "manage:tag_command",
    "describe": "manage:describe_command",
    "delete": "manage:delete_command",
    "cleanup": "manage:cleanup_command",
    "import": "manage:import_command",
    "index": "indexing:index_command",
    "trash": "trash:trash_group",
    "hooks": "capture:hooks_group",
    "watch": "capture:watch_command",
    "write-back": "capture:write_back_command",
    "move": "moving:move_command",
    "sync": "team_sync:sync_command",
    "copy": "copy:copy_command",
    "prices": "prices:prices_command",
    "budget": "budget:budget_group",
    "users": "users:users_group",
    "share": "team:share_command",
    "audit": "team:audit_command",
    "secrets": "secrets:secrets_group",
    "statusline": "statusline:statusline_group",
    "mcp": "mcp:mcp_group",
    "serve": "serve:serve_command",
    "demo": "demo:demo",
}
# Former names, kept so that users' scripts go on working: hidden from the help, and
# each says on stderr which command to use instead.
DEPRECATED = {"restore": "write-back", "migrate": "copy"}


class ErrorHandlingGroup(click.Group):
    """Finds commands lazily (:data:`COMMANDS`) and turns the project's exceptions into
    ``Error: ...`` on stderr and an exit code.

    Bad input (an invalid id or query, an unknown or ambiguous session) exits
    2, any other failure 1, and so does an error of the system (``OSError``:
    a full disk, a file that exists); a closed pipe ends the command quietly.
    Anything else is a bug and keeps its traceback.
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in DEPRECATED:
            current = self.get_command(ctx, DEPRECATED[cmd_name])
            return _deprecated_alias(cmd_name, current) if current is not None else None
        if cmd_name not in COMMANDS:
            return super().get_command(ctx, cmd_name)
        module, name = COMMANDS[cmd_name].split(":")
        command: click.Command = getattr(importlib.import_module(f"{__package__}.{module}"), name)
        return command

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:  # a command's arguments: one line like the rest
            raise _fail(_UsageLineError(exc), EXIT_USAGE) from exc
        except (InvalidInputError, SessionNotFoundError, AmbiguousSessionIdError) as exc:
            raise _fail(exc, EXIT_USAGE) from exc
        except ClaudeSessionsError as exc:
            raise _fail(exc, EXIT_FAILURE) from exc
        except OSError as exc:
            if exc.errno == errno.EPIPE:
                raise  # the reader has gone: click exits 1 without a word
            _drop_unwritable_output()
            raise _fail(_SystemLineError(exc), EXIT_FAILURE) from exc
        except KeyboardInterrupt:  # Ctrl-C or SIGTERM (see main): cleanup ran on the way here
            signum = _stopped_by[-1] if _stopped_by else signal.SIGINT
            raise click.exceptions.Exit(128 + signum) from None


def _deprecated_alias(old_name: str, command: click.Command) -> click.Command:
    """``command`` under its former name: hidden, and saying which name to use now."""
    run = command.callback

    def warn_then_run(*args: object, **kwargs: object) -> object:
        click.echo(
            f"claude-sessions {old_name} is deprecated: use claude-sessions {command.name}",
            err=True,
        )
        return run(*args, **kwargs) if run is not None else None

    alias = copy.copy(command)
    alias.name, alias.hidden, alias.callback = old_name, True, warn_then_run
    alias.help = f"Deprecated: use `claude-sessions {command.name}`."
    return alias


class _UsageLineError(Exception):
    """A click usage error as one line, with where to look for help."""

    def __init__(self, error: click.UsageError) -> None:
        name = error.ctx.command_path if error.ctx is not None else "claude-sessions"
        super().__init__(f"{error.format_message()} (see {name} --help)")


class _SystemLineError(Exception):
    """An ``OSError`` as one line: the file it names, if any, and what went wrong."""

    def __init__(self, error: OSError) -> None:
        reason = error.strerror or str(error)
        super().__init__(f"{error.filename}: {reason}" if error.filename else reason)


def _drop_unwritable_output() -> None:
    """Send stdout to /dev/null if it holds output it cannot write (a full disk).

    Python writes what stdout holds when it exits: otherwise the same error would
    come again there, as a second message and exit status 120.
    """
    if sys.stdout is None:  # started with stdout closed: click writes nothing
        return
    try:
        sys.stdout.flush()
    except OSError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


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


# The signals that stopped the command, for its exit code (130 for SIGINT, 143 for SIGTERM).
_stopped_by: list[int] = []


def _stop(signum: int, frame: FrameType | None) -> None:
    """End the command by unwinding, as Ctrl-C does, so cleanup runs (the store's
    transaction rolls back, a CLI child is stopped).

    Both signals raise KeyboardInterrupt: the store's SQLite driver turns a
    statement stopped by one back into KeyboardInterrupt (the sqlite3 module drops
    whatever a handler raised inside a statement), so the signal is kept here.
    """
    _stopped_by.append(signum)
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> None:
    # Only the command line does this: the library installs no signal handlers.
    signal.signal(signal.SIGTERM, _stop)
    if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:  # nohup and `&` ignore it
        signal.signal(signal.SIGINT, _stop)
    try:
        cli.main(args=list(argv) if argv is not None else None, prog_name="claude-sessions")
    except SystemExit as done:
        if _stopped_by:
            _exit_now(done.code)
        raise


def _exit_now(code: object) -> NoReturn:
    """End a command a signal stopped, its cleanup done, with its exit code, at once.

    Python's own exit would wait for threads that may be stuck in a blocking
    call, and it exits by SIGINT instead of the code when the interrupt passed
    through code run by ``exec`` on its way (a dataclass being made, say).
    """
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code if isinstance(code, int) else EXIT_FAILURE)
