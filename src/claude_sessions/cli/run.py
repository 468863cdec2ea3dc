"""``query``, ``continue``, ``resume`` and ``fork``: run the CLI and stream the answer."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import click

from claude_sessions.cli.common import (
    F,
    echo_json,
    existing_store,
    json_option,
    open_store,
    resolve_or_pass,
    stdin_is_terminal,
    store_option,
)
from claude_sessions.cli.terminal import for_terminal
from claude_sessions.importer.discovery import has_local_transcript, local_transcript
from claude_sessions.model.message import Message
from claude_sessions.model.session import Session
from claude_sessions.runs.options import Options
from claude_sessions.runs.run import continue_conversation, fork, query, resume
from claude_sessions.store import SessionStore

if TYPE_CHECKING:
    from claude_sessions.capture.write_back import WrittenBack


def run_options(function: F) -> F:
    """The options every run command takes."""
    decorators: list[Callable[[Any], Any]] = [
        click.option("--model", help="Model to use (e.g. sonnet, opus, or a full model id)."),
        click.option(
            "--max-turns",
            type=click.IntRange(min=1),
            help="Stop after this many API requests (the CLI's --max-turns).",
        ),
        click.option(
            "--timeout",
            type=click.FloatRange(min=0, min_open=True),
            metavar="SECONDS",
            help="Stop the CLI and fail if the run takes longer than this.",
        ),
        click.option(
            "--cwd",
            type=click.Path(exists=True, file_okay=False),
            help="Working directory of the session (default: the current one).",
        ),
        click.option("--save", is_flag=True, help="Save the session into the store."),
        click.option(
            "--tag", "tags", multiple=True, metavar="TAG", help="Tag to save with (repeatable)."
        ),
        click.option("--description", help="Description to save with."),
        store_option,
        json_option,
    ]
    for decorator in reversed(decorators):
        function = decorator(function)
    return function


def read_prompt(prompt: str | None, *, required: bool) -> str | None:
    """The prompt argument; ``-`` (or no argument with stdin not a terminal) reads stdin."""
    if prompt == "-" or (prompt is None and not stdin_is_terminal()):
        text = sys.stdin.read() if sys.stdin is not None else ""
        if text.strip():
            return text.rstrip("\n")
        if prompt == "-" or required:
            raise click.UsageError("no prompt: stdin was empty")
        return None
    if prompt is None and required:
        raise click.UsageError("give a PROMPT argument, or pipe the prompt on stdin")
    return prompt


def build_options(
    model: str | None, max_turns: int | None, timeout: float | None, cwd: str | None
) -> Options:
    return Options(
        model=model,
        max_turns=max_turns,
        timeout=timeout,
        cwd=cwd,
        include_partial_messages=True,
        raise_on_error=True,
    )


def stream(messages: Iterator[Message], *, as_json: bool) -> None:
    """Print assistant text as it arrives, then the session id (on stderr)."""
    seen: list[Message] = []
    streamed = False  # text deltas printed for the assistant message under way
    printed_any = False
    last_char = "\n"

    def write(text: str) -> None:
        nonlocal printed_any, last_char
        text = for_terminal(text)
        if not text:
            return
        if printed_any and not streamed and last_char != "\n":
            click.echo("")
        click.echo(text, nl=False)
        printed_any = True
        last_char = text[-1]

    for message in messages:
        seen.append(message)
        if as_json:
            continue
        if message.type == "stream_event":
            event = message.get("event") or {}
            delta = event.get("delta") if isinstance(event, dict) else None
            if isinstance(delta, dict) and delta.get("type") == "text_delta":
                text = delta.get("text")
                if isinstance(text, str):
                    write(text)
                    streamed = True
        elif message.is_assistant:
            if not streamed:
                write(message.text)
            streamed = False
    session_id = Session.extract_session_id(seen)
    if as_json:
        result = next((m for m in reversed(seen) if m.is_result), None)
        echo_json(
            {
                "session_id": session_id,
                "result": result.text if result else None,
                "total_cost_usd": Session.calculate_cost(seen),
                "turns": Session.count_turns(seen),
                "model": Session.extract_model(seen),
                "is_error": bool(result and result.is_error),
            }
        )
        return
    if printed_any and last_char != "\n":
        click.echo("")
    if session_id:
        click.echo(f"session: {session_id}", err=True)


def _store_for_saving(save: bool, location: str | None) -> SessionStore | None:
    return open_store(location, write=True) if save else None


def _run(
    call: Callable[..., Iterator[Message]],
    *args: Any,
    store: SessionStore | None,
    tags: tuple[str, ...],
    description: str | None,
    as_json: bool,
) -> None:
    if (tags or description) and store is None:
        raise click.UsageError("--tag and --description need --save")
    messages = call(*args, store=store, tags=list(tags) or None, description=description)
    stream(messages, as_json=as_json)


@click.command("query")
@click.argument("prompt", required=False)
@run_options
def query_command(
    prompt: str | None,
    model: str | None,
    max_turns: int | None,
    timeout: float | None,
    cwd: str | None,
    save: bool,
    tags: tuple[str, ...],
    description: str | None,
    store_location: str | None,
    as_json: bool,
) -> None:
    """Start a new session with PROMPT (or the prompt piped on stdin)."""
    text = read_prompt(prompt, required=True)
    assert text is not None
    _run(
        query,
        text,
        build_options(model, max_turns, timeout, cwd),
        store=_store_for_saving(save, store_location),
        tags=tags,
        description=description,
        as_json=as_json,
    )


@click.command("continue")
@click.argument("prompt", required=False)
@run_options
def continue_command(
    prompt: str | None,
    model: str | None,
    max_turns: int | None,
    timeout: float | None,
    cwd: str | None,
    save: bool,
    tags: tuple[str, ...],
    description: str | None,
    store_location: str | None,
    as_json: bool,
) -> None:
    """Continue the most recent session of the working directory."""
    _run(
        continue_conversation,
        read_prompt(prompt, required=False),
        build_options(model, max_turns, timeout, cwd),
        store=_store_for_saving(save, store_location),
        tags=tags,
        description=description,
        as_json=as_json,
    )


def _resume_target(session_id: str, save: bool, location: str | None) -> tuple[str, Any]:
    """The full session id and the store to pass (for saving, or to resume from the store)."""
    store = open_store(location, write=True) if save else existing_store(location)
    resolved = resolve_or_pass(store, session_id)
    if store is not None and not save:
        stored = store.get_metadata(resolved) is not None
        if not (stored and not has_local_transcript(resolved, {})):
            store = None  # only a session the CLI lost is resumed (and so saved) from the store
    return resolved, store


def _run_from(
    function: Any,
    session_id: str,
    prompt: str | None,
    options: Options,
    *,
    save: bool,
    store_location: str | None,
    tags: tuple[str, ...],
    description: str | None,
    as_json: bool,
    at: str | None = None,
) -> None:
    """``resume`` or ``fork`` from session ID: the body both commands share."""
    text = read_prompt(prompt, required=False)
    resolved, store = _resume_target(session_id, save, store_location)
    if at is not None:
        from claude_sessions.views.lineage import branch_point

        known = store if store is not None else existing_store(store_location)
        env = options.env
        options = options.replace(
            resume_session_at=branch_point(
                resolved,
                at,
                store=known,
                local_transcript=lambda sid: local_transcript(sid, env),
            )
        )
    _run(
        function,
        resolved,
        text,
        options,
        store=store,
        tags=tags,
        description=description,
        as_json=as_json,
    )


def _write_back_here(
    session_id: str, save: bool, location: str | None, cwd: str | None
) -> tuple[SessionStore, WrittenBack] | None:
    """The store and what was written back, when session ID had to be written back here."""
    from claude_sessions.capture.resume_here import write_back_for_resume

    store = open_store(location, write=True) if save else existing_store(location)
    if store is None:
        return None
    resolved = resolve_or_pass(store, session_id)
    written = write_back_for_resume(store, resolved, cwd=cwd)
    if written is not None:
        click.echo(for_terminal(f"Wrote {resolved} back from the store: {written.path}"), err=True)
    return (store, written) if written is not None else None


@click.command("resume")
@click.argument("session_id", metavar="ID")
@click.argument("prompt", required=False)
@run_options
def resume_command(
    session_id: str,
    prompt: str | None,
    model: str | None,
    max_turns: int | None,
    timeout: float | None,
    cwd: str | None,
    save: bool,
    tags: tuple[str, ...],
    description: str | None,
    store_location: str | None,
    as_json: bool,
) -> None:
    """Resume session ID (any unique prefix of a stored id) with PROMPT.

    A session this machine has no transcript of (captured on another machine, or
    deleted by Claude Code's cleanup) is written back from the store for the
    working directory first, then resumed by Claude Code as its own. Another user's
    session (brought by sync --pull) continues as your own fork, a new session.
    """
    options = _as_own_fork(
        session_id, store_location, build_options(model, max_turns, timeout, cwd)
    )
    written_back = _write_back_here(session_id, save, store_location, cwd)
    if written_back is None:
        _run_from(
            resume,
            session_id,
            prompt,
            options,
            save=save,
            store_location=store_location,
            tags=tags,
            description=description,
            as_json=as_json,
        )
        return
    from claude_sessions.capture.resume_here import keep_resumed, run_store

    store, written = written_back
    if (tags or description) and not save:
        raise click.UsageError("--tag and --description need --save")
    text = read_prompt(prompt, required=False)
    try:
        saving = run_store(store, written)
        _run(
            resume,
            written.session_id,
            text,
            options,
            store=saving,
            tags=(),
            description=None,
            as_json=as_json,
        )
    finally:
        keep_resumed(
            store, written, tags=tags, description=description, continued_as=options.session_id
        )


def _as_own_fork(session_id: str, location: str | None, options: Options) -> Options:
    """``options``, forking into a new session of the current user's when the stored
    session ID is another user's (see :mod:`claude_sessions.runs.own_fork`); says so."""
    import uuid

    from claude_sessions.runs.own_fork import fork_line, other_owner

    store = existing_store(location)
    if store is None:
        return options
    resolved = resolve_or_pass(store, session_id)
    owner = other_owner(store.get_metadata(resolved))
    if owner is None:
        return options
    fork_id = str(uuid.uuid4())  # named now: the line says it, and the run's saving finds it
    click.echo(for_terminal(fork_line(resolved, owner, fork_id)), err=True)
    return options.replace(fork_session=True, session_id=fork_id)


@click.command("fork")
@click.argument("session_id", metavar="ID")
@click.argument("prompt", required=False)
@click.option(
    "--at",
    metavar="UUID",
    help="Branch from this message (a uuid or its start; see show --uuids), not the end.",
)
@run_options
def fork_command(
    session_id: str,
    prompt: str | None,
    at: str | None,
    model: str | None,
    max_turns: int | None,
    timeout: float | None,
    cwd: str | None,
    save: bool,
    tags: tuple[str, ...],
    description: str | None,
    store_location: str | None,
    as_json: bool,
) -> None:
    """Branch session ID into a new session with PROMPT; the original stays as it was."""
    _run_from(
        fork,
        session_id,
        prompt,
        build_options(model, max_turns, timeout, cwd),
        save=save,
        store_location=store_location,
        tags=tags,
        description=description,
        as_json=as_json,
        at=at,
    )
