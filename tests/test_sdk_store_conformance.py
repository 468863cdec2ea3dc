"""The official SDK's SessionStore protocol over our tables."""

from __future__ import annotations

import asyncio
import inspect

import pytest
from claude_agent_sdk import fold_session_summary
from claude_agent_sdk.testing import run_session_store_conformance
from claude_agent_sdk.types import SessionStore as SDKProtocol

from claude_sessions import InvalidSessionIdError

from .store_samples import transcript


def test_conformance_with_every_optional_method(store_factory):
    probe = store_factory().sdk_store()
    for method in ("list_sessions", "list_session_summaries", "delete", "list_subkeys"):
        assert getattr(type(probe), method) is not getattr(SDKProtocol, method)
    asyncio.run(run_session_store_conformance(lambda: store_factory().sdk_store()))


def test_conformance_suite_was_not_skipping():
    source = inspect.getsource(run_session_store_conformance)
    assert "skip_optional" in source  # we pass none, so nothing is skipped


def test_mirrored_session_is_a_store_session(store):
    sdk = store.sdk_store()
    key = {"project_key": "-home-u-proj", "session_id": "mirrored"}
    entries = transcript("mirrored")

    async def mirror():
        await sdk.append(key, entries[:2])
        await sdk.append(key, entries[2:])
        await sdk.append({**key, "subpath": "subagents/agent-7"}, [{"type": "user", "n": 1}])
        return (
            await sdk.list_sessions("-home-u-proj"),
            await sdk.list_session_summaries("-home-u-proj"),
            await sdk.list_subkeys(key),
            await sdk.load(key),
        )

    listed, summaries, subkeys, loaded = asyncio.run(mirror())
    assert loaded == entries
    assert subkeys == ["subagents/agent-7"]
    assert [s["session_id"] for s in listed] == ["mirrored"]
    assert summaries[0]["mtime"] >= listed[0]["mtime"]
    assert summaries[0]["data"] == fold_session_summary(None, key, entries)["data"]
    meta = store.get_metadata("mirrored")
    assert meta.message_count == 5
    assert meta.turns == 3
    assert meta.project_key == "-home-u-proj"
    assert meta.first_prompt == "Fix the login bug please"
    assert meta.total_cost > 0
    assert [m.session_id for m in store.list_sessions()] == ["mirrored"]
    assert [m.session_id for m in store.search(text="authentication")] == ["mirrored"]
    assert len(store.load_session("mirrored").messages) == 5


def test_saved_session_is_visible_to_the_sdk(store, tmp_path):
    from claude_agent_sdk import project_key_for_directory

    from .store_samples import run

    store.save_session("saved", run("saved", cwd=str(tmp_path)))
    sdk = store.sdk_store()
    key = {"project_key": project_key_for_directory(tmp_path), "session_id": "saved"}
    assert len(asyncio.run(sdk.load(key))) == 3
    assert [s["session_id"] for s in asyncio.run(sdk.list_sessions(key["project_key"]))] == [
        "saved"
    ]
    asyncio.run(sdk.delete(key))
    assert store.get_session("saved") is None


def test_adapter_rejects_bad_keys(store):
    sdk = store.sdk_store()
    with pytest.raises(InvalidSessionIdError):
        asyncio.run(sdk.append({"project_key": "p", "session_id": "../x"}, [{"type": "x"}]))
    assert store.list_sessions() == []
