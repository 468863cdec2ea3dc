"""The ``claude-sessions`` command: a thin layer over the library.

``app`` holds the group; each other module adds its commands to it on import.
"""

from . import browse, demo, manage, mcp, migrate, prices, run  # noqa: F401  (register their commands)
from .app import cli, main

__all__ = ["cli", "main"]
