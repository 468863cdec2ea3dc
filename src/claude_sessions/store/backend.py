"""The small interface a storage backend implements, and location -> backend dispatch.

A backend owns the SQL (or whatever its engine speaks); :mod:`.store` owns the
public API, validation and the clock, and never sees a query string. The
derivation rules every backend applies live in pure modules (:mod:`.metadata`,
:func:`claude_agent_sdk.fold_session_summary`) so a second backend (PostgreSQL
is planned) computes exactly the same metadata.

Session identity: a session is ``(project_key, session_id)``; the official SDK
protocol keys transcripts that way, and its conformance suite stores the same
id under two project keys. Methods that take only a ``session_id`` (the
public API's) act on the most recently updated session with that id; CLI ids
are UUIDs, so two project keys for one id only happen when a caller makes it
so. ``delete`` without a project key removes the id under every project key.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from ..exceptions import StoreError
from .models import SessionMetadata

Entry = Mapping[str, Any]


@dataclass(frozen=True)
class Query:
    """Validated search criteria (see ``SessionStore.search``). Times in epoch seconds."""

    tags: tuple[str, ...] = ()
    match_all_tags: bool = False
    after: float | None = None
    before: float | None = None
    min_cost: float | None = None
    max_cost: float | None = None
    model: str | None = None
    project: str | None = None
    text: str | None = None
    limit: int | None = None
    offset: int = 0


@dataclass(frozen=True)
class ProjectSession:
    """One main transcript under a project key, as the SDK protocol lists it."""

    session_id: str
    mtime_ms: int
    summary: dict[str, Any] | None


class Backend(Protocol):
    """What :class:`~claude_sessions.store.SessionStore` needs from a storage engine.

    ``now`` arguments are epoch seconds from the store's clock. Every write is
    one short transaction; metadata and the SDK summary sidecar are folded
    inside it, so concurrent writers never lose an update.
    """

    @property
    def location(self) -> str:
        """Where the data lives, printable (passwords masked)."""
        ...

    def close(self) -> None: ...

    def save(
        self,
        session_id: str,
        entries: Sequence[Entry],
        *,
        tags: Sequence[str],
        description: str | None,
        project: str | None,
        project_key: str,
        forked_from: str | None,
        now: float,
    ) -> SessionMetadata:
        """Create or replace the main transcript of a session (keeps ``created_at``)."""
        ...

    def append(
        self,
        session_id: str,
        entries: Sequence[Entry],
        *,
        project_key: str | None,
        subpath: str,
        now: float,
    ) -> SessionMetadata:
        """Add entries (upserting by ``uuid``); ``project_key=None`` picks the newest id match."""
        ...

    def load(
        self, session_id: str, *, project_key: str | None = None, subpath: str = ""
    ) -> tuple[SessionMetadata, list[dict[str, Any]]] | None:
        """Metadata and entries in order; ``None`` when the session (or subpath) has none."""
        ...

    def get_metadata(self, session_id: str) -> SessionMetadata | None: ...

    def query(self, query: Query) -> list[SessionMetadata]:
        """Sessions matching ``query``: newest ``updated_at`` first, or ranked for text."""
        ...

    def find_ids(self, prefix: str, limit: int) -> list[str]:
        """Distinct session ids starting with ``prefix`` (an exact match comes first)."""
        ...

    def delete(
        self, session_id: str, *, project_key: str | None = None, subpath: str | None = None
    ) -> bool: ...

    def update(
        self,
        session_id: str,
        *,
        add_tags: Sequence[str] = (),
        remove_tags: Sequence[str] = (),
        description: str | None = None,
        set_description: bool = False,
    ) -> SessionMetadata | None: ...

    def expired(self, cutoff: float, protected_tags: Sequence[str]) -> list[SessionMetadata]:
        """Sessions last updated before ``cutoff`` with none of ``protected_tags``."""
        ...

    def delete_expired(self, cutoff: float, protected_tags: Sequence[str]) -> int: ...

    def claim_cleanup(self, now: float, interval: float) -> bool:
        """Record a cleanup run at ``now`` unless one ran less than ``interval`` ago."""
        ...

    def project_sessions(self, project_key: str) -> list[ProjectSession]: ...

    def subkeys(self, project_key: str, session_id: str) -> list[str]: ...

    # Whole sessions as stored, for copying a store between backends (.migrate):
    # a record holds the session row, its tags with their source and every entry.

    def export_refs(self, after: int, limit: int) -> list[int]:
        """Internal ids of sessions after ``after``, in order, at most ``limit``."""
        ...

    def find_ref(self, session_id: str, project_key: str) -> int | None: ...

    def export_session(self, ref: int) -> dict[str, Any] | None: ...

    def import_session(self, record: dict[str, Any]) -> None:
        """Write ``record`` as it is, replacing a session with the same key."""
        ...


_SCHEME_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_PASSWORD_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://[^:/@]*:)[^@/]*@")


def mask_password(url: str) -> str:
    """``scheme://user:secret@host`` becomes ``scheme://user:***@host``."""
    return _PASSWORD_RE.sub(r"\1***@", url)


def open_backend(location: str | Path) -> Backend:
    """The backend for a location: a directory or file path, or a URL.

    - a path (``str`` or ``Path``): SQLite; a directory gets ``sessions.db``
      inside, a path ending in ``.db``/``.sqlite``/``.sqlite3`` (or an
      existing file) is the database file itself;
    - ``sqlite:///abs/path.db`` (``sqlite://rel.db`` is relative);
    - ``postgresql://`` / ``postgres://``: the PostgreSQL backend (:mod:`.postgres`);
    - any other scheme: :class:`StoreError`.
    """
    if isinstance(location, Path):
        return _sqlite(location)
    match = _SCHEME_RE.match(location)
    if match is None:
        return _sqlite(Path(location).expanduser())
    scheme = match.group(1).lower()
    if scheme == "sqlite":
        rest = location[match.end() :]
        if not rest:
            raise StoreError(f"no database path in {location!r}")
        return _sqlite(Path(rest).expanduser(), is_file=True)
    if scheme in ("postgresql", "postgres"):
        from .postgres import PostgresBackend

        return PostgresBackend(location)
    raise StoreError(
        f"unknown store location scheme {scheme!r} in {mask_password(location)} "
        "(use a directory path, sqlite:///path/to.db or postgresql://...)"
    )


def _sqlite(path: Path, *, is_file: bool | None = None) -> Backend:
    from .sqlite import SQLiteBackend

    if is_file is None:
        is_file = path.suffix in (".db", ".sqlite", ".sqlite3") or path.is_file()
    return SQLiteBackend(path if is_file else path / "sessions.db")
