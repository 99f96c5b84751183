"""The results cache: one file's analysis, reused while nothing it depends on changed.

`analyze_source` is a pure function of the file's bytes, its module name
and file name, the settings and threadlint itself, so its `FileResult` is
stored under a hash of exactly those.  The display path is not part of the
key (it changes with the working directory): a hit is re-stamped with the
path of the file being linted.

Entries are data, never code: JSON, one file each, under a subdirectory
named after the entry format (`v2/`), written to a temporary file and
renamed into place so that a concurrent run never reads half an entry.
Anyone who can write the cache directory (a restored CI cache, a shared
`--cache-dir`) can therefore make threadlint believe wrong results, but not
run anything: loading builds only threadlint's own dataclasses, from plain
values, after checking each entry's format, key and shape.  The cache is
only an optimisation: an entry that cannot be read, parsed or validated is
a miss, never an error, and nothing in the directory (a FIFO, a link) is
opened in a way that can block.

The JSON form of a value (`_encode`): None, booleans, numbers and strings
are themselves; a tuple is an array; a list, set, frozenset or dict is
`{"l"|"s"|"f": [items]}` or `{"d": [[key, value], ...]}`; a threadlint
dataclass is `{"t": "module:Class", "v": [field values in order]}`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import sys
import tempfile
from dataclasses import fields, replace
from pathlib import Path
from sys import intern
from typing import Any

import threadlint
from threadlint.analysis.per_file import FileResult
from threadlint.config import Settings
from threadlint.source_text import read_regular_file

DEFAULT_DIR_NAME = ".threadlint_cache"
# Bump when the encoding, or FileResult or anything inside it, changes shape.
_FORMAT = 4


class _NotStorable(TypeError):
    """A value the entry format does not hold (the entry is not written)."""


def _encode(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    kind = type(value)
    if kind is tuple:
        return [_encode(item) for item in value]
    if kind is list:
        return {"l": [_encode(item) for item in value]}
    if kind is frozenset:
        return {"f": [_encode(item) for item in value]}
    if kind is set:
        return {"s": [_encode(item) for item in value]}
    if kind is dict:
        return {"d": [[_encode(k), _encode(v)] for k, v in value.items()]}
    if dataclasses.is_dataclass(value) and kind.__module__.startswith("threadlint."):
        return {
            "t": f"{kind.__module__}:{kind.__qualname__}",
            "v": [_encode(getattr(value, f.name)) for f in fields(value)],
        }
    raise _NotStorable(f"cannot store a {kind.__name__} in the cache")


class _Invalid(ValueError):
    """An entry that is not what threadlint writes (the entry is a miss)."""


_SCALARS = frozenset({type(None), bool, int, float, str})


def _decode(data: Any) -> Any:
    # Dispatch on the exact type: this runs for every value of a warm run.
    kind = type(data)
    if kind is str:
        # Interned, as unpickling shares repeated strings: the project link
        # compares and hashes these names constantly.
        return intern(data)
    if kind is list:
        return tuple([_decode(item) for item in data])
    if kind is dict:
        return _decode_tagged(data)
    if kind in _SCALARS:
        return data
    raise _Invalid("not a value of the entry format")


def _decode_tagged(data: dict[str, Any]) -> Any:
    if len(data) == 2 and "t" in data:
        cls, names = _dataclass_named(data["t"])
        values = data.get("v")
        if type(values) is not list or len(values) != len(names):
            raise _Invalid(f"wrong fields for {cls.__name__}")
        # As unpickling does: the instance's fields set directly, which for
        # frozen dataclasses is several times faster than __init__ (none of
        # threadlint's has a __post_init__ or __slots__ to honour).
        instance: Any = object.__new__(cls)
        instance.__dict__.update(zip(names, [_decode(item) for item in values]))
        return instance
    if len(data) != 1:
        raise _Invalid("not a value of the entry format")
    ((tag, items),) = data.items()
    if type(items) is not list:
        raise _Invalid("not a value of the entry format")
    if tag == "d":
        if not all(type(pair) is list and len(pair) == 2 for pair in items):
            raise _Invalid("not a dict")
        return {_decode(k): _decode(v) for k, v in items}
    decoded = [_decode(item) for item in items]
    if tag == "l":
        return decoded
    if tag == "f":
        return frozenset(decoded)
    if tag == "s":
        return set(decoded)
    raise _Invalid(f"unknown tag {tag!r}")


def _dataclass_named(tag: object) -> tuple[type, tuple[str, ...]]:
    """A dataclass of threadlint's, by `module:qualname`, among the modules
    already imported (nothing is imported, nothing else can be named), and
    its field names."""
    known = _CLASSES.get(tag) if isinstance(tag, str) else None
    if known is not None:
        return known
    if not isinstance(tag, str) or tag.count(":") != 1:
        raise _Invalid("not a class name")
    module_name, qualname = tag.split(":")
    module = sys.modules.get(module_name) if module_name.startswith("threadlint.") else None
    target: object = module
    for part in qualname.split("."):
        target = getattr(target, part, None)
    if not (isinstance(target, type) and dataclasses.is_dataclass(target)):
        raise _Invalid(f"not a threadlint dataclass: {tag}")
    if target.__module__ != module_name or hasattr(target, "__slots__"):
        raise _Invalid(f"not a threadlint dataclass: {tag}")
    found = (target, tuple(f.name for f in fields(target)))
    _CLASSES[tag] = found
    return found


_CLASSES: dict[str, tuple[type, tuple[str, ...]]] = {}  # tags already looked up


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

    # The validated shape of what is loaded, beyond each class's fields.
    _RESULT_TYPES = (("path", str), ("module_name", str), ("diagnostics", list),
                     ("suppressions", dict), ("facts", dict))

    def __init__(self, directory: Path, settings: Settings) -> None:
        self.directory = Path(directory)
        self.entries = self.directory / f"v{_FORMAT}"
        self._prefix = hashlib.sha256(
            f"{_code_fingerprint()}\0{_settings_fingerprint(settings)}".encode()
        ).digest()

    def _key(self, source: bytes, module_name: str, file_name: str, variant: str) -> str:
        digest = hashlib.sha256(self._prefix)
        # surrogateescape: a name that is not UTF-8 keys by its own bytes.
        digest.update(f"{module_name}\0{file_name}\0{variant}\0".encode("utf-8", "surrogateescape"))
        digest.update(source)
        return digest.hexdigest()

    def _entry(self, key: str) -> Path:
        return self.entries / key[:2] / f"{key}.json"

    def get(
        self, source: bytes, display: str, module_name: str, variant: str = ""
    ) -> FileResult | None:
        """The stored result, or None; `variant` names a non-default analysis
        (such as a forced one) of the same file."""
        key = self._key(source, module_name, Path(display).name, variant)
        try:
            data = json.loads(read_regular_file(self._entry(key)))
            if not isinstance(data, dict) or data.get("threadlint_cache") != _FORMAT:
                return None
            if data.get("key") != key:
                return None  # an entry copied under another name
            result = _decode(data.get("result"))
        except Exception:  # unreadable, not JSON, too deep, or not our shape: a miss
            return None
        if not self._valid(result, module_name):
            return None
        return _restamp(result, display)

    def _valid(self, result: object, module_name: str) -> bool:
        return (
            isinstance(result, FileResult)
            and all(isinstance(getattr(result, name), kind) for name, kind in self._RESULT_TYPES)
            and result.module_name == module_name
            and result.error is None
            and result.unreadable is None
        )

    def put(self, source: bytes, result: FileResult, variant: str = "") -> None:
        if result.error is not None:
            return  # an internal error may be transient, or fixed by the next release
        name = Path(result.path).name
        key = self._key(source, result.module_name, name, variant)
        try:
            text = json.dumps(
                {"threadlint_cache": _FORMAT, "key": key, "result": _encode(result)},
                separators=(",", ":"),
            )
        except (_NotStorable, ValueError):
            return  # a value the format does not hold: not cached, still correct
        entry = self._entry(key)
        try:
            self._prepare(entry.parent)
            handle, temporary = tempfile.mkstemp(dir=entry.parent, suffix=".tmp")
            try:
                with os.fdopen(handle, "w", encoding="ascii") as out:
                    out.write(text)
                os.replace(temporary, entry)
            except BaseException:
                os.unlink(temporary)
                raise
        except OSError:
            pass  # a read-only or full disk only costs speed

    def _prepare(self, directory: Path) -> None:
        if directory.is_dir():
            return
        if not self.directory.is_dir():
            self.directory.mkdir(parents=True, exist_ok=True)
            # Never committed, never linted, skipped by backup tools.
            _create(self.directory / ".gitignore", "*\n")
            _create(
                self.directory / "CACHEDIR.TAG",
                "Signature: 8a477f597d28d172789f06886806bc55\n"
                "# This file marks threadlint's results cache.\n",
            )
        directory.mkdir(parents=True, exist_ok=True)


def _create(path: Path, text: str) -> None:
    """Write a new file; whatever is already there (even a FIFO) is left alone."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags, 0o644)
    except FileExistsError:
        return
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


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
