"""Keeping the CLI's life inside ours: its own process group, and death with its parent.

The CLI starts in a new session, so it leads a process group of its own and
stopping it can signal the whole group, which also reaches the tools and MCP
servers it started. One consequence: the terminal's Ctrl-C now reaches only
the Python process, so it is the drivers' cleanup (run as KeyboardInterrupt
unwinds them) that stops the CLI.

On Linux the CLI also asks the kernel, between fork and exec, for SIGKILL when
its parent goes away (``PR_SET_PDEATHSIG``): a Python process that dies without
running its cleanup (SIGKILL, or SIGTERM with no handler) leaves no CLI behind.
The kernel ties this to the *thread* that started the CLI, so a run should be
iterated by a thread that outlives it (the usual case: the main thread, an
event loop's thread, or a pool's worker).

POSIX only, like the rest of the process handling.
"""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import sys
from collections.abc import Callable
from typing import Any

_PR_SET_PDEATHSIG = 1
_SIGKILL = int(signal.SIGKILL)


def spawn_options() -> dict[str, Any]:
    """Keyword arguments for ``subprocess.Popen`` and ``asyncio.create_subprocess_exec``."""
    options: dict[str, Any] = {"start_new_session": True}
    prctl = _prctl()
    if prctl is not None:
        options["preexec_fn"] = functools.partial(_die_with_parent, prctl, os.getpid())
    return options


def signal_group(leader: int, sig: int) -> None:
    """Send ``sig`` to the process group ``leader`` started (gone already: nothing to do).

    Safe after the leader was reaped: the kernel does not reuse a process id
    while a group of that id still has members.
    """
    with contextlib.suppress(ProcessLookupError):
        os.killpg(leader, sig)


@functools.lru_cache(maxsize=1)
def _prctl() -> Callable[..., int] | None:
    """libc's ``prctl``, looked up here in the parent: the child must not load anything."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes  # here, not at the top: only runs pay for it, not every command's start-up

    try:
        prctl: Callable[..., int] = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    return prctl


def _die_with_parent(prctl: Callable[..., int], parent: int) -> None:
    """Runs in the child before exec, so it stays tiny: no imports, no locks."""
    prctl(_PR_SET_PDEATHSIG, _SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)
