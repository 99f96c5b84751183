"""TL402 beyond the fixtures: what its messages say, the remedy per target
version, and facts that survive the results cache."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from cli_helpers import write_tree
from fixture_harness import FIXTURES

from threadlint.cache import ResultCache
from threadlint.config import Settings
from threadlint.runner import run

_SETTINGS = Settings(select=("TL402",), preview=True)

_PREEXEC = """\
import os
import subprocess
import threading

threading.Thread(target=print, daemon=True).start()


def spawn(argv):
    subprocess.Popen(argv, preexec_fn=os.setpgrp)
    subprocess.Popen(argv, preexec_fn=os.setsid)
"""


def _messages(path: Path, settings: Settings = _SETTINGS) -> list[str]:
    result = run([str(path)], settings, jobs=1)
    assert not result.errors, result.errors
    return [d.message for d in sorted(result.diagnostics, key=lambda d: d.sort_key)]


def test_message_names_the_thread_where_it_started_and_what_the_child_inherits() -> None:
    messages = _messages(FIXTURES / "TL402" / "bad_object.py")
    first = messages[0]
    assert first.startswith("`p.start()` forks (the default start method on Linux before Python 3.14)")
    assert "`self._keep_alive`" in first
    assert "`Worker.__init__` at line 23" in first
    assert "the `Worker` object keeps it running" in first
    assert "inherits every lock the other threads hold" in first
    assert 'multiprocessing.get_context("spawn")' in first


def test_import_time_thread_of_another_module_is_named_with_its_path() -> None:
    project = FIXTURES / "TL402" / "bad_project"
    result = run([str(project)], replace(_SETTINGS, root=str(project)), jobs=1)
    server = [d for d in result.diagnostics if d.path.endswith("server.py")]
    assert len(server) == 1
    assert "metrics.py:11" in server[0].message
    assert "this module imports `pkg.metrics`" in server[0].message


def test_preexec_remedy_follows_the_target_version(tmp_path: Path) -> None:
    write_tree(tmp_path, {"spawn.py": _PREEXEC})
    path = tmp_path / "spawn.py"
    new = _messages(path, replace(_SETTINGS, target_version="py311"))
    assert "pass `process_group=0` instead" in new[0]
    assert "pass `start_new_session=True` instead" in new[1]
    old = _messages(path, replace(_SETTINGS, target_version="py39"))
    assert "pass `start_new_session=True` instead" in old[0]
    unknown = _messages(path)
    assert "`process_group=0` instead (Python 3.11+)" in unknown[0]


def test_executor_remedy_names_mp_context() -> None:
    messages = _messages(FIXTURES / "TL402" / "bad_multiprocessing.py")
    executor = [m for m in messages if m.startswith("`concurrent.futures.ProcessPoolExecutor()`")]
    assert executor and all("mp_context=" in m for m in executor)


def test_findings_are_the_same_from_the_cache(tmp_path: Path) -> None:
    project = tmp_path / "project"
    source = FIXTURES / "TL402" / "bad_project"
    write_tree(
        project,
        {
            str(path.relative_to(source)): path.read_text(encoding="utf-8")
            for path in source.rglob("*.py")
        },
    )
    settings = replace(_SETTINGS, root=str(project))
    cache = ResultCache(tmp_path / "cache", settings)
    cold = run([str(project)], settings, jobs=1, cache=cache)
    warm = run([str(project)], settings, jobs=1, cache=cache)
    assert [d.sort_key for d in cold.diagnostics] == [d.sort_key for d in warm.diagnostics]
    assert len(cold.diagnostics) == 5
