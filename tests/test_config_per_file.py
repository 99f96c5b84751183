"""Configuration per file: each file is governed by the nearest configuration above it.

The same tree is linted by every route (a directory, named files, stdin,
flake8, the language server) from different working directories; each file
must get the findings its own configuration asks for, whatever the route.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cli_helpers import BAD, PY2, run_cli, run_process, write_tree

import threadlint.config_lookup
from threadlint.config_lookup import ConfigLookup

# The root ignores TL203; `nested/` selects TL203 only (so its TL001 is not
# reported); `sub/` has a pyproject.toml of another tool, which is passed over.
TREE = {
    "pyproject.toml": '[project]\nname = "demo"\n\n[tool.threadlint]\nignore = ["TL203"]\n',
    "a.py": BAD,
    "old.py": PY2,
    "nested/threadlint.toml": 'select = ["TL203"]\n',
    "nested/b.py": BAD,
    "nested/old.py": PY2,
    "sub/pyproject.toml": "[tool.black]\nline-length = 100\n",
    "sub/c.py": BAD,
}
EXPECTED = [("nested/b.py", "TL203"), ("old.py", "TL001")]
FILES = ["a.py", "old.py", "nested/b.py", "nested/old.py", "sub/c.py"]


def _tree(tmp_path: Path) -> Path:
    return write_tree(tmp_path / "proj", TREE)


def _from(prefix: str, codes: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(prefix + path, code) for path, code in codes]


def test_a_directory_run_uses_each_files_nearest_configuration(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    assert run_cli(["-j1", "--no-cache"], root).codes() == EXPECTED
    # From elsewhere, the same files get the same findings.
    assert run_cli(["-j1", "--no-cache", "proj"], tmp_path).codes() == _from("proj/", EXPECTED)
    assert run_cli(["-j1", "--no-cache", "."], root / "nested").codes() == [("b.py", "TL203")]
    assert run_cli(["-j1", "--no-cache", ".."], root / "sub").codes() == _from("../", EXPECTED)


@pytest.mark.parametrize("whole", ["--whole-project", "--no-whole-project"])
def test_named_files_use_their_own_configuration(tmp_path: Path, whole: str) -> None:
    root = _tree(tmp_path)
    run = run_cli(["-j1", "--no-cache", whole, *FILES], root)
    assert run.codes() == EXPECTED
    elsewhere = run_cli(["-j1", "--no-cache", whole, *(f"proj/{f}" for f in FILES)], tmp_path)
    assert elsewhere.codes() == _from("proj/", EXPECTED)


@pytest.mark.parametrize("cwd", ["proj", "proj/sub", "."])
def test_stdin_uses_the_configuration_of_the_file_it_names(tmp_path: Path, cwd: str) -> None:
    root = _tree(tmp_path)
    where = tmp_path / cwd
    for name, expected in [("nested/b.py", ["TL203"]), ("a.py", []), ("sub/c.py", [])]:
        path = str((root / name).relative_to(where)) if cwd != "proj/sub" else str(root / name)
        run = run_cli(["-j1", "--no-cache", "--stdin-filename", path, "-"], where, stdin=BAD)
        assert [code for _, code in run.codes()] == expected, (cwd, name, run.stderr)


def test_the_command_line_overrides_every_files_configuration(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    selected = run_cli(["-j1", "--no-cache", "--select", "TL203"], root).codes()
    assert selected == [("a.py", "TL203"), ("nested/b.py", "TL203"), ("sub/c.py", "TL203")]
    ignored = run_cli(["-j1", "--no-cache", "--extend-ignore", "TL203"], root).codes()
    assert ignored == [("old.py", "TL001")]
    excluded = run_cli(["-j1", "--no-cache", "--extend-exclude", "old.py"], root).codes()
    assert excluded == [("nested/b.py", "TL203")]
    # A path on the command line is relative to the working directory, also
    # for a file that a nested configuration governs.
    for cwd, pattern in [(root, "nested/b.py"), (root / "sub", "../nested/*")]:
        run = run_cli(["-j1", "--no-cache", "--extend-exclude", pattern, str(root)], cwd)
        assert [code for _, code in run.codes()] == ["TL001"], (cwd, pattern, run.stdout)
    forced = run_cli(["-j1", "--no-cache", "--force-exclude", "--extend-exclude", "nested/b.py",
                      "nested/b.py", "a.py"], root)
    assert forced.codes() == []


def test_config_and_isolated_apply_to_every_file(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    # `--config` in pyproject.toml form, under another name: the nested
    # configuration is not consulted.
    write_tree(root, {"ci/lint.toml": '[tool.threadlint]\nselect = ["TL001"]\n'})
    run = run_cli(["-j1", "--no-cache", "--config", "ci/lint.toml"], root)
    assert run.codes() == [("nested/old.py", "TL001"), ("old.py", "TL001")], run.stderr
    # ...and in threadlint.toml form.
    write_tree(root, {"ci/top.toml": 'select = ["TL203"]\n'})
    run = run_cli(["-j1", "--no-cache", "--config", "ci/top.toml"], root)
    assert run.codes() == [("a.py", "TL203"), ("nested/b.py", "TL203"), ("sub/c.py", "TL203")]
    isolated = run_cli(["-j1", "--no-cache", "--isolated"], root).codes()
    assert sorted(isolated) == sorted(
        [(f, "TL203") for f in ("a.py", "nested/b.py", "sub/c.py")]
        + [("old.py", "TL001"), ("nested/old.py", "TL001")]
    )


def test_an_unknown_key_in_a_pyproject_form_config_still_names_the_key(tmp_path: Path) -> None:
    write_tree(tmp_path, {"lint.toml": "[tool.threadlint]\nbogus = 1\n", "a.py": BAD})
    run = run_cli(["-j1", "--config", "lint.toml"], tmp_path)
    assert run.exit_code == 2
    assert "lint.toml: [tool.threadlint]: unknown key 'bogus'" in run.stderr


@pytest.mark.parametrize(
    ("present", "winner"),
    [
        ((".threadlint.toml", "threadlint.toml", "pyproject.toml"), ".threadlint.toml"),
        (("threadlint.toml", "pyproject.toml"), "threadlint.toml"),
        ((".threadlint.toml", "pyproject.toml"), ".threadlint.toml"),
    ],
)
def test_precedence_within_one_directory(
    tmp_path: Path, present: tuple[str, ...], winner: str
) -> None:
    # Each file selects another rule: the findings say which one was read.
    selects = {".threadlint.toml": "TL203", "threadlint.toml": "TL001", "pyproject.toml": "TL002"}
    files: dict[str, str] = {"a.py": BAD + "x = 1  # threadlint: ignore[TL101]\n", "old.py": PY2}
    for name in present:
        body = f'select = ["{selects[name]}"]\n'
        files[name] = f"[tool.threadlint]\n{body}" if name == "pyproject.toml" else body
    write_tree(tmp_path, files)
    run = run_cli(["-j1", "--no-cache", "-v"], tmp_path)
    assert {code for _, code in run.codes()} == {selects[winner]}
    assert f"threadlint: configuration: {tmp_path / winner}\n" in run.stderr


def test_paths_in_a_configuration_are_relative_to_its_directory(tmp_path: Path) -> None:
    pfi = 'per-file-ignores = { "gen/*.py" = ["TL203"] }\n'
    write_tree(tmp_path, {
        "pyproject.toml": f"[tool.threadlint]\n{pfi}",
        "gen/x.py": BAD,  # the root's glob: ignored
        "one/threadlint.toml": 'extend-exclude = ["skipped/*"]\n',
        "one/gen/x.py": BAD,  # governed by one/, which ignores nothing
        "one/skipped/y.py": BAD,  # excluded by one/'s glob, relative to one/
        "skipped/y.py": BAD,  # one/'s exclude does not reach here
        "two/threadlint.toml": pfi,
        "two/gen/x.py": BAD,  # two/'s glob, anchored at two/: ignored
    })
    expected = [("one/gen/x.py", "TL203"), ("skipped/y.py", "TL203")]
    assert run_cli(["-j1", "--no-cache"], tmp_path).codes() == expected
    from_below = run_cli(["-j1", "--no-cache", "../.."], tmp_path / "one" / "gen").codes()
    assert from_below == [("../../skipped/y.py", "TL203"), ("x.py", "TL203")]
    # --force-exclude judges a named file by its own configuration's excludes.
    named = run_cli(["-j1", "--no-cache", "--force-exclude", "one/skipped/y.py", "skipped/y.py"],
                    tmp_path)
    assert named.codes() == [("skipped/y.py", "TL203")]


ENTRY = """\
hits = 0


def on_event(event):
    global hits
    hits += 1
    return hits
"""


def test_analysis_settings_come_from_the_project_roots_configuration(tmp_path: Path) -> None:
    """thread-entry-points change the model of the whole project: a nested
    threadlint.toml does not change them for its files; a nested project (its
    own pyproject.toml) has its own."""
    write_tree(tmp_path, {
        "pyproject.toml": '[tool.threadlint]\nthread-entry-points = ["app.on_event", '
                          '"handlers.on_event"]\n',
        "app.py": ENTRY,
        # File-level settings of nested/ apply; its analysis settings do not.
        "nested/threadlint.toml": 'thread-entry-points = []\nextend-ignore = ["TL2"]\n',
        "nested/handlers.py": ENTRY,
        "lib/pyproject.toml": '[tool.threadlint]\nthread-entry-points = ["tasks.on_event"]\n',
        "lib/tasks.py": ENTRY,
        "lib/handlers.py": ENTRY,  # `handlers.on_event` is the outer project's name
    })
    expected = [("app.py", 6), ("lib/tasks.py", 6), ("nested/handlers.py", 6)]
    whole = run_cli(["-j1", "--no-cache"], tmp_path)
    assert [(p, line) for p, line, _, _ in whole.findings()] == expected
    assert {code for _, code in whole.codes()} == {"TL102"}
    for path, line in expected:
        named = run_cli(["-j1", "--no-cache", path], tmp_path)
        assert [(p, ln) for p, ln, _, _ in named.findings()] == [(path, line)]
        source = (tmp_path / path).read_text(encoding="utf-8")
        stdin = run_cli(["-j1", "--no-cache", "--stdin-filename", path], tmp_path, stdin=source)
        assert [(p, ln) for p, ln, _, _ in stdin.findings()] == [(path, line)]
    assert run_cli(["-j1", "--no-cache", "lib/handlers.py"], tmp_path).codes() == []


def test_a_nested_configuration_can_select_a_rule_the_root_does_not(tmp_path: Path) -> None:
    """Analysis runs every rule some file's configuration selects; each file
    reports only what its own configuration selects."""
    write_tree(tmp_path, {
        "pyproject.toml": '[tool.threadlint]\nselect = ["TL001"]\n',
        "a.py": BAD,
        "strict/threadlint.toml": 'select = ["TL203"]\n',
        "strict/b.py": BAD,
    })
    assert run_cli(["-j1", "--no-cache"], tmp_path).codes() == [("strict/b.py", "TL203")]
    assert run_cli(["-j1", "--no-cache", "a.py", "strict/b.py"], tmp_path).codes() == [
        ("strict/b.py", "TL203")
    ]


def test_verbose_lists_every_configuration_used(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    run = run_cli(["-j1", "--no-cache", "-v"], root)
    lines = [line for line in run.stderr.splitlines() if "configuration:" in line]
    assert lines == [
        f"threadlint: configuration: {root / 'pyproject.toml'}",
        f"threadlint: configuration: {root / 'nested' / 'threadlint.toml'}",
    ]
    only = run_cli(["-j1", "--no-cache", "-v", "a.py", "--no-whole-project"], root)
    assert [ln for ln in only.stderr.splitlines() if "configuration:" in ln] == [
        f"threadlint: configuration: {root / 'pyproject.toml'}"
    ]


def test_a_broken_nested_configuration_is_an_error_naming_it(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    (root / "nested" / "threadlint.toml").write_text("bogus = 1\n", encoding="utf-8")
    run = run_cli(["-j1", "--no-cache"], root)
    assert run.exit_code == 2
    assert "nested/threadlint.toml: threadlint.toml: unknown key 'bogus'" in run.stderr
    assert run.stdout == ""


def test_a_configuration_that_governs_no_linted_file_is_not_read(tmp_path: Path) -> None:
    write_tree(tmp_path, {
        "work/pyproject.toml": "[tool.threadlint]\nbogus = 1\n",
        "work/a.py": BAD,
        "other/threadlint.toml": 'select = ["TL203"]\n',
        "other/a.py": BAD,
    })
    work = tmp_path / "work"
    assert run_cli(["-j1", "--no-cache", "../other"], work).codes() == [("../other/a.py", "TL203")]
    assert run_cli(["-j1", "--no-cache"], work).exit_code == 2


def test_each_directory_is_resolved_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = {f"pkg{i}/m{j}.py": "x = 1\n" for i in range(3) for j in range(20)}
    write_tree(tmp_path, {"pyproject.toml": "[tool.threadlint]\n", **files})
    asked: list[Path] = []
    real = threadlint.config_lookup.config_in

    def counting(directory: Path) -> Path | None:
        asked.append(directory)
        return real(directory)

    monkeypatch.setattr(threadlint.config_lookup, "config_in", counting)
    lookup = ConfigLookup(cwd=tmp_path)
    for name in files:
        lookup.file_settings(name)
    assert sorted(asked) == sorted([tmp_path / f"pkg{i}" for i in range(3)] + [tmp_path])
    assert len(lookup.used) == 1


def test_stdin_and_paths_agree_in_a_real_process(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    named = run_process(["--no-cache", "-j1", "nested/b.py", "a.py"], root)
    assert named.codes() == [("nested/b.py", "TL203")], named.stderr
    for name, codes in [("nested/b.py", [("nested/b.py", "TL203")]), ("a.py", [])]:
        done = subprocess.run(
            [sys.executable, "-m", "threadlint", "--no-cache", "--stdin-filename", name, "-"],
            cwd=root, input=BAD.encode(), capture_output=True, timeout=120, check=False,
        )
        assert done.stdout.decode().count("TL203") == len(codes), done.stderr


def test_flake8_uses_each_files_nearest_configuration(tmp_path: Path) -> None:
    pytest.importorskip("flake8")
    root = _tree(tmp_path)

    def flake8(cwd: Path, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "flake8", "--isolated", "--select", "TL", *args],
            cwd=cwd, capture_output=True, text=True, timeout=300, check=False,
        )
        assert done.returncode in (0, 1), done.stderr
        return done.stdout

    out = flake8(root, *FILES)
    found = re.findall(r"^(\S+?):\d+:\d+: (TL\d{3}) ", out, re.MULTILINE)
    # (flake8 reports old.py's syntax error itself, as E999, without plugins.)
    assert found == [("nested/b.py", "TL203")], out
    # From another working directory, the same.
    elsewhere = flake8(tmp_path, "proj/nested/b.py", "proj/a.py")
    assert elsewhere.count("TL203") == 1 and "proj/nested/b.py" in elsewhere
    # The analysis settings of the project root: its thread entry points.
    write_tree(root, {"app/__init__.py": "", "app/handlers.py": ENTRY})
    (root / "pyproject.toml").write_text(
        TREE["pyproject.toml"] + 'thread-entry-points = ["app.handlers.on_event"]\n',
        encoding="utf-8",
    )
    (root / "nested" / "threadlint.toml").write_text('select = ["TL1"]\n', encoding="utf-8")
    assert flake8(root / "nested", "../app/handlers.py").startswith("../app/handlers.py:6:5: TL102 ")


SERVER_TREE = {
    "pyproject.toml": '[tool.threadlint]\nignore = ["TL203"]\n'
                      'thread-entry-points = ["handlers.on_event"]\n',
    "a.py": BAD,
    "nested/threadlint.toml": 'select = ["TL1", "TL203"]\nthread-entry-points = []\n',
    "nested/b.py": BAD,
    "nested/handlers.py": ENTRY,
}


def test_the_language_server_uses_each_files_nearest_configuration(tmp_path: Path) -> None:
    pytest.importorskip("pygls")
    from test_server import Editor, talk

    root = write_tree(tmp_path / "proj", SERVER_TREE)

    async def scenario(editor: Editor) -> None:
        for name in ("a.py", "nested/b.py", "nested/handlers.py"):
            editor.open(name)
        await editor.until_codes("nested/b.py", [("TL203", 9)])
        # The project root's entry points, not nested/'s empty list.
        await editor.until_codes("nested/handlers.py", [("TL102", 6)])
        await editor.until_codes("a.py", [])

    talk(root, scenario)


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_pre_commit_uses_each_files_nearest_configuration(tmp_path: Path) -> None:
    pytest.importorskip("pre_commit")
    from test_integrations_precommit import _env, _git, _snapshot_of_this_checkout

    env = _env(tmp_path)
    rev = _snapshot_of_this_checkout(tmp_path / "threadlint", env)
    root = write_tree(tmp_path / "proj", {
        **SERVER_TREE,
        "nested/build/gen.py": BAD,  # excluded by default: --force-exclude in the hook
        ".pre-commit-config.yaml": "repos:\n"
        f"  - repo: {(tmp_path / 'threadlint').as_uri()}\n"
        f"    rev: {rev}\n"
        "    hooks:\n"
        "      - id: threadlint\n",
    })
    _git(["init", "-q"], root, env)
    _git(["add", "-A"], root, env)
    _git(["commit", "-q", "-m", "project"], root, env)

    def pre_commit(*files: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "pre_commit", "run", "--color", "never", "--files", *files],
            cwd=root, env=env, capture_output=True, text=True, timeout=900, check=False,
        )

    failing = pre_commit("a.py", "nested/b.py", "nested/handlers.py", "nested/build/gen.py")
    output = failing.stdout + failing.stderr
    assert failing.returncode == 1, output
    found = re.findall(r"^(\S+?):\d+:\d+: (TL\d{3}) ", output, re.MULTILINE)
    assert sorted(found) == [("nested/b.py", "TL203"), ("nested/handlers.py", "TL102")], output
    passing = pre_commit("a.py", "nested/build/gen.py")
    assert passing.returncode == 0, passing.stdout + passing.stderr


def test_files_with_no_project_take_their_own_analysis_settings(tmp_path: Path) -> None:
    write_tree(tmp_path, {
        "a/threadlint.toml": 'thread-entry-points = ["job.on_event"]\n',
        "a/job.py": ENTRY,
        "a/task.py": ENTRY,  # not an entry point in a/
        "b/threadlint.toml": 'thread-entry-points = ["task.on_event"]\n',
        "b/task.py": ENTRY,
    })
    expected = [("a/job.py", 6), ("b/task.py", 6)]
    for args in (["a/job.py", "a/task.py", "b/task.py"], ["a", "b"]):
        run = run_cli(["-j1", "--no-cache", *args], tmp_path)
        assert [(p, line) for p, line, _, _ in run.findings()] == expected, args


def test_the_server_runs_the_rules_of_a_file_opened_later(tmp_path: Path) -> None:
    """A file outside the files found when the project was opened (here in an
    excluded directory) under a configuration of its own: its rules run."""
    pytest.importorskip("pygls")
    from test_server import Editor, talk

    root = write_tree(tmp_path / "proj", {
        "pyproject.toml": '[tool.threadlint]\nselect = ["TL001"]\n',
        "a.py": BAD,
        "build/threadlint.toml": 'select = ["TL203"]\n',
        "build/gen.py": BAD,
    })

    async def scenario(editor: Editor) -> None:
        editor.open("a.py")
        await editor.until_codes("a.py", [])
        editor.open("build/gen.py")
        await editor.until_codes("build/gen.py", [("TL203", 9)])
        await editor.until_codes("a.py", [])

    talk(root, scenario)


def test_an_exclude_path_may_start_with_a_dotted_name(tmp_path: Path) -> None:
    write_tree(tmp_path, {
        "threadlint.toml": 'extend-exclude = [".tools/gen", "./scripts/old.py"]\n',
        ".tools/gen/a.py": BAD,
        "tools/gen/a.py": BAD,  # `.tools/gen` is not `tools/gen`
        "scripts/old.py": BAD,
    })
    assert run_cli(["-j1", "--no-cache"], tmp_path).codes() == [("tools/gen/a.py", "TL203")]
