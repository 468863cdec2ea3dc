"""The decisions of the store's writes, apart from the SQL that carries them out.

Pure functions of what a transaction read and what the caller asked, so each
rule is tested without a database: which session a fork came from and where it
branched, when a session was created and last updated, which entries keep their
key, which tags change, and when a periodic job is due.

Fork precedence, from the strongest evidence to the weakest:

1. what a run reports (``forked_from`` and ``forked_at`` from ``fork``),
   unless the session already holds another origin or a branch point (a hook
   may have captured the fork first, linking it by its shared entries);
2. what the session already holds;
3. the ``forkedFrom`` marker the SDK writes into forked entries;
4. a stored session whose root entry this session's root entry repeats
   (:func:`same_root`): looked for only while nothing above gave an origin and
   the session had no root entry before (:func:`seek_shared_root`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from claude_sessions.model.entries import NewEntry

Keyed = tuple[str | None, dict[str, Any], str]  # (idempotency key, entry, JSON text)


@dataclass(frozen=True)
class ForkLink:
    """Where a session comes from: the origin's session id and the message it branched
    at (``None``: not known, or it branched after the origin's last message)."""

    forked_from: str | None = None
    forked_at: str | None = None


NOT_FORKED = ForkLink()


def fork_link(held: ForkLink, reported: ForkLink, marker: str | None) -> ForkLink:
    """The session's fork link after a write (see the module docstring): ``held`` is
    what the session holds, ``reported`` what the run says, ``marker`` the SDK's
    ``forkedFrom`` found in the entries."""
    link = held
    origin = reported.forked_from
    if origin is not None and held.forked_from in (None, origin) and held.forked_at is None:
        link = reported
    if link.forked_from is None and marker is not None:
        link = ForkLink(marker, link.forked_at)
    return link


def seek_shared_root(link: ForkLink, *, had_root: bool) -> bool:
    """Whether to look for the origin by a shared root entry (the weakest evidence)."""
    return link.forked_from is None and not had_root


def same_root(stored: Mapping[str, Any], root: Mapping[str, Any]) -> bool:
    """Whether a stored session's root entry is ``root`` copied by a fork.

    The CLI's ``--fork-session`` copies the earlier entries into the new
    session's file with the same uuids, the same message and the same time
    (only ``sessionId`` changes): a uuid alone is no evidence (two unrelated
    files can share one), so the message and the time must match too.
    """
    return stored.get("message") == root.get("message") and stored.get("timestamp") == root.get(
        "timestamp"
    )


def created_after_save(held: float | None, first_seen: float | None, now: float) -> float:
    """``created_at`` of a saved transcript: a stored session keeps its own; a new one
    starts at its first entry's time (now, without one)."""
    if held is not None:
        return held
    return first_seen if first_seen is not None else now


def created_after_batch(held: float, first_seen: float | None, *, was_empty: bool) -> float:
    """``created_at`` after a batch: the earliest entry's time, the batch's own when the
    session held nothing yet (its creation time was only when the row was made)."""
    if first_seen is None:
        return held
    return first_seen if was_empty else min(held, first_seen)


def updated_at(created: float, last_seen: float | None, now: float) -> float:
    """``updated_at``: the latest entry's time (now, without one), never before creation."""
    return max(last_seen if last_seen is not None else now, created)


def numbered(batch: Sequence[Keyed]) -> list[NewEntry]:
    """A whole transcript's entries in order; the key column is unique, so the first
    entry with a key keeps it and later ones with the same key are stored without."""
    rows: list[NewEntry] = []
    seen: set[str] = set()
    for seq, (key, entry, text) in enumerate(batch):
        if key is not None and key in seen:
            key = None
        elif key is not None:
            seen.add(key)
        rows.append(NewEntry(seq, key, entry, text))
    return rows


def adopted_project_key(held: str, asked: str) -> str:
    """The project key a saved session ends with: one first saved without a directory
    ('') adopts the key of the directory it is saved with later."""
    return asked if held == "" and asked else held


@dataclass(frozen=True)
class CliTagChange:
    """The tag the CLI's ``tag`` entries set: the one to take away, the one to add."""

    remove: str | None
    add: str | None


def cli_tag_change(old: str | None, new: str | None) -> CliTagChange:
    return CliTagChange(old if old and old != new else None, new or None)


def job_due(last_run: str | None, now: float, interval: float) -> bool:
    """Whether a periodic job last run at ``last_run`` (epoch seconds as text; ``None``:
    never) is due: ``interval`` seconds have passed, or the clock went back, or the
    record is unreadable."""
    if last_run is None:
        return True
    try:
        return not 0 <= now - float(last_run) < interval
    except ValueError:
        return True


def store_version(top_mtime_ms: int, sessions: int, purges: str | None) -> str:
    """A value that changes whenever a session is written, trashed or deleted."""
    return f"{top_mtime_ms}.{sessions}.{purges or 0}"
