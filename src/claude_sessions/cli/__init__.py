"""The ``claude-sessions`` command: a thin layer over the library.

``app`` holds the group; each other module adds its commands to it on import.
"""

from . import browse, demo, manage, migrate, prices, run, serve  # noqa: F401
from .app import cli, main

__all__ = ["cli", "main"]
