"""A path inside a directory that moved: where it is now."""

from __future__ import annotations

from typing import Any


def rebased(path: Any, old: str, new: str) -> str | None:
    """``path`` moved from ``old`` to ``new`` when it is ``old`` or inside it, else ``None``."""
    if not isinstance(path, str):
        return None
    if path == old:
        return new
    prefix = old.rstrip("/") + "/"
    return new.rstrip("/") + "/" + path[len(prefix) :] if path.startswith(prefix) else None
