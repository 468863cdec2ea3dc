"""The guided tour of the whole flow, behind ``claude-sessions demo``.

It runs the whole flow of the guide on the real CLI: query, continue, resume,
fork, save and search. Offline, the CLI talks to the built-in fake Messages
API inside a throw-away HOME and store, so nothing the user has is touched.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from claude_sessions.model.message import Message
from claude_sessions.model.session import Session
from claude_sessions.runs.options import Options
from claude_sessions.runs.run import continue_conversation, query, resume
from claude_sessions.store import SessionStore
from claude_sessions.testing.server import FakeMessagesAPI, RecordedRequest, offline_environment


@dataclass(frozen=True)
class Step:
    """One step of the tour: what was done and what came back."""

    title: str
    session_id: str | None
    reply: str
    detail: str


def demo_reply(request: RecordedRequest) -> str:
    """The fake model's answers: it says what history it was shown."""
    users, assistants = request.count_role("user"), request.count_role("assistant")
    seen = f"(fake model: I was shown {users} user and {assistants} assistant messages)"
    prompt = request.last_user_text
    if "my name" in prompt.lower():
        name = "Alice" if "Alice" in request.all_text else "not something you told me"
        return f"Your name is {name}. {seen}"
    if "GraphQL" in prompt:
        return f"Switching this branch to a GraphQL schema with a User type. {seen}"
    if "index" in prompt.lower():
        return f"Add indexes on users(email) and sessions(user_id). {seen}"
    return f"Noted: {prompt[:80]} {seen}"


@contextmanager
def offline_sandbox() -> Iterator[tuple[Path, dict[str, str]]]:
    """A temporary HOME and a running fake API; yields (project dir, environment)."""
    with ExitStack() as stack:
        home = Path(
            stack.enter_context(tempfile.TemporaryDirectory(prefix="claude-sessions-demo-"))
        )
        api = stack.enter_context(FakeMessagesAPI(demo_reply))
        project = home / "project"
        project.mkdir()
        yield project, offline_environment(api.url, str(home))


def run_tour(report: Callable[[Step], None], *, store: SessionStore | None = None) -> list[Step]:
    """Run the tour, calling ``report`` after each step; returns every step.

    Without an ``ANTHROPIC_API_KEY`` (or with ``CLAUDE_SESSIONS_DEMO_OFFLINE=1``)
    it runs offline against the fake API; otherwise it talks to Claude.
    """
    offline = not os.environ.get("ANTHROPIC_API_KEY") or os.environ.get(
        "CLAUDE_SESSIONS_DEMO_OFFLINE"
    )
    with ExitStack() as stack:
        if offline:
            project, env = stack.enter_context(offline_sandbox())
        else:
            project = Path(stack.enter_context(tempfile.TemporaryDirectory()))
            env = {}
        if store is None:
            store = stack.enter_context(SessionStore(project / "store"))
        return _tour(Options(cwd=project, env=env, max_turns=3), store, report)


def _tour(options: Options, store: SessionStore, report: Callable[[Step], None]) -> list[Step]:
    steps: list[Step] = []

    def emit(title: str, session_id: str | None, reply: str, detail: str) -> None:
        steps.append(Step(title, session_id, reply, detail))
        report(steps[-1])

    def ran(title: str, messages: list[Message], detail: str = "") -> str:
        session_id = Session.extract_session_id(messages) or ""
        cost = Session.calculate_cost(messages)
        detail = detail or f"turns={Session.count_turns(messages)} cost=${cost:.5f}"
        emit(title, session_id, Session.get_summary(messages), detail)
        return session_id

    first = list(query("My name is Alice. Help me design a users API.", options))
    original = ran("query: start a session", first)
    second = list(continue_conversation("What is my name?", options))
    ran("continue: the most recent session remembers", second)
    third = list(resume(original, "Now add indexes for common queries", options))
    ran("resume: by session id", third)
    branch = list(
        resume(original, "Actually, let's use GraphQL instead", options.replace(fork_session=True))
    )
    forked = ran("fork: a new branch from the same history", branch, "a new session id")

    store.save_session(
        original, first + second + third, tags=["demo", "api"], description="Users API design"
    )
    store.save_session(forked, branch, tags=["demo", "graphql"], description="GraphQL branch")
    saved = ", ".join(f"{m.session_id[:8]} {list(m.tags)}" for m in store.list_sessions())
    emit("save: both sessions stored", None, "", f"{saved} in {store.location}")
    by_tag = store.search(tags=["graphql"])
    emit("search by tag 'graphql'", None, "", ", ".join(m.session_id[:8] for m in by_tag))
    by_text = store.search(text="indexes")
    emit(
        "full-text search 'indexes'",
        None,
        "",
        "; ".join(f"{m.session_id[:8]}: {m.snippet}" for m in by_text),
    )
    return steps
