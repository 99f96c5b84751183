"""Whether code is test code: a test module or a test function.

Tests do on purpose what production code must not (hold a lock while
provoking contention, leave a stopped server thread to the next test), so
some rules judge them differently.
"""

from __future__ import annotations

import os

import libcst as cst

from threadlint.analysis.context import ModuleContext

_TEST_DIRS = frozenset({"test", "tests", "testing"})


def in_test_code(ctx: ModuleContext, node: cst.CSTNode, root: str) -> bool:
    """A test module (under `tests/` in the project, `test_*.py`, `*_test.py`,
    `conftest.py`) or a test function."""
    path = os.path.abspath(ctx.path)
    base = os.path.abspath(root) if root else ""
    if base and os.path.commonpath([path, base]) == base:
        path = os.path.relpath(path, base)
    parts = path.replace("\\", "/").split("/")
    name = parts[-1]
    if _TEST_DIRS & set(parts[:-1]) or name.startswith("test_") or name.endswith("_test.py"):
        return True
    if name == "conftest.py":
        return True
    function = ctx.enclosing_function(node)
    return function is not None and function.name.value.startswith("test")
