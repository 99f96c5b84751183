"""Configuration: where it is found, what it may say, and how errors look."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_helpers import BAD, PY2, run_cli, write_tree

from threadlint.config import Settings
from threadlint.selection import layer_over


def _pyproject(body: str) -> str:
    return f'[project]\nname = "demo"\n\n[tool.threadlint]\n{body}\n'


def test_config_is_found_walking_up_from_the_current_directory(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "pyproject.toml": _pyproject('ignore = ["TL203"]'),
            "src/deep/er/a.py": BAD,
            "src/deep/er/old.py": PY2,
        },
    )
    run = run_cli(["-j1"], tmp_path / "src" / "deep" / "er")
    assert run.codes() == [("old.py", "TL001")]


def test_pyproject_without_our_table_is_skipped(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "pyproject.toml": _pyproject('ignore = ["TL203"]'),
            "sub/pyproject.toml": '[tool.black]\nline-length = 100\n',
            "sub/a.py": BAD,
        },
    )
    assert run_cli(["-j1"], tmp_path / "sub").codes() == []


def test_broken_pyproject_of_another_tool_is_not_our_business(tmp_path: Path) -> None:
    write_tree(tmp_path, {"pyproject.toml": "[tool.black\n", "a.py": BAD})
    run = run_cli(["-j1"], tmp_path)
    assert run.exit_code == 1
    assert run.codes() == [("a.py", "TL203")]


def test_threadlint_toml_beats_pyproject_in_the_same_directory(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "pyproject.toml": _pyproject('select = ["TL001"]'),
            "threadlint.toml": 'select = ["TL203"]\n',
            "a.py": BAD,
            "old.py": PY2,
        },
    )
    assert run_cli(["-j1"], tmp_path).codes() == [("a.py", "TL203")]


def test_the_nearest_file_wins(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "threadlint.toml": 'select = ["TL001"]\n',
            "sub/pyproject.toml": _pyproject('select = ["TL203"]'),
            "sub/a.py": BAD,
            "sub/old.py": PY2,
        },
    )
    assert run_cli(["-j1"], tmp_path / "sub").codes() == [("a.py", "TL203")]
    assert run_cli(["-j1"], tmp_path).codes() == [("sub/old.py", "TL001")]


def test_isolated_ignores_every_config_file(tmp_path: Path) -> None:
    write_tree(tmp_path, {"pyproject.toml": _pyproject("bogus = 1"), "a.py": BAD})
    assert run_cli(["-j1"], tmp_path).exit_code == 2
    run = run_cli(["-j1", "--isolated"], tmp_path)
    assert run.exit_code == 1
    assert run.codes() == [("a.py", "TL203")]


def test_config_option_names_the_file(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "pyproject.toml": _pyproject('ignore = ["TL001"]'),
            "ci/lint.toml": 'ignore = ["TL203"]\n',
            "a.py": BAD,
            "old.py": PY2,
        },
    )
    assert run_cli(["-j1"], tmp_path).codes() == [("a.py", "TL203")]
    assert run_cli(["-j1", "--config", "ci/lint.toml"], tmp_path).codes() == [("old.py", "TL001")]
    # A pyproject.toml given explicitly is read from its [tool.threadlint] table.
    write_tree(tmp_path, {"other/pyproject.toml": _pyproject('select = ["TL001"]')})
    run = run_cli(["-j1", "--config", "other/pyproject.toml"], tmp_path)
    assert run.codes() == [("old.py", "TL001")]


def test_all_keys_are_accepted(tmp_path: Path) -> None:
    body = """\
select = ["TL"]
ignore = ["TL002"]
extend-select = ["TL203"]
extend-ignore = []
exclude = ["build"]
extend-exclude = ["gen"]
thread-entry-points = ["app.handlers.handle"]
thread-safe-types = ["app.SafeBox"]
lock-types = ["app.locks.make_lock"]
concurrent-api = ["app.pool", "*"]
free-threaded = false
respect-gitignore = true
[tool.threadlint.per-file-ignores]
"tests/*" = ["TL203"]"""
    write_tree(tmp_path, {"pyproject.toml": _pyproject(body), "a.py": BAD})
    run = run_cli(["-j1"], tmp_path)
    assert run.exit_code == 1, run.stderr
    assert run.codes() == [("a.py", "TL203")]


@pytest.mark.parametrize(
    "body, words",
    [
        ("bogus = 1", ["unknown key 'bogus'"]),
        ('select = "TL203"', ["'select' must be a list", "got 'TL203'"]),
        ('ignore = ["TL999"]', ["'ignore'", "unknown rule code or prefix 'TL999'"]),
        ('extend-select = ["E501"]', ["'extend-select'", "'E501'"]),
        ("exclude = [1, 2]", ["'exclude' must be a list of strings"]),
        ('concurrent-api = "*"', ["'concurrent-api' must be a list of strings"]),
        ('free-threaded = "yes"', ["'free-threaded' must be true or false"]),
        ('per-file-ignores = {"tests/*" = "TL203"}', ["'per-file-ignores' must be a table"]),
        ('per-file-ignores = {"tests/*" = ["TL9"]}', ["'per-file-ignores'", "'TL9'"]),
        ("select = [", ["invalid TOML"]),
        ("[tool.threadlint.select]\nx = 1", ["'select' must be a list"]),
    ],
)
def test_config_errors_are_one_line_naming_file_and_key(
    tmp_path: Path, body: str, words: list
) -> None:
    write_tree(tmp_path, {"pyproject.toml": _pyproject(body), "sub/a.py": BAD})
    run = run_cli(["-j1"], tmp_path / "sub")
    assert run.exit_code == 2
    assert run.stdout == ""
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert str(tmp_path / "pyproject.toml") in lines[0]
    for word in words:
        assert word in lines[0]


def test_threadlint_toml_errors_name_it(tmp_path: Path) -> None:
    write_tree(tmp_path, {"threadlint.toml": "extend-ignore = 3\n", "a.py": BAD})
    run = run_cli(["-j1"], tmp_path)
    assert run.exit_code == 2
    assert "threadlint.toml" in run.stderr
    assert "'extend-ignore' must be a list" in run.stderr


def test_per_file_ignores(tmp_path: Path) -> None:
    body = '[tool.threadlint.per-file-ignores]\n"tests/*" = ["TL2"]\n"legacy_*.py" = ["ALL"]'
    write_tree(
        tmp_path,
        {
            "pyproject.toml": _pyproject(body),
            "tests/test_a.py": BAD,
            "src/a.py": BAD,
            "src/legacy_b.py": BAD + PY2,
        },
    )
    assert run_cli(["-j1"], tmp_path).codes() == [("src/a.py", "TL203")]
    # Globs are anchored at the project root, not at the working directory.
    assert run_cli(["-j1", "."], tmp_path / "tests").codes() == []
    assert run_cli(["-j1", "."], tmp_path / "src").codes() == [("a.py", "TL203")]


def test_per_file_ignores_do_not_match_relative_to_a_subdirectory(tmp_path: Path) -> None:
    body = '[tool.threadlint.per-file-ignores]\n"pkg/*" = ["TL203"]'
    write_tree(tmp_path, {"pyproject.toml": _pyproject(body), "src/pkg/a.py": BAD})
    assert run_cli(["-j1"], tmp_path / "src").codes() == [("pkg/a.py", "TL203")]


# --- the command line over the configuration ---------------------------------------


@pytest.mark.parametrize(
    "config, args, expected",
    [
        ('ignore = ["TL203"]', [], {"TL001"}),
        ('ignore = ["TL203"]', ["--select", "TL203"], {"TL203"}),
        ('ignore = ["TL203"]', ["--extend-select", "TL203"], {"TL001", "TL203"}),
        ('ignore = ["TL203"]', ["--extend-select", "TL2"], {"TL001", "TL203"}),
        ('ignore = ["TL203"]', ["--ignore", "TL001"], set()),
        ('select = ["TL203"]', ["--ignore", "TL2"], set()),
        ('select = ["TL203"]', ["--extend-ignore", "TL203"], set()),
        ('select = ["TL203"]', ["--extend-select", "TL001"], {"TL001", "TL203"}),
        ('extend-select = ["TL002"]', ["--select", "TL0"], {"TL001"}),
        ('ignore = ["TL2"]', ["--extend-select", "TL203"], {"TL001", "TL203"}),
    ],
)
def test_command_line_overrides_the_config(
    tmp_path: Path, config: str, args: list, expected: set
) -> None:
    write_tree(
        tmp_path,
        {"pyproject.toml": _pyproject(config), "a.py": BAD, "old.py": PY2, "s.py": "x = 1  # noqa: TL201\n"},
    )
    run = run_cli(["-j1", *args], tmp_path)
    assert {code for _, code in run.codes()} == expected


def test_command_line_excludes_over_the_config(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "pyproject.toml": _pyproject('extend-exclude = ["gen"]'),
            "gen/a.py": BAD,
            "b.py": BAD,
            "build/c.py": BAD,
        },
    )
    assert run_cli(["-j1"], tmp_path).codes() == [("b.py", "TL203")]
    assert run_cli(["-j1", "--extend-exclude", "b.py"], tmp_path).codes() == []
    # --exclude replaces the defaults; the file's extend-exclude still applies.
    assert run_cli(["-j1", "--exclude", "b.py"], tmp_path).codes() == [("build/c.py", "TL203")]


def test_selection_prefix_specificity() -> None:
    def on(settings: Settings, code: str, opt_in: bool = False) -> bool:
        return settings.is_selected(code, opt_in=opt_in)

    base = Settings()
    assert on(base, "TL203") and on(base, "TL001")
    assert not on(base, "TL002", opt_in=True)
    narrowed = Settings(select=("TL2",), ignore=("TL203",))
    assert on(narrowed, "TL201") and not on(narrowed, "TL203") and not on(narrowed, "TL101")
    tie = Settings(select=("TL203",), ignore=("TL203",))
    assert not on(tie, "TL203")
    back = Settings(ignore=("TL2",), extend_select=("TL203",))
    assert on(back, "TL203") and not on(back, "TL201")
    assert on(Settings(select=("ALL",)), "TL002", opt_in=True)
    assert on(Settings(extend_select=("TL002",)), "TL002", opt_in=True)
    assert not on(Settings(select=("TL0",)), "TL002", opt_in=True)
    assert not on(Settings(select=("ALL",), ignore=("TL0",)), "TL002", opt_in=True)
    assert not Settings().is_selected("TL999", preview=True)
    assert Settings(preview=True).is_selected("TL999", preview=True)


def test_layer_over_keeps_the_config_when_the_command_line_is_silent() -> None:
    config = Settings(select=("TL2",), ignore=("TL203",))
    same = layer_over(config, select=[], ignore=[], extend_select=[], extend_ignore=[])
    assert same == config
