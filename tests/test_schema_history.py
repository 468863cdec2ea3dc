"""Upgrade steps keep their numbers once released: a store records only the number of
the last step it ran, so a step inserted below a released number would never run on
it. New steps go after the released ones; the split of run totals, which must stay
last, leaves a no-op in its old place."""

from __future__ import annotations

from claude_sessions.store.postgres import schema as postgres_schema
from claude_sessions.store.sqlite import schema as sqlite_schema

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
    return "redone by the last step" in (getattr(step, "__doc__", None) or "")


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
    assert len(steps) == postgres_schema.RESULTS_SPLIT
