"""Partial runs keep the project: a file named alone is linted as its project sees it.

The project is a two-module race (as tests/fixtures/TL102/cross_module): the
thread is started in `app/main.py`, the racy update is in `app/workers.py`,
which names no concurrency API at all.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_helpers import run_cli, write_tree

import threadlint.runner
from threadlint.project import find_project_root

MAIN = """\
import threading

from app import workers


def main(items):
    threads = [threading.Thread(target=workers.work, args=(i,)) for i in items]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
"""

WORKERS = """\
processed = 0


def work(item):
    global processed
    processed += 1
    return processed
"""
RACE_LINE = 6

# The same module with the race gone.
SAFE_WORKERS = WORKERS.replace("    processed += 1\n", "    print(item)\n")


def project(tmp_path: Path, marker: str = "pyproject.toml") -> Path:
    root = tmp_path / "proj"
    write_tree(root, {
        marker: "" if marker != ".git/HEAD" else "ref: refs/heads/main\n",
        "app/__init__.py": "",
        "app/main.py": MAIN,
        "app/workers.py": WORKERS,
    })
    return root


@pytest.mark.parametrize("marker", ["pyproject.toml", "setup.cfg", ".git/HEAD"])
def test_the_project_root_is_the_nearest_marked_directory(tmp_path: Path, marker: str) -> None:
    root = project(tmp_path, marker)
    assert find_project_root(root / "app" / "workers.py") == root.resolve()
    # A file that does not exist yet (an unsaved buffer) belongs there too.
    assert find_project_root(root / "app" / "new.py") == root.resolve()


def test_a_lone_file_has_no_project(tmp_path: Path) -> None:
    write_tree(tmp_path, {"lone/script.py": WORKERS})
    assert find_project_root(tmp_path / "lone" / "script.py") is None


def test_a_file_named_alone_reports_the_race_rooted_in_another_module(tmp_path: Path) -> None:
    root = project(tmp_path)
    run = run_cli(["-j1", "app/workers.py"], root)
    assert run.findings() == [("app/workers.py", RACE_LINE, 5, "TL102")]
    assert "app/main.py:7" in run.stdout  # the thread root, in the other module
    assert "in 1 file" in run.stderr
    # The root's own module is not reported on: it was not named.
    assert run_cli(["-j1", "app/main.py"], root).findings() == []
    # Without the project, the race cannot be seen.
    alone = run_cli(["-j1", "--no-whole-project", "app/workers.py"], root)
    assert alone.findings() == []


def test_the_project_is_found_from_the_file_not_the_working_directory(tmp_path: Path) -> None:
    project(tmp_path)
    run = run_cli(["-j1", "proj/app/workers.py"], tmp_path)
    assert run.codes() == [("proj/app/workers.py", "TL102")]


def test_a_lone_file_is_linted_on_its_own(tmp_path: Path) -> None:
    write_tree(tmp_path, {"lone/script.py": WORKERS, "lone/other.py": MAIN})
    run = run_cli(["-j1", "lone/script.py"], tmp_path)
    assert (run.exit_code, run.findings()) == (0, [])
    assert "No problems found in 1 file." in run.stderr


def test_the_second_partial_run_reads_the_project_from_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = project(tmp_path)
    # Files are analysed in worker processes (even with -j1), so the count
    # goes through a file that every process appends to.
    log = tmp_path / "analysed.log"
    real = threadlint.runner.analyze_source

    def counting(path: str, *args, **kwargs):  # type: ignore[no-untyped-def]
        with open(log, "a", encoding="utf-8") as handle:
            handle.write(path + "\n")
        return real(path, *args, **kwargs)

    def analysed() -> list[str]:
        paths = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
        log.unlink(missing_ok=True)
        return paths

    monkeypatch.setattr(threadlint.runner, "analyze_source", counting)
    first = run_cli(["-j1", "app/workers.py"], root)
    assert sorted(set(analysed())) == ["app/__init__.py", "app/main.py", "app/workers.py"]
    assert (root / ".threadlint_cache").is_dir()
    second = run_cli(["-j1", "app/workers.py"], root)
    assert analysed() == []
    assert second.stdout == first.stdout and second.findings()
    # A changed file is analysed again, and only it.
    (root / "app" / "main.py").write_text(MAIN + "\n", encoding="utf-8")
    run_cli(["-j1", "app/workers.py"], root)
    assert analysed() == ["app/main.py"]


def test_stdin_is_linted_in_its_project_and_the_buffer_wins(tmp_path: Path) -> None:
    root = project(tmp_path)
    # On disk the module is safe; the editor's unsaved buffer has the race.
    (root / "app" / "workers.py").write_text(SAFE_WORKERS, encoding="utf-8")
    args = ["-j1", "--stdin-filename", "app/workers.py", "-"]
    racy = run_cli(args, root, stdin=WORKERS)
    assert racy.findings() == [("app/workers.py", RACE_LINE, 5, "TL102")]
    assert "app/main.py:7" in racy.stdout
    # And the other way round: the race is on disk, the buffer has removed it.
    (root / "app" / "workers.py").write_text(WORKERS, encoding="utf-8")
    assert run_cli(args, root, stdin=SAFE_WORKERS).findings() == []


def test_stdin_for_a_new_file_of_the_project(tmp_path: Path) -> None:
    root = project(tmp_path)
    (root / "app" / "workers.py").unlink()
    run = run_cli(["-j1", "--stdin-filename", "app/workers.py"], root, stdin=WORKERS)
    assert run.codes() == [("app/workers.py", "TL102")]


def test_fix_in_a_partial_run_touches_only_the_named_file(tmp_path: Path) -> None:
    bad_args = "import threading\n\nt = threading.Thread(target=print, args=(1))\n"
    root = project(tmp_path)
    write_tree(root, {"app/one.py": bad_args, "app/two.py": bad_args})
    run = run_cli(["-j1", "--select", "TL203", "--fix", "app/one.py"], root)
    assert run.exit_code == 0, run.stderr
    assert "args=(1,)" in (root / "app" / "one.py").read_text(encoding="utf-8")
    assert (root / "app" / "two.py").read_text(encoding="utf-8") == bad_args


# --- --force-exclude ----------------------------------------------------------


def test_force_exclude_applies_excludes_to_named_files(tmp_path: Path) -> None:
    bad_args = "import threading\n\nt = threading.Thread(target=print, args=(1))\n"
    write_tree(tmp_path, {
        "pyproject.toml": '[tool.threadlint]\nextend-exclude = ["migrations"]\n',
        "build/gen.py": bad_args,
        "pkg/migrations/0001.py": bad_args,
        "pkg/ok.py": bad_args,
    })
    named = ["build/gen.py", "pkg/migrations/0001.py", "pkg/ok.py"]
    args = ["-j1", "--select", "TL203"]
    assert [p for p, _ in run_cli([*args, *named], tmp_path).codes()] == named
    forced = run_cli([*args, "--force-exclude", *named], tmp_path)
    assert forced.codes() == [("pkg/ok.py", "TL203")]
    # A named directory inside an excluded one is excluded too.
    assert run_cli([*args, "--force-exclude", "pkg/migrations"], tmp_path).codes() == []
    # And so is a buffer named as an excluded file.
    stdin = run_cli(
        [*args, "--force-exclude", "--stdin-filename", "build/gen.py"], tmp_path, stdin=bad_args
    )
    assert (stdin.exit_code, stdin.stdout) == (0, "")


def test_force_exclude_does_not_exclude_a_project_kept_in_an_excluded_name(tmp_path: Path) -> None:
    bad_args = "import threading\n\nt = threading.Thread(target=print, args=(1))\n"
    root = tmp_path / "build" / "proj"
    write_tree(root, {"pyproject.toml": "[tool.threadlint]\n", "mod.py": bad_args})
    run = run_cli(["-j1", "--select", "TL203", "--force-exclude", "mod.py"], root)
    assert run.codes() == [("mod.py", "TL203")]


def test_files_of_two_projects_are_each_linted_in_their_own(tmp_path: Path) -> None:
    # Both projects have a module `app.workers`; each links with its own `app.main`.
    first = project(tmp_path / "one")
    second = project(tmp_path / "two")
    (second / "app" / "main.py").write_text("from app import workers\n", encoding="utf-8")
    # An unparsable file elsewhere in a project is not reported: it was not named.
    (first / "app" / "broken.py").write_text("def broken(:\n", encoding="utf-8")
    run = run_cli(["-j1", "one/proj/app/workers.py", "two/proj/app/workers.py"], tmp_path)
    assert run.codes() == [("one/proj/app/workers.py", "TL102")]
    assert "one/proj/app/main.py:7" in run.stdout
