"""Entries as the store keeps them: exact JSON, idempotency keys and batch merging.

Pure functions shared by every database. An entry is one JSON object (a
stream-json message or a transcript line); the store keeps it so that what
comes back is deep-equal to what went in. What JSON cannot hold exactly is
refused with :class:`InvalidMessageError` instead of being altered: NaN and
infinities, values that are not JSON (sets, bytes, datetimes, objects),
non-string keys, and nesting deeper than :data:`MAX_DEPTH`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import orjson

from claude_sessions.model.exceptions import InvalidMessageError
from claude_sessions.model.message import Message

MAX_DEPTH = 255  # levels of objects and arrays; orjson's own limit
# The model Claude Code names on the messages it writes itself (no API request made them).
SYNTHETIC_MODEL = "<synthetic>"
# Values orjson would turn into strings silently go to _refuse instead.
_STRICT = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
_CONTAINERS = (dict, list, tuple)


def legacy_subagent_parent(name: str, first: Any) -> str | None:
    """The session a transcript named ``name`` belongs to when it is a subagent's that
    Claude Code 2.0 wrote beside the sessions (``<project>/agent-<id>.jsonl``): the one
    its ``first`` entry names, a subagent's (``isSidechain``) of another session."""
    if not name.startswith("agent-") or not isinstance(first, dict):
        return None
    parent = first.get("sessionId")
    if first.get("isSidechain") is True and isinstance(parent, str) and parent and parent != name:
        return parent
    return None


def as_entry(value: Any) -> dict[str, Any]:
    """A plain dict for a ``Message``, a mapping or an official SDK typed message."""
    if type(value) is dict:
        return value
    if isinstance(value, Message):
        return value.to_dict()
    if isinstance(value, Mapping):
        return dict(value)
    return Message.coerce(value).to_dict()


def _refuse(value: Any) -> Any:
    raise TypeError(f"Type is not JSON serializable: {type(value).__name__}")


def _check(entry: Any) -> None:
    """Raise InvalidMessageError for NaN, infinities or nesting past MAX_DEPTH."""
    stack: list[tuple[Any, int]] = [(entry, 1)]
    isfinite = math.isfinite
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise InvalidMessageError(f"a message is nested deeper than {MAX_DEPTH} levels")
        for child in value.values() if isinstance(value, dict) else value:
            kind = type(child)
            if kind is str or kind is int or kind is bool or child is None:
                continue
            if kind is dict or kind is list or isinstance(child, _CONTAINERS):
                stack.append((child, depth + 1))
            elif isinstance(child, float) and not isfinite(child):
                raise InvalidMessageError(f"a message holds {child!r}, which JSON cannot represent")


def encode_entry(entry: Mapping[str, Any], *, parsed: bool = False) -> str:
    """``entry`` as compact JSON text; raises :class:`InvalidMessageError` (see module).

    ``parsed``: the entry was just parsed from JSON text by orjson, which
    refuses NaN, so only the encoding itself can fail.
    """
    if not parsed:
        _check(entry)
    try:
        # orjson: the import's hot path; several times faster than json.dumps.
        return orjson.dumps(entry, default=_refuse, option=_STRICT).decode()
    except TypeError as error:
        reason = str(error)
    if "Recursion" in reason:
        raise InvalidMessageError(f"a message is nested deeper than {MAX_DEPTH} levels")
    if "serializable" in reason or "Dict key" in reason:
        raise InvalidMessageError(f"a message holds a value JSON cannot hold: {reason}")
    # What orjson refuses but JSON holds: integers past 64 bits, lone surrogates.
    # ensure_ascii escapes the surrogates, which UTF-8 text cannot carry.
    return json.dumps(entry, separators=(",", ":"), allow_nan=False)


def decode_entry(text: str | bytes) -> dict[str, Any]:
    try:
        value: dict[str, Any] = orjson.loads(text)
    except orjson.JSONDecodeError:  # integers past 64 bits, escaped lone surrogates
        value = json.loads(text)
    return value


def parsed(entry: dict[str, Any] | None, text: str) -> dict[str, Any]:
    """An entry held with its JSON text, parsed again if it came without (parsed in
    another process, see :class:`.imports.Prepared`)."""
    return entry if entry is not None else decode_entry(text)


def same_entry(left: Mapping[str, Any], right: Mapping[str, Any]) -> bool:
    """Deep equality that tells ``1`` from ``1.0`` and ``True`` (key order ignored)."""
    return _canonical(left) == _canonical(right)


def _canonical(entry: Mapping[str, Any]) -> bytes:
    try:
        return orjson.dumps(entry, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        return json.dumps(entry, sort_keys=True, separators=(",", ":")).encode()


def entry_uuid(entry: Mapping[str, Any]) -> str | None:
    value = entry.get("uuid")
    return value if isinstance(value, str) and value else None


def root_entry(entries: Iterable[Mapping[str, Any]]) -> dict[str, Any] | None:
    """A transcript's first entry with a uuid and a ``parentUuid``: the one a fork copies
    first (its key is ``sessions.root_key``)."""
    return next((dict(e) for e in entries if entry_uuid(e) and "parentUuid" in e), None)


def clean_text(text: str) -> str:
    """``text`` with lone surrogates replaced: databases store UTF-8 only."""
    if text.isascii():  # a flag Python keeps: no scan
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")
    return text


class NewEntry(NamedTuple):
    """An entry to insert: its position, idempotency key and JSON text."""

    seq: int
    key: str | None
    entry: dict[str, Any] | None  # None: parsed in another process (see imports.Prepared)
    text: str


@dataclass
class Merge:
    """How a batch lands on a stored transcript (see :func:`merge_upserts`)."""

    new: list[NewEntry]
    replaced: dict[str, str]  # key -> new JSON text of a stored entry that changed
    duplicates: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.replaced)


def merge_upserts(
    batch: Sequence[tuple[str | None, dict[str, Any], str]],
    stored: Mapping[str, dict[str, Any]],
    next_seq: int,
) -> Merge:
    """Merge ``(key, entry, text)`` items into a transcript holding ``stored`` (by key).

    A key already stored replaces that entry when the content differs (the
    official SDK's upsert contract) and is a duplicate otherwise; a key
    repeated inside the batch keeps its last content; entries without a key
    are appended. One exception keeps the fuller record: a transcript entry
    (it has ``parentUuid``) is never replaced by the CLI's stream-json echo
    of the same message (same uuid, no ``parentUuid``), which a run saved
    with ``store=`` brings after a hook captured the transcript.
    """
    merge = Merge(new=[], replaced={})
    pending: dict[str, int] = {}
    seq = next_seq
    for key, entry, text in batch:
        if key is not None and key in stored:
            kept = stored[key]
            if same_entry(kept, entry) or ("parentUuid" in kept and "parentUuid" not in entry):
                merge.duplicates += 1
            else:
                merge.replaced[key] = text
            continue
        if key is not None and key in pending:
            index = pending[key]
            merge.new[index] = NewEntry(merge.new[index].seq, key, entry, text)
            merge.duplicates += 1
            continue
        if key is not None:
            pending[key] = len(merge.new)
        merge.new.append(NewEntry(seq, key, entry, text))
        seq += 1
    return merge


def keyed(entries: Iterable[dict[str, Any]]) -> list[tuple[str | None, dict[str, Any], str]]:
    """``(uuid, entry, JSON text)`` for entries from a caller (checked, see module)."""
    return [(entry_uuid(entry), entry, encode_entry(entry)) for entry in entries]
