"""Settings: `[tool.threadlint]` in pyproject.toml (or threadlint.toml), validated.

This module reads one configuration file; which file governs which linted
file is `threadlint.config_lookup`'s business.

Configuration errors are user errors: they are raised as `ConfigError` with
one line naming the file, the key and the expected form, and the CLI turns
them into exit status 2.  Nothing is ever silently ignored: a pyproject.toml
that cannot be read, is not UTF-8 or is not TOML is an error when it may
configure threadlint (it cannot be read, or its text names
`tool.threadlint`); one that plainly belongs to other tools is theirs.
TOML nested more than `MAX_TOML_DEPTH` levels deep is refused before it is
parsed (the parser recurses, and no configuration nests like that).
"""

from __future__ import annotations

import functools
import os
import re
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from threadlint.printable import printable
from threadlint.source_text import read_regular_file

if TYPE_CHECKING:
    from threadlint.config_lookup import ConfigLookup

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on old interpreters only
    import tomli as tomllib

# ruff's defaults, which users of Python linters already expect.
DEFAULT_EXCLUDE: tuple[str, ...] = (
    ".bzr",
    ".direnv",
    ".eggs",
    ".git",
    ".git-rewrite",
    ".hg",
    ".ipynb_checkpoints",
    ".mypy_cache",
    ".nox",
    ".pants.d",
    ".pyenv",
    ".pytest_cache",
    ".pytype",
    ".ruff_cache",
    ".svn",
    ".threadlint_cache",
    ".tox",
    ".venv",
    ".vscode",
    "__pycache__",
    "__pypackages__",
    "_build",
    "buck-out",
    "build",
    "dist",
    "node_modules",
    "site-packages",
    "venv",
)


class ConfigError(Exception):
    """A configuration or usage problem, reported in one line with exit 2."""


@dataclass(frozen=True)
class Settings:
    select: tuple[str, ...] = ("TL",)
    ignore: tuple[str, ...] = ()
    extend_select: tuple[str, ...] = ()
    extend_ignore: tuple[str, ...] = ()
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    exclude: tuple[str, ...] = DEFAULT_EXCLUDE
    extend_exclude: tuple[str, ...] = ()
    thread_entry_points: tuple[str, ...] = ()
    thread_safe_types: tuple[str, ...] = ()
    lock_types: tuple[str, ...] = ()
    # Qualified-name prefixes whose public API runs on several threads at once ("*": all).
    concurrent_api: tuple[str, ...] = ()
    # TL401's tables (threadlint.analysis.cpu_profile), extended by qualified
    # names or prefixes.
    io_functions: tuple[str, ...] = ()
    gil_releasing_functions: tuple[str, ...] = ()
    cpu_heavy_functions: tuple[str, ...] = ()
    # TL306's table (threadlint.analysis.blocking), extended the same way.
    blocking_functions: tuple[str, ...] = ()
    free_threaded: bool = False
    respect_gitignore: bool = True
    preview: bool = False
    target_version: str | None = None
    # `[project] requires-python` of the pyproject.toml read: TL401's default
    # for `target_version`.
    requires_python: str | None = None
    # Where relative paths in the configuration are anchored.
    root: str = field(default=".", compare=False)
    config_file: str | None = field(default=None, compare=False)
    # The run's configurations (threadlint.config_lookup): when set, a file's
    # file-level settings (selection, per-file ignores, excludes) are those
    # of its own nearest configuration, not these.
    lookup: ConfigLookup | None = field(default=None, compare=False, repr=False)

    def for_file(self, path: str) -> Settings:
        """The settings deciding what is reported in the file at `path`."""
        return self if self.lookup is None else self.lookup.file_settings(path)

    def discovery_at(self, directory: Path) -> tuple[tuple[str, ...], Path, bool]:
        """(excludes, the directory they are relative to, respect-gitignore)
        for the entries of `directory`."""
        settings = self if self.lookup is None else self.lookup.settings_at(directory)
        return settings.excludes, settings.anchor, settings.respect_gitignore

    @property
    def excludes(self) -> tuple[str, ...]:
        return (*self.exclude, *self.extend_exclude)

    @property
    def anchor(self) -> Path:
        """`root` resolved: where relative paths of the configuration start."""
        return _resolved(self.root)

    def is_selected(self, code: str, *, preview: bool = False, opt_in: bool = False) -> bool:
        from threadlint.selection import is_selected

        return is_selected(self, code, preview=preview, opt_in=opt_in)


# key in TOML -> (Settings field, expected form)
_LIST_OF_CODES = "a list of rule codes or prefixes, e.g. [\"TL1\", \"TL203\"]"
_LIST_OF_STRINGS = "a list of strings"
_KEYS: dict[str, tuple[str, str]] = {
    "select": ("select", _LIST_OF_CODES),
    "ignore": ("ignore", _LIST_OF_CODES),
    "extend-select": ("extend_select", _LIST_OF_CODES),
    "extend-ignore": ("extend_ignore", _LIST_OF_CODES),
    "per-file-ignores": (
        "per_file_ignores",
        'a table of glob = list of codes, e.g. {"tests/*" = ["TL201"]}',
    ),
    "exclude": ("exclude", _LIST_OF_STRINGS),
    "extend-exclude": ("extend_exclude", _LIST_OF_STRINGS),
    "thread-entry-points": ("thread_entry_points", _LIST_OF_STRINGS),
    "thread-safe-types": ("thread_safe_types", _LIST_OF_STRINGS),
    "lock-types": ("lock_types", _LIST_OF_STRINGS),
    "concurrent-api": ("concurrent_api", _LIST_OF_STRINGS),
    "io-functions": ("io_functions", _LIST_OF_STRINGS),
    "gil-releasing-functions": ("gil_releasing_functions", _LIST_OF_STRINGS),
    "cpu-heavy-functions": ("cpu_heavy_functions", _LIST_OF_STRINGS),
    "blocking-functions": (
        "blocking_functions",
        'a list of qualified names or prefixes ending in ".", e.g. ["myapp.rpc.call", "grpc."]',
    ),
    "free-threaded": ("free_threaded", "true or false"),
    "respect-gitignore": ("respect_gitignore", "true or false"),
    "preview": ("preview", "true or false"),
    "target-version": ("target_version", 'a Python version such as "py39" or "3.12"'),
}

_CODE_KEYS = {"select", "ignore", "extend-select", "extend-ignore"}


@functools.lru_cache(maxsize=1024)
def _resolved(root: str) -> Path:
    return Path(root).resolve()


# The configuration files of one directory, the first present winning (ruff's
# order: `.ruff.toml`, `ruff.toml`, `pyproject.toml` with `[tool.ruff]`).
CONFIG_NAMES = (".threadlint.toml", "threadlint.toml", "pyproject.toml")


def config_in(directory: Path) -> Path | None:
    """The configuration file of `directory` itself, if it has one."""
    for name in CONFIG_NAMES:
        candidate = directory / name
        if _present(candidate) and (name != "pyproject.toml" or _has_tool_table(candidate)):
            return candidate
    return None


def _present(path: Path) -> bool:
    """There is something by that name that is not a directory: a file, or one
    that cannot be read (a dangling link, a FIFO), which is then an error."""
    return os.path.lexists(path) and not path.is_dir()


def _has_tool_table(pyproject: Path) -> bool:
    """Whether this pyproject.toml configures threadlint, or may (and then
    `load_config` says what is wrong with it)."""
    try:
        raw = read_regular_file(pyproject)
    except OSError:
        return True  # it may configure threadlint: an error, not a guess
    if b"threadlint" not in raw:
        return False  # the common case, without parsing anything
    try:
        data = _parse_toml(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError, _TooDeep):
        # A broken pyproject.toml that is not ours is not our business; one
        # that configures threadlint is, and `load_config` reports it.
        return b"tool.threadlint" in raw
    tool = data.get("tool")
    return isinstance(tool, dict) and "threadlint" in tool


# Far beyond any configuration; small enough for the recursive parser.
MAX_TOML_DEPTH = 100


class _TooDeep(ValueError):
    pass


def _parse_toml(text: str) -> dict[str, Any]:
    if _nesting_exceeds(text, MAX_TOML_DEPTH):
        raise _TooDeep(f"arrays or tables nested more than {MAX_TOML_DEPTH} levels deep")
    try:
        return tomllib.loads(text)
    except RecursionError:
        raise _TooDeep("nested too deeply") from None


def _nesting_exceeds(text: str, limit: int) -> bool:
    """Whether brackets and braces outside strings and comments nest deeper
    than `limit` (a scan that does not recurse, so it cannot overflow)."""
    depth = 0
    i, end = 0, len(text)
    while i < end:
        c = text[i]
        if c == "#":
            newline = text.find("\n", i)
            i = end if newline == -1 else newline + 1
            continue
        if c in "\"'":
            i = _skip_string(text, i)
            continue
        if c in "[{":
            depth += 1
            if depth > limit:
                return True
        elif c in "]}":
            depth = max(0, depth - 1)
        i += 1
    return False


def _skip_string(text: str, start: int) -> int:
    """The index after the TOML string that starts at `start`."""
    quote = text[start]
    delimiter = quote * 3 if text.startswith(quote * 3, start) else quote
    i = start + len(delimiter)
    while i < len(text):
        if quote == '"' and text[i] == "\\":
            i += 2
            continue
        if text.startswith(delimiter, i):
            return i + len(delimiter)
        if len(delimiter) == 1 and text[i] == "\n":
            return i + 1  # unterminated: the parser reports it
        i += 1
    return i


def load_config(path: Path) -> Settings:
    """Read and validate one configuration file."""
    name = printable(str(path))
    try:
        data = _parse_toml(read_regular_file(path).decode("utf-8"))
    except OSError as exc:
        raise ConfigError(f"{name}: cannot read configuration: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{name}: not UTF-8 (TOML must be): {exc.reason} at byte {exc.start}") from None
    except (tomllib.TOMLDecodeError, _TooDeep) as exc:
        raise ConfigError(f"{name}: invalid TOML: {exc}") from None
    requires_python = None
    # A pyproject.toml, or a file in its form (`--config other.toml` holding
    # `[tool.threadlint]`): the table, and [project] requires-python.  Any
    # other file holds the keys at top level.
    if path.name == "pyproject.toml" or isinstance(data.get("tool"), dict):
        tool = data.get("tool")
        table = tool.get("threadlint", {}) if isinstance(tool, dict) else {}
        where = "[tool.threadlint]"
        # Other tools' tables are theirs to validate: a `project` that is not
        # a table only means there is no requires-python to read.
        project = data.get("project")
        requires = project.get("requires-python") if isinstance(project, dict) else None
        requires_python = requires if isinstance(requires, str) else None
    else:
        table = data
        where = printable(path.name)
    if not isinstance(table, dict):
        raise ConfigError(f"{name}: {where} must be a table")
    settings = Settings(
        root=str(path.parent.resolve()), config_file=str(path), requires_python=requires_python
    )
    return apply_table(settings, table, f"{name}: {where}")


def apply_table(settings: Settings, table: dict[str, Any], where: str) -> Settings:
    """Validate a table of configuration keys and apply it over `settings`."""
    changes: dict[str, Any] = {}
    for key, value in table.items():
        if key not in _KEYS:
            known = ", ".join(sorted(_KEYS))
            raise ConfigError(f"{where}: unknown key '{printable(key)}' (known keys: {known})")
        attr, expected = _KEYS[key]
        changes[attr] = _convert(key, value, expected, where)
    return replace(settings, **changes)


def _convert(key: str, value: Any, expected: str, where: str) -> Any:
    def bad() -> ConfigError:
        return ConfigError(f"{where}: '{key}' must be {expected}, got {value!r}")

    if key in ("free-threaded", "respect-gitignore", "preview"):
        if not isinstance(value, bool):
            raise bad()
        return value
    if key == "target-version":
        if not isinstance(value, str) or parse_target_version(value) is None:
            raise bad()
        return value
    if key == "per-file-ignores":
        if not isinstance(value, dict):
            raise bad()
        pairs = []
        for glob, codes in value.items():
            if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
                raise bad()
            pairs.append((glob, tuple(validate_codes(codes, f"{where}: 'per-file-ignores'"))))
        return tuple(pairs)
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise bad()
    if key in _CODE_KEYS:
        return tuple(validate_codes(value, f"{where}: '{key}'"))
    if key == "blocking-functions" and not all(_QUALIFIED.fullmatch(item) for item in value):
        raise bad()
    return tuple(value)


# A dotted Python name, or a prefix of one ending in a dot.
_QUALIFIED = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*\.?")


def validate_codes(codes: list[str], where: str) -> list[str]:
    from threadlint.selection import is_known_prefix

    cleaned = []
    for code in codes:
        code = code.strip().upper()
        if not code:
            continue
        if not is_known_prefix(code):
            raise ConfigError(f"{where}: unknown rule code or prefix '{printable(code)}'")
        cleaned.append(code)
    return cleaned


def parse_target_version(value: str) -> tuple[int, int] | None:
    """'py39', '3.9' or '>=3.9' (requires-python style) to (3, 9)."""
    text = value.strip().lstrip(">=~^ ").lower()
    if text.startswith("py") and text[2:].isdigit() and len(text) >= 4:
        return (int(text[2]), int(text[3:]))
    parts = text.split(".")
    if len(parts) >= 2 and parts[0].isdigit() and parts[1].isdigit():
        return (int(parts[0]), int(parts[1]))
    return None


def target_version(settings: Settings) -> tuple[int, int] | None:
    """`target-version`, else the lower bound of the project's `requires-python`."""
    if settings.target_version:
        return parse_target_version(settings.target_version)
    requires = settings.requires_python  # read with the configuration
    if requires is None:
        return None
    for clause in requires.split(","):
        if clause.strip().startswith((">=", "~=", ">")):
            return parse_target_version(clause.strip().lstrip(">=~"))
    return None
