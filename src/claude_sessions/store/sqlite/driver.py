"""Running transactions on a SQLite database file (the default store).

Concurrency: WAL lets readers run beside one writer; every write is a short
``BEGIN IMMEDIATE`` transaction (the write lock is taken up front, so two
writers never deadlock upgrading a read lock), and ``busy_timeout`` makes a
writer wait for the lock instead of failing. ``synchronous=NORMAL`` in WAL
mode keeps every committed transaction across a process crash (SIGKILL); a
power cut may lose the last commits but never corrupts the file. Opening is
safe when many processes open a fresh store at once: the switch to WAL and the
schema upgrades retry while another process holds the lock.

Each thread gets its own connection (sqlite3 connections must not be shared
across threads while in use), closed when the thread ends;
:meth:`SQLiteDriver.close` closes those still open.

Files: a directory the store creates is made 0700 and a database file it
creates 0600 (SQLite gives its ``-wal`` and ``-shm`` files the database's
mode). What exists already keeps its mode, whoever owns it: a shared or a
system directory (``/tmp``, a setgid team folder) is never changed. A
directory other users may write earns a warning, once. A store we may not
write (a read-only directory, another user's store) opens read-only by
itself: reading works, writes raise :class:`StoreReadOnlyError`.
``read_only=True`` asks for that explicitly.
"""

from __future__ import annotations

import logging
import math
import os
import random
import sqlite3
import stat
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

from claude_sessions.model.exceptions import (
    QueryTooExpensiveError,
    StoreConnectionError,
    StoreError,
    StoreReadOnlyError,
    StoreVersionError,
)
from claude_sessions.store.plan import Txn
from claude_sessions.store.sqlite import side_index
from claude_sessions.store.sqlite.schema import SchemaTooNewError, execute, upgrade

T = TypeVar("T")
log = logging.getLogger("claude_sessions.store")

BUSY_TIMEOUT_SECONDS = 30.0
# Checkpoint every 64 MB of log instead of SQLite's 1,000 pages: an import writes
# hundreds of MB, and each checkpoint syncs the file; the log is cut back after each one.
CHECKPOINT_BYTES = 64 * 1024 * 1024
CHECKPOINT_INTERVAL = 0.1  # seconds between a bulk writer's background checkpoints
# A bulk writer that writes without pause outruns the background checkpoints (one that
# waits for nobody cannot start the log over while the writer appends to it): past this
# size, the writer itself copies the log in and cuts it to nothing between two transactions.
LOG_BOUND_BYTES = 256 * 1024 * 1024
# How long that cut waits for readers still using the log; it is tried again after the
# next transaction when they kept it.
_LOG_CUT_WAIT_MS = 250
MIN_SQLITE = (3, 35, 0)  # RETURNING
_PROGRESS_STEPS = 10_000  # virtual machine steps between time-limit (and signal) checks
_LOCK_WAIT_SLICE_MS = 100  # a writer waits for the lock this long between signal checks
_OPEN_TROUBLE = ("locked", "busy")
_READ_ONLY_TROUBLE = ("readonly", "read-only", "unable to open", "disk i/o error")


def _check_version() -> None:
    if sqlite3.sqlite_version_info < MIN_SQLITE:
        wanted = ".".join(map(str, MIN_SQLITE))
        raise StoreConnectionError(
            f"the session store needs SQLite {wanted} or newer; "
            f"this Python has {sqlite3.sqlite_version}"
        )


_warned_open_to_others: set[Path] = set()


def _make_directories(directory: Path) -> None:
    """Create ``directory`` and its missing parents, each private (0700): only the
    directories made here; an existing one keeps its mode, whoever owns it."""
    missing = [d for d in (directory, *directory.parents) if not d.exists()]
    for made in reversed(missing):
        with suppress(FileExistsError):  # another process made it meanwhile: theirs now
            made.mkdir(mode=0o700)


def _warn_if_others_may_write(directory: Path) -> None:
    """Warn (once per directory) when users other than the owner may write ``directory``:
    they could remove or replace the store's files. Never changes its mode."""
    try:
        mode = stat.S_IMODE(directory.stat().st_mode)
    except OSError:
        return
    if mode & 0o022 and directory not in _warned_open_to_others:
        _warned_open_to_others.add(directory)
        log.warning(
            "the session store's directory %s is writable by other users (mode %o): "
            "they could remove or replace its files; a private directory is safer",
            directory,
            mode,
        )


def prepare_files(path: Path) -> None:
    """The store's directory (made 0700 if missing) and database file (made 0600 if
    missing). What exists already keeps its mode."""
    try:
        _make_directories(path.parent)
        with suppress(FileExistsError):
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except OSError as error:
        raise StoreConnectionError(f"cannot create the session store at {path}: {error}") from error
    _warn_if_others_may_write(path.parent)


def _writable(path: Path) -> bool:
    return os.access(path, os.W_OK) and os.access(path.parent, os.W_OK | os.X_OK)


class SQLiteDriver:
    """Sessions in one SQLite database file (see the module docstring)."""

    def __init__(
        self, path: Path, *, read_only: bool = False, busy_timeout: float | None = None
    ) -> None:
        _check_version()
        self._path = path
        self._busy_timeout = BUSY_TIMEOUT_SECONDS if busy_timeout is None else busy_timeout
        self._local = threading.local()
        self._open: weakref.WeakSet[_ThreadConnection] = weakref.WeakSet()
        self._lock = threading.Lock()
        self._closed = False
        self._side_ready = False  # the side index's file made (at the first search)
        self._why_read_only: str | None = "opened read-only" if read_only else None
        if read_only:
            if not path.exists():
                raise StoreConnectionError(f"no session store at {path}")
        else:
            if not path.exists() or _writable(path):
                prepare_files(path)
            if not _writable(path):
                self._why_read_only = "this user may not write it"
        self._connect()  # open, configure and upgrade now: errors surface at open

    @property
    def location(self) -> str:
        return str(self._path)

    @property
    def path(self) -> Path:
        return self._path

    @property
    def read_only(self) -> bool:
        return self._why_read_only is not None

    # -- connections ----------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        if self._closed:
            raise StoreError(f"the session store at {self._path} is closed")
        mine: _ThreadConnection | None = getattr(self._local, "connection", None)
        if mine is not None:
            return mine.conn
        try:
            conn = self._open_read_only() if self.read_only else self._open_for_writing()
        except SchemaTooNewError as error:
            raise StoreVersionError(f"{error} (store at {self._path})") from None
        except sqlite3.Error as error:
            raise StoreConnectionError(
                f"cannot open the session store at {self._path}: {error}"
            ) from error
        mine = _ThreadConnection(conn, optimize=not self.read_only)
        with self._lock:
            if self._closed:
                mine.close()
                raise StoreError(f"the session store at {self._path} is closed")
            self._open.add(mine)
        self._local.connection = mine
        return conn

    def _configure(self, conn: sqlite3.Connection) -> None:
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout * 1000)}")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA temp_store = MEMORY")

    def _open_for_writing(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self._path,
            timeout=self._busy_timeout,
            isolation_level=None,  # we issue BEGIN/COMMIT ourselves
            check_same_thread=False,  # only close() touches it from another thread
        )
        try:
            self._configure(conn)
            self._patiently(lambda: self._to_wal(conn))
            conn.execute("PRAGMA synchronous = NORMAL")
            self._autocheckpoint(conn, on=True)
            conn.execute(f"PRAGMA journal_size_limit = {CHECKPOINT_BYTES}")
            self._patiently(lambda: upgrade(conn))
        except BaseException:
            conn.close()
            raise
        return conn

    @property
    def side_index(self) -> Path:
        """The file holding the full text of tool calls and subagents (see
        :mod:`claude_sessions.store.sqlite.side_index`)."""
        return side_index.side_path(self._path)

    def _side_for(self, conn: sqlite3.Connection, *, write: bool) -> None:
        """The side index attached for reading, detached for writing: a write transaction
        locks every attached database, and its indexer writes it all along."""
        mine: _ThreadConnection = self._local.connection
        current = None if write else _file_id(self.side_index)
        if mine.side_attached and (write or current != mine.side_file):
            # A file made anew (a redaction, a newer version) is attached again.
            conn.execute("DETACH DATABASE side")
            mine.side_attached = False
        if not write and not mine.side_attached:
            self._attach_side(conn, writable=not self.read_only)
            mine.side_attached, mine.side_file = True, _file_id(self.side_index)

    def _attach_side(self, conn: sqlite3.Connection, *, writable: bool) -> None:
        """The side index as ``side`` (made with the store when it may be written); an
        empty one in memory when it is missing or unreadable and may not be made."""
        path = self.side_index
        if writable:
            if not (self._side_ready and path.exists()):  # made at the first read, not open
                self._patiently(lambda: side_index.prepare(path))
                self._side_ready = True
            conn.execute("ATTACH DATABASE ? AS side", (str(path),))
        elif not (path.exists() and self._attach_read_only(conn, path)):
            conn.execute("ATTACH DATABASE ':memory:' AS side")
            conn.execute("PRAGMA query_only = OFF")  # the empty tables, in memory
            for statement in side_index.SCHEMA:
                conn.execute(statement.replace(" EXISTS ", " EXISTS side.", 1))
            conn.execute("PRAGMA query_only = ON")

    @staticmethod
    def _attach_read_only(conn: sqlite3.Connection, path: Path) -> bool:
        """Whether the side index could be attached read-only; as the store's own file,
        immutable when its log cannot be shared (a directory this user may not write)."""
        base = "file:" + quote(str(path))
        for options in ("?mode=ro", "?immutable=1"):
            try:
                conn.execute("ATTACH DATABASE ? AS side", (base + options,))
                conn.execute("SELECT count(*) FROM side.sqlite_master").fetchone()
                return True
            except sqlite3.OperationalError:
                with suppress(sqlite3.OperationalError):
                    conn.execute("DETACH DATABASE side")
        return False

    @staticmethod
    def _to_wal(conn: sqlite3.Connection) -> None:
        (mode,) = conn.execute("PRAGMA journal_mode").fetchone()
        if str(mode).lower() != "wal":  # WAL is a property of the file: set once
            conn.execute("PRAGMA journal_mode = WAL")

    @staticmethod
    def _autocheckpoint(conn: sqlite3.Connection, *, on: bool) -> None:
        (page,) = conn.execute("PRAGMA page_size").fetchone()
        conn.execute(f"PRAGMA wal_autocheckpoint = {CHECKPOINT_BYTES // page if on else 0}")

    def _patiently(self, step: Callable[[], Any]) -> None:
        """Run ``step``, retrying while another process holds a lock SQLite will not
        wait for (switching to WAL, or a schema upgrade racing another one)."""
        deadline = time.monotonic() + self._busy_timeout
        pause = 0.005
        while True:
            try:
                step()
                return
            except sqlite3.OperationalError as error:
                text = str(error).lower()
                if not any(word in text for word in _OPEN_TROUBLE) or time.monotonic() > deadline:
                    raise
            time.sleep(pause * (1 + random.random()))
            pause = min(pause * 2, 0.25)

    def _open_read_only(self) -> sqlite3.Connection:
        base = "file:" + quote(str(self._path))
        try:
            conn = sqlite3.connect(
                base + "?mode=ro", uri=True, isolation_level=None, check_same_thread=False
            )
            self._configure(conn)
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.OperationalError:
            # A WAL database in a directory we may not write, with no -shm file to
            # share: only an immutable open can read it (nobody can be writing it).
            conn = sqlite3.connect(
                base + "?immutable=1", uri=True, isolation_level=None, check_same_thread=False
            )
            self._configure(conn)
        conn.execute("PRAGMA query_only = ON")
        (version,) = conn.execute("PRAGMA user_version").fetchone()
        from claude_sessions.store.sqlite.schema import SCHEMA_VERSION

        if version > SCHEMA_VERSION:
            raise SchemaTooNewError(
                f"store schema version {version} is newer than this claude-sessions "
                f"understands ({SCHEMA_VERSION}): upgrade claude-sessions"
            )
        if version < SCHEMA_VERSION:
            raise StoreReadOnlyError(
                f"the session store at {self._path} needs an upgrade (schema {version}), "
                "which a read-only open cannot do: open it once with write access"
            )
        return conn

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            connections = list(self._open)
        for connection in connections:
            connection.close()

    @contextmanager
    def bulk_writes(self) -> Iterator[None]:
        """Many large write transactions follow (an import) from this thread.

        The log is checkpointed by a thread of its own, beside the writes,
        instead of inside the commit that fills it (a checkpoint copies the log
        into the file and syncs both; its C code runs without the GIL). A
        PASSIVE checkpoint neither waits for nor blocks anyone, and the log is
        still whole if the process dies mid-way: only who does the work changes.
        When the log still passes :data:`LOG_BOUND_BYTES`, the writer cuts it
        between two transactions (see :meth:`_bound_log`).
        """
        if self.read_only:
            yield
            return
        conn = self._connect()
        checkpoints = _Checkpointer(self._path, self._busy_timeout)
        self._autocheckpoint(conn, on=False)
        self._local.bounds_log = True
        try:
            yield
        finally:
            self._local.bounds_log = False
            checkpoints.stop()
            with suppress(sqlite3.Error):
                self._autocheckpoint(conn, on=True)

    def watch_changes(self, on_change: Callable[[], None]) -> None:
        """Nothing to watch: SQLite has no way to tell another process that a write
        committed, so live pages keep polling the store's version (one index probe
        of a local file, cheap enough once a second per stream)."""

    def scrub(self) -> bool:
        """Erase from the files what writes removed: merge the full-text index (its old
        segments keep deleted text), rebuild the file (VACUUM, with secure_delete on),
        then copy the log in and cut it to nothing. False when a reader held the log."""
        if self._why_read_only is not None:
            raise StoreReadOnlyError(
                f"the session store at {self._path} is read-only ({self._why_read_only})"
            )
        conn = self._connect()
        try:
            conn.execute("PRAGMA secure_delete = ON")
            conn.execute("INSERT INTO sessions_fts (sessions_fts) VALUES ('optimize')")
            self._side_for(conn, write=True)  # detached: its file is made anew
            conn.execute("VACUUM")
            (busy, _, _) = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            self._remake_side_index()
        except sqlite3.Error as error:
            raise self._translate(error, _Deadline(None)) from error
        return not busy

    def _remake_side_index(self) -> None:
        """The side index made anew from the stored entries: it keeps no text to take
        the erased words out of (its indexer's lock held meanwhile)."""
        from claude_sessions.store.sqlite.side_indexer import catch_up

        while True:  # an indexer running (in the background) finishes its batch first
            with side_index.writing(self._path) as mine:
                if mine:
                    side_index.remove(self.side_index)
                    break
            time.sleep(0.1)
        while catch_up(self._path).busy:
            time.sleep(0.1)

    # -- transactions ---------------------------------------------------------------

    def transact(self, txn: Txn[T]) -> T:
        if txn.write and self._why_read_only is not None:
            raise StoreReadOnlyError(
                f"the session store at {self._path} is read-only ({self._why_read_only})"
            )
        conn = self._connect()
        deadline = _Deadline(txn.time_limit)
        conn.set_progress_handler(deadline.passed, _PROGRESS_STEPS)
        try:
            self._side_for(conn, write=txn.write)
            self._begin(conn, write=txn.write, deadline=deadline)
            try:
                value = self._run(conn, txn)
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    with suppress(sqlite3.Error):
                        conn.execute("ROLLBACK")
                raise
            if txn.write and getattr(self._local, "bounds_log", False):
                self._bound_log(conn)
            return value
        except sqlite3.Error as error:
            raise self._translate(error, deadline) from error
        finally:
            conn.set_progress_handler(None, 0)

    def _bound_log(self, conn: sqlite3.Connection) -> None:
        """Past :data:`LOG_BOUND_BYTES`, copy the log into the file and cut it to nothing
        (a TRUNCATE checkpoint): it waits for the background checkpoint and for readers
        still using the log, briefly; if they keep it, the next transaction tries again."""
        try:
            size = os.stat(f"{self._path}-wal").st_size
        except OSError:
            return
        if size <= LOG_BOUND_BYTES:
            return
        conn.execute(f"PRAGMA busy_timeout = {_LOG_CUT_WAIT_MS}")
        try:
            (busy, _, _) = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            if busy:
                log.debug("the log (%d bytes) is still in use: cut after the next write", size)
        except sqlite3.Error as error:
            log.debug("cutting the log failed: %s", error)
        finally:
            conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout * 1000)}")

    def _begin(self, conn: sqlite3.Connection, *, write: bool, deadline: _Deadline) -> None:
        """Begin; a writer waits for the write lock in short slices (SQLite's own wait is
        one uninterruptible call): between them, Ctrl-C can end the wait."""
        if not write:
            conn.execute("BEGIN DEFERRED")
            return
        waited_until = time.monotonic() + self._busy_timeout
        conn.execute(f"PRAGMA busy_timeout = {_LOCK_WAIT_SLICE_MS}")
        try:
            while True:
                try:
                    conn.execute("BEGIN IMMEDIATE")
                    return
                except sqlite3.OperationalError as error:
                    if not _busy(error) or time.monotonic() >= waited_until:
                        raise
        finally:
            conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout * 1000)}")

    @staticmethod
    def _run(conn: sqlite3.Connection, txn: Txn[T]) -> T:
        op = txn.make()
        try:
            stmt = next(op)
            while True:
                stmt = op.send(execute(conn, stmt))
        except StopIteration as done:
            value: T = done.value
            return value

    def _translate(self, error: sqlite3.Error, deadline: _Deadline) -> StoreError:
        text = str(error)
        if "interrupted" in text:
            if deadline.passed():
                return QueryTooExpensiveError(
                    f"the search took longer than {deadline.seconds:g}s and was stopped: "
                    "use fewer, longer or rarer words"
                )
            # No time limit stopped it: a signal handler (Ctrl-C) raised inside the
            # statement, and the sqlite3 module dropped its exception.
            raise KeyboardInterrupt from error
        if any(word in text.lower() for word in ("readonly", "read-only")):
            return StoreReadOnlyError(f"the session store at {self._path} is read-only: {text}")
        return StoreError(f"session store error ({self._path}): {text}")


class _Deadline:
    """A transaction's time limit (if any), checked by SQLite's progress handler.

    The handler also runs Python code every few thousand steps of a statement,
    which is when a pending signal handler gets to run: so Ctrl-C stops a long
    statement instead of waiting for it to end.
    """

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds
        self._at = math.inf if seconds is None else time.monotonic() + seconds

    def passed(self) -> bool:
        return time.monotonic() > self._at


def _busy(error: sqlite3.OperationalError) -> bool:
    return any(word in str(error).lower() for word in _OPEN_TROUBLE)


def _file_id(path: Path) -> tuple[int, int] | None:
    try:
        found = path.stat()
    except OSError:
        return None
    return found.st_dev, found.st_ino


class _ThreadConnection:
    """One thread's connection, closed when that thread ends (its thread-local value is
    dropped then) or when the driver closes, whichever comes first.

    A server's worker threads come and go: a connection kept per thread for the
    store's life would pile up (and so would its file descriptors).
    """

    __slots__ = ("__weakref__", "close", "conn", "side_attached", "side_file")

    def __init__(self, conn: sqlite3.Connection, *, optimize: bool) -> None:
        self.side_attached = False  # see SQLiteDriver._side_for
        self.side_file: tuple[int, int] | None = None  # the file attached (device, inode)
        self.conn = conn
        self.close = weakref.finalize(self, _close_connection, conn, optimize)


def _close_connection(conn: sqlite3.Connection, optimize: bool) -> None:
    if optimize:
        with suppress(sqlite3.Error):
            _optimize(conn)
    with suppress(sqlite3.Error):
        conn.close()


# A statistics row saying an index is empty ('0', then a 0 per key column).
_MARK_EMPTY_INDEXES = """
INSERT INTO sqlite_stat1 (tbl, idx, stat)
SELECT m.tbl_name, m.name, '0' || (SELECT group_concat(' 0', '') FROM pragma_index_info(m.name))
FROM sqlite_master m
WHERE m.type = 'index' AND m.tbl_name = ?
  AND m.name NOT IN (SELECT idx FROM sqlite_stat1 WHERE tbl = ? AND idx IS NOT NULL)
"""


def _optimize(conn: sqlite3.Connection) -> None:
    """``PRAGMA optimize``, and a statistics row for each empty index it leaves without one.

    ANALYZE writes no row for an empty index (the trash's, while nothing is
    trashed), and ``PRAGMA optimize`` takes an index without a row for one never
    analyzed: every command would analyze the sessions table again as it
    closes, reading all of it and its indexes. With the row, the table is
    analyzed again when SQLite's own rules say so (it grew 25-fold).
    """
    if not conn.execute("PRAGMA optimize(-1)").fetchall():  # its dry run: nothing to do
        return
    with conn:  # one transaction, so that no other close analyzes the table in between
        conn.execute("BEGIN IMMEDIATE")
        pending = {row[0] for row in conn.execute("PRAGMA optimize(-1)")}
        conn.execute("PRAGMA optimize")
        tables = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
        for (table,) in tables:
            if f'ANALYZE "main"."{table}"' in pending:
                conn.execute(_MARK_EMPTY_INDEXES, (table, table))


class _Checkpointer:
    """PASSIVE checkpoints every :data:`CHECKPOINT_INTERVAL` seconds on a connection
    and thread of their own, and a last one when stopped."""

    def __init__(self, path: Path, busy_timeout: float) -> None:
        self._stop = threading.Event()
        self._conn = sqlite3.connect(
            path, timeout=busy_timeout, isolation_level=None, check_same_thread=False
        )
        self._conn.execute("PRAGMA synchronous = NORMAL")
        self._thread = threading.Thread(
            target=self._loop, name="claude-sessions-checkpoints", daemon=True
        )
        self._thread.start()

    def _loop(self) -> None:
        try:
            while not self._stop.wait(CHECKPOINT_INTERVAL):
                self._checkpoint()
            self._checkpoint()
        finally:
            self._conn.close()

    def _checkpoint(self) -> None:
        try:
            self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        except sqlite3.Error as error:  # the next one, or a commit, will do it
            log.debug("background checkpoint failed: %s", error)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
