"""How far a team server has each stored transcript: the sync marks.

One row per (server, session, transcript): the ``seq`` of the last entry that server
acknowledged. What a server lacks is every entry of a live session above its mark
(all of them without one), so a send after a failure, a kill or a week offline picks
up where the last acknowledged batch ended. The last send's outcome per server (when
it last succeeded, and the reason of the last failure) is kept in ``store_meta``, and
so is where the last pull from it ended.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from claude_sessions.model.preparing import key_place
from claude_sessions.store.dialect import Dialect
from claude_sessions.store.plan import Op, Stmt, Txn, single

if TYPE_CHECKING:
    from claude_sessions.store.session_store import SessionStore

_STATE_KEY = "sync_state:"
_PULLED_KEY = "pulled_since:"
_FORK_KEY = "sync_fork:"
# What a copy of the store carries of store_meta with the marks (see :mod:`.transfer`).
SETTING_PREFIXES = (_STATE_KEY, _PULLED_KEY, _FORK_KEY)
_NO_SERVER = ""  # no server's URL is empty: what it lacks is every entry


@dataclass(frozen=True)
class Pending:
    """One transcript with entries a server lacks: those above ``acked_seq`` (-1: all)."""

    ref: int
    session_id: str
    project_key: str
    subpath: str
    acked_seq: int
    entries: int
    last_seq: int  # the transcript's last stored entry
    cwd: str | None  # the session's working directory
    machine: str  # where the session was captured
    user: str  # whose session it is


@dataclass(frozen=True)
class SendState:
    """The outcome of the sends to one server: epoch seconds of the last success, and of
    the last failure with its reason (``None``: none yet)."""

    ok_at: float | None = None
    failed_at: float | None = None
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"ok_at": self.ok_at, "failed_at": self.failed_at, "reason": self.reason}


def _pending_from(marked: bool) -> str:
    if marked:  # a capture's look: led by the server's few marks, not by every entry
        return (
            "FROM sync_marks m JOIN sessions s ON s.id = m.session_ref "
            "JOIN entries e ON e.session_ref = m.session_ref AND e.subpath = m.subpath "
            "AND e.seq > m.acked_seq WHERE m.server = ? AND s.trashed_at IS NULL"
        )
    return (
        "FROM entries e JOIN sessions s ON s.id = e.session_ref "
        "LEFT JOIN sync_marks m ON m.server = ? AND m.session_ref = e.session_ref "
        "AND m.subpath = e.subpath "
        "WHERE s.trashed_at IS NULL AND e.seq > COALESCE(m.acked_seq, -1)"
    )


def _pending(d: Dialect, server: str, session_id: str | None, marked: bool) -> Op[list[Pending]]:
    where, params = _pending_from(marked), [d.text(server)]
    if session_id is not None:
        where += " AND s.session_id = ?"
        params.append(d.text(session_id))
    rows = yield Stmt(
        d.sql(
            "SELECT s.id AS ref, s.session_id, s.project_key, e.subpath, s.project, s.machine, "
            "s.user_name, COALESCE(m.acked_seq, -1) AS acked_seq, count(*) AS entries, "
            f"max(e.seq) AS last_seq {where} "
            "GROUP BY s.id, s.session_id, s.project_key, e.subpath, s.project, s.machine, "
            "s.user_name, m.acked_seq "
            "ORDER BY s.id, e.subpath"
        ),
        params,
        "all",
    )
    return [
        Pending(
            int(row["ref"]),
            str(row["session_id"]),
            str(row["project_key"]),
            str(row["subpath"]),
            int(row["acked_seq"]),
            int(row["entries"]),
            int(row["last_seq"]),
            row["project"],
            str(row["machine"]),
            str(row["user_name"]),
        )
        for row in rows
    ]


def pending(
    store: SessionStore, server: str, *, session_id: str | None = None, marked: bool = False
) -> list[Pending]:
    """The transcripts with entries ``server`` lacks, oldest session first;
    ``session_id``: only that session's; ``marked``: only those with a mark (a
    capture marks its session before it sends, so a failed send leaves a backlog that
    the next capture finds without reading every entry of the store)."""
    d = store.core.d
    return list(store.run(single(Txn(lambda: _pending(d, server, session_id, marked)))))


def whole(store: SessionStore, one: Pending) -> list[Pending]:
    """Every transcript of ``one``'s session, from its first entry (as for a server that
    has none of it)."""
    found = pending(store, _NO_SERVER, session_id=one.session_id)
    return [each for each in found if each.ref == one.ref]


def _entries_after(
    d: Dialect, ref: int, subpath: str, after: int, limit: int
) -> Op[list[tuple[int, int | None, dict[str, Any]]]]:
    rows = yield Stmt(
        d.sql(
            f"SELECT seq, entry_key, {d.entry_columns()} FROM entries WHERE session_ref = ? "
            "AND subpath = ? AND seq > ? ORDER BY seq LIMIT ?"
        ),
        (ref, d.text(subpath), after, limit),
        "all",
    )
    return [(int(row["seq"]), key_place(row["entry_key"]), d.entry(row)) for row in rows]


def entries_after(
    store: SessionStore, ref: int, subpath: str, after: int, limit: int
) -> list[tuple[int, int | None, dict[str, Any]]]:
    """Up to ``limit`` entries of a transcript after ``seq`` ``after``: each one's
    ``seq``, its line's place in the transcript file (see :func:`.preparing.key_place`)
    and the entry."""
    d = store.core.d
    return list(store.run(single(Txn(lambda: _entries_after(d, ref, subpath, after, limit)))))


def _mark(d: Dialect, server: str, marks: list[tuple[int, str, int]]) -> Op[None]:
    # A mark never moves back (two senders may acknowledge out of order).
    yield Stmt(
        d.sql(
            "INSERT INTO sync_marks (server, session_ref, subpath, acked_seq) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (server, session_ref, subpath) DO UPDATE SET "
            "acked_seq = CASE WHEN excluded.acked_seq > sync_marks.acked_seq "
            "THEN excluded.acked_seq ELSE sync_marks.acked_seq END"
        ),
        [(d.text(server), ref, d.text(subpath), seq) for ref, subpath, seq in marks],
        many=True,
    )


def acknowledge(store: SessionStore, server: str, marks: list[tuple[int, str, int]]) -> None:
    """``server`` has each (session ref, subpath) up to ``seq``; -1 only marks a
    transcript as being sent (see :func:`pending`'s ``marked``)."""
    if marks:
        d = store.core.d
        store.run(single(Txn(lambda: _mark(d, server, marks), write=True)))


def marks_of(d: Dialect, ref: int) -> Op[list[tuple[str, str, int]]]:
    """Session ``ref``'s marks as (server, subpath, seq), sorted: what a copy carries."""
    rows = yield Stmt(
        d.sql("SELECT server, subpath, acked_seq FROM sync_marks WHERE session_ref = ?"),
        (ref,),
        "all",
    )
    return sorted((str(r["server"]), str(r["subpath"]), int(r["acked_seq"])) for r in rows)


def restore_marks(d: Dialect, ref: int, marks: list[tuple[str, str, int]]) -> Op[None]:
    """Give session ``ref`` (a copy's new row) the marks :func:`marks_of` read."""
    if marks:
        yield Stmt(
            d.sql(
                "INSERT INTO sync_marks (server, session_ref, subpath, acked_seq) "
                "VALUES (?, ?, ?, ?)"
            ),
            [(d.text(server), ref, d.text(subpath), seq) for server, subpath, seq in marks],
            many=True,
        )


def _read_state(d: Dialect, server: str) -> Op[SendState]:
    row = yield Stmt(
        d.sql("SELECT value FROM store_meta WHERE key = ?"), (d.text(_STATE_KEY + server),), "one"
    )
    if row is None:
        return SendState()
    try:
        found = json.loads(row["value"])
        return SendState(found.get("ok_at"), found.get("failed_at"), found.get("reason"))
    except (ValueError, AttributeError):
        return SendState()


def send_state(store: SessionStore, server: str) -> SendState:
    d = store.core.d
    found: SendState = store.run(single(Txn(lambda: _read_state(d, server))))
    return found


def _write_state(d: Dialect, server: str, ok_at: float | None, reason: str | None) -> Op[None]:
    state = yield from _read_state(d, server)
    if reason is None:
        state = SendState(ok_at, state.failed_at, state.reason)
    else:
        state = SendState(state.ok_at, ok_at, reason)
    yield Stmt(
        d.sql(
            "INSERT INTO store_meta (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value"
        ),
        (d.text(_STATE_KEY + server), json.dumps(state.to_dict())),
    )


def record_send(store: SessionStore, server: str, at: float, reason: str | None = None) -> None:
    """Record a send to ``server`` at ``at``: a success, or a failure for ``reason``."""
    d = store.core.d
    store.run(single(Txn(lambda: _write_state(d, server, at, reason), write=True)))


def _read_value(d: Dialect, key: str) -> Op[str | None]:
    row = yield Stmt(d.sql("SELECT value FROM store_meta WHERE key = ?"), (d.text(key),), "one")
    return None if row is None else str(row["value"])


def pulled_since(store: SessionStore, server: str) -> str | None:
    """Where the last pull from ``server`` ended (the cursor its last page gave)."""
    d = store.core.d
    found: str | None = store.run(single(Txn(lambda: _read_value(d, _PULLED_KEY + server))))
    return found


def _write_value(d: Dialect, key: str, value: str) -> Op[None]:
    yield Stmt(
        d.sql(
            "INSERT INTO store_meta (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value"
        ),
        (d.text(key), d.text(value)),
    )


def record_pull(store: SessionStore, server: str, since: str) -> None:
    """A pull from ``server`` brought everything down to cursor ``since``."""
    d = store.core.d
    store.run(single(Txn(lambda: _write_value(d, _PULLED_KEY + server, since), write=True)))


def _fork_key(server: str, one: Pending) -> str:
    return _FORK_KEY + json.dumps([server, one.session_id, one.project_key])


def fork_of(store: SessionStore, server: str, one: Pending) -> str | None:
    """The fork ``server`` keeps this laptop's turns of ``one``'s session in (another
    user's session: see :func:`record_fork`), if any."""
    d, key = store.core.d, _fork_key(server, one)
    found: str | None = store.run(single(Txn(lambda: _read_value(d, key))))
    return found


def record_fork(store: SessionStore, server: str, one: Pending, fork_id: str) -> None:
    """``server`` holds ``one``'s session, as far as it is sent, in fork ``fork_id``:
    what it gains is sent there."""
    d, key = store.core.d, _fork_key(server, one)
    store.run(single(Txn(lambda: _write_value(d, key, fork_id), write=True)))


def _count(d: Dialect, session_id: str, project_key: str) -> Op[int]:
    row = yield Stmt(
        d.sql(
            "SELECT count(*) AS entries FROM entries e JOIN sessions s ON s.id = e.session_ref "
            "WHERE s.session_id = ? AND s.project_key = ? AND s.trashed_at IS NULL"
        ),
        (d.text(session_id), d.text(project_key)),
        "one",
    )
    return int(row["entries"])


def stored_entries(store: SessionStore, session_id: str, project_key: str) -> int:
    """How many entries the live session (``session_id``, ``project_key``) holds here."""
    d = store.core.d
    found: int = store.run(single(Txn(lambda: _count(d, session_id, project_key))))
    return found
