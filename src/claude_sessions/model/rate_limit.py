"""Failed attempts counted per key (a user name, a client address) over a sliding window."""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

# Past this many keys the oldest are forgotten: one client trying many names cannot grow
# the table without bound (its own address stays counted).
_MAX_KEYS = 10_000


class FailedAttempts:
    """At most ``limit`` failures per key in any ``window`` seconds; past that, a key waits."""

    def __init__(
        self, limit: int = 5, window: float = 60.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, *keys: str) -> int | None:
        """Whole seconds until every key may try again, or ``None`` if all may now."""
        now = self.clock()
        wait = 0.0
        with self._lock:
            for key in keys:
                failures = self._recent(key, now)
                if len(failures) >= self.limit:
                    wait = max(wait, failures[0] + self.window - now)
        return max(1, math.ceil(wait)) if wait > 0 else None

    def record(self, *keys: str) -> None:
        """One more failure for each key."""
        now = self.clock()
        with self._lock:
            for key in keys:
                failures = self._recent(key, now)
                failures.append(now)
                self._failures[key] = failures
            while len(self._failures) > _MAX_KEYS:
                del self._failures[next(iter(self._failures))]

    def _recent(self, key: str, now: float) -> deque[float]:
        failures = self._failures.pop(key, deque())
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        if failures:
            self._failures[key] = failures  # re-inserted: the dict keeps the least recent first
        return failures
