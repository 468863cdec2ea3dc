"""Benchmark: an older checkout against this one, in one run, on the same machine.

    python bench/compare.py --before /path/to/older/checkout
    python bench/compare.py --before ../old --sessions 20000 --mb 50

Runs ``bench/store.py`` (without its baseline) and ``bench/import.py`` (median
of ``--rounds`` imports) once with the older checkout's ``src`` first on
``PYTHONPATH``, once with this one's, each in fresh processes and in that
order, and prints the figures side by side with the bounds the full text's
cost must stay within: hostile queries under 1 s, a rare word under 50 ms, a
common word under 150 ms, import throughput down at most 15 %, the store (the
100k-session one and the imported one, each with its side index once caught
up) at most 40 % larger. Beside the import: the time the indexer of tool
calls and subagents then takes (what ``import`` leaves to a background process).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
THIS_SRC = HERE.parent / "src"
_ROW = re.compile(r"^(?P<name>\S.*?)\s{2,}(?:-|[\d.]+)\s+(?P<ours>[\d.]+)\s")
_SIZE = re.compile(r"ours: \w+ (?P<mb>\d+) MB")
_BUILT = re.compile(r"^\s+(?P<seconds>[\d.]+) s$")
_IMPORT = re.compile(r"^\(c\) import:\s+[\d.]+ s\s+(?P<rate>[\d.]+) MB/s")
_INDEXER = re.compile(r"^\(e\) background indexer after \(c\):\s+(?P<seconds>[\d.]+) s")
_INDEXED = re.compile(r"^\s+indexed tool calls and subagents: (?P<seconds>[\d.]+) s")
_IMPORTED_SIZE = re.compile(r"store size: (?P<mb>[\d.]+) MB")


def _run(script: str, src: Path, args: list[str]) -> str:
    env = {**os.environ, "PYTHONPATH": str(src), "PYTHONHASHSEED": "0"}
    done = subprocess.run(
        [sys.executable, str(HERE / script), *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"{script} failed with {src}:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def store_figures(output: str) -> dict[str, float]:
    """The timed operations (ms), the build time (s) and the store's size (MB)."""
    figures: dict[str, float] = {}
    for line in output.splitlines():
        if (size := _SIZE.search(line)) is not None:
            figures["store size (MB)"] = float(size["mb"])
        elif (indexed := _INDEXED.match(line)) is not None:
            figures["index after build (s)"] = float(indexed["seconds"])
        elif (built := _BUILT.match(line)) is not None:
            figures["build (s)"] = float(built["seconds"])
        elif (row := _ROW.match(line)) is not None and not line.startswith("operation"):
            figures[row["name"].strip()] = float(row["ours"])
    return figures


def import_figures(output: str) -> dict[str, float]:
    """The import's throughput (MB/s) and the size of the store it made (MB)."""
    figures: dict[str, float] = {}
    for line in output.splitlines():
        if (found := _IMPORT.match(line)) is not None:
            figures["import (MB/s)"] = float(found["rate"])
        elif (indexer := _INDEXER.match(line)) is not None:
            figures["indexer after import (s)"] = float(indexer["seconds"])
        elif (size := _IMPORTED_SIZE.search(line)) is not None:
            figures["imported store size (MB)"] = float(size["mb"])
    if "import (MB/s)" not in figures:
        raise SystemExit(f"no import figure in:\n{output}")
    return figures


def _bound(name: str, before: float, after: float) -> str:
    if name.startswith("worst text"):
        return "yes" if after < 1000 else "NO"
    if (
        name.startswith("full-text") and name.endswith("(rare)")
    ) or name == "full-text (rare word)":
        return "yes" if after < 50 else "NO"
    if (
        name.startswith("full-text") and name.endswith("(common)")
    ) or name == "full-text (common word)":
        return "yes" if after < 150 else "NO"
    if name in ("store size (MB)", "imported store size (MB)"):
        return "yes" if after <= before * 1.4 else "NO"
    if name == "import (MB/s)":
        return "yes" if after >= before * 0.85 else "NO"
    return ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True, help="the older checkout")
    parser.add_argument("--sessions", type=int, default=100_000)
    parser.add_argument("--mb", type=float, default=100.0, help="import corpus size in MB")
    parser.add_argument("--rounds", type=int, default=3, help="imports measured per side")
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    args = parser.parse_args(argv)
    store_args = ["--sessions", str(args.sessions), "--skip-baseline", "--backend", args.backend]
    import_args = ["--mb", str(args.mb), "--rounds", str(args.rounds), "--line-mb", "1"]
    sides: dict[str, dict[str, float]] = {}
    for side, src in (("before", args.before.resolve() / "src"), ("after", THIS_SRC)):
        print(f"measuring {side} ({src}) ...", flush=True)
        figures = store_figures(_run("store.py", src, store_args))
        figures.update(import_figures(_run("import.py", src, import_args)))
        sides[side] = figures
    before, after = sides["before"], sides["after"]
    print(f"\n{args.sessions} sessions ({args.backend}); times in ms unless named\n")
    print(f"{'figure':<30}{'before':>10}{'after':>10}{'change':>9}  within bound")
    for name, new in after.items():
        old = before.get(name)
        if old is None:  # a figure of this checkout only (its indexer, its new searches)
            print(f"{name:<30}{'-':>10}{new:10.2f} {'-':>8}  {_bound(name, new, new)}")
            continue
        change = f"{(new - old) / old:+8.0%}" if old else f"{'-':>8}"
        print(f"{name:<30}{old:10.2f}{new:10.2f} {change}  {_bound(name, old, new)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
