"""Capture without hooks: watch the CLI's transcript folders and import what changes.

:func:`watch` imports everything once, then waits for file changes
(``watchfiles``: inotify on Linux), lets them settle for ``debounce``
seconds, and imports the transcripts that changed, incrementally (a file
that only grew is read from where the last import stopped). It yields a
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

from ..exceptions import InvalidInputError
from ..importer import ImportReport, default_projects_dir, discover, import_found

if TYPE_CHECKING:
    from ..store import SessionStore


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


def _transcripts(changed: Iterable[tuple[object, str]], root: Path) -> list[str]:
    """The changed transcripts that still exist and really are under ``root`` (no links out)."""
    inside = root.resolve()
    found = set()
    for _, path in changed:
        if path.endswith(".jsonl") and os.path.isfile(path):
            resolved = Path(path).resolve()
            if inside in resolved.parents:
                found.add(path)
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
    yield state
    for changes in watchfiles.watch(
        root,
        debounce=int(debounce * 1000),
        step=50,
        stop_event=stop,
        raise_interrupt=True,  # Ctrl-C ends the command, with its exit code
        recursive=True,
    ):
        paths = _transcripts(changes, root)
        if not paths:
            continue
        found = discover(paths)
        state.add(import_found(store, found), {f.session_id for f in found.files})
        yield state
