"""The flake8 route, through the real flake8 of this environment (the `TL` entry point)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from cli_helpers import run_cli, write_tree
from fixture_harness import FIXTURES, expected_findings

RACY = """\
import threading


def fetch(url):
    return url


def start(url, host):
    t = threading.Thread(target=fetch, args=(url))
    u = threading.Thread(target=fetch, args=(host))  # noqa: TL203
    v = threading.Thread(target=fetch, args=(host))  # threadlint: ignore[TL203]
    for thread in (t, u, v):
        thread.start()
        thread.join()
"""


def flake8(args: list[str], cwd: Path, stdin: str = "") -> subprocess.CompletedProcess:
    completed = subprocess.run(
        [sys.executable, "-m", "flake8", *args],
        cwd=cwd, input=stdin, capture_output=True, text=True, timeout=120, check=False,
    )
    assert completed.returncode in (0, 1), completed.stderr
    return completed


@pytest.fixture(scope="module", autouse=True)
def _plugin_is_installed() -> None:
    version = subprocess.run(
        [sys.executable, "-m", "flake8", "--version"],
        capture_output=True, text=True, timeout=120, check=False,
    ).stdout
    assert "threadlint" in version, f"the TL entry point is not installed: {version}"


@pytest.mark.parametrize("name", ["bad.py", "good.py"])
def test_flake8_reports_the_tl203_fixture(name: str) -> None:
    fixture = FIXTURES / "TL203" / name
    result = flake8(["--isolated", "--select", "TL203", name], fixture.parent)
    lines = {int(line.split(":")[1]) for line in result.stdout.splitlines()}
    assert lines == {line for _, line, _ in expected_findings(fixture)}
    assert result.returncode == (1 if lines else 0)


def test_flake8_output_is_threadlints_own(tmp_path: Path) -> None:
    write_tree(tmp_path, {"racy.py": RACY})
    ours = run_cli(["-j1", "--select", "TL203", "--isolated"], tmp_path).stdout
    result = flake8(["--isolated", "--select", "TL203", "racy.py"], tmp_path)
    assert result.returncode == 1
    # Same path, line, column, code and message; flake8 applied the noqa,
    # threadlint's own ignore comment held.
    assert result.stdout == ours
    assert result.stdout.startswith("racy.py:9:46: TL203 `args` is `(url)`, not a tuple")


def test_flake8_disable_noqa_and_its_config(tmp_path: Path) -> None:
    write_tree(tmp_path, {"racy.py": RACY})
    revealed = flake8(["--isolated", "--select", "TL203", "--disable-noqa", "racy.py"], tmp_path)
    assert [line.split(":")[1] for line in revealed.stdout.splitlines()] == ["9", "10"]
    write_tree(tmp_path, {".flake8": "[flake8]\nselect = TL\nextend-ignore = TL203\n"})
    assert " TL203 " not in flake8(["racy.py"], tmp_path).stdout
    write_tree(tmp_path, {".flake8": "[flake8]\nselect = TL\nper-file-ignores = racy.py: TL\n"})
    assert flake8(["racy.py"], tmp_path).stdout == ""
    # With no --select, flake8's defaults include the TL plugin.
    write_tree(tmp_path, {".flake8": "[flake8]\n"})
    assert "racy.py:9:46: TL203" in flake8(["racy.py"], tmp_path).stdout


def test_threadlint_config_applies_under_flake8(tmp_path: Path) -> None:
    write_tree(tmp_path, {
        "src/racy.py": RACY,
        "tests/test_racy.py": RACY,
        "pyproject.toml": '[tool.threadlint]\nper-file-ignores = { "tests/*" = ["TL203"] }\n',
    })
    result = flake8(["--isolated", "--select", "TL", "src", "tests"], tmp_path)
    paths = {line.split(":")[0] for line in result.stdout.splitlines() if " TL203 " in line}
    assert paths == {"src/racy.py"}


def test_flake8_on_stdin(tmp_path: Path) -> None:
    result = flake8(
        ["--isolated", "--select", "TL203", "--stdin-display-name", "racy.py", "-"], tmp_path,
        stdin=RACY,
    )
    assert result.stdout.startswith("racy.py:9:46: TL203 ")


def test_broken_threadlint_config_is_a_finding_not_a_traceback(tmp_path: Path) -> None:
    write_tree(tmp_path, {"racy.py": RACY, "threadlint.toml": 'selekt = ["TL2"]\n'})
    result = flake8(["--isolated", "--select", "TL", "racy.py"], tmp_path)
    assert result.stdout.startswith(
        "racy.py:1:1: TL001 not analysed: threadlint configuration error: "
    )
    assert "unknown key 'selekt'" in result.stdout
    assert "Traceback" not in result.stderr
