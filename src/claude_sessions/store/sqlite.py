"""The SQLite backend: one database file, WAL mode, FTS5, migrations on open.

Concurrency: WAL lets readers run beside one writer; every write is a short
``BEGIN IMMEDIATE`` transaction (the write lock is taken up front, so two
writers never deadlock upgrading a read lock), and ``busy_timeout`` makes a
writer wait for the lock instead of failing. ``synchronous=NORMAL`` in WAL
mode keeps every committed transaction across a process crash (SIGKILL); a
power cut may lose the last commits but never corrupts the file.

Each thread gets its own connection (sqlite3 connections must not be shared
across threads while in use); :meth:`SQLiteBackend.close` closes them all.
All SQL is parameterised; the only formatted values are placeholders lists.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, suppress
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from claude_agent_sdk import SessionKey, fold_session_summary

from ..exceptions import InvalidQueryError, StoreConnectionError, StoreError
from . import sqlite_transfer
from .backend import Entry, ProjectSession, Query
from .metadata import Derived, derive, entries_text, fold
from .models import SessionMetadata
from .sqlite_schema import encode_entry, meta_text, migrate, utf8_text

BUSY_TIMEOUT_SECONDS = 30.0
CLEANUP_BATCH = 500
_LAST_CLEANUP_KEY = "last_cleanup"

_META_COLUMNS = (
    "s.id, s.session_id, s.project_key, s.created_at, s.updated_at, s.mtime_ms, "
    "s.message_count, s.turns, s.total_cost, s.input_tokens, s.output_tokens, s.tags, "
    "s.description, s.model, s.project, "
    "s.first_prompt, s.title, s.git_branch, s.forked_from"
)
_ROW_COLUMNS = _META_COLUMNS + ", s.fold_state, s.sdk_summary"
# Advanced FTS5 syntax is passed through; anything else is searched as words.
_ENGINE_TROUBLE_RE = re.compile(r"locked|busy|disk|no such|readonly|corrupt|malformed", re.I)
_FTS_SYNTAX_RE = re.compile(r'["*()^:{}]|\b(?:AND|OR|NOT|NEAR)\b')


def _utc(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, tz=timezone.utc)


def _metadata(
    row: sqlite3.Row, snippet: str | None = None, rank: float | None = None
) -> SessionMetadata:
    return SessionMetadata(
        session_id=row["session_id"],
        created_at=_utc(row["created_at"]),
        updated_at=_utc(row["updated_at"]),
        message_count=row["message_count"],
        turns=row["turns"],
        total_cost=row["total_cost"],
        input_tokens=row["input_tokens"],
        output_tokens=row["output_tokens"],
        tags=tuple(json.loads(row["tags"])),
        description=row["description"],
        model=row["model"],
        project=row["project"],
        project_key=row["project_key"],
        first_prompt=row["first_prompt"],
        title=row["title"],
        git_branch=row["git_branch"],
        forked_from=row["forked_from"],
        snippet=snippet,
        rank=rank,
    )


def _uuid(entry: Entry) -> str | None:
    value = entry.get("uuid")
    return value if isinstance(value, str) and value else None


def _placeholders(count: int) -> str:
    return ", ".join("?" * count)


def _prepare_files(path: Path) -> None:
    """Create the directory (0700) and the database file (0600) before SQLite does."""
    try:
        if not path.parent.exists():
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not path.exists():
            fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
            os.close(fd)
    except OSError as error:
        raise StoreConnectionError(f"cannot create the session store at {path}: {error}") from error


class SQLiteBackend:
    """Sessions in one SQLite database file (see the module docstring)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._closed = False
        _prepare_files(path)
        self._conn()  # open, configure and migrate now: errors surface at open

    @property
    def location(self) -> str:
        return str(self._path)

    @property
    def path(self) -> Path:
        return self._path

    # -- connections and transactions ------------------------------------

    def _conn(self) -> sqlite3.Connection:
        if self._closed:
            raise StoreError(f"the session store at {self._path} is closed")
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None:
            return conn
        try:
            conn = sqlite3.connect(
                self._path,
                timeout=BUSY_TIMEOUT_SECONDS,
                isolation_level=None,  # we issue BEGIN/COMMIT ourselves
                check_same_thread=False,  # only close() touches it from another thread
            )
            conn.row_factory = sqlite3.Row
            conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_SECONDS * 1000)}")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA temp_store = MEMORY")
            migrate(conn)
        except sqlite3.Error as error:
            raise StoreConnectionError(
                f"cannot open the session store at {self._path}: {error}"
            ) from error
        with self._lock:
            self._connections.append(conn)
        self._local.conn = conn
        return conn

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            connections, self._connections = self._connections, []
        for conn in connections:
            with suppress(sqlite3.Error):
                conn.execute("PRAGMA optimize")
            conn.close()

    @contextmanager
    def _transaction(self, kind: str) -> Iterator[sqlite3.Connection]:
        conn = self._conn()
        try:
            conn.execute(f"BEGIN {kind}")
        except sqlite3.Error as error:
            raise StoreError(f"session store busy or unavailable: {error}") from error
        try:
            yield conn
        except BaseException as error:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            if isinstance(error, sqlite3.Error):
                raise StoreError(f"session store error: {error}") from error
            raise
        else:
            try:
                conn.execute("COMMIT")
            except sqlite3.Error as error:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise StoreError(f"session store error: {error}") from error

    def _write(self) -> AbstractContextManager[sqlite3.Connection]:
        return self._transaction("IMMEDIATE")

    def _read(self) -> AbstractContextManager[sqlite3.Connection]:
        return self._transaction("DEFERRED")

    # -- row helpers ------------------------------------------------------

    @staticmethod
    def _find(
        conn: sqlite3.Connection, session_id: str, project_key: str | None
    ) -> sqlite3.Row | None:
        if project_key is None:
            row = conn.execute(
                f"SELECT {_ROW_COLUMNS} FROM sessions s WHERE s.session_id = ? "
                "ORDER BY s.updated_at DESC, s.id DESC LIMIT 1",
                (session_id,),
            ).fetchone()
        else:
            row = conn.execute(
                f"SELECT {_ROW_COLUMNS} FROM sessions s "
                "WHERE s.session_id = ? AND s.project_key = ?",
                (session_id, project_key),
            ).fetchone()
        return row  # type: ignore[no-any-return]

    @staticmethod
    def _by_ref(conn: sqlite3.Connection, ref: int) -> sqlite3.Row:
        row: sqlite3.Row = conn.execute(
            f"SELECT {_ROW_COLUMNS} FROM sessions s WHERE s.id = ?", (ref,)
        ).fetchone()
        return row

    @staticmethod
    def _new_row(conn: sqlite3.Connection, session_id: str, project_key: str, now: float) -> int:
        cursor = conn.execute(
            "INSERT INTO sessions (session_id, project_key, created_at, updated_at) "
            "VALUES (?, ?, ?, ?)",
            (session_id, project_key, now, now),
        )
        ref = cursor.lastrowid
        assert ref is not None
        conn.execute("INSERT INTO sessions_fts (rowid, body, meta) VALUES (?, '', '')", (ref,))
        return ref

    @staticmethod
    def _origin(conn: sqlite3.Connection, session_id: str, entries: Sequence[Entry]) -> str | None:
        """The stored session whose transcript shares this one's first entry uuid.

        Only transcript entries (they carry ``parentUuid``) are compared: the
        CLI's ``--fork-session`` copies the earlier entries with the same
        uuids into the new session's file. When both are stored, the one
        stored first is taken as the origin.
        """
        for entry in entries:
            uuid = _uuid(entry)
            if uuid is None or "parentUuid" not in entry:
                continue
            found = conn.execute(
                "SELECT s.session_id FROM entries e JOIN sessions s ON s.id = e.session_ref "
                "WHERE e.uuid = ? AND e.subpath = '' AND s.session_id != ? "
                "ORDER BY s.id LIMIT 1",
                (uuid, session_id),
            ).fetchone()
            return found[0] if found else None
        return None

    @staticmethod
    def _sync_tags(
        conn: sqlite3.Connection,
        ref: int,
        *,
        user: Sequence[str] | None,
        old_cli: str | None,
        new_cli: str | None,
    ) -> str:
        """Apply user tags (replace when given) and the CLI's tag; return the tags JSON."""
        if user is not None:
            conn.execute("DELETE FROM tags WHERE session_ref = ?", (ref,))
            conn.executemany(
                "INSERT OR IGNORE INTO tags (session_ref, tag, source) VALUES (?, ?, 'user')",
                [(ref, tag) for tag in user],
            )
        if old_cli != new_cli and old_cli:
            conn.execute(
                "DELETE FROM tags WHERE session_ref = ? AND tag = ? AND source = 'cli'",
                (ref, old_cli),
            )
        if new_cli:
            conn.execute(
                "INSERT OR IGNORE INTO tags (session_ref, tag, source) VALUES (?, ?, 'cli')",
                (ref, new_cli),
            )
        tags = [
            tag
            for (tag,) in conn.execute(
                "SELECT tag FROM tags WHERE session_ref = ? ORDER BY tag", (ref,)
            )
        ]
        return json.dumps(tags, ensure_ascii=False)

    @staticmethod
    def _store_derived(
        conn: sqlite3.Connection,
        ref: int,
        derived: Derived,
        *,
        created_at: float,
        updated_at: float,
        mtime_ms: int,
        message_count: int,
        forked_from: str | None,
        fold_state: dict[str, Any],
        sdk_summary: dict[str, Any],
        tags_json: str,
    ) -> None:
        conn.execute(
            "UPDATE sessions SET created_at = ?, updated_at = ?, mtime_ms = ?, "
            "message_count = ?, turns = ?, total_cost = ?, input_tokens = ?, output_tokens = ?, "
            "model = ?, project = ?, "
            "first_prompt = ?, title = ?, git_branch = ?, forked_from = ?, fold_state = ?, "
            "sdk_summary = ?, tags = ? WHERE id = ?",
            (
                created_at,
                max(updated_at, created_at),
                mtime_ms,
                message_count,
                derived.turns,
                derived.total_cost,
                derived.input_tokens,
                derived.output_tokens,
                derived.model,
                derived.project,
                derived.first_prompt,
                derived.title,
                derived.git_branch,
                forked_from,
                json.dumps(fold_state, ensure_ascii=False),
                json.dumps(sdk_summary, ensure_ascii=False),
                tags_json,
                ref,
            ),
        )

    @staticmethod
    def _next_mtime(row: sqlite3.Row | None, now: float) -> int:
        """Storage write time in epoch ms, strictly increasing per session."""
        now_ms = int(now * 1000)
        previous = row["mtime_ms"] if row is not None else 0
        return max(now_ms, previous + 1)

    # -- writes -----------------------------------------------------------

    def save(
        self,
        session_id: str,
        entries: Sequence[Entry],
        *,
        tags: Sequence[str],
        description: str | None,
        project: str | None,
        project_key: str,
        forked_from: str | None,
        now: float,
    ) -> SessionMetadata:
        seen: set[str] = set()
        rows: list[tuple[int, str | None, str]] = []
        for seq, entry in enumerate(entries):
            uuid = _uuid(entry)
            if uuid in seen:
                uuid = None  # the column is an idempotency key: first one wins
            elif uuid is not None:
                seen.add(uuid)
            rows.append((seq, uuid, encode_entry(entry)))
        state = fold({"project": project} if project else None, entries)
        derived = derive(state)
        body = utf8_text(entries_text(entries))
        with self._write() as conn:
            row = self._find(conn, session_id, project_key)
            if row is None:
                row = self._find(conn, session_id, None)
            if row is None:
                ref = self._new_row(conn, session_id, project_key, now)
                created = derived.first_timestamp if derived.first_timestamp is not None else now
                old_state: dict[str, Any] = {}
            else:
                ref = row["id"]
                created = row["created_at"]
                old_state = json.loads(row["fold_state"])
                if row["project_key"] == "" and project_key:
                    clash = self._find(conn, session_id, project_key)
                    if clash is None:
                        conn.execute(
                            "UPDATE sessions SET project_key = ? WHERE id = ?", (project_key, ref)
                        )
                conn.execute("DELETE FROM entries WHERE session_ref = ? AND subpath = ''", (ref,))
            key_project = project_key if row is None else self._by_ref(conn, ref)["project_key"]
            origin = forked_from or derived.forked_from or self._origin(conn, session_id, entries)
            conn.executemany(
                "INSERT INTO entries (session_ref, subpath, seq, uuid, data) "
                "VALUES (?, '', ?, ?, ?)",
                [(ref, seq, uuid, data) for seq, uuid, data in rows],
            )
            mtime = self._next_mtime(row, now)
            key: SessionKey = {"project_key": key_project, "session_id": session_id}
            summary = dict(fold_session_summary(None, key, list(entries)))  # type: ignore[arg-type]
            summary["mtime"] = mtime
            tags_json = self._sync_tags(
                conn, ref, user=tags, old_cli=old_state.get("cli_tag"), new_cli=derived.cli_tag
            )
            self._store_derived(
                conn,
                ref,
                derived,
                created_at=created,
                updated_at=derived.last_timestamp if derived.last_timestamp is not None else now,
                mtime_ms=mtime,
                message_count=len(rows),
                forked_from=origin,
                fold_state=state,
                sdk_summary=summary,
                tags_json=tags_json,
            )
            conn.execute("UPDATE sessions SET description = ? WHERE id = ?", (description, ref))
            conn.execute("DELETE FROM sessions_fts WHERE rowid = ?", (ref,))
            conn.execute(
                "INSERT INTO sessions_fts (rowid, body, meta) VALUES (?, ?, ?)",
                (ref, body, meta_text(description, derived.title)),
            )
            return _metadata(self._by_ref(conn, ref))

    def append(
        self,
        session_id: str,
        entries: Sequence[Entry],
        *,
        project_key: str | None,
        subpath: str,
        now: float,
    ) -> SessionMetadata:
        with self._write() as conn:
            row = self._find(conn, session_id, project_key)
            if row is None:
                ref = self._new_row(conn, session_id, project_key or "", now)
                row = self._by_ref(conn, ref)
            ref = row["id"]
            if not entries:
                return _metadata(row)
            new_entries, new_rows, changed = self._merge(conn, ref, subpath, entries)
            conn.executemany(
                "INSERT INTO entries (session_ref, subpath, seq, uuid, data) "
                "VALUES (?, ?, ?, ?, ?)",
                new_rows,
            )
            if subpath:
                return _metadata(row)
            self._refresh_main(conn, row, new_entries, len(new_rows), changed, now)
            return _metadata(self._by_ref(conn, ref))

    @staticmethod
    def _merge(
        conn: sqlite3.Connection, ref: int, subpath: str, entries: Sequence[Entry]
    ) -> tuple[list[Entry], list[tuple[int, str, int, str | None, str]], bool]:
        """Split a batch into new rows and upserts; report whether a stored entry changed."""
        uuids = list({uuid for uuid in map(_uuid, entries) if uuid is not None})
        stored: dict[str, str] = {}
        for start in range(0, len(uuids), 500):
            chunk = uuids[start : start + 500]
            stored.update(
                conn.execute(
                    f"SELECT uuid, data FROM entries WHERE uuid IN ({_placeholders(len(chunk))}) "
                    "AND session_ref = ? AND subpath = ?",
                    (*chunk, ref, subpath),
                ).fetchall()
            )
        (seq,) = conn.execute(
            "SELECT coalesce(max(seq) + 1, 0) FROM entries WHERE session_ref = ? AND subpath = ?",
            (ref, subpath),
        ).fetchone()
        new_entries: list[Entry] = []
        new_rows: list[tuple[int, str, int, str | None, str]] = []
        pending: dict[str, int] = {}
        changed = False
        for entry in entries:
            uuid = _uuid(entry)
            data = encode_entry(entry)
            if uuid is not None and uuid in stored:
                if stored[uuid] != data:
                    conn.execute(
                        "UPDATE entries SET data = ? WHERE uuid = ? AND session_ref = ? "
                        "AND subpath = ?",
                        (data, uuid, ref, subpath),
                    )
                    stored[uuid] = data
                    changed = True
                continue
            if uuid is not None and uuid in pending:  # repeated inside this batch
                index = pending[uuid]
                if new_rows[index][4] != data:
                    new_rows[index] = (*new_rows[index][:4], data)
                    new_entries[index] = entry
                    changed = True
                continue
            if uuid is not None:
                pending[uuid] = len(new_rows)
            new_rows.append((ref, subpath, seq, uuid, data))
            new_entries.append(entry)
            seq += 1
        return new_entries, new_rows, changed

    def _refresh_main(
        self,
        conn: sqlite3.Connection,
        row: sqlite3.Row,
        new_entries: Sequence[Entry],
        added: int,
        changed: bool,
        now: float,
    ) -> None:
        """Fold the new main-transcript entries into metadata, summary and full text."""
        ref = row["id"]
        old_state: dict[str, Any] = json.loads(row["fold_state"])
        key: SessionKey = {"project_key": row["project_key"], "session_id": row["session_id"]}
        previous_summary = json.loads(row["sdk_summary"]) if row["sdk_summary"] else None
        if changed:  # an upsert rewrote a stored entry: recompute from everything
            every = [
                json.loads(data)
                for (data,) in conn.execute(
                    "SELECT data FROM entries WHERE session_ref = ? AND subpath = '' ORDER BY seq",
                    (ref,),
                )
            ]
            state = fold(None, every)
            summary = dict(fold_session_summary(None, key, every))
        else:
            state = fold(old_state, new_entries)
            summary = dict(fold_session_summary(previous_summary, key, list(new_entries)))  # type: ignore[arg-type]
        derived = derive(state)
        was_empty = row["message_count"] == 0
        created = row["created_at"]
        if derived.first_timestamp is not None:
            created = (
                derived.first_timestamp if was_empty else min(created, derived.first_timestamp)
            )
        updated = derived.last_timestamp if derived.last_timestamp is not None else now
        forked_from = row["forked_from"] or derived.forked_from
        if forked_from is None and was_empty:
            forked_from = self._origin(conn, row["session_id"], new_entries)
        mtime = self._next_mtime(row, now)
        summary["mtime"] = mtime
        tags_json = self._sync_tags(
            conn, ref, user=None, old_cli=old_state.get("cli_tag"), new_cli=derived.cli_tag
        )
        self._store_derived(
            conn,
            ref,
            derived,
            created_at=created,
            updated_at=updated,
            mtime_ms=mtime,
            message_count=row["message_count"] + added,
            forked_from=forked_from,
            fold_state=state,
            sdk_summary=summary,
            tags_json=tags_json,
        )
        meta = meta_text(row["description"], derived.title)
        if changed:
            conn.execute("DELETE FROM sessions_fts WHERE rowid = ?", (ref,))
            conn.execute(
                "INSERT INTO sessions_fts (rowid, body, meta) VALUES (?, ?, ?)",
                (ref, utf8_text(entries_text(every)), meta),
            )
            return
        text = utf8_text(entries_text(new_entries))
        if text or derived.title != row["title"]:
            conn.execute(
                "UPDATE sessions_fts SET body = CASE WHEN body = '' THEN ?1 "
                "ELSE body || char(10) || ?1 END, meta = ?2 WHERE rowid = ?3",
                (text, meta, ref),
            )

    def update(
        self,
        session_id: str,
        *,
        add_tags: Sequence[str] = (),
        remove_tags: Sequence[str] = (),
        description: str | None = None,
        set_description: bool = False,
    ) -> SessionMetadata | None:
        with self._write() as conn:
            row = self._find(conn, session_id, None)
            if row is None:
                return None
            ref = row["id"]
            conn.executemany(
                "INSERT OR REPLACE INTO tags (session_ref, tag, source) VALUES (?, ?, 'user')",
                [(ref, tag) for tag in add_tags],
            )
            conn.executemany(
                "DELETE FROM tags WHERE session_ref = ? AND tag = ?",
                [(ref, tag) for tag in remove_tags],
            )
            tags = [
                tag
                for (tag,) in conn.execute(
                    "SELECT tag FROM tags WHERE session_ref = ? ORDER BY tag", (ref,)
                )
            ]
            conn.execute(
                "UPDATE sessions SET tags = ? WHERE id = ?",
                (json.dumps(tags, ensure_ascii=False), ref),
            )
            if set_description:
                conn.execute("UPDATE sessions SET description = ? WHERE id = ?", (description, ref))
                conn.execute(
                    "UPDATE sessions_fts SET meta = ? WHERE rowid = ?",
                    (meta_text(description, row["title"]), ref),
                )
            return _metadata(self._by_ref(conn, ref))

    def delete(
        self, session_id: str, *, project_key: str | None = None, subpath: str | None = None
    ) -> bool:
        with self._write() as conn:
            if project_key is None:
                cursor = conn.execute("DELETE FROM sessions WHERE session_id = ?", (session_id,))
                return cursor.rowcount > 0
            row = self._find(conn, session_id, project_key)
            if row is None:
                return False
            if subpath:
                cursor = conn.execute(
                    "DELETE FROM entries WHERE session_ref = ? AND subpath = ?",
                    (row["id"], subpath),
                )
                return cursor.rowcount > 0
            conn.execute("DELETE FROM sessions WHERE id = ?", (row["id"],))
            return True

    # -- reads ------------------------------------------------------------

    def load(
        self, session_id: str, *, project_key: str | None = None, subpath: str = ""
    ) -> tuple[SessionMetadata, list[dict[str, Any]]] | None:
        with self._read() as conn:
            row = self._find(conn, session_id, project_key)
            if row is None:
                return None
            entries = [
                json.loads(data)
                for (data,) in conn.execute(
                    "SELECT data FROM entries WHERE session_ref = ? AND subpath = ? ORDER BY seq",
                    (row["id"], subpath),
                )
            ]
        if subpath and not entries:
            return None
        return _metadata(row), entries

    def get_metadata(self, session_id: str) -> SessionMetadata | None:
        with self._read() as conn:
            row = self._find(conn, session_id, None)
        return None if row is None else _metadata(row)

    def find_ids(self, prefix: str, limit: int) -> list[str]:
        with self._read() as conn:
            exact = conn.execute(
                "SELECT 1 FROM sessions WHERE session_id = ? LIMIT 1", (prefix,)
            ).fetchone()
            if exact:
                return [prefix]
            return [
                sid
                for (sid,) in conn.execute(
                    "SELECT DISTINCT session_id FROM sessions "
                    "WHERE session_id >= ? AND session_id < ? ORDER BY session_id LIMIT ?",
                    (prefix, prefix + "\U0010ffff", limit),
                )
            ]

    def query(self, query: Query) -> list[SessionMetadata]:
        clauses: list[str] = []
        params: list[Any] = []
        if query.tags:
            marks = _placeholders(len(query.tags))
            if query.match_all_tags:
                clauses.append(
                    f"s.id IN (SELECT session_ref FROM tags WHERE tag IN ({marks}) "
                    "GROUP BY session_ref HAVING count(*) = ?)"
                )
                params.extend((*query.tags, len(query.tags)))
            else:
                clauses.append(f"s.id IN (SELECT session_ref FROM tags WHERE tag IN ({marks}))")
                params.extend(query.tags)
        for clause, value in (
            ("s.created_at >= ?", query.after),
            ("s.created_at <= ?", query.before),
            ("s.total_cost >= ?", query.min_cost),
            ("s.total_cost <= ?", query.max_cost),
        ):
            if value is not None:
                clauses.append(clause)
                params.append(value)
        if query.model:
            escaped = re.sub(r"([\\%_])", r"\\\1", query.model)
            clauses.append("s.model LIKE ? ESCAPE '\\'")
            params.append(f"%{escaped}%")
        if query.project:
            clauses.append("(s.project = ? OR s.project_key = ?)")
            params.extend((query.project, query.project))
        limit = -1 if query.limit is None else query.limit
        if query.text is None:
            # Two phases: the page of ids from the indexes alone, then only
            # those rows (a sort over full rows would read every candidate).
            where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
            sql = (
                f"SELECT {_META_COLUMNS} FROM (SELECT s.id, s.updated_at FROM sessions s {where} "
                "ORDER BY s.updated_at DESC, s.id DESC LIMIT ? OFFSET ?) AS page "
                "JOIN sessions s ON s.id = page.id ORDER BY page.updated_at DESC, page.id DESC"
            )
            with self._read() as conn:
                rows = conn.execute(sql, (*params, limit, query.offset)).fetchall()
            return [_metadata(row) for row in rows]
        match = fts_query(query.text)
        if clauses:
            ranked = (
                "SELECT s.id, bm25(sessions_fts) AS score FROM sessions_fts "
                "JOIN sessions s ON s.id = sessions_fts.rowid "
                f"WHERE sessions_fts MATCH ? AND {' AND '.join(clauses)} "
                "ORDER BY score, s.id LIMIT ? OFFSET ?"
            )
        else:  # the full-text index alone ranks fastest
            ranked = (
                "SELECT rowid, bm25(sessions_fts) AS score FROM sessions_fts "
                "WHERE sessions_fts MATCH ? ORDER BY score, rowid LIMIT ? OFFSET ?"
            )
        try:
            with self._read() as conn:
                hits = conn.execute(ranked, (match, *params, limit, query.offset)).fetchall()
                found: dict[int, sqlite3.Row] = {}
                for start in range(0, len(hits), 500):
                    chunk = [ref for ref, _ in hits[start : start + 500]]
                    for row in conn.execute(
                        f"SELECT {_META_COLUMNS} FROM sessions s "
                        f"WHERE s.id IN ({_placeholders(len(chunk))})",
                        chunk,
                    ):
                        found[row["id"]] = row
                # snippet() per hit: a MATCH with rowid = ? is a seek, not a scan.
                snippets = {
                    ref: conn.execute(
                        "SELECT snippet(sessions_fts, -1, '[', ']', '\u2026', 12) "
                        "FROM sessions_fts WHERE sessions_fts MATCH ? AND rowid = ?",
                        (match, ref),
                    ).fetchone()[0]
                    for ref, _ in hits
                }
        except StoreError as error:
            cause = error.__cause__
            if isinstance(cause, sqlite3.OperationalError) and not _ENGINE_TROUBLE_RE.search(
                str(cause)
            ):  # the MATCH argument is the only user input: the engine rejected its syntax
                raise InvalidQueryError(
                    f"invalid full-text query {query.text!r}: {cause}"
                ) from cause
            raise
        return [_metadata(found[ref], snippets[ref], score) for ref, score in hits]

    # -- cleanup ----------------------------------------------------------

    @staticmethod
    def _expired_where(protected: Sequence[str]) -> str:
        where = "s.updated_at < ?"
        if protected:
            where += (
                " AND NOT EXISTS (SELECT 1 FROM tags t WHERE t.session_ref = s.id "
                f"AND t.tag IN ({_placeholders(len(protected))}))"
            )
        return where

    def expired(self, cutoff: float, protected_tags: Sequence[str]) -> list[SessionMetadata]:
        with self._read() as conn:
            rows = conn.execute(
                f"SELECT {_META_COLUMNS} FROM sessions s "
                f"WHERE {self._expired_where(protected_tags)} ORDER BY s.updated_at",
                (cutoff, *protected_tags),
            ).fetchall()
        return [_metadata(row) for row in rows]

    def delete_expired(self, cutoff: float, protected_tags: Sequence[str]) -> int:
        """Delete in batches: each batch is its own short write transaction."""
        total = 0
        sql = (
            "DELETE FROM sessions WHERE id IN (SELECT s.id FROM sessions s "
            f"WHERE {self._expired_where(protected_tags)} LIMIT {CLEANUP_BATCH})"
        )
        while True:
            with self._write() as conn:
                deleted = conn.execute(sql, (cutoff, *protected_tags)).rowcount
            total += deleted
            if deleted < CLEANUP_BATCH:
                return total

    @staticmethod
    def _cleanup_due(conn: sqlite3.Connection, now: float, interval: float) -> bool:
        found = conn.execute(
            "SELECT value FROM store_meta WHERE key = ?", (_LAST_CLEANUP_KEY,)
        ).fetchone()
        if found is None:
            return True
        try:
            last = float(found[0])
        except ValueError:
            return True
        return not 0 <= now - last < interval

    def claim_cleanup(self, now: float, interval: float) -> bool:
        with self._read() as conn:  # the usual answer, without taking the write lock
            if not self._cleanup_due(conn, now, interval):
                return False
        with self._write() as conn:
            if not self._cleanup_due(conn, now, interval):
                return False
            conn.execute(
                "INSERT OR REPLACE INTO store_meta (key, value) VALUES (?, ?)",
                (_LAST_CLEANUP_KEY, repr(now)),
            )
            return True

    # -- the official SDK protocol's listings -------------------------------

    def project_sessions(self, project_key: str) -> list[ProjectSession]:
        with self._read() as conn:
            rows = conn.execute(
                "SELECT session_id, mtime_ms, sdk_summary FROM sessions "
                "WHERE project_key = ? AND message_count > 0",
                (project_key,),
            ).fetchall()
        return [
            ProjectSession(sid, mtime, json.loads(summary) if summary else None)
            for sid, mtime, summary in rows
        ]

    def subkeys(self, project_key: str, session_id: str) -> list[str]:
        with self._read() as conn:
            row = self._find(conn, session_id, project_key)
            if row is None:
                return []
            return [
                subpath
                for (subpath,) in conn.execute(
                    "SELECT DISTINCT subpath FROM entries WHERE session_ref = ? AND subpath != '' "
                    "ORDER BY subpath",
                    (row["id"],),
                )
            ]

    # -- whole sessions, for copying a store (see .migrate) ---------------------------

    def export_refs(self, after: int, limit: int) -> list[int]:
        with self._read() as conn:
            return sqlite_transfer.export_refs(conn, after, limit)

    def find_ref(self, session_id: str, project_key: str) -> int | None:
        with self._read() as conn:
            return sqlite_transfer.find_ref(conn, session_id, project_key)

    def export_session(self, ref: int) -> dict[str, Any] | None:
        with self._read() as conn:
            return sqlite_transfer.export_session(conn, ref)

    def import_session(self, record: dict[str, Any]) -> None:
        with self._write() as conn:
            sqlite_transfer.import_session(conn, record)


def fts_query(text: str) -> str:
    """``text`` as an FTS5 query: FTS5 syntax passes through, plain words are AND-ed.

    Plain input (no quotes, ``*``, parentheses, ``^``, ``:``, or the operators
    AND/OR/NOT/NEAR) has each word quoted, so ``claude-sonnet`` or ``don't``
    search as words instead of failing as syntax.
    """
    if _FTS_SYNTAX_RE.search(text):
        return text
    return " ".join('"' + word.replace('"', '""') + '"' for word in text.split())
