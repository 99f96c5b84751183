"""The names of the standard library's top-level modules, on every supported Python.

Python 3.10 lists them in `sys.stdlib_module_names`.  On 3.9 the set is
computed from the running interpreter instead: its built-in modules plus the
modules and packages in its standard library directories (the pure-Python
`Lib/` and the extension modules of `lib-dynload/`).  That misses the
modules of other platforms (`winreg` on Linux, say), those this build left
out, and the frozen `_frozen_importlib`: none of them a base class that a
linted program takes from this interpreter's library.
"""

from __future__ import annotations

import os
import pkgutil
import sys
import sysconfig


def stdlib_module_names() -> frozenset[str]:
    names = getattr(sys, "stdlib_module_names", None)
    if names is not None:
        return frozenset(names)
    return _computed_names()


def _computed_names() -> frozenset[str]:
    directories = {sysconfig.get_path("stdlib"), sysconfig.get_path("platstdlib")}
    directories |= {os.path.join(d, "lib-dynload") for d in list(directories)}
    found = {info.name for info in pkgutil.iter_modules(sorted(d for d in directories if d))}
    return frozenset(found | set(sys.builtin_module_names))
