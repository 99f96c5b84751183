"""Which files are linted: directories walked, excludes, .gitignore, named files."""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import pytest
from cli_helpers import BAD, run_cli, run_process, write_tree

from threadlint.discovery import _compile_gitignore_pattern, module_name_for


def _linted(tmp_path: Path, *args: str, cwd: Path | None = None) -> list[str]:
    run = run_cli(["-j1", "--select", "TL203", *args], cwd or tmp_path)
    return [path for path, _ in run.codes()]


def test_default_excludes(tmp_path: Path) -> None:
    skipped = [".git", ".venv", "venv", "build", "dist", "__pycache__", ".tox",
               "node_modules", ".threadlint_cache", "lib/site-packages", ".mypy_cache"]
    files = {f"{d}/x.py": BAD for d in skipped}
    files.update({"src/app.py": BAD, "src/build_tools.py": BAD, "venvs/y.py": BAD})
    write_tree(tmp_path, files)
    assert _linted(tmp_path) == ["src/app.py", "src/build_tools.py", "venvs/y.py"]


def test_default_excludes_apply_at_any_depth(tmp_path: Path) -> None:
    write_tree(tmp_path, {"pkg/build/x.py": BAD, "pkg/sub/__pycache__/y.py": BAD, "pkg/a.py": BAD})
    assert _linted(tmp_path) == ["pkg/a.py"]


def test_exclude_replaces_the_defaults(tmp_path: Path) -> None:
    write_tree(tmp_path, {"build/x.py": BAD, "gen/y.py": BAD, "a.py": BAD})
    assert _linted(tmp_path, "--exclude", "gen") == ["a.py", "build/x.py"]


def test_extend_exclude_adds_to_the_defaults(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "build/x.py": BAD,
            "gen/y.py": BAD,
            "src/legacy/old.py": BAD,
            "src/new.py": BAD,
            "src/test_generated_pb2.py": BAD,
        },
    )
    linted = _linted(tmp_path, "--extend-exclude", "gen,src/legacy", "--extend-exclude", "*_pb2.py")
    assert linted == ["src/new.py"]


def test_exclude_path_globs_are_anchored_at_the_project_root(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "pyproject.toml": '[tool.threadlint]\nextend-exclude = ["src/legacy"]\n',
            "src/legacy/old.py": BAD,
            "src/new.py": BAD,
            "other/src/legacy/kept.py": BAD,
        },
    )
    assert _linted(tmp_path) == ["other/src/legacy/kept.py", "src/new.py"]
    assert _linted(tmp_path, cwd=tmp_path / "src") == ["new.py"]


def test_gitignore_is_respected(tmp_path: Path) -> None:
    files = {
        ".git/HEAD": "ref: refs/heads/main\n",
        ".gitignore": "# generated\ngen_*.py\n!gen_keep.py\nout/\n/rootonly.py\ndocs/**/conf.py\n",
        "gen_a.py": BAD,
        "gen_keep.py": BAD,
        "pkg/gen_b.py": BAD,
        "out/x.py": BAD,
        "pkg/out/y.py": BAD,
        "rootonly.py": BAD,
        "pkg/rootonly.py": BAD,
        "docs/a/b/conf.py": BAD,
        "docs/conf_other.py": BAD,
        "pkg/main.py": BAD,
    }
    write_tree(tmp_path, files)
    assert _linted(tmp_path) == [
        "docs/conf_other.py",
        "gen_keep.py",
        "pkg/main.py",
        "pkg/rootonly.py",
    ]
    everything = _linted(tmp_path, "--no-respect-gitignore")
    assert len(everything) == 10


def test_nested_gitignore_and_walking_from_a_subdirectory(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            ".git/HEAD": "ref: refs/heads/main\n",
            ".gitignore": "*_local.py\n",
            "pkg/.gitignore": "fixtures/\n!keep_local.py\n",
            "pkg/a.py": BAD,
            "pkg/fixtures/f.py": BAD,
            "pkg/x_local.py": BAD,
            "pkg/keep_local.py": BAD,
            "y_local.py": BAD,
            "other/fixtures/g.py": BAD,
        },
    )
    assert _linted(tmp_path) == ["other/fixtures/g.py", "pkg/a.py", "pkg/keep_local.py"]
    # Walking from below still applies the .gitignore files above.
    assert _linted(tmp_path, cwd=tmp_path / "pkg") == ["a.py", "keep_local.py"]
    assert _linted(tmp_path, "pkg") == ["pkg/a.py", "pkg/keep_local.py"]


def test_negation_cannot_reinclude_a_file_in_an_ignored_directory(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            ".git/HEAD": "",
            ".gitignore": "vendor/\n!vendor/mine.py\n",
            "vendor/mine.py": BAD,
            "app.py": BAD,
        },
    )
    assert _linted(tmp_path) == ["app.py"]


def test_gitignore_config_switch(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            ".git/HEAD": "",
            ".gitignore": "ignored.py\n",
            "pyproject.toml": "[tool.threadlint]\nrespect-gitignore = false\n",
            "ignored.py": BAD,
        },
    )
    assert _linted(tmp_path) == ["ignored.py"]


def test_named_files_are_always_linted(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            ".git/HEAD": "",
            ".gitignore": "ignored.py\n",
            "ignored.py": BAD,
            "build/gen.py": BAD,
            "script": BAD,
            "pyproject.toml": '[tool.threadlint]\nextend-exclude = ["excluded.py"]\n',
            "excluded.py": BAD,
        },
    )
    assert _linted(tmp_path) == []
    named = _linted(tmp_path, "ignored.py", "build/gen.py", "excluded.py", "script")
    assert named == ["build/gen.py", "excluded.py", "ignored.py", "script"]


def test_a_file_named_twice_is_linted_once(tmp_path: Path) -> None:
    write_tree(tmp_path, {"a.py": BAD})
    assert _linted(tmp_path, "a.py", ".", "./a.py") == ["a.py"]


def test_only_python_files_are_found_in_directories(tmp_path: Path) -> None:
    write_tree(tmp_path, {"a.py": BAD, "notes.txt": BAD, "b.pyi": BAD, "c.py.orig": BAD})
    assert _linted(tmp_path) == ["a.py"]


def test_gitignore_pattern_translation() -> None:
    def matches(pattern: str, path: str) -> bool:
        rule = _compile_gitignore_pattern(pattern)
        assert rule is not None
        return rule.matches(path)

    assert matches("*.py", "a/b/c.py")
    assert matches("/top.py", "top.py") and not matches("/top.py", "a/top.py")
    assert matches("a/*.py", "a/x.py") and not matches("a/*.py", "a/b/x.py")
    assert matches("**/gen", "x/y/gen") and matches("**/gen", "gen")
    assert matches("a/**/b", "a/b") and matches("a/**/b", "a/x/y/b")
    assert matches("a/**", "a/x/y")
    assert matches("file[0-9].py", "file3.py") and not matches("file[!0-9].py", "file3.py")
    assert matches("\\#hash.py", "#hash.py")
    assert _compile_gitignore_pattern("# comment") is None
    assert _compile_gitignore_pattern("   ") is None
    negated = _compile_gitignore_pattern("!keep.py")
    assert negated is not None and negated.negated
    directory = _compile_gitignore_pattern("build/")
    assert directory is not None and directory.dir_only


def test_module_names_follow_packages(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {"top/__init__.py": "", "top/pkg/__init__.py": "", "top/pkg/mod.py": "", "script.py": ""},
    )
    assert module_name_for(tmp_path / "top" / "pkg" / "mod.py") == "top.pkg.mod"
    assert module_name_for(tmp_path / "top" / "pkg" / "__init__.py") == "top.pkg"
    assert module_name_for(tmp_path / "script.py") == "script"


# --- files that are not regular files ------------------------------------------
# Each runs threadlint as a process with a timeout: a regression that blocks
# fails the test instead of hanging the suite.


def test_a_fifo_found_by_walking_is_skipped(tmp_path: Path) -> None:
    write_tree(tmp_path, {"a.py": BAD, "pkg/z.py": BAD})
    os.mkfifo(tmp_path / "pipe.py")
    os.mkfifo(tmp_path / "pkg" / "pipe.py")
    for jobs in ("-j1", "-j2"):
        run = run_process([jobs, "--select", "TL203", "--no-cache"], tmp_path, timeout=60)
        assert run.exit_code == 1, run.stderr
        assert run.codes() == [("a.py", "TL203"), ("pkg/z.py", "TL203")]
        assert "error" not in run.stderr


def test_a_fifo_named_on_the_command_line_is_an_error_of_that_file(tmp_path: Path) -> None:
    write_tree(tmp_path, {"a.py": BAD})
    os.mkfifo(tmp_path / "pipe.py")
    run = run_process(["-j1", "--select", "TL203", "a.py", "pipe.py"], tmp_path, timeout=60)
    assert run.exit_code == 2  # the findings of pipe.py, if any, are lost
    assert run.codes() == [("a.py", "TL203")]
    assert "threadlint: error: pipe.py: cannot read: not a regular file (a FIFO)" in run.stderr
    assert "internal error" not in run.stderr


def test_a_socket_is_skipped_when_found_and_reported_when_named(tmp_path: Path) -> None:
    write_tree(tmp_path, {"a.py": BAD})
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(tmp_path / "sock.py"))
        found = run_process(["-j1", "--select", "TL203"], tmp_path, timeout=60)
        assert (found.exit_code, found.codes()) == (1, [("a.py", "TL203")]), found.stderr
        named = run_process(["-j1", "--select", "TL203", ".", "sock.py"], tmp_path, timeout=60)
    finally:
        server.close()
    assert named.exit_code == 2
    assert named.codes() == [("a.py", "TL203")]
    assert "sock.py: cannot read: not a regular file (a socket)" in named.stderr


def test_symlink_loops_anywhere_do_not_stop_the_run(tmp_path: Path) -> None:
    write_tree(tmp_path, {"a.py": BAD, "pkg/b.py": BAD, ".git/HEAD": "", ".gitignore": "*.log\n"})
    (tmp_path / "loop").symlink_to("loop")  # a directory-like loop: not a .py name
    (tmp_path / "pkg" / "one").symlink_to("two")
    (tmp_path / "pkg" / "two").symlink_to("one")
    run = run_cli(["-j1", "--select", "TL203"], tmp_path)
    assert run.exit_code == 1, run.stderr
    assert run.codes() == [("a.py", "TL203"), ("pkg/b.py", "TL203")]

    (tmp_path / "self.py").symlink_to("self.py")  # a loop named like a source file
    run = run_cli(["-j1", "--select", "TL203"], tmp_path)
    assert run.exit_code == 2
    assert run.codes() == [("a.py", "TL203"), ("pkg/b.py", "TL203")]
    assert "threadlint: error: self.py: cannot read: a symbolic link loop" in run.stderr
    assert "internal error" not in run.stderr and "RuntimeError" not in run.stderr


def test_a_dangling_symlink_is_reported_with_its_name(tmp_path: Path) -> None:
    write_tree(tmp_path, {"a.py": BAD})
    (tmp_path / "gone.py").symlink_to(tmp_path / "missing" / "gone.py")
    for args in ([], ["a.py", "gone.py"]):
        run = run_cli(["-j1", "--select", "TL203", *args], tmp_path)
        assert run.exit_code == 2
        assert run.codes() == [("a.py", "TL203")]
        assert "threadlint: error: gone.py: cannot read: a dangling symbolic link" in run.stderr
        assert "internal error" not in run.stderr


def test_a_directory_link_named_like_a_source_file(tmp_path: Path) -> None:
    write_tree(tmp_path, {"a.py": BAD, "sub/b.py": BAD})
    (tmp_path / "here.py").symlink_to(".")  # was reported as `.`
    (tmp_path / "sub.py").symlink_to("sub")
    run = run_cli(["-j1", "--select", "TL203"], tmp_path)
    assert run.exit_code == 2
    assert run.codes() == [("a.py", "TL203"), ("sub/b.py", "TL203")]
    assert "threadlint: error: here.py: cannot read: is a directory" in run.stderr
    assert "threadlint: error: sub.py: cannot read: is a directory" in run.stderr
    assert "internal error" not in run.stderr
    # Named on the command line, a link to a directory is walked like one.
    named = run_cli(["-j1", "--select", "TL203", "sub.py"], tmp_path)
    assert named.exit_code == 1, named.stderr
    assert named.codes() == [("sub/b.py", "TL203")]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a file whatever its mode")
def test_an_unreadable_file_is_reported_with_its_name(tmp_path: Path) -> None:
    write_tree(tmp_path, {"a.py": BAD, "secret.py": BAD})
    (tmp_path / "secret.py").chmod(0)
    run = run_cli(["-j1", "--select", "TL203"], tmp_path)
    assert run.exit_code == 2
    assert run.codes() == [("a.py", "TL203")]
    assert "threadlint: error: secret.py: cannot read: Permission denied" in run.stderr


def test_a_file_link_is_shown_under_its_own_name(tmp_path: Path) -> None:
    write_tree(tmp_path, {"real/racy.py": BAD})
    (tmp_path / "link.py").symlink_to(tmp_path / "real" / "racy.py")
    run = run_cli(["-j1", "--select", "TL203", "link.py"], tmp_path)
    assert run.codes() == [("link.py", "TL203")]


# --- hostile .gitignore lines ----------------------------------------------------


def test_a_reversed_range_in_gitignore_matches_nothing(tmp_path: Path) -> None:
    write_tree(tmp_path, {".git/HEAD": "", ".gitignore": "[z-a]\n[z-a].py\nb[!a-c].py\n",
                          "a.py": BAD, "z.py": BAD, "bd.py": BAD, "bb.py": BAD})
    assert _linted(tmp_path) == ["a.py", "bb.py", "z.py"]


def test_repeated_double_stars_in_gitignore_take_linear_time(tmp_path: Path) -> None:
    deep = "/".join(f"d{n}" for n in range(30))
    write_tree(tmp_path, {".git/HEAD": "", ".gitignore": "**/" * 25 + "x\n" + "*a" * 40 + "*b\n",
                          f"{deep}/y.py": BAD, f"{deep}/x/z.py": BAD, "a" * 80 + ".py": BAD})
    started = time.monotonic()
    assert _linted(tmp_path) == sorted([f"{deep}/y.py", "a" * 80 + ".py"])
    assert time.monotonic() - started < 20  # a backtracking regex takes hours


def test_gitignore_pattern_semantics() -> None:
    def matches(pattern: str, path: str) -> bool:
        rule = _compile_gitignore_pattern(pattern)
        assert rule is not None
        return rule.matches(path)

    assert matches("**/" * 25 + "x", "a/b/x") and matches("**/" * 25 + "x", "x")
    assert not matches("**/" * 25 + "x", "a/" * 40 + "y")
    assert not matches("*a" * 40 + "*b", "a" * 200)
    assert matches("a/**/**/b", "a/b") and matches("a/**/**/b", "a/x/y/b")
    assert not matches("a/**/b", "ab") and not matches("a/**/b", "a/xb")
    assert matches("[]x].py", "].py") and matches("[]x].py", "x.py")
    assert matches("[a-]", "-") and matches("[!a].py", "b.py") and not matches("[!a].py", "a.py")
    assert not matches("a[/]b", "a/b")  # a class never matches the separator
    assert matches("\\*.py", "*.py") and not matches("\\*.py", "x.py")
    assert matches("\\!keep.py", "!keep.py")
    assert matches("foo\\ ", "foo ") and matches("foo  ", "foo")
    assert matches("[abc", "[abc")  # an unterminated class is literal text
    assert matches("a?c", "abc") and not matches("a?c", "a/c")
    assert matches("doc/*.txt", "doc/x.txt") and not matches("doc/*.txt", "doc/a/x.txt")
    assert matches("*.py", "pkg/x.py") and not matches("*.py", "pkg/x.pyc")
