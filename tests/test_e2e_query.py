"""query, continue, resume and fork on the real bundled CLI, against the fake Messages API."""

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from claude_sessions import (
    ConversationNotFoundError,
    Options,
    Session,
    acontinue_conversation,
    afork,
    aquery,
    aresume,
    continue_conversation,
    fork,
    query,
    resume,
)
from claude_sessions.runs.locate import find_cli
from claude_sessions.testing import Reply

from .children import default_sigint
from .test_process import seconds_until_gone

pytestmark = pytest.mark.e2e


def turns(request):
    return request.count_role("user"), request.count_role("assistant")


def test_query_returns_init_assistant_result(fake_claude):
    fake_claude.set_script(["Hello Alice, nice to meet you."])
    messages = list(query("My name is Alice"))
    assert [m.type for m in messages] == ["system", "user", "assistant", "result"]
    assert messages[0].is_init
    assert messages[1].text == "My name is Alice"  # the CLI replays the prompt
    session_id = Session.extract_session_id(messages)
    assert session_id and all(m.session_id == session_id for m in messages)
    assert Session.get_summary(messages) == "Hello Alice, nice to meet you."
    assert Session.count_turns(messages) == 1
    assert Session.calculate_cost(messages) > 0
    assert Session.extract_model(messages)
    assert turns(fake_claude.model_requests[-1]) == (1, 0)


def test_continue_sees_the_previous_turn(fake_claude):
    first = Session.extract_session_id(list(query("My name is Alice")))
    fake_claude.set_script(lambda request: "Alice" if "Alice" in request.all_text else "no idea")
    messages = list(continue_conversation("What is my name?"))
    assert Session.extract_session_id(messages) == first
    assert Session.get_summary(messages) == "Alice"
    assert turns(fake_claude.model_requests[-1]) == (2, 1)


def test_continue_without_prompt_carries_on(fake_claude):
    first = Session.extract_session_id(list(query("Write a Fibonacci function")))
    messages = list(continue_conversation())
    assert Session.extract_session_id(messages) == first
    assert turns(fake_claude.model_requests[-1]) == (2, 1)


def test_continue_with_nothing_to_continue_starts_a_new_session(fake_claude):
    messages = list(continue_conversation("hello"))
    assert Session.extract_session_id(messages)
    assert turns(fake_claude.model_requests[-1]) == (1, 0)


def test_resume_carries_the_whole_history_and_keeps_the_id(fake_claude):
    session_id = Session.extract_session_id(list(query("Help me design a database schema")))
    list(resume(session_id, "Add a users table"))
    messages = list(resume(session_id, "Now add indexes", Options(max_turns=5)))
    assert Session.extract_session_id(messages) == session_id
    last = fake_claude.model_requests[-1]
    assert turns(last) == (3, 2)
    assert "database schema" in last.all_text and "users table" in last.all_text
    assert last.last_user_text == "Now add indexes"


def test_resume_without_prompt(fake_claude):
    session_id = Session.extract_session_id(list(query("Start a task")))
    messages = list(resume(session_id))
    assert Session.extract_session_id(messages) == session_id
    assert turns(fake_claude.model_requests[-1]) == (2, 1)


def test_fork_branches_and_leaves_the_original_unchanged(fake_claude):
    original = Session.extract_session_id(list(query("Design a REST API for users")))
    forked = list(
        resume(original, "Actually, let's use GraphQL instead", Options(fork_session=True))
    )
    fork_id = Session.extract_session_id(forked)
    assert fork_id and fork_id != original
    assert turns(fake_claude.model_requests[-1]) == (2, 1)
    assert "REST API" in fake_claude.model_requests[-1].all_text

    again = list(resume(original, "Continue with REST"))
    assert Session.extract_session_id(again) == original
    history = fake_claude.model_requests[-1]
    assert turns(history) == (2, 1)
    assert "GraphQL" not in history.all_text

    more = list(resume(fork_id, "And subscriptions?"))
    assert Session.extract_session_id(more) == fork_id
    assert turns(fake_claude.model_requests[-1]) == (3, 2)
    assert "GraphQL" in fake_claude.model_requests[-1].all_text


def test_fork_helper_and_chosen_fork_id(fake_claude):
    original = Session.extract_session_id(list(query("base")))
    chosen = "11111111-2222-4333-8444-555555555555"
    forked = list(fork(original, "variant", Options(session_id=chosen)))
    assert Session.extract_session_id(forked) == chosen


def test_resume_of_unknown_id_raises_not_found(fake_claude):
    missing = "00000000-0000-4000-8000-000000000000"
    with pytest.raises(ConversationNotFoundError) as caught:
        list(resume(missing, "hello?"))
    assert caught.value.session_id == missing
    assert isinstance(caught.value, LookupError)


def test_injected_server_error_becomes_an_error_result_quickly(fake_claude):
    fake_claude.set_script(lambda request: Reply("internal failure", status=500))
    started = time.monotonic()
    messages = list(query("this will fail"))
    elapsed = time.monotonic() - started
    result = messages[-1]
    assert result.is_result and result.is_error
    assert result.api_error_status == 500
    assert any(m.subtype == "api_retry" for m in messages)
    assert elapsed < 30


def test_options_cwd_scopes_continue(fake_claude, tmp_path):
    elsewhere = tmp_path / "other-project"
    elsewhere.mkdir()
    here = Session.extract_session_id(list(query("in the default project")))
    there = list(continue_conversation("anything here?", Options(cwd=elsewhere)))
    assert Session.extract_session_id(there) != here
    assert turns(fake_claude.model_requests[-1]) == (1, 0)


def cli_children(of=None):
    """``(pid, state)`` of the children of process ``of`` (default: this one) that run the CLI."""
    cli = os.path.realpath(find_cli())
    of = os.getpid() if of is None else of
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            exe = os.path.realpath(entry / "exe")
        except OSError:
            continue
        state, parent = fields[0], int(fields[1])
        if parent == of and exe == cli:
            found.append((int(entry.name), state))
    return found


def test_breaking_out_leaves_no_cli_process(fake_claude):
    fake_claude.set_script([Reply("slow answer", delay=5)])
    iterator = query("take your time")
    first = next(iterator)
    assert first.is_init
    assert len(cli_children()) == 1
    iterator.close()
    assert cli_children() == []


def test_async_twins(fake_claude):
    async def flow():
        first = [m async for m in aquery("My name is Alice")]
        session_id = Session.extract_session_id(first)
        continued = [m async for m in acontinue_conversation("What is my name?")]
        resumed = [m async for m in aresume(session_id, "Anything else?")]
        forked = [m async for m in afork(session_id, "Branch off")]
        return session_id, continued, resumed, forked

    session_id, continued, resumed, forked = asyncio.run(flow())
    assert Session.extract_session_id(continued) == session_id
    assert Session.extract_session_id(resumed) == session_id
    assert Session.extract_session_id(forked) not in (None, session_id)
    assert turns(fake_claude.model_requests[-1]) == (4, 3)


def test_async_break_leaves_no_cli_process(fake_claude):
    fake_claude.set_script([Reply("slow answer", delay=5)])

    async def flow():
        iterator = aquery("take your time")
        first = await iterator.__anext__()
        running = len(cli_children())
        await iterator.aclose()
        return first, running

    first, running = asyncio.run(flow())
    assert first.is_init and running == 1
    assert cli_children() == []


def processes_with(marker, exclude):
    """Processes whose command line holds ``marker``, other than ``exclude``."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if (
                entry.name.isdigit()
                and int(entry.name) != exclude
                and marker in (entry / "cmdline").read_bytes()
            ):
                state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
                found.append((int(entry.name), state))
        except OSError:
            continue
    return found


def test_ctrl_c_stops_the_cli(fake_claude, tmp_path):
    fake_claude.set_script([Reply("slow answer", delay=30)])
    marker = f"ctrl-c-marker-{os.getpid()}"
    encoded = marker.encode()
    program = (
        "from claude_sessions import Options, query\n"
        f"for m in query('wait', Options(append_system_prompt={marker!r})):\n"
        "    print(m.type, flush=True)\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", program],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=default_sigint,
    )
    assert child.stdout.readline().strip() == "system"
    assert len(processes_with(encoded, child.pid)) == 1
    child.send_signal(signal.SIGINT)
    _, stderr = child.communicate(timeout=30)
    assert "KeyboardInterrupt" in stderr
    deadline = time.monotonic() + 10
    while processes_with(encoded, child.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert processes_with(encoded, child.pid) == []


SYNC_RUN = """
from claude_sessions import query
for message in query('wait'):
    print(message.type, flush=True)
"""

ASYNC_RUN = """
import asyncio
from claude_sessions import aquery
async def run():
    async for message in aquery('wait'):
        print(message.type, flush=True)
asyncio.run(run())
"""


@pytest.mark.parametrize("program", [SYNC_RUN, ASYNC_RUN], ids=["sync", "async"])
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_the_cli_dies_with_its_parent(fake_claude, program, sig):
    """A Python process killed mid-run (no cleanup runs) takes its CLI along."""
    fake_claude.set_script([Reply("slow answer", delay=30)])
    child = subprocess.Popen(
        [sys.executable, "-c", program], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout.readline().strip() == "system"
        [(cli, _)] = cli_children(of=child.pid)
        child.send_signal(sig)
        assert child.wait(timeout=10) == -sig
        assert seconds_until_gone(cli, limit=5) < 2
    finally:
        child.kill()
        child.communicate()
