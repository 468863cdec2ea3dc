"""Spending budgets, kept in the store (so every machine on a PostgreSQL store shares them).

One row per kind of budget (:data:`KINDS`): its limit in US dollars. What was
spent against each is worked out above the store
(:mod:`claude_sessions.views.budgets`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any

from claude_sessions.model.exceptions import InvalidInputError
from claude_sessions.store.dialect import Dialect
from claude_sessions.store.plan import Op, Stmt

KINDS = ("daily", "monthly", "block")


@dataclass(frozen=True)
class Budgets:
    """Limits in US dollars; ``None``: no budget of that kind."""

    daily: float | None = None
    monthly: float | None = None
    block: float | None = None

    def __post_init__(self) -> None:
        for kind in KINDS:
            limit = getattr(self, kind)
            if limit is None:
                continue
            number = isinstance(limit, int | float) and not isinstance(limit, bool)
            if not (number and 0 < limit < math.inf):
                raise InvalidInputError(f"a {kind} budget is a positive number of USD: {limit!r}")

    def limits(self) -> dict[str, float]:
        """The budgets that are set, by kind."""
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name)}

    def merged(self, newer: Budgets) -> Budgets:
        """These budgets with those ``newer`` sets replacing them."""
        return Budgets(**{**self.limits(), **newer.limits()})

    def to_dict(self) -> dict[str, Any]:
        return {kind: getattr(self, kind) for kind in KINDS}


def read_budgets(d: Dialect) -> Op[Budgets]:
    rows = yield Stmt(d.sql("SELECT kind, limit_usd FROM budgets"), (), "all")
    found = {row["kind"]: float(row["limit_usd"]) for row in rows if row["kind"] in KINDS}
    return Budgets(**found)


def write_budgets(d: Dialect, budgets: Budgets) -> Op[Budgets]:
    """Set the budgets ``budgets`` names, keeping the others; returns them all."""
    if not budgets.limits():
        return (yield from read_budgets(d))
    yield Stmt(
        d.sql(
            "INSERT INTO budgets (kind, limit_usd) VALUES (?, ?) "
            "ON CONFLICT (kind) DO UPDATE SET limit_usd = excluded.limit_usd"
        ),
        list(budgets.limits().items()),
        many=True,
    )
    return (yield from read_budgets(d))


def clear_budgets(d: Dialect) -> Op[int]:
    """Remove every budget; returns how many there were."""
    removed: int = yield Stmt(d.sql("DELETE FROM budgets"), (), "rowcount")
    return removed
