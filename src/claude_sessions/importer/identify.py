"""What a ``.jsonl`` file found on disk is: a session's transcript, a subagent's, or neither.

The CLI names a session's transcript after the session (a UUID) and keeps its
subagents' transcripts under ``<session>/subagents/``; Claude Code 2.0 wrote
them beside the session instead, as ``<project>/agent-<id>.jsonl``, each line
naming its parent in ``sessionId`` (with ``isSidechain: true``). A file is
known by its place and name where that says enough; only an ``agent-*`` file
beside the sessions, or a name the CLI never gives a session, is opened, and
only its first line read. A ``.jsonl.gz`` file is read as the text it packs.
"""

from __future__ import annotations

import io
import json
import re
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

import orjson

from claude_sessions.model.entries import legacy_subagent_parent

SUFFIXES = (".jsonl", ".jsonl.gz")
# The longest first line read to tell what a file is (a subagent's first line is its
# prompt): a file whose first line is longer is taken for what its name says.
FIRST_LINE_BYTES = 8 * 1024 * 1024
_SESSION_NAME = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")


@dataclass(frozen=True)
class TranscriptFile:
    """One transcript on disk and where it goes in the store."""

    path: Path
    session_id: str
    project_key: str
    subpath: str | None = None  # "subagents/.../agent-<id>" for a subagent transcript
    beside: bool = False  # a subagent transcript beside its session's (Claude Code 2.0)

    @property
    def claimed_as(self) -> Path:
        """The file whose claim covers this one (see :mod:`.handover`): a session's main
        transcript for it and its ``subagents`` folder (the file a hook names); a
        transcript beside its session's is claimed by itself (a hook names it too)."""
        if self.subpath is None or self.beside:
            return self.path
        session_dir = self.path.parents[self.subpath.count("/")]  # above "subagents/.../agent"
        return session_dir.parent / f"{session_dir.name}.jsonl"


def stem(name: str) -> str | None:
    """A transcript's name without its suffix; ``None`` for a file that is no transcript."""
    for suffix in SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return None


def is_packed(path: Path) -> bool:
    """Whether ``path`` is a gzip-compressed transcript (read as the text it packs)."""
    return path.name.endswith(".gz")


def text_size(path: Path, size: int) -> int:
    """The bytes of text a transcript of ``size`` bytes on disk holds: a ``.gz`` file's
    last four bytes say (modulo 4 GiB, which only a progress bar would notice)."""
    if not is_packed(path) or size < 18:  # a gzip header and trailer take 18 bytes
        return size
    with path.open("rb") as handle:
        handle.seek(size - 4)
        return int.from_bytes(handle.read(4), "little")


def open_text(path: Path, buffering: int = io.DEFAULT_BUFFER_SIZE) -> BinaryIO:
    """A transcript's bytes: a ``.jsonl.gz`` file's uncompressed."""
    if is_packed(path):
        import gzip

        return io.BufferedReader(gzip.GzipFile(path, "rb"), buffering)
    return path.open("rb", buffering=buffering)


def identify(path: Path, skipped: list[str]) -> TranscriptFile | None:
    """What ``path`` (a ``.jsonl`` or ``.jsonl.gz`` file) holds, and where it goes in the
    store; ``None`` when it is no transcript (named in ``skipped`` with why)."""
    name = stem(path.name)
    if name is None:
        return None
    parts = path.parts
    if "subagents" in parts[:-1]:  # <session>/subagents/[.../]agent-<id>.jsonl
        at = len(parts) - 1 - parts[::-1].index("subagents")
        session_dir = Path(*parts[:at])
        subpath = Path("subagents", *parts[at + 1 : -1], name).as_posix()
        return TranscriptFile(path, session_dir.name, session_dir.parent.name, subpath)
    if _SESSION_NAME.fullmatch(name):
        return TranscriptFile(path, name, path.parent.name)
    try:
        first = _first_entry(path)
    except (OSError, EOFError, zlib.error) as error:  # a .gz file's damage is one of these
        skipped.append(f"{path}: unreadable ({_why(error)})")
        return None
    parent = legacy_subagent_parent(name, first)
    if parent is not None:
        return TranscriptFile(path, parent, path.parent.name, f"subagents/{name}", beside=True)
    why = _not_an_entry(first)
    if why is not None:
        skipped.append(f"{path}: not a transcript ({why})")
        return None
    return TranscriptFile(path, name, path.parent.name)


class _Unparsed(NamedTuple):
    """A first line that was not parsed: too long to look into, or not JSON."""

    why: str | None  # None: too long, taken for what the file's name says


def _first_entry(path: Path) -> Any:
    """The first non-blank line of ``path``, parsed; ``None`` when the file has none,
    an :class:`_Unparsed` when it is longer than :data:`FIRST_LINE_BYTES` or not JSON."""
    with open_text(path) as handle:
        while line := handle.readline(FIRST_LINE_BYTES + 1):
            if len(line) > FIRST_LINE_BYTES:
                return _Unparsed(None)
            if line.strip():
                return _parsed(line)
    return None


def _parsed(line: bytes) -> Any:
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError:  # what the import repairs or reads with care, too
        try:
            return json.loads(line.decode("utf-8", "replace"))
        except (ValueError, RecursionError):
            return _Unparsed("its first line is not JSON")


def _not_an_entry(first: Any) -> str | None:
    """Why a first line is not a transcript's entry (a JSON object with a type), if it is not."""
    if isinstance(first, _Unparsed):
        return first.why
    if first is None:
        return "it has no line"
    if not isinstance(first, dict):
        return "its first line is not a JSON object"
    if not isinstance(first.get("type"), str):
        return "its first line has no entry type"
    return None


def _why(error: BaseException) -> str:
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return str(error) or type(error).__name__
