"""query, continue, resume and fork: the spec's conversation functions.

Each returns a lazy iterator of :class:`Message`: the CLI starts on the first
``next()`` and is stopped when the loop ends, breaks or raises. The ``a``
functions are the asyncio twins; both faces build the same
:class:`~claude_sessions.runs.process.Invocation` and save through the same code.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import AsyncGenerator, AsyncIterator, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from claude_sessions.model.exceptions import InvalidInputError
from claude_sessions.model.ids import validate_session_id
from claude_sessions.model.message import Message
from claude_sessions.model.session import Session
from claude_sessions.runs.locate import find_cli
from claude_sessions.runs.options import Options
from claude_sessions.runs.process import Invocation, run_sync

if TYPE_CHECKING:
    from claude_sessions.runs.resume_from_store import StoreResume
    from claude_sessions.store import AsyncSessionStore, SessionStore
    from claude_sessions.store.records import SessionMetadata

# The CLI will not continue or resume without a prompt ("Provide a prompt to
# continue the conversation"), so a prompt-less continue sends this one.
CONTINUE_PROMPT = "Continue where you left off."


def build_invocation(
    prompt: str | None,
    options: Options | None = None,
    *,
    resume: str | None = None,
    continue_conversation: bool = False,
) -> Invocation:
    """The CLI command line, environment and stdin for one run.

    The prompt always travels on stdin as one stream-json user message: resume
    then keeps every earlier turn (one-shot ``--print --resume`` used to drop
    some), and a prompt may hold anything, leading dashes included.
    """
    options = options or Options()
    if prompt is None:
        if not (resume or continue_conversation):
            raise InvalidInputError("query needs a prompt")
        prompt = CONTINUE_PROMPT
    if not isinstance(prompt, str) or not prompt.strip():
        raise InvalidInputError("the prompt must be a non-empty string")
    argv = [find_cli(options.cli_path), "--output-format", "stream-json", "--verbose"]
    # --replay-user-messages: the CLI echoes the prompt as a user message, so
    # the run's messages (and a saved session) hold the prompt too.
    argv += ["--input-format", "stream-json", "--print", "--replay-user-messages"]
    if resume is not None:
        validate_session_id(resume)
        argv.append(f"--resume={resume}")
    elif continue_conversation:
        argv.append("--continue")
    if options.fork_session:
        if resume is None and not continue_conversation:
            raise InvalidInputError(
                "fork_session needs a session to fork: use resume() or continue"
            )
        argv.append("--fork-session")
    if options.resume_session_at is not None:
        if resume is None:
            raise InvalidInputError("resume_session_at needs a session to resume: use resume()")
        argv.append(f"--resume-session-at={options.resume_session_at}")
        if options.resume_drops_turn is not None:
            argv.append(f"--resume-drops-turn={options.resume_drops_turn}")
    argv += options.cli_flags()
    line = {"type": "user", "message": {"role": "user", "content": prompt}}
    return Invocation(
        argv=argv,
        env=dict(options.env),
        cwd=os.fspath(options.cwd) if options.cwd is not None else None,
        stdin=(json.dumps(line) + "\n").encode(),
        timeout=options.timeout,
        raise_on_error=options.raise_on_error,
        resume_id=resume,
    )


def _fork_options(options: Options | None, at: str | None) -> Options:
    options = (options or Options()).replace(fork_session=True)
    return options.replace(resume_session_at=at) if at is not None else options


class _Saver:
    """What the ``store=`` argument saves once a run completes."""

    def __init__(
        self,
        tags: Sequence[str] | None,
        description: str | None,
        forked_from: str | None,
        forked_at: str | None = None,
    ) -> None:
        if tags or description:  # refused now, not once the finished run is saved
            from claude_sessions.model.user_fields import normalize_tags, user_text

            normalize_tags(tags)
            user_text(description, "a description")
        self.tags = list(tags or [])
        self.description = description
        self.forked_from = forked_from
        self.forked_at = forked_at

    def arguments(
        self, messages: list[Message], from_store: StoreResume | None
    ) -> dict[str, Any] | None:
        """Keyword arguments for ``store.record_run``: none when the run had no session.

        A session resumed from stored transcript entries stays in that form:
        the entries the CLI appended to the transcript are saved. Otherwise
        the messages the run yielded are, like ``save_session`` would.
        """
        session_id = Session.extract_session_id(messages)
        if session_id is None:
            return None
        saved = from_store.new_entries(session_id) if from_store is not None else messages
        forked = self.forked_from is not None and self.forked_from != session_id
        return {
            "session_id": session_id,
            "messages": saved,
            "tags": self.tags,
            "description": self.description,
            "forked_from": self.forked_from if forked else None,
            "forked_at": self.forked_at if forked else None,
            "project_key": from_store.project_key if from_store is not None else None,
        }


def _resume_saver(
    session_id: str,
    options: Options | None,
    tags: Sequence[str] | None,
    description: str | None,
) -> _Saver:
    at = options.resume_session_at if options is not None else None
    return _Saver(tags, description, session_id, at)


def _run(invocation: Invocation, store: SessionStore | None, saver: _Saver) -> Iterator[Message]:
    # it imports the official SDK: only with a store
    from claude_sessions.runs import resume_from_store

    from_store = resume_from_store.prepare_sync(invocation, store) if store is not None else None
    seen: list[Message] = []
    # Closing this generator closes the driver's at once, so the CLI has stopped
    # by the time close() returns (not whenever the driver is collected).
    try:
        with contextlib.closing(
            run_sync(from_store.invocation if from_store else invocation)
        ) as run:
            for message in run:
                seen.append(message)
                yield message
        if store is not None and (arguments := saver.arguments(seen, from_store)):
            store.record_run(**arguments)
    finally:
        if from_store is not None:
            resume_from_store.cleanup_sync(from_store)


async def _arun(
    invocation: Invocation, store: AsyncSessionStore | None, saver: _Saver
) -> AsyncGenerator[Message, None]:
    from claude_sessions.runs import resume_from_store
    from claude_sessions.runs.process_async import run_async

    from_store = (
        await resume_from_store.prepare_async(invocation, store) if store is not None else None
    )
    seen: list[Message] = []
    try:
        async with contextlib.aclosing(
            run_async(from_store.invocation if from_store else invocation)
        ) as run:
            async for message in run:
                seen.append(message)
                yield message
        if store is not None and (arguments := saver.arguments(seen, from_store)):
            await store.record_run(**arguments)
    finally:
        if from_store is not None:
            await from_store.materialized.cleanup()


def query(
    prompt: str,
    options: Options | None = None,
    *,
    store: SessionStore | None = None,
    tags: Sequence[str] | None = None,
    description: str | None = None,
) -> Iterator[Message]:
    """Start a new session with ``prompt``.

    With ``store``, the session is saved there (with ``tags`` and
    ``description``) once the run completes; the same holds for every
    function below. ``resume`` and ``fork`` with a store also resume sessions
    the CLI no longer has on disk, from their stored transcript.
    """
    invocation = build_invocation(prompt, options)
    return _run(invocation, store, _Saver(tags, description, None))


def continue_conversation(
    prompt: str | None = None,
    options: Options | None = None,
    *,
    store: SessionStore | None = None,
    tags: Sequence[str] | None = None,
    description: str | None = None,
) -> Iterator[Message]:
    """Continue the most recent session of the working directory (``options.cwd``)."""
    invocation = build_invocation(prompt, options, continue_conversation=True)
    return _run(invocation, store, _Saver(tags, description, None))


def resume(
    session_id: str,
    prompt: str | None = None,
    options: Options | None = None,
    *,
    store: SessionStore | None = None,
    tags: Sequence[str] | None = None,
    description: str | None = None,
) -> Iterator[Message]:
    """Resume ``session_id``; with ``Options(fork_session=True)`` it becomes a fork.

    A session ``store`` holds as another user's (one ``sync --pull`` brought) continues
    as the current user's own fork, said in one line on the ``claude_sessions.runs``
    logger. An unknown id raises :class:`~claude_sessions.ConversationNotFoundError`.
    """
    if store is not None and not (options and options.fork_session):
        options = _own_fork(session_id, options, store.get_metadata(session_id))
    invocation = build_invocation(prompt, options, resume=session_id)
    return _run(invocation, store, _resume_saver(session_id, options, tags, description))


def _own_fork(
    session_id: str, options: Options | None, metadata: SessionMetadata | None
) -> Options | None:
    """``options``, forking when the session is another user's (see :mod:`.own_fork`)."""
    from claude_sessions.runs.own_fork import fork_line, log, other_owner

    owner = other_owner(metadata)
    if owner is None:
        return options
    log.info(fork_line(session_id, owner))
    return (options or Options()).replace(fork_session=True)


def fork(
    session_id: str,
    prompt: str | None = None,
    options: Options | None = None,
    *,
    at: str | None = None,
    store: SessionStore | None = None,
    tags: Sequence[str] | None = None,
    description: str | None = None,
) -> Iterator[Message]:
    """Branch ``session_id`` into a new session; the original stays as it was.

    ``at`` (a message uuid, see ``show --uuids``) branches from that message
    instead of the end: the new session's history stops there. A store
    records the origin and the branch point (``forked_from``, ``forked_at``).
    """
    return resume(
        session_id,
        prompt,
        _fork_options(options, at),
        store=store,
        tags=tags,
        description=description,
    )


def aquery(
    prompt: str,
    options: Options | None = None,
    *,
    store: AsyncSessionStore | None = None,
    tags: Sequence[str] | None = None,
    description: str | None = None,
) -> AsyncIterator[Message]:
    """The asyncio twin of :func:`query`."""
    invocation = build_invocation(prompt, options)
    return _arun(invocation, store, _Saver(tags, description, None))


def acontinue_conversation(
    prompt: str | None = None,
    options: Options | None = None,
    *,
    store: AsyncSessionStore | None = None,
    tags: Sequence[str] | None = None,
    description: str | None = None,
) -> AsyncIterator[Message]:
    """The asyncio twin of :func:`continue_conversation`."""
    invocation = build_invocation(prompt, options, continue_conversation=True)
    return _arun(invocation, store, _Saver(tags, description, None))


def aresume(
    session_id: str,
    prompt: str | None = None,
    options: Options | None = None,
    *,
    store: AsyncSessionStore | None = None,
    tags: Sequence[str] | None = None,
    description: str | None = None,
) -> AsyncIterator[Message]:
    """The asyncio twin of :func:`resume`."""
    if store is None or (options and options.fork_session):
        invocation = build_invocation(prompt, options, resume=session_id)
        return _arun(invocation, store, _resume_saver(session_id, options, tags, description))
    return _aresume_from(session_id, prompt, options, store, tags, description)


async def _aresume_from(
    session_id: str,
    prompt: str | None,
    options: Options | None,
    store: AsyncSessionStore,
    tags: Sequence[str] | None,
    description: str | None,
) -> AsyncIterator[Message]:
    """:func:`aresume` with a store: its owner read first (another user's: a fork)."""
    options = _own_fork(session_id, options, await store.get_metadata(session_id))
    invocation = build_invocation(prompt, options, resume=session_id)
    saver = _resume_saver(session_id, options, tags, description)
    async with contextlib.aclosing(_arun(invocation, store, saver)) as run:
        async for message in run:
            yield message


def afork(
    session_id: str,
    prompt: str | None = None,
    options: Options | None = None,
    *,
    at: str | None = None,
    store: AsyncSessionStore | None = None,
    tags: Sequence[str] | None = None,
    description: str | None = None,
) -> AsyncIterator[Message]:
    """The asyncio twin of :func:`fork`."""
    return aresume(
        session_id,
        prompt,
        _fork_options(options, at),
        store=store,
        tags=tags,
        description=description,
    )
