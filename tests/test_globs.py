"""Per-file-ignore globs read as ruff reads them, checked against the real ruff."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from cli_helpers import BAD, run_cli, write_tree

from threadlint.globs import compile_glob


@pytest.mark.parametrize(
    "glob, path, matches",
    [
        ("tests/**/*.py", "tests/x.py", True),
        ("tests/**/*.py", "tests/a/b/x.py", True),
        ("tests/**/*.py", "src/tests/x.py", False),
        ("**/conftest.py", "conftest.py", True),
        ("**/conftest.py", "a/b/conftest.py", True),
        ("tests/*", "tests/a/b.py", True),  # `*` crosses `/`, as in ruff
        ("dir/**", "dir/a/b.py", True),
        ("*.{py,pyi}", "stubs.pyi", True),
        ("*.{py,pyi}", "stubs.pyc", False),
        ("test_[!x]*.py", "test_a.py", True),
        ("test_[!x]*.py", "test_x.py", False),
        ("test_[^x]*.py", "test_x.py", False),
        ("m?.py", "m1.py", True),
        ("m?.py", "m12.py", False),
        ("Tests/*", "tests/a.py", False),  # case-sensitive
        ("a[b.py", "a[b.py", True),  # an unclosed class is literal
        (r"a\*.py", "a*.py", True),
        (r"a\*.py", "ab.py", False),
    ],
)
def test_glob_semantics(glob: str, path: str, matches: bool) -> None:
    assert (compile_glob(glob).fullmatch(path) is not None) == matches


# The layout both tools lint, and the globs whose matches they must agree on.
LAYOUT = [
    "top.py",
    "tests/test_a.py",
    "tests/unit/test_b.py",
    "src/pkg/mod.py",
    "src/pkg/tests/test_c.py",
    "src/pkg/gen_pb2.py",
    "scripts/run.py",
]
GLOBS = [
    "tests/**/*.py",
    "tests/*",
    "**/tests/*.py",
    "*_pb2.py",
    "src/**",
    "src/*/mod.py",
    "test_*.py",
    "!src/**",
    "{scripts,tests}/*.py",
    "./scripts/run.py",
    "src/pkg/[gm]*.py",
]


def _ruff_unreported(tmp_path: Path, glob: str) -> set[str]:
    """The files ruff stops reporting F401 in under `per-file-ignores = {glob = F401}`."""
    root = tmp_path / "ruff"
    files = {name: "import os\n" for name in LAYOUT}
    files["pyproject.toml"] = (
        '[tool.ruff]\n[tool.ruff.lint]\nselect = ["F401"]\n'
        f"[tool.ruff.lint.per-file-ignores]\n{json.dumps(glob)} = [\"F401\"]\n"
    )
    write_tree(root, files)
    proc = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format", "json", "."],
        cwd=root, capture_output=True, text=True, check=False,
    )
    assert proc.returncode in (0, 1), proc.stderr
    reported = {Path(d["filename"]).relative_to(root.resolve()).as_posix()
                for d in json.loads(proc.stdout)}
    return set(LAYOUT) - reported


def _threadlint_unreported(tmp_path: Path, glob: str) -> set[str]:
    root = tmp_path / "threadlint"
    files = {name: BAD for name in LAYOUT}
    files["pyproject.toml"] = (
        f"[tool.threadlint.per-file-ignores]\n{json.dumps(glob)} = [\"TL203\"]\n"
    )
    write_tree(root, files)
    reported = {path for path, _ in run_cli(["-j1", "--no-cache"], root).codes()}
    return set(LAYOUT) - reported


@pytest.mark.parametrize("glob", GLOBS)
def test_per_file_ignores_match_the_files_ruff_matches(tmp_path: Path, glob: str) -> None:
    assert _threadlint_unreported(tmp_path, glob) == _ruff_unreported(tmp_path, glob)
