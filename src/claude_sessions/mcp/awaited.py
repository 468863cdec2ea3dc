"""A store location that holds no store yet, served all the same.

Right after ``mcp install`` on a new machine nothing has been imported, and a server that
failed there would show in Claude Code as a failed server. So the tools read an empty
store instead, and every answer carries a hint on how to fill the real one; once a store
appears at the location (an import, the hooks), it is opened read-only and served.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from contextlib import suppress
from pathlib import Path
from types import TracebackType

from claude_sessions.model.exceptions import ClaudeSessionsError
from claude_sessions.store import SessionStore, default_location, sqlite_path

HINT = (
    "No sessions are stored yet. To fill the store, the user can run "
    "`claude-sessions import` (brings in Claude Code's transcripts) or "
    "`claude-sessions hooks install` (saves each session as it ends)."
)


def missing_store(location: str | os.PathLike[str] | None) -> Path | None:
    """The database file ``location`` names when no store is there yet (else ``None``)."""
    path = sqlite_path(location if location is not None else default_location())
    return path if path is not None and not path.exists() else None


def with_hint(text: str, hint: str, *, is_error: bool) -> str:
    """An answer with ``hint`` in it: a field of a JSON object, or the rest of a one-line
    error."""
    if is_error:
        return f"{text} ({hint})"
    try:
        payload = json.loads(text)
    except ValueError:
        return f"{text}\n{hint}"
    if not isinstance(payload, dict):
        return f"{text}\n{hint}"
    return json.dumps(payload | {"hint": hint}, ensure_ascii=False)


class AwaitedStore:
    """The store at ``location`` once it exists; an empty one until then."""

    def __init__(self, location: str | os.PathLike[str] | None, path: Path) -> None:
        self._location = location
        self._path = path
        self._scratch = tempfile.TemporaryDirectory(prefix="claude-sessions-empty-")
        self._empty = SessionStore(
            Path(self._scratch.name) / "store", cleanup_after_days=None, trash_days=None
        )
        self._found: SessionStore | None = None
        self._lock = threading.Lock()  # tools run in worker threads

    def current(self) -> tuple[SessionStore, str | None]:
        """The store to read, and the hint its answers carry (``None`` for the real one)."""
        with self._lock:
            if self._found is None and self._path.exists():
                with suppress(ClaudeSessionsError):  # one being made: the next call sees it
                    self._found = SessionStore(self._location, read_only=True)
            if self._found is not None:
                return self._found, None
            return self._empty, HINT

    def close(self) -> None:
        with self._lock:
            if self._found is not None:
                self._found.close()
            self._empty.close()
            self._scratch.cleanup()

    def __enter__(self) -> AwaitedStore:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()
