"""Upgrade steps keep their numbers once released: a store records only the number of
the last step it ran, so a step inserted below a released number would never run on
it. New steps go after the released ones. The split of run totals (a step of earlier
releases, a no-op in its old places) runs after every step, once: only for a store from
before ``RESULTS_SPLIT``."""

from __future__ import annotations

from typing import Any

import pytest

from claude_sessions import SessionStore
from claude_sessions.store.postgres import schema as postgres_schema
from claude_sessions.store.sqlite import schema as sqlite_schema

from .older_store import set_back
from .store_samples import run

# The released steps, in order (the last one of each list is where the split of run
# totals was; it may since have become a no-op).
RELEASED_SQLITE = [f"_v{n}" for n in range(1, 20)] + [
    "_sync_marks",
    "_usage_rollups",
    "_member_indexes",
    "_split_result_runs",
]
RELEASED_POSTGRES_STEPS = 20


def _is_noop_for_the_split(step: object) -> bool:
    return "the split of run totals" in (getattr(step, "__doc__", None) or "")


def test_released_sqlite_steps_keep_their_numbers() -> None:
    names = [step.__name__ for step in sqlite_schema.UPGRADES]
    assert len(names) >= len(RELEASED_SQLITE)
    for number, (released, step) in enumerate(
        zip(RELEASED_SQLITE, sqlite_schema.UPGRADES, strict=False), start=1
    ):
        if released == "_split_result_runs" and _is_noop_for_the_split(step):
            continue
        assert step.__name__ == released, f"SQLite step {number} changed"


def test_released_postgres_steps_keep_their_numbers() -> None:
    steps = postgres_schema.UPGRADES
    assert len(steps) >= RELEASED_POSTGRES_STEPS
    released = {
        16: postgres_schema.SYNC_MARKS,
        17: postgres_schema.USAGE_ROLLUPS,
        19: postgres_schema.ASIDE_TEXT,
        20: (),  # the split's old place: a no-op
    }
    for number, step in released.items():
        assert steps[number - 1] == step, f"PostgreSQL step {number} changed"
    assert postgres_schema.RESULTS_SPLIT == RELEASED_POSTGRES_STEPS


@pytest.mark.parametrize(
    ("sqlite", "postgres", "folded"),
    [(23, 20, False), (22, 19, True)],  # the previous release's last versions, and before
)
def test_the_split_of_run_totals_runs_once_after_every_step(
    store_location: str, monkeypatch: pytest.MonkeyPatch, sqlite: int, postgres: int, folded: bool
) -> None:
    from claude_sessions.store import upgrades

    with SessionStore(store_location) as opened:
        opened.save_session("s1", run("s1"))
    set_back(store_location, sqlite=sqlite, postgres=postgres, undo=lambda *_: None)
    calls: list[bool] = []
    real = upgrades.split_result_runs

    def counted(*args: Any) -> Any:
        # the usage sums' tables exist by then: every other step ran before
        calls.append(True)
        return real(*args)

    monkeypatch.setattr(upgrades, "split_result_runs", counted)
    with SessionStore(store_location) as opened:
        assert opened.get_metadata("s1") is not None
        assert opened.usage()[0].sessions == 1
    assert calls == ([True] if folded else [])
