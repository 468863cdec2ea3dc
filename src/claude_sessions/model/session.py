"""``Session``: helpers that read facts out of a list of messages.

Every helper accepts our :class:`Message`, plain dicts, or the official
``claude_agent_sdk`` typed messages, and none raises on an empty or odd list.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from claude_sessions.model.message import Message

SUMMARY_LENGTH = 200
NO_RESPONSE = "No response"


def as_messages(messages: Iterable[Any]) -> list[Message]:
    return [Message.coerce(m) for m in messages]


class Session:
    """Namespace of helpers over a list of messages (the spec's ``Session`` module)."""

    @staticmethod
    def extract_session_id(messages: Iterable[Any]) -> str | None:
        """The ``session_id`` of the first system message, else of any message."""
        found = as_messages(messages)
        for message in found:
            if message.type == "system" and message.session_id:
                return message.session_id
        return next((m.session_id for m in found if m.session_id), None)

    @staticmethod
    def calculate_cost(messages: Iterable[Any]) -> float:
        """Total cost in USD.

        The CLI reports ``total_cost_usd`` cumulatively within a session, so a
        list holding several runs of one session is worth its *last* result,
        and a list mixing sessions (a fork and its origin) is worth the sum of
        each session's last result. Summing every result would over-count.
        """
        last_by_session: dict[str | None, float] = {}
        for message in as_messages(messages):
            cost = message.total_cost_usd
            if message.is_result and cost is not None:
                last_by_session[message.session_id] = cost
        return sum(last_by_session.values(), 0.0)

    @staticmethod
    def count_turns(messages: Iterable[Any]) -> int:
        """Number of assistant messages."""
        return sum(1 for m in as_messages(messages) if m.is_assistant)

    @staticmethod
    def extract_model(messages: Iterable[Any]) -> str | None:
        """Model of the first init message, else of the first assistant message."""
        found = as_messages(messages)
        for message in found:
            if message.is_init and message.model:
                return message.model
        return next((m.model for m in found if m.is_assistant and m.model), None)

    @staticmethod
    def get_summary(messages: Iterable[Any], length: int = SUMMARY_LENGTH) -> str:
        """The first ``length`` characters of the first assistant text, or ``"No response"``."""
        for message in as_messages(messages):
            if message.is_assistant and message.text:
                return message.text[:length]
        return NO_RESPONSE

    @staticmethod
    def first_prompt(messages: Iterable[Any]) -> str | None:
        """Text of the first user message that carries text (tool results skipped)."""
        for message in as_messages(messages):
            if message.type == "user" and message.text.strip():
                return message.text
        return None
