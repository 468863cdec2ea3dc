"""Summaries and the sessions they title, matched across sessions by their leaf entry.

A ``summary`` entry (``{"type": "summary", "summary": ..., "leafUuid": ...}``)
names the conversation that ends at the entry ``leafUuid``, and Claude Code
often writes it into the NEXT session's file. The store keeps every summary by
its leaf (the ``summaries`` table, the last text written for a leaf winning,
as the CLI's own map of them does) with the session holding that leaf
(``session_ref``; NULL while no stored session holds it). A session's title
falls back to the summary of its latest leaf (see
:func:`claude_sessions.model.derive.derive`).

Both orders meet: a new summary looks for its leaf in the sessions of its own
project (Claude Code writes summaries of a project's sessions into that
project's files; no index of entry keys spans the store, as one would cost
every write), and a session's new entries claim the summaries waiting for them,
from any project. Where a fork holds copies of its origin's entries, the origin
takes the summary (:func:`.write_rules.summary_holder`). Runs in the
transaction of the write (see :mod:`.entry_writes`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any

from claude_sessions.model.entries import NewEntry
from claude_sessions.store.dialect import Dialect, SessionRow
from claude_sessions.store.plan import Op, Stmt
from claude_sessions.store.write_rules import Holder, summary_holder

_CHUNK = 500


def _chunks(keys: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(keys), _CHUNK):
        yield keys[start : start + _CHUNK]


def leaf_summary(d: Dialect, ref: int) -> Op[str | None]:
    """The summary of session ``ref``'s latest leaf that has one."""
    row = yield Stmt(
        d.sql(
            "SELECT summary FROM summaries WHERE session_ref = ? "
            "ORDER BY leaf_seq DESC, leaf_key DESC LIMIT 1"
        ),
        (ref,),
        "one",
    )
    return None if row is None else str(row["summary"])


def keep_summaries(d: Dialect, row: SessionRow, found: Mapping[str, str]) -> Op[set[int]]:
    """Keep the summaries a batch of ``row``'s main transcript holds (by leaf uuid);
    those whose leaf is stored go to the session holding it. Returns the sessions
    whose summary changed."""
    if not found:
        return set()
    leaves = sorted(found)
    held: dict[str, tuple[str, int | None]] = {}
    for chunk in _chunks(leaves):
        condition, params = d.any_of("leaf_key", [d.text(leaf) for leaf in chunk])
        rows = yield Stmt(
            d.sql(f"SELECT leaf_key, summary, session_ref FROM summaries WHERE {condition}"),
            params,
            "all",
        )
        held.update((r["leaf_key"], (r["summary"], r["session_ref"])) for r in rows)
    fresh = [leaf for leaf in leaves if held.get(leaf, ("", None))[0] != found[leaf]]
    if fresh:  # Claude Code repeats the summaries of earlier sessions in each new file
        yield Stmt(
            d.sql(
                "INSERT INTO summaries (leaf_key, summary) VALUES (?, ?) "
                "ON CONFLICT (leaf_key) DO UPDATE SET summary = excluded.summary"
            ),
            [(d.text(leaf), d.text(found[leaf])) for leaf in fresh],
            many=True,
        )
    changed = {
        int(ref) for leaf, (text, ref) in held.items() if ref is not None and text != found[leaf]
    }
    # Only summaries new to the store are looked for: one kept before was looked for
    # then, and every entry stored since claimed what was waiting for it.
    unseen = [leaf for leaf in leaves if leaf not in held]
    holders = yield from _holders_in_project(d, row.metadata.project_key, unseen)
    for leaf, candidates in holders.items():
        chosen = summary_holder(candidates)
        if chosen is not None:
            yield _hold(d, leaf, chosen.ref, chosen.seq)
            changed.add(chosen.ref)
    return changed


def _holders_in_project(
    d: Dialect, project_key: str, leaves: Sequence[str]
) -> Op[dict[str, list[Holder]]]:
    """The live sessions of a project holding each of ``leaves`` in their main transcript.

    Looked for session by session (the entry key index leads with the session): a
    join would let PostgreSQL read that whole index instead.
    """
    if not leaves:
        return {}
    rows = yield Stmt(
        d.sql("SELECT id FROM sessions WHERE project_key = ?"), (d.text(project_key),), "all"
    )
    refs = sorted(int(r["id"]) for r in rows)
    hits: list[Any] = []
    for start in range(0, len(refs), _CHUNK):
        chunk = refs[start : start + _CHUNK]
        for keys in _chunks(leaves):
            condition, params = d.any_of("entry_key", [d.text(leaf) for leaf in keys])
            hits += yield Stmt(
                d.sql(
                    "SELECT session_ref, entry_key, seq FROM entries "
                    f"WHERE session_ref IN ({', '.join('?' * len(chunk))}) AND subpath = '' "
                    f"AND {condition}"
                ),
                (*chunk, *params),
                "all",
            )
    return (yield from _holding(d, hits))


def _holding(d: Dialect, hits: Sequence[Any]) -> Op[dict[str, list[Holder]]]:
    """The live sessions among ``hits`` (entries' session, key and position), by key."""
    live = yield from _live(d, sorted({int(hit["session_ref"]) for hit in hits}))
    found: dict[str, list[Holder]] = {}
    for hit in hits:
        session = live.get(int(hit["session_ref"]))
        if session is not None:
            holder = replace(session, seq=int(hit["seq"]))
            found.setdefault(hit["entry_key"], []).append(holder)
    return found


def _holder(r: Any) -> Holder:
    return Holder(int(r["id"]), str(r["session_id"]), r["forked_from"], int(r["seq"]))


def _hold(d: Dialect, leaf: str, ref: int, seq: int) -> Stmt:
    return Stmt(
        d.sql("UPDATE summaries SET session_ref = ?, leaf_seq = ? WHERE leaf_key = ?"),
        (ref, seq, d.text(leaf)),
    )


def claim_leaves(
    d: Dialect, row: SessionRow, forked_from: str | None, entries: Sequence[NewEntry]
) -> Op[set[int]]:
    """Summaries whose leaf is among the new ``entries`` of ``row``'s main transcript:
    ``row`` takes those waiting for it, and those a fork of it holds. Returns the
    other sessions that lost a summary."""
    lost: set[int] = set()
    if not entries:
        return lost
    kept = yield Stmt(d.sql("SELECT 1 AS found FROM summaries LIMIT 1"), (), "one")
    if kept is None:  # most stores: today's CLI writes no summaries
        return lost
    new = {e.key: e.seq for e in entries if e.key is not None and "@" not in e.key}
    keys = sorted(new)
    for chunk in _chunks(keys):
        condition, params = d.any_of("m.leaf_key", [d.text(key) for key in chunk])
        rows = yield Stmt(
            d.sql(
                "SELECT m.leaf_key, m.leaf_seq AS seq, s.id, s.session_id, s.forked_from, "
                "s.trashed_at FROM summaries m LEFT JOIN sessions s ON s.id = m.session_ref "
                f"WHERE {condition}"
            ),
            params,
            "all",
        )
        for r in rows:
            here = Holder(row.ref, row.metadata.session_id, forked_from, new[r["leaf_key"]])
            held = _holder(r) if r["id"] is not None and r["trashed_at"] is None else None
            if held is not None and held.ref == row.ref:
                continue
            chosen = summary_holder([here] if held is None else [held, here])
            if chosen is here:
                yield _hold(d, r["leaf_key"], row.ref, here.seq)
                if held is not None:
                    lost.add(held.ref)
    return lost


def rehome(d: Dialect, fork: int, origin: int) -> Op[set[int]]:
    """Summaries held by ``fork`` whose leaf its origin holds too go to the origin
    (the fork's copy of the leaf is its origin's). Returns both when any moved."""
    rows = yield Stmt(d.sql("SELECT leaf_key FROM summaries WHERE session_ref = ?"), (fork,), "all")
    leaves = [r["leaf_key"] for r in rows]
    moved = False
    for chunk in _chunks(leaves):
        condition, params = d.any_of("entry_key", list(chunk))
        found = yield Stmt(
            d.sql(
                "SELECT entry_key, seq FROM entries WHERE session_ref = ? AND subpath = '' "
                f"AND {condition}"
            ),
            (origin, *params),
            "all",
        )
        for r in found:
            yield _hold(d, r["entry_key"], origin, int(r["seq"]))
            moved = True
    return {fork, origin} if moved else set()


def match_stored(d: Dialect) -> Op[None]:
    """Match the summaries waiting for their leaf to the live sessions holding it, in
    every project (an upgrade's pass over the whole store)."""
    rows = yield Stmt(
        d.sql("SELECT leaf_key FROM summaries WHERE session_ref IS NULL ORDER BY leaf_key"),
        (),
        "all",
    )
    for chunk in _chunks([r["leaf_key"] for r in rows]):
        condition, params = d.any_of("entry_key", list(chunk))
        found = yield Stmt(
            d.sql(
                "SELECT session_ref, entry_key, seq FROM entries "
                f"WHERE subpath = '' AND {condition}"
            ),
            params,
            "all",
        )
        holders = yield from _holding(d, found)
        for leaf, candidates in holders.items():
            chosen = summary_holder(candidates)
            if chosen is not None:
                yield _hold(d, leaf, chosen.ref, chosen.seq)


def _live(d: Dialect, refs: Sequence[int]) -> Op[dict[int, Holder]]:
    """The live sessions among ``refs`` (their position left at 0)."""
    found: dict[int, Holder] = {}
    for start in range(0, len(refs), _CHUNK):
        chunk = refs[start : start + _CHUNK]
        marks = ", ".join("?" * len(chunk))
        rows = yield Stmt(  # by id; not "trashed_at IS NULL", which SQLite reads by scanning
            d.sql(
                "SELECT id, session_id, forked_from, trashed_at FROM sessions "
                f"WHERE id IN ({marks})"
            ),
            tuple(chunk),
            "all",
        )
        for r in rows:
            if r["trashed_at"] is None:
                found[int(r["id"])] = Holder(int(r["id"]), r["session_id"], r["forked_from"], 0)
    return found
