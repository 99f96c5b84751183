"""TL401 beyond the fixtures: the free-threaded switch, the tables' config, the suggestion."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from cli_helpers import run_cli, write_tree
from fixture_harness import FIXTURES

from threadlint.config import Settings, apply_table, load_config
from threadlint.runner import run

BAD = FIXTURES / "TL401" / "bad_mandelbrot.py"

SOURCE = """\
from concurrent.futures import ThreadPoolExecutor

import mylib


def crunch(values):
    total = 0
    for v in values:
        total += v * v
    return total


def crunch_with_helper(values):
    total = 0
    for v in values:
        total += mylib.weight(v)
    return total


def main(values):
    with ThreadPoolExecutor() as pool:
        a = pool.submit(crunch, values)
        b = pool.submit(crunch_with_helper, values)
        return a.result(), b.result()
"""


def _messages(path: Path, settings: Settings) -> list[str]:
    result = run([str(path)], settings, jobs=1)
    assert not result.errors, result.errors
    return [f"{d.line}:{d.message}" for d in result.diagnostics if d.code == "TL401"]


def _settings(**table: object) -> Settings:
    base = Settings(root=str(FIXTURES), select=("TL401",))
    return apply_table(base, dict(table), "test") if table else base


def test_free_threaded_silences_tl401() -> None:
    assert _messages(BAD, _settings())
    assert _messages(BAD, replace(_settings(), free_threaded=True)) == []
    assert _messages(BAD, _settings(**{"free-threaded": True})) == []


def test_config_extends_the_tables(tmp_path: Path) -> None:
    module = tmp_path / "work.py"
    module.write_text(SOURCE, encoding="utf-8")
    # mylib.weight is unknown third-party code: only `crunch` is reported.
    assert [m.split(":")[0] for m in _messages(module, _settings())] == ["22"]
    assert [m.split(":")[0] for m in _messages(module, _settings(**{
        "cpu-heavy-functions": ["mylib.weight"],
    }))] == ["22", "23"]
    assert _messages(module, _settings(**{"io-functions": ["work.crunch"]})) == []
    assert [m.split(":")[0] for m in _messages(module, _settings(**{
        "cpu-heavy-functions": ["mylib"], "gil-releasing-functions": ["mylib.weight"],
    }))] == ["22"]


def test_suggestion_follows_the_target_version() -> None:
    unknown = _messages(BAD, _settings())[0]
    assert "InterpreterPoolExecutor on Python 3.14+" in unknown
    new = _messages(BAD, _settings(**{"target-version": "py314"}))[0]
    assert "ProcessPoolExecutor or InterpreterPoolExecutor" in new
    old = _messages(BAD, _settings(**{"target-version": "3.9"}))[0]
    assert "InterpreterPoolExecutor" not in old and "ProcessPoolExecutor" in old


def test_requires_python_informs_the_suggestion(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nrequires-python = ">=3.14"\n[tool.threadlint]\nselect = ["TL401"]\n',
        encoding="utf-8",
    )
    module = tmp_path / "work.py"
    module.write_text(SOURCE, encoding="utf-8")
    settings = load_config(tmp_path / "pyproject.toml")
    assert settings.requires_python == ">=3.14"
    assert "ProcessPoolExecutor or InterpreterPoolExecutor" in _messages(module, settings)[0]


def test_a_project_that_is_not_a_table_has_no_requires_python(tmp_path: Path) -> None:
    # `project = "x"` is not threadlint's table to judge: TL401 still reports.
    write_tree(
        tmp_path,
        {"pyproject.toml": 'project = "x"\n[tool.threadlint]\nselect = ["TL401"]\n',
         "work.py": SOURCE},
    )
    run = run_cli(["-j1"], tmp_path)
    assert run.exit_code == 1, run.stderr
    assert ("work.py", "TL401") in run.codes()
    assert "error" not in run.stderr


def test_message_names_the_evidence() -> None:
    first = _messages(BAD, _settings())[0]
    assert "a nested loop of float arithmetic in `render_row`, no I/O" in first
