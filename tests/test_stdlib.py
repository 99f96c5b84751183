"""The whole standard library of the CPython running the tests, every rule on:
no internal error, and the same findings for one worker and two, with and
without the cache.  It is the largest body of real code at hand, and CI runs
it (it takes a few minutes on two cores)."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

STDLIB = Path(sysconfig.get_paths()["stdlib"])


def _lint(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # site-packages is one of the default excludes, as for ruff.
    return subprocess.run(
        [sys.executable, "-m", "threadlint", "--isolated", "--select", "ALL", "--preview",
         "-q", *args, str(STDLIB)],
        cwd=cwd, capture_output=True, text=True, timeout=1800,
    )


@pytest.mark.slow
@pytest.mark.skipif(
    os.environ.get("THREADLINT_SKIP_STDLIB") == "1",
    reason="THREADLINT_SKIP_STDLIB=1: CI runs it once, on the default Python",
)
def test_stdlib_lints_without_internal_errors_and_alike_for_any_jobs_and_cache(
    tmp_path: Path,
) -> None:
    one_cache, two_cache = tmp_path / "cache-j1", tmp_path / "cache-j2"
    cold_two = _lint(tmp_path, "-j2", "--cache-dir", str(two_cache))
    cold_one = _lint(tmp_path, "-j1", "--cache-dir", str(one_cache))
    # Each reads the entries the other wrote: a cached result must not depend
    # on how many workers produced it.
    cached_two = _lint(tmp_path, "-j2", "--cache-dir", str(one_cache))
    cached_one = _lint(tmp_path, "-j1", "--cache-dir", str(two_cache))
    runs = {"-j2 cold": cold_two, "-j1 cold": cold_one,
            "-j2 cached": cached_two, "-j1 cached": cached_one}
    for name, run in runs.items():
        assert "internal error" not in run.stderr, (name, run.stderr[-3000:])
        assert run.returncode == 1, (name, run.returncode, run.stderr[-3000:])
    assert cold_two.stdout.count("\n") > 10  # the stdlib does have findings
    assert cold_one.stdout == cold_two.stdout
    assert cached_two.stdout == cold_two.stdout
    assert cached_one.stdout == cold_two.stdout
    assert any(two_cache.rglob("*")) and any(one_cache.rglob("*"))
