"""The store's side of importing transcript files: where each file stands, and its lines.

One transaction stores a batch of lines AND how far into its file the import
got (``import_files``), so an import killed at any point resumes exactly where
its last committed batch ended, and two imports running at once cannot
duplicate anything. Lines land by the rules of
:mod:`claude_sessions.model.preparing` (a duplicate is counted, not stored
again; a uuid stored with other content keeps both), merged against what the
transcript holds; a session the import creates is tagged ``imported`` in the
same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from claude_sessions.model.entries import Merge, parsed, same_entry
from claude_sessions.model.identity import Who
from claude_sessions.model.preparing import Line, Prepared, line_key, merge_lines
from claude_sessions.store.dialect import Dialect
from claude_sessions.store.entry_writes import apply_main, apply_subagent
from claude_sessions.store.plan import Op, Stmt
from claude_sessions.store.reads import by_ref, find_live, stored_entries


@dataclass(frozen=True)
class FileState:
    """How far a file was imported: ``consumed`` bytes (whole lines), and what the file
    looked like then (``size`` -1 while a file is only partly read)."""

    size: int
    mtime_ns: int
    consumed: int
    head: str  # sha1 of the first min(consumed, 4096) bytes: tells growth from a rewrite


@dataclass(frozen=True)
class Landed:
    """What a batch did: lines stored, lines already stored (duplicates), and stored lines
    whose uuid was already taken by other content (kept under ``<uuid>@<offset>``, the
    keys in ``apart`` when the batch was merged against the store)."""

    stored: int
    duplicates: int
    conflicts: int
    created: bool
    apart: frozenset[str] = frozenset()


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


def _keys(lines: Sequence[Line]) -> list[str]:
    return sorted(set(map(line_key, lines)))


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
    d: Dialect, batches: Sequence[FileBatch], *, tag: str, now: float, who: Who
) -> Op[list[Landed]]:
    """Store batches of files' lines and the files' new positions, in one transaction
    (a new session is ``who``'s)."""
    landed = []
    for batch in batches:
        landed.append((yield from import_lines(d, batch, tag=tag, now=now, who=who)))
    return landed


def import_lines(d: Dialect, batch: FileBatch, *, tag: str, now: float, who: Who) -> Op[Landed]:
    """Store a batch of one file's lines and the file's new position."""
    landed = yield from land_lines(
        d,
        TranscriptLines(batch.session_id, batch.project_key, batch.subpath, batch.lines),
        tag=tag,
        now=now,
        who=who,
        prepared=batch.prepared,
    )
    yield _set_state(d, batch.source, batch.state)
    return landed


class TranscriptLines(NamedTuple):
    """Lines of one transcript (``subpath`` '' for the main one) of one session."""

    session_id: str
    project_key: str
    subpath: str
    lines: Sequence[Line]


def land_lines(
    d: Dialect,
    batch: TranscriptLines,
    *,
    tag: str,
    now: float,
    who: Who,
    prepared: Prepared | None = None,
) -> Op[Landed]:
    """Store lines of one transcript by the import's rules (see the module docstring),
    creating the session (``who``'s, tagged ``tag``) when it is not stored yet.
    ``prepared``: what Preparing made of the lines, when it did."""
    session_id, project_key, subpath, lines = batch
    yield from d.lock(session_id)
    row = yield from find_live(d, session_id, project_key)
    created = row is None
    if row is None:
        ref = yield from d.insert_session(session_id, project_key, now, who())
        yield Stmt(
            d.sql("INSERT INTO tags (session_ref, tag, source) VALUES (?, ?, 'user')"),
            (ref, d.text(tag)),
        )
        yield d.refresh_tags(ref)
        row = yield from by_ref(d, ref)
    if not lines:
        return Landed(0, 0, 0, created)
    stored, next_seq = yield from stored_entries(d, row.ref, subpath, _keys(lines))
    apart: frozenset[str] = frozenset()
    if not stored and prepared is not None:  # lands as prepared
        merge, conflicts, facts = prepared
        if next_seq:
            merge = Merge(
                [e._replace(seq=e.seq + next_seq) for e in merge.new], {}, merge.duplicates
            )
    else:
        merge, conflicts = yield from _merge_stored(d, row.ref, subpath, lines, stored, next_seq)
        facts = None  # worked out from the merged entries
        if conflicts:
            taken = {f"{line.uuid}@{line.offset}" for line in lines if line.uuid is not None}
            apart = frozenset(taken.intersection(entry.key for entry in merge.new))
    if subpath:
        yield from apply_subagent(d, row, subpath, merge, now, facts=facts)
    else:
        yield from apply_main(d, row, merge, now, facts=facts)
    stored_count = len(merge.new) + len(merge.replaced)
    return Landed(stored_count, merge.duplicates, conflicts, created, apart)


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
