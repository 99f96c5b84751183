"""Which files to lint: paths, excludes and .gitignore, as ruff users expect.

A file named explicitly on the command line is always linted; excludes and
.gitignore apply to what is found by walking directories (and, with
--force-exclude, excludes to named paths too: `is_force_excluded`).
"""

from __future__ import annotations

import fnmatch
import os
import stat
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

from threadlint.source_text import read_regular_file

# -- .gitignore patterns -------------------------------------------------------
#
# A pattern is matched by simulating all its positions at once over the path
# (a Thompson NFA), never by a backtracking regex: `**/` repeated, or many
# `*`, stays linear in the path's length times the pattern's, whatever the
# .gitignore says.

_CharTest = Callable[[str], bool]
# A token: (kind, test, the character when it is a literal one).  ONE
# consumes one character that passes the test; STAR any number of them;
# DIRS is gitignore's `**/`: nothing, or anything that ends with a `/`.
_ONE, _STAR, _DIRS = 0, 1, 2
_Token = tuple[int, Optional[_CharTest], str]
_DIRS_TOKEN: _Token = (_DIRS, None, "")


def _not_slash(c: str) -> bool:
    return c != "/"


def _any_char(c: str) -> bool:
    return True


def _literal(char: str) -> _Token:
    return (_ONE, char.__eq__, char)


def _bracket(members: str, ranges: list[tuple[str, str]], negated: bool) -> _CharTest:
    # A reversed range (`[z-a]`) matches nothing, as in git; no class matches `/`.
    def test(c: str) -> bool:
        inside = c in members or any(low <= c <= high for low, high in ranges)
        return c != "/" and inside != negated

    return test


def _parse_bracket(line: str, start: int) -> tuple[_CharTest, int] | None:
    """The class opened by `[` at `start`, and the index after its `]`."""
    i = start + 1
    negated = i < len(line) and line[i] in "!^"
    if negated:
        i += 1
    members: list[str] = []
    ranges: list[tuple[str, str]] = []
    first = True
    while i < len(line):
        c = line[i]
        if c == "]" and not first:
            return _bracket("".join(members), ranges, negated), i + 1
        first = False
        if c == "\\" and i + 1 < len(line):
            i += 1
            c = line[i]
        if i + 2 < len(line) and line[i + 1] == "-" and line[i + 2] != "]":
            high = line[i + 2]
            if high == "\\" and i + 3 < len(line):
                high = line[i + 3]
                i += 1
            ranges.append((c, high))
            i += 3
        else:
            members.append(c)
            i += 1
    return None  # no closing `]`: the `[` is an ordinary character


def _tokens(line: str) -> list[_Token]:
    tokens: list[_Token] = []
    i = 0
    while i < len(line):
        c = line[i]
        if line.startswith("**/", i) and (i == 0 or line[i - 1] == "/"):
            if not tokens or tokens[-1] != _DIRS_TOKEN:  # `**/**/` is `**/`
                tokens.append(_DIRS_TOKEN)
            i += 3
        elif line.startswith("/**", i) and i + 3 == len(line):
            tokens += [_literal("/"), (_STAR, _any_char, "")]
            i += 3
        elif c == "*":
            if not tokens or tokens[-1][:2] != (_STAR, _not_slash):  # `**` is `*` here
                tokens.append((_STAR, _not_slash, ""))
            i += 1
        elif c == "?":
            tokens.append((_ONE, _not_slash, ""))
            i += 1
        elif c == "[" and (bracket := _parse_bracket(line, i)) is not None:
            tokens.append((_ONE, bracket[0], ""))
            i = bracket[1]
        else:
            if c == "\\" and i + 1 < len(line):
                i += 1
            tokens.append(_literal(line[i]))
            i += 1
    return tokens


def _literal_text(tokens: Sequence[_Token]) -> str | None:
    """The text the tokens spell, when every one is a literal character."""
    if all(kind == _ONE and char for kind, _, char in tokens):
        return "".join(char for _, _, char in tokens)
    return None


class _Glob:
    """One gitignore(5) pattern, matched against a `/`-separated relative path."""

    def __init__(self, tokens: list[_Token]) -> None:
        self._tokens = tokens
        # Most lines are a plain name or `*.suffix`: no simulation for those.
        self._exact = _literal_text(tokens)
        self._name = self._suffix = None
        if tokens[:1] == [_DIRS_TOKEN]:
            self._name = _literal_text(tokens[1:])
            if tokens[1:2] == [(_STAR, _not_slash, "")]:
                suffix = _literal_text(tokens[2:])
                self._suffix = suffix if suffix is not None and "/" not in suffix else None

    def matches(self, path: str) -> bool:
        if self._exact is not None:
            return path == self._exact
        if self._name is not None:
            return path == self._name or path.endswith("/" + self._name)
        if self._suffix is not None:
            return path.rpartition("/")[2].endswith(self._suffix)
        return self._simulate(path)

    def _simulate(self, path: str) -> bool:
        tokens = self._tokens
        end = len(tokens)
        # A state is (token index, inside a DIRS that has consumed characters).
        states = self._closure({(0, False)})
        for c in path:
            following: set[tuple[int, bool]] = set()
            for index, _inside in states:
                if index == end:
                    continue
                kind, test, _ = tokens[index]
                if kind == _DIRS:
                    following.add((index, True))
                    if c == "/":
                        following.add((index + 1, False))
                elif test is not None and test(c):
                    following.add((index + 1, False) if kind == _ONE else (index, False))
            if not following:
                return False
            states = self._closure(following)
        return (end, False) in states

    def _closure(self, states: set[tuple[int, bool]]) -> set[tuple[int, bool]]:
        """Add the positions reachable without consuming a character."""
        tokens = self._tokens
        todo = list(states)
        while todo:
            index, inside = todo.pop()
            if index < len(tokens) and not inside and tokens[index][0] != _ONE:
                if (index + 1, False) not in states:
                    states.add((index + 1, False))
                    todo.append((index + 1, False))
        return states


@dataclass(frozen=True)
class _IgnoreRule:
    pattern: _Glob
    negated: bool
    dir_only: bool

    def matches(self, path: str) -> bool:
        return self.pattern.matches(path)


def _compile_gitignore_pattern(pattern: str) -> _IgnoreRule | None:
    """Parse one .gitignore line (gitignore(5)) into a rule on a relative path."""
    line = pattern.rstrip("\n")
    if not line.strip() or line.startswith("#"):
        return None
    line = line.rstrip() if not line.endswith("\\ ") else line
    negated = line.startswith("!")
    if negated:
        line = line[1:]
    dir_only = line.endswith("/")
    line = line.rstrip("/")
    anchored = "/" in line
    line = line.lstrip("/")
    if not line:
        return None
    tokens = _tokens(line)
    if not anchored:
        tokens.insert(0, _DIRS_TOKEN)
    return _IgnoreRule(_Glob(tokens), negated, dir_only)


class GitIgnore:
    """The .gitignore files of a tree, applied as git does (later rules win)."""

    def __init__(self) -> None:
        self._by_dir: dict[Path, list[_IgnoreRule]] = {}

    def load_dir(self, directory: Path) -> None:
        if directory in self._by_dir:
            return
        rules: list[_IgnoreRule] = []
        try:
            text = read_regular_file(directory / ".gitignore").decode("utf-8", errors="replace")
        except OSError:
            text = ""  # none, or not a file git would read either
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
                if rule.matches(rel):
                    ignored = not rule.negated
        return ignored


def _matches_any(path: Path, root: Path, globs: Iterable[str]) -> bool:
    """`path` (absolute, its directory resolved, its name as found) matches an exclude."""
    name = path.name
    try:
        rel = path.relative_to(root).as_posix()
    except ValueError:
        rel = path.as_posix()
    for glob in globs:
        glob = glob.rstrip("/")
        if glob.startswith("/"):  # anchored already (the command line's, at its directory)
            if fnmatch.fnmatch(path.as_posix(), glob) or fnmatch.fnmatch(
                path.as_posix(), glob + "/*"
            ):
                return True
        elif "/" in glob:
            # `./x/y` is `x/y`; a leading dot of a name (`.github/x`) stays.
            relative = glob[2:] if glob.startswith("./") else glob
            if fnmatch.fnmatch(rel, relative) or fnmatch.fnmatch(rel, relative + "/*"):
                return True
        elif fnmatch.fnmatch(name, glob):
            return True
    return False


def _git_root(start: Path) -> Path | None:
    for directory in (start, *start.parents):
        if (directory / ".git").exists():
            return directory
    return None


def real_path(path: str | os.PathLike[str]) -> Path:
    """`path` with every symbolic link resolved, as far as they resolve.

    Unlike `Path.resolve()` before Python 3.13, a link loop does not raise:
    the loop is left in the path, and reading it says so.
    """
    return Path(os.path.realpath(path))


# Where discovery asks, for each directory it enters, which excludes apply to
# its entries, the directory they are relative to, and whether .gitignore
# files count (each directory's own configuration decides).
DiscoveryRules = Callable[[Path], tuple[Sequence[str], Path, bool]]


def discover(
    paths: Sequence[str],
    excludes: Sequence[str],
    root: Path,
    respect_gitignore: bool,
    rules_at: DiscoveryRules | None = None,
) -> Iterator[Path]:
    """Yield the Python files to lint under `paths`, sorted within each directory.

    The excludes are `excludes` relative to `root`, or what `rules_at` says
    for each directory.  A path named here that is not a directory is
    yielded whatever it is (a FIFO, a dangling link...): reading it reports
    why it cannot be linted.
    """
    if rules_at is None:
        fixed = (excludes, root, respect_gitignore)

        def rules_at(directory: Path) -> tuple[Sequence[str], Path, bool]:
            return fixed

    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            yield from _walk(path, rules_at)
        else:
            yield path


def _walk(top: Path, rules_at: DiscoveryRules) -> Iterator[Path]:
    gitignore = GitIgnore()
    ancestors: list[Path] = []
    resolved = real_path(top)
    if rules_at(resolved)[2]:
        git_root = _git_root(resolved)
        if git_root is not None:
            ancestors = [d for d in (resolved, *resolved.parents) if _is_within(d, git_root)]
            ancestors.reverse()
            for directory in ancestors:
                gitignore.load_dir(directory)
    stack: list[tuple[Path, list[Path]]] = [(top, ancestors)]
    while stack:
        directory, parents = stack.pop()
        resolved_dir = real_path(directory)
        excludes, root, respect_gitignore = rules_at(resolved_dir)
        chain = parents if parents and parents[-1] == resolved_dir else [*parents, resolved_dir]
        if respect_gitignore and chain:
            gitignore.load_dir(resolved_dir)
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError:
            yield directory  # its files are lost: reading it says why
            continue
        subdirs: list[Path] = []
        for entry in entries:
            child = Path(entry.path)
            # Excludes and .gitignore match the entry's own path, not where a
            # link points (as git does).
            located = resolved_dir / entry.name
            is_dir = entry.is_dir(follow_symlinks=False)
            if _matches_any(located, root, excludes):
                continue
            if respect_gitignore and chain and gitignore.is_ignored(located, is_dir, chain):
                continue
            if is_dir:
                subdirs.append(child)
            elif entry.name.endswith(".py") and _is_lintable(entry):
                yield child
        for sub in reversed(subdirs):
            stack.append((sub, chain))


def _is_lintable(entry: os.DirEntry[str]) -> bool:
    """A regular file, or a link that does not lead to one for a reason worth
    reporting (it dangles, loops, or names a directory).

    FIFOs, sockets and devices found by walking are not source files and
    are skipped, as other linters do; named on the command line, they are
    reported.
    """
    try:
        if entry.is_file():
            return True
        if not entry.is_symlink():
            return False
        mode = os.stat(entry.path).st_mode
    except OSError:
        return True  # dangling, a loop, or unreadable: the reader reports it
    return stat.S_ISDIR(mode)


def _is_within(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
        return True
    except ValueError:
        return False


def module_name_for(path: Path) -> str:
    """The dotted module name of a file, from the package (__init__.py) chain above it."""
    resolved = real_path(path)
    parts = [] if resolved.stem == "__init__" else [resolved.stem]
    directory = resolved.parent
    while (directory / "__init__.py").is_file():
        parts.append(directory.name)
        directory = directory.parent
    return ".".join(reversed(parts))


def display_path(path: Path, cwd: Path) -> str:
    """How a path appears in output: relative to the working directory when below it.

    The directory is resolved, the name is kept: a link is shown as the
    link, not as the file it points to.
    """
    located = real_path(path.parent) / path.name
    try:
        return located.relative_to(cwd).as_posix()
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
