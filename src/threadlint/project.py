"""Partial runs that keep the project: lint some files as their project sees them.

pre-commit passes only the changed files, an editor one buffer, flake8 one
file at a time.  A race whose thread root is in another module is only
visible with that module in the link, so a partial run

1. finds the project each named file belongs to: the nearest directory above
   it holding a `pyproject.toml`, a `setup.cfg` or a `.git` (never the home
   directory or the filesystem root, which hold dotfiles, not a project);
2. analyses every Python file of that project (discovered as a directory run
   would: excludes and `.gitignore` apply) through the results cache, so only
   the first run pays for the files that did not change;
3. links the project, and reports the findings in the named files only:
   cross-module ones included, the rest of the project's findings left out.

A file with no project above it (a lone script) is linted on its own, with
the other files named beside it, as before.

`Project` holds one project's files and their analyses in memory.  The
command line builds one per run; the language server (`threadlint.server`)
keeps them, replaces a file's text by the editor's buffer, and re-links after
each change, re-analysing only what changed.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from threadlint.analysis.per_file import FileResult, analyze_source
from threadlint.cache import DEFAULT_DIR_NAME, ResultCache, cache_for
from threadlint.config import Settings
from threadlint.config_lookup import selects_all_of, union_of_selections
from threadlint.discovery import display_path, is_force_excluded, module_name_for, real_path
from threadlint.runner import RunResult, analyze_files, collect_files, finish, restrict, run
from threadlint.source_text import UnreadableFile, read_regular_file

PROJECT_MARKERS = ("pyproject.toml", "setup.cfg", ".git")

# The variant under which the cache keeps a forced analysis (runner's name).
_FORCED = "forced"


def find_project_root(path: Path) -> Path | None:
    """The nearest directory above `path` that marks a project, or None."""
    start = path.absolute()
    start = start if start.is_dir() else start.parent
    try:
        start = start.resolve()
    except (OSError, RuntimeError):
        return None
    try:
        home: Path | None = Path.home().resolve()
    except (OSError, RuntimeError, KeyError):
        home = None
    for directory in (start, *start.parents):
        if directory == home or directory == Path(directory.anchor):
            return None
        if any(os.path.lexists(directory / marker) for marker in PROJECT_MARKERS):
            return directory
    return None


@dataclass
class _Member:
    """One file of a project, and its analyses while its text is unchanged."""

    display: str
    module: str
    absolute: str
    buffer: bytes | None = None  # an editor's unsaved text: it wins over the disk
    stamp: tuple[int, int] | None = None  # (mtime_ns, size) of the disk text analysed
    plain: FileResult | None = None
    forced: FileResult | None = None  # analysed although it shows no concurrency API

    def forget(self) -> None:
        self.plain = self.forced = None


def _stamp(absolute: str) -> tuple[int, int] | None:
    try:
        stat = os.stat(absolute)
    except OSError:
        return None
    return (stat.st_mtime_ns, stat.st_size)


class Project:
    """The Python files of one project, analysed once and linked on demand.

    Files are keyed by their absolute path; findings name a file by its
    display path (relative to the working directory, as on the command line,
    unless the caller names it otherwise).
    """

    def __init__(
        self,
        root: Path | None,
        settings: Settings,
        *,
        jobs: int = 0,
        cache: ResultCache | None = None,
        display_base: Path | None = None,
        absolute_paths: bool = False,
        in_process: bool = False,
    ) -> None:
        self.root = root
        self.settings = settings
        self.jobs = jobs
        self.in_process = in_process  # no worker processes (the server runs threads)
        self.cache = cache
        self._base = (display_base or Path.cwd()).resolve()
        self._absolute = absolute_paths  # the server names files by absolute path
        self.members: dict[str, _Member] = {}
        self._named: set[str] = set()  # added by name: kept when a rescan misses them
        self._linked: RunResult | None = None
        self._forced: set[str] = set()  # modules analysed in full though they show no signal

    def scan(self, files: Sequence[Path] | None = None) -> None:
        """(Re)discover the project's files: new ones join, deleted ones leave.
        (`files`: the project's files, discovered already.)"""
        if self.root is None:
            return
        found = {}
        for path in files if files is not None else collect_files([str(self.root)], self.settings):
            found[str(real_path(path))] = path
        for key in list(self.members):
            if key not in found and key not in self._named and self.members[key].buffer is None:
                del self.members[key]
                self._linked = None
        for key, path in found.items():
            if key not in self.members:
                self._add(key, path, self._show(path))

    def add_file(self, path: Path, display: str | None = None) -> str:
        """Make sure `path` is a member (even if excluded from discovery: it was
        named), shown as `display`; returns its key."""
        key = str(real_path(path))
        self._named.add(key)
        member = self.members.get(key)
        shown = display if display is not None else self._show(path)
        if member is None:
            self._add(key, path, shown)
        elif member.display != shown:
            member.display = shown
            member.forget()
            self._linked = None
        self._cover(key)
        return key

    def _cover(self, key: str) -> None:
        """Make the analysis run every rule the file's own configuration selects:
        a file named after the project was opened (an editor's new file) may
        be governed by a configuration that none of the others had."""
        lookup = self.settings.lookup
        if lookup is None:
            return
        own = self.settings.for_file(self.members[key].display)
        if own is self.settings or selects_all_of(self.settings, own):
            return
        self.settings = union_of_selections(self.settings, [self.settings, own])
        if self.cache is not None:
            self.cache = ResultCache(self.cache.directory, self.settings)
        for member in self.members.values():
            member.forget()
        self._forced.clear()
        self._linked = None

    def _show(self, path: Path) -> str:
        return str(real_path(path)) if self._absolute else display_path(path, self._base)

    def _add(self, key: str, path: Path, display: str) -> None:
        # Keyed by the file it is, read through the name it was given: a
        # dangling link or a loop is then reported as what it is.
        self.members[key] = _Member(display, module_name_for(path), os.path.abspath(path))
        self._linked = None

    def set_buffer(self, key: str, source: bytes | None) -> None:
        """Use `source` as the file's text (None: back to the file on disk)."""
        member = self.members[key]
        if member.buffer != source:
            member.buffer = source
            member.forget()
            self._linked = None

    def remove(self, key: str) -> None:
        """Forget a file named earlier (a closed buffer of a file not on disk)."""
        self._named.discard(key)
        member = self.members.get(key)
        if member is not None and (member.buffer is not None or _stamp(key) is None):
            del self.members[key]
            self._linked = None

    def display_of(self, key: str) -> str:
        return self.members[key].display

    def check(self, scope: Iterable[str] | None = None) -> RunResult:
        """The run over the whole project, reported on the files `scope` names
        (keys; None: every file)."""
        self._refresh()
        if self._linked is None:
            self._linked = finish(self._analysed(), self.settings)
        if scope is None:
            return self._linked
        return restrict(self._linked, frozenset(self.members[k].display for k in scope))

    def _refresh(self) -> None:
        """Forget the analyses of files that changed on disk since."""
        for member in self.members.values():
            if member.buffer is None and member.plain is not None:
                if _stamp(member.absolute) != member.stamp:
                    member.forget()
                    self._linked = None

    def _analysed(self) -> list[FileResult]:
        """Every member's analysis, as runner.analyze_reached has it: modules that
        code on threads calls into are analysed in full although they name no
        concurrency API.  Modules found so once stay analysed in full while the
        project lives (no thread code reaches into a module that has no
        concurrency of its own unless something calls it), so a re-check after
        one change usually builds the project model once, not once a round."""
        from threadlint.link import modules_to_analyse

        members = sorted(self.members.values(), key=lambda m: m.display)
        self._analyse([m for m in members if m.plain is None], force=False)
        self._analyse(
            [m for m in members if m.module in self._forced and m.forced is None], force=True
        )
        results = [self._chosen(m) for m in members]
        for _ in range(3):
            wanted = modules_to_analyse(results, self.settings) - self._forced
            if not wanted:
                break
            self._forced |= wanted
            self._analyse([m for m in members if m.module in wanted and m.forced is None], True)
            results = [self._chosen(m) for m in members]
        return results

    def _chosen(self, member: _Member) -> FileResult:
        forced = member.forced if member.module in self._forced else None
        if forced is not None and not (member.plain is not None and member.plain.analysed):
            return forced
        assert member.plain is not None
        return member.plain

    def _analyse(self, members: Sequence[_Member], force: bool) -> None:
        on_disk = [m for m in members if m.buffer is None]
        for member in on_disk:
            if not force:
                member.stamp = _stamp(member.absolute)
        # Cache hits are read here: a worker pool started only to read the
        # cache would cost more than it saves (a warm partial run).
        variant = _FORCED if force else ""
        misses = []
        for member in on_disk:
            hit = self._cached(member, variant)
            if hit is None:
                misses.append(member)
            else:
                self._store(member, hit, force)
        on_disk = misses
        work = [(m.display, m.module, m.absolute) for m in on_disk]
        if work:
            results = analyze_files(
                work, self.settings, self.jobs, self.cache, force=force,
                in_process=self.in_process,
            )
            by_path = {r.path: r for r in results}
            for member in on_disk:
                self._store(member, by_path.get(member.display), force)
        for member in members:
            if member.buffer is not None:
                self._store(member, self._analyse_buffer(member, member.buffer, force), force)

    def _cached(self, member: _Member, variant: str) -> FileResult | None:
        if self.cache is None:
            return None
        try:
            source = read_regular_file(member.absolute)
        except UnreadableFile:
            return None  # the analysis reports it
        return self.cache.get(source, member.display, member.module, variant)

    def _analyse_buffer(self, member: _Member, source: bytes, force: bool) -> FileResult:
        variant = _FORCED if force else ""
        cache = self.cache
        cached = cache.get(source, member.display, member.module, variant) if cache else None
        if cached is not None:
            return cached
        result = analyze_source(member.display, member.module, source, self.settings, force=force)
        if cache is not None:
            cache.put(source, result, variant)
        return result

    @staticmethod
    def _store(member: _Member, result: FileResult | None, force: bool) -> None:
        if result is None:
            result = FileResult(path=member.display, module_name=member.module)
            result.error = "the file was not analysed"
        if force:
            member.forced = result
        else:
            member.plain = result


def project_cache(
    root: Path | None, settings: Settings, no_cache: bool, cache_dir: str | None
) -> ResultCache | None:
    """The cache of a partial run: --cache-dir, else `.threadlint_cache/` beside the
    configuration file, else at the project root (not wherever the editor runs)."""
    if no_cache:
        return None
    if cache_dir:
        return ResultCache(Path(cache_dir), settings)
    base = Path(settings.root) if settings.config_file or root is None else root
    return ResultCache(base / DEFAULT_DIR_NAME, settings)


def open_project(
    root: Path | None,
    settings: Settings,
    named: Sequence[Path],
    *,
    jobs: int = 0,
    no_cache: bool = False,
    cache_dir: str | None = None,
    absolute_paths: bool = False,
    in_process: bool = False,
) -> Project:
    """The project at `root` (None: the `named` files alone), scanned, with its
    analysis settings: those of the root's configuration, running every rule
    that one of its files' configurations selects (`settings.lookup`)."""
    files = collect_files([str(root)], settings) if root is not None else []
    lookup = settings.lookup
    if lookup is not None:
        where = root if root is not None else lookup.analysis_directory(named[0])
        settings = lookup.analysis_settings(where, [*files, *named])
    project = Project(
        root, settings, jobs=jobs, cache=project_cache(root, settings, no_cache, cache_dir),
        absolute_paths=absolute_paths, in_process=in_process,
    )
    project.scan(files)
    return project


def lint_paths(
    paths: Sequence[str],
    settings: Settings,
    *,
    jobs: int = 0,
    no_cache: bool = False,
    cache_dir: str | None = None,
    force_exclude: bool = False,
    whole_projects: bool = True,
) -> RunResult:
    """The command line's run over `paths`.

    Directories are linted as they are.  When files are named, each file's
    project is analysed with it (unless `whole_projects` is false), and the
    findings are reported in the files named or found under the paths only.
    Files whose projects have different analysis settings are linked apart.
    """
    if force_exclude:
        paths = [p for p in paths if not _force_excluded(p, settings)]
        if not paths:
            return RunResult(scope=frozenset())
    named_files = [p for p in paths if Path(p).is_file()]
    lookup = settings.lookup
    if not whole_projects or not named_files:
        if lookup is None:
            return run(paths, settings, jobs=jobs, cache=cache_for(settings, no_cache, cache_dir))
        return _run_by_analysis(paths, settings, jobs=jobs, no_cache=no_cache, cache_dir=cache_dir)
    # By project root; files with no project by their configuration, as a
    # directory run links them.
    groups: dict[tuple[Path | None, Path | None], list[Path]] = {}
    for path in collect_files(paths, settings):
        root = lookup.project_root(path) if lookup is not None else find_project_root(path)
        alone = lookup.config_file(lookup.analysis_directory(path)) if lookup and not root else None
        groups.setdefault((root, alone), []).append(path)
    merged = RunResult(scope=frozenset())
    for (root, _), files in sorted(groups.items(), key=lambda item: str(item[0])):
        project = open_project(
            root, settings, files, jobs=jobs, no_cache=no_cache, cache_dir=cache_dir
        )
        keys = [project.add_file(path) for path in files]
        _merge(merged, project.check(keys))
    merged.diagnostics.sort(key=lambda d: d.sort_key)
    return merged


def _run_by_analysis(
    paths: Sequence[str], settings: Settings, *, jobs: int, no_cache: bool, cache_dir: str | None
) -> RunResult:
    """A directory run: its files linked together, except that files whose
    project roots have different configurations (a sub-project with its own
    `[tool.threadlint]`) are linked apart, each group with its analysis
    settings."""
    lookup = settings.lookup
    assert lookup is not None
    groups: dict[Path | None, tuple[Path, list[Path]]] = {}
    for path in collect_files(paths, settings):
        where = lookup.analysis_directory(path)
        key = lookup.config_file(where)
        groups.setdefault(key, (where, []))[1].append(path)
    merged: RunResult | None = None
    for where, files in groups.values():
        analysis = lookup.analysis_settings(where, files)
        part = run(
            [str(f) for f in files], analysis, jobs=jobs,
            cache=cache_for(analysis, no_cache, cache_dir),
        )
        if merged is None:
            merged = part
        else:
            _merge(merged, part, scoped=False)
    if merged is None:
        return run([], settings, jobs=jobs)
    merged.diagnostics.sort(key=lambda d: d.sort_key)
    return merged


def lint_buffer(
    source: bytes,
    name: str,
    settings: Settings,
    *,
    jobs: int = 0,
    no_cache: bool = False,
    cache_dir: str | None = None,
    force_exclude: bool = False,
    whole_projects: bool = True,
) -> RunResult:
    """Lint `source` (standard input) as the file `name` of its project: the
    buffer is that file's text, the other files are read from disk."""
    from threadlint.runner import run_source

    if force_exclude and name != "-" and _force_excluded(name, settings):
        return RunResult(scope=frozenset())
    root = find_project_root(Path(name)) if name != "-" and whole_projects else None
    if root is None:
        lookup = settings.lookup
        if lookup is not None:
            settings = lookup.analysis_settings(lookup.analysis_directory(name), [name])
        return run_source(source, name, settings)
    project = open_project(
        root, settings, [Path(name)], jobs=jobs, no_cache=no_cache, cache_dir=cache_dir
    )
    key = project.add_file(Path(name), display=name)
    project.set_buffer(key, source)
    return project.check([key])


def _force_excluded(path: str, settings: Settings) -> bool:
    """--force-exclude: the excludes of the configuration governing `path`."""
    own = settings.for_file(path)
    return is_force_excluded(Path(path), own.excludes, own.anchor)


def _merge(into: RunResult, part: RunResult, *, scoped: bool = True) -> None:
    into.diagnostics.extend(part.diagnostics)
    into.files.extend(part.files)
    into.errors.extend(part.errors)
    if scoped:
        into.scope = (into.scope or frozenset()) | (part.scope or frozenset())
    into.settings = into.settings or part.settings
