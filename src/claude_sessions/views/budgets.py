"""Spending budgets and what was spent against each, for every face.

The limits are kept in the store (:mod:`claude_sessions.store.budgets`). A
daily budget counts the current UTC day, a monthly one the current UTC month
(the days ``stats`` and the usage page show); a block budget counts the
active 5-hour usage block (:func:`claude_sessions.views.blocks.active_block`). Spend is
that of the API requests made in the period, by each request's own time (a session
started yesterday that made requests today spends today), and what of a session no
timed request carries, on the day it was created (``spend`` of the store's core).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from claude_sessions.store.budgets import KINDS, Budgets

if TYPE_CHECKING:
    from claude_sessions.store import SessionStore

NEAR = 0.8  # past this share of a budget, faces warn
PERIOD_NAMES = {"daily": "today", "monthly": "this month", "block": "this block"}


@dataclass(frozen=True)
class BudgetState:
    """One budget and what was spent against it (``spent`` is ``None`` when unknown)."""

    kind: str
    limit: float
    spent: float | None

    @property
    def share(self) -> float | None:
        return None if self.spent is None else self.spent / self.limit

    @property
    def level(self) -> str:
        """``over`` (100% or more), ``near`` (80% or more), ``ok`` or ``unknown``."""
        share = self.share
        if share is None:
            return "unknown"
        return "over" if share >= 1 else "near" if share >= NEAR else "ok"

    def describe(self) -> str:
        """One plain sentence: ``daily budget: $4.20 of $5.00 spent today (84%, past 80%)``."""
        limit = f"${self.limit:,.2f}"
        if self.spent is None:
            return f"{self.kind} budget: {limit} ({PERIOD_NAMES[self.kind]}: not known yet)"
        said = {"over": ", OVER BUDGET", "near": f", past {NEAR:.0%}", "ok": ""}[self.level]
        return (
            f"{self.kind} budget: ${self.spent:,.2f} of {limit} spent "
            f"{PERIOD_NAMES[self.kind]} ({self.share:.0%}{said})"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "limit": self.limit,
            "spent": self.spent,
            "share": self.share,
            "level": self.level,
        }


def read_budgets(store: SessionStore) -> Budgets:
    return store.run(store.core.budgets())


def set_budgets(
    store: SessionStore,
    *,
    daily: float | None = None,
    monthly: float | None = None,
    block: float | None = None,
) -> Budgets:
    """Set the budgets given (in USD; the others stay as they were); returns them all."""
    return store.run(store.core.set_budgets(Budgets(daily, monthly, block)))


def clear_budgets(store: SessionStore) -> int:
    """Remove every budget; returns how many there were."""
    return store.run(store.core.clear_budgets())


def spent_in(store: SessionStore, start: datetime, end: datetime) -> float:
    """What was spent from ``start`` until before ``end``, by the requests' own times."""
    return store.run(store.core.spend(start.timestamp(), end.timestamp()))


def day_start(now: datetime) -> datetime:
    return now.astimezone(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)


def spent_today(store: SessionStore, now: datetime) -> float:
    """What was spent on the (UTC) day of ``now``."""
    today = day_start(now)
    return spent_in(store, today, today + timedelta(days=1))


def spent_this_month(store: SessionStore, now: datetime) -> float:
    """What was spent in the (UTC) month of ``now``."""
    first = day_start(now).replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return spent_in(store, first, following)


def budget_status(
    store: SessionStore,
    *,
    now: datetime | None = None,
    counted: Mapping[str, float] | None = None,
    limits: Budgets | None = None,
) -> list[BudgetState]:
    """Each budget set (``limits``, read from the store when not given), with what was
    spent against it at ``now``; ``counted``: the spend by kind the caller has counted
    already (the status line shows today's and the active block's), not counted again."""
    limits = read_budgets(store) if limits is None else limits
    found = limits.limits()
    if not found:
        return []
    moment = now or datetime.now(timezone.utc)
    spent: dict[str, float | None] = dict(counted or {})
    if "block" in found and "block" not in spent:
        from claude_sessions.views.blocks import active_block

        active = active_block(store, now=moment.timestamp())
        spent["block"] = active.block.cost if active is not None else 0.0
    if "daily" in found and "daily" not in spent:
        spent["daily"] = spent_today(store, moment)
    if "monthly" in found and "monthly" not in spent:
        spent["monthly"] = spent_this_month(store, moment)
    return [BudgetState(kind, found[kind], spent[kind]) for kind in KINDS if kind in found]
