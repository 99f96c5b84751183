"""Analysis time grows linearly with the size of a module, counted in work
done (not seconds, which would make a flaky test)."""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst
import pytest

from threadlint.analysis.context import ModuleContext
from threadlint.analysis.per_file import analyze_source
from threadlint.config import Settings
from threadlint.runner import finish


def _module(functions: int) -> bytes:
    """`functions` functions, each with its own thread variable `t`."""
    parts = ["import threading\n\n\ndef work():\n    pass\n"]
    for n in range(functions):
        parts.append(
            f"\n\ndef spawn_{n}():\n"
            "    t = threading.Thread(target=work)\n"
            "    t.start()\n"
            "    t.join()\n"
        )
    return "".join(parts).encode()


def _ancestor_steps(monkeypatch: pytest.MonkeyPatch, functions: int) -> int:
    """Steps taken up the tree (the rules' main unit of work) to lint the module."""
    steps = 0
    real = ModuleContext.ancestors

    def counting(self: ModuleContext, node: cst.CSTNode) -> Iterator[cst.CSTNode]:
        nonlocal steps
        for ancestor in real(self, node):
            steps += 1
            yield ancestor

    settings = Settings(select=("ALL",), preview=True)
    with monkeypatch.context() as patch:
        patch.setattr(ModuleContext, "ancestors", counting)
        result = analyze_source("m.py", "m", _module(functions), settings)
        run = finish([result], settings)
    assert result.error is None and run.errors == []
    assert run.diagnostics == []  # every thread is joined: nothing to report
    return steps


def test_many_thread_variables_of_one_name_cost_linear_work(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Resolving each function's `t` used to look at every `t` in the module:
    # 4x the functions cost 16x the work.  Linear is 4x; allow up to 6x.
    small = _ancestor_steps(monkeypatch, 250)
    large = _ancestor_steps(monkeypatch, 1000)
    assert large < 6 * small, (small, large)
