"""Sign-ins to a team server kept in the store (store/auth.py), on both databases: a
browser's key works until it is ended, expires, or its user gets a new token or is
removed; the store holds only the key's SHA-256; the upgrade that adds them."""

from __future__ import annotations

import hashlib

import pytest

from claude_sessions import SessionStore
from claude_sessions.model.rate_limit import FailedAttempts
from claude_sessions.store import auth, users
from claude_sessions.store.plan import Stmt, Txn, single

from .older_store import set_back
from .store_fixtures import FakeClock


def _rows(store: SessionStore) -> list[dict[str, object]]:
    d = store.core.d

    def read():  # type: ignore[no-untyped-def]
        found = yield Stmt(d.sql("SELECT * FROM sign_ins ORDER BY user_name"), (), "all")
        return [dict(row) for row in found]

    return store.run(single(Txn(read)))


def test_a_sign_in_names_its_user_until_it_ends(store):
    alice, _ = users.add_user(store, "alice", session_user="alice@example.com")
    bob, _ = users.add_user(store, "bob", admin=True)
    first, second = auth.start_sign_in(store, alice), auth.start_sign_in(store, alice)
    other = auth.start_sign_in(store, bob)
    assert len({first, second, other}) == 3 and len(first) >= 40
    assert auth.signed_in_user(store, first) == alice
    assert auth.signed_in_user(store, other) == bob
    auth.end_sign_in(store, first)
    assert auth.signed_in_user(store, first) is None
    assert auth.signed_in_user(store, second) == alice  # another browser stays signed in
    for wrong in ["", first[:-1], "x" * 500, other + "x"]:
        assert auth.signed_in_user(store, wrong) is None
    gone, _ = users.add_user(store, "carol")
    users.remove_user(store, "carol")
    assert auth.start_sign_in(store, gone) is None


def test_the_store_keeps_only_a_hash_of_each_key(store):
    alice, _ = users.add_user(store, "alice")
    key = auth.start_sign_in(store, alice)
    (row,) = _rows(store)
    assert row["key_hash"] == hashlib.sha256(key.encode()).hexdigest()
    assert key not in repr(row)


def test_a_sign_in_expires(store_factory):
    clock = FakeClock()
    store = store_factory(clock=clock)
    alice, _ = users.add_user(store, "alice")
    key = auth.start_sign_in(store, alice, days=1)
    clock.advance(hours=23)
    assert auth.signed_in_user(store, key) == alice
    clock.advance(hours=2)
    assert auth.signed_in_user(store, key) is None
    auth.end_sign_in(store, "another")  # ending any sign-in clears the expired ones
    assert _rows(store) == []
    auth.start_sign_in(store, alice, days=1)
    clock.advance(days=2)
    fresh = auth.start_sign_in(store, alice, days=1)  # and so does a new one
    assert [row["key_hash"] for row in _rows(store)] == [hashlib.sha256(fresh.encode()).hexdigest()]


def test_a_new_token_or_removal_ends_the_users_sign_ins(store):
    alice, _ = users.add_user(store, "alice")
    bob, _ = users.add_user(store, "bob")
    keys = [auth.start_sign_in(store, alice), auth.start_sign_in(store, alice)]
    kept = auth.start_sign_in(store, bob)
    users.issue_token(store, "alice")
    assert [auth.signed_in_user(store, key) for key in keys] == [None, None]
    assert auth.signed_in_user(store, kept) == bob
    users.remove_user(store, "bob")
    assert auth.signed_in_user(store, kept) is None
    assert _rows(store) == []


def test_a_checked_token_is_hashed_once_and_refused_once_revoked(store, monkeypatch):
    alice, token = users.add_user(store, "alice")
    hashes: list[str] = []
    real = users.verify_token

    def counting(store_: SessionStore, given: str) -> users.User | None:
        hashes.append(given)
        return real(store_, given)

    monkeypatch.setattr(auth, "verify_token", counting)
    check = auth.TokenCheck(store)
    assert [check.user(token) for _ in range(3)] == [alice] * 3
    assert len(hashes) == 1
    wrong = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert check.user(wrong) is None and check.user(wrong) is None
    assert len(hashes) == 3  # a wrong token is hashed every time: nothing remembers it
    renewed = users.issue_token(store, "alice")
    assert check.user(token) is None
    assert check.user(renewed) == alice
    users.remove_user(store, "alice")
    assert check.user(renewed) is None


def test_signing_in_is_the_default_on_a_postgresql_store_with_users(store):
    assert auth.signing_in_by_default(store) is False
    users.add_user(store, "alice")
    on_server = store.location.startswith("postgresql://")
    assert auth.signing_in_by_default(store) is on_server


def test_failed_attempts_wait_past_the_limit_per_key():
    now = [1000.0]
    attempts = FailedAttempts(limit=3, window=60, clock=lambda: now[0])
    for _ in range(3):
        assert attempts.retry_after("name:alice", "address:a") is None
        attempts.record("name:alice", "address:a")
    assert attempts.retry_after("name:alice") == 60
    assert attempts.retry_after("address:a", "name:bob") == 60
    assert attempts.retry_after("name:bob", "address:b") is None
    now[0] += 59.5
    assert attempts.retry_after("name:alice") == 1
    now[0] += 0.5
    assert attempts.retry_after("name:alice", "address:a") is None


def test_an_older_store_gets_sign_ins_on_upgrade(store_location):
    with SessionStore(store_location, cleanup_after_days=None) as opened:
        alice, _ = users.add_user(opened, "alice")
    # the store as it was before sign-ins were kept (SQLite 16, PostgreSQL 12)
    set_back(store_location, sqlite=16, postgres=12, undo=lambda run, _: run("DROP TABLE sign_ins"))
    with SessionStore(store_location, cleanup_after_days=None) as upgraded:
        key = auth.start_sign_in(upgraded, alice)
        assert key is not None and auth.signed_in_user(upgraded, key) == alice
    with SessionStore(store_location, cleanup_after_days=None) as reopened:
        assert auth.signed_in_user(reopened, key) == alice


@pytest.mark.parametrize("limit", [1, 5])
def test_a_key_past_the_limit_waits_the_rest_of_its_window(limit):
    now = [0.0]
    attempts = FailedAttempts(limit=limit, window=60, clock=lambda: now[0])
    for second in range(limit):
        now[0] = float(second * 10)
        attempts.record("address:a")
    # The oldest failure counted (at 0) leaves the window at 60.
    assert attempts.retry_after("address:a") == 60 - now[0]
