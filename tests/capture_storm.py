"""A storm of captures: many ``hooks capture`` processes and a few imports at once, on one
transcript that a writer process keeps appending to, as real processes.

Used by ``tests/test_capture_handover.py``; run it by hand for figures::

    python -m tests.capture_storm [STORE] [SPACING] [FIRST_TURNS]
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

SESSION = "33333333-2222-4333-8444-555555555555"

# Writes FIRST turns (12 lines each, each line written whole) and touches READY, then
# appends a turn every INTERVAL seconds until the file STOP exists, then one last turn.
_WRITER = """
import json, os, sys, time, uuid
path, stop, session, interval = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
first, ready = int(sys.argv[5]), sys.argv[6]
turn, parent = 1, None
def one_turn():
    global turn, parent
    with open(path, "a", encoding="utf-8") as out:
        for n in range(12):
            entry = {"parentUuid": parent, "type": "assistant" if n == 11 else "user",
                     "uuid": str(uuid.uuid4()), "sessionId": session, "cwd": "/repo",
                     "timestamp": "2026-11-25T10:00:00.000Z",
                     "message": {"role": "user", "content": f"turn {turn} line {n} " + "x" * 400}}
            parent = entry["uuid"]
            out.write(json.dumps(entry) + "\\n")
            out.flush()
    turn += 1
for _ in range(first):
    one_turn()
open(ready, "w").close()
while not os.path.exists(stop):
    one_turn()
    time.sleep(interval)
one_turn()
"""


class Run(NamedTuple):
    """One process: its name in the capture log (a capture's), its wall time and the
    processor time it used, in seconds."""

    label: str
    wall: float
    cpu: float


@dataclass
class Storm:
    """What a storm did: each capture's and import's times, and the transcript."""

    transcript: Path
    captures: list[Run] = field(default_factory=list)
    imports: list[Run] = field(default_factory=list)
    floors: list[Run] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def line(self) -> str:
        def median(runs: list[Run], what: str) -> str:
            return f"{statistics.median(getattr(run, what) for run in runs):.2f} s"

        walls = sorted(run.wall for run in self.captures)
        return (
            f"{len(walls)} captures: median {median(self.captures, 'wall')} "
            f"(processor {median(self.captures, 'cpu')}), max {walls[-1]:.2f} s; "
            f"{len(self.imports)} imports: median {median(self.imports, 'wall')}"
            + (f"; floor: median {median(self.floors, 'wall')}" if self.floors else "")
        )


def transcript_uuids(path: Path) -> list[str]:
    """The uuid of every non-blank line of ``path``, read as plain JSON."""
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line)["uuid"] for line in lines if line.strip()]


def timed(label: str, argv: list[str], stdin: bytes, env: dict[str, str], storm: Storm,
          runs: list[Run]) -> None:  # fmt: skip
    """Run a process to its end, timing it (os.wait4: its own processor time)."""
    with tempfile.TemporaryFile() as errors:
        started = time.perf_counter()
        process = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=errors, env=env
        )
        assert process.stdin is not None
        process.stdin.write(stdin)
        process.stdin.close()
        _, status, usage = os.wait4(process.pid, 0)
        runs.append(Run(label, time.perf_counter() - started, usage.ru_utime + usage.ru_stime))
        process.returncode = code = os.waitstatus_to_exitcode(status)
        if code != 0:
            errors.seek(0)
            storm.failures.append(f"{label}: exit {code}: {errors.read()[-300:]!r}")


def storm(
    store: str,
    config_dir: Path,
    *,
    env: dict[str, str] | None = None,
    captures: int = 20,
    imports: int = 3,
    spacing: float = 0.05,
    after_writer: int = 3,
    first_turns: int = 400,
    floors: Path | None = None,
) -> Storm:
    """Start a writer (``first_turns`` turns at once, then one every 20 ms), then
    ``captures`` captures (the hook's input names each ``capture-NN``) and ``imports``
    imports, ``spacing`` seconds apart, the last ``after_writer`` captures once the
    writer has written its last line (a session's last hooks come after its last
    turn); wait for all. ``env``: added to this process's environment.

    ``floors``: beside each capture, start the same command on an input naming no
    transcript (with this store folder), which starts the same and does nothing: how
    long a capture takes on this machine, now, before it does anything."""
    transcript = config_dir / "projects" / "-repo" / f"{SESSION}.jsonl"
    transcript.parent.mkdir(parents=True, exist_ok=True)
    stop, ready = config_dir / "writer.stop", config_dir / "writer.ready"
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    environment.update(CLAUDE_CONFIG_DIR=str(config_dir), CLAUDE_SESSIONS_CLEANUP_DAYS="never")
    environment.update(env or {})
    writer = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(transcript), str(stop), SESSION, "0.02",
         str(first_turns), str(ready)],
        env=environment,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not ready.exists() and time.monotonic() < deadline:  # its first turns are there
        time.sleep(0.01)
    tool = [sys.executable, "-m", "claude_sessions"]
    result = Storm(transcript)
    order = [f"capture-{n:02d}" for n in range(captures)]
    for n in range(imports):  # the imports among the captures before the last ones
        order.insert((n + 1) * (captures - after_writer) // (imports + 1), f"import-{n}")
    threads = []
    for n, label in enumerate(order):
        if n == len(order) - after_writer:
            stop.touch()
            writer.wait(timeout=60)
        if label.startswith("capture"):
            hook = {"session_id": label, "transcript_path": str(transcript),
                    "cwd": "/repo", "hook_event_name": "Stop"}  # fmt: skip
            argv = [*tool, "hooks", "capture", "--store", store]
            work = (label, argv, json.dumps(hook).encode(), environment, result, result.captures)
            if floors is not None:
                floor = [*tool, "hooks", "capture", "--store", str(floors)]
                floor_work = (label, floor, b"{}", environment, result, result.floors)
                threads.append(threading.Thread(target=timed, args=floor_work))
                threads[-1].start()
        else:
            argv = [*tool, "import", str(transcript), "--store", store]
            work = (label, argv, b"", environment, result, result.imports)
        thread = threading.Thread(target=timed, args=work)
        thread.start()
        threads.append(thread)
        time.sleep(spacing)
    for thread in threads:
        thread.join()
    return result


def main() -> None:
    from claude_sessions import SessionStore

    work = Path(tempfile.mkdtemp(prefix="capture-storm-"))
    store = sys.argv[1] if len(sys.argv) > 1 and sys.argv[1] else str(work / "store")
    spacing = float(sys.argv[2]) if len(sys.argv) > 2 else 0.05
    first = int(sys.argv[3]) if len(sys.argv) > 3 else 400
    done = storm(store, work / "claude", spacing=spacing, first_turns=first)
    with SessionStore(store, cleanup_after_days=None, read_only=True) as opened:
        stored = [m.uuid for m in opened.load_session(SESSION).messages]
    written = transcript_uuids(done.transcript)
    print(done.line())
    print(f"lines written {len(written)}, stored {len(stored)}, missing "
          f"{len(set(written) - set(stored))}; failures: {done.failures or 'none'}")  # fmt: skip


if __name__ == "__main__":
    main()
