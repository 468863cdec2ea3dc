"""What a store keeps beside its sessions, copied with them by ``copy_store``.

A team that moves its store (SQLite to PostgreSQL, say) keeps its users with
their tokens (only the slow hashes are stored, so every token still works),
their sign-ins (browsers stay signed in), the budgets, the policy of redacting
at capture, the audit log, and the outcome of the last send to each team server
(and where its last pull ended). Users and sign-ins already in the destination
under the same name or key are replaced; an audit line already there is not
added twice, so copying again changes nothing.

Stored secret findings are not copied: they are derived from the entries and
`secrets scan` finds them again.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from claude_sessions.store.dialect import Dialect
from claude_sessions.store.plan import Op, Stmt
from claude_sessions.store.redaction_writes import POLICY_KEY
from claude_sessions.store.sync_marks import SETTING_PREFIXES

Row = tuple[Any, ...]

_USERS = (
    "name, linked_user, admin, created_at, token_id, token_hash, token_salt, token_kdf, "
    "share_by_default"
)
_SIGN_INS = "key_hash, user_name, created_at, expires_at"
_AUDIT = "at, actor, action, session_id, detail"
_TIMES = {"created_at", "expires_at", "at"}


def _columns(listed: str) -> list[str]:
    return [name.strip() for name in listed.split(",")]


def _plain(d: Dialect, row: Mapping[str, Any], listed: str) -> Row:
    """A row as the same values on both databases (times as epochs to the microsecond)."""
    values: list[Any] = []
    for name in _columns(listed):
        value = row[name]
        if name in _TIMES:
            value = round(d.epoch(value), 6)
        elif name == "admin":
            value = bool(value)
        values.append(value)
    return tuple(values)


def _stored(d: Dialect, row: Row, listed: str) -> Row:
    """A plain row as parameters for ``d``."""
    return tuple(
        d.time(value) if name in _TIMES else d.text(value) if isinstance(value, str) else value
        for name, value in zip(_columns(listed), row, strict=True)
    )


def export_records(d: Dialect) -> Op[dict[str, list[Row]]]:
    """The store's own records, as plain rows (the audit log in the order it was written)."""
    records: dict[str, list[Row]] = {}
    for table, listed, order in (
        ("users", _USERS, "name"),
        ("sign_ins", _SIGN_INS, "key_hash"),
        ("audit_log", _AUDIT, "id"),
    ):
        rows = yield Stmt(d.sql(f"SELECT {listed} FROM {table} ORDER BY {order}"), (), "all")
        records[table] = [_plain(d, row, listed) for row in rows]
    budgets = yield Stmt(d.sql("SELECT kind, limit_usd FROM budgets ORDER BY kind"), (), "all")
    records["budgets"] = [(row["kind"], float(row["limit_usd"])) for row in budgets]
    prefixed = "".join(f" OR substr(key, 1, {len(p)}) = ?" for p in SETTING_PREFIXES)
    policy = yield Stmt(
        d.sql(f"SELECT key, value FROM store_meta WHERE key = ?{prefixed} ORDER BY key"),
        (POLICY_KEY, *SETTING_PREFIXES),
        "all",
    )
    records["settings"] = [(row["key"], row["value"]) for row in policy]
    return records


def _upsert(table: str, listed: str, key: str) -> str:
    names = _columns(listed)
    updates = ", ".join(f"{name} = excluded.{name}" for name in names if name != key)
    marks = ", ".join("?" * len(names))
    return (
        f"INSERT INTO {table} ({listed}) VALUES ({marks}) "
        f"ON CONFLICT ({key}) DO UPDATE SET {updates}"
    )


def import_records(d: Dialect, records: Mapping[str, list[Row]]) -> Op[None]:
    """Write ``records`` (from :func:`export_records`) into the store (see the module doc)."""
    for table, listed, key in (
        ("users", _USERS, "name"),
        ("sign_ins", _SIGN_INS, "key_hash"),
        ("budgets", "kind, limit_usd", "kind"),
        ("store_meta", "key, value", "key"),
    ):
        rows = records["settings" if table == "store_meta" else table]
        if rows:
            yield Stmt(
                d.sql(_upsert(table, listed, key)),
                [_stored(d, row, listed) for row in rows],
                many=True,
            )
    if records["audit_log"]:
        yield Stmt(
            d.sql(
                f"INSERT INTO audit_log ({_AUDIT}) SELECT ?, ?, ?, ?, ? WHERE NOT EXISTS "
                "(SELECT 1 FROM audit_log WHERE at = ? AND actor = ? AND action = ? "
                "AND COALESCE(session_id, '') = COALESCE(?, '') AND detail = ?)"
            ),
            [_stored(d, row, _AUDIT) * 2 for row in records["audit_log"]],
            many=True,
        )


def records_missing(copied: Mapping[str, list[Row]], found: Mapping[str, list[Row]]) -> list[str]:
    """What of ``copied`` the destination's records (``found``) lack, one line per table."""
    missing = []
    for table, rows in copied.items():
        lacking = set(rows) - set(found.get(table, []))
        if lacking:
            missing.append(f"{len(lacking)} {table.replace('_', ' ')} row(s) not copied")
    return missing
