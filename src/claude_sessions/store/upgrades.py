"""Transactions that schema upgrades run over every stored session (see the
``upgrade`` of :mod:`.sqlite.schema` and :mod:`.postgres.schema`)."""

from __future__ import annotations

from claude_sessions.model.entries import entry_uuid, root_entry
from claude_sessions.store.dialect import Dialect
from claude_sessions.store.entry_writes import FIGURES, derive_figures, figures, refold
from claude_sessions.store.plan import Op, Stmt


def fill_root_keys(d: Dialect) -> Op[None]:
    """Find every stored session's root entry (a schema upgrade adding ``root_key``);
    entries are read a few at a time: the root is almost always among the first."""
    refs = yield Stmt(d.sql("SELECT id FROM sessions ORDER BY id"), (), "all")
    for item in refs:
        ref, after, root = int(item["id"]), -1, None
        while root is None:
            rows = yield Stmt(
                d.sql(
                    f"SELECT seq, {d.entry_columns()} FROM entries WHERE session_ref = ? "
                    "AND subpath = '' AND seq > ? ORDER BY seq LIMIT 16"
                ),
                (ref, after),
                "all",
            )
            if not rows:
                break
            after = int(rows[-1]["seq"])
            root = root_entry(d.entry(row) for row in rows)
        if root is not None:
            yield Stmt(
                d.sql("UPDATE sessions SET root_key = ? WHERE id = ?"),
                (d.text(entry_uuid(root)), ref),
            )


def recount(d: Dialect) -> Op[None]:
    """Fold every session again (a schema upgrade that changes how figures are counted)."""
    rows = yield Stmt(d.sql("SELECT id, forked_from FROM sessions ORDER BY id"), (), "all")
    for row in rows:
        ref = int(row["id"])
        state = yield from refold(d, ref)
        derived = yield from derive_figures(d, state, row["forked_from"])
        yield Stmt(
            d.sql(f"UPDATE sessions SET {FIGURES}, fold_state = ? WHERE id = ?"),
            (*figures(d, derived), state.to_json(), ref),
        )
