"""Which files are linted: directories walked, excludes, .gitignore, named files."""

from __future__ import annotations

from pathlib import Path

from cli_helpers import BAD, run_cli, write_tree

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
        return bool(rule.regex.match(path))

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
