"""What a laptop and the team server send each other (``/api/v1/``), as plain values:
the server reads and writes them, and so does the client the laptops use
(:mod:`claude_sessions.capture.team_server`). Standard library only: a capture hook
loads this."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

CONFLICT_REASON = "uuid stored with other content: the stored entry stays, this one beside it"
# Part of the reason a 409 gives for another user's session (a trashed one gives another).
ANOTHER_USERS = "belongs to another user"
# The namespace of the ids :func:`own_fork_id` makes.
_FORK_NAMESPACE = "8f0c7a52-3d1e-4b8e-9a51-6c2f0e4d7b13"


def own_fork_id(session_id: str, user: str) -> str:
    """The session a laptop sends ``user``'s new turns of another user's session
    ``session_id`` as: their own fork, under an id made of both, so a send repeated
    (from this laptop or another of theirs) lands in the same fork."""
    import uuid  # only when a send is refused: a capture's start-up does not pay for it

    return str(uuid.uuid5(uuid.UUID(_FORK_NAMESPACE), f"{session_id}\n{user}"))


@dataclass(frozen=True)
class IngestFile:
    """One transcript's entries, in order: ``subpath`` '' for the main one, else the
    subagent's as the store keeps it (``subagents/agent-a93ccab.jsonl``). ``places``:
    for each entry, the byte offset of its line in the transcript file when it has no
    uuid and the sender knows it (``None`` otherwise): what an import keys such an entry
    by, so a line Claude Code repeats word for word is kept once per line."""

    subpath: str
    entries: Sequence[dict[str, Any]]
    places: Sequence[int | None] | None = None

    def to_dict(self) -> dict[str, Any]:
        found: dict[str, Any] = {"subpath": self.subpath, "entries": list(self.entries)}
        if self.places is not None:
            found["places"] = list(self.places)
        return found


@dataclass(frozen=True)
class IngestBatch:
    """What a laptop sends of one session (``POST /api/v1/ingest``)."""

    session_id: str
    project_key: str
    cwd: str | None
    machine: str
    files: Sequence[IngestFile]

    def to_dict(self) -> dict[str, Any]:
        return {
            "session_id": self.session_id,
            "project_key": self.project_key,
            "cwd": self.cwd,
            "machine": self.machine,
            "files": [one.to_dict() for one in self.files],
        }


@dataclass(frozen=True)
class Conflict:
    """An entry whose uuid the server holds with other content."""

    subpath: str
    uuid: str
    reason: str = CONFLICT_REASON

    def to_dict(self) -> dict[str, str]:
        return {"subpath": self.subpath, "uuid": self.uuid, "reason": self.reason}


@dataclass(frozen=True)
class IngestReport:
    """What a batch did: entries newly stored, entries already there, and conflicts."""

    session_id: str
    stored: int
    duplicates: int
    conflicts: tuple[Conflict, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "session_id": self.session_id,
            "stored": self.stored,
            "duplicates": self.duplicates,
            "conflicts": [one.to_dict() for one in self.conflicts],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> IngestReport:
        return cls(
            str(data["session_id"]),
            int(data["stored"]),
            int(data["duplicates"]),
            tuple(Conflict(c["subpath"], c["uuid"], c["reason"]) for c in data["conflicts"]),
        )


@dataclass(frozen=True)
class SessionListed:
    """One session of ``GET /api/v1/sessions``."""

    session_id: str
    project_key: str
    cwd: str | None
    user: str
    machine: str
    updated_at: str  # ISO 8601
    entries: int

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SessionListed:
        return cls(**{name: data[name] for name in cls.__dataclass_fields__})


@dataclass(frozen=True)
class SessionPage:
    """A page of the sessions a user may see; ``next``: the cursor of the next page;
    ``since`` (the last page only; a server before it gives none): the cursor a later
    pull lists from, to be shown only the sessions changed since."""

    sessions: tuple[SessionListed, ...]
    next: str | None
    since: str | None = None

    def to_dict(self) -> dict[str, Any]:
        listed = [one.to_dict() for one in self.sessions]
        return {"sessions": listed, "next": self.next, "since": self.since}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SessionPage:
        listed = tuple(map(SessionListed.from_dict, data["sessions"]))
        return cls(listed, data["next"], data.get("since"))


@dataclass(frozen=True)
class SessionHeader:
    """The session an entries page is of."""

    session_id: str
    project_key: str
    cwd: str | None
    user: str
    machine: str
    title: str | None
    description: str | None
    tags: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "tags": list(self.tags)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SessionHeader:
        found = {name: data[name] for name in cls.__dataclass_fields__}
        return cls(**{**found, "tags": tuple(found["tags"])})


@dataclass(frozen=True)
class PagedEntry:
    """One stored entry: its transcript (``subpath``), its order in it, the entry, and
    its line's place in the transcript file (see :class:`IngestFile`)."""

    subpath: str
    seq: int
    entry: dict[str, Any]
    place: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"subpath": self.subpath, "seq": self.seq, "entry": self.entry, "place": self.place}


@dataclass(frozen=True)
class EntryPage:
    """A page of a session's entries, main transcript first, then each subagent's."""

    session: SessionHeader
    entries: tuple[PagedEntry, ...]
    next: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "session": self.session.to_dict(),
            "entries": [one.to_dict() for one in self.entries],
            "next": self.next,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EntryPage:
        return cls(
            SessionHeader.from_dict(data["session"]),
            tuple(
                PagedEntry(e["subpath"], int(e["seq"]), e["entry"], e.get("place"))
                for e in data["entries"]
            ),
            data["next"],
        )
