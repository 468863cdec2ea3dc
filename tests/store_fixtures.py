"""Fixtures for the session-store tests, parametrised over backends.

Today only "sqlite"; a PostgreSQL backend joins the ``BACKENDS`` list later
and then runs the same tests.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from claude_sessions import SessionStore

BACKENDS = ["sqlite"]


class FakeClock:
    """A settable clock for the store (no sleeping in tests)."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 1, 15, 12, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


StoreFactory = Callable[..., SessionStore]


@pytest.fixture(params=BACKENDS)
def store_factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreFactory]:
    """``store_factory(**kwargs)`` opens a fresh store (a new database each call
    unless ``location=`` is given); every store is closed after the test."""
    opened: list[SessionStore] = []
    counter = iter(range(1_000_000))

    def make(location: Any = None, **kwargs: Any) -> SessionStore:
        if request.param == "sqlite":
            where = location if location is not None else tmp_path / f"store{next(counter)}"
        else:  # pragma: no cover - future backends
            raise NotImplementedError(request.param)
        kwargs.setdefault("cleanup_after_days", None)
        store = SessionStore(where, **kwargs)
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()


@pytest.fixture
def store(store_factory: StoreFactory) -> SessionStore:
    return store_factory()


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock()
