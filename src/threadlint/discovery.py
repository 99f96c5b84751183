"""Which files to lint: paths, excludes and .gitignore, as ruff users expect.

A file named explicitly on the command line is always linted; excludes and
.gitignore apply to what is found by walking directories (and, with
--force-exclude, excludes to named paths too: `is_force_excluded`).
"""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from re import Pattern


@dataclass(frozen=True)
class _IgnoreRule:
    regex: Pattern[str]
    negated: bool
    dir_only: bool


def _compile_gitignore_pattern(pattern: str) -> _IgnoreRule | None:
    """Translate one .gitignore line (gitignore(5)) into a regex on a relative path."""
    line = pattern.rstrip("\n")
    if not line.strip() or line.startswith("#"):
        return None
    line = line.rstrip() if not line.endswith("\\ ") else line
    negated = line.startswith("!")
    if negated:
        line = line[1:]
    if line.startswith("\\"):
        line = line[1:]
    dir_only = line.endswith("/")
    line = line.rstrip("/")
    anchored = "/" in line
    line = line.lstrip("/")
    out = []
    i = 0
    while i < len(line):
        c = line[i]
        if line.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif line.startswith("/**", i) and i + 3 == len(line):
            out.append("/.*")
            i += 3
        elif c == "*":
            out.append("[^/]*")
            i += 1
        elif c == "?":
            out.append("[^/]")
            i += 1
        elif c == "[":
            end = line.find("]", i + 1)
            if end == -1:
                out.append(re.escape(c))
                i += 1
            else:
                body = line[i + 1 : end].replace("\\", "\\\\")
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append(f"[{body}]")
                i = end + 1
        else:
            out.append(re.escape(c))
            i += 1
    body = "".join(out)
    prefix = "" if anchored else "(?:.*/)?"
    return _IgnoreRule(re.compile(f"^{prefix}{body}$"), negated, dir_only)


class GitIgnore:
    """The .gitignore files of a tree, applied as git does (later rules win)."""

    def __init__(self) -> None:
        self._by_dir: dict[Path, list[_IgnoreRule]] = {}

    def load_dir(self, directory: Path) -> None:
        if directory in self._by_dir:
            return
        rules: list[_IgnoreRule] = []
        try:
            text = (directory / ".gitignore").read_text(encoding="utf-8", errors="replace")
        except OSError:
            text = ""
        for line in text.splitlines():
            rule = _compile_gitignore_pattern(line)
            if rule is not None:
                rules.append(rule)
        self._by_dir[directory] = rules

    def is_ignored(self, path: Path, is_dir: bool, ancestors: Sequence[Path]) -> bool:
        ignored = False
        for directory in ancestors:
            rules = self._by_dir.get(directory)
            if not rules:
                continue
            rel = path.relative_to(directory).as_posix()
            for rule in rules:
                if rule.dir_only and not is_dir:
                    continue
                if rule.regex.match(rel):
                    ignored = not rule.negated
        return ignored


def _matches_any(path: Path, root: Path, globs: Iterable[str]) -> bool:
    name = path.name
    try:
        rel = path.resolve().relative_to(root).as_posix()
    except ValueError:
        rel = path.as_posix()
    for glob in globs:
        glob = glob.rstrip("/")
        if "/" in glob:
            if fnmatch.fnmatch(rel, glob.lstrip("./")) or fnmatch.fnmatch(
                rel, glob.lstrip("./") + "/*"
            ):
                return True
        elif fnmatch.fnmatch(name, glob):
            return True
    return False


def _git_root(start: Path) -> Path | None:
    for directory in (start, *start.parents):
        if (directory / ".git").exists():
            return directory
    return None


def discover(
    paths: Sequence[str],
    excludes: Sequence[str],
    root: Path,
    respect_gitignore: bool,
) -> Iterator[Path]:
    """Yield the Python files to lint under `paths`, sorted within each directory."""
    for raw in paths:
        path = Path(raw)
        if path.is_file():
            yield path
            continue
        if not path.is_dir():
            continue
        yield from _walk(path, excludes, root, respect_gitignore)


def _walk(top: Path, excludes: Sequence[str], root: Path, respect_gitignore: bool) -> Iterator[Path]:
    gitignore = GitIgnore()
    ancestors: list[Path] = []
    if respect_gitignore:
        git_root = _git_root(top.resolve())
        if git_root is not None:
            resolved = top.resolve()
            ancestors = [d for d in (resolved, *resolved.parents) if _is_within(d, git_root)]
            ancestors.reverse()
            for directory in ancestors:
                gitignore.load_dir(directory)
    stack: list[tuple[Path, list[Path]]] = [(top, ancestors)]
    while stack:
        directory, parents = stack.pop()
        resolved_dir = directory.resolve()
        chain = parents if parents and parents[-1] == resolved_dir else [*parents, resolved_dir]
        if respect_gitignore and chain:
            gitignore.load_dir(resolved_dir)
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError:
            continue
        subdirs: list[Path] = []
        for entry in entries:
            child = Path(entry.path)
            is_dir = entry.is_dir(follow_symlinks=False)
            if _matches_any(child, root, excludes):
                continue
            if respect_gitignore and chain and gitignore.is_ignored(child.resolve(), is_dir, chain):
                continue
            if is_dir:
                subdirs.append(child)
            elif entry.name.endswith(".py"):
                yield child
        for sub in reversed(subdirs):
            stack.append((sub, chain))


def _is_within(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
        return True
    except ValueError:
        return False


def module_name_for(path: Path) -> str:
    """The dotted module name of a file, from the package (__init__.py) chain above it."""
    resolved = path.resolve()
    parts = [] if resolved.stem == "__init__" else [resolved.stem]
    directory = resolved.parent
    while (directory / "__init__.py").is_file():
        parts.append(directory.name)
        directory = directory.parent
    return ".".join(reversed(parts))


def display_path(path: Path, cwd: Path) -> str:
    """How a path appears in output: relative to the working directory when below it."""
    try:
        return path.resolve().relative_to(cwd).as_posix()
    except ValueError:
        return path.as_posix()


def is_force_excluded(path: Path, excludes: Sequence[str], root: Path) -> bool:
    """--force-exclude: does an exclude pattern match `path` or a directory
    above it?  Only directories below the project root count (a project kept
    in a folder named `build` is not excluded as a whole); a path outside the
    root is judged by the parts it was named with."""
    resolved = path.resolve()
    if _is_within(resolved, root):
        chain = [resolved, *(d for d in resolved.parents if _is_within(d, root) and d != root)]
    else:
        chain = [path, *(d for d in path.parents if d.name not in ("", ".", ".."))]
    return any(_matches_any(p, root, excludes) for p in chain)
