"""A store whose every answer has its secrets redacted: what ``--redact`` hands the faces.

``show --redact``, ``export --redact``, ``serve --redact`` and the MCP server read
through :class:`RedactingStore` instead of the store itself, so every page, API
answer and download takes its text from here: messages, subagent transcripts,
and the facts a listing shows (first prompt, title, description, snippet). The
stored sessions stay as they are (``secrets redact`` rewrites them).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from claude_sessions.model.message import Message
from claude_sessions.model.redaction import redact_entry, redact_value
from claude_sessions.model.team_wire import EntryPage
from claude_sessions.store.records import SessionData, SessionMetadata, SessionPage
from claude_sessions.store.visibility import seen_by

if TYPE_CHECKING:
    from claude_sessions.model.identity import User

# The facts of a session holding text someone wrote (the rest are figures and ids).
TEXT_FACTS = ("first_prompt", "title", "description", "snippet")


def redact_messages(messages: list[Message], *, subagent: bool = False) -> list[Message]:
    return [
        Message(redact_entry(message.to_dict(), subagent=subagent).value) for message in messages
    ]


def redact_metadata(meta: SessionMetadata) -> SessionMetadata:
    changes = {name: redact_value(getattr(meta, name)).value for name in TEXT_FACTS}
    return replace(meta, **changes)


def redact_session(data: SessionData) -> SessionData:
    return replace(
        data,
        messages=redact_messages(data.messages),
        metadata=redact_metadata(data.metadata),
        subagents={
            path: redact_messages(messages, subagent=True)
            for path, messages in data.subagents.items()
        },
    )


def _redacted(value: Any) -> Any:
    """A store's answer with its secrets redacted, whatever its shape."""
    if isinstance(value, SessionData):
        return redact_session(value)
    if isinstance(value, SessionMetadata):
        return redact_metadata(value)
    if isinstance(value, SessionPage):
        return replace(value, sessions=[redact_metadata(meta) for meta in value.sessions])
    if isinstance(value, list):
        return [_redacted(item) for item in value]
    return value


# The store's methods whose answers carry a session's text.
_READS = frozenset(
    {
        "load_session",
        "get_session",
        "get_metadata",
        "list_sessions",
        "search",
        "search_page",
        "list_trash",
        "add_tags",
        "remove_tags",
        "set_description",
        "restore_session",
    }
)


class RedactingStore:
    """A ``SessionStore`` (or any object with its methods) whose reads come redacted;
    everything else passes through unchanged."""

    def __init__(self, store: Any) -> None:
        self._store = store

    @property
    def redacting(self) -> bool:
        return True

    def seen_by(self, viewer: User | None) -> RedactingStore:
        """This store as ``viewer`` sees it, still redacting (see store.visibility)."""
        return RedactingStore(seen_by(self._store, viewer))

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._store, name)
        if name not in _READS or not callable(attribute):
            return attribute

        def redacted_read(*args: Any, **kwargs: Any) -> Any:
            return _redacted(attribute(*args, **kwargs))

        return redacted_read

    def __repr__(self) -> str:
        return f"<RedactingStore {self._store!r}>"


def redacting(store: Any, redact: bool) -> Any:
    """``store`` itself, or with ``redact`` its redacting face."""
    return RedactingStore(store) if redact else store


def redact_entry_page(page: EntryPage) -> EntryPage:
    """A page of the laptops' API (``sync --pull``) with its secrets redacted."""
    header = page.session
    return replace(
        page,
        session=replace(
            header,
            title=redact_value(header.title).value,
            description=redact_value(header.description).value,
        ),
        entries=tuple(
            replace(one, entry=redact_entry(one.entry, subagent=bool(one.subpath)).value)
            for one in page.entries
        ),
    )
