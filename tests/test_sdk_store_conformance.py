"""The official SDK's SessionStore protocol over our tables."""

from __future__ import annotations

import asyncio
import functools

import anyio
import pytest
from claude_agent_sdk import fold_session_summary
from claude_agent_sdk.testing import run_session_store_conformance
from claude_agent_sdk.types import SessionStore as SDKProtocol

from claude_sessions import InvalidSessionIdError

from .store_samples import transcript

OPTIONAL = ("list_sessions", "list_session_summaries", "delete", "list_subkeys")


class CallCounter:
    """Counts the protocol calls the conformance suite makes on the adapters it gets."""

    def __init__(self) -> None:
        self.calls: dict[str, int] = {}

    def watch(self, sdk):
        for name in ("append", "load", *OPTIONAL):
            setattr(sdk, name, self._counted(name, getattr(sdk, name)))
        return sdk

    def _counted(self, name, method):
        @functools.wraps(method)
        async def counted(*args, **kwargs):
            self.calls[name] = self.calls.get(name, 0) + 1
            return await method(*args, **kwargs)

        return counted


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_conformance_with_every_optional_method(store_factory, backend):
    probe = store_factory().sdk_store()
    for method in OPTIONAL:
        assert getattr(type(probe), method) is not getattr(SDKProtocol, method)
    counter = CallCounter()

    async def conformance():
        await run_session_store_conformance(lambda: counter.watch(store_factory().sdk_store()))

    anyio.run(conformance, backend=backend)
    # Every contract ran, the optional ones included: none was skipped as unsupported.
    assert all(counter.calls.get(name, 0) > 0 for name in ("append", "load", *OPTIONAL))


def test_mtimes_never_tie_within_a_project(store_factory, fake_clock):
    store = store_factory(clock=fake_clock)  # a frozen clock: every write in the same ms
    sdk = store.sdk_store()

    async def write_and_list():
        for n in range(6):
            key = {"project_key": "-p", "session_id": f"s{n}"}
            await sdk.append(key, [{"type": "user", "uuid": f"u{n}", "n": n}])
        await sdk.append({"project_key": "-p", "session_id": "s2"}, [{"type": "x", "uuid": "v"}])
        return await sdk.list_sessions("-p"), await sdk.list_session_summaries("-p")

    listed, summaries = asyncio.run(write_and_list())
    by_time = [s["session_id"] for s in sorted(listed, key=lambda s: s["mtime"])]
    assert by_time == ["s0", "s1", "s3", "s4", "s5", "s2"]  # the order of the writes
    assert len({s["mtime"] for s in listed}) == 6
    assert {s["session_id"]: s["mtime"] for s in summaries} == {
        s["session_id"]: s["mtime"] for s in listed
    }


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
