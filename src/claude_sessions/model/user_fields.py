"""What a user sets on a session (tags, a description, a project), checked the same way
for every database."""

from __future__ import annotations

from collections.abc import Iterable

from claude_sessions.model.exceptions import InvalidInputError


def user_text(value: str | None, what: str) -> str | None:
    """``value``, a field the user sets (a tag, a description...), unless it holds a NUL.

    SQLite would keep the NUL and PostgreSQL cannot (it would be U+FFFD there), so
    the field would differ between two copies of a store. Messages keep theirs:
    they are stored as JSON text where JSONB cannot hold them.
    """
    if value is not None and "\x00" in value:
        raise InvalidInputError(f"{what} cannot contain a NUL character (\\x00)")
    return value


def normalize_tags(tags: Iterable[str] | str | None) -> list[str]:
    """Tags as a sorted list without duplicates or blanks (a lone string is one tag)."""
    if tags is None:
        return []
    if isinstance(tags, str):
        tags = [tags]
    cleaned: set[str] = set()
    for tag in tags:
        if not isinstance(tag, str):
            raise TypeError(f"a tag is a string, not {type(tag).__name__}")
        tag = tag.strip()
        user_text(tag, f"the tag {tag!r}")
        if tag:
            cleaned.add(tag)
    return sorted(cleaned)
