"""The decisions of the store's writes, apart from the SQL that carries them out.

Pure functions of what a transaction read and what the caller asked, so each
rule is tested without a database: which session a fork came from and where it
branched, which session a summary titles, when a session was created and last
updated, which entries keep their key, which tags change, and when a periodic
job is due.

Fork precedence, from the strongest evidence to the weakest:

1. what a run reports (``forked_from`` and ``forked_at`` from ``fork``),
   unless the session already holds another origin or a branch point (a hook
   may have captured the fork first, linking it by its shared entries);
2. the marks a fork's copied entries carry: the CLI's ``requestSessionId``,
   the SDK's ``forkedFrom`` (see :func:`claude_sessions.model.derive.copied_from`);
3. content, among the stored sessions whose root entry is the same
   (:func:`same_root`): the fork holds its origin's entries (same uuids) and
   entries of its own, so a session whose entries are all held by another is
   that one's origin (:func:`settle_kin`). Decided again whenever one of them
   gets entries, so the order files arrive in does not matter;
4. what the session already holds;
5. a stored session whose root entry a newly rooted session repeats, when
   nothing above tells which is which (neither holds all of the other's
   entries): the one stored first is taken as the origin.
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
    """The session's fork link from its own evidence (see the module docstring):
    ``held`` is what the session holds, ``reported`` what the run says, ``marker``
    the origin its copied entries name."""
    origin = reported.forked_from
    if origin is not None and held.forked_from in (None, origin) and held.forked_at is None:
        return reported
    return marked_link(held, marker)


def marked_link(held: ForkLink, marker: str | None) -> ForkLink:
    """``held``, or the origin the entries' marks name when they name another one."""
    if marker is None or held.forked_from == marker:
        return held
    return ForkLink(marker, None)


@dataclass(frozen=True)
class Kin:
    """A stored session among those sharing one root entry (see :func:`settle_kin`).

    ``link``: its fork link from its own evidence (:func:`fork_link`); ``pinned``:
    that evidence is a run's report or its entries' marks, which content never
    overrides; ``keys``: the uuids of its main transcript's entries.
    """

    ref: int
    session_id: str
    link: ForkLink
    pinned: bool
    keys: frozenset[str]


def settle_kin(kin: Sequence[Kin], *, newly_rooted: int | None = None) -> dict[int, ForkLink]:
    """The fork link of each of ``kin`` (sessions sharing a root entry), by ref.

    A pinned link stays. Otherwise a session whose entries include all of another's
    and more is a fork of it (of the fullest such one, for a fork of a fork); one
    without such an origin keeps what it holds. Of two sessions linked to each
    other, the weaker link goes (pinned, then content, then held; at equal
    strength the one stored first is the origin). ``newly_rooted``: a session that
    got its root entry in this write; when nothing links it, it is taken as a fork
    of the one stored first that content does not show to be its own descendant.
    """
    found = {k.ref: (k.link, _PINNED) if k.pinned else _by_content(k, kin) for k in kin}
    links = {ref: link for ref, (link, _) in found.items()}
    by_id = {k.session_id: k for k in kin}
    for k in kin:
        other = by_id.get(links[k.ref].forked_from or "")
        if other is None or links[other.ref].forked_from != k.session_id:
            continue
        if (found[k.ref][1], k.ref) < (found[other.ref][1], other.ref):
            links[k.ref] = NOT_FORKED
    if newly_rooted in links and links[newly_rooted].forked_from is None:
        new = next(k for k in kin if k.ref == newly_rooted)
        first = min(
            (
                k
                for k in kin
                if k.session_id != new.session_id
                and links[k.ref].forked_from != new.session_id
                and not new.keys < k.keys  # holding all of the new one's: its descendant
            ),
            key=lambda k: k.ref,
            default=None,
        )
        if first is not None:
            links[newly_rooted] = ForkLink(first.session_id, None)
    return links


_HELD, _CONTENT, _PINNED = 0, 1, 2  # how strong a link's evidence is


def _by_content(session: Kin, kin: Sequence[Kin]) -> tuple[ForkLink, int]:
    """``session``'s link by content (its fullest proper subset among ``kin``), else
    the one it holds; and how strong that is."""
    origins = [k for k in kin if k.session_id != session.session_id and k.keys < session.keys]
    if not origins:
        return session.link, _HELD
    origin = max(origins, key=lambda k: (len(k.keys), -k.ref))
    kept_at = session.link.forked_at if session.link.forked_from == origin.session_id else None
    return ForkLink(origin.session_id, kept_at), _CONTENT


@dataclass(frozen=True)
class Holder:
    """A live session holding a summary's leaf entry, at position ``seq``."""

    ref: int
    session_id: str
    forked_from: str | None
    seq: int


def summary_holder(holders: Sequence[Holder]) -> Holder | None:
    """The session a summary titles among those holding its leaf entry: a fork holds
    copies of its origin's entries, so not one forked from another holder; of the
    others, the one stored first."""
    ids = {h.session_id for h in holders}
    origins = [h for h in holders if h.forked_from not in ids] or list(holders)
    return min(origins, key=lambda h: h.ref, default=None)


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


def store_version(top_mtime_ms: int, writes: str | None) -> str:
    """A value that changes whenever a session is written, trashed or deleted: the
    newest storage time and the count of write transactions."""
    return f"{top_mtime_ms}.{writes or 0}"
