"""Which configuration governs which file: the nearest one above it, as in ruff.

Each file is governed by the nearest configuration file in its directory or
a directory above it.  Within one directory `.threadlint.toml` wins over
`threadlint.toml`, which wins over a `pyproject.toml` with a
`[tool.threadlint]` table (ruff's order: `.ruff.toml`, `ruff.toml`,
`pyproject.toml`); a `pyproject.toml` without that table is passed over.
Configurations are not merged: the nearest one is the whole configuration.
`--config PATH` is every file's configuration instead, and `--isolated`
none at all.  The command line is a layer over each file's configuration.

Two kinds of settings come from a configuration:

- *file-level* ones (the rule selection, `preview`, `per-file-ignores`,
  `exclude`, `extend-exclude`, `respect-gitignore`) decide what is linted
  and reported in a file: they come from the file's own nearest
  configuration;
- *analysis* ones (`thread-entry-points`, `lock-types`, `thread-safe-types`,
  the TL401 tables, `free-threaded`, `target-version`) change the model of
  the program, which is built for a whole project at once: they come from
  the configuration of the project root (the directory `find_project_root`
  names; for a file with no project, the file's own).

A run resolves each directory's configuration once (`ConfigLookup` keeps
them by directory), not once per file.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from glob import escape as escape_glob
from pathlib import Path
from typing import Any

from threadlint.config import ConfigError, Settings, config_in, load_config, parse_target_version
from threadlint.printable import printable
from threadlint.selection import layer_over


@dataclass(frozen=True)
class Overrides:
    """The command line's (or an editor's) settings, laid over every file's
    configuration.  Codes are validated already."""

    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    extend_select: tuple[str, ...] = ()
    extend_ignore: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    extend_exclude: tuple[str, ...] = ()
    preview: bool = False
    free_threaded: bool = False
    target_version: str | None = None
    respect_gitignore: bool | None = None

    def __post_init__(self) -> None:
        if self.target_version is not None and parse_target_version(self.target_version) is None:
            raise ConfigError(
                f"--target-version: expected a Python version such as py39 or 3.12, "
                f"got {self.target_version!r}"
            )

    def apply(self, settings: Settings) -> Settings:
        settings = layer_over(
            settings,
            select=self.select,
            ignore=self.ignore,
            extend_select=self.extend_select,
            extend_ignore=self.extend_ignore,
        )
        changes: dict[str, Any] = {}
        if self.exclude:
            changes["exclude"] = self.exclude
        if self.extend_exclude:
            changes["extend_exclude"] = (*settings.extend_exclude, *self.extend_exclude)
        if self.preview:
            changes["preview"] = True
        if self.free_threaded:
            changes["free_threaded"] = True
        if self.target_version is not None:
            changes["target_version"] = self.target_version
        if self.respect_gitignore is not None:
            changes["respect_gitignore"] = self.respect_gitignore
        return replace(settings, **changes)


class ConfigLookup:
    """The configurations of one run (or one editor session), found on demand.

    Every directory asked about is remembered with the configuration file
    that governs it, and every configuration file is read once.  Loading is
    lazy, so a broken configuration is a `ConfigError` when a file it
    governs is first looked up.
    """

    def __init__(
        self,
        overrides: Overrides | None = None,
        *,
        config: Path | None = None,
        isolated: bool = False,
        cwd: Path | None = None,
    ) -> None:
        self._cwd = (cwd or Path.cwd()).absolute()
        overrides = overrides or Overrides()
        # The command line's paths are relative to the working directory,
        # whichever configuration a file has (as in ruff).
        self.overrides = replace(
            overrides,
            exclude=_anchored(overrides.exclude, self._cwd),
            extend_exclude=_anchored(overrides.extend_exclude, self._cwd),
        )
        self._isolated = isolated
        self._fixed: Settings | None = None
        if isolated:
            self._fixed = self._layered(Settings(root=str(self._cwd)))
        elif config is not None:
            if not os.path.lexists(config):
                raise ConfigError(f"--config: no such file: {printable(str(config))}")
            self._fixed = self._layered(load_config(config))
        self._dirs: dict[str, Path | None] = {}  # directory -> its configuration file
        self._loaded: dict[Path | None, Settings] = {}
        self._roots: dict[str, str | None] = {}  # directory -> its project root
        self._used: dict[str, None] = {}  # configuration files applied, in order

    def __getstate__(self) -> dict[str, Any]:
        # Worker processes receive the settings of a run but never look up
        # files: the caches stay behind.
        state = dict(self.__dict__)
        state["_dirs"], state["_loaded"], state["_roots"], state["_used"] = {}, {}, {}, {}
        return state

    @property
    def isolated(self) -> bool:
        return self._isolated

    @property
    def used(self) -> list[str]:
        """The configuration files that governed a file or a directory so far."""
        if self._fixed is not None:
            return [self._fixed.config_file] if self._fixed.config_file else []
        return list(self._used)

    def base_settings(self) -> Settings:
        """The settings of a run before any file is met: `--config`'s, or the
        defaults, the command line over them."""
        return self._fixed or self._layered(Settings(root=str(self._cwd)))

    def _layered(self, settings: Settings) -> Settings:
        return replace(self.overrides.apply(settings), lookup=self)

    def config_file(self, directory: Path | str) -> Path | None:
        """The configuration file governing `directory` (None: the defaults)."""
        if self._fixed is not None:
            return None if self._fixed.config_file is None else Path(self._fixed.config_file)
        key = os.path.abspath(os.path.join(self._cwd, directory))
        chain: list[str] = []
        found: Path | None = None
        while True:
            if key in self._dirs:
                found = self._dirs[key]
                break
            chain.append(key)
            found = config_in(Path(key))
            if found is not None:
                break
            parent = os.path.dirname(key)
            if parent == key:
                break
            key = parent
        for directory_key in chain:
            self._dirs[directory_key] = found
        return found

    def settings_at(self, directory: Path | str, *, record: bool = True) -> Settings:
        """The settings (command line included) of the files in `directory`."""
        if self._fixed is not None:
            return self._fixed
        found = self.config_file(directory)
        settings = self._loaded.get(found)
        if settings is None:
            base = load_config(found) if found is not None else Settings(root=str(self._cwd))
            settings = self._loaded[found] = self._layered(base)
        if record and found is not None:
            self._used.setdefault(str(found), None)
        return settings

    def file_settings(self, path: str | Path) -> Settings:
        """The settings of the file at `path` (relative to the working directory)."""
        return self.settings_at(os.path.dirname(os.path.join(self._cwd, path)))

    def project_root(self, path: Path | str) -> Path | None:
        """`find_project_root` of `path`'s directory, remembered by directory."""
        from threadlint.project import find_project_root

        absolute = os.path.join(self._cwd, path)
        directory = absolute if os.path.isdir(absolute) else os.path.dirname(absolute)
        if directory not in self._roots:
            root = find_project_root(Path(directory))
            self._roots[directory] = None if root is None else str(root)
        root_text = self._roots[directory]
        return None if root_text is None else Path(root_text)

    def analysis_directory(self, path: Path | str) -> Path:
        """Where the analysis settings of the file at `path` are read: its
        project root, else its own directory."""
        root = self.project_root(path)
        if root is not None:
            return root
        absolute = os.path.join(self._cwd, path)
        return Path(absolute if os.path.isdir(absolute) else os.path.dirname(absolute))

    def analysis_settings(self, directory: Path | str, files: Iterable[str | Path]) -> Settings:
        """The settings for analysing and linking `files` together: the analysis
        settings of `directory`'s configuration, with every rule that any of
        the files' own configurations selects (which of them a file reports
        is decided per file when the findings are filtered)."""
        base = self.settings_at(directory)
        distinct: dict[int, Settings] = {}
        for path in files:
            settings = self.file_settings(path)
            distinct.setdefault(id(settings), settings)
        if not distinct or list(distinct.values()) == [base]:
            return base
        return union_of_selections(base, list(distinct.values()))


def _anchored(globs: tuple[str, ...], directory: Path) -> tuple[str, ...]:
    """Globs naming a path (with a `/`) made absolute from `directory`; a bare
    name still matches a file or directory of that name anywhere."""
    # The directory's own name is literal, whatever characters it has.
    base = escape_glob(directory.resolve().as_posix().rstrip("/"))
    out = []
    for glob in globs:
        if "/" in glob.rstrip("/") and not glob.startswith("/"):
            glob = Path(os.path.normpath(f"{base}/{glob}")).as_posix()
        out.append(glob)
    return tuple(out)


def selects_all_of(settings: Settings, other: Settings) -> bool:
    """Whether `settings` runs every rule `other` selects."""
    from threadlint.rules.base import all_rules

    return all(
        settings.is_selected(rule.code, preview=rule.preview, opt_in=rule.opt_in)
        for rule in all_rules()
        if other.is_selected(rule.code, preview=rule.preview, opt_in=rule.opt_in)
    )


def union_of_selections(base: Settings, selections: Sequence[Settings]) -> Settings:
    """`base` selecting each rule that one of `selections` selects."""
    from threadlint.rules.base import all_rules

    codes = tuple(
        rule.code
        for rule in all_rules()
        if any(s.is_selected(rule.code, preview=rule.preview, opt_in=rule.opt_in) for s in selections)
    )
    return replace(
        base,
        select=codes,
        ignore=(),
        extend_select=(),
        extend_ignore=(),
        preview=any(s.preview for s in selections),
    )
