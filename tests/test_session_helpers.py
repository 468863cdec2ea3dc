from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from claude_sessions import Message, Session

from .test_message import ASSISTANT, INIT, RESULT


def result(session_id, cost):
    return {
        "type": "result",
        "subtype": "success",
        "session_id": session_id,
        "total_cost_usd": cost,
    }


def test_helpers_on_one_run():
    messages = [INIT, ASSISTANT, RESULT]
    assert Session.extract_session_id(messages) == "s-1"
    assert Session.calculate_cost(messages) == 0.00016
    assert Session.count_turns(messages) == 1
    assert Session.extract_model(messages) == "claude-sonnet-4-5"
    assert Session.get_summary(messages) == "Hello Alice"


def test_empty_list():
    assert Session.extract_session_id([]) is None
    assert Session.calculate_cost([]) == 0.0
    assert Session.count_turns([]) == 0
    assert Session.extract_model([]) is None
    assert Session.get_summary([]) == "No response"


def test_cost_is_cumulative_within_a_session():
    # The CLI reports a running total per session: three turns of one session
    # cost what the last result says, not the sum.
    runs = [result("a", 0.0002), result("a", 0.00048), result("a", 0.00084)]
    assert Session.calculate_cost(runs) == 0.00084


def test_cost_adds_up_across_sessions():
    runs = [result("a", 0.1), result("a", 0.3), result("fork", 0.05)]
    assert abs(Session.calculate_cost(runs) - 0.35) < 1e-12


def test_model_falls_back_to_first_assistant():
    messages = [{"type": "system", "subtype": "init", "session_id": "s"}, ASSISTANT]
    assert Session.extract_model(messages) == "claude-sonnet-4-5"


def test_session_id_from_first_system_message():
    messages = [
        {"type": "user", "session_id": "later"},
        {"type": "system", "subtype": "init", "session_id": "first"},
    ]
    assert Session.extract_session_id(messages) == "first"


def test_summary_is_truncated_and_skips_text_less_assistants():
    tool_only = {"type": "assistant", "message": {"content": [{"type": "tool_use", "id": "t"}]}}
    long = {"type": "assistant", "message": {"content": [{"type": "text", "text": "x" * 500}]}}
    assert Session.get_summary([tool_only]) == "No response"
    assert Session.get_summary([tool_only, long]) == "x" * 200


def test_helpers_accept_message_objects_and_sdk_messages():
    typed = [Message(m).to_sdk() for m in (INIT, ASSISTANT, RESULT)]
    assert Session.extract_session_id(typed) == "s-1"
    assert Session.get_summary(typed) == "Hello Alice"
    assert Session.calculate_cost([Message(RESULT)]) == 0.00016


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=10,
)
odd_message = st.dictionaries(
    st.sampled_from(
        ["type", "subtype", "session_id", "message", "total_cost_usd", "model", "is_error"]
    ),
    json_values | st.sampled_from(["system", "assistant", "result", "init", "user"]),
)


# Generating nested JSON takes longer than hypothesis's 1 s budget when the machine is
# busy: its timing health check and deadline measure the machine, not this property.
@settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.lists(odd_message, max_size=6))
def test_helpers_never_raise_on_odd_messages(messages):
    Session.extract_session_id(messages)
    assert isinstance(Session.calculate_cost(messages), float)
    assert Session.count_turns(messages) >= 0
    Session.extract_model(messages)
    assert isinstance(Session.get_summary(messages), str)
