"""The PostgreSQL backend's SQL, schema and row mapping, with no I/O (sans-IO).

Every backend operation is a generator of :class:`Stmt` values: it yields a
statement, receives its result, and finally returns the operation's value.
:mod:`.postgres` drives the same generators with a blocking psycopg
connection (``SessionStore``) and with an asyncio one (``AsyncSessionStore``),
so the SQL, the locking, the derivation of metadata and the row mapping exist
once. One operation runs inside one transaction, opened by the driver.

Concurrency: a write first takes a transaction-level advisory lock on its
session id, so two machines saving the same session queue up instead of
racing on the (session_id, project_key) unique key; different sessions write
in parallel. Schema migrations take their own advisory lock.

Entries are JSONB. The few JSON values JSONB cannot hold exactly (NUL
characters, lone surrogates, NaN/Infinity, floats written with a positive
exponent, which JSONB would turn into integers, and ``-0.0``) are kept as
ASCII JSON text in ``raw`` instead, so every entry round-trips.

Full text: a generated ``tsvector`` column (description and title weighted
above the message text, the ``simple`` configuration: no stemming and no stop
words, like SQLite's unicode61 tokenizer), a GIN index, ``ts_rank`` and
``ts_headline``. Queries accept the FTS5 syntax the SQLite backend accepts
(words, ``"phrases"``, ``prefix*``, ``AND``/``OR``/``NOT``, parentheses),
translated to a ``tsquery`` by :func:`compile_text_query`; invalid syntax is
an :class:`InvalidQueryError` on both backends.
"""

from __future__ import annotations

import json
import re
from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Literal, TypeVar

from claude_agent_sdk import SessionKey, fold_session_summary

from ..exceptions import InvalidQueryError
from .backend import Entry, ProjectSession, Query
from .metadata import Derived, derive, entries_text, fold
from .models import SessionMetadata

T = TypeVar("T")
Fetch = Literal["none", "one", "all", "rowcount"]
Row = dict[str, Any]

TS_CONFIG = "simple"
CLEANUP_BATCH = 500
MAX_INDEXED_CHARS = 1_000_000  # a tsvector holds at most 1 MB
HEADLINE_CHARS = 200_000
HEADLINE_OPTIONS = (
    "StartSel=[, StopSel=], MaxFragments=1, MaxWords=14, MinWords=5, ShortWord=0, "
    + 'FragmentDelimiter=" … "'
)
_LAST_CLEANUP_KEY = "last_cleanup"
_VERSION_KEY = "schema_version"


@dataclass(frozen=True)
class Stmt:
    """One statement for a driver to run: ``fetch`` says what to send back."""

    sql: str
    params: Sequence[Any] = ()
    fetch: Fetch = "none"


Op = Generator[Stmt, Any, T]


# -- schema ------------------------------------------------------------------------------

SCHEMA_V1: tuple[str, ...] = (
    """CREATE TABLE store_meta (
        key   text PRIMARY KEY,
        value text NOT NULL
    )""",
    f"""CREATE TABLE sessions (
        id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        session_id    text NOT NULL,
        project_key   text NOT NULL DEFAULT '',
        created_at    timestamptz NOT NULL,
        updated_at    timestamptz NOT NULL,
        mtime_ms      bigint NOT NULL DEFAULT 0,
        message_count integer NOT NULL DEFAULT 0,
        turns         integer NOT NULL DEFAULT 0,
        total_cost    double precision NOT NULL DEFAULT 0,
        input_tokens  bigint NOT NULL DEFAULT 0,
        output_tokens bigint NOT NULL DEFAULT 0,
        tags          text[] NOT NULL DEFAULT '{{}}',
        description   text,
        model         text,
        project       text,
        first_prompt  text,
        title         text,
        git_branch    text,
        forked_from   text,
        fold_state    text NOT NULL DEFAULT '{{}}',
        sdk_summary   text,
        body          text NOT NULL DEFAULT '',
        search        tsvector GENERATED ALWAYS AS (
            setweight(to_tsvector('{TS_CONFIG}'::regconfig,
                coalesce(description, '') || ' ' || coalesce(title, '')), 'A')
            || to_tsvector('{TS_CONFIG}'::regconfig, left(body, {MAX_INDEXED_CHARS}))
        ) STORED,
        UNIQUE (session_id, project_key)
    )""",
    # Keep the tsvector inline: a search that matches most sessions then reads the
    # heap sequentially instead of fetching every vector from TOAST (3x faster).
    "ALTER TABLE sessions SET (toast_tuple_target = 8160)",
    "ALTER TABLE sessions ALTER COLUMN search SET STORAGE MAIN",
    "CREATE INDEX sessions_by_updated ON sessions (updated_at, id)",
    "CREATE INDEX sessions_by_created ON sessions (created_at, updated_at)",
    "CREATE INDEX sessions_by_cost ON sessions (total_cost, updated_at)",
    "CREATE INDEX sessions_by_project_key ON sessions (project_key)",
    "CREATE INDEX sessions_by_project ON sessions (project)",
    'CREATE INDEX sessions_by_id_prefix ON sessions ((session_id COLLATE "C") text_pattern_ops)',
    "CREATE INDEX sessions_by_tags ON sessions USING gin (tags)",
    "CREATE INDEX sessions_by_text ON sessions USING gin (search)",
    """CREATE TABLE entries (
        session_ref bigint NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        subpath     text NOT NULL DEFAULT '',
        seq         integer NOT NULL,
        uuid        text,
        data        jsonb,
        raw         text,
        PRIMARY KEY (session_ref, subpath, seq),
        CHECK ((data IS NULL) <> (raw IS NULL))
    )""",
    """CREATE UNIQUE INDEX entries_by_uuid ON entries (session_ref, subpath, uuid)
        WHERE uuid IS NOT NULL""",
    "CREATE INDEX entries_by_main_uuid ON entries (uuid) WHERE uuid IS NOT NULL AND subpath = ''",
    """CREATE TABLE tags (
        session_ref bigint NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        tag         text NOT NULL,
        source      text NOT NULL DEFAULT 'user',
        PRIMARY KEY (session_ref, tag)
    )""",
)

MIGRATIONS: tuple[tuple[str, ...], ...] = (SCHEMA_V1,)
SCHEMA_VERSION = len(MIGRATIONS)


class SchemaTooNewError(Exception):
    """The database was migrated by a newer claude-sessions."""


def lock_key(*parts: str) -> Stmt:
    """A transaction-level advisory lock on a name (released at commit or rollback)."""
    return Stmt("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", ("\x1f".join(parts),))


def schema_version_op() -> Op[int | None]:
    """The schema version, or ``None`` when the store's tables do not exist yet."""
    found = yield Stmt("SELECT to_regclass('store_meta') IS NOT NULL AS present", fetch="one")
    if not found["present"]:
        return None
    row = yield Stmt("SELECT value FROM store_meta WHERE key = %s", (_VERSION_KEY,), fetch="one")
    return int(row["value"]) if row else 0


def migrate_op(schema: str) -> Op[int]:
    """Create the schema if needed and apply the missing migrations; returns the version found.

    The schema is created only when missing, so a role without CREATE on the
    database can use a schema an administrator created for it.
    """
    yield lock_key("claude-sessions-migrate", schema)
    exists = yield Stmt(
        "SELECT 1 AS found FROM pg_namespace WHERE nspname = %s", (schema,), fetch="one"
    )
    if exists is None:
        yield Stmt(f"CREATE SCHEMA {quote_ident(schema)}")
    found = yield from schema_version_op()
    version = found or 0
    if version > SCHEMA_VERSION:
        raise SchemaTooNewError(
            f"store schema version {version} is newer than this claude-sessions "
            f"understands ({SCHEMA_VERSION}): upgrade claude-sessions"
        )
    for migration in MIGRATIONS[version:]:
        for statement in migration:
            yield Stmt(statement)
    yield Stmt(
        "INSERT INTO store_meta (key, value) VALUES (%s, %s) "
        "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
        (_VERSION_KEY, str(SCHEMA_VERSION)),
    )
    return version


_IDENT_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


def valid_schema_name(name: str) -> bool:
    return bool(_IDENT_RE.match(name))


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# -- values ------------------------------------------------------------------------------

_POSITIVE_EXPONENT_RE = re.compile(r"\d[eE]\+\d")
# A -0.0 number token (compact separators); a match inside a string only costs a raw copy.
_NEGATIVE_ZERO_RE = re.compile(r"[:,\[]-0\.0(?=[,\]}])")


def encode_entry(entry: Entry) -> tuple[str | None, str | None]:
    """``(jsonb_text, None)``, or ``(None, ascii_json)`` when JSONB would alter the value."""
    try:
        text = json.dumps(entry, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        text.encode("utf-8")
    except (ValueError, UnicodeEncodeError):
        return None, json.dumps(entry, separators=(",", ":"))
    if (
        "\\u0000" in text
        or ("e+" in text and _POSITIVE_EXPONENT_RE.search(text))
        or ("E+" in text and _POSITIVE_EXPONENT_RE.search(text))
        or ("-0.0" in text and _NEGATIVE_ZERO_RE.search(text))
    ):
        return None, json.dumps(entry, separators=(",", ":"))
    return text, None


def decode_entry(row: Mapping[str, Any]) -> dict[str, Any]:
    raw = row["raw"]
    value: dict[str, Any] = json.loads(raw) if raw is not None else row["data"]
    return value


def clean_text(text: str | None) -> str | None:
    """Text PostgreSQL accepts: no NUL, no lone surrogates (replaced)."""
    if text is None:
        return None
    if "\x00" in text:
        text = text.replace("\x00", "\ufffd")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "replace").decode("utf-8")
    return text


def _json_text(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))  # ASCII: NUL and surrogates escaped


def _uuid(entry: Entry) -> str | None:
    value = entry.get("uuid")
    return value if isinstance(value, str) and value else None


def utc(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, tz=timezone.utc)


def epoch(moment: datetime) -> float:
    return moment.timestamp()


# -- row mapping -----------------------------------------------------------------------

META_COLUMNS = (
    "s.id, s.session_id, s.project_key, s.created_at, s.updated_at, s.mtime_ms, "
    "s.message_count, s.turns, s.total_cost, s.input_tokens, s.output_tokens, s.tags, "
    "s.description, s.model, s.project, "
    "s.first_prompt, s.title, s.git_branch, s.forked_from"
)
ROW_COLUMNS = META_COLUMNS + ", s.fold_state, s.sdk_summary"


def to_metadata(row: Mapping[str, Any]) -> SessionMetadata:
    snippet = row.get("snippet")
    rank = row.get("score")
    return SessionMetadata(
        session_id=row["session_id"],
        created_at=row["created_at"].astimezone(timezone.utc),
        updated_at=row["updated_at"].astimezone(timezone.utc),
        message_count=row["message_count"],
        turns=row["turns"],
        total_cost=row["total_cost"],
        input_tokens=row["input_tokens"],
        output_tokens=row["output_tokens"],
        tags=tuple(row["tags"]),
        description=row["description"],
        model=row["model"],
        project=row["project"],
        project_key=row["project_key"],
        first_prompt=row["first_prompt"],
        title=row["title"],
        git_branch=row["git_branch"],
        forked_from=row["forked_from"],
        snippet=snippet,
        rank=float(rank) if rank is not None else None,
    )


# -- shared steps ----------------------------------------------------------------------


def _find(session_id: str, project_key: str | None) -> Stmt:
    if project_key is None:
        return Stmt(
            f"SELECT {ROW_COLUMNS} FROM sessions s WHERE s.session_id = %s "
            "ORDER BY s.updated_at DESC, s.id DESC LIMIT 1",
            (session_id,),
            fetch="one",
        )
    return Stmt(
        f"SELECT {ROW_COLUMNS} FROM sessions s WHERE s.session_id = %s AND s.project_key = %s",
        (session_id, clean_text(project_key)),
        fetch="one",
    )


def _by_ref(ref: int) -> Stmt:
    return Stmt(f"SELECT {ROW_COLUMNS} FROM sessions s WHERE s.id = %s", (ref,), fetch="one")


def _new_row(session_id: str, project_key: str, now: float) -> Op[int]:
    row = yield Stmt(
        "INSERT INTO sessions (session_id, project_key, created_at, updated_at) "
        "VALUES (%s, %s, %s, %s) RETURNING id",
        (session_id, clean_text(project_key), utc(now), utc(now)),
        fetch="one",
    )
    ref: int = row["id"]
    return ref


def _origin(session_id: str, entries: Sequence[Entry]) -> Op[str | None]:
    """The stored session whose transcript shares this one's first entry uuid (see SQLite)."""
    for entry in entries:
        uuid = _uuid(entry)
        if uuid is None or "parentUuid" not in entry:
            continue
        found = yield Stmt(
            "SELECT s.session_id FROM entries e JOIN sessions s ON s.id = e.session_ref "
            "WHERE e.uuid = %s AND e.subpath = '' AND s.session_id <> %s "
            "ORDER BY s.id LIMIT 1",
            (clean_text(uuid), session_id),
            fetch="one",
        )
        return found["session_id"] if found else None
    return None


def _sync_tags(
    ref: int, *, user: Sequence[str] | None, old_cli: str | None, new_cli: str | None
) -> Op[None]:
    """Apply user tags (replace when given) and the CLI's tag (see ``_TAGS_ARRAY``)."""
    if user is not None:
        yield Stmt("DELETE FROM tags WHERE session_ref = %s", (ref,))
        if user:
            yield Stmt(
                "INSERT INTO tags (session_ref, tag, source) "
                "SELECT %s, t, 'user' FROM unnest(%s::text[]) AS t ON CONFLICT DO NOTHING",
                (ref, [clean_text(tag) for tag in user]),
            )
    if old_cli != new_cli and old_cli:
        yield Stmt(
            "DELETE FROM tags WHERE session_ref = %s AND tag = %s AND source = 'cli'",
            (ref, clean_text(old_cli)),
        )
    if new_cli:
        yield Stmt(
            "INSERT INTO tags (session_ref, tag, source) VALUES (%s, %s, 'cli') "
            "ON CONFLICT DO NOTHING",
            (ref, clean_text(new_cli)),
        )


# The sorted tags of a session, kept in sessions.tags (GIN-indexed for search).
_TAGS_ARRAY = 'tags = ARRAY(SELECT tag FROM tags WHERE session_ref = s.id ORDER BY tag COLLATE "C")'


@dataclass
class _Derived:
    derived: Derived
    created_at: float
    updated_at: float
    mtime_ms: int
    message_count: int
    forked_from: str | None
    fold_state: dict[str, Any]
    sdk_summary: dict[str, Any]
    extra: list[tuple[str, list[Any]]] = field(default_factory=list)


def _store_derived(ref: int, d: _Derived) -> Stmt:
    """Write the derived columns and the tags array; the statement returns the row."""
    sets = [
        _TAGS_ARRAY,
        "created_at = %s",
        "updated_at = %s",
        "mtime_ms = %s",
        "message_count = %s",
        "turns = %s",
        "total_cost = %s",
        "input_tokens = %s",
        "output_tokens = %s",
        "model = %s",
        "project = %s",
        "first_prompt = %s",
        "title = %s",
        "git_branch = %s",
        "forked_from = %s",
        "fold_state = %s",
        "sdk_summary = %s",
    ]
    params: list[Any] = [
        utc(d.created_at),
        utc(max(d.updated_at, d.created_at)),
        d.mtime_ms,
        d.message_count,
        d.derived.turns,
        d.derived.total_cost,
        d.derived.input_tokens,
        d.derived.output_tokens,
        clean_text(d.derived.model),
        clean_text(d.derived.project),
        clean_text(d.derived.first_prompt),
        clean_text(d.derived.title),
        clean_text(d.derived.git_branch),
        clean_text(d.forked_from),
        _json_text(d.fold_state),
        _json_text(d.sdk_summary),
    ]
    for assignment, values in d.extra:
        sets.append(assignment)
        params.extend(values)
    params.append(ref)
    return Stmt(
        f"UPDATE sessions AS s SET {', '.join(sets)} WHERE s.id = %s RETURNING {ROW_COLUMNS}",
        params,
        fetch="one",
    )


def _next_mtime(row: Mapping[str, Any] | None, now: float) -> int:
    """Storage write time in epoch ms, strictly increasing per session."""
    now_ms = int(now * 1000)
    previous = row["mtime_ms"] if row is not None else 0
    return max(now_ms, previous + 1)


def _insert_entries(ref: int, subpath: str, rows: Sequence[tuple[int, str | None, Entry]]) -> Stmt:
    seqs: list[int] = []
    uuids: list[str | None] = []
    datas: list[str | None] = []
    raws: list[str | None] = []
    for seq, uuid, entry in rows:
        data, raw = encode_entry(entry)
        seqs.append(seq)
        uuids.append(clean_text(uuid))
        datas.append(data)
        raws.append(raw)
    return Stmt(
        "INSERT INTO entries (session_ref, subpath, seq, uuid, data, raw) "
        "SELECT %s, %s, t.seq, t.uuid, t.data::jsonb, t.raw "
        # Binary parameters (%b): big JSON texts need no array-literal escaping.
        "FROM unnest(%b::int[], %b::text[], %b::text[], %b::text[]) AS t(seq, uuid, data, raw)",
        (ref, clean_text(subpath), seqs, uuids, datas, raws),
    )


def _load_main(ref: int) -> Op[list[dict[str, Any]]]:
    rows = yield Stmt(
        "SELECT data, raw FROM entries WHERE session_ref = %s AND subpath = '' ORDER BY seq",
        (ref,),
        fetch="all",
    )
    return [decode_entry(row) for row in rows]


# -- writes ----------------------------------------------------------------------------


def save_op(
    session_id: str,
    entries: Sequence[Entry],
    *,
    tags: Sequence[str],
    description: str | None,
    project: str | None,
    project_key: str,
    forked_from: str | None,
    now: float,
    schema: str,
) -> Op[SessionMetadata]:
    seen: set[str] = set()
    rows: list[tuple[int, str | None, Entry]] = []
    for seq, entry in enumerate(entries):
        uuid = _uuid(entry)
        if uuid in seen:
            uuid = None  # the column is an idempotency key: first one wins
        elif uuid is not None:
            seen.add(uuid)
        rows.append((seq, uuid, entry))
    state = fold({"project": project} if project else None, entries)
    derived = derive(state)
    body = clean_text(entries_text(entries)) or ""
    yield lock_key(schema, session_id)
    # The row under this project key, else the newest with this id (one round trip).
    row = yield Stmt(
        f"SELECT {ROW_COLUMNS} FROM sessions s WHERE s.session_id = %s "
        "ORDER BY s.project_key = %s DESC, s.updated_at DESC, s.id DESC LIMIT 1",
        (session_id, clean_text(project_key)),
        fetch="one",
    )
    old_state: dict[str, Any]
    if row is None:
        ref = yield from _new_row(session_id, project_key, now)
        created = derived.first_timestamp if derived.first_timestamp is not None else now
        old_state = {}
        key_project = project_key
    else:
        ref = row["id"]
        created = epoch(row["created_at"])
        old_state = json.loads(row["fold_state"])
        key_project = row["project_key"]
        if row["project_key"] == "" and project_key:
            # No row has this project key (it would have been found first): adopt it.
            yield Stmt(
                "UPDATE sessions SET project_key = %s WHERE id = %s",
                (clean_text(project_key), ref),
            )
            key_project = project_key
        yield Stmt("DELETE FROM entries WHERE session_ref = %s AND subpath = ''", (ref,))
    origin = forked_from or derived.forked_from
    if origin is None:
        origin = yield from _origin(session_id, entries)
    if rows:
        yield _insert_entries(ref, "", rows)
    mtime = _next_mtime(row, now)
    key: SessionKey = {"project_key": key_project, "session_id": session_id}
    summary = dict(fold_session_summary(None, key, list(entries)))  # type: ignore[arg-type]
    summary["mtime"] = mtime
    yield from _sync_tags(ref, user=tags, old_cli=old_state.get("cli_tag"), new_cli=derived.cli_tag)
    final = yield _store_derived(
        ref,
        _Derived(
            derived=derived,
            created_at=created,
            updated_at=derived.last_timestamp if derived.last_timestamp is not None else now,
            mtime_ms=mtime,
            message_count=len(rows),
            forked_from=origin,
            fold_state=state,
            sdk_summary=summary,
            extra=[("description = %s", [clean_text(description)]), ("body = %s", [body])],
        ),
    )
    return to_metadata(final)


def append_op(
    session_id: str,
    entries: Sequence[Entry],
    *,
    project_key: str | None,
    subpath: str,
    now: float,
    schema: str,
) -> Op[SessionMetadata]:
    yield lock_key(schema, session_id)
    row = yield _find(session_id, project_key)
    if row is None:
        ref = yield from _new_row(session_id, project_key or "", now)
        row = yield _by_ref(ref)
    ref = row["id"]
    if not entries:
        return to_metadata(row)
    new_entries, new_rows, changed = yield from _merge(ref, subpath, entries)
    if new_rows:
        yield _insert_entries(ref, subpath, new_rows)
    if subpath:
        return to_metadata(row)
    final = yield from _refresh_main(row, new_entries, len(new_rows), changed, now)
    return to_metadata(final)


def _merge(
    ref: int, subpath: str, entries: Sequence[Entry]
) -> Op[tuple[list[Entry], list[tuple[int, str | None, Entry]], bool]]:
    """Split a batch into new rows and upserts; report whether a stored entry changed."""
    uuids = list({clean_text(u) for u in map(_uuid, entries) if u is not None})
    stored: dict[str, Any] = {}
    if uuids:
        found = yield Stmt(
            "SELECT uuid, data, raw FROM entries WHERE session_ref = %s AND subpath = %s "
            "AND uuid = ANY(%s::text[])",
            (ref, clean_text(subpath), uuids),
            fetch="all",
        )
        stored = {row["uuid"]: decode_entry(row) for row in found}
    top = yield Stmt(
        "SELECT coalesce(max(seq) + 1, 0) AS next FROM entries "
        "WHERE session_ref = %s AND subpath = %s",
        (ref, clean_text(subpath)),
        fetch="one",
    )
    seq: int = top["next"]
    new_entries: list[Entry] = []
    new_rows: list[tuple[int, str | None, Entry]] = []
    pending: dict[str, int] = {}
    changed = False
    for entry in entries:
        uuid = _uuid(entry)
        key = clean_text(uuid) if uuid is not None else None
        if key is not None and key in stored:
            normal = json.loads(json.dumps(entry))
            if stored[key] != normal:
                data, raw = encode_entry(entry)
                yield Stmt(
                    "UPDATE entries SET data = %s::jsonb, raw = %s WHERE session_ref = %s "
                    "AND subpath = %s AND uuid = %s",
                    (data, raw, ref, clean_text(subpath), key),
                )
                stored[key] = normal
                changed = True
            continue
        if key is not None and key in pending:  # repeated inside this batch
            index = pending[key]
            if json.dumps(new_rows[index][2]) != json.dumps(entry):
                new_rows[index] = (new_rows[index][0], new_rows[index][1], entry)
                new_entries[index] = entry
                changed = True
            continue
        if key is not None:
            pending[key] = len(new_rows)
        new_rows.append((seq, uuid, entry))
        new_entries.append(entry)
        seq += 1
    return new_entries, new_rows, changed


def _refresh_main(
    row: Mapping[str, Any],
    new_entries: Sequence[Entry],
    added: int,
    changed: bool,
    now: float,
) -> Op[Row]:
    """Fold the new main-transcript entries into metadata, summary and full text."""
    ref = row["id"]
    old_state: dict[str, Any] = json.loads(row["fold_state"])
    key: SessionKey = {"project_key": row["project_key"], "session_id": row["session_id"]}
    previous_summary = json.loads(row["sdk_summary"]) if row["sdk_summary"] else None
    if changed:  # an upsert rewrote a stored entry: recompute from everything
        every = yield from _load_main(ref)
        state = fold(None, every)
        summary = dict(fold_session_summary(None, key, every))  # type: ignore[arg-type]
        body_update: tuple[str, list[Any]] = ("body = %s", [clean_text(entries_text(every)) or ""])
    else:
        state = fold(old_state, new_entries)
        summary = dict(fold_session_summary(previous_summary, key, list(new_entries)))  # type: ignore[arg-type]
        text = clean_text(entries_text(new_entries)) or ""
        body_update = (
            "body = CASE WHEN body = '' THEN %s ELSE body || E'\\n' || %s END",
            [text, text],
        )
    derived = derive(state)
    was_empty = row["message_count"] == 0
    created = epoch(row["created_at"])
    if derived.first_timestamp is not None:
        created = derived.first_timestamp if was_empty else min(created, derived.first_timestamp)
    updated = derived.last_timestamp if derived.last_timestamp is not None else now
    forked_from = row["forked_from"] or derived.forked_from
    if forked_from is None and was_empty:
        forked_from = yield from _origin(row["session_id"], new_entries)
    mtime = _next_mtime(row, now)
    summary["mtime"] = mtime
    yield from _sync_tags(ref, user=None, old_cli=old_state.get("cli_tag"), new_cli=derived.cli_tag)
    extra = [body_update] if changed or body_update[1][0] else []
    final: Row = yield _store_derived(
        ref,
        _Derived(
            derived=derived,
            created_at=created,
            updated_at=updated,
            mtime_ms=mtime,
            message_count=row["message_count"] + added,
            forked_from=forked_from,
            fold_state=state,
            sdk_summary=summary,
            extra=extra,
        ),
    )
    return final


def update_op(
    session_id: str,
    *,
    add_tags: Sequence[str],
    remove_tags: Sequence[str],
    description: str | None,
    set_description: bool,
    schema: str,
) -> Op[SessionMetadata | None]:
    yield lock_key(schema, session_id)
    row = yield _find(session_id, None)
    if row is None:
        return None
    ref = row["id"]
    if add_tags:
        yield Stmt(
            "INSERT INTO tags (session_ref, tag, source) "
            "SELECT %s, t, 'user' FROM unnest(%s::text[]) AS t "
            "ON CONFLICT (session_ref, tag) DO UPDATE SET source = 'user'",
            (ref, [clean_text(tag) for tag in add_tags]),
        )
    if remove_tags:
        yield Stmt(
            "DELETE FROM tags WHERE session_ref = %s AND tag = ANY(%s::text[])",
            (ref, [clean_text(tag) for tag in remove_tags]),
        )
    sets = [_TAGS_ARRAY]
    params: list[Any] = []
    if set_description:
        sets.append("description = %s")
        params.append(clean_text(description))
    final = yield Stmt(
        f"UPDATE sessions AS s SET {', '.join(sets)} WHERE s.id = %s RETURNING {ROW_COLUMNS}",
        (*params, ref),
        fetch="one",
    )
    return to_metadata(final)


def delete_op(session_id: str, *, project_key: str | None, subpath: str | None) -> Op[bool]:
    if project_key is None:
        count = yield Stmt(
            "DELETE FROM sessions WHERE session_id = %s", (session_id,), fetch="rowcount"
        )
        return bool(count > 0)
    row = yield _find(session_id, project_key)
    if row is None:
        return False
    if subpath:
        count = yield Stmt(
            "DELETE FROM entries WHERE session_ref = %s AND subpath = %s",
            (row["id"], clean_text(subpath)),
            fetch="rowcount",
        )
        return bool(count > 0)
    yield Stmt("DELETE FROM sessions WHERE id = %s", (row["id"],))
    return True


# -- reads -------------------------------------------------------------------------------


def load_op(
    session_id: str, *, project_key: str | None, subpath: str
) -> Op[tuple[SessionMetadata, list[dict[str, Any]]] | None]:
    row = yield _find(session_id, project_key)
    if row is None:
        return None
    rows = yield Stmt(
        "SELECT data, raw FROM entries WHERE session_ref = %s AND subpath = %s ORDER BY seq",
        (row["id"], clean_text(subpath)),
        fetch="all",
    )
    entries = [decode_entry(r) for r in rows]
    if subpath and not entries:
        return None
    return to_metadata(row), entries


def get_metadata_op(session_id: str) -> Op[SessionMetadata | None]:
    row = yield _find(session_id, None)
    return None if row is None else to_metadata(row)


def _like_prefix(prefix: str) -> str:
    return re.sub(r"([\\%_])", r"\\\1", prefix) + "%"


def find_ids_op(prefix: str, limit: int) -> Op[list[str]]:
    exact = yield Stmt(
        "SELECT 1 AS found FROM sessions WHERE session_id = %s LIMIT 1", (prefix,), fetch="one"
    )
    if exact:
        return [prefix]
    rows = yield Stmt(
        'SELECT DISTINCT session_id COLLATE "C" AS session_id FROM sessions '
        "WHERE (session_id COLLATE \"C\") LIKE %s ESCAPE '\\' "
        'ORDER BY session_id COLLATE "C" LIMIT %s',
        (_like_prefix(prefix), limit),
        fetch="all",
    )
    return [row["session_id"] for row in rows]


def _filters(query: Query) -> tuple[list[str], list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if query.tags:
        operator = "@>" if query.match_all_tags else "&&"
        clauses.append(f"s.tags {operator} %s::text[]")
        params.append([clean_text(tag) for tag in query.tags])
    for clause, value in (
        ("s.created_at >= %s", query.after),
        ("s.created_at <= %s", query.before),
    ):
        if value is not None:
            clauses.append(clause)
            params.append(utc(value))
    for clause, cost in (
        ("s.total_cost >= %s", query.min_cost),
        ("s.total_cost <= %s", query.max_cost),
    ):
        if cost is not None:
            clauses.append(clause)
            params.append(cost)
    if query.model:
        escaped = re.sub(r"([\\%_])", r"\\\1", clean_text(query.model) or "")
        clauses.append("s.model ILIKE %s ESCAPE '\\'")
        params.append(f"%{escaped}%")
    if query.project:
        clauses.append("(s.project = %s OR s.project_key = %s)")
        params.extend((clean_text(query.project), clean_text(query.project)))
    return clauses, params


def query_op(query: Query) -> Op[list[SessionMetadata]]:
    clauses, params = _filters(query)
    if query.text is None:
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        ranged = any(
            bound is not None
            for bound in (query.after, query.before, query.min_cost, query.max_cost)
        )
        if not ranged:  # walk the updated_at index, newest first, filtering on the way
            sql = (
                f"SELECT {META_COLUMNS} FROM sessions s {where} "
                "ORDER BY s.updated_at DESC, s.id DESC LIMIT %s OFFSET %s"
            )
        else:
            # A date or cost range: take its rows from the range's index, then sort
            # them. (Walking updated_at and filtering, the planner's usual choice,
            # reads most of the table when the range lies in the past.)
            sql = (
                f"WITH hits AS MATERIALIZED (SELECT s.id, s.updated_at FROM sessions s {where}) "
                f"SELECT {META_COLUMNS} FROM (SELECT id, updated_at FROM hits "
                "ORDER BY updated_at DESC, id DESC LIMIT %s OFFSET %s) AS page "
                "JOIN sessions s ON s.id = page.id ORDER BY page.updated_at DESC, page.id DESC"
            )
        rows = yield Stmt(sql, (*params, query.limit, query.offset), fetch="all")
        return [to_metadata(row) for row in rows]
    tsquery, tsparams = compile_text_query(query.text)
    extra = "".join(f" AND {clause}" for clause in clauses)
    # The tsquery is built from constants only, so it is folded once at plan time.
    sql = (
        f"SELECT {META_COLUMNS}, hits.score, ts_headline('{TS_CONFIG}', "
        "concat_ws(E'\\n', s.description, s.title, left(s.body, "
        f"{HEADLINE_CHARS})), {tsquery}, %s) AS snippet "
        "FROM (SELECT s.id, -ts_rank(s.search, fq.q)::float8 AS score "
        f"FROM sessions s, (SELECT {tsquery} AS q) AS fq WHERE s.search @@ fq.q{extra} "
        "ORDER BY score, s.id LIMIT %s OFFSET %s) AS hits "
        "JOIN sessions s ON s.id = hits.id ORDER BY hits.score, hits.id"
    )
    rows = yield Stmt(
        sql,
        (*tsparams, HEADLINE_OPTIONS, *tsparams, *params, query.limit, query.offset),
        fetch="all",
    )
    return [to_metadata(row) for row in rows]


# -- cleanup -----------------------------------------------------------------------------


def _expired_where(protected: Sequence[str]) -> tuple[str, list[Any]]:
    if protected:
        return (
            "s.updated_at < %s AND NOT EXISTS (SELECT 1 FROM tags t WHERE t.session_ref = s.id "
            "AND t.tag = ANY(%s::text[]))",
            [list(protected)],
        )
    return "s.updated_at < %s", []


def expired_op(cutoff: float, protected: Sequence[str]) -> Op[list[SessionMetadata]]:
    where, params = _expired_where(protected)
    rows = yield Stmt(
        f"SELECT {META_COLUMNS} FROM sessions s WHERE {where} ORDER BY s.updated_at, s.id",
        (utc(cutoff), *params),
        fetch="all",
    )
    return [to_metadata(row) for row in rows]


def delete_expired_batch_op(cutoff: float, protected: Sequence[str]) -> Op[int]:
    """One batch (its own short transaction); the driver repeats until a short batch."""
    where, params = _expired_where(protected)
    count = yield Stmt(
        "DELETE FROM sessions WHERE id IN (SELECT s.id FROM sessions s "
        f"WHERE {where} LIMIT {CLEANUP_BATCH})",
        (utc(cutoff), *params),
        fetch="rowcount",
    )
    return int(count)


def claim_cleanup_op(now: float, interval: float, schema: str) -> Op[bool]:
    def due(found: Mapping[str, Any] | None) -> bool:
        if found is None:
            return True
        try:
            last = float(found["value"])
        except ValueError:
            return True
        return not 0 <= now - last < interval

    read = Stmt("SELECT value FROM store_meta WHERE key = %s", (_LAST_CLEANUP_KEY,), fetch="one")
    if not due((yield read)):  # the usual answer, without waiting for the lock
        return False
    yield lock_key(schema, "claude-sessions-cleanup")
    if not due((yield read)):
        return False
    yield Stmt(
        "INSERT INTO store_meta (key, value) VALUES (%s, %s) "
        "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
        (_LAST_CLEANUP_KEY, repr(now)),
    )
    return True


# -- the official SDK protocol's listings ------------------------------------------------


def project_sessions_op(project_key: str) -> Op[list[ProjectSession]]:
    rows = yield Stmt(
        "SELECT session_id, mtime_ms, sdk_summary FROM sessions "
        "WHERE project_key = %s AND message_count > 0",
        (clean_text(project_key),),
        fetch="all",
    )
    return [
        ProjectSession(
            row["session_id"],
            row["mtime_ms"],
            json.loads(row["sdk_summary"]) if row["sdk_summary"] else None,
        )
        for row in rows
    ]


def subkeys_op(project_key: str, session_id: str) -> Op[list[str]]:
    row = yield _find(session_id, clean_text(project_key))
    if row is None:
        return []
    rows = yield Stmt(
        'SELECT DISTINCT subpath COLLATE "C" AS subpath FROM entries '
        "WHERE session_ref = %s AND subpath <> '' ORDER BY 1",
        (row["id"],),
        fetch="all",
    )
    return [r["subpath"] for r in rows]


# -- full-text queries -------------------------------------------------------------------

_FTS_SYNTAX_RE = re.compile(r'["*()^:{}]|\b(?:AND|OR|NOT|NEAR)\b')
_TOKEN_RE = re.compile(r'\s*(?:(")|(\()|(\))|(\*)|(,)|([^\s"()*,]+))')
_WORD_RE = re.compile(r"\w+")


@dataclass
class _Parser:
    """Recursive descent over FTS5's query grammar (OR < AND < NOT < phrase)."""

    text: str
    tokens: list[tuple[str, str]] = field(default_factory=list)
    pos: int = 0
    sql: list[str] = field(default_factory=list)
    params: list[Any] = field(default_factory=list)

    def fail(self, why: str) -> InvalidQueryError:
        return InvalidQueryError(f"invalid full-text query {self.text!r}: {why}")

    def tokenize(self) -> None:
        text = self.text
        index = 0
        while index < len(text):
            match = _TOKEN_RE.match(text, index)
            if match is None or match.end() == index:
                if text[index:].strip():
                    raise self.fail(f"unexpected {text[index]!r}")
                break
            index = match.end()
            quote, opening, closing, star, comma, word = match.groups()
            if quote:
                end = text.find('"', index)
                while end != -1 and text.startswith('""', end):
                    end = text.find('"', end + 2)
                if end == -1:
                    raise self.fail("unterminated string")
                self.tokens.append(("phrase", text[index:end].replace('""', '"')))
                index = end + 1
            elif opening:
                self.tokens.append(("(", "("))
            elif closing:
                self.tokens.append((")", ")"))
            elif star:
                self.tokens.append(("*", "*"))
            elif comma:
                self.tokens.append((",", ","))
            elif word in ("AND", "OR", "NOT", "NEAR"):
                self.tokens.append((word, word))
            elif word:
                self.tokens.append(("phrase", word))

    def peek(self) -> str | None:
        return self.tokens[self.pos][0] if self.pos < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def parse(self) -> str:
        self.tokenize()
        if not self.tokens:
            raise self.fail("nothing to search for")
        expr = self.or_expr()
        if self.pos != len(self.tokens):
            raise self.fail(f"unexpected {self.tokens[self.pos][1]!r}")
        return expr

    def or_expr(self) -> str:
        parts = [self.and_expr()]
        while self.peek() == "OR":
            self.take()
            parts.append(self.and_expr())
        return parts[0] if len(parts) == 1 else "(" + " || ".join(parts) + ")"

    def and_expr(self) -> str:
        parts = [self.not_expr()]
        while self.peek() in ("AND", "phrase", "(", "NEAR"):
            if self.peek() == "AND":
                self.take()
            parts.append(self.not_expr())
        return parts[0] if len(parts) == 1 else "(" + " && ".join(parts) + ")"

    def not_expr(self) -> str:
        expr = self.primary()
        while self.peek() == "NOT":
            self.take()
            expr = f"({expr} && !!{self.primary()})"
        return expr

    def primary(self) -> str:
        kind = self.peek()
        if kind is None:
            raise self.fail("an operator needs a term after it")
        if kind == "(":
            self.take()
            if self.peek() == ")":
                raise self.fail("empty parentheses")
            expr = self.or_expr()
            if self.peek() != ")":
                raise self.fail("unbalanced parentheses")
            self.take()
            return expr
        if kind == "NEAR":  # NEAR(a b, N): every phrase must occur (distance not enforced)
            self.take()
            if self.peek() != "(":
                raise self.fail("NEAR needs parentheses")
            self.take()
            parts: list[str] = []
            while self.peek() == "phrase":
                parts.append(self.phrase())
            if self.peek() == ",":
                self.take()
                if self.peek() != "phrase" or not self.take()[1].isdigit():
                    raise self.fail("NEAR distance must be a number")
            if not parts or self.peek() != ")":
                raise self.fail("malformed NEAR group")
            self.take()
            return "(" + " && ".join(parts) + ")"
        if kind != "phrase":
            raise self.fail(f"unexpected {self.tokens[self.pos][1]!r}")
        return self.phrase()

    def phrase(self) -> str:
        _, text = self.take()
        if text.startswith("^"):
            text = text[1:]
        column, sep, rest = text.partition(":")
        if sep and column in ("body", "meta"):  # FTS5 column filter: both are searched
            if not rest:
                return self.primary()
            text = rest
        prefix = self.peek() == "*"
        if prefix:
            self.take()
        return term_sql(text, prefix=prefix, params=self.params)


def term_sql(text: str, *, prefix: bool, params: list[Any]) -> str:
    """The tsquery of one word or phrase (its tokens in a row), optionally a prefix."""
    if not prefix:
        params.append(clean_text(text))
        return f"phraseto_tsquery('{TS_CONFIG}', %s)"
    words = [w.lower() for w in _WORD_RE.findall(clean_text(text) or "")]
    if not words:
        params.append("")
        return f"phraseto_tsquery('{TS_CONFIG}', %s)"
    pattern = " <-> ".join(f"'{w}'" for w in words[:-1])
    pattern += (" <-> " if pattern else "") + f"'{words[-1]}':*"
    params.append(pattern)
    return f"to_tsquery('{TS_CONFIG}', %s)"


def compile_text_query(text: str) -> tuple[str, list[Any]]:
    """SQL for the ``tsquery`` of a search text, and its parameters.

    Plain input (no FTS5 syntax characters or operators) means every word,
    each searched as a word (so ``claude-sonnet`` is a phrase, not syntax).
    """
    params: list[Any] = []
    if not _FTS_SYNTAX_RE.search(text):
        parts = [term_sql(word, prefix=False, params=params) for word in text.split()]
        return "(" + " && ".join(parts) + ")", params
    parser = _Parser(text)
    expr = parser.parse()
    return expr, parser.params


# -- whole sessions, for copying a store between backends (see .migrate) -------------------

EXPORT_COLUMNS = (
    "s.session_id, s.project_key, s.created_at, s.updated_at, s.mtime_ms, s.message_count, "
    "s.turns, s.total_cost, s.input_tokens, s.output_tokens, s.description, s.model, "
    "s.project, s.first_prompt, s.title, s.git_branch, s.forked_from, s.fold_state, s.sdk_summary"
)


def export_refs_op(after: int, limit: int) -> Op[list[int]]:
    rows = yield Stmt(
        "SELECT id FROM sessions WHERE id > %s ORDER BY id LIMIT %s", (after, limit), fetch="all"
    )
    return [row["id"] for row in rows]


def find_ref_op(session_id: str, project_key: str) -> Op[int | None]:
    row = yield Stmt(
        "SELECT id FROM sessions WHERE session_id = %s AND project_key = %s",
        (session_id, clean_text(project_key)),
        fetch="one",
    )
    return None if row is None else int(row["id"])


def export_op(ref: int) -> Op[dict[str, Any] | None]:
    """One session as plain data: its row, its tags with their source, every entry."""
    row = yield Stmt(
        f"SELECT {EXPORT_COLUMNS} FROM sessions s WHERE s.id = %s", (ref,), fetch="one"
    )
    if row is None:
        return None
    tags = yield Stmt(
        'SELECT tag, source FROM tags WHERE session_ref = %s ORDER BY tag COLLATE "C"',
        (ref,),
        fetch="all",
    )
    entries = yield Stmt(
        "SELECT subpath, seq, uuid, data, raw FROM entries WHERE session_ref = %s "
        'ORDER BY subpath COLLATE "C", seq',
        (ref,),
        fetch="all",
    )
    record = dict(row)
    record["created_at"] = epoch(row["created_at"])
    record["updated_at"] = epoch(row["updated_at"])
    record["fold_state"] = json.loads(row["fold_state"])
    record["sdk_summary"] = json.loads(row["sdk_summary"]) if row["sdk_summary"] else None
    record["tags"] = [(t["tag"], t["source"]) for t in tags]
    record["entries"] = [(e["subpath"], e["seq"], e["uuid"], decode_entry(e)) for e in entries]
    return record


def import_op(record: Mapping[str, Any], schema: str) -> Op[None]:
    """Write an exported session as it was (replacing one with the same key)."""
    session_id = record["session_id"]
    yield lock_key(schema, session_id)
    yield Stmt(
        "DELETE FROM sessions WHERE session_id = %s AND project_key = %s",
        (session_id, clean_text(record["project_key"])),
    )
    main = [entry for subpath, _, _, entry in record["entries"] if subpath == ""]
    tags = [tag for tag, _ in record["tags"]]
    row = yield Stmt(
        "INSERT INTO sessions (session_id, project_key, created_at, updated_at, mtime_ms, "
        "message_count, turns, total_cost, input_tokens, output_tokens, tags, description, "
        "model, project, first_prompt, title, git_branch, forked_from, fold_state, sdk_summary, "
        "body) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s::text[], %s, %s, %s, %s, %s, "
        "%s, %s, %s, %s, %s) "
        "RETURNING id",
        (
            session_id,
            clean_text(record["project_key"]),
            utc(record["created_at"]),
            utc(record["updated_at"]),
            record["mtime_ms"],
            record["message_count"],
            record["turns"],
            record["total_cost"],
            record["input_tokens"],
            record["output_tokens"],
            [clean_text(tag) for tag in tags],
            clean_text(record["description"]),
            clean_text(record["model"]),
            clean_text(record["project"]),
            clean_text(record["first_prompt"]),
            clean_text(record["title"]),
            clean_text(record["git_branch"]),
            clean_text(record["forked_from"]),
            _json_text(record["fold_state"]),
            _json_text(record["sdk_summary"]) if record["sdk_summary"] is not None else None,
            clean_text(entries_text(main)) or "",
        ),
        fetch="one",
    )
    ref = row["id"]
    if record["tags"]:
        yield Stmt(
            "INSERT INTO tags (session_ref, tag, source) "
            "SELECT %s, t.tag, t.source FROM unnest(%s::text[], %s::text[]) AS t(tag, source)",
            (ref, [clean_text(t) for t, _ in record["tags"]], [s for _, s in record["tags"]]),
        )
    by_subpath: dict[str, list[tuple[int, str | None, Entry]]] = {}
    for subpath, seq, uuid, entry in record["entries"]:
        by_subpath.setdefault(subpath, []).append((seq, uuid, entry))
    for subpath, rows in by_subpath.items():
        yield _insert_entries(ref, subpath, rows)
