"""The ``claude-sessions`` command: a thin layer over the library.

``app`` holds the group, which imports each command's module when that command
runs (see ``app.COMMANDS``).
"""

from claude_sessions.cli.app import cli, main

__all__ = ["cli", "main"]
