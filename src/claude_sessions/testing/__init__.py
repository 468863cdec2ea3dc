"""Test offline: a fake Messages API the real CLI talks to, and pytest fixtures.

The fixtures (``fake_claude``, ``fake_claude_server``) are registered with
pytest automatically when claude-sessions is installed.
"""

from claude_sessions.testing.server import (
    FakeMessagesAPI,
    RecordedRequest,
    Reply,
    ToolResult,
    ToolUse,
    echo_reply,
    offline_environment,
)

__all__ = [
    "FakeMessagesAPI",
    "RecordedRequest",
    "Reply",
    "ToolResult",
    "ToolUse",
    "echo_reply",
    "offline_environment",
]
