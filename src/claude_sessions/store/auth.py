"""Signing in to a team server: checking a user's token, and the signed-in browsers.

A browser that signs in gets a random key (its cookie); the store keeps only the
key's SHA-256 (the key is 256 random bits, so a fast hash gives nothing away), the
user and when it expires, so a restart of the server keeps the browser signed in
and a copy of the database holds no key that works. Signing out, a new token
(``users token``) and removing the user (``users remove``) end a user's sign-ins.

Checking a token costs a slow scrypt hash (see :mod:`.users`): :class:`TokenCheck`
remembers the tokens it has seen pass, together with the hash stored for them, so a
token sent with every request is hashed once, and stops passing as soon as the
store's hash changes or goes.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from collections.abc import Mapping
from typing import Any

from claude_sessions.model.identity import User
from claude_sessions.store.dialect import Dialect
from claude_sessions.store.location import is_server_location
from claude_sessions.store.plan import Op, Stmt, Txn, single
from claude_sessions.store.session_store import SessionStore
from claude_sessions.store.users import (
    list_users,
    stored_token,
    user_of_row,
    verify_token,
)

SIGN_IN_DAYS = 30
_KEY_BYTES = 32
_CACHE_LIMIT = 1024


def _key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _insert(d: Dialect, key_hash: str, name: str, now: float, expires: float) -> Op[bool]:
    # Expired sign-ins go at the same time: nothing else reads them. ON CONFLICT: a retry
    # after a lost connection does what the first attempt did.
    yield Stmt(d.sql("DELETE FROM sign_ins WHERE expires_at <= ?"), (d.time(now),))
    row = yield Stmt(
        d.sql(
            "INSERT INTO sign_ins (key_hash, user_name, created_at, expires_at) "
            "SELECT ?, name, ?, ? FROM users WHERE name = ? "
            "ON CONFLICT (key_hash) DO UPDATE SET expires_at = excluded.expires_at "
            "RETURNING user_name"
        ),
        (key_hash, d.time(now), d.time(expires), name),
        "one",
    )
    return row is not None


def _signed_in(d: Dialect, key_hash: str, now: float) -> Op[Mapping[str, Any] | None]:
    row: Mapping[str, Any] | None = yield Stmt(
        d.sql(
            "SELECT u.name, u.linked_user AS session_user, u.admin, u.created_at "
            "FROM sign_ins s JOIN users u ON u.name = s.user_name "
            "WHERE s.key_hash = ? AND s.expires_at > ?"
        ),
        (key_hash, d.time(now)),
        "one",
    )
    return row


def _delete(d: Dialect, key_hash: str, now: float) -> Op[None]:
    yield Stmt(
        d.sql("DELETE FROM sign_ins WHERE key_hash = ? OR expires_at <= ?"),
        (key_hash, d.time(now)),
    )


def start_sign_in(store: SessionStore, user: User, *, days: float = SIGN_IN_DAYS) -> str | None:
    """A new sign-in of ``user`` for ``days``: the key for the browser's cookie (the store
    keeps only its hash), or ``None`` when the user no longer exists."""
    key = secrets.token_urlsafe(_KEY_BYTES)
    now, d = store.core.now(), store.core.d
    expires = now + days * 86400
    key_hash = _key_hash(key)
    made = store.run(single(Txn(lambda: _insert(d, key_hash, user.name, now, expires), write=True)))
    return key if made else None


def signed_in_user(store: SessionStore, key: str) -> User | None:
    """The user signed in with ``key``, or ``None`` (unknown, ended or expired)."""
    if not key or len(key) > 128:
        return None
    now, d = store.core.now(), store.core.d
    row = store.run(single(Txn(lambda: _signed_in(d, _key_hash(key), now))))
    return None if row is None else user_of_row(d, row)


def end_sign_in(store: SessionStore, key: str) -> None:
    """Sign out the browser holding ``key`` (nothing happens for an unknown key); the
    expired sign-ins go too."""
    now, d = store.core.now(), store.core.d
    store.run(single(Txn(lambda: _delete(d, _key_hash(key), now), write=True)))


class TokenCheck:
    """Who a bearer token belongs to, hashing each token with scrypt only once."""

    def __init__(self, store: SessionStore) -> None:
        self.store = store
        self._passed: dict[str, str] = {}  # SHA-256 of a token -> the hash stored for it
        self._lock = threading.Lock()

    def known(self, token: str) -> User | None:
        """The user of ``token`` if it passed here before and is still theirs, without
        hashing it (cheap enough for an address past the failed sign-in limit)."""
        found = stored_token(self.store, token)
        return None if found is None else self._passed_before(token, *found)

    def user(self, token: str) -> User | None:
        """The user ``token`` belongs to, or ``None`` (malformed, unknown or revoked)."""
        found = stored_token(self.store, token)
        if found is None:
            return None
        passed = self._passed_before(token, *found)
        if passed is not None:
            return passed
        checked = verify_token(self.store, token)
        if checked is not None:
            with self._lock:
                if len(self._passed) >= _CACHE_LIMIT:
                    self._passed.clear()
                self._passed[_key_hash(token)] = found[1]
        return checked

    def _passed_before(self, token: str, user: User, stored_hash: str) -> User | None:
        with self._lock:
            passed = self._passed.get(_key_hash(token))
        return user if passed is not None and hmac.compare_digest(passed, stored_hash) else None


def signing_in_by_default(store: SessionStore) -> bool:
    """Whether a server over ``store`` asks for signing in unless told not to: on a
    PostgreSQL store (a team's) once it has a user."""
    return is_server_location(store.location) and bool(list_users(store))
