"""The flake8 route: `flake8 --select TL` reports threadlint's findings.

flake8 hands the plugin one file at a time, so the project-wide rules see a
project of that one file: a finding that needs another module (a lock held
in a caller elsewhere, a thread started in another file) is not reported
through flake8, only by `threadlint` itself.  Everything one file shows is.

flake8 does its own selection, `# noqa` handling and output formatting;
threadlint's configuration (`[tool.threadlint]` or `threadlint.toml`, found
from the working directory) still applies on top: its rule selection,
per-file ignores, `preview`, `thread-entry-points` and the other analysis
settings, and `# threadlint: ignore[...]` / `skip-file` comments.
"""

from __future__ import annotations

import ast
import io
import os
import tokenize
from collections.abc import Iterator
from dataclasses import replace
from functools import lru_cache
from pathlib import Path

from threadlint import __version__
from threadlint.analysis.per_file import analyze_source
from threadlint.config import ConfigError, Settings, find_config_file, load_config
from threadlint.discovery import module_name_for
from threadlint.runner import finish
from threadlint.suppress import find_suppressions


@lru_cache(maxsize=8)
def _settings(cwd: str) -> Settings | str:
    """threadlint's settings for a flake8 run from `cwd`, or the configuration error."""
    try:
        found = find_config_file(Path(cwd))
        settings = load_config(found) if found else Settings(root=cwd)
    except ConfigError as exc:
        return str(exc)
    # TL002 judges noqa comments, which are flake8's business here.
    return replace(settings, extend_ignore=(*settings.extend_ignore, "TL002"))


def _source_bytes(lines: list[str]) -> bytes:
    """flake8's decoded lines back to bytes in the file's declared encoding."""
    text = "".join(lines)
    data = text.encode("utf-8")
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError:
        return data
    if encoding in ("utf-8", "utf-8-sig"):
        return data
    try:
        return text.encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return data


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
        settings = _settings(os.getcwd())
        if isinstance(settings, str):
            # A plugin exception is a traceback in flake8 and invisible in
            # editors; a finding on line 1 is seen wherever flake8 is.
            yield 1, 0, f"TL001 not analysed: threadlint configuration error: {settings}", type(self)
            return
        source = _source_bytes(self.lines)
        result = analyze_source(self.filename, _module_name(self.filename), source, settings)
        if result.error is not None:
            last = result.error.strip().splitlines()[-1] if result.error.strip() else "unknown"
            raise RuntimeError(f"threadlint: internal error while linting {self.filename}: {last}")
        if not result.skipped:
            result.suppressions = find_suppressions(source, noqa=False)
        for d in finish([result], settings).diagnostics:
            # flake8 columns are 0-based here; it adds one when printing.
            yield d.line, d.col - 1, f"{d.code} {d.message}", type(self)
