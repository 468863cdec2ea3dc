"""Secrets in stored sessions, for every face: scan the entries not scanned yet and
list what was found (see :mod:`claude_sessions.store.secret_findings`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from claude_sessions.store import SessionStore
from claude_sessions.store.secret_findings import StoredFinding, scan, with_secrets


def scan_secrets(store: SessionStore, session_ids: Sequence[str] = ()) -> list[StoredFinding]:
    """Scan the sessions ``session_ids`` name (unique prefixes; none: every live
    session) for entries not scanned yet, keep their findings, and return every
    finding of those sessions: session by session, in transcript order."""
    resolved = sorted({store.resolve_id(prefix) for prefix in session_ids}) or None
    return store.run(scan(store.core.d, resolved))


def sessions_with_secrets(store: SessionStore, session_ids: Iterable[str]) -> set[str]:
    """Which of ``session_ids`` a scan found secrets in (the "secrets" badge)."""
    return store.run(with_secrets(store.core.d, session_ids))
