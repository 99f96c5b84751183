"""Small helpers for the command-line tests: temporary projects and runs."""

from __future__ import annotations

import inspect
import os
import re
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from click.testing import CliRunner

from threadlint.cli import cli

# One TL203 finding, at line 9, column 50 (the `1` inside `(1)`); the thread
# is otherwise handled well, so no other rule has anything to say.
BAD = """\
import threading


def work(x):
    return x


def spawn():
    worker = threading.Thread(target=work, args=(1), daemon=True)
    worker.start()
    worker.join()
"""
BAD_LINE, BAD_COL = 9, 50

CLEAN = BAD.replace("args=(1)", "args=(1,)")

# A module with one TL203 finding (line 9) and nothing else to report.
ARGS_NOT_TUPLE = """\
import threading


def fetch(url):
    return url


def start(url):
    t = threading.Thread(target=fetch, args=(url))
    t.start()
    t.join()
"""


PY2 = 'print "hello, world"\n'
# TL001 takes CPython's syntax error: 3.10's parser points at `print`, 3.9's
# past it.
PY2_COL = 1 if sys.version_info >= (3, 10) else 7

FINDING_LINE = re.compile(r"^(?P<path>[^:]+):(?P<line>\d+):(?P<col>\d+): (?P<code>TL\d{3}) \S.*$")


def write_tree(root: Path, files: dict[str, str | bytes]) -> Path:
    """Create `files` (relative path -> text or bytes) under `root`."""
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


@dataclass
class Run:
    exit_code: int
    stdout: str
    stderr: str

    def findings(self) -> list[tuple[str, int, int, str]]:
        """(path, line, col, code) of each stdout line; every line must be a finding."""
        out = []
        for line in self.stdout.splitlines():
            match = FINDING_LINE.match(line)
            assert match, f"not a finding line on stdout: {line!r}"
            out.append(
                (match["path"], int(match["line"]), int(match["col"]), match["code"])
            )
        return out

    def codes(self) -> list[tuple[str, str]]:
        return [(path, code) for path, _, _, code in self.findings()]


def _runner() -> CliRunner:
    """A runner that keeps stderr apart: click 8.2 always does, and removed the
    `mix_stderr` switch that 8.0 and 8.1 (the last click for Python 3.9) need."""
    if "mix_stderr" in inspect.signature(CliRunner.__init__).parameters:
        return CliRunner(mix_stderr=False)
    return CliRunner()


def run_cli(
    args: Sequence[str], cwd: Path, stdin: str | bytes | None = None
) -> Run:
    """Run the command in-process from `cwd`, stdout and stderr kept apart."""
    previous = Path.cwd()
    os.chdir(cwd)
    try:
        result = _runner().invoke(cli, list(args), input=stdin, catch_exceptions=False)
    finally:
        os.chdir(previous)
    return Run(result.exit_code, result.stdout, result.stderr)


def run_process(
    args: Sequence[str], cwd: Path, timeout: float = 120, stdout: IO[bytes] | int | None = None
) -> Run:
    """Run `python -m threadlint` as a real process, so that a hang fails the
    test (after `timeout` seconds) instead of stopping the suite, and so that
    real pipes and descriptors are used (`stdout`: where its output goes)."""
    completed = subprocess.run(
        [sys.executable, "-m", "threadlint", *args],
        cwd=cwd,
        stdout=subprocess.PIPE if stdout is None else stdout,
        stderr=subprocess.PIPE,
        timeout=timeout,
        check=False,
    )
    out = (completed.stdout or b"").decode("utf-8", "replace")
    return Run(completed.returncode, out, completed.stderr.decode("utf-8", "replace"))
