"""A laptop's store and its team server: sending what the server lacks, bringing down
what the user may see.

The local store is the journal: every turn is stored there first (capture, import),
and :func:`push` sends a server the entries above its sync mark (see
:mod:`claude_sessions.store.sync_marks`), in batches under the server's size limit,
moving the mark after each batch the server acknowledged. A push killed halfway sends
again at most the batch it was waiting for, which the server counts as duplicates
(it is idempotent by entry uuid): the entries arrive exactly once. A capture pushes
within a deadline and leaves the rest for the next capture or ``sync``.

:func:`pull` stores the sessions the server lets the user see that the local store
lacks, marked as acknowledged so they are never sent back.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from itertools import groupby
from typing import TYPE_CHECKING, Any

from claude_sessions.model.exceptions import IngestRefusedError, ServerRefused
from claude_sessions.model.identity import UNKNOWN, User, current_identity
from claude_sessions.model.team_wire import (
    ANOTHER_USERS,
    EntryPage,
    IngestBatch,
    IngestFile,
    SessionListed,
    own_fork_id,
)
from claude_sessions.store import sync_marks

if TYPE_CHECKING:
    from claude_sessions.capture.team_server import TeamServer
    from claude_sessions.store import SessionStore

# Half the server's default limit (8 MiB): room for the JSON around the entries.
BATCH_BYTES = 4 * 1024 * 1024
BATCH_ENTRIES = 1000
_SKIPPED_STATUSES = (409, 413)  # this session cannot go (another user's, an entry too big)


@dataclass
class PushReport:
    """What a push sent: entries the server newly stored or already had, of how many
    sessions, its conflicts, sessions it refused (with why), and what is left."""

    stored: int = 0
    duplicates: int = 0
    sessions: set[str] = field(default_factory=set)
    conflicts: int = 0
    refused: list[str] = field(default_factory=list)
    forked: list[str] = field(default_factory=list)  # other users' sessions, sent as forks
    batches: int = 0
    left_entries: int = 0

    @property
    def sent(self) -> int:
        return self.stored + self.duplicates

    def line(self) -> str:
        text = (
            f"sent {self.sent:,} entries of {len(self.sessions):,} sessions, "
            f"{self.conflicts:,} conflicts"
        )
        if self.duplicates:
            text += f" ({self.duplicates:,} the server had already)"
        if self.forked:
            text += f"; another user's, sent as your own fork: {'; '.join(self.forked)}"
        if self.refused:
            text += f"; refused: {'; '.join(self.refused)}"
        if self.left_entries:
            text += f"; {self.left_entries:,} entries left for the next send"
        return text

    def to_dict(self) -> dict[str, Any]:
        return {
            "sent": self.sent,
            "stored": self.stored,
            "duplicates": self.duplicates,
            "sessions": len(self.sessions),
            "conflicts": self.conflicts,
            "refused": self.refused,
            "forked": self.forked,
            "batches": self.batches,
            "left_entries": self.left_entries,
        }


# (entries acknowledged so far, entries to send in all): for a progress bar
Progress = Callable[[int, int], None]


def push(
    store: SessionStore,
    server: TeamServer,
    *,
    deadline: float | None = None,
    marked: bool = False,
    batch_entries: int = BATCH_ENTRIES,
    progress: Progress | None = None,
) -> PushReport:
    """Send ``server`` every entry of ``store`` it lacks; ``deadline``
    (``time.monotonic()``): no batch starts after it; ``marked``: only transcripts a
    capture began to send (see :func:`mark_for_sending`); ``batch_entries``: entries
    per request at most. Raises what the server raises, but :class:`ServerRefused`
    409 and 413 skip that session only, and new turns of another user's session go
    to this user's own fork of it (see :func:`_send_as_fork`)."""
    todo = sync_marks.pending(store, server.url, marked=marked)
    sending = _Sending(store, server, deadline, batch_entries, progress)
    sending.total = sum(one.entries for one in todo)
    for _, transcripts in groupby(todo, key=lambda one: one.ref):
        files = list(transcripts)
        fork_id = sync_marks.fork_of(store, server.url, files[0])
        try:
            done = sending.session(files, fork_id)
        except ServerRefused as refused:
            if refused.status not in _SKIPPED_STATUSES:
                raise
            sending.total -= sum(one.entries for one in files)
            if fork_id is None and ANOTHER_USERS in refused.reason:
                done = _send_as_fork(sending, files[0])
            else:
                sending.report.refused.append(f"{files[0].session_id}: {refused.reason}")
                done = True
        if not done:
            sending.report.left_entries = sending.total - sending.report.sent
            break
    return sending.report


@dataclass
class _Sending:
    """One push under way: where to, within what, and what it sent so far."""

    store: SessionStore
    server: TeamServer
    deadline: float | None
    batch_entries: int
    progress: Progress | None
    total: int = 0
    report: PushReport = field(default_factory=PushReport)

    def session(self, files: list[sync_marks.Pending], as_id: str | None = None) -> bool:
        """Send one session's unsent entries (as session ``as_id``, when given); ``False``
        when the deadline came first."""
        for batch, marks in _batches(self.store, files, self.batch_entries, as_id):
            if self.deadline is not None and time.monotonic() > self.deadline:
                return False
            done = self.server.ingest(batch)
            sync_marks.acknowledge(self.store, self.server.url, marks)
            self.report.stored += done.stored
            self.report.duplicates += done.duplicates
            self.report.conflicts += len(done.conflicts)
            self.report.sessions.add(batch.session_id)
            self.report.batches += 1
            if self.progress is not None:
                self.progress(self.report.sent, self.total)
        return True


def _send_as_fork(sending: _Sending, refused: sync_marks.Pending) -> bool:
    """The server refused new turns of ``refused``'s session, another user's (``claude
    --resume`` of a session ``sync --pull`` brought): send the whole session, its history
    and this user's turns, as this user's own fork (an id made of the session's and the
    user's, so a repeat lands in the same fork; the server links it to its origin by the
    entries they share), then what it gains goes there. ``False``: the deadline came."""
    me = current_identity().user
    fork_id = own_fork_id(refused.session_id, me)
    whole = sync_marks.whole(sending.store, refused)
    sending.total += sum(one.entries for one in whole)
    try:
        if not sending.session(whole, fork_id):
            return False  # sent again from its start next time: the server counts duplicates
    except ServerRefused as refused_too:  # the fork too (in the server's trash, too big)
        if refused_too.status not in _SKIPPED_STATUSES:
            raise
        sending.report.refused.append(f"{refused.session_id} as {fork_id}: {refused_too.reason}")
        return True
    sync_marks.record_fork(sending.store, sending.server.url, refused, fork_id)
    owner = refused.user if refused.user != UNKNOWN else "another user"
    sending.report.forked.append(f"{refused.session_id} ({owner}'s) as your fork {fork_id}")
    return True


def _batches(
    store: SessionStore, files: list[sync_marks.Pending], most: int, as_id: str | None = None
) -> Iterator[tuple[IngestBatch, list[tuple[int, str, int]]]]:
    """One session's unsent entries as batches under :data:`BATCH_BYTES` (as session
    ``as_id`` when given: this user's fork, made on this machine), each with the marks
    its acknowledgement sets (read a batch at a time: a session may be large)."""
    first = files[0]
    if as_id is not None:
        first = replace(first, session_id=as_id, machine=current_identity().machine)
    machine = first.machine if first.machine != UNKNOWN else current_identity().machine
    parts: list[IngestFile] = []
    marks: list[tuple[int, str, int]] = []
    size = count = 0
    for one in files:
        after = one.acked_seq
        taken: list[dict[str, Any]] = []
        places: list[int | None] = []
        while rows := sync_marks.entries_after(store, one.ref, one.subpath, after, BATCH_ENTRIES):
            for seq, place, entry in rows:
                # the entry and its place, each with its comma
                cost = len(json.dumps(entry, ensure_ascii=False).encode()) + len(str(place)) + 2
                if count and (size + cost > BATCH_BYTES or count >= most):
                    if taken:
                        parts.append(IngestFile(one.subpath, taken, places))
                        marks.append((one.ref, one.subpath, after))
                    yield _batch(first, machine, parts), marks
                    parts, marks, taken, places, size, count = [], [], [], [], 0, 0
                taken.append(entry)
                places.append(place)
                after, size, count = seq, size + cost, count + 1
        if taken:
            parts.append(IngestFile(one.subpath, taken, places))
            marks.append((one.ref, one.subpath, after))
    if count:
        yield _batch(first, machine, parts), marks


def _batch(first: sync_marks.Pending, machine: str, parts: list[IngestFile]) -> IngestBatch:
    return IngestBatch(first.session_id, first.project_key, first.cwd, machine, tuple(parts))


def mark_for_sending(store: SessionStore, url: str, session_id: str) -> None:
    """Note that a capture of ``session_id`` is to be sent to ``url``, before sending:
    if the send fails, the next capture finds it (``push(marked=True)``)."""
    begun = sync_marks.pending(store, url, session_id=session_id)
    sync_marks.acknowledge(store, url, [(one.ref, one.subpath, one.acked_seq) for one in begun])


@dataclass
class PullReport:
    """What a pull did: sessions brought down (and their entries), sessions the local
    store had already, and sessions it could not store (with why)."""

    sessions: int = 0
    entries: int = 0
    had: int = 0
    refused: list[str] = field(default_factory=list)

    def line(self) -> str:
        text = f"brought down {self.entries:,} entries of {self.sessions:,} sessions"
        if self.had:
            text += f"; {self.had:,} sessions were here already"
        if self.refused:
            text += f"; not stored: {'; '.join(self.refused)}"
        return text

    def to_dict(self) -> dict[str, Any]:
        return {
            "sessions": self.sessions,
            "entries": self.entries,
            "had": self.had,
            "refused": self.refused,
        }


def pull(
    store: SessionStore,
    server: TeamServer,
    *,
    progress: Progress | None = None,
    from_start: bool = False,
) -> PullReport:
    """Store the sessions ``server`` lets its token's user see that ``store`` lacks (by
    session id and project key), or holds fewer entries of, as the server has them
    (user, machine, description, tags), each marked as acknowledged: a later push never
    sends them back (a transcript with entries of this machine's not yet sent keeps its
    mark, and sends what the server lacks). A pull lists only the sessions changed since
    the last one ended (the ``since`` of the server's last page, kept per server);
    ``from_start``: the whole list again (after the user was let see more)."""
    listed: list[SessionListed] = []
    after = None if from_start else sync_marks.pulled_since(store, server.url)
    while True:
        page = server.sessions(after)
        listed += page.sessions
        if page.next is None:
            break
        after = page.next
    total = sum(one.entries for one in listed)
    report = PullReport()
    for one in listed:
        if sync_marks.stored_entries(store, one.session_id, one.project_key) >= one.entries:
            report.had += 1
            total -= one.entries
        else:  # new here, or grown on the server since: what is here already is skipped
            _pull_one(store, server, one, report)
        if progress is not None:
            progress(report.entries, total)
    if page.since is not None:  # all listed is here: the next pull starts from there
        sync_marks.record_pull(store, server.url, page.since)
    return report


def _pull_one(
    store: SessionStore, server: TeamServer, listed: SessionListed, report: PullReport
) -> None:
    from claude_sessions.store.ingest import ingest

    pages: list[EntryPage] = []
    after: str | None = None
    while True:
        pages.append(server.entries(listed.session_id, listed.project_key, after))
        if pages[-1].next is None:
            break
        after = pages[-1].next
    header = pages[0].session
    files: dict[str, list[dict[str, Any]]] = {}
    places: dict[str, list[int | None]] = {}
    for page in pages:
        for paged in page.entries:
            files.setdefault(paged.subpath, []).append(paged.entry)
            places.setdefault(paged.subpath, []).append(paged.place)
    batch = IngestBatch(
        header.session_id,
        header.project_key,
        header.cwd,
        header.machine,
        tuple(IngestFile(subpath, entries, places[subpath]) for subpath, entries in files.items()),
    )
    owner = User(header.user, header.user, False, datetime.now(timezone.utc))
    unsent = {
        one.subpath
        for one in sync_marks.pending(store, server.url, session_id=header.session_id)
        if one.project_key == header.project_key
    }
    try:
        done = ingest(store, batch, owner)
    except IngestRefusedError as refused:
        report.refused.append(f"{header.session_id}: {refused}")
        return
    if header.description:
        store.set_description(header.session_id, header.description)
    if header.tags:
        store.add_tags(header.session_id, header.tags)
    held = sync_marks.pending(store, server.url, session_id=header.session_id)
    sync_marks.acknowledge(
        store,
        server.url,
        [
            (one.ref, one.subpath, one.last_seq)
            for one in held
            if one.project_key == header.project_key and one.subpath not in unsent
        ],
    )
    report.sessions += 1
    report.entries += done.stored


def send_all(
    store: SessionStore,
    server: TeamServer,
    *,
    batch_entries: int = BATCH_ENTRIES,
    progress: Progress | None = None,
) -> PushReport:
    """``sync``: :func:`push` everything, recording its outcome for ``hooks status``."""
    from claude_sessions.model.exceptions import TeamServerError

    now = time.time()
    try:
        report = push(store, server, batch_entries=batch_entries, progress=progress)
    except TeamServerError as error:
        sync_marks.record_send(store, server.url, now, _one_line(error))
        raise
    if report.batches:
        sync_marks.record_send(store, server.url, now)
    return report


def send_captured(
    store: SessionStore, server: TeamServer, session_id: str, *, deadline: float
) -> str:
    """What a capture does after storing ``session_id``: send it, and the backlog of
    earlier captures, until ``deadline``; returns the line for the hook's log. Never
    raises a server's error: the turns are stored here, and the next capture or
    ``sync`` sends them."""
    from claude_sessions.model.exceptions import TeamServerError

    mark_for_sending(store, server.url, session_id)
    now = time.time()
    try:
        report = push(store, server, deadline=deadline, marked=True)
    except TeamServerError as error:
        sync_marks.record_send(store, server.url, now, _one_line(error))
        left = backlog(store, server.url, marked=True)
        return f"not sent to {server.url}: {_one_line(error)}; backlog {left.line()}"
    sync_marks.record_send(store, server.url, now)
    return f"{report.line()} to {server.url}"


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split()) or type(error).__name__


@dataclass(frozen=True)
class Backlog:
    """What a server lacks of the local store: entries of how many sessions."""

    sessions: int
    entries: int

    def line(self) -> str:
        return f"{self.entries:,} entries of {self.sessions:,} sessions"


def backlog(store: SessionStore, url: str, *, marked: bool = False) -> Backlog:
    """What ``url`` lacks (``marked``: of what captures began to send, found without
    reading every entry of the store)."""
    todo = sync_marks.pending(store, url, marked=marked)
    return Backlog(len({one.ref for one in todo}), sum(one.entries for one in todo))


@dataclass(frozen=True)
class SyncStatus:
    """For ``hooks status``: the server, its backlog, and the last send's outcome."""

    url: str
    backlog: Backlog
    state: sync_marks.SendState

    def lines(self) -> list[str]:
        found = [f"  server: {self.url}", f" backlog: {self.backlog.line()}"]
        ok, failed = self.state.ok_at, self.state.failed_at
        found.append(f"    sent: {_when(ok) if ok else '(never)'}")
        if failed is not None and (ok is None or failed > ok):
            found.append(f"  failed: {_when(failed)}: {self.state.reason}")
        return found

    def to_dict(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "backlog": {"sessions": self.backlog.sessions, "entries": self.backlog.entries},
            "last_sent_at": _when(self.state.ok_at) if self.state.ok_at else None,
            "last_failed_at": _when(self.state.failed_at) if self.state.failed_at else None,
            "last_failure": self.state.reason,
        }


def sync_status(store: SessionStore, url: str) -> SyncStatus:
    return SyncStatus(url, backlog(store, url), sync_marks.send_state(store, url))


def _when(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=timezone.utc).isoformat(timespec="seconds")
