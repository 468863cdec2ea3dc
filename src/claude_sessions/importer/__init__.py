"""Import the Claude Code CLI's own transcripts into a session store.

The importer itself is :mod:`.importing`; where transcripts live is
:mod:`.discovery`, how captures and imports hand a transcript over to one
another :mod:`.handover`. The names below load on first use, so a capture
hook that only asks where Claude Code keeps its files loads no importer.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from claude_sessions.importer.discovery import (
        claude_config_dir,
        default_projects_dir,
        discover,
    )
    from claude_sessions.importer.identify import TranscriptFile
    from claude_sessions.importer.importing import (
        import_found,
        import_session_files,
        import_transcripts,
        source_name,
    )
    from claude_sessions.importer.reading import KNOWN_ENTRY_TYPES, ImportProgress, ImportReport

_HOME = {
    **dict.fromkeys(["claude_config_dir", "default_projects_dir", "discover"], "discovery"),
    "TranscriptFile": "identify",
    **dict.fromkeys(
        ["import_found", "import_session_files", "import_transcripts", "source_name"], "importing"
    ),
    **dict.fromkeys(["KNOWN_ENTRY_TYPES", "ImportProgress", "ImportReport"], "reading"),
}

__all__ = [
    "KNOWN_ENTRY_TYPES",
    "ImportProgress",
    "ImportReport",
    "TranscriptFile",
    "claude_config_dir",
    "default_projects_dir",
    "discover",
    "import_found",
    "import_session_files",
    "import_transcripts",
    "source_name",
]


def __getattr__(name: str) -> Any:
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
