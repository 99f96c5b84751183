"""End to end: the bundled example's full report, and the README's copy of it."""

from __future__ import annotations

from pathlib import Path

from cli_helpers import run_cli

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).parent / "golden" / "examples.txt"


def test_example_report_matches_the_golden_file() -> None:
    run = run_cli(["--isolated", "--no-cache", "-j1", "examples/"], ROOT)
    assert run.exit_code == 1
    assert run.stdout == GOLDEN.read_text(encoding="utf-8"), (
        "the report changed; if on purpose, update tests/golden/examples.txt and README.md"
    )
    assert run.stderr.strip().startswith("Found ")


def test_readme_shows_real_output() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    shown = [line for line in readme.splitlines() if line.startswith("examples/")]
    assert shown, "the README's output sample is gone"
    golden = GOLDEN.read_text(encoding="utf-8").splitlines()
    for line in shown:
        assert line in golden, f"README shows output threadlint does not print: {line}"
