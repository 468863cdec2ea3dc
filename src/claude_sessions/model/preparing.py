"""Import batches prepared where they are read: pure work, no database.

A batch of a transcript file's lines is merged among its own lines and folded
(:mod:`.derive`) as if nothing were stored yet, so a large import does it in its
reading process; the store (:mod:`claude_sessions.store.imports`) lands it as
prepared, or merges it again against what the transcript holds. Where a line lands:

- a line's key is its ``uuid``, or ``@<byte offset>`` when it has none (a
  file belongs to one transcript, so the offset names the line);
- a line whose key is held with the same content is a duplicate (counted,
  not stored again); a ``uuid`` held with OTHER content keeps both, the
  later one keyed ``<uuid>@<offset>`` (real transcripts repeat uuids).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import repeat
from typing import Any, NamedTuple

from claude_sessions.model.derive import BatchFacts, batch_state, combine, facts_of
from claude_sessions.model.entries import Merge, NewEntry, decode_entry, parsed, same_entry
from claude_sessions.model.fold_state import FoldState


class Line(NamedTuple):
    """One parsed line: its byte offset in the file, the entry, its JSON text, its uuid."""

    offset: int
    entry: dict[str, Any] | None  # None: parsed in another process (see Prepared)
    text: str
    uuid: str | None


def line_key(line: Line) -> str:
    """Where a line lands first: its uuid, or ``@<byte offset>`` without one."""
    return line.uuid if line.uuid is not None else f"@{line.offset}"


def key_place(key: str | None) -> int | None:
    """The byte offset a stored entry without a uuid was keyed by (see :func:`line_key`),
    ``None`` for any other key."""
    if key is None or not key.startswith("@") or not key[1:].isdigit():
        return None
    return int(key[1:])


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
        self._state: FoldState | None = None
        self._bodies: list[str] = []
        self._root: dict[str, Any] | None = None
        self._summaries: dict[str, str] = {}

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
        self._summaries.update(facts.summaries)

    def prepared(self) -> Prepared:
        state = self._state if self._state is not None else batch_state(())
        facts = BatchFacts(state, "\n".join(self._bodies), self._root, self._summaries)
        return Prepared(Merge(self._new, {}, self._duplicates), self._conflicts, facts)


def _all_keys(lines: Sequence[Line]) -> set[str]:
    """Every key a line may land under: its own, and the one a conflict gives it."""
    keys = set(map(line_key, lines))
    keys.update(f"{line.uuid}@{line.offset}" for line in lines if line.uuid is not None)
    return keys
