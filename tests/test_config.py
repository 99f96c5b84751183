"""Configuration: where it is found, what it may say, and how errors look."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from cli_helpers import BAD, PY2, run_cli, run_process, write_tree

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
    # From above, each file still has its own nearest configuration.
    assert run_cli(["-j1"], tmp_path).codes() == [("sub/a.py", "TL203")]


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


# --- hostile configuration files --------------------------------------------------


def test_a_deeply_nested_pyproject_of_another_tool_is_ignored(tmp_path: Path) -> None:
    deep = "x = " + "[" * 5000 + "]" * 5000 + "\n"
    write_tree(tmp_path, {"pyproject.toml": "[tool.other]\n" + deep, "a.py": BAD})
    run = run_cli(["-j1", "--select", "TL203"], tmp_path)
    assert run.exit_code == 1, run.stderr
    assert run.codes() == [("a.py", "TL203")]


def test_a_deeply_nested_threadlint_config_is_a_one_line_error(tmp_path: Path) -> None:
    deep = "x = " + "{a = " * 5000 + "1" + "}" * 5000 + "\n"
    for name, text in [
        ("pyproject.toml", '[tool.threadlint]\nselect = ["TL2"]\n' + deep),
        ("threadlint.toml", deep),
    ]:
        write_tree(tmp_path, {name: text, "a.py": BAD})
        run = run_cli(["-j1"], tmp_path)
        assert run.exit_code == 2
        assert run.stderr.startswith(f"threadlint: error: {tmp_path / name}: invalid TOML: ")
        assert "nested more than 100 levels deep" in run.stderr
        assert len(run.stderr.splitlines()) == 1
        (tmp_path / name).unlink()


def test_brackets_in_strings_and_comments_are_not_nesting(tmp_path: Path) -> None:
    text = (
        "[tool.threadlint]\n"
        '# [[[[ ' + "[" * 200 + "\n"
        'extend-exclude = ["' + "[" * 200 + '", \'' + "{" * 200 + "', \"\"\"\n" + "[" * 200
        + '\n\\"""", \'\'\'' + "[" * 200 + "''']\n"
    )
    write_tree(tmp_path, {"pyproject.toml": text, "a.py": BAD})
    run = run_cli(["-j1", "--select", "TL203"], tmp_path)
    assert run.exit_code == 1, run.stderr


@pytest.mark.parametrize("text", ["tool = 5\n", 'tool = "x"\n', "tool = [1]\n", 'project = "x"\n'])
def test_other_tools_tables_of_any_type_are_theirs(tmp_path: Path, text: str) -> None:
    write_tree(tmp_path, {"pyproject.toml": text, "a.py": BAD})
    for args in ([], ["--config", "pyproject.toml"]):
        run = run_cli(["-j1", "--select", "TL203", *args], tmp_path)
        assert run.exit_code == 1, run.stderr
        assert run.codes() == [("a.py", "TL203")]


def test_a_pyproject_configuring_threadlint_that_is_not_utf8_is_an_error(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {"pyproject.toml": b'[tool.threadlint]\nselect = ["TL2"]  # caf\xe9\n', "a.py": BAD},
    )
    run = run_cli(["-j1"], tmp_path)
    assert run.exit_code == 2
    assert run.stderr.startswith(f"threadlint: error: {tmp_path / 'pyproject.toml'}: not UTF-8")
    # Not ours: another tool's broken pyproject.toml is its business.
    (tmp_path / "pyproject.toml").write_bytes(b'[tool.other]\nname = "caf\xe9"\n')
    assert run_cli(["-j1", "--select", "TL203"], tmp_path).exit_code == 1


def test_a_config_file_that_cannot_be_read_is_an_error(tmp_path: Path) -> None:
    write_tree(tmp_path, {"a.py": BAD})
    (tmp_path / "pyproject.toml").symlink_to("pyproject.toml")  # a loop: cannot be read
    for args in ([], ["--config", "pyproject.toml"]):
        run = run_cli(["-j1", *args], tmp_path)
        assert run.exit_code == 2
        assert run.stderr == (
            f"threadlint: error: {'' if args else str(tmp_path) + '/'}pyproject.toml: "
            "cannot read configuration: a symbolic link loop\n"
        )


def test_a_fifo_named_like_a_config_file_does_not_block(tmp_path: Path) -> None:
    write_tree(tmp_path, {"a.py": BAD})
    os.mkfifo(tmp_path / "pyproject.toml")
    for args in ([], ["--config", "pyproject.toml"]):
        run = run_process(["-j1", *args, "a.py"], tmp_path, timeout=60)
        assert run.exit_code == 2
        assert "pyproject.toml: cannot read configuration: not a regular file (a FIFO)" in run.stderr


def test_config_errors_escape_what_the_file_says(tmp_path: Path) -> None:
    write_tree(tmp_path, {"threadlint.toml": '"a\\nb.py:1:1: TL201 \\u001b[2J" = 1\n'})
    run = run_cli(["-j1"], tmp_path)
    assert run.exit_code == 2
    assert len(run.stderr.splitlines()) == 1 and "\033" not in run.stderr
    assert "unknown key 'a\\nb.py:1:1: TL201 \\x1b[2J'" in run.stderr
    bad_code = run_cli(["-j1", "--isolated", "--select", "TL1\033[2J"], tmp_path)
    assert bad_code.exit_code == 2 and "\033" not in bad_code.stderr
    assert "unknown rule code or prefix 'TL1\\x1b[2J'" in bad_code.stderr
