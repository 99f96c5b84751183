"""Habits users bring from ruff and flake8: option names, --statistics, noqa, positions.

Where another tool defines the behaviour, the test runs that tool (flake8,
ruff) on the same input.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from cli_helpers import BAD, BAD_LINE, FINDING_LINE, PY2, run_cli, write_tree

ROOT = Path(__file__).resolve().parent.parent
LINES = BAD.splitlines()


def _with_comment(comment: str, line: int = BAD_LINE) -> str:
    lines = list(LINES)
    lines[line - 1] += "  " + comment
    return "\n".join(lines) + "\n"


# --- option names and --statistics -------------------------------------------------


@pytest.mark.parametrize("output_format", ["text", "json", "sarif", "github"])
def test_output_format_is_the_same_option_as_format(tmp_path: Path, output_format: str) -> None:
    write_tree(tmp_path, {"a.py": BAD, "old.py": PY2})
    ours = run_cli(["-j1", "--format", output_format], tmp_path)
    ruffs = run_cli(["-j1", "--output-format", output_format], tmp_path)
    assert ruffs.exit_code == ours.exit_code == 1
    assert ruffs.stdout == ours.stdout != ""


def _statistics_lines(text: str) -> list[list[str]]:
    return [line.split() for line in text.splitlines() if line.split()[:1] in (["1"], ["2"])]


EXPECTED_STATISTICS = [["1", "TL001", "syntax-error"], ["2", "TL203", "thread-args-not-tuple"]]


def test_statistics_follow_the_text_report(tmp_path: Path) -> None:
    write_tree(tmp_path, {"a.py": BAD, "b.py": BAD, "old.py": PY2})
    run = run_cli(["-j1", "--statistics"], tmp_path)
    lines = run.stdout.splitlines()
    assert all(FINDING_LINE.match(line) for line in lines[:3])
    assert [line.split() for line in lines[3:]] == EXPECTED_STATISTICS


@pytest.mark.parametrize("output_format", ["json", "sarif", "github"])
def test_statistics_go_to_stderr_for_machine_formats(tmp_path: Path, output_format: str) -> None:
    write_tree(tmp_path, {"a.py": BAD, "b.py": BAD, "old.py": PY2})
    plain = run_cli(["-j1", "--output-format", output_format], tmp_path)
    counted = run_cli(["-j1", "--output-format", output_format, "--statistics"], tmp_path)
    # stdout is byte for byte the report without --statistics: still one valid document.
    assert counted.stdout == plain.stdout
    if output_format != "github":
        json.loads(counted.stdout)
    assert _statistics_lines(counted.stderr) == EXPECTED_STATISTICS
    assert _statistics_lines(plain.stderr) == []


# --- noqa as flake8 reads it ------------------------------------------------------


@pytest.mark.parametrize(
    "comment",
    [
        "# NOQA:tl203",
        "# NoQA: Tl203",
        "# noqa:TL201,TL203",
        "# noqa: TL201, TL203",
        "# noqa: TL201 TL203",
        "# noqa:TL201,,TL203",
    ],
)
def test_noqa_codes_are_case_insensitive_with_flake8_separators(
    tmp_path: Path, comment: str
) -> None:
    write_tree(tmp_path, {"a.py": _with_comment(comment)})
    assert run_cli(["-j1"], tmp_path).codes() == []


# flake8 reports F401 for `import os` unless the file is skipped.
FILE_NOQA = {
    "own_line.py": "# flake8: noqa\n",
    "upper.py": "# FLAKE8: NOQA\n",
    "equals.py": "# flake8= noqa\n",
    "indented.py": "    # flake8: noqa\n",
    "with_codes.py": "# flake8: noqa: TL203\n",
    "after_code.py": "x = 1  # flake8: noqa\n",
    "other_words.py": "# flake8 is configured elsewhere, noqa\n",
}


def _file_noqa_tree(root: Path, body: str) -> list[str]:
    write_tree(root, {name: head + body for name, head in FILE_NOQA.items()})
    return sorted(FILE_NOQA)


def test_flake8_noqa_skips_the_files_flake8_skips(tmp_path: Path) -> None:
    names = _file_noqa_tree(tmp_path / "ours", BAD)
    reported = {path for path, _ in run_cli(["-j1", "--isolated"], tmp_path / "ours").codes()}
    names = _file_noqa_tree(tmp_path / "flake8", "import os\n")
    proc = subprocess.run(
        [sys.executable, "-m", "flake8", "--isolated", "--select", "F401", *names],
        cwd=tmp_path / "flake8", capture_output=True, text=True, check=False,
    )
    by_flake8 = {line.split(":")[0] for line in proc.stdout.splitlines()}
    assert reported == by_flake8 == {"after_code.py", "other_words.py"}


# --- positions ----------------------------------------------------------------------


def test_unused_suppression_points_at_the_comment(tmp_path: Path) -> None:
    line = "x = 1  # noqa: TL201\n"
    write_tree(tmp_path, {"a.py": "y = 2\n" + line})
    run = run_cli(["-j1", "--extend-select", "TL002", "--format", "json"], tmp_path)
    (finding,) = json.loads(run.stdout)
    start = line.index("#") + 1
    assert (finding["code"], finding["line"], finding["column"]) == ("TL002", 2, start)
    assert (finding["end_line"], finding["end_column"]) == (2, start + len("# noqa: TL201"))


# The race rules' end positions belong to the race model; every other rule
# gives each finding a range.
def test_every_finding_has_a_range() -> None:
    run = run_cli(
        ["--isolated", "--no-cache", "-j1", "--preview", "--select", "ALL", "--format", "json",
         "tests/fixtures"],
        ROOT,
    )
    findings = json.loads(run.stdout)
    assert {d["code"] for d in findings} >= {
        "TL001", "TL101", "TL102", "TL103", "TL104", "TL201", "TL203", "TL303", "TL401"
    }
    empty = [
        f"{d['path']}:{d['line']}:{d['column']} {d['code']}"
        for d in findings
        if (d["end_line"], d["end_column"]) <= (d["line"], d["column"])
    ]
    assert empty == []


@pytest.mark.parametrize(
    "content, covers",
    [
        (PY2, 'print "hello, world"'),
        ("def f(x):\n    return (1,\n", "("),
    ],
)
def test_syntax_error_has_a_range(tmp_path: Path, content: str, covers: str) -> None:
    write_tree(tmp_path, {"broken.py": content})
    (finding,) = json.loads(run_cli(["-j1", "--format", "json"], tmp_path).stdout)
    assert finding["end_line"] == finding["line"]
    assert finding["end_column"] > finding["column"]
    if sys.version_info >= (3, 10):  # 3.9 points past the problem, at the line's end
        line = content.splitlines()[finding["line"] - 1]
        assert covers in line[finding["column"] - 1 : finding["end_column"] - 1]


# --- next to ruff ------------------------------------------------------------------


def _readme_ruff_config() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## For ruff users", 1)[1].split("\n## ", 1)[0]
    return section.split("```toml\n", 1)[1].split("```", 1)[0]


def _ruff(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ruff", *args], cwd=cwd, capture_output=True, text=True,
        check=False,
    )


def _ruff_fix_noqa_comments(root: Path) -> None:
    """ruff's fixes of `noqa` comments it cannot place: RUF100 (unused noqa), and
    RUF102 (invalid rule code, a preview rule of recent ruff) where ruff has it."""
    rules = ["RUF100"]
    if _ruff(["rule", "RUF102"], root).returncode == 0:
        rules += ["RUF102", "--preview"]
    proc = _ruff(
        ["check", "--no-cache", "--extend-select", *rules, "--fix", "--exit-zero", "a.py"], root
    )
    assert proc.returncode == 0, proc.stderr


def test_ruffs_unused_noqa_fix_keeps_threadlint_codes_as_the_readme_says(tmp_path: Path) -> None:
    source = _with_comment("# noqa: TL203")
    config = _readme_ruff_config()
    assert 'external = ["TL"]' in config
    write_tree(tmp_path / "told", {"pyproject.toml": config, "a.py": source})
    write_tree(tmp_path / "untold", {"pyproject.toml": "[tool.ruff]\n", "a.py": source})
    _ruff_fix_noqa_comments(tmp_path / "told")
    _ruff_fix_noqa_comments(tmp_path / "untold")
    # Without `external`, ruff deletes the comment and the finding comes back.
    assert "# noqa: TL203" not in (tmp_path / "untold" / "a.py").read_text(encoding="utf-8")
    assert run_cli(["-j1"], tmp_path / "untold").codes() == [("a.py", "TL203")]
    assert (tmp_path / "told" / "a.py").read_text(encoding="utf-8") == source
    assert run_cli(["-j1"], tmp_path / "told").codes() == []
