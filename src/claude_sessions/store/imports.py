"""The store's side of importing transcript files: where each file stands, and its lines.

One transaction stores a batch of lines AND how far into its file the import
got (``import_files``), so an import killed at any point resumes exactly where
its last committed batch ended, and two imports running at once cannot
duplicate anything:

- a line's key is its ``uuid``, or ``@<byte offset>`` when it has none (a
  file belongs to one transcript, so the offset names the line);
- a line whose key is stored with the same content is a duplicate (counted,
  not stored again); a ``uuid`` stored with OTHER content keeps both, the
  later one keyed ``<uuid>@<offset>`` (real transcripts repeat uuids);
- a session the import creates is tagged ``imported`` in the same transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import repeat
from typing import Any, NamedTuple

from claude_sessions.model.derive import BatchFacts, State, batch_state, combine, facts_of
from claude_sessions.model.entries import Merge, NewEntry, decode_entry, parsed, same_entry
from claude_sessions.store.dialect import Dialect
from claude_sessions.store.plan import Op, Stmt
from claude_sessions.store.writes import (
    apply_main,
    apply_subagent,
    by_ref,
    find_live,
    stored_entries,
)


@dataclass(frozen=True)
class FileState:
    """How far a file was imported: ``consumed`` bytes (whole lines), and what the file
    looked like then (``size`` -1 while a file is only partly read)."""

    size: int
    mtime_ns: int
    consumed: int
    head: str  # sha1 of the first min(consumed, 4096) bytes: tells growth from a rewrite


class Line(NamedTuple):
    """One parsed line: its byte offset in the file, the entry, its JSON text, its uuid."""

    offset: int
    entry: dict[str, Any] | None  # None: parsed in another process (see Prepared)
    text: str
    uuid: str | None


@dataclass(frozen=True)
class Landed:
    """What a batch did: lines stored, lines already stored (duplicates), and stored lines
    whose uuid was already taken by other content (kept under ``<uuid>@<offset>``)."""

    stored: int
    duplicates: int
    conflicts: int
    created: bool


def file_state(d: Dialect, source: str) -> Op[FileState | None]:
    row = yield Stmt(
        d.sql("SELECT size, mtime_ns, consumed, head FROM import_files WHERE source = ?"),
        (d.text(source),),
        "one",
    )
    if row is None:
        return None
    return FileState(int(row["size"]), int(row["mtime_ns"]), int(row["consumed"]), row["head"])


def file_standing(
    d: Dialect, session_id: str, project_key: str, source: str
) -> Op[tuple[str, FileState | None]]:
    state = yield from session_state(d, session_id, project_key)
    return state, (yield from file_state(d, source))


def session_state(d: Dialect, session_id: str, project_key: str) -> Op[str]:
    """``live``, ``trashed`` (the user deleted it: leave it be) or ``absent``."""
    row = yield Stmt(
        d.sql(
            "SELECT min(CASE WHEN trashed_at IS NULL THEN 0 ELSE 1 END) AS state FROM sessions "
            "WHERE session_id = ? AND project_key = ?"
        ),
        (session_id, d.text(project_key)),
        "one",
    )
    state = row["state"] if row is not None else None
    return "absent" if state is None else ("live" if int(state) == 0 else "trashed")


def _set_state(d: Dialect, source: str, state: FileState) -> Stmt:
    return Stmt(
        d.sql(
            "INSERT INTO import_files (source, size, mtime_ns, consumed, head) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (source) DO UPDATE SET size = excluded.size, "
            "mtime_ns = excluded.mtime_ns, consumed = excluded.consumed, head = excluded.head"
        ),
        (d.text(source), state.size, state.mtime_ns, state.consumed, state.head),
    )


def line_key(line: Line) -> str:
    """Where a line lands first: its uuid, or ``@<byte offset>`` without one."""
    return line.uuid if line.uuid is not None else f"@{line.offset}"


def merge_lines(
    lines: Sequence[Line], stored: Mapping[str, dict[str, Any]], next_seq: int
) -> tuple[Merge, int]:
    """Where each line lands (see the module docstring); also the number of conflicts."""
    merge = Merge(new=[], replaced={})
    pending: dict[str, dict[str, Any]] = {}
    conflicts = 0
    seq = next_seq
    for line in lines:
        uuid, entry = line.uuid, parsed(line.entry, line.text)
        key = line_key(line)
        held = pending.get(key, stored.get(key))
        if held is not None and uuid is not None and not same_entry(held, entry):
            key = f"{uuid}@{line.offset}"
            held = pending.get(key, stored.get(key))
            if held is None:
                conflicts += 1
        if held is not None:
            if same_entry(held, entry) or key in pending:
                merge.duplicates += 1
            else:  # the file was rewritten: this line replaces what stood there
                merge.replaced[key] = line.text
            continue
        pending[key] = entry
        merge.new.append(NewEntry(seq, key, entry, line.text))
        seq += 1
    return merge, conflicts


def _keys(lines: Sequence[Line]) -> list[str]:
    return sorted(set(map(line_key, lines)))


class Prepared(NamedTuple):
    """A batch's lines merged among themselves, as if nothing were stored yet (positions
    from 0), and the facts of its new entries: work that needs no database, so it is
    done where the batch is read (in another process, for a large import)."""

    merge: Merge
    conflicts: int
    facts: BatchFacts


class Preparing:
    """A batch's :class:`Prepared`, made a few lines at a time as they are read.

    Each part is merged with the parts before it and folded, and its parsed entries
    are let go: keeping a whole batch's thousands of parsed entries until it is read
    costs more than parsing them (memory the allocator must find anew each time, out
    of the processor's caches), and folding parts and combining their states gives
    the state of the whole (see :func:`.derive.combine`).
    """

    def __init__(self) -> None:
        self._new: list[NewEntry] = []
        self._texts: dict[str, str] = {}  # the new entries' texts by key, to compare
        self._duplicates = 0
        self._conflicts = 0
        self._state: State | None = None
        self._bodies: list[str] = []
        self._root: dict[str, Any] | None = None

    def add(self, lines: Sequence[Line], entries: Sequence[dict[str, Any]]) -> None:
        """The next lines (read without their entries) and their parsed ``entries``."""
        keys = list(map(line_key, lines))
        known = self._texts
        if len(set(keys)) == len(keys) and known.keys().isdisjoint(keys):  # all new
            new = list(
                map(
                    NewEntry,
                    range(len(self._new), len(self._new) + len(keys)),
                    keys,
                    repeat(None),
                    [line.text for line in lines],
                )
            )
            folded = entries
        else:
            held = {key: decode_entry(known[key]) for key in known.keys() & _all_keys(lines)}
            with_entries = [line._replace(entry=e) for line, e in zip(lines, entries, strict=True)]
            merge, conflicts = merge_lines(with_entries, held, len(self._new))
            self._duplicates += merge.duplicates
            self._conflicts += conflicts
            folded = [parsed(e.entry, e.text) for e in merge.new]
            new = [e._replace(entry=None) for e in merge.new]
        self._new.extend(new)
        known.update((e.key, e.text) for e in new if e.key is not None)
        facts = facts_of(folded)
        self._state = combine(self._state, facts.state)
        if facts.body:
            self._bodies.append(facts.body)
        if self._root is None:
            self._root = facts.root

    def prepared(self) -> Prepared:
        state = self._state if self._state is not None else batch_state(())
        facts = BatchFacts(state, "\n".join(self._bodies), self._root)
        return Prepared(Merge(self._new, {}, self._duplicates), self._conflicts, facts)


def _all_keys(lines: Sequence[Line]) -> set[str]:
    """Every key a line may land under: its own, and the one a conflict gives it."""
    keys = set(map(line_key, lines))
    keys.update(f"{line.uuid}@{line.offset}" for line in lines if line.uuid is not None)
    return keys


class FileBatch(NamedTuple):
    """Lines of one transcript file for one session, and where the file stands after them."""

    session_id: str
    project_key: str
    subpath: str  # '' for the main transcript
    lines: Sequence[Line]
    source: str
    state: FileState
    prepared: Prepared | None = None  # what Preparing made of the lines


def import_batches(
    d: Dialect, batches: Sequence[FileBatch], *, tag: str, now: float
) -> Op[list[Landed]]:
    """Store batches of files' lines and the files' new positions, in one transaction."""
    landed = []
    for batch in batches:
        landed.append((yield from import_lines(d, batch, tag=tag, now=now)))
    return landed


def import_lines(d: Dialect, batch: FileBatch, *, tag: str, now: float) -> Op[Landed]:
    """Store a batch of one file's lines and the file's new position."""
    session_id, project_key, subpath, lines = (
        batch.session_id,
        batch.project_key,
        batch.subpath,
        batch.lines,
    )
    yield from d.lock(session_id)
    row = yield from find_live(d, session_id, project_key)
    created = row is None
    if row is None:
        ref = yield from d.insert_session(session_id, project_key, now)
        yield Stmt(
            d.sql("INSERT INTO tags (session_ref, tag, source) VALUES (?, ?, 'user')"),
            (ref, d.text(tag)),
        )
        yield d.refresh_tags(ref)
        row = yield from by_ref(d, ref)
    landed = Landed(0, 0, 0, created)
    if lines:
        stored, next_seq = yield from stored_entries(d, row.ref, subpath, _keys(lines))
        if not stored and batch.prepared is not None:  # lands as prepared
            merge, conflicts, facts = batch.prepared
            if next_seq:
                merge = Merge(
                    [e._replace(seq=e.seq + next_seq) for e in merge.new], {}, merge.duplicates
                )
        else:
            merge, conflicts = yield from _merge_stored(
                d, row.ref, subpath, lines, stored, next_seq
            )
            facts = None  # worked out from the merged entries
        if subpath:
            yield from apply_subagent(d, row, subpath, merge, now, facts=facts)
        else:
            yield from apply_main(d, row, merge, now, facts=facts)
        landed = Landed(len(merge.new) + len(merge.replaced), merge.duplicates, conflicts, created)
    yield _set_state(d, batch.source, batch.state)
    return landed


def _merge_stored(
    d: Dialect,
    ref: int,
    subpath: str,
    lines: Sequence[Line],
    stored: dict[str, dict[str, Any]],
    next_seq: int,
) -> Op[tuple[Merge, int]]:
    """:func:`merge_lines` against what the transcript holds already."""
    taken = [  # a uuid stored with other content: where the second one would go
        f"{line.uuid}@{line.offset}"
        for line in lines
        if line.uuid in stored and not same_entry(stored[line.uuid], parsed(line.entry, line.text))
    ]
    if taken:
        elsewhere, _ = yield from stored_entries(d, ref, subpath, taken)
        stored.update(elsewhere)
    return merge_lines(lines, stored, next_seq)
