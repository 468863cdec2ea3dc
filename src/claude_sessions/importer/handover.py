"""Captures and imports of one transcript hand over to each other instead of queueing.

Claude Code may run several hooks of a session at once, and an import or
``watch`` may be reading the same transcript. One process at a time reads a
transcript into a store; the others leave a note and go:

- a process *claims* the transcript (a lock that never waits) before it reads;
- one that finds it claimed sets the transcript's *mark* ("more to read"),
  tries once more (the holder may have let go meanwhile) and leaves;
- the holder clears the mark before it reads; after it lets go it looks at the
  mark, and if it is set, claims the transcript again and reads again (unless
  another process claimed it first: that one reads).

So whatever was written before a process set the mark is read after that by
some holder: no line is left behind, and a capture that hands over leaves in
milliseconds, without opening the store.

Claims are POSIX byte-range locks on one file per store, a byte for each
transcript: the kernel drops them when a process dies, and thousands fit in
one file descriptor. They belong to a process, not to a thread, so this module
tells its own threads apart (:data:`_held`), and never closes that file (which
would drop every claim the process holds). Marks are empty files. Where the
folder cannot be written, nothing is coordinated: each process reads for itself,
as two imports at once always could (nothing is duplicated).

Light to import (the standard library and the store's location rules): a hook
that hands over opens no store and loads no importer.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import os
import threading
from pathlib import Path

from claude_sessions.store import default_location, mask_password, sqlite_path

FOLDER = "capture-handover"
_LOCKS = "locks"
_BUSY = (errno.EACCES, errno.EAGAIN)

_guard = threading.Lock()
_held: set[tuple[str, int]] = set()  # (lock file, offset) claimed by a thread of this process
_descriptors: dict[str, int] = {}  # lock file -> its descriptor, open for the process's life


def capture_dir(location: str | os.PathLike[str] | None = None) -> Path:
    """Where captures keep their log and claims: beside a SQLite store's database,
    else under ``~/.claude_sdk``."""
    path = sqlite_path(location if location is not None else default_location())
    return path.parent if path is not None else Path("~/.claude_sdk").expanduser()


def _store_name(location: str | os.PathLike[str] | None) -> str:
    """The same text for every spelling of one store (a password never in it)."""
    text = os.fspath(location) if location is not None else default_location()
    path = sqlite_path(text)
    return str(path.resolve()) if path is not None else mask_password(text)


class Claim:
    """This process's claim on one transcript (``path``, as named; ``real``, as
    :meth:`Desk.real` names it); see the module docstring."""

    def __init__(self, desk: Desk, offset: int | None, mark: str, path: Path, real: str) -> None:
        self._desk, self._offset, self._mark = desk, offset, mark
        self._holding = offset is not None
        self.path, self.real = path, real

    def start_reading(self) -> None:
        """Clear the mark: what it asked for is read from now on."""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._mark)

    def release(self) -> None:
        """Release the claim (if still held), leaving the mark to the next holder."""
        if self._holding and self._offset is not None:
            self._holding = False
            self._desk.release(self._offset)

    def let_go(self) -> bool:
        """Release the claim; ``True`` when more was asked for meanwhile and the claim
        is this process's again (read again, then let go again)."""
        self.release()
        if self._offset is not None and os.path.exists(self._mark):
            self._holding = self._desk.take(self._offset)
        return self._holding


class Desk:
    """The claims and marks of one store's transcripts."""

    def __init__(self, location: str | os.PathLike[str] | None = None) -> None:
        self.folder = capture_dir(location) / FOLDER
        self._store = _store_name(location)
        # One name for the file however the store was spelled: the same claims.
        self._lock_file = os.path.realpath(self.folder / _LOCKS)
        self._marks = os.path.dirname(self._lock_file)
        self._folders: dict[str, str] = {}  # a transcript's folder, its links resolved

    def real(self, transcript: str | os.PathLike[str]) -> str:
        """The name a transcript is claimed by: its folder's real path, and its own
        name (one ``realpath`` a folder: an import claims thousands)."""
        parent, name = os.path.split(os.fspath(transcript))
        folder = self._folders.get(parent)
        if folder is None:
            folder = self._folders[parent] = os.path.realpath(parent)
        return os.path.join(folder, name)

    def claim(self, transcript: str | os.PathLike[str], real: str | None = None) -> Claim | None:
        """Claim ``transcript`` (``real``: its :meth:`real` name, if known); ``None``
        when another holder has it (and will read what it was asked for here)."""
        path = Path(transcript)
        real = real if real is not None else self.real(path)
        digest = hashlib.sha256(
            f"{self._store}\0{real}".encode("utf-8", "surrogateescape")
        ).hexdigest()
        # 60 bits of the digest: two transcripts would share a byte only among billions.
        offset, mark = int(digest[:15], 16), os.path.join(self._marks, f"{digest[:32]}.more")
        try:
            if self.take(offset):
                return Claim(self, offset, mark, path, real)
            os.close(os.open(mark, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o600))
            if self.take(offset):
                return Claim(self, offset, mark, path, real)
        except OSError:  # no folder we may write: nothing to coordinate
            return Claim(self, None, mark, path, real)
        return None

    def _descriptor(self) -> int:
        known = _descriptors.get(self._lock_file)
        if known is None:
            self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            known = os.open(self._lock_file, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            _descriptors[self._lock_file] = known
        return known

    def take(self, offset: int) -> bool:
        with _guard:
            if (self._lock_file, offset) in _held:
                return False
            try:
                fcntl.lockf(self._descriptor(), fcntl.LOCK_EX | fcntl.LOCK_NB, 1, offset)
            except OSError as error:
                if error.errno in _BUSY:
                    return False
                raise
            _held.add((self._lock_file, offset))
            return True

    def release(self, offset: int) -> None:
        with _guard:
            fcntl.lockf(self._descriptor(), fcntl.LOCK_UN, 1, offset)
            _held.discard((self._lock_file, offset))
