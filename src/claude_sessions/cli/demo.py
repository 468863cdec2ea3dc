"""``claude-sessions demo``: the guided tour of query, continue, resume, fork, save and search."""

from __future__ import annotations

import tempfile
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape
from rich.panel import Panel

from claude_sessions.cli.terminal import for_terminal
from claude_sessions.cli.tour import Step, run_tour
from claude_sessions.store import SessionStore


@click.command("demo")
def demo() -> None:
    """Run the whole session flow on the real Claude Code CLI, step by step.

    Without ANTHROPIC_API_KEY it runs offline against the built-in fake
    Messages API, in a throw-away HOME; with the key it talks to Claude. What
    it saves goes to a new store in the temporary directory, kept for you to
    browse (claude-sessions serve).
    """
    console = Console()
    counter = iter(range(1, 100))

    def show(step: Step) -> None:
        lines = []
        if step.session_id:
            lines.append(f"[bold]session[/bold] {step.session_id}")
        if step.reply:
            lines.append(f"[bold]reply[/bold]   {escape(for_terminal(step.reply))}")
        lines.append(f"[dim]{escape(step.detail)}[/dim]")
        title = f"{next(counter)}. {step.title}"
        console.print(Panel("\n".join(lines), title=title, title_align="left"))

    where = Path(tempfile.mkdtemp(prefix="claude-sessions-demo-")) / "store"
    with SessionStore(where, cleanup_after_days=None) as store:
        run_tour(show, store=store)
    click.echo("Done: every step above ran the real CLI.")
    click.echo(for_terminal(f"Browse what it stored: claude-sessions serve --store {where} --open"))
