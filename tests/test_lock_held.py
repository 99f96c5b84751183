"""TL306 beyond the fixtures: the `blocking-functions` key and the messages."""
from __future__ import annotations

from pathlib import Path

import pytest

from threadlint.config import ConfigError, Settings, apply_table
from threadlint.runner import run

SOURCE = """\
import threading
import time

import mylib.rpc
from grpc import channel

_lock = threading.Lock()


def call():
    with _lock:
        mylib.rpc.call("ping")
        channel.unary("ping")


def pause(job):
    with _lock:
        job()
        time.sleep(0.01)


def elsewhere():
    with _lock:
        pass
"""


def _findings(path: Path, **table: object) -> list[tuple[int, str]]:
    base = Settings(root=str(path.parent), select=("TL306",), preview=True)
    settings = apply_table(base, dict(table), "test") if table else base
    result = run([str(path)], settings, jobs=1)
    assert not result.errors, result.errors
    return [(d.line, d.message) for d in result.diagnostics]


def test_blocking_functions_extend_the_table(tmp_path: Path) -> None:
    module = tmp_path / "work.py"
    module.write_text(SOURCE, encoding="utf-8")
    assert [line for line, _ in _findings(module)] == [19]
    lines = [line for line, _ in _findings(module, **{"blocking-functions": ["mylib.rpc.call", "grpc."]})]
    assert lines == [12, 13, 19]
    message = dict(_findings(module, **{"blocking-functions": ["mylib.rpc.call"]}))[12]
    assert "`mylib.rpc.call` (configured as blocking)" in message


def test_a_rate_limiting_sleep_says_what_it_blocks(tmp_path: Path) -> None:
    module = tmp_path / "work.py"
    module.write_text(SOURCE, encoding="utf-8")
    [(line, message)] = _findings(module)
    assert line == 19
    assert "`_lock` (taken line 17)" in message
    assert "(also taken at line 11, 23)" in message
    assert "rate-limits all of them" in message


@pytest.mark.parametrize("value", ["not a list", [1], ["my lib.call"], ["a..b"], [""]])
def test_blocking_functions_are_validated(value: object) -> None:
    with pytest.raises(ConfigError, match="'blocking-functions' must be"):
        apply_table(Settings(), {"blocking-functions": value}, "pyproject.toml: [tool.threadlint]")
