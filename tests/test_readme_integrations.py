"""The README's integration snippets, run by the real tools as a user would copy them."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from cli_helpers import ARGS_NOT_TUPLE

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"


def _readme_pre_commit_config() -> str:
    text = README.read_text(encoding="utf-8")
    section = text.split("- **pre-commit**", 1)[1]
    block = re.search(r"```yaml\n(.*?)```", section, re.DOTALL)
    assert block, "the README's pre-commit snippet is gone"
    # The snippet is indented under its list item.
    lines = block.group(1).splitlines()
    indent = min(len(line) - len(line.lstrip()) for line in lines if line.strip())
    return "\n".join(line[indent:] for line in lines) + "\n"


def _git(args: list[str], cwd: Path, env: dict[str, str]) -> None:
    completed = subprocess.run(
        ["git", "-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main", *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False,
    )
    assert completed.returncode == 0, completed.stderr


def test_readme_pre_commit_config_names_no_release_that_does_not_exist() -> None:
    config = yaml.safe_load(_readme_pre_commit_config())
    (repo,) = config["repos"]
    assert repo["repo"] == "local"
    assert [hook["id"] for hook in repo["hooks"]] == ["threadlint"]
    assert "rev: v" not in README.read_text(encoding="utf-8")
    assert "pip install threadlint\n" not in README.read_text(encoding="utf-8")


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_readme_pre_commit_hook_runs_with_the_real_pre_commit(tmp_path: Path) -> None:
    env = dict(os.environ)
    # `language: system` runs the threadlint installed beside this Python.
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env.update(
        PRE_COMMIT_HOME=str(tmp_path / "pre-commit-home"),
        GIT_AUTHOR_NAME="threadlint tests", GIT_AUTHOR_EMAIL="tests@threadlint.invalid",
        GIT_COMMITTER_NAME="threadlint tests", GIT_COMMITTER_EMAIL="tests@threadlint.invalid",
    )
    for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
        env.pop(name, None)
    project = tmp_path / "project"
    project.mkdir()
    _git(["init", "-q"], project, env)
    (project / ".pre-commit-config.yaml").write_text(_readme_pre_commit_config(), encoding="utf-8")
    (project / "racy.py").write_text(ARGS_NOT_TUPLE, encoding="utf-8")
    _git(["add", "-A"], project, env)

    def pre_commit() -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "pre_commit", "run", "--all-files", "--color", "never"],
            cwd=project, env=env, capture_output=True, text=True, timeout=300, check=False,
        )

    failing = pre_commit()
    assert failing.returncode == 1, failing.stdout + failing.stderr
    assert "racy.py:9:46: TL203 " in failing.stdout
    (project / "racy.py").write_text(
        ARGS_NOT_TUPLE.replace("args=(url)", "args=(url,)"), encoding="utf-8"
    )
    _git(["add", "-A"], project, env)
    passing = pre_commit()
    assert passing.returncode == 0, passing.stdout + passing.stderr
    assert "Passed" in passing.stdout
