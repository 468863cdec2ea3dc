"""Session ids: the one rule every id passes, whether it goes to the CLI or the store."""

from __future__ import annotations

from claude_sessions.model.exceptions import InvalidSessionIdError

MAX_SESSION_ID_LENGTH = 255
_FORBIDDEN = frozenset({"/", "\\"})


def validate_session_id(session_id: object) -> str:
    """Return ``session_id`` unchanged, or raise :class:`InvalidSessionIdError`.

    Rejected: non-strings, the empty string, more than 255 characters,
    control characters (NUL, tabs and line breaks included), lone surrogates (no
    encoding can carry them), ``/`` and ``\\``, and ``.`` or ``..``. The
    store does not map ids to file names, but ids travel on to the CLI (which
    names transcript files after them) and to file-based tools, so the spec's
    path-traversal rule holds everywhere.
    """
    if not isinstance(session_id, str):
        raise InvalidSessionIdError(f"a session id is a string, not {type(session_id).__name__}")
    if not session_id:
        raise InvalidSessionIdError("a session id cannot be empty")
    if len(session_id) > MAX_SESSION_ID_LENGTH:
        raise InvalidSessionIdError(
            f"a session id has at most {MAX_SESSION_ID_LENGTH} characters, not {len(session_id)}"
        )
    if session_id in (".", ".."):
        raise InvalidSessionIdError(f"invalid session id: {session_id!r}")
    for char in session_id:
        code = ord(char)
        if char in _FORBIDDEN or code < 0x20 or 0x7F <= code < 0xA0 or 0xD800 <= code < 0xE000:
            raise InvalidSessionIdError(f"a session id cannot contain {char!r}: {session_id!r}")
    return session_id
