"""The results cache: hits, misses, corrupt entries, and where it lives."""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path

import pytest
from cli_helpers import BAD, CLEAN, PY2, run_cli, run_process, write_tree

import threadlint.cache
import threadlint.runner
from threadlint.analysis.per_file import analyze_source
from threadlint.rules import lifecycle


class _CallLog:
    """The display paths analyze_source was called for, in whichever process
    ran it (every -j analyses in worker processes): one line each in a file."""

    def __init__(self, log: Path) -> None:
        self.log = log
        log.write_text("", encoding="utf-8")

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.log.read_text(encoding="utf-8").splitlines())

    def __eq__(self, other: object) -> bool:
        return list(self) == other

    def __len__(self) -> int:
        return len(self.log.read_text(encoding="utf-8").splitlines())

    def clear(self) -> None:
        self.log.write_text("", encoding="utf-8")


@pytest.fixture
def analysed(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> _CallLog:
    """analyze_source, patched before the workers fork, logs each call."""
    calls = _CallLog(tmp_path_factory.mktemp("calls") / "analysed.txt")

    def counting(path: str, *args, **kwargs):  # type: ignore[no-untyped-def]
        if path != "<warm-up>":  # once a process, whichever test runs first
            with open(calls.log, "a", encoding="utf-8") as log:
                log.write(path + "\n")
        return analyze_source(path, *args, **kwargs)

    monkeypatch.setattr(threadlint.runner, "analyze_source", counting)
    return calls


def _entries(cache_dir: Path) -> list[Path]:
    return sorted(cache_dir.rglob("*.json"))


def test_second_run_hits_the_cache(tmp_path: Path, analysed: _CallLog) -> None:
    write_tree(tmp_path, {"a.py": BAD, "b.py": CLEAN, "old.py": PY2})
    first = run_cli(["-j1"], tmp_path)
    assert sorted(set(analysed)) == ["a.py", "b.py", "old.py"]
    cache_dir = tmp_path / ".threadlint_cache"
    assert (cache_dir / ".gitignore").read_text(encoding="utf-8") == "*\n"
    assert len(_entries(cache_dir)) == 3

    analysed.clear()
    second = run_cli(["-j1"], tmp_path)
    assert analysed == []
    assert (second.exit_code, second.stdout, second.stderr) == (
        first.exit_code, first.stdout, first.stderr,
    )


def test_a_changed_file_is_analysed_again(tmp_path: Path, analysed: _CallLog) -> None:
    write_tree(tmp_path, {"a.py": BAD, "b.py": CLEAN})
    run_cli(["-j1"], tmp_path)
    analysed.clear()
    write_tree(tmp_path, {"b.py": BAD})
    run = run_cli(["-j1"], tmp_path)
    assert set(analysed) == {"b.py"}
    assert run.codes() == [("a.py", "TL203"), ("b.py", "TL203")]


@pytest.mark.parametrize(
    "args",
    [["--select", "TL203"], ["--preview"], ["--free-threaded"]],
)
def test_changed_settings_miss(tmp_path: Path, analysed: _CallLog, args: list[str]) -> None:
    write_tree(tmp_path, {"a.py": BAD})
    run_cli(["-j1"], tmp_path)
    analysed.clear()
    run_cli(["-j1", *args], tmp_path)
    assert analysed == ["a.py"]
    analysed.clear()
    run_cli(["-j1", *args], tmp_path)
    assert analysed == []


def test_changed_config_file_misses(tmp_path: Path, analysed: _CallLog) -> None:
    write_tree(tmp_path, {"a.py": BAD, "threadlint.toml": 'lock-types = ["x.make"]\n'})
    run_cli(["-j1"], tmp_path)
    analysed.clear()
    write_tree(tmp_path, {"threadlint.toml": 'lock-types = ["x.make", "y.make"]\n'})
    run_cli(["-j1"], tmp_path)
    assert analysed == ["a.py"]


def test_another_threadlint_version_misses(
    tmp_path: Path, analysed: _CallLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_tree(tmp_path, {"a.py": BAD})
    run_cli(["-j1"], tmp_path)
    analysed.clear()
    monkeypatch.setattr(threadlint, "__version__", "99.0.0")
    run_cli(["-j1"], tmp_path)
    assert analysed == ["a.py"]


def test_same_content_elsewhere_reports_its_own_path(tmp_path: Path, analysed: _CallLog) -> None:
    # Same bytes, same module name (`mod`), different directories.
    write_tree(tmp_path, {"x/mod.py": BAD, "y/mod.py": BAD})
    run = run_cli(["-j1"], tmp_path)
    assert set(analysed) == {"x/mod.py"}
    assert run.codes() == [("x/mod.py", "TL203"), ("y/mod.py", "TL203")]
    # From a subdirectory every display path changes, and the cache still serves.
    analysed.clear()
    write_tree(tmp_path, {"threadlint.toml": ""})
    run_cli(["-j1"], tmp_path)
    analysed.clear()
    below = run_cli(["-j1", "."], tmp_path / "x")
    assert analysed == []
    assert below.codes() == [("mod.py", "TL203")]


def test_module_name_is_part_of_the_key(tmp_path: Path, analysed: _CallLog) -> None:
    write_tree(tmp_path, {"pkg/__init__.py": "", "pkg/mod.py": BAD, "mod.py": BAD})
    run_cli(["-j1"], tmp_path)
    assert sorted(set(analysed)) == ["mod.py", "pkg/__init__.py", "pkg/mod.py"]


def test_corrupt_entries_are_misses(tmp_path: Path, analysed: _CallLog) -> None:
    write_tree(tmp_path, {"a.py": BAD, "b.py": BAD, "c.py": BAD})
    first = run_cli(["-j1"], tmp_path)
    entries = _entries(tmp_path / ".threadlint_cache")
    entries[0].write_bytes(b"not JSON")
    entries[1].write_bytes(entries[1].read_bytes()[:20])  # truncated
    entries[2].unlink()
    entries[2].mkdir()  # unreadable: a directory where the entry should be
    analysed.clear()
    second = run_cli(["-j1"], tmp_path)
    assert len(analysed) == 3
    assert (second.exit_code, second.stdout) == (first.exit_code, first.stdout)
    assert "Traceback" not in second.stderr
    analysed.clear()
    run_cli(["-j1"], tmp_path)
    assert len(analysed) == 1  # the two rewritten entries now hit


def test_no_cache_writes_nothing(tmp_path: Path, analysed: _CallLog) -> None:
    write_tree(tmp_path, {"a.py": BAD})
    run_cli(["-j1", "--no-cache"], tmp_path)
    run_cli(["-j1", "--no-cache"], tmp_path)
    assert set(analysed) == {"a.py"} and len(analysed) >= 2
    assert not (tmp_path / ".threadlint_cache").exists()


def test_no_cache_does_not_read_either(tmp_path: Path, analysed: _CallLog) -> None:
    write_tree(tmp_path, {"a.py": BAD})
    run_cli(["-j1"], tmp_path)
    analysed.clear()
    run_cli(["-j1", "--no-cache"], tmp_path)
    assert analysed == ["a.py"]


def test_cache_dir_option(tmp_path: Path, analysed: _CallLog) -> None:
    write_tree(tmp_path, {"project/a.py": BAD})
    run_cli(["-j1", "--cache-dir", str(tmp_path / "elsewhere")], tmp_path / "project")
    assert not (tmp_path / "project" / ".threadlint_cache").exists()
    assert (tmp_path / "elsewhere" / ".gitignore").is_file()
    assert len(_entries(tmp_path / "elsewhere")) == 1


def test_default_cache_is_at_the_project_root(tmp_path: Path) -> None:
    write_tree(tmp_path, {"pyproject.toml": "[tool.threadlint]\n", "src/pkg/a.py": BAD})
    run_cli(["-j1", "."], tmp_path / "src" / "pkg")
    assert (tmp_path / ".threadlint_cache" / ".gitignore").is_file()
    assert not (tmp_path / "src" / "pkg" / ".threadlint_cache").exists()
    # ... and is never linted itself.
    entries = _entries(tmp_path / ".threadlint_cache")
    assert len(entries) == 1


def test_internal_errors_are_not_cached(
    tmp_path: Path, analysed: _CallLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    # libcst collects batched visitor methods by their __name__.
    def visit_Call(self, node):  # type: ignore[no-untyped-def]
        raise RuntimeError("simulated")

    write_tree(tmp_path, {"a.py": BAD})
    with monkeypatch.context() as patch:
        patch.setattr(lifecycle.ThreadArgsNotTuple, "visit_Call", visit_Call)
        assert run_cli(["-j1"], tmp_path).exit_code == 2
    analysed.clear()
    run = run_cli(["-j1"], tmp_path)
    assert analysed == ["a.py"]
    assert run.exit_code == 1


def test_an_unwritable_cache_only_costs_speed(tmp_path: Path) -> None:
    write_tree(tmp_path, {"a.py": BAD, "blocked": "a file where the cache dir should be"})
    run = run_cli(["-j1", "--cache-dir", str(tmp_path / "blocked" / "cache")], tmp_path)
    assert run.exit_code == 1
    assert run.codes() == [("a.py", "TL203")]
    assert "Traceback" not in run.stderr


def test_worker_processes_share_the_cache(tmp_path: Path) -> None:
    write_tree(tmp_path, {f"m{i}.py": BAD for i in range(6)})
    first = run_cli(["-j2"], tmp_path)
    assert len(_entries(tmp_path / ".threadlint_cache")) == 6
    assert run_cli(["-j2"], tmp_path).stdout == first.stdout
    assert run_cli(["-j1", "--no-cache"], tmp_path).stdout == first.stdout


def test_result_cache_restamps_paths(tmp_path: Path) -> None:
    from threadlint.config import Settings

    cache = threadlint.cache.ResultCache(tmp_path / "c", Settings())
    source = BAD.encode()
    result = analyze_source("one/mod.py", "mod", source, Settings())
    cache.put(source, result)
    hit = cache.get(source, "two/mod.py", "mod")
    assert hit is not None
    assert hit.path == "two/mod.py"
    assert {d.path for d in hit.diagnostics} == {"two/mod.py"}
    assert cache.get(source, "two/mod.py", "other") is None
    assert cache.get(source, "two/other.py", "mod") is None


# --- entries are data, validated -----------------------------------------------


def test_entries_are_versioned_json(tmp_path: Path) -> None:
    write_tree(tmp_path, {"a.py": BAD})
    run_cli(["-j1"], tmp_path)
    (entry,) = _entries(tmp_path / ".threadlint_cache")
    assert entry.parent.parent.name == "v4"
    data = json.loads(entry.read_text(encoding="ascii"))
    assert data["threadlint_cache"] == 4 and data["key"] == entry.stem
    assert data["result"]["t"] == "threadlint.analysis.per_file:FileResult"


def test_a_pickle_in_the_cache_is_never_loaded(tmp_path: Path, analysed: list[str]) -> None:
    class Payload:
        def __reduce__(self):  # type: ignore[no-untyped-def]
            return (Path.touch, (tmp_path / "pwned",))

    write_tree(tmp_path, {"a.py": BAD})
    first = run_cli(["-j1"], tmp_path)
    (entry,) = _entries(tmp_path / ".threadlint_cache")
    entry.write_bytes(pickle.dumps(Payload()))
    analysed.clear()
    second = run_cli(["-j1"], tmp_path)
    assert analysed == ["a.py"]  # a miss
    assert not (tmp_path / "pwned").exists()
    assert second.stdout == first.stdout


def _forge(entry: Path, change) -> None:  # type: ignore[no-untyped-def]
    data = json.loads(entry.read_text(encoding="ascii"))
    change(data)
    entry.write_text(json.dumps(data), encoding="ascii")


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d.update(threadlint_cache=1),  # another format version
        lambda d: d.update(key="0" * 64),  # an entry copied from another key
        lambda d: d["result"].update(t="os:system"),  # not a threadlint class
        lambda d: d["result"].update(t="subprocess:Popen"),
        lambda d: d["result"].update(t="threadlint.config:ConfigError"),  # not a dataclass
        lambda d: d["result"].update(t="threadlint.diagnostics:Diagnostic"),  # wrong class
        lambda d: d["result"]["v"].pop(),  # missing field
        lambda d: d["result"]["v"].__setitem__(0, 5),  # path is not a string
        lambda d: d["result"]["v"].__setitem__(2, {"x": []}),  # unknown tag
        lambda d: d.__setitem__("result", [[[[[[[[[[[[[]]]]]]]]]]]]]),
    ],
)
def test_entries_that_do_not_validate_are_misses(
    tmp_path: Path, analysed: list[str], change
) -> None:  # type: ignore[no-untyped-def]
    write_tree(tmp_path, {"a.py": BAD})
    first = run_cli(["-j1"], tmp_path)
    (entry,) = _entries(tmp_path / ".threadlint_cache")
    _forge(entry, change)
    analysed.clear()
    second = run_cli(["-j1"], tmp_path)
    assert analysed == ["a.py"]
    assert (second.exit_code, second.stdout, second.stderr) == (
        first.exit_code, first.stdout, first.stderr
    )


def test_a_deeply_nested_entry_is_a_miss(tmp_path: Path, analysed: list[str]) -> None:
    write_tree(tmp_path, {"a.py": BAD})
    run_cli(["-j1"], tmp_path)
    (entry,) = _entries(tmp_path / ".threadlint_cache")
    entry.write_text('{"threadlint_cache": 3, "result": ' + "[" * 200_000 + "]" * 200_000 + "}")
    analysed.clear()
    assert run_cli(["-j1"], tmp_path).exit_code == 1
    assert analysed == ["a.py"]


def test_fifos_in_the_cache_directory_never_block(tmp_path: Path) -> None:
    write_tree(tmp_path, {"a.py": BAD, "b.py": BAD})
    cache_dir = tmp_path / ".threadlint_cache"
    first = run_process(["-j1"], tmp_path, timeout=60)
    entries = _entries(cache_dir)
    for entry in entries:
        entry.unlink()
        os.mkfifo(entry)  # where the entry is read from
    os.mkfifo(cache_dir / "v4" / "stray")
    for jobs in ("-j1", "-j2"):
        run = run_process([jobs], tmp_path, timeout=60)
        assert (run.exit_code, run.stdout) == (first.exit_code, first.stdout), run.stderr
        assert "error" not in run.stderr
