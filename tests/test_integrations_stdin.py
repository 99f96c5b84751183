"""Editors lint unsaved buffers through stdin, named with --stdin-filename."""

from __future__ import annotations

from pathlib import Path

from cli_helpers import run_cli, write_tree

RACY = """\
import threading


def start(url):
    t = threading.Thread(target=print, args=(url))
    t.start()
    t.join()
"""

CONFIG = '[tool.threadlint]\nper-file-ignores = { "tests/*" = ["TL203"] }\n'


def test_the_named_files_project_configuration_applies(tmp_path: Path) -> None:
    # The editor runs threadlint from outside the project (no config there).
    write_tree(tmp_path, {"proj/pyproject.toml": CONFIG, "proj/src/.keep": "", "proj/tests/.keep": ""})
    args = ["-j1", "--select", "TL203", "--stdin-filename"]
    ignored = run_cli([*args, "proj/tests/test_app.py", "-"], tmp_path, stdin=RACY)
    assert (ignored.exit_code, ignored.stdout) == (0, "")
    kept = run_cli([*args, str(tmp_path / "proj/src/app.py")], tmp_path, stdin=RACY)
    assert kept.exit_code == 1
    assert kept.stdout.startswith(f"{tmp_path / 'proj/src/app.py'}:5:46: TL203 ")


def test_an_explicit_config_wins_over_the_named_files_project(tmp_path: Path) -> None:
    write_tree(tmp_path, {
        "proj/pyproject.toml": CONFIG,
        "proj/tests/.keep": "",
        "other.toml": "preview = false\n",
    })
    run = run_cli(
        ["-j1", "--select", "TL203", "--config", "other.toml", "--stdin-filename",
         "proj/tests/test_app.py"],
        tmp_path, stdin=RACY,
    )
    assert run.codes() == [("proj/tests/test_app.py", "TL203")]
