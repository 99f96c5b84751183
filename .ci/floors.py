"""Print pip constraints that pin every dependency to the floor pyproject.toml declares.

`pip install -c <this output> '.[test]'` then installs the oldest versions
threadlint claims to work with (the runtime dependencies and the test
extras), so running the suite there proves the floors true.  Markers are
kept: a floor declared for some Pythons only pins on those.

Runs on Python 3.11+ (tomllib); CI runs it with the default python3.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import tomllib

# name, the version after `>=`, the rest (more specifiers and the marker)
_FLOOR = re.compile(r"^\s*([A-Za-z0-9._-]+)\s*>=\s*([0-9][0-9A-Za-z.]*)\s*(?:,[^;]*)?(;.*)?$")


def floors(pyproject: Path) -> list[str]:
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    requirements = [*project["dependencies"], *project["optional-dependencies"]["test"]]
    pins = []
    for requirement in requirements:
        match = _FLOOR.match(requirement)
        if match is None:
            raise SystemExit(f"floors: no `>=` floor in requirement {requirement!r}")
        name, version, marker = match.groups()
        pins.append(f"{name}=={version}{marker or ''}")
    return pins


if __name__ == "__main__":
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path.cwd()
    print("\n".join(floors(root / "pyproject.toml")))
