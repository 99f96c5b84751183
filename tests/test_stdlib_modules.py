"""The standard library's module names, which Python 3.9 has to compute."""

from __future__ import annotations

import importlib.util
import sys

import pytest

from threadlint.stdlib_modules import _computed_names, stdlib_module_names


def test_computed_names_hold_pure_python_extension_and_builtin_modules() -> None:
    names = _computed_names()
    assert {"threading", "socketserver", "concurrent", "json"} <= names  # Lib/
    assert "_thread" in names and "sys" in names  # built in
    assert "site-packages" not in names and "threadlint" not in names


@pytest.mark.skipif(sys.version_info < (3, 10), reason="sys.stdlib_module_names is 3.10+")
def test_computed_names_match_the_interpreters_own_list() -> None:
    """Every standard module that this interpreter has on disk or built in is computed
    (only the frozen import machinery is not, and no program subclasses that)."""
    missing = []
    for name in sorted(sys.stdlib_module_names):
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.origin != "frozen" and name not in _computed_names():
            missing.append(name)
    assert missing == []
    assert stdlib_module_names() == frozenset(sys.stdlib_module_names)
