"""What a file-editing tool call did, read as a change: ``Edit``, ``MultiEdit``, ``Write``.

An ``Edit`` or ``MultiEdit`` is a unified diff of the text it replaced by the text it put
in. A ``Write`` over a file that existed is a diff against the content the session last
knew of it (an earlier ``Write``, with the edits after it applied); a ``Write`` that made a
new file, or one over a file whose earlier content the session never held, is its content,
with the language its name implies, for highlighting.

Whether a ``Write`` made a file is what its result says (Claude Code answers "File created
successfully at: ..." or "The file ... has been updated"); with no such result, a file the
session never read, edited or wrote before counts as new.

A :class:`ChangeTracker` sees a transcript's calls in order, so it knows what each one
changed from.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

EDIT_TOOLS = frozenset({"Edit", "MultiEdit", "Write"})
# Calls after which the session has seen a file (so a later Write replaces it).
_SEEING_TOOLS = frozenset({"Read", *EDIT_TOOLS})
_CREATED = "File created successfully"
_UPDATED = "has been updated"


@dataclass(frozen=True)
class FileChange:
    """One call's change to one file: a unified ``diff``, or the whole ``content`` written
    (``created``: the file was new)."""

    path: str
    diff: str = ""
    content: str | None = None
    created: bool = False
    language: str = ""  # a Pygments lexer name, "" when the file name says none


@lru_cache(maxsize=256)
def language_of(path: str) -> str:
    """The Pygments lexer name a file name implies ("" when none does)."""
    # Pygments' lexer table loads with the first file shown: a listing never needs it.
    from pygments.lexers import get_lexer_for_filename
    from pygments.util import ClassNotFound

    try:
        lexer = get_lexer_for_filename(path.rsplit("/", 1)[-1] or path)
    except ClassNotFound:
        return ""
    return str(lexer.aliases[0]) if lexer.aliases else ""


def unified_diff(path: str, before: str, after: str) -> str:
    """The unified diff of ``before`` to ``after`` in ``path`` ("" when they are equal)."""
    import difflib  # only a session with edits shows a diff: show loads it then

    lines = difflib.unified_diff(before.splitlines(), after.splitlines(), path, path, lineterm="")
    return "\n".join(lines)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _edits(name: str, arguments: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    if name == "Edit":
        return [arguments]
    edits = arguments.get("edits")
    return [edit for edit in edits if isinstance(edit, Mapping)] if isinstance(edits, list) else []


def _applied(content: str, edit: Mapping[str, Any]) -> str | None:
    """``content`` with ``edit`` made, as Claude Code makes it; ``None`` if it cannot be."""
    old, new = _text(edit.get("old_string")), _text(edit.get("new_string"))
    if not old or old not in content:
        return None
    return content.replace(old, new, -1 if edit.get("replace_all") is True else 1)


class ChangeTracker:
    """The changes of one transcript's calls, seen in the order they were made."""

    def __init__(self) -> None:
        self.seen: set[str] = set()
        self.known: dict[str, str] = {}  # a file's content, as far as the session shows it

    def see(self, name: str, arguments: Any, result: str | None, failed: bool) -> FileChange | None:
        """The change of a call of tool ``name``, or ``None`` for a call that edits nothing;
        ``result``: its result's text, ``None`` while it has none."""
        if not isinstance(arguments, Mapping) or not _text(arguments.get("file_path")):
            return None
        path = arguments["file_path"]
        seen_before = path in self.seen
        if name in _SEEING_TOOLS:
            self.seen.add(path)
        if name == "Write":
            return self._write(path, _text(arguments.get("content")), result, failed, seen_before)
        if name in ("Edit", "MultiEdit"):
            return self._edit(path, _edits(name, arguments), failed)
        return None

    def _write(
        self, path: str, content: str, result: str | None, failed: bool, seen_before: bool
    ) -> FileChange:
        said = result or ""
        created = _CREATED in said or (_UPDATED not in said and not seen_before)
        before = None if created else self.known.get(path)
        if not failed:
            self.known[path] = content
        if before is None:
            return FileChange(path, content=content, created=created, language=language_of(path))
        return FileChange(path, diff=unified_diff(path, before, content))

    def _edit(self, path: str, edits: list[Mapping[str, Any]], failed: bool) -> FileChange | None:
        hunks = [
            unified_diff(path, _text(e.get("old_string")), _text(e.get("new_string")))
            for e in edits
        ]
        # Each edit's diff names the file; the first one's header is enough.
        present = [hunk for hunk in hunks if hunk]
        shown = [h if i == 0 else h.split("\n", 2)[-1] for i, h in enumerate(present)]
        if not failed and path in self.known:
            self._apply(path, edits)
        return FileChange(path, diff="\n".join(shown)) if shown else None

    def _apply(self, path: str, edits: list[Mapping[str, Any]]) -> None:
        content: str | None = self.known.pop(path)
        for edit in edits:
            content = _applied(content, edit) if content is not None else None
        if content is not None:
            self.known[path] = content


def change_heading(name: str, change: FileChange) -> str:
    """``Edit: path``, ``Write (new file): path``, ...: what a change is, for a heading."""
    if change.created:
        return f"{name} (new file): {change.path}"
    if change.content is not None:
        return f"{name}: {change.path} (replaced; its earlier content is not in this session)"
    if not change.diff:
        return f"{name}: {change.path} (no change)"
    return f"{name}: {change.path}"


def diff_line_kind(line: str) -> str:
    """What a line of a unified diff is: ``file``, ``hunk``, ``added``, ``removed`` or
    ``context``."""
    if line.startswith(("--- ", "+++ ")):
        return "file"
    if line.startswith("@@"):
        return "hunk"
    return {"+": "added", "-": "removed"}.get(line[:1], "context")
