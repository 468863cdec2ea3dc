"""Telling every server process that the store changed: PostgreSQL's LISTEN/NOTIFY.

Each counted write transaction sends a notice on :data:`.dialect.CHANGES_CHANNEL` with its schema
as the payload (see :func:`~claude_sessions.store.writes.counted`); PostgreSQL
delivers it at the commit, to every connection listening, and never for a
transaction that rolled back. :class:`ChangeListener` keeps one such connection
per process, in a thread of its own, and calls back for each notice of its schema.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import psycopg

from claude_sessions.store.postgres.dialect import CHANGES_CHANNEL

# How long one wait for notices lasts: the thread sees that it was stopped this often.
WAIT_SECONDS = 0.5
# After a lost connection, the pause before connecting again.
RECONNECT_SECONDS = 2.0
log = logging.getLogger(__name__)


class ChangeListener:
    """A thread that LISTENs on one connection and calls ``on_change`` for each notice
    of ``schema``. After a lost connection it calls back once (a notice may have been
    missed) and connects again."""

    def __init__(
        self, conninfo: str, kwargs: dict[str, Any], schema: str, on_change: Callable[[], None]
    ) -> None:
        self._conninfo = conninfo
        self._kwargs = {**kwargs, "autocommit": True}
        self._schema = schema
        self._on_change = on_change
        self._stopped = threading.Event()
        self._listening = threading.Event()
        thread = threading.Thread(target=self._run, name="claude-sessions-listen", daemon=True)
        thread.start()

    def wait_listening(self, timeout: float) -> bool:
        """Whether the listener is connected and listening (waits up to ``timeout``)."""
        return self._listening.wait(timeout)

    def stop(self) -> None:
        """Stop listening: the thread closes its connection within ``WAIT_SECONDS``."""
        self._stopped.set()

    def _run(self) -> None:
        while not self._stopped.is_set():
            try:
                self._listen()
            except psycopg.Error as error:
                if self._stopped.is_set():  # the store closed: its database may be gone
                    return
                log.warning("listening for store changes failed: %s", error)
            self._listening.clear()
            if not self._stopped.is_set():
                self._on_change()
                self._stopped.wait(RECONNECT_SECONDS)

    def _listen(self) -> None:
        with psycopg.connect(self._conninfo, **self._kwargs) as conn:
            conn.execute(f"LISTEN {CHANGES_CHANNEL}")
            self._listening.set()
            while not self._stopped.is_set():
                for notice in conn.notifies(timeout=WAIT_SECONDS):
                    if notice.payload == self._schema:
                        self._on_change()
