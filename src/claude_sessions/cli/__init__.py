"""The ``claude-sessions`` command: a thin layer over the library.

``app`` holds the group; each other module adds its commands to it on import.
"""

from . import demo  # noqa: F401  (registers its commands)
from .app import cli, main

__all__ = ["cli", "main"]
