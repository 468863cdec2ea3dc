"""The store's users and their tokens (``claude-sessions users``), for a team server.

A user has a name, the value sessions record as their ``user`` (``session_user``: the
name itself unless linked to another, such as a git e-mail) and whether they are an
admin. Each has one token, ``cs_<lookup id>_<secret>``: the store keeps the lookup id
and only a slow salted hash of the whole token (scrypt, a salt of its own, the
parameters beside the hash), so a copy of the database gives no token away, and
checking a token hashes once, for the one user its lookup id names.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from claude_sessions.model.exceptions import InvalidInputError, UserNotFoundError
from claude_sessions.model.identity import User
from claude_sessions.store.dialect import Dialect
from claude_sessions.store.plan import Op, Stmt, Txn, single
from claude_sessions.store.session_store import SessionStore

TOKEN_PREFIX = "cs"
MAX_NAME_CHARS = 100
# scrypt's cost: 32 MiB and some 0.1 s a hash, so guessing a token from a stolen
# database stays as slow as it can be without slowing a sign-in.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1
_SCRYPT_MAXMEM = 64 * 1024 * 1024
_HASH_BYTES = 32
_COLUMNS = "name, linked_user AS session_user, admin, created_at"
_HEX_ID = re.compile(r"[0-9a-f]{16}")


@dataclass(frozen=True)
class _Token:
    """A new token and what the store keeps of it."""

    text: str
    lookup_id: str
    hash: str
    salt: str
    kdf: str


def _new_token() -> _Token:
    lookup_id = secrets.token_hex(8)
    text = f"{TOKEN_PREFIX}_{lookup_id}_{secrets.token_urlsafe(32)}"
    salt = secrets.token_bytes(16)
    kdf = f"scrypt$n={SCRYPT_N}$r={SCRYPT_R}$p={SCRYPT_P}"
    return _Token(text, lookup_id, _hash(text, salt, kdf).hex(), salt.hex(), kdf)


def _hash(token: str, salt: bytes, kdf: str) -> bytes:
    """The hash of ``token`` as ``kdf`` (``scrypt$n=..$r=..$p=..``) says to make it."""
    name, *settings = kdf.split("$")
    if name != "scrypt":
        raise InvalidInputError(f"unknown token hash {name!r}")
    cost = {key: int(value) for key, value in (item.split("=") for item in settings)}
    return hashlib.scrypt(
        token.encode(),
        salt=salt,
        n=cost["n"],
        r=cost["r"],
        p=cost["p"],
        maxmem=_SCRYPT_MAXMEM,
        dklen=_HASH_BYTES,
    )


def _lookup_id(token: str) -> str | None:
    prefix, _, rest = token.partition("_")
    lookup_id, _, secret = rest.partition("_")
    if prefix != TOKEN_PREFIX or not secret or not _HEX_ID.fullmatch(lookup_id):
        return None
    return lookup_id


def _checked_name(name: Any, what: str = "a user name") -> str:
    if not isinstance(name, str):
        raise InvalidInputError(f"{what} is a string, not {type(name).__name__}")
    if not name.strip() or name != name.strip():
        raise InvalidInputError(f"{what} cannot be empty or start or end with a space")
    if len(name) > MAX_NAME_CHARS or not name.isprintable():
        raise InvalidInputError(f"{what} is printable text of at most {MAX_NAME_CHARS} characters")
    return name


def user_of_row(d: Dialect, row: Mapping[str, Any]) -> User:
    """A user from a row of :data:`_COLUMNS` (the sign-ins of :mod:`.auth` read them too)."""
    return User(row["name"], row["session_user"], bool(row["admin"]), d.moment(row["created_at"]))


# -- transactions ---------------------------------------------------------------------


def _insert(d: Dialect, user: User, token: _Token) -> Op[bool]:
    row = yield Stmt(
        d.sql(
            "INSERT INTO users (name, linked_user, admin, created_at, token_id, token_hash, "
            "token_salt, token_kdf) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (name) DO NOTHING RETURNING name"
        ),
        (
            user.name,
            user.session_user,
            user.admin,
            d.time(user.created_at.timestamp()),
            token.lookup_id,
            token.hash,
            token.salt,
            token.kdf,
        ),
        "one",
    )
    return row is not None


def _select(d: Dialect) -> Op[list[User]]:
    rows = yield Stmt(d.sql(f"SELECT {_COLUMNS} FROM users ORDER BY name"), (), "all")
    return [user_of_row(d, row) for row in rows]


def _end_sign_ins(d: Dialect, name: str) -> Op[None]:
    yield Stmt(d.sql("DELETE FROM sign_ins WHERE user_name = ?"), (name,))


def _delete(d: Dialect, name: str) -> Op[int]:
    yield from _end_sign_ins(d, name)
    done: int = yield Stmt(d.sql("DELETE FROM users WHERE name = ?"), (name,), "rowcount")
    return done


def _replace_token(d: Dialect, name: str, token: _Token) -> Op[int]:
    yield from _end_sign_ins(d, name)
    done: int = yield Stmt(
        d.sql(
            "UPDATE users SET token_id = ?, token_hash = ?, token_salt = ?, token_kdf = ? "
            "WHERE name = ?"
        ),
        (token.lookup_id, token.hash, token.salt, token.kdf, name),
        "rowcount",
    )
    return done


def _by_lookup_id(d: Dialect, lookup_id: str) -> Op[Mapping[str, Any] | None]:
    row: Mapping[str, Any] | None = yield Stmt(
        d.sql(
            f"SELECT {_COLUMNS}, token_hash, token_salt, token_kdf FROM users WHERE token_id = ?"
        ),
        (lookup_id,),
        "one",
    )
    return row


# -- the library's functions ----------------------------------------------------------


def add_user(
    store: SessionStore, name: str, *, admin: bool = False, session_user: str | None = None
) -> tuple[User, str]:
    """Create user ``name`` (``session_user``: the value their sessions record as their
    user, by default ``name``); returns the user and their token, which is shown this
    once: the store keeps only its hash."""
    name = _checked_name(name)
    linked = name if session_user is None else _checked_name(session_user, "a session user")
    created = datetime.fromtimestamp(store.core.now(), timezone.utc)
    user = User(name, linked, bool(admin), created)
    token = _new_token()
    d = store.core.d
    if not store.run(single(Txn(lambda: _insert(d, user, token), write=True))):
        raise InvalidInputError(f"a user named {name!r} already exists")
    return user, token.text


def list_users(store: SessionStore) -> list[User]:
    """Every user, by name."""
    d = store.core.d
    return store.run(single(Txn(lambda: _select(d))))


def remove_user(store: SessionStore, name: str) -> None:
    """Remove user ``name`` (their token stops working and their sign-ins end; their
    sessions stay)."""
    d = store.core.d
    if not store.run(single(Txn(lambda: _delete(d, name), write=True))):
        raise UserNotFoundError(f"no user named {name!r}")


def issue_token(store: SessionStore, name: str) -> str:
    """A new token for user ``name``; the old one stops working at once, and the
    user's sign-ins end."""
    token, d = _new_token(), store.core.d
    if not store.run(single(Txn(lambda: _replace_token(d, name, token), write=True))):
        raise UserNotFoundError(f"no user named {name!r}")
    return token.text


def stored_token(store: SessionStore, token: str) -> tuple[User, str] | None:
    """The user whose lookup id ``token`` names and the hash stored for their token,
    without hashing ``token`` (see :class:`.auth.TokenCheck`)."""
    lookup_id = _lookup_id(token) if isinstance(token, str) else None
    if lookup_id is None:
        return None
    d = store.core.d
    row = store.run(single(Txn(lambda: _by_lookup_id(d, lookup_id))))
    return None if row is None else (user_of_row(d, row), str(row["token_hash"]))


def verify_token(store: SessionStore, token: str) -> User | None:
    """The user ``token`` belongs to, or ``None`` (malformed, unknown or revoked)."""
    lookup_id = _lookup_id(token) if isinstance(token, str) else None
    if lookup_id is None:
        return None
    d = store.core.d
    row = store.run(single(Txn(lambda: _by_lookup_id(d, lookup_id))))
    if row is None:
        return None
    found = _hash(token, bytes.fromhex(row["token_salt"]), row["token_kdf"])
    if not hmac.compare_digest(found, bytes.fromhex(row["token_hash"])):
        return None
    return user_of_row(d, row)
