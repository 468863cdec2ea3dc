"""Resuming here a session whose transcript only the store has (another machine's, or
one the CLI's own cleanup deleted).

The session is written back into Claude Code's folder for the directory it is
resumed in (:func:`~.write_back.write_back`, each entry's ``cwd`` moved there
when the project lives elsewhere on this machine), so the real CLI resumes it
as its own, and ``claude --resume`` or ``/resume`` find it afterwards. What
the resumed run adds then reaches the store in the session's own form: imported
for a captured session, recorded as a run for one saved from runs.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from claude_sessions.capture.write_back import WrittenBack, write_back
from claude_sessions.importer.discovery import has_local_transcript

if TYPE_CHECKING:
    from claude_sessions.store import SessionStore


def write_back_for_resume(
    store: SessionStore,
    session_id: str,
    *,
    cwd: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
) -> WrittenBack | None:
    """Write ``session_id`` back for ``cwd`` (default: the current directory) when the
    CLI (run with ``env``) has no transcript of it and ``store`` has the session;
    ``None`` when there is nothing to write back."""
    if has_local_transcript(session_id, env or {}) or store.get_metadata(session_id) is None:
        return None
    return write_back(store, session_id, cwd=cwd if cwd is not None else os.getcwd())


def run_store(store: SessionStore, written: WrittenBack) -> SessionStore | None:
    """The store the resumed run saves itself into as it completes (``None``: none).
    A session saved from runs (written back converted) stays in that form, so the
    run is recorded there; a captured one gets the new transcript entries from
    :func:`keep_resumed`."""
    return store if written.converted else None


def keep_resumed(
    store: SessionStore,
    written: WrittenBack,
    *,
    tags: Iterable[str] = (),
    description: str | None = None,
    continued_as: str | None = None,
) -> None:
    """Copy what the resumed run appended to the transcript written back into ``store``,
    with ``tags`` and ``description`` (when given) on the session; ``continued_as``: the
    id of the fork the run continued it as instead (Claude Code writes it beside). A
    session saved from runs recorded the run itself (:func:`run_store`)."""
    from claude_sessions.importer import import_session_files

    session_id = continued_as or written.session_id
    path = written.path.with_name(f"{session_id}.jsonl")
    if not written.converted and path.is_file():
        import_session_files(store, path)
    if continued_as is not None and store.get_metadata(continued_as) is None:
        return  # the run stopped before Claude Code began the fork
    if tags:
        store.add_tags(session_id, tags)
    if description is not None:
        store.set_description(session_id, description)
