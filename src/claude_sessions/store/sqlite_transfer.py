"""Whole sessions in and out of a SQLite store, for copying a store (see :mod:`.migrate`).

A session is exported as it is stored (row, tags with their origin, every
entry of every subpath) and imported the same way: nothing is re-derived.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from .metadata import entries_text
from .sqlite_schema import encode_entry, meta_text, utf8_text

Record = dict[str, Any]

_COLUMNS = (
    "session_id, project_key, created_at, updated_at, mtime_ms, message_count, turns, "
    "total_cost, input_tokens, output_tokens, description, model, project, first_prompt, "
    "title, git_branch, forked_from, fold_state, sdk_summary"
)


def export_refs(conn: sqlite3.Connection, after: int, limit: int) -> list[int]:
    rows = conn.execute("SELECT id FROM sessions WHERE id > ? ORDER BY id LIMIT ?", (after, limit))
    return [ref for (ref,) in rows]


def find_ref(conn: sqlite3.Connection, session_id: str, project_key: str) -> int | None:
    row = conn.execute(
        "SELECT id FROM sessions WHERE session_id = ? AND project_key = ?",
        (session_id, project_key),
    ).fetchone()
    return None if row is None else int(row[0])


def export_session(conn: sqlite3.Connection, ref: int) -> Record | None:
    row = conn.execute(f"SELECT {_COLUMNS} FROM sessions WHERE id = ?", (ref,)).fetchone()
    if row is None:
        return None
    tags = conn.execute(
        "SELECT tag, source FROM tags WHERE session_ref = ? ORDER BY tag", (ref,)
    ).fetchall()
    entries = conn.execute(
        "SELECT subpath, seq, uuid, data FROM entries WHERE session_ref = ? ORDER BY subpath, seq",
        (ref,),
    ).fetchall()
    record: Record = {key: row[key] for key in row.keys()}  # noqa: SIM118 - sqlite3.Row
    record["fold_state"] = json.loads(row["fold_state"])
    record["sdk_summary"] = json.loads(row["sdk_summary"]) if row["sdk_summary"] else None
    record["tags"] = [(tag, source) for tag, source in tags]
    record["entries"] = [
        (subpath, seq, uuid, json.loads(data)) for subpath, seq, uuid, data in entries
    ]
    return record


def import_session(conn: sqlite3.Connection, record: Record) -> None:
    """Write ``record``, replacing a session with the same (session id, project key)."""
    main = [entry for subpath, _, _, entry in record["entries"] if subpath == ""]
    conn.execute(
        "DELETE FROM sessions WHERE session_id = ? AND project_key = ?",
        (record["session_id"], record["project_key"]),
    )
    names = [name.strip() for name in _COLUMNS.split(",")]
    values = [record[name] for name in names]
    values[names.index("fold_state")] = json.dumps(record["fold_state"], ensure_ascii=False)
    if record["sdk_summary"] is not None:
        values[names.index("sdk_summary")] = json.dumps(record["sdk_summary"], ensure_ascii=False)
    tags = json.dumps([tag for tag, _ in record["tags"]], ensure_ascii=False)
    cursor = conn.execute(
        f"INSERT INTO sessions ({_COLUMNS}, tags) VALUES ({', '.join('?' * (len(names) + 1))})",
        (*values, tags),
    )
    ref = cursor.lastrowid
    conn.executemany(
        "INSERT INTO tags (session_ref, tag, source) VALUES (?, ?, ?)",
        [(ref, tag, source) for tag, source in record["tags"]],
    )
    conn.executemany(
        "INSERT INTO entries (session_ref, subpath, seq, uuid, data) VALUES (?, ?, ?, ?, ?)",
        [
            (ref, subpath, seq, uuid, encode_entry(entry))
            for subpath, seq, uuid, entry in record["entries"]
        ],
    )
    conn.execute(
        "INSERT INTO sessions_fts (rowid, body, meta) VALUES (?, ?, ?)",
        (ref, utf8_text(entries_text(main)), meta_text(record["description"], record["title"])),
    )
