"""A team server's ingest: a batch of one session's transcript entries, sent by a laptop.

The entries land by the import's rules (:func:`.imports.land_lines`): idempotent by
entry uuid, a uuid already stored with other content keeps both (a conflict, the stored
entry unchanged). An entry's place among its transcript's lines is what an import keys
by its byte offset; a batch names that offset for the entries without a uuid when
the laptop knows it (``places``), else the key is made of the entry's exact JSON: such
an entry sent twice is one entry. The whole batch is one
transaction, and a session of another user, or one in the trash, is refused before
anything is written. The batch's ``cwd`` is checked but not kept: a session's directory
comes from its entries, as an import's does.
A session the batch creates is the sending user's, on the machine the batch names.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from typing import Any

from claude_sessions.model.entries import encode_entry
from claude_sessions.model.exceptions import IngestRefusedError, InvalidInputError
from claude_sessions.model.identity import Identity, User
from claude_sessions.model.ids import validate_session_id
from claude_sessions.model.preparing import Line
from claude_sessions.model.redaction import redact_entry
from claude_sessions.model.team_wire import (
    ANOTHER_USERS,
    Conflict,
    IngestBatch,
    IngestFile,
    IngestReport,
)
from claude_sessions.store.dialect import Dialect
from claude_sessions.store.imports import TranscriptLines, land_lines, session_state
from claude_sessions.store.plan import Op, Stmt, Txn, single
from claude_sessions.store.redacting import record_redaction, redaction_policy
from claude_sessions.store.search_index import update_search_index
from claude_sessions.store.session_store import SessionStore
from claude_sessions.store.writes import counted

INGESTED_TAG = "imported"  # what an import of the same transcript tags its session with
MAX_MACHINE_CHARS = 200
_FILE_KEYS = {"subpath", "entries", "places"}


# -- a batch from its JSON ----------------------------------------------------------------


def _text(value: Any, what: str, *, empty: bool = True) -> str:
    if not isinstance(value, str) or "\x00" in value or (not empty and not value.strip()):
        raise InvalidInputError(f"{what} must be a{' non-empty' if not empty else ''} string")
    return value


def _subpath(value: Any) -> str:
    subpath = _text(value, "a file's subpath")
    parts = subpath.split("/")
    if subpath and (subpath.startswith("/") or "\\" in subpath or {"", ".", ".."} & set(parts)):
        raise InvalidInputError(f"a file's subpath must be a relative path: {subpath!r}")
    return subpath


def _places(value: Any, entries: list[Any]) -> list[int | None] | None:
    if value is None:
        return None
    if not isinstance(value, list) or len(value) != len(entries):
        raise InvalidInputError("a file's places must be a list as long as its entries")
    if not all(one is None or (type(one) is int and 0 <= one < 2**53) for one in value):
        raise InvalidInputError("a file's places must be byte offsets or null")
    return value


def _file(value: Any) -> IngestFile:
    if not isinstance(value, dict) or not {"subpath", "entries"} <= set(value) <= _FILE_KEYS:
        raise InvalidInputError("each file must be an object with subpath and entries")
    entries = value["entries"]
    if not isinstance(entries, list) or not all(type(one) is dict for one in entries):
        raise InvalidInputError("a file's entries must be a list of JSON objects")
    return IngestFile(_subpath(value["subpath"]), entries, _places(value.get("places"), entries))


def batch_from_json(value: Any) -> IngestBatch:
    """The batch a request's JSON body holds; :class:`InvalidInputError` saying what is
    wrong with it otherwise."""
    fields = {"session_id", "project_key", "cwd", "machine", "files"}
    if not isinstance(value, dict) or not fields <= set(value):
        raise InvalidInputError(f"the body must be an object with {', '.join(sorted(fields))}")
    cwd = value["cwd"]
    if cwd is not None:
        _text(cwd, "cwd")
    machine = _text(value["machine"], "machine", empty=False).strip()
    if len(machine) > MAX_MACHINE_CHARS or not machine.isprintable():
        raise InvalidInputError(f"machine must be printable, at most {MAX_MACHINE_CHARS} chars")
    files = value["files"]
    if not isinstance(files, list):
        raise InvalidInputError("files must be a list")
    return IngestBatch(
        validate_session_id(value["session_id"]),
        _text(value["project_key"], "project_key"),
        cwd,
        machine,
        [_file(one) for one in files],
    )


# -- storing it ---------------------------------------------------------------------------


def _line(entry: dict[str, Any], place: int | None) -> Line:
    """An entry as an imported line, placed where the laptop read it, else by its exact
    JSON (see the module docstring)."""
    text = encode_entry(entry)
    if place is None:
        digest = hashlib.sha1(text.encode(), usedforsecurity=False).digest()
        place = int.from_bytes(digest[:7], "big")
    uuid = entry.get("uuid")
    return Line(place, entry, text, uuid if type(uuid) is str and uuid else None)


def _may_write(d: Dialect, batch: IngestBatch, user: User) -> Op[None]:
    """Refuse a session with this id that another user stored (under any project key, in
    the trash too), and one in the trash: an import leaves that be, and so does this."""
    rows = yield Stmt(
        d.sql("SELECT DISTINCT user_name FROM sessions WHERE session_id = ?"),
        (d.text(batch.session_id),),
        "all",
    )
    if any(row["user_name"] != user.session_user for row in rows):
        raise IngestRefusedError(f"session {batch.session_id} {ANOTHER_USERS}")
    state = yield from session_state(d, batch.session_id, batch.project_key)
    if state == "trashed":
        raise IngestRefusedError(f"session {batch.session_id} is in the server's trash")


def _ingest(d: Dialect, batch: IngestBatch, user: User, now: float) -> Op[IngestReport]:
    yield from d.lock(batch.session_id)
    yield from _may_write(d, batch, user)
    who = Identity(user.session_user, batch.machine)
    stored = duplicates = 0
    conflicts: list[Conflict] = []
    for one in batch.files:
        places = one.places if one.places is not None else [None] * len(one.entries)
        lines = [_line(entry, place) for entry, place in zip(one.entries, places, strict=True)]
        transcript = TranscriptLines(batch.session_id, batch.project_key, one.subpath, lines)
        landed = yield from land_lines(d, transcript, tag=INGESTED_TAG, now=now, who=lambda: who)
        stored, duplicates = stored + landed.stored, duplicates + landed.duplicates
        conflicts += [
            Conflict(one.subpath, line.uuid)
            for line in lines
            if line.uuid is not None and f"{line.uuid}@{line.offset}" in landed.apart
        ]
    return IngestReport(batch.session_id, stored, duplicates, tuple(conflicts))


def _redacted(batch: IngestBatch) -> tuple[IngestBatch, set[str]]:
    """``batch`` with the secrets of its entries redacted, and the rules that found some."""
    rules: set[str] = set()
    files = []
    for one in batch.files:
        entries = []
        for entry in one.entries:
            done = redact_entry(entry, subagent=bool(one.subpath))
            entries.append(dict(done.value))
            rules.update(done.rules)
        files.append(replace(one, entries=entries))
    return replace(batch, files=tuple(files)), rules


def ingest(store: SessionStore, batch: IngestBatch, user: User) -> IngestReport:
    """Store ``batch`` as ``user`` sent it, in one transaction; :class:`IngestRefusedError`
    (nothing stored) when the session is another user's. Under the store's
    redact-on-capture policy, secrets are redacted before anything is stored, as an
    import or a capture into the store would."""
    core = store.core
    d, now = core.d, core.now()
    rules: set[str] = set()
    if redaction_policy(store):
        batch, rules = _redacted(batch)
    report = store.run(single(Txn(lambda: counted(d, _ingest(d, batch, user, now)), write=True)))
    record_redaction(store, {batch.session_id: rules})
    # A batch is a few turns: their tool text is searchable at once (SQLite's side index),
    # as a capture's is, not when an indexer next runs.
    update_search_index(store, session_ids=[batch.session_id])
    return report
