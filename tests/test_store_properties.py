"""Property: any JSON messages with a "type" round-trip exactly, unknown types included."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .store_samples import run

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
messages = st.lists(
    st.builds(
        lambda kind, extra: {**extra, "type": kind},
        st.sampled_from(["system", "assistant", "user", "result", "stream_event"]) | st.text(),
        st.dictionaries(st.text(max_size=10), json_values, max_size=5),
    ),
    max_size=8,
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batch=messages)
def test_save_load_round_trip(store, batch):
    store.save_session("prop", batch)
    loaded = store.load_session("prop")
    assert [m.to_dict() for m in loaded.messages] == batch
    assert loaded.metadata.message_count == len(batch)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batch=messages)
def test_sdk_append_load_round_trip(store, batch):
    import asyncio

    sdk = store.sdk_store()
    key = {"project_key": "p", "session_id": "prop-sdk"}
    asyncio.run(sdk.delete(key))
    asyncio.run(sdk.append(key, [{**m, "uuid": f"u{i}"} for i, m in enumerate(batch)]))
    loaded = asyncio.run(sdk.load(key))
    assert loaded == ([{**m, "uuid": f"u{i}"} for i, m in enumerate(batch)] or None)


def test_surrogates_survive(store):
    batch = [{"type": "odd", "text": "bad \ud800 surrogate"}, *run("x")]
    store.save_session("sur", batch)
    assert [m.to_dict() for m in store.load_session("sur").messages] == batch
