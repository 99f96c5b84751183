"""The flake8 route: `flake8 --select TL` reports threadlint's findings.

flake8 hands the plugin one file at a time.  So that findings needing
another module (a thread started in another file, a lock held in a caller
elsewhere) are reported too, the plugin analyses the file's whole project
(`threadlint.project`: the nearest pyproject.toml/setup.cfg/.git above it),
once per flake8 process and through the results cache, and reports the
findings in that file.  A file with no project above it is linted alone.

flake8 does its own selection, `# noqa` handling and output formatting;
threadlint's configuration still applies on top, found per file as on the
command line (`threadlint.config_lookup`): the rule selection, per-file
ignores and `preview` of the file's nearest configuration, the analysis
settings (`thread-entry-points`...) of its project root's, and
`# threadlint: ignore[...]` / `skip-file` comments.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Iterator
from dataclasses import replace
from functools import lru_cache
from pathlib import Path

from threadlint import __version__
from threadlint.analysis.per_file import FileResult, analyze_source
from threadlint.config import ConfigError
from threadlint.config_lookup import ConfigLookup
from threadlint.discovery import module_name_for
from threadlint.project import Project, find_project_root, open_project
from threadlint.runner import RunResult, finish, restrict
from threadlint.source_text import encode_source
from threadlint.suppress import find_suppressions

# The projects of this flake8 process, by (project root, working directory):
# analysed for the first file of each, reused for the others.
_PROJECTS: dict[tuple[Path, str], Project] = {}


@lru_cache(maxsize=8)
def _lookup(cwd: str) -> ConfigLookup:
    """The configurations of a flake8 run from `cwd`: each read once per process."""
    return ConfigLookup(cwd=Path(cwd))


def _module_name(filename: str) -> str:
    path = Path(filename)
    if path.is_file():
        return module_name_for(path)
    return path.stem if filename.endswith(".py") else "__main__"


class ThreadlintChecker:
    """flake8 AST plugin (entry point `TL`): threadlint's rules over one file."""

    name = "threadlint"
    version = __version__

    def __init__(self, tree: ast.AST, filename: str, lines: list[str]) -> None:
        # flake8 parsed the file already; threadlint needs libcst's tree.
        self.filename = os.path.normpath(filename) if filename not in ("-", "stdin") else filename
        self.lines = lines

    def run(self) -> Iterator[tuple[int, int, str, type]]:
        lookup = _lookup(os.getcwd())
        source = encode_source("".join(self.lines))
        root = None if self.filename in ("-", "stdin") else find_project_root(Path(self.filename))
        try:
            run = self._in_project(root, lookup, source) if root else self._alone(lookup, source)
        except ConfigError as exc:
            # A plugin exception is a traceback in flake8 and invisible in
            # editors; a finding on line 1 is seen wherever flake8 is.
            yield 1, 0, f"TL001 not analysed: threadlint configuration error: {exc}", type(self)
            return
        for path, error in run.errors:
            last = error.strip().splitlines()[-1] if error.strip() else "unknown"
            raise RuntimeError(f"threadlint: internal error while linting {path}: {last}")
        for d in run.diagnostics:
            if d.code == "TL002":
                # TL002 judges noqa comments, which are flake8's business here.
                # (Filtered, not deselected: the settings stay the command
                # line's, so that both share the results cache.)
                continue
            # flake8 columns are 0-based here; it adds one when printing.
            yield d.line, d.col - 1, f"{d.code} {d.message}", type(self)

    def _alone(self, lookup: ConfigLookup, source: bytes) -> RunResult:
        where = lookup.analysis_directory(self.filename)
        settings = lookup.analysis_settings(where, [self.filename])
        result = analyze_source(self.filename, _module_name(self.filename), source, settings)
        return finish([_flake8_noqa(result, source)], settings)

    def _in_project(self, root: Path, lookup: ConfigLookup, source: bytes) -> RunResult:
        cwd = os.getcwd()
        project = _PROJECTS.get((root, cwd))
        if project is None:
            # flake8 runs its own worker processes: no pool inside each.
            named = [Path(self.filename)]
            project = _PROJECTS[(root, cwd)] = open_project(
                root, lookup.settings_at(root, record=False), named, jobs=1
            )
        key = project.add_file(Path(self.filename), display=self.filename)
        on_disk = _read(self.filename)
        project.set_buffer(key, None if source == on_disk else source)
        try:
            whole = project.check()
        finally:
            project.set_buffer(key, None)
        scope = frozenset([self.filename])
        files = whole.files
        mine = next((r for r in files if r.path == self.filename), None)
        if mine is None or mine.skipped or mine.suppressions == _flake8_noqa(
            replace(mine), source
        ).suppressions:
            return restrict(whole, scope)
        # flake8 applies noqa comments itself: link again with this file's left in.
        files = [_flake8_noqa(replace(r), source) if r is mine else r for r in files]
        return finish(files, project.settings, scope)


def _flake8_noqa(result: FileResult, source: bytes) -> FileResult:
    """The result with `# noqa` comments left to flake8 (`--disable-noqa` must
    reveal findings); threadlint's own comments still apply."""
    if not result.skipped:
        result.suppressions = find_suppressions(source, noqa=False)
    return result


def _read(filename: str) -> bytes | None:
    try:
        with open(filename, "rb") as handle:
            return handle.read()
    except OSError:
        return None
