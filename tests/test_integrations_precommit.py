"""The pre-commit hook, run by the real pre-commit from this repository's `.pre-commit-hooks.yaml`.

The test makes a git repository of this checkout as it is on disk (so
uncommitted work is what gets tested), and a project whose
`.pre-commit-config.yaml` points at it by path.  pre-commit clones it and
installs it into its own virtualenv (`language: python`: pip installs the
checkout and its dependencies), then runs the hook as a user's commit would.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cli_helpers import ARGS_NOT_TUPLE

ROOT = Path(__file__).resolve().parent.parent

RACY = ARGS_NOT_TUPLE
CLEAN = RACY.replace("args=(url)", "args=(url,)")

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def _env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        PRE_COMMIT_HOME=str(tmp_path / "pre-commit-home"),
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        GIT_AUTHOR_NAME="threadlint tests",
        GIT_AUTHOR_EMAIL="tests@threadlint.invalid",
        GIT_COMMITTER_NAME="threadlint tests",
        GIT_COMMITTER_EMAIL="tests@threadlint.invalid",
    )
    # Running under pre-commit or a git hook must not leak into the test's repositories.
    for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
        env.pop(name, None)
    return env


def _git(args: list[str], cwd: Path, env: dict[str, str]) -> str:
    completed = subprocess.run(
        ["git", "-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main", *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return completed.stdout.strip()


def _snapshot_of_this_checkout(target: Path, env: dict[str, str]) -> str:
    """A git repository holding the checkout's files as they are now; returns its commit."""
    target.mkdir()
    for name in ("pyproject.toml", "README.md", ".pre-commit-hooks.yaml", "LICENSE"):
        if (ROOT / name).is_file():
            shutil.copy2(ROOT / name, target / name)
    shutil.copytree(
        ROOT / "src", target / "src",
        ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "*.pyc"),
    )
    _git(["init", "-q"], target, env)
    _git(["add", "-A"], target, env)
    _git(["commit", "-q", "-m", "snapshot"], target, env)
    return _git(["rev-parse", "HEAD"], target, env)


def _pre_commit(project: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "run", "--all-files", "--color", "never"],
        cwd=project, env=env, capture_output=True, text=True, timeout=900, check=False,
    )


def test_pre_commit_hook_fails_on_a_finding_and_passes_when_clean(tmp_path: Path) -> None:
    env = _env(tmp_path)
    rev = _snapshot_of_this_checkout(tmp_path / "threadlint", env)
    project = tmp_path / "project"
    project.mkdir()
    _git(["init", "-q"], project, env)
    (project / ".pre-commit-config.yaml").write_text(
        "repos:\n"
        f"  - repo: {(tmp_path / 'threadlint').as_uri()}\n"
        f"    rev: {rev}\n"
        "    hooks:\n"
        "      - id: threadlint\n"
        "        args: [--select, TL203]\n",
        encoding="utf-8",
    )
    (project / "racy.py").write_text(RACY, encoding="utf-8")
    # `types: [python]`: a script without the .py suffix is Python too, notes are not.
    (project / "bin").mkdir()
    (project / "bin" / "tool").write_text("#!/usr/bin/env python3\n" + RACY, encoding="utf-8")
    os.chmod(project / "bin" / "tool", 0o755)
    (project / "notes.txt").write_text(RACY, encoding="utf-8")
    _git(["add", "-A"], project, env)
    _git(["commit", "-q", "-m", "racy"], project, env)

    started = time.monotonic()
    failing = _pre_commit(project, env)
    elapsed = time.monotonic() - started
    output = failing.stdout + failing.stderr
    assert failing.returncode == 1, output
    assert "threadlint" in output and "Failed" in output
    assert "racy.py:9:46: TL203 " in output
    assert "bin/tool:10:46: TL203 " in output
    assert "notes.txt" not in output
    print(f"pre-commit: first run (installs the hook) took {elapsed:.1f}s")

    (project / "racy.py").write_text(CLEAN, encoding="utf-8")
    (project / "bin" / "tool").write_text("#!/usr/bin/env python3\n" + CLEAN, encoding="utf-8")
    _git(["add", "-A"], project, env)
    passing = _pre_commit(project, env)
    assert passing.returncode == 0, passing.stdout + passing.stderr
    assert "Passed" in passing.stdout
