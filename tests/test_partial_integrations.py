"""Partial runs through the real tools: pre-commit on changed files, flake8 on one file.

Both name one module of a two-module race (tests/test_partial_runs.py): the
finding is in the file named, its thread root in the other module.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cli_helpers import write_tree
from test_integrations_precommit import _env, _git, _snapshot_of_this_checkout
from test_partial_runs import MAIN, RACE_LINE, SAFE_WORKERS, WORKERS

ARGS_NOT_TUPLE = "import threading\n\nt = threading.Thread(target=print, args=(1))\n"


def _project(root: Path) -> Path:
    return write_tree(root, {
        "pyproject.toml": "[project]\nname = 'app'\n",
        "app/__init__.py": "",
        "app/main.py": MAIN,
        "app/workers.py": WORKERS,
        # Excluded by default (build/): named by pre-commit all the same.
        "build/generated.py": ARGS_NOT_TUPLE,
    })


def test_flake8_on_one_file_reports_the_race_rooted_in_another_module(tmp_path: Path) -> None:
    root = _project(tmp_path / "proj")

    def flake8(*args: str) -> subprocess.CompletedProcess:
        done = subprocess.run(
            [sys.executable, "-m", "flake8", "--isolated", "--select", "TL", *args],
            cwd=root, capture_output=True, text=True, timeout=300, check=False,
        )
        assert done.returncode in (0, 1), done.stderr
        return done

    racy = flake8("app/workers.py")
    assert racy.stdout.startswith(f"app/workers.py:{RACE_LINE}:5: TL102 ")
    assert "app/main.py:7" in racy.stdout
    assert flake8("app/main.py").stdout == ""
    # flake8 on an unsaved buffer (stdin): the buffer is that file's text.
    (root / "app" / "workers.py").write_text(SAFE_WORKERS, encoding="utf-8")
    stdin = subprocess.run(
        [sys.executable, "-m", "flake8", "--isolated", "--select", "TL",
         "--stdin-display-name", "app/workers.py", "-"],
        cwd=root, input=WORKERS, capture_output=True, text=True, timeout=300, check=False,
    )
    assert stdin.stdout.startswith(f"app/workers.py:{RACE_LINE}:5: TL102 "), stdin.stderr
    assert flake8("app/workers.py").stdout == ""
    # flake8 applies noqa comments itself, in a project too: --disable-noqa reveals it.
    (root / "app" / "workers.py").write_text(
        WORKERS.replace("processed += 1", "processed += 1  # noqa: TL102"), encoding="utf-8"
    )
    assert flake8("app/workers.py").stdout == ""
    revealed = flake8("--disable-noqa", "app/workers.py").stdout
    assert revealed.startswith(f"app/workers.py:{RACE_LINE}:5: TL102 ")


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_pre_commit_on_the_changed_file_reports_the_cross_module_race(tmp_path: Path) -> None:
    env = _env(tmp_path)
    rev = _snapshot_of_this_checkout(tmp_path / "threadlint", env)
    root = _project(tmp_path / "proj")
    (root / ".pre-commit-config.yaml").write_text(
        "repos:\n"
        f"  - repo: {(tmp_path / 'threadlint').as_uri()}\n"
        f"    rev: {rev}\n"
        "    hooks:\n"
        "      - id: threadlint\n",
        encoding="utf-8",
    )
    _git(["init", "-q"], root, env)
    _git(["add", "-A"], root, env)
    _git(["commit", "-q", "-m", "project"], root, env)

    def pre_commit(*files: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "pre_commit", "run", "--color", "never", "--files", *files],
            cwd=root, env=env, capture_output=True, text=True, timeout=900, check=False,
        )

    failing = pre_commit("app/workers.py", "build/generated.py")
    output = failing.stdout + failing.stderr
    assert failing.returncode == 1, output
    assert "Failed" in output
    assert f"app/workers.py:{RACE_LINE}:5: TL102 " in output
    assert "app/main.py:7" in output  # the evidence names the other module
    assert "build/generated.py" not in output  # --force-exclude in the hook
    passing = pre_commit("app/main.py", "build/generated.py")
    assert passing.returncode == 0, passing.stdout + passing.stderr
    assert "Passed" in passing.stdout
