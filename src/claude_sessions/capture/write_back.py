"""A stored session written back as a Claude Code transcript, so the CLI can resume it.

The transcript goes where the CLI looks for it:
``<config>/projects/<project key>/<session id>.jsonl``, with its subagent
transcripts under ``<session id>/subagents/``. A session captured from the
CLI (hooks, ``watch``, ``import``) is written entry for entry, uuids and the
``parentUuid`` chain as they were. A session saved from stream-json runs
(``query(..., store=...)``) holds no transcript entries: its user and
assistant messages become entries chained in order, and a fork's history
starts with its origin's, up to the branch point.

Nothing on disk is lost: an existing transcript is replaced only with
``force``, and never when it holds entries the store lacks (it is then
longer than what we would write: import it first).
"""

from __future__ import annotations

import json
import os
import tempfile
import uuid as uuid_module
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from claude_sessions.capture.relocate import absolute, relocated
from claude_sessions.importer.discovery import claude_config_dir
from claude_sessions.model.exceptions import InvalidInputError, TranscriptExistsError
from claude_sessions.model.message import Message

if TYPE_CHECKING:
    from claude_sessions.store import SessionData, SessionStore

_MAX_FORK_DEPTH = 100


@dataclass(frozen=True)
class WrittenBack:
    """What :func:`write_back` wrote."""

    session_id: str
    path: Path
    entries: int
    subagents: list[Path] = field(default_factory=list)
    converted: bool = False  # written from stream-json messages, not transcript entries
    moved_from: str | None = None  # the project directory each entry's cwd was moved from

    def to_dict(self) -> dict[str, Any]:
        return {
            "session_id": self.session_id,
            "path": str(self.path),
            "entries": self.entries,
            "subagents": [str(p) for p in self.subagents],
            "converted": self.converted,
            "moved_from": self.moved_from,
        }


def _is_transcript_entry(entry: Mapping[str, Any]) -> bool:
    """A line of the CLI's transcript file, not of its stream-json output."""
    return "session_id" not in entry and entry.get("type") not in ("result", "stream_event")


def _captured(messages: Sequence[Message]) -> list[dict[str, Any]] | None:
    """The transcript entries of a captured session (``None``: it holds none)."""
    entries = [e for e in (m.to_dict() for m in messages) if _is_transcript_entry(e)]
    return entries if any("parentUuid" in e for e in entries) else None


def _converted(
    messages: Sequence[Message], session_id: str, started: datetime, parent: str | None
) -> list[dict[str, Any]]:
    """Stream-json user and assistant messages as chained transcript entries."""
    cwd, version = None, None
    entries: list[dict[str, Any]] = []
    for message in messages:
        data = message.to_dict()
        kind = data.get("type")
        if kind == "system" and data.get("subtype") == "init":
            cwd = data.get("cwd") or cwd
            version = data.get("claude_code_version") or version
        # Only the conversation: the CLI rebuilds system, result and event lines itself.
        if kind not in ("user", "assistant") or not isinstance(data.get("message"), dict):
            continue
        stamp = started + timedelta(milliseconds=len(entries))
        entry: dict[str, Any] = {
            "parentUuid": parent,
            "isSidechain": False,
            "type": kind,
            "message": data["message"],
            "uuid": message.uuid or str(uuid_module.uuid4()),
            "timestamp": stamp.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
            "userType": "external",
            "sessionId": session_id,
        }
        if cwd:
            entry["cwd"] = cwd
        if version:
            entry["version"] = version
        entries.append(entry)
        parent = entry["uuid"]
    return entries


def transcript_entries(
    store: SessionStore, session: SessionData
) -> tuple[list[dict[str, Any]], bool]:
    """The entries a transcript of ``session`` holds, and whether they were converted."""
    captured = _captured(session.messages)
    if captured is not None:
        return captured, False
    return _history(store, session, seen=set()), True


def _history(store: SessionStore, session: SessionData, seen: set[str]) -> list[dict[str, Any]]:
    """A stream-json session's entries, after its origin's (a fork shows the model both)."""
    meta = session.metadata
    seen.add(session.session_id)
    before: list[dict[str, Any]] = []
    origin = meta.forked_from
    if origin and origin not in seen and len(seen) < _MAX_FORK_DEPTH:
        stored = store.get_session(origin)
        if stored is not None:
            captured = _captured(stored.messages)
            before = captured if captured is not None else _history(store, stored, seen)
            before = [e for e in before if e.get("type") in ("user", "assistant")]
            if meta.forked_at:
                cut = next(
                    (i for i, e in enumerate(before) if e.get("uuid") == meta.forked_at), None
                )
                before = before[: cut + 1] if cut is not None else before
            before = _chained(before, session.session_id)
    parent = before[-1]["uuid"] if before else None
    own = _converted(session.messages, session.session_id, meta.created_at, parent)
    return before + own


def _chained(entries: list[dict[str, Any]], session_id: str) -> list[dict[str, Any]]:
    """``entries`` as one chain, each the child of the one before, in ``session_id``."""
    chained, parent = [], None
    for entry in entries:
        chained.append({**entry, "parentUuid": parent, "sessionId": session_id})
        parent = entry.get("uuid")
    return chained


def _recorded_directory(session: SessionData, entries: list[dict[str, Any]]) -> str | None:
    """The project directory the session ran in, as recorded."""
    if session.metadata.project:
        return session.metadata.project
    return next((e["cwd"] for e in entries if isinstance(e.get("cwd"), str) and e["cwd"]), None)


def _moved(
    planned: list[tuple[Path, list[dict[str, Any]]]], old: str | None, new: str | None
) -> list[tuple[Path, list[dict[str, Any]]]]:
    """``planned`` with each entry's ``cwd`` moved from ``old`` to ``new`` (both given)."""
    if old is None or new is None or old == new:
        return planned
    return [(path, [relocated(e, old, new) for e in entries]) for path, entries in planned]


def _project_key(session: SessionData, cwd: str | None) -> str:
    if cwd is None and session.metadata.project_key:
        return session.metadata.project_key
    directory = cwd or session.metadata.project
    if not directory:
        raise InvalidInputError(
            f"session {session.session_id} has no working directory on record; "
            "name the directory it belongs to (cwd=..., --cwd)"
        )
    from claude_agent_sdk import project_key_for_directory  # the CLI's own folder naming

    return project_key_for_directory(directory)


def _safe_subpath(subpath: str) -> PurePosixPath:
    """A stored subagent path as a relative path that stays inside the session folder."""
    path = PurePosixPath(subpath)
    if (
        not subpath
        or "\x00" in subpath
        or "\\" in subpath
        or path.is_absolute()
        or any(part in ("", ".", "..") for part in subpath.split("/"))
    ):
        raise InvalidInputError(f"unsafe subagent path {subpath!r} in the store")
    return path


def _uuids(entries: Iterable[Mapping[str, Any]]) -> set[str]:
    return {e["uuid"] for e in entries if isinstance(e.get("uuid"), str)}


def _check_existing(path: Path, entries: list[dict[str, Any]], force: bool) -> None:
    if not path.exists():
        return
    if not force:
        raise TranscriptExistsError(
            f"{path} exists; write it back with force to replace it", path=str(path)
        )
    lines, uuids = 0, set()
    with path.open(encoding="utf-8", errors="replace") as existing:
        for line in existing:
            if not line.strip():
                continue
            lines += 1
            try:
                data = json.loads(line)
            except ValueError:
                continue
            if isinstance(data, dict) and isinstance(data.get("uuid"), str):
                uuids.add(data["uuid"])
    missing = uuids - _uuids(entries)
    if lines > len(entries) or missing:
        raise TranscriptExistsError(
            f"{path} holds {lines} entries ({len(missing)} the store lacks), more than the "
            f"{len(entries)} it would get; kept as it is (import it first)",
            path=str(path),
        )


def _write_jsonl(path: Path, entries: Iterable[Mapping[str, Any]]) -> None:
    """Write atomically (a temporary file renamed over), private like the CLI's own files."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=path.name + ".", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            for entry in entries:
                out.write(json.dumps(entry, ensure_ascii=False, separators=(",", ":")) + "\n")
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def write_back(
    store: SessionStore,
    session_id: str,
    *,
    config_dir: str | os.PathLike[str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    force: bool = False,
) -> WrittenBack:
    """Write ``session_id`` from ``store`` back as a transcript the CLI resumes.

    ``config_dir``: the CLI's configuration directory (default:
    ``$CLAUDE_CONFIG_DIR`` or ``~/.claude``). ``cwd`` overrides the
    session's recorded working directory (the CLI looks a session up under
    the directory it runs in): the transcript goes to that directory's project
    folder, and each entry's ``cwd`` moves there from the recorded directory (a
    project that lives elsewhere on this machine). Raises :class:`SessionNotFoundError`,
    :class:`TranscriptExistsError` (a transcript is there: ``force``
    replaces it unless it is longer) or :class:`InvalidInputError`.
    """
    session = store.load_session(session_id, subagents=True)
    entries, converted = transcript_entries(store, session)
    if not entries:
        raise InvalidInputError(f"session {session_id} holds no conversation to write back")
    root = Path(config_dir).expanduser() if config_dir is not None else claude_config_dir()
    here = absolute(cwd) if cwd is not None else None
    key = _project_key(session, here)
    project = root / "projects" / key
    main = project / f"{session.session_id}.jsonl"
    planned = [(main, entries)]
    for subpath, messages in sorted(session.subagents.items()):
        relative = _safe_subpath(subpath)
        sub_entries = [m.to_dict() for m in messages if m.get("type") != "agent_metadata"]
        if sub_entries:
            planned.append((project / session.session_id / f"{relative}.jsonl", sub_entries))
    moved_from = _recorded_directory(session, entries) if here is not None else None
    planned = _moved(planned, moved_from, here)
    for path, planned_entries in planned:
        _check_existing(path, planned_entries, force)
    for path, planned_entries in planned:
        _write_jsonl(path, planned_entries)
    return WrittenBack(
        session.session_id,
        main,
        len(entries),
        [path for path, _ in planned[1:]],
        converted,
        moved_from if moved_from != here else None,
    )
