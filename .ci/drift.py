"""The drift check: the end-to-end tests against the newest releases in range, unlocked.

CI's main run installs exactly what ``constraints.txt`` locks. Users get
whatever is newest within ``pyproject.toml``'s ranges, so this step installs
that into a fresh virtual environment, names every package that moved away
from the lock (and the Claude Code the SDK wheel bundles), and, when any moved,
runs the tests that drive real processes: the Claude Code CLI, the MCP server, the web app in
Chromium, PostgreSQL. Its exit status is its own (0 passed, 1 failed); ``.ci/run``
reports it beside the locked run's.

    python3 .ci/drift.py            # from the repository's root
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ElementTree
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "constraints.txt"
MARKERS = "e2e or browser or postgres"


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(text: str) -> dict[str, str]:
    """``name==version`` lines (a lock file, or ``pip freeze``) as {normalized name: version}."""
    found = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==", 1)
            found[normalized(name.split("[")[0])] = version.split(";")[0].strip()
    return found


def moves(locked: dict[str, str], newest: dict[str, str]) -> list[str]:
    """What moved from the lock: ``name A -> B``, ``name (new) B``, ``name A (gone)``."""
    lines = []
    for name in sorted(locked.keys() | newest.keys()):
        before, after = locked.get(name), newest.get(name)
        if before == after:
            continue
        if before is None:
            lines.append(f"{name} (not in the lock) {after}")
        elif after is None:
            lines.append(f"{name} {before} (no longer installed)")
        else:
            lines.append(f"{name} {before} -> {after}")
    return lines


def bundled_cli_version(python: Path) -> str:
    code = (
        "from claude_sessions.runs.locate import bundled_cli, cli_version; "
        "found = bundled_cli(); print(cli_version(str(found)) if found else 'none')"
    )
    done = subprocess.run([python, "-c", code], capture_output=True, text=True, check=False)
    return done.stdout.strip() or "unknown"


def failures(report: Path) -> list[str]:
    """The failed or erroring test ids of a JUnit XML report."""
    if not report.exists():
        return []
    failed = []
    for case in ElementTree.parse(report).iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            failed.append(f"{case.get('classname')}::{case.get('name')}")
    return failed


def drifted(moved: list[str], locked_cli: str, newest_cli: str) -> bool:
    """Whether the newest releases differ from what the locked run just tested (else
    running the same tests on the same releases again would prove nothing)."""
    return bool(moved) or locked_cli != newest_cli


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="claude-sessions-drift-"))
    try:
        venv = work / "venv"
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
        python = venv / "bin" / "python"
        # No constraints file: the newest releases pyproject.toml's ranges admit.
        subprocess.run(
            [python, "-m", "pip", "install", "-q", "-e", f"{ROOT}[dev,postgres]"], check=True
        )
        frozen = subprocess.run(
            [python, "-m", "pip", "freeze", "--exclude-editable"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        moved = moves(pins(LOCK.read_text()), pins(frozen))
        locked_cli = bundled_cli_version(Path(sys.executable))
        newest_cli = bundled_cli_version(python)
        if not drifted(moved, locked_cli, newest_cli):
            print("\n== Drift check: the newest releases in range are the locked ones ==")
            print(f"Claude Code bundled in claude-agent-sdk: {locked_cli}; nothing moved.")
            return 0
        report = work / "report.xml"
        tests = subprocess.run(
            [python, "-m", "pytest", "-q", "-m", MARKERS, f"--junitxml={report}"],
            cwd=ROOT,
            check=False,
        )
        failed = failures(report)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print("\n== Drift check: the newest releases in range, without constraints.txt ==")
    print(f"Claude Code bundled in claude-agent-sdk: {locked_cli} locked, {newest_cli} newest")
    print("Moved from the lock: " + ("; ".join(moved) if moved else "nothing"))
    if tests.returncode == 0:
        print(f"Drift check passed ({MARKERS} tests).")
        return 0
    print(f"DRIFT CHECK FAILED: pytest exited {tests.returncode} against the newest releases.")
    for test in failed:
        print(f"  failed: {test}")
    if moved:
        print("What moved (above) is what to look at first; the locked run is unaffected.")
    return 1


if __name__ == "__main__":
    sys.exit(main())
