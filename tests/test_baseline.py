"""`--write-baseline` / `--baseline`: adopting threadlint on code that already has findings."""

from __future__ import annotations

import json
import os
from pathlib import Path

from cli_helpers import ARGS_NOT_TUPLE, run_cli, run_process, write_tree

LEGACY = ARGS_NOT_TUPLE

ARGS = ["-j1", "--select", "TL203"]


def _adopt(root: Path) -> None:
    written = run_cli([*ARGS, "--write-baseline", "threadlint-baseline.json"], root)
    assert written.exit_code == 0, written.stderr
    assert "Wrote 1 finding to the baseline threadlint-baseline.json." in written.stderr
    assert written.stdout == ""


def test_baselined_findings_are_not_reported(tmp_path: Path) -> None:
    write_tree(tmp_path, {"src/legacy.py": LEGACY})
    _adopt(tmp_path)
    data = json.loads((tmp_path / "threadlint-baseline.json").read_text(encoding="utf-8"))
    assert data["threadlint_baseline"] == 1
    [entry] = data["findings"]
    assert (entry["path"], entry["code"], entry["line"]) == ("src/legacy.py", "TL203", 9)
    run = run_cli([*ARGS, "--baseline", "threadlint-baseline.json"], tmp_path)
    assert (run.exit_code, run.stdout) == (0, "")
    assert "1 known problem hidden by the baseline" in run.stderr


def test_edits_above_a_baselined_finding_do_not_resurrect_it(tmp_path: Path) -> None:
    write_tree(tmp_path, {"src/legacy.py": LEGACY})
    _adopt(tmp_path)
    edited = LEGACY.replace(
        "import threading\n", '"""Docs added later."""\n\nimport logging\nimport threading\n\nLOG = 1\n'
    )
    # Reindenting the offending line is not a change to it either.
    edited = edited.replace("    t = threading.Thread(target=fetch, args=(url))",
                            "    t = threading.Thread(target=fetch,  args=(url))")
    (tmp_path / "src/legacy.py").write_text(edited, encoding="utf-8")
    run = run_cli([*ARGS, "--baseline", "threadlint-baseline.json"], tmp_path)
    assert (run.exit_code, run.stdout) == (0, "")


def test_new_findings_and_edited_lines_are_reported(tmp_path: Path) -> None:
    write_tree(tmp_path, {"src/legacy.py": LEGACY})
    _adopt(tmp_path)
    # A copy of the same bug is a new finding even though its line is identical.
    copied = LEGACY + "\n\ndef again(url):\n    t = threading.Thread(target=fetch, args=(url))\n"
    (tmp_path / "src/legacy.py").write_text(copied, encoding="utf-8")
    run = run_cli([*ARGS, "--baseline", "threadlint-baseline.json"], tmp_path)
    assert run.exit_code == 1
    assert len(run.findings()) == 1
    # Editing the offending line itself brings its finding back for review.
    changed = LEGACY.replace("args=(url))", "args=(url + '/'))")
    (tmp_path / "src/legacy.py").write_text(changed, encoding="utf-8")
    run = run_cli([*ARGS, "--baseline", "threadlint-baseline.json"], tmp_path)
    assert [(p, line) for p, line, _, _ in run.findings()] == [("src/legacy.py", 9)]
    # A new file's findings are new.
    write_tree(tmp_path, {"src/new.py": LEGACY})
    run = run_cli([*ARGS, "--baseline", "threadlint-baseline.json", "src/new.py"], tmp_path)
    assert run.codes() == [("src/new.py", "TL203")]


def test_baseline_paths_are_relative_to_the_baseline_file(tmp_path: Path) -> None:
    write_tree(tmp_path, {"src/legacy.py": LEGACY})
    _adopt(tmp_path)
    run = run_cli([*ARGS, "--baseline", "../threadlint-baseline.json", "."], tmp_path / "src")
    assert (run.exit_code, run.stdout) == (0, "")


def test_baseline_problems_are_usage_errors(tmp_path: Path) -> None:
    write_tree(tmp_path, {"a.py": LEGACY, "bad.json": "{}", "broken.json": "{"})
    missing = run_cli([*ARGS, "--baseline", "none.json"], tmp_path)
    assert missing.exit_code == 2
    assert "--baseline none.json: no such file (create it with --write-baseline none.json)" in (
        missing.stderr
    )
    for name in ("bad.json", "broken.json"):
        run = run_cli([*ARGS, "--baseline", name], tmp_path)
        assert run.exit_code == 2
        assert f"--baseline {name}: not a threadlint baseline" in run.stderr


def test_a_baseline_nested_too_deeply_is_a_usage_error(tmp_path: Path) -> None:
    write_tree(tmp_path, {"a.py": LEGACY, "deep.json": "[" * 200_000 + "]" * 200_000})
    run = run_cli([*ARGS, "--baseline", "deep.json"], tmp_path)
    assert run.exit_code == 2
    assert run.stderr == (
        "threadlint: error: --baseline deep.json: not a threadlint baseline "
        "(JSON nested too deeply to read)\n"
    )


def test_a_fifo_as_baseline_does_not_block(tmp_path: Path) -> None:
    write_tree(tmp_path, {"a.py": LEGACY})
    os.mkfifo(tmp_path / "pipe.json")
    run = run_process([*ARGS, "--baseline", "pipe.json"], tmp_path, timeout=60)
    assert run.exit_code == 2
    assert "--baseline pipe.json: cannot read: not a regular file (a FIFO)" in run.stderr


def test_a_name_that_is_not_utf8_round_trips_through_the_baseline(tmp_path: Path) -> None:
    name = os.fsdecode(b"caf\xe9\x1b.py")
    write_tree(tmp_path, {name: LEGACY, "b.py": LEGACY})
    written = run_process([*ARGS, "--write-baseline", "base.json"], tmp_path)
    assert written.exit_code == 0, written.stderr
    data = json.loads((tmp_path / "base.json").read_text(encoding="ascii"))
    assert sorted(f["path"] for f in data["findings"]) == ["b.py", name]
    (tmp_path / "b.py").write_text(LEGACY + LEGACY.replace("start", "again"), encoding="utf-8")
    run = run_process([*ARGS, "--baseline", "base.json"], tmp_path)
    assert run.exit_code == 1, run.stderr
    assert run.codes() == [("b.py", "TL203")]  # the new one only
