"""The results cache: one file's analysis, reused while nothing it depends on changed.

`analyze_source` is a pure function of the file's bytes, its module name
and file name, the settings and threadlint itself, so its `FileResult` is
stored under a hash of exactly those.  The display path is not part of the
key (it changes with the working directory): a hit is re-stamped with the
path of the file being linted.

Entries are pickles, one file each, under a subdirectory named after the
entry format, written to a temporary file and renamed into place so that a
concurrent run never reads half an entry.  The cache is only an
optimisation: an entry that cannot be read or written is a miss, never an
error.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from dataclasses import fields, replace
from pathlib import Path

import threadlint
from threadlint.analysis.per_file import FileResult
from threadlint.config import Settings

DEFAULT_DIR_NAME = ".threadlint_cache"
# Bump when FileResult (or anything pickled inside it) changes shape.
_FORMAT = 1


def _code_fingerprint() -> str:
    """threadlint's version and the state of its source files, so that a
    development checkout never reuses results of code that has changed."""
    digest = hashlib.sha256(threadlint.__version__.encode())
    package = Path(threadlint.__file__).parent
    for path in sorted(package.rglob("*.py")):
        try:
            stat = path.stat()
        except OSError:
            continue
        digest.update(f"{path.relative_to(package)}:{stat.st_size}:{stat.st_mtime_ns};".encode())
    return digest.hexdigest()


def _settings_fingerprint(settings: Settings) -> str:
    # Fields excluded from comparison (where the config lives) do not change
    # what is found in a file.
    return repr([(f.name, getattr(settings, f.name)) for f in fields(settings) if f.compare])


class ResultCache:
    """The entries for one run's settings; picklable, so workers use it too."""

    def __init__(self, directory: Path, settings: Settings) -> None:
        self.directory = Path(directory)
        self.entries = self.directory / f"v{_FORMAT}"
        self._prefix = hashlib.sha256(
            f"{_code_fingerprint()}\0{_settings_fingerprint(settings)}".encode()
        ).digest()

    def _key(self, source: bytes, module_name: str, file_name: str, variant: str) -> str:
        digest = hashlib.sha256(self._prefix)
        digest.update(f"{module_name}\0{file_name}\0{variant}\0".encode())
        digest.update(source)
        return digest.hexdigest()

    def _entry(self, key: str) -> Path:
        return self.entries / key[:2] / f"{key}.pickle"

    def get(
        self, source: bytes, display: str, module_name: str, variant: str = ""
    ) -> FileResult | None:
        """The stored result, or None; `variant` names a non-default analysis
        (such as a forced one) of the same file."""
        entry = self._entry(self._key(source, module_name, Path(display).name, variant))
        try:
            with open(entry, "rb") as handle:
                result = pickle.load(handle)
        except Exception:
            return None
        if not isinstance(result, FileResult) or result.error is not None:
            return None
        return _restamp(result, display)

    def put(self, source: bytes, result: FileResult, variant: str = "") -> None:
        if result.error is not None:
            return  # an internal error may be transient, or fixed by the next release
        name = Path(result.path).name
        entry = self._entry(self._key(source, result.module_name, name, variant))
        try:
            self._prepare(entry.parent)
            handle, temporary = tempfile.mkstemp(dir=entry.parent, suffix=".tmp")
            try:
                with os.fdopen(handle, "wb") as out:
                    pickle.dump(result, out, protocol=pickle.HIGHEST_PROTOCOL)
                os.replace(temporary, entry)
            except BaseException:
                os.unlink(temporary)
                raise
        except (OSError, pickle.PicklingError, TypeError, AttributeError):
            pass  # a read-only or full disk only costs speed

    def _prepare(self, directory: Path) -> None:
        if directory.is_dir():
            return
        if not self.directory.is_dir():
            self.directory.mkdir(parents=True, exist_ok=True)
            # Never committed, never linted, skipped by backup tools.
            (self.directory / ".gitignore").write_text("*\n", encoding="utf-8")
            (self.directory / "CACHEDIR.TAG").write_text(
                "Signature: 8a477f597d28d172789f06886806bc55\n"
                "# This file marks threadlint's results cache.\n",
                encoding="utf-8",
            )
        directory.mkdir(parents=True, exist_ok=True)


def _restamp(result: FileResult, display: str) -> FileResult:
    """The cached result as found under `display` (the key ignores the directory)."""
    if result.path == display:
        return result
    old = result.path
    result.diagnostics = [
        replace(d, path=display) if d.path == old else d for d in result.diagnostics
    ]
    result.path = display
    return result


def default_cache_dir(settings: Settings) -> Path:
    """`.threadlint_cache/` at the project root: the configuration's directory,
    else the directory threadlint was run from."""
    return Path(settings.root) / DEFAULT_DIR_NAME


def cache_for(settings: Settings, disabled: bool, directory: str | None) -> ResultCache | None:
    """The cache of a command-line run: `--no-cache`, `--cache-dir`, or the default."""
    if disabled:
        return None
    return ResultCache(Path(directory) if directory else default_cache_dir(settings), settings)
