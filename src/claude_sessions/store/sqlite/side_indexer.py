"""The catch-up indexer of the side index (see :mod:`.side_index`).

It reads the stored entries past each transcript's mark with a read-only
connection of its own and writes the side index with another, in batches: it
never holds the store's write lock, so imports, hooks and the web app write on
meanwhile. One indexer writes at a time (a lock file); a second one returns at
once. Killed, it resumes where its last batch ended (the marks are written
with the text they account for).

What is new is found from the entries' own key: every entry whose ``id`` is
above ``seen`` (the highest one the last complete run covered), by the
(session, transcript) pairs those entries are of. Sessions purged from the
store are swept from the side index first; as their entries' ids may then be
given again, a sweep that removed anything compares every pair's last ``seq``
with its mark instead.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from claude_sessions.model.aside_text import AsideText, Gathered
from claude_sessions.model.entries import decode_entry
from claude_sessions.store.sqlite import side_index

# Entries read per query, and the text gathered before it is written in one transaction.
_ENTRIES = 2000
_FLUSH_CHARS = 8_000_000
_FLUSH_CHUNKS = 500

Progress = Callable[[int, int], None]  # entries indexed so far, entries to index


@dataclass(frozen=True)
class IndexRun:
    """What a run of the indexer did: ``sessions`` whose text it indexed, ``entries``
    read; ``busy``: another indexer was running, so this one did nothing."""

    sessions: int = 0
    entries: int = 0
    busy: bool = False


@dataclass
class _Chunk:
    session_ref: int
    session_id: str
    subpath: str
    last_seq: int
    last_id: int
    said: Gathered


def catch_up(
    store: Path, *, session_ids: Collection[str] | None = None, progress: Progress | None = None
) -> IndexRun:
    """Index what the store at ``store`` holds past the marks: all of it, or only the
    sessions ``session_ids`` (a capture's few new lines: ``seen`` moves past them only
    when nothing else stored since is left, see :func:`_advance_seen`)."""
    with side_index.writing(store) as mine:
        if not mine:
            return IndexRun(busy=True)
        source = _read_only(store)
        side = side_index.connect(side_index.side_path(store))
        try:
            if session_ids is not None:
                pairs = _pairs_of(source, session_ids)
                run = _index(source, side, _behind(source, side, pairs), progress)
                _advance_seen(source, side)
                return run
            swept = _sweep(source, side)
            (top,) = source.execute("SELECT coalesce(max(id), 0) FROM entries").fetchone()
            seen = _seen(side)
            everything = swept or top < seen
            pairs = _new_pairs(source, 0 if everything else seen)
            run = _index(source, side, _behind(source, side, pairs), progress)
            _set_seen(side, int(top))
            return run
        finally:
            side.close()
            source.close()


def _advance_seen(source: sqlite3.Connection, side: sqlite3.Connection) -> None:
    """Move ``seen`` past the entries stored since, when all of them are indexed (a
    capture indexing its own lines), so what is new stays a short range to look at;
    not before a complete run has set it (the range would be every entry)."""
    (top,) = source.execute("SELECT coalesce(max(id), 0) FROM entries").fetchone()
    seen = _seen(side)
    if seen == 0 or top <= seen:
        return
    rows = source.execute(
        "SELECT session_ref, subpath, max(seq) FROM entries WHERE id > ? AND id <= ? "
        "GROUP BY session_ref, subpath",
        (seen, top),
    ).fetchall()
    for ref, subpath, last in rows:
        mark = side.execute(
            "SELECT seq FROM marks WHERE session_ref = ? AND subpath = ?", (ref, subpath)
        ).fetchone()
        if mark is None or int(mark[0]) < int(last):
            return
    _set_seen(side, int(top))


def _set_seen(side: sqlite3.Connection, top: int) -> None:
    side.execute(
        "INSERT INTO state (key, value) VALUES ('seen', ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (top,),
    )


def _read_only(store: Path) -> sqlite3.Connection:
    """The store for reading; as immutable when its log cannot be shared (a directory
    this user may not write), as the store itself opens it then."""
    for options in ("mode=ro", "immutable=1"):
        conn = sqlite3.connect(f"file:{quote(str(store))}?{options}", uri=True, timeout=30)
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.OperationalError:
            conn.close()
            continue
        conn.execute("PRAGMA busy_timeout = 30000")
        return conn
    raise sqlite3.OperationalError(f"cannot read the store at {store}")


def _seen(side: sqlite3.Connection) -> int:
    row = side.execute("SELECT value FROM state WHERE key = 'seen'").fetchone()
    return int(row[0]) if row else 0


def _new_pairs(source: sqlite3.Connection, above: int) -> list[tuple[int, str, int]]:
    """Each (session, transcript) with an entry whose id is above ``above``, and its
    last ``seq``."""
    rows = source.execute(
        "SELECT session_ref, subpath, max(seq) FROM entries WHERE id > ? "
        "GROUP BY session_ref, subpath",
        (above,),
    ).fetchall()
    return [(int(ref), str(subpath), int(seq)) for ref, subpath, seq in rows]


def _pairs_of(
    source: sqlite3.Connection, session_ids: Collection[str]
) -> list[tuple[int, str, int]]:
    pairs: list[tuple[int, str, int]] = []
    for session_id in sorted(set(session_ids)):
        rows = source.execute(
            "SELECT e.session_ref, e.subpath, max(e.seq) FROM sessions s "
            "JOIN entries e ON e.session_ref = s.id WHERE s.session_id = ? "
            "GROUP BY e.session_ref, e.subpath",
            (session_id,),
        ).fetchall()
        pairs.extend((int(ref), str(subpath), int(seq)) for ref, subpath, seq in rows)
    return pairs


def _behind(
    source: sqlite3.Connection, side: sqlite3.Connection, pairs: Iterable[tuple[int, str, int]]
) -> list[tuple[int, str, int, int]]:
    """The pairs whose last ``seq`` is past their mark: (ref, subpath, mark, last); a
    transcript written anew (its marked entry is another row now) from its start."""
    behind, rewritten = [], []
    for ref, subpath, last in pairs:
        marked = side.execute(
            "SELECT seq, entry_id FROM marks WHERE session_ref = ? AND subpath = ?",
            (ref, subpath),
        ).fetchone()
        mark, entry_id = (int(marked[0]), int(marked[1])) if marked else (-1, -1)
        if mark >= 0 and _entry_id(source, ref, subpath, mark) != entry_id:
            rewritten.append((ref, subpath))
            mark = -1
        if last > mark:
            behind.append((ref, subpath, mark, last))
    _drop(side, "subpath", rewritten)
    return behind


def _drop(side: sqlite3.Connection, column: str, pairs: list[tuple[int, str]]) -> None:
    """Take out of the side index the rows of each (session ref, ``column`` value)."""
    if not pairs:
        return
    side.execute("BEGIN IMMEDIATE")
    for ref, value in pairs:
        where = f"WHERE session_ref = ? AND {column} = ?"
        side.execute(f"DELETE FROM chunks {where}", (ref, value))
        side.execute(f"DELETE FROM marks {where}", (ref, value))
    side.execute("COMMIT")


def _entry_id(source: sqlite3.Connection, ref: int, subpath: str, seq: int) -> int | None:
    row = source.execute(
        "SELECT id FROM entries WHERE session_ref = ? AND subpath = ? AND seq = ?",
        (ref, subpath, seq),
    ).fetchone()
    return None if row is None else int(row[0])


def _sweep(source: sqlite3.Connection, side: sqlite3.Connection) -> bool:
    """Take out of the side index the sessions the store no longer holds (purged);
    whether there were any."""
    indexed = side.execute("SELECT DISTINCT session_ref, session_id FROM marks").fetchall()
    live: set[tuple[int, str]] = set()
    for start in range(0, len(indexed), 500):
        refs = [ref for ref, _ in indexed[start : start + 500]]
        marks = ", ".join("?" * len(refs))
        rows = source.execute(f"SELECT id, session_id FROM sessions WHERE id IN ({marks})", refs)
        live.update((int(ref), str(session_id)) for ref, session_id in rows)
    gone = [(int(ref), str(session_id)) for ref, session_id in indexed]
    gone = [pair for pair in gone if pair not in live]
    _drop(side, "session_id", gone)
    return bool(gone)


def _index(
    source: sqlite3.Connection,
    side: sqlite3.Connection,
    behind: list[tuple[int, str, int, int]],
    progress: Progress | None,
) -> IndexRun:
    total = sum(last - mark for _, _, mark, last in behind)
    names = _session_ids(source, {ref for ref, *_ in behind})
    done, sessions = 0, set()
    pending: list[_Chunk] = []
    if progress is not None:
        progress(0, total)
    for ref, subpath, mark, _ in behind:
        session_id = names.get(ref)
        if session_id is None:  # gone since the pairs were listed
            continue
        for chunk, read in _chunks(source, ref, session_id, subpath, mark):
            pending.append(chunk)
            done += read
            if _full(pending):
                _write(side, pending)
                pending = []
                if progress is not None:
                    progress(min(done, total), total)
        sessions.add(ref)
    _write(side, pending)
    if progress is not None:
        progress(total, total)
    return IndexRun(sessions=len(sessions), entries=done)


def _session_ids(source: sqlite3.Connection, refs: set[int]) -> dict[int, str]:
    listed = sorted(refs)
    found: dict[int, str] = {}
    for start in range(0, len(listed), 500):
        part = listed[start : start + 500]
        marks = ", ".join("?" * len(part))
        rows = source.execute(f"SELECT id, session_id FROM sessions WHERE id IN ({marks})", part)
        found.update((int(ref), str(session_id)) for ref, session_id in rows)
    return found


def _chunks(
    source: sqlite3.Connection, ref: int, session_id: str, subpath: str, mark: int
) -> Iterator[tuple[_Chunk, int]]:
    """A transcript's entries past ``mark``, a query's worth at a time, as the text
    to index and how many entries it was made of."""
    after = mark
    while True:
        rows = source.execute(
            "SELECT seq, id, data FROM entries WHERE session_ref = ? AND subpath = ? AND seq > ? "
            "ORDER BY seq LIMIT ?",
            (ref, subpath, after, _ENTRIES),
        ).fetchall()
        if not rows:
            return
        said = AsideText(subagent=bool(subpath))
        for _, _, data in rows:
            said.add(decode_entry(data))
        after = int(rows[-1][0])
        yield _Chunk(ref, session_id, subpath, after, int(rows[-1][1]), said.take()), len(rows)


def _full(pending: list[_Chunk]) -> bool:
    chars = sum(len(text) for chunk in pending for text in chunk.said)
    return chars >= _FLUSH_CHARS or len(pending) >= _FLUSH_CHUNKS


def _write(side: sqlite3.Connection, chunks: list[_Chunk]) -> None:
    """The chunks' text and the marks it takes each transcript to, in one transaction."""
    if not chunks:
        return
    side.execute("BEGIN IMMEDIATE")
    try:
        for chunk in chunks:
            if any(chunk.said):
                row = side.execute(
                    "INSERT INTO chunks (session_ref, session_id, subpath) VALUES (?, ?, ?)",
                    (chunk.session_ref, chunk.session_id, chunk.subpath),
                ).lastrowid
                side.execute(
                    "INSERT INTO said (rowid, tool, subagent, names, prompt, reply) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (row, *chunk.said),
                )
            side.execute(
                "INSERT INTO marks (session_ref, subpath, session_id, seq, entry_id) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (session_ref, subpath) DO UPDATE SET "
                "seq = excluded.seq, entry_id = excluded.entry_id, "
                "session_id = excluded.session_id",
                (
                    chunk.session_ref,
                    chunk.subpath,
                    chunk.session_id,
                    chunk.last_seq,
                    chunk.last_id,
                ),
            )
        side.execute("COMMIT")
    except BaseException:
        side.execute("ROLLBACK")
        raise


def _attach(source: sqlite3.Connection, path: Path) -> None:
    for options in ("mode=ro", "immutable=1"):
        source.execute("ATTACH DATABASE ? AS side", (f"file:{quote(str(path))}?{options}",))
        try:
            source.execute("SELECT count(*) FROM side.sqlite_master").fetchone()
            return
        except sqlite3.OperationalError:
            source.execute("DETACH DATABASE side")
    raise sqlite3.OperationalError(f"cannot read the side index at {path}")


def not_indexed(store: Path) -> int:
    """How many sessions hold entries the side index does not cover yet (all of them
    when it is missing or of an older version)."""
    path = side_index.side_path(store)
    source = _read_only(store)
    try:
        if not side_index.is_current(path):
            (count,) = source.execute("SELECT count(*) FROM sessions").fetchone()
            return int(count)
        _attach(source, path)
        if source.execute("SELECT 1 FROM side.state WHERE key = 'seen'").fetchone() is None:
            # Never caught up: the sessions without a mark, not every entry's session.
            (count,) = source.execute(
                "SELECT count(*) FROM sessions WHERE id NOT IN (SELECT session_ref FROM side.marks)"
            ).fetchone()
            return int(count)
        (count,) = source.execute(
            "SELECT count(DISTINCT e.session_ref) FROM entries e "
            "LEFT JOIN side.marks m ON m.session_ref = e.session_ref AND m.subpath = e.subpath "
            "WHERE e.id > coalesce((SELECT value FROM side.state WHERE key = 'seen'), 0) "
            "AND e.seq > coalesce(m.seq, -1)"
        ).fetchone()
        return int(count)
    finally:
        source.close()
