"""Capture without hooks: watch the CLI's transcript folders and import what changes.

:func:`watch` imports everything once, then waits for file changes
(``watchfiles``: inotify on Linux), lets them settle for ``debounce``
seconds, and imports the transcripts that changed, incrementally (a file
that only grew is read from where the last import stopped). Nothing written
before a folder is watched is missed: once the watch is on, everything is
looked at again (what was written during the first import), and a folder that
appears is read whole (Claude Code writes a new project's first turn at once,
before the folder is watched). It yields a
:class:`WatchState` after each round, for a live status line, and returns
when ``stop`` is set or on Ctrl-C.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from claude_sessions.importer import ImportReport, default_projects_dir, discover, import_found
from claude_sessions.model.exceptions import InvalidInputError
from claude_sessions.store.search_index import update_search_index

if TYPE_CHECKING:
    from claude_sessions.store import SessionStore

_LOOK_MS = 200  # how long the watcher waits for changes before it says it has none


@dataclass
class WatchState:
    """What a watch has done so far."""

    directory: Path
    rounds: int = 0
    entries: int = 0
    sessions: set[str] = field(default_factory=set)
    problems: int = 0
    last: str = "starting"

    def line(self) -> str:
        """One line for a live status."""
        return (
            f"Watching {self.directory}: {self.entries} entries from {len(self.sessions)} "
            f"session(s) in {self.rounds} import(s)"
            + (f", {self.problems} problem(s)" if self.problems else "")
            + f"; last: {self.last}"
        )

    def add(self, report: ImportReport, sessions: set[str]) -> None:
        self.rounds += 1
        self.entries += report.entries_imported
        if report.entries_imported:
            self.sessions |= sessions
        self.problems += len(report.errors)
        stamp = time.strftime("%H:%M:%S")
        self.last = f"{stamp} +{report.entries_imported} entries"


def _in_new_folder(folder: str) -> Iterator[str]:
    """Every file under a folder that just appeared: the first ones can be written
    before the folder is watched, and no event ever names them."""
    for parent, _, names in os.walk(folder):  # links to folders are not followed
        yield from (os.path.join(parent, name) for name in names)


def _transcripts(changed: Iterable[tuple[int, str]], root: Path) -> list[str]:
    """The changed transcripts, and those in new folders, that still exist and really
    are under ``root`` (no links out)."""
    from watchfiles import Change

    inside = root.resolve()
    found = set()
    for change, path in changed:
        new_folder = change == Change.added and os.path.isdir(path)
        for candidate in _in_new_folder(path) if new_folder else [path]:
            if (
                candidate.endswith(".jsonl")
                and os.path.isfile(candidate)
                and inside in Path(candidate).resolve().parents
            ):
                found.add(candidate)
    return sorted(found)


def watch(
    store: SessionStore,
    directory: str | os.PathLike[str] | None = None,
    *,
    debounce: float = 1.0,
    stop: threading.Event | None = None,
) -> Iterator[WatchState]:
    """Import the transcripts under ``directory`` now and whenever they change.

    ``directory`` defaults to the CLI's projects folder (created if missing,
    so a watch can start before the first session); a directory named
    explicitly must exist. See the module docstring.
    """
    import watchfiles

    if directory is None:
        root = default_projects_dir()
        root.mkdir(parents=True, exist_ok=True)
    else:
        root = Path(directory).expanduser()
        if not root.is_dir():
            raise InvalidInputError(f"no such directory: {root}")
    state = WatchState(root)
    found = discover([root])
    state.add(import_found(store, found), {f.session_id for f in found.files})
    update_search_index(store)  # all that is not indexed yet: later, what changed
    yield state
    watching = False
    for changes in watchfiles.watch(
        root,
        debounce=int(debounce * 1000),
        step=50,
        stop_event=stop,
        raise_interrupt=True,  # Ctrl-C ends the command, with its exit code
        recursive=True,
        rust_timeout=_LOOK_MS,
        yield_on_timeout=True,  # the first yield says the watch is on
    ):
        if not watching:  # on now: what was written since the first import has no event
            watching = True
            found = discover([root])
        else:
            paths = _transcripts(changes, root)
            if not paths:
                continue
            found = discover(paths, with_subagents=False)  # each changed file, no more
        state.add(import_found(store, found), {f.session_id for f in found.files})
        update_search_index(store, session_ids={f.session_id for f in found.files})
        yield state
