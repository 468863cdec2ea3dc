"""The official claude-agent-sdk mirroring into our store, and resuming from it, end to end."""

import asyncio
import os
import shutil
from pathlib import Path

import pytest
from claude_agent_sdk import (
    AssistantMessage,
    ClaudeAgentOptions,
    ClaudeSDKClient,
    ResultMessage,
)
from claude_agent_sdk import query as sdk_query

from claude_sessions import Session, SessionStore, resume

pytestmark = pytest.mark.e2e


def projects_dir() -> Path:
    return Path(os.environ["HOME"], ".claude", "projects")


def forget_local_transcripts() -> None:
    shutil.rmtree(projects_dir(), ignore_errors=True)


async def collect(prompt, options):
    return [message async for message in sdk_query(prompt=prompt, options=options)]


@pytest.fixture
def store(tmp_path):
    with SessionStore(tmp_path / "store") as store:
        yield store


def test_official_query_mirrors_into_our_store_and_resumes_from_it(fake_claude, store):
    project = Path.cwd()
    options = ClaudeAgentOptions(cwd=project, session_store=store.sdk_store())
    fake_claude.set_script(["Nice to meet you, Alice."])

    async def first_turn_while_connected():
        async with ClaudeSDKClient(options) as client:
            await client.query("My name is Alice")
            messages = [m async for m in client.receive_response()]
            session_id = Session.extract_session_id(messages)
            # The CLI is still running: the turn is already in our store.
            mirrored = store.load_session(session_id)
            return messages, session_id, mirrored

    messages, session_id, mirrored = asyncio.run(first_turn_while_connected())
    assert isinstance(messages[-1], ResultMessage)
    types = [m.type for m in mirrored.messages]
    assert "user" in types and "assistant" in types

    metadata = store.get_metadata(session_id)
    assert metadata.turns == 1
    assert metadata.first_prompt == "My name is Alice"
    assert metadata.model == fake_claude.model
    assert metadata.project == str(project)
    assert metadata.total_cost > 0
    assert session_id in [m.session_id for m in store.list_sessions()]
    assert [m.session_id for m in store.search(text="Alice")] == [session_id]

    forget_local_transcripts()
    fake_claude.set_script(
        lambda request: "Alice" if "Alice" in request.all_text else "I don't know"
    )
    from_store = ClaudeAgentOptions(cwd=project, session_store=store.sdk_store(), resume=session_id)
    resumed = asyncio.run(collect("What is my name?", from_store))
    answer = next(m for m in resumed if isinstance(m, AssistantMessage))
    assert answer.content[0].text == "Alice"
    last = fake_claude.model_requests[-1]
    assert (last.count_role("user"), last.count_role("assistant")) == (2, 1)

    forget_local_transcripts()
    ours = list(resume(session_id, "Say it once more", store=store))
    assert Session.extract_session_id(ours) == session_id
    last = fake_claude.model_requests[-1]
    assert (last.count_role("user"), last.count_role("assistant")) == (3, 2)
    assert store.get_metadata(session_id).turns == 3


def test_helpers_and_save_accept_official_typed_messages(fake_claude, store):
    messages = asyncio.run(collect("Typed messages, please", ClaudeAgentOptions(cwd=Path.cwd())))
    session_id = Session.extract_session_id(messages)
    assert session_id
    assert Session.count_turns(messages) == 1
    assert Session.calculate_cost(messages) > 0
    assert Session.get_summary(messages).startswith("echo:")

    saved = store.save_session(session_id, messages, tags=["typed"])
    assert saved.turns == 1
    loaded = store.load_session(session_id)
    assert Session.extract_session_id(loaded.messages) == session_id
    assert [m.type for m in loaded.messages] == ["system", "assistant", "result"]
