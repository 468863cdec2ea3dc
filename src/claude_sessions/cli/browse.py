"""Reading the store: ``list``, ``search``, ``show``, ``export``, ``tree``, ``stats``, ``path``."""

from __future__ import annotations

import itertools
import os
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.table import Table
from rich.text import Text

from claude_sessions.cli.common import (
    console,
    echo_json,
    echo_json_text,
    format_cost,
    json_option,
    open_store,
    redact_option,
    resolve_id,
    short_uuid,
    shown_store,
    stdout_is_terminal,
    store_option,
)
from claude_sessions.cli.filtering import filter_options
from claude_sessions.cli.terminal import for_terminal
from claude_sessions.model.filters import SessionFilter
from claude_sessions.store import SessionMetadata, SessionStore, cleanup_policy
from claude_sessions.store.criteria import GROUPINGS
from claude_sessions.views.costs import is_lower_bound, metadata_json
from claude_sessions.views.figures import figures_sources
from claude_sessions.views.titles import BLOCK, FORMATS, Renderer, session_title, snippet_spans

if TYPE_CHECKING:
    from rich.tree import Tree

    from claude_sessions.views.blocks import ActiveBlock
    from claude_sessions.views.figures import Bucket
    from claude_sessions.views.lineage import LineageNode

_TITLE_WIDTH = 60


def _one_line(text: str, width: int = _TITLE_WIDTH) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "\u2026"


def _when(moment: datetime) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M")


def _stored(text: str, style: str = "") -> Text:
    """Stored text as a rich cell: controls made visible, and ``Text`` reads no markup."""
    return Text(for_terminal(text), style=style)


def sessions_table(
    sessions: Sequence[SessionMetadata], shown_ids: Mapping[str, str], *, snippets: bool = False
) -> Table:
    """The sessions as a table, each id as ``shown_ids`` has it (its shortest unique prefix).
    The user column shows only when the sessions are not all one user's on one machine."""
    owners = {f"{m.user} on {m.machine}" for m in sessions}
    table = Table(show_edge=False, pad_edge=False, header_style="bold")
    table.add_column("ID", style="cyan", no_wrap=True)
    table.add_column("Updated", no_wrap=True)
    table.add_column("Model", no_wrap=True)
    if len(owners) > 1:
        table.add_column("User", no_wrap=True, max_width=32, overflow="ellipsis")
    table.add_column("Turns", justify="right")
    table.add_column("Cost", justify="right", no_wrap=True)
    table.add_column("Tags")
    table.add_column("Title")
    for metadata in sessions:
        title = _stored(_one_line(session_title(metadata)))
        if snippets and metadata.snippet:
            title.append("\n")
            if metadata.match_where:
                title.append_text(_stored(f"{metadata.match_where}: ", "italic"))
            for piece, is_match in snippet_spans(_one_line(metadata.snippet, 200)):
                title.append_text(_stored(piece, "bold yellow" if is_match else "dim"))
        owner = [_stored(f"{metadata.user} on {metadata.machine}")] if len(owners) > 1 else []
        table.add_row(
            _stored(shown_ids[metadata.session_id]),
            _when(metadata.updated_at),
            _stored(metadata.model or "-"),
            *owner,
            str(metadata.turns),
            format_cost(metadata.total_cost, lower_bound=is_lower_bound(metadata)),
            _stored(", ".join(metadata.tags)),
            title,
        )
    return table


def _print_sessions(
    store: SessionStore,
    sessions: Sequence[SessionMetadata],
    as_json: bool,
    *,
    snippets: bool = False,
) -> None:
    if as_json:
        echo_json([metadata_json(m) for m in sessions])
    elif not sessions:
        click.echo("No sessions.", err=True)
    else:
        shown_ids = store.unique_prefixes(m.session_id for m in sessions)
        console().print(sessions_table(sessions, shown_ids, snippets=snippets))


@click.command("list")
@click.option("--limit", type=click.IntRange(min=0), default=20, show_default=True)
@filter_options()
@store_option
@json_option
def list_command(
    limit: int, where: SessionFilter, store_location: str | None, as_json: bool
) -> None:
    """List stored sessions, most recently updated first (the options narrow them)."""
    store = open_store(store_location)
    _print_sessions(store, store.list_sessions(limit or None, where=where), as_json)


@click.command("search")
@filter_options(words=True)
@click.option("--limit", type=click.IntRange(min=0), default=50, show_default=True)
@store_option
@json_option
def search_command(
    where: SessionFilter, limit: int, store_location: str | None, as_json: bool
) -> None:
    """Find sessions by words in their messages (best match first; words common to very
    many sessions, newest first), tags, dates, cost, model, project or fork."""
    from claude_sessions.cli.indexing import catch_up_before_search

    store = open_store(store_location)
    catch_up_before_search(store, where)
    if not limit:
        _print_sessions(store, store.search(where, limit=None), as_json, snippets=True)
        return
    page = store.search_page(where, limit=limit)
    _print_sessions(store, page.sessions, as_json, snippets=True)
    if page.newest_first and not as_json:
        click.echo(NEWEST_FIRST_NOTE, err=True)


NEWEST_FIRST_NOTE = "Newest matches first: the words are common, so matches are not ranked."


@click.command("show")
@click.argument("session_id", metavar="ID")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option(
    "--uuids", is_flag=True, help="Show each message's uuid, to fork or resume at it (--at)."
)
@click.option(
    "--at",
    metavar="UUID",
    help="Only the messages around this one (a uuid or its start), as a search found it.",
)
@redact_option
@store_option
@json_option
def show_command(
    session_id: str,
    fmt: str,
    uuids: bool,
    at: str | None,
    redact: bool,
    store_location: str | None,
    as_json: bool,
) -> None:
    """Print the transcript of session ID (any unique prefix)."""
    store = shown_store(store_location, redact=redact)
    fmt = "json" if as_json else fmt
    if (uuids or at is not None) and fmt != "text":
        option = "--uuids" if uuids else "--at"
        raise click.UsageError(f"{option} goes with the text format (JSON holds every uuid)")
    found = resolve_id(store, session_id)
    if at is not None:
        from claude_sessions.views.render import text_lines_around

        lines = text_lines_around(store.load_session(found, subagents=True), at)
        if stdout_is_terminal():
            _print_coloured(lines)
        else:
            click.echo(for_terminal("\n".join(lines) + "\n"), nl=False)
        return
    from claude_sessions.views.render import export_session, text_lines

    if fmt == "text" and stdout_is_terminal():
        _print_coloured(text_lines(store.load_session(found, subagents=True), uuids=uuids))
        return
    html = _html_renderer(fmt)
    _echo_rendered(export_session(store, found, fmt, uuids=uuids, html=html), fmt)


# How a terminal shows the lines of a diff (see views.edits.diff_line_kind).
_LINE_STYLES = {
    "file": "bold",
    "hunk": "cyan",
    "added": "green",
    "removed": "red",
    "focus": "bold reverse",  # the message show --at asked for
}


def _print_coloured(lines: Sequence[str]) -> None:
    """Transcript lines on a terminal, made safe: a diff's lines coloured, a file written
    highlighted in its language."""
    shown = Text(no_wrap=True)
    for kind, run in itertools.groupby(lines, key=lambda line: getattr(line, "kind", "")):
        if kind.startswith("code:"):
            _append_code(shown, list(run), kind.removeprefix("code:"))
            continue
        for line in run:
            shown.append(for_terminal(line), _LINE_STYLES.get(kind, ""))
            shown.append("\n")
    console().print(shown, soft_wrap=True, end="")


def _append_code(shown: Text, run: list[str], language: str) -> None:
    """The lines of a file written, highlighted together (a comment may span lines)."""
    from rich.syntax import Syntax

    indent = getattr(run[0], "indent", 0)
    code = for_terminal("\n".join(line[indent:] for line in run))
    highlighted = Syntax(code, language, background_color="default").highlight(code)
    for part in highlighted.split("\n", allow_blank=True)[: len(run)]:
        shown.append(run[0][:indent])
        shown.append_text(part)
        shown.append("\n")


def _html_renderer(fmt: str) -> Renderer | None:
    """For HTML, the web app's session page as a file (its templates and styles); the
    web app loads only when HTML is asked for."""
    if fmt != "html":
        return None
    from claude_sessions.web.export import session_html

    return session_html


def _echo_rendered(text: str, fmt: str) -> None:
    """A rendered session on stdout: JSON escaped, the text format made safe, and so are
    Markdown and HTML on a terminal; in a pipe or a file they are as stored."""
    if fmt == "json":
        echo_json_text(text, nl=False)
    elif fmt == "text" or stdout_is_terminal():
        click.echo(for_terminal(text), nl=False)
    else:
        # Bytes, as export -o writes them; click writes bytes as given (it would
        # strip what looks like ANSI styling from text in a pipe).
        from claude_sessions.views.render import export_bytes

        click.echo(export_bytes(text), nl=False)


@click.command("export")
@click.argument("session_id", metavar="ID", required=False)
@click.option("--all", "everything", is_flag=True, help="Export every stored session.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["markdown", "json", "html"]),
    default="markdown",
    show_default=True,
)
@click.option(
    "--output",
    "-o",
    type=click.Path(),
    help="File to write (default: stdout); a directory with --all.",
)
@filter_options()
@redact_option
@store_option
@json_option
def export_command(
    session_id: str | None,
    everything: bool,
    fmt: str,
    output: str | None,
    where: SessionFilter,
    redact: bool,
    store_location: str | None,
    as_json: bool,
) -> None:
    """Export session ID, or with --all every session the options select, as Markdown,
    JSON or HTML."""
    if everything == (session_id is not None):
        raise click.UsageError("give either a session ID or --all")
    if session_id is not None and where != SessionFilter():
        raise click.UsageError("the filter options go with --all, not with an ID")
    from claude_sessions.views.render import export_all, export_session, write_export

    store = shown_store(store_location, redact=redact)
    if everything:
        if output is None:
            raise click.UsageError("--all needs --output DIRECTORY")
        written = export_all(store, output, fmt, where, html=_html_renderer(fmt))
        if as_json:
            echo_json([str(path) for path in written])
        else:
            click.echo(f"Exported {len(written)} session(s) to {output}", err=True)
        return
    assert session_id is not None
    text = export_session(store, resolve_id(store, session_id), fmt, html=_html_renderer(fmt))
    if output is None:
        _echo_rendered(text, fmt)
        return
    target = Path(output)
    if target.is_dir():
        raise click.UsageError(f"{output} is a directory: give a file name")
    write_export(target, text)
    if as_json:
        echo_json([str(target)])
    else:
        click.echo(f"Wrote {output}", err=True)


def _node_label(node: LineageNode, focus: str, shown_ids: Mapping[str, str]) -> Text:
    metadata = node.metadata
    label = _stored(
        shown_ids[metadata.session_id], "bold cyan" if node.session_id == focus else "cyan"
    )
    label.append(f"  {_when(metadata.updated_at)}  {metadata.turns} turns  ")
    label.append(format_cost(metadata.total_cost, lower_bound=is_lower_bound(metadata)))
    label.append_text(_stored(f"  {_one_line(session_title(metadata), 50)}", "dim"))
    if metadata.forked_at:
        label.append_text(_stored(f"  (branched at {short_uuid(metadata.forked_at)})", "yellow"))
    if node.session_id == focus:
        label.append("  \u25c0", style="bold")
    return label


@click.command("tree")
@click.argument("session_id", metavar="ID")
@store_option
@json_option
def tree_command(session_id: str, store_location: str | None, as_json: bool) -> None:
    """Show the fork family of session ID: its origin and every fork, as a tree."""
    store = open_store(store_location)
    from rich.tree import Tree  # only this command draws a tree

    from claude_sessions.views.lineage import fork_tree

    lineage = fork_tree(store, resolve_id(store, session_id))
    if as_json:
        echo_json(lineage.to_dict())
        return
    shown_ids = store.unique_prefixes(node.session_id for node in lineage.root.walk())
    top = Tree(_node_label(lineage.root, lineage.focus, shown_ids))
    if lineage.missing_origin:
        top = Tree(_stored(f"{lineage.missing_origin} (no longer stored)", "dim"))
        branch = top.add(_node_label(lineage.root, lineage.focus, shown_ids))
    else:
        branch = top

    def grow(tree: Tree, node: LineageNode) -> None:
        for child in node.children:
            grow(tree.add(_node_label(child, lineage.focus, shown_ids)), child)

    grow(branch, lineage.root)
    console().print(top)


def _bucket_table(name: str, buckets: Sequence[Bucket], limit: int = 15) -> Table:
    table = Table(title=f"By {name}", title_justify="left", show_edge=False, header_style="bold")
    table.add_column(name.capitalize())
    turns = "Requests" if name in ("model", BLOCK) else "Turns"
    for column in ("Sessions", turns, "Input", "Cache write", "Cache read", "Output", "Cost"):
        table.add_column(column, justify="right")
    for bucket in buckets[:limit]:
        table.add_row(
            _stored(bucket.key),
            str(bucket.sessions),
            str(bucket.turns),
            f"{bucket.uncached_input_tokens:,}",
            f"{bucket.cache_write_tokens:,}",
            f"{bucket.cache_read_tokens:,}",
            f"{bucket.output_tokens:,}",
            format_cost(bucket.cost, lower_bound=is_lower_bound(bucket)),
        )
    return table


def _active_line(active: ActiveBlock | None) -> str:
    if active is None:
        return "No active block: no request in the last 5 hours."
    block = active.block
    left = int(active.seconds_left // 60)
    line = (
        f"Active block since {block.key}: {format_cost(block.cost)}, "
        f"{block.input_tokens + block.output_tokens:,} tokens so far, "
        f"{left // 60}h {left % 60:02d}m left"
    )
    if active.cost_per_hour is None or active.projected_cost is None:
        return line + " (burn rate: after a second request)"
    return (
        f"{line}, burning {format_cost(active.cost_per_hour)}/h, "
        f"projected {format_cost(active.projected_cost)}"
    )


@click.command("stats")
@click.option(
    "--by",
    "groupings",
    multiple=True,
    type=click.Choice((*GROUPINGS, BLOCK)),
    help="Break down by this (repeatable; default: day, model, tag, project; block: "
    "5-hour usage blocks).",
)
@filter_options()
@click.option("--top", type=click.IntRange(min=0, max=1000), default=10, show_default=True)
@store_option
@json_option
def stats_command(
    groupings: tuple[str, ...],
    where: SessionFilter,
    top: int,
    store_location: str | None,
    as_json: bool,
) -> None:
    """Sessions, tokens and cost: totals, by period, model, tag, project, user or machine,
    and the most expensive sessions. Periods are those sessions were created in (UTC)."""
    from claude_sessions.views.budgets import budget_status  # only this command adds up
    from claude_sessions.views.stats import DEFAULT_BY, compute_stats

    store = open_store(store_location)
    stats = compute_stats(store, where, by=groupings or DEFAULT_BY, top=top)
    budgets = budget_status(store)
    if as_json:
        echo_json({**stats.to_dict(), "budgets": [state.to_dict() for state in budgets]})
        return
    out = console()
    total = format_cost(stats.total_cost, lower_bound=is_lower_bound(stats))
    out.print(
        f"[bold]{stats.sessions}[/bold] sessions, [bold]{stats.turns}[/bold] turns, "
        f"{stats.uncached_input_tokens:,} tokens in, "
        f"{stats.cache_write_tokens:,} cache writes, {stats.cache_read_tokens:,} cache reads, "
        f"{stats.output_tokens:,} out, total cost [bold]{total}[/bold]"
    )
    if stats.sessions:
        out.print(Text(figures_sources(stats.figures_from()), style="dim"))
    if stats.unpriced_sessions:
        out.print(
            f"[yellow]{stats.unpriced_sessions} session(s) used a model without a price: "
            "their cost is counted without it (claude-sessions prices)[/yellow]"
        )
    for state in budgets:
        colour = {"over": "bold red", "near": "yellow"}.get(state.level, "")
        out.print(Text(state.describe(), style=colour))
    policy = cleanup_policy()
    if policy.cleanup_after_days is not None:
        out.print(
            f"[dim]Cleanup moves sessions idle for {policy.cleanup_after_days:g} days to the "
            f"trash; sessions tagged {', '.join(policy.protected_tags)} are protected "
            "(claude-sessions path).[/dim]"
        )
    if not stats.sessions:
        return
    for name, buckets in stats.by.items():
        out.print()
        out.print(_bucket_table(name, buckets))
        if name == BLOCK:
            out.print(_active_line(stats.active_block))
    if stats.top:
        out.print()
        out.print("[bold]Most expensive sessions[/bold]")
        shown_ids = store.unique_prefixes(m.session_id for m in stats.top)
        out.print(sessions_table(stats.top, shown_ids))


@click.command("path")
@store_option
@json_option
def path_command(store_location: str | None, as_json: bool) -> None:
    """Print where the session store is (and, on stderr, what automatic cleanup does)."""
    store = open_store(store_location)
    policy = cleanup_policy()
    if as_json:
        echo_json({"location": store.location, "cleanup": policy.to_dict()})
        return
    # A script reads the location as the file system spells it; a terminal sees it made safe.
    click.echo(
        for_terminal(store.location) if stdout_is_terminal() else os.fsencode(store.location)
    )
    for line in policy.describe():
        click.echo(line, err=True)
