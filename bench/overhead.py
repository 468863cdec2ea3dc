"""What the library adds on top of running the CLI directly.

Both sides run the real bundled CLI against the fake Messages API with the
same arguments and stdin, alternating so that machine noise hits both alike.
Prints each median and the ratio library/bare (goal: under 1.03).

    python bench/overhead.py --runs 30
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from claude_sessions import Options, query
from claude_sessions.runs.run import build_invocation
from claude_sessions.testing import FakeMessagesAPI, offline_environment


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home, FakeMessagesAPI(["pong"]) as api:
        os.environ.update(offline_environment(api.url, home))
        project = Path(home, "project")
        project.mkdir()
        options = Options(cwd=project)
        invocation = build_invocation("ping", options)

        def bare() -> None:
            subprocess.run(
                invocation.argv,
                input=invocation.stdin,
                capture_output=True,
                cwd=invocation.cwd,
                check=True,
            )

        def library() -> None:
            messages = list(query("ping", options))
            assert messages[-1].is_result

        def timed(run: Callable[[], None]) -> float:
            started = time.perf_counter()
            run()
            return time.perf_counter() - started

        bare(), library()  # warm the CLI's caches
        bare_times, library_times, ratios = [], [], []
        for _ in range(args.runs):
            b, lib = timed(bare), timed(library)
            bare_times.append(b)
            library_times.append(lib)
            ratios.append(lib / b)
    print(f"runs: {args.runs}")
    print(f"bare CLI median:  {statistics.median(bare_times) * 1000:8.1f} ms")
    print(f"library median:   {statistics.median(library_times) * 1000:8.1f} ms")
    print(
        f"ratio of medians: {statistics.median(library_times) / statistics.median(bare_times):.3f}"
    )
    print(f"median of paired ratios: {statistics.median(ratios):.3f}  (goal < 1.03)")


if __name__ == "__main__":
    main()
