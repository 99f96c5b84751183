"""`-v`: the configuration used, the files found, linted and analysed, and the time."""

from __future__ import annotations

import re
from pathlib import Path

from cli_helpers import BAD, run_cli, write_tree

FILES = {
    "pyproject.toml": '[tool.threadlint]\nextend-ignore = ["TL206"]\n',
    "a.py": BAD,  # threads: fully analysed
    "plain.py": "x = 1\n",  # nothing about threads: syntax only
    "util.py": "def double(x):\n    return 2 * x\n",
    "skipped.py": "# threadlint: skip-file\n" + BAD,
}


def _verbose_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("threadlint: ")]


def test_verbose_says_what_the_run_used_and_looked_at(tmp_path: Path) -> None:
    write_tree(tmp_path, FILES)
    run = run_cli(["-j1", "-v"], tmp_path)
    assert run.exit_code == 1
    lines = _verbose_lines(run.stderr)
    assert lines[0] == f"threadlint: configuration: {tmp_path / 'pyproject.toml'}"
    assert lines[1].startswith(
        "threadlint: 4 files found, 3 linted (1 skipped by `# threadlint: skip-file` or "
        "`# flake8: noqa`), 1 fully analysed"
    )
    assert re.fullmatch(r"threadlint: took \d+\.\d\d s", lines[-1])
    # The report itself is unchanged, and the summary still comes last.
    assert run.stdout == run_cli(["-j1"], tmp_path).stdout
    assert run.stderr.splitlines()[-1].startswith("Found 1 problem")


def test_verbose_without_a_configuration_file(tmp_path: Path) -> None:
    write_tree(tmp_path, {"a.py": BAD})
    isolated = _verbose_lines(run_cli(["-j1", "-v", "--isolated"], tmp_path).stderr)
    assert isolated[0] == "threadlint: configuration: none (--isolated)"
    assert isolated[1].startswith("threadlint: 1 file found, 1 linted, 1 fully analysed")
    stdin = run_cli(["-v", "-", "--stdin-filename", "a.py"], tmp_path, stdin=BAD)
    assert _verbose_lines(stdin.stderr)[1].startswith("threadlint: 1 file found, 1 linted")


def test_without_verbose_nothing_extra_is_printed(tmp_path: Path) -> None:
    write_tree(tmp_path, FILES)
    assert _verbose_lines(run_cli(["-j1"], tmp_path).stderr) == []


def test_verbose_says_when_named_files_are_linted_with_their_project(tmp_path: Path) -> None:
    write_tree(tmp_path, FILES)
    lines = _verbose_lines(run_cli(["-j1", "-v", "a.py"], tmp_path).stderr)
    assert lines[1].startswith("threadlint: 4 files found")
    assert lines[2] == (
        "threadlint: findings reported for 1 file only, linted with the rest of their "
        "project (--no-whole-project lints them alone)"
    )


def test_verbose_shows_the_thread_roots_and_concurrent_apis_it_believes(tmp_path: Path) -> None:
    write_tree(tmp_path, {
        "jobs.py": (
            "import threading\n\n"
            "def work():\n    pass\n\n"
            "def start():\n    threading.Thread(target=work, daemon=True).start()\n"
        ),
        "pool.py": (
            "import threading\n\n"
            "class Pool:\n"
            '    """A thread-safe pool."""\n\n'
            "    def __init__(self):\n        self._lock = threading.Lock()\n\n"
            "    def size(self):\n        return 0\n"
        ),
    })
    lines = _verbose_lines(run_cli(["-j1", "-v", "--isolated"], tmp_path).stderr)
    roots = lines.index("threadlint: thread roots: 1")
    assert lines[roots + 1] == "threadlint:   `jobs.work` is started on a thread at jobs.py:7"
    assert lines[roots + 2] == "threadlint: concurrent APIs: 1"
    assert "the docstring of `Pool` says it is thread-safe" in lines[roots + 3]
