"""Where the previous import stopped in each file: a small SQLite sidecar beside the store.

The store has no API for per-file bookkeeping, so it lives here.
"""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..store import SessionStore

_HEAD_BYTES = 4096


def import_state_path(store: SessionStore) -> Path:
    """The sidecar that remembers how far each file was imported into ``store``.

    Beside a SQLite store's database file; for a server URL, under
    ``~/.claude_sdk/import-state/`` keyed by a hash of the URL.
    """
    location = store.location
    if "://" not in location:
        db = Path(location)
        return db.with_name(db.name + ".import-state")
    digest = hashlib.sha256(location.encode()).hexdigest()[:16]
    return Path("~/.claude_sdk/import-state").expanduser() / f"{digest}.sqlite3"


@dataclass(frozen=True)
class FileState:
    size: int
    mtime_ns: int
    offset: int  # bytes consumed: up to the end of the last complete line
    head: str  # sha1 of the first min(offset, 4096) bytes: tells growth from rewrite


class ImportState:
    """Per-file import positions, in a small SQLite database."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._conn = sqlite3.connect(path, isolation_level=None, timeout=30)
        self._conn.execute("PRAGMA journal_mode = WAL")
        self._conn.execute("PRAGMA synchronous = NORMAL")
        self._conn.execute(
            "CREATE TABLE IF NOT EXISTS files (path TEXT PRIMARY KEY, size INTEGER NOT NULL, "
            "mtime_ns INTEGER NOT NULL, offset INTEGER NOT NULL, head TEXT NOT NULL)"
        )

    def get(self, path: Path) -> FileState | None:
        row = self._conn.execute(
            "SELECT size, mtime_ns, offset, head FROM files WHERE path = ?", (str(path),)
        ).fetchone()
        return FileState(*row) if row else None

    def put(self, path: Path, state: FileState) -> None:
        self._conn.execute(
            "INSERT OR REPLACE INTO files (path, size, mtime_ns, offset, head) "
            "VALUES (?, ?, ?, ?, ?)",
            (str(path), state.size, state.mtime_ns, state.offset, state.head),
        )

    def close(self) -> None:
        self._conn.close()


def head_hash(path: Path, length: int) -> str:
    with path.open("rb") as handle:
        return hashlib.sha1(handle.read(min(length, _HEAD_BYTES))).hexdigest()
