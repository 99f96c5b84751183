"""Time threadlint against other Python linters on one corpus, side by side.

Usage:
    python benchmarks/bench.py [CORPUS] [--repeat N]

CORPUS defaults to the host interpreter's standard library, a large, real,
threading-heavy code base that is always at hand (its site-packages folder
is excluded for every tool).  Each tool is run as a subprocess on the same
files; the best of N wall times is reported.  Tools that are not installed
are listed as such (`pip install -r benchmarks/requirements.txt`).

This is a measurement, not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Callable

BIN = Path(sys.executable).parent


def _tool(name: str) -> str | None:
    local = BIN / name
    if local.exists():
        return str(local)
    return shutil.which(name)


def _time(
    cmd: Sequence[str], repeat: int, setup: Callable[[], None] | None = None
) -> tuple[float, int]:
    best = float("inf")
    code = 0
    for _ in range(repeat):
        if setup is not None:
            setup()
        start = time.perf_counter()
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        best = min(best, time.perf_counter() - start)
        code = proc.stdout.count(b"\n")
    return best, code


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="?", default=sysconfig.get_paths()["stdlib"])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--pylint", action="store_true", help="also time pylint (minutes)")
    args = parser.parse_args(argv)
    corpus = args.corpus
    files = [p for p in Path(corpus).rglob("*.py") if "site-packages" not in p.parts]
    size = sum(p.stat().st_size for p in files) / 1e6
    print(f"corpus: {corpus} ({len(files)} files, {size:.1f} MB), {os.cpu_count()} cores")
    cache_dir = tempfile.mkdtemp(prefix="threadlint-bench-")

    def clear_cache() -> None:
        shutil.rmtree(cache_dir, ignore_errors=True)

    threadlint = _tool("threadlint")
    rows = []
    if threadlint:
        base = [threadlint, "--isolated", "--exit-zero", corpus]
        rows.append(("threadlint -j1 (no cache)", base + ["-j1", "--no-cache"], None))
        rows.append(("threadlint -j2 (no cache)", base + ["-j2", "--no-cache"], None))
        rows.append(("threadlint -j2 (cold cache)", base + ["-j2", "--cache-dir", cache_dir], clear_cache))
        rows.append(("threadlint -j2 (warm cache)", base + ["-j2", "--cache-dir", cache_dir], None))
    flake8 = _tool("flake8")
    if flake8:
        rows.append(("flake8 -j2 (pyflakes+pycodestyle)", [flake8, "-j2", "--exit-zero",
                     "--exclude", "site-packages", corpus], None))
    ruff = _tool("ruff")
    if ruff:
        rows.append(("ruff check (default rules)", [ruff, "check", "--isolated", "--no-cache",
                     "--exit-zero", corpus], None))
    pylint = _tool("pylint")
    if pylint and args.pylint:
        rows.append(("pylint -j2 (default checks)", [pylint, "-j2", "--exit-zero",
                     "--ignore=site-packages", "--recursive=y", corpus], None))
    print(f"{'tool':<40} {'wall s':>8} {'lines out':>10}")
    for label, cmd, setup in rows:
        seconds, lines = _time(cmd, args.repeat, setup)
        print(f"{label:<40} {seconds:>8.2f} {lines:>10}")
    for name in ("flake8", "ruff", "pylint"):
        if not _tool(name):
            print(f"{name:<40} {'not installed':>19}")
    shutil.rmtree(cache_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
