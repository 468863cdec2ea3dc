"""The full text of tool calls and subagents, in a database file beside the store's.

Tool inputs and results are two thirds of what transcripts hold. Tokenizing
them in the transaction that stores them would slow every import by a third or
more, so the store's writes leave them alone: a catch-up indexer
(:mod:`claude_sessions.store.sqlite.side_indexer`) reads what the store holds
past its marks and indexes it into ``<store>.search.db`` (``sessions.search.db``
beside ``sessions.db``) with a connection of its own. The store attaches that
file as ``side`` to search it.

- ``said`` is contentless (no copy of the text) with column detail (no word
  positions): a phrase is matched there as its words. Besides tool and subagent
  text it holds prompts and replies apart (the store's own index holds them as one
  text), for a search kept to one of them. One row per batch of a
  transcript's entries; ``chunks`` names the session (``sessions.id`` and its
  ``session_id``, so a reused id matches nothing) each row is of.
- ``marks`` holds, for each session and transcript (``subpath``), the last
  ``seq`` indexed and that entry's ``id`` (a transcript written anew, whose
  entries get new ids, is indexed anew); ``state`` the highest ``entries.id``
  up to which every entry is indexed (``seen``), so what is new is found from
  the entries' own key.
- It is derived data: a file of an older :data:`VERSION` is made anew, and a
  redaction makes it anew from the redacted entries.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

VERSION = 2  # of the side index's own tables (PRAGMA user_version)

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS marks (session_ref INTEGER NOT NULL, subpath TEXT NOT NULL, "
    "session_id TEXT NOT NULL, seq INTEGER NOT NULL, entry_id INTEGER NOT NULL, "
    "PRIMARY KEY (session_ref, subpath)) WITHOUT ROWID",
    # AUTOINCREMENT: a dropped chunk's words stay in the contentless ``said`` (it keeps
    # no text to delete them by), so its id is never given to another chunk.
    "CREATE TABLE IF NOT EXISTS chunks (id INTEGER PRIMARY KEY AUTOINCREMENT, "
    "session_ref INTEGER NOT NULL, "
    "session_id TEXT NOT NULL, subpath TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS chunks_by_session ON chunks (session_ref, subpath)",
    "CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID",
    "CREATE VIRTUAL TABLE IF NOT EXISTS said USING fts5 (tool, subagent, names, prompt, reply, "
    "content='', detail=column, tokenize = 'unicode61 remove_diacritics 2')",
)


def side_path(store: Path) -> Path:
    """Where the side index of the store at ``store`` is."""
    return store.with_name(f"{store.stem}.search{store.suffix or '.db'}")


def side_files(store: Path) -> list[Path]:
    """The side index's file and its log files."""
    path = side_path(store)
    return [path, path.with_name(f"{path.name}-wal"), path.with_name(f"{path.name}-shm")]


def _configure(conn: sqlite3.Connection) -> None:
    (mode,) = conn.execute("PRAGMA journal_mode").fetchone()
    if str(mode).lower() != "wal":
        conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")


def _version(conn: sqlite3.Connection) -> int:
    (version,) = conn.execute("PRAGMA user_version").fetchone()
    return int(version)


def _holds_its_tables(conn: sqlite3.Connection) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'said'").fetchone() is not None


def prepare(path: Path) -> None:
    """The side index's file (made 0600, as the store's is) with its tables; a file of
    an older version is made anew (what it held is derived from the store)."""
    if path.exists():
        conn = sqlite3.connect(path, timeout=30)
        try:
            found = _version(conn)
            # No tables yet: a file another process is making right now (its tables and
            # version come in one transaction), never removed from under it.
            making = found == 0 and not _holds_its_tables(conn)
        finally:
            conn.close()
        if found != VERSION and not making:
            remove(path)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    conn = sqlite3.connect(path, isolation_level=None, timeout=30)
    try:
        _configure(conn)
        if _version(conn) != VERSION:
            conn.execute("BEGIN IMMEDIATE")
            if _version(conn) != VERSION:  # not made meanwhile by another process
                for statement in SCHEMA:
                    conn.execute(statement)
                conn.execute("INSERT INTO said (said, rank) VALUES ('automerge', 4)")
                conn.execute(f"PRAGMA user_version = {VERSION}")
            conn.execute("COMMIT")
    finally:
        conn.close()


def remove(path: Path) -> None:
    """Delete the side index at ``path`` and its log files."""
    for name in (path.name, f"{path.name}-wal", f"{path.name}-shm"):
        path.with_name(name).unlink(missing_ok=True)


def connect(path: Path) -> sqlite3.Connection:
    """A connection writing the side index at ``path`` (made if missing)."""
    prepare(path)
    conn = sqlite3.connect(path, isolation_level=None, timeout=30)
    _configure(conn)
    return conn


def is_current(path: Path) -> bool:
    """Whether the side index at ``path`` exists and is of this :data:`VERSION`."""
    if not path.exists():
        return False
    try:
        conn = sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True, timeout=30)
    except sqlite3.Error:
        return False
    try:
        return _version(conn) == VERSION
    except sqlite3.Error:
        return False
    finally:
        conn.close()


@contextlib.contextmanager
def writing(store: Path) -> Iterator[bool]:
    """Hold the lock one writer of the side index holds at a time (a file beside the
    store: ``sessions.search.lock``), without waiting: True if this one holds it."""
    lock = store.with_name(f"{store.stem}.search.lock")
    fd = os.open(lock, os.O_CREAT | os.O_RDWR, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)  # the lock goes with the descriptor


def held_by_another(store: Path) -> bool:
    """Whether another process's indexer holds the lock now."""
    with writing(store) as mine:
        return not mine
