"""Which stored session a fork came from, settled whatever order they arrive in.

A fork's transcript copies its origin's entries (same uuids, message and
time), so the two share a root entry (``sessions.root_key``). Whenever a
session gets entries, every live session with the same root entry is weighed
again (:func:`.write_rules.settle_kin`) and the links that changed are
written: a fork stored before its origin is linked to it when the origin
arrives, and the origin is never taken for a fork of its own fork. Runs in the
transaction of the write (see :mod:`.entry_writes`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from claude_sessions.model.derive import request_keys
from claude_sessions.model.fold_state import FoldState
from claude_sessions.store.dialect import Dialect, SessionRow
from claude_sessions.store.plan import Op, Stmt
from claude_sessions.store.write_rules import (
    ForkLink,
    Kin,
    marked_link,
    same_root,
    settle_kin,
)

# Sessions weighed together: a root entry shared more widely is no family of forks.
MAX_KIN = 32


@dataclass(frozen=True)
class Settled:
    """The writing session's fork link, and the other sessions whose link changed."""

    link: ForkLink
    relinked: dict[int, ForkLink]


def settle_forks(
    d: Dialect, row: SessionRow, own: ForkLink, *, pinned: bool, newly_rooted: bool
) -> Op[Settled]:
    """Settle the fork links of the sessions sharing ``row``'s root entry (its
    ``root_key`` as stored now). ``own``: its link from its own evidence, ``pinned``
    when that is a run's report or its entries' marks."""
    if row.root_key is None:
        return Settled(own, {})
    others = yield Stmt(
        d.sql(
            "SELECT session_id FROM sessions WHERE root_key = ? AND id <> ? "
            "AND trashed_at IS NULL ORDER BY id LIMIT ?"
        ),
        (d.text(row.root_key), row.ref, MAX_KIN),
        "all",
    )
    if not others:
        return Settled(own, {})
    for session_id in sorted({str(other["session_id"]) for other in others}):
        yield from d.lock(session_id)  # their rows are read, and maybe written, below
    kin, held = yield from _kin(d, row.root_key, row.ref, {row.ref: (own, pinned)})
    links = settle_kin(kin, newly_rooted=row.ref if newly_rooted else None)
    relinked = yield from _write_changed(d, links, held)
    return Settled(links.get(row.ref, own), relinked)


def settle_group(d: Dialect, root_key: str) -> Op[dict[int, ForkLink]]:
    """Settle the fork links of every live session with this root entry (an upgrade of
    a store whose links were decided by the order its sessions arrived in); returns
    the links that changed."""
    kin, held = yield from _kin(d, root_key, None, {})
    return (yield from _write_changed(d, settle_kin(kin), held))


def _write_changed(
    d: Dialect, links: dict[int, ForkLink], held: dict[int, ForkLink]
) -> Op[dict[int, ForkLink]]:
    changed = {ref: link for ref, link in links.items() if ref in held and link != held[ref]}
    for ref, link in changed.items():
        yield write_link(d, ref, link)
    return changed


def _kin(
    d: Dialect, root_key: str, first: int | None, own: dict[int, tuple[ForkLink, bool]]
) -> Op[tuple[list[Kin], dict[int, ForkLink]]]:
    """The live sessions with this root entry whose root is the same as session
    ``first``'s (same uuid, message and time; ``None``: the oldest one's), and the
    link each holds. ``own``: the link (and whether it is pinned) of the sessions
    writing now, which their rows do not hold yet."""
    rows = yield Stmt(
        d.sql(
            "SELECT s.id, s.session_id, s.forked_from, s.forked_at, s.fold_state, "
            f"{d.entry_columns()} FROM sessions s JOIN entries e ON e.session_ref = s.id "
            "AND e.subpath = '' AND e.entry_key = s.root_key "
            "WHERE s.root_key = ? AND s.trashed_at IS NULL ORDER BY s.id LIMIT ?"
        ),
        (d.text(root_key), MAX_KIN + 1),
        "all",
    )
    roots = {int(found["id"]): d.entry(found) for found in rows}
    root = roots.get(first if first is not None else min(roots, default=-1))
    kin: list[Kin] = []
    held: dict[int, ForkLink] = {}
    for found in rows:
        ref = int(found["id"])
        if root is None or not same_root(roots[ref], root):
            continue
        if ref in own:
            link, pinned = own[ref]
        else:
            held[ref] = ForkLink(found["forked_from"], found["forked_at"])
            marker = _marker(found["fold_state"])
            link, pinned = marked_link(held[ref], marker), marker is not None
        keys = yield from keys_of(d, ref)
        kin.append(Kin(ref, str(found["session_id"]), link, pinned, keys))
    return kin, held


def _marker(fold_state: Any) -> str | None:
    return FoldState.from_json(fold_state).forked_from if fold_state else None


def keys_of(d: Dialect, ref: int) -> Op[frozenset[str]]:
    """The uuids of a session's main transcript entries (not the keys of entries
    without one, which name a place in a file)."""
    rows = yield Stmt(
        d.sql(
            "SELECT entry_key FROM entries WHERE session_ref = ? AND subpath = '' "
            "AND entry_key IS NOT NULL"
        ),
        (ref,),
        "all",
    )
    return frozenset(key for key in (r["entry_key"] for r in rows) if "@" not in key)


def write_link(d: Dialect, ref: int, link: ForkLink) -> Stmt:
    return Stmt(
        d.sql("UPDATE sessions SET forked_from = ?, forked_at = ? WHERE id = ?"),
        (d.text(link.forked_from), d.text(link.forked_at), ref),
    )


def forks_replaying(d: Dialect, session_id: str, requests: Sequence[str]) -> Op[set[int]]:
    """The live forks of ``session_id`` that hold any of ``requests`` (new requests of
    their origin): what they leave to their origin changed."""
    if not requests:
        return set()
    rows = yield Stmt(
        d.sql("SELECT id, fold_state FROM sessions WHERE forked_from = ? AND trashed_at IS NULL"),
        (session_id,),
        "all",
    )
    wanted = set(requests)
    return {
        int(r["id"])
        for r in rows
        if not wanted.isdisjoint(request_keys(FoldState.from_json(r["fold_state"])))
    }
