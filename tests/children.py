"""What tests that start real processes share (no tests here)."""

from __future__ import annotations

import signal


def default_sigint() -> None:
    """For ``preexec_fn``: a child that answers Ctrl-C even when the tests run where SIGINT
    is ignored (a shell's background job): Python turns SIGINT into KeyboardInterrupt only
    when it does not start with SIGINT ignored."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
