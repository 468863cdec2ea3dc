"""The store's users and tokens: the library on both databases, the command line, and
no token in plain text in a copy of the database."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from claude_sessions import InvalidInputError
from claude_sessions.cli import cli
from claude_sessions.model.exceptions import UserNotFoundError
from claude_sessions.store import users
from claude_sessions.store.plan import Stmt, Txn, single
from claude_sessions.testing.postgres import find_bindir


def test_a_user_gets_a_token_that_names_them(store):
    alice, token = users.add_user(store, "alice", session_user="alice@example.com")
    assert (alice.name, alice.session_user, alice.admin) == ("alice", "alice@example.com", False)
    root, root_token = users.add_user(store, "root", admin=True)
    assert (root.session_user, root.admin) == ("root", True)
    assert token != root_token and token.startswith("cs_")
    assert users.verify_token(store, token) == alice
    assert users.verify_token(store, root_token) == root
    assert [u.name for u in users.list_users(store)] == ["alice", "root"]
    assert users.list_users(store)[0] == alice


def test_what_is_not_a_token_of_a_user_is_refused(store):
    _, token = users.add_user(store, "alice")
    prefix, lookup_id, secret = token.split("_", 2)
    flipped = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    for wrong in [
        f"{prefix}_{lookup_id}_{flipped}",  # the right user, the wrong secret
        f"{prefix}_{'0' * 16}_{secret}",  # no such lookup id
        f"{prefix}_{lookup_id}_",
        token[:-1],
        "",
        "cs_\x00\x00_x",
        "Bearer " + token,
        None,
    ]:
        assert users.verify_token(store, wrong) is None, wrong


def test_a_new_token_revokes_the_old_and_removal_revokes_all(store):
    _, first = users.add_user(store, "alice")
    second = users.issue_token(store, "alice")
    assert users.verify_token(store, first) is None
    assert users.verify_token(store, second).name == "alice"
    users.remove_user(store, "alice")
    assert users.verify_token(store, second) is None
    assert users.list_users(store) == []


def test_names_are_checked(store):
    users.add_user(store, "alice")
    with pytest.raises(InvalidInputError, match="already exists"):
        users.add_user(store, "alice", admin=True)
    assert users.list_users(store)[0].admin is False  # the first one stays as it was
    for bad in ["", " alice", "a\nb", "x" * 101]:
        with pytest.raises(InvalidInputError):
            users.add_user(store, bad)
    with pytest.raises(UserNotFoundError):
        users.remove_user(store, "bob")
    with pytest.raises(UserNotFoundError):
        users.issue_token(store, "bob")


def _stored_hashes(store):
    d = store.core.d

    def rows():
        found = yield Stmt(
            d.sql("SELECT token_hash, token_salt, token_kdf FROM users ORDER BY name"), (), "all"
        )
        return [dict(row) for row in found]

    return store.run(single(Txn(rows)))


def test_only_a_slow_salted_hash_is_kept(store):
    _, token = users.add_user(store, "alice")
    _, other = users.add_user(store, "bob")
    alice, bob = _stored_hashes(store)
    assert alice["token_salt"] != bob["token_salt"]  # a salt of its own each
    name, *settings = alice["token_kdf"].split("$")
    cost = {key: int(value) for key, value in (item.split("=") for item in settings)}
    assert name == "scrypt" and cost["n"] >= 2**14 and cost["r"] >= 8
    # The hash is scrypt's of the whole token with that salt, recomputed here.
    expected = hashlib.scrypt(
        token.encode(),
        salt=bytes.fromhex(alice["token_salt"]),
        **cost,
        maxmem=2**27,
        dklen=32,
    )
    assert expected.hex() == alice["token_hash"]
    assert token not in json.dumps([alice, bob]) and other not in json.dumps([alice, bob])


def _secrets(token: str) -> list[bytes]:
    """What of a token must never be stored: the whole of it, and its secret part."""
    return [token.encode(), token.split("_", 2)[2].encode()]


def test_no_token_in_the_sqlite_file(tmp_path):
    location = tmp_path / "store"
    tokens = [_add(location, "alice"), _add(location, "bob", "--admin")]
    tokens.append(json.loads(_run(location, "users", "token", "alice", "--json"))["token"])
    files = [path for path in location.iterdir() if path.name.startswith("sessions.db")]
    dumped = b"".join(path.read_bytes() for path in files)
    assert b"alice" in dumped  # the dump is of the right database
    for token in tokens:
        for secret in _secrets(token):
            assert secret not in dumped


@pytest.mark.postgres
def test_no_token_in_a_pg_dump(postgres_database):
    tokens = [_add(postgres_database, "alice"), _add(postgres_database, "bob", "--admin")]
    tokens.append(json.loads(_run(postgres_database, "users", "token", "bob", "--json"))["token"])
    pg_dump = Path(find_bindir()) / "pg_dump"
    dumped = subprocess.run(
        [str(pg_dump), "--dbname", postgres_database.split("?")[0]],
        capture_output=True,
        check=True,
        timeout=120,
    ).stdout
    assert b"CREATE TABLE claude_sessions.users" in dumped and b"alice" in dumped
    for token in tokens:
        for secret in _secrets(token):
            assert secret not in dumped


# -- the command line -----------------------------------------------------------------


def _run(where, *args, code=0):
    done = CliRunner().invoke(cli, [*args, "--store", str(where)])
    assert done.exit_code == code, done.output
    return done.output


def _add(where, name, *more):
    return json.loads(_run(where, "users", "add", name, *more, "--json"))["token"]


def test_users_commands(store_location):
    from claude_sessions import SessionStore

    added = json.loads(
        _run(store_location, "users", "add", "alice", "--as", "alice@example.com", "--json")
    )
    assert added["user"] == "alice"
    plain = CliRunner().invoke(cli, ["users", "add", "root", "--admin", "--store", store_location])
    assert plain.exit_code == 0
    root_token = plain.stdout.strip()  # the token alone on stdout, the rest on stderr
    assert "shown this once" in plain.stderr
    assert _run(store_location, "users", "list").splitlines() == [
        "alice (member, sessions of alice@example.com)",
        "root (admin)",
    ]
    listed = json.loads(_run(store_location, "users", "list", "--json"))
    assert [(u["name"], u["session_user"], u["admin"]) for u in listed] == [
        ("alice", "alice@example.com", False),
        ("root", "root", True),
    ]
    renewed = json.loads(_run(store_location, "users", "token", "alice", "--json"))["token"]
    with SessionStore(store_location, cleanup_after_days=None) as store:
        assert users.verify_token(store, added["token"]) is None
        assert users.verify_token(store, renewed).name == "alice"
        assert users.verify_token(store, root_token).admin is True
    assert "Error: a user named 'alice' already exists" in _run(
        store_location, "users", "add", "alice", code=2
    )
    assert "Error: no user named 'bob'" in _run(store_location, "users", "remove", "bob", code=2)
    assert _run(store_location, "users", "remove", "alice") == "Removed user alice.\n"
    assert [u["name"] for u in json.loads(_run(store_location, "users", "list", "--json"))] == [
        "root"
    ]
