"""Which rules run: --select / --ignore by code or prefix, as flake8 and ruff do.

The most specific matching prefix wins, so `--select TL1 --ignore TL101`
keeps TL102 and `--ignore TL1 --extend-select TL101` keeps TL101.  On a tie
the ignore wins.

The command line is a layer over the configuration file, as in ruff: its
`--select` replaces the file's whole selection, and its other options
decide every code they name whatever the file said about it.

Per-file ignores follow ruff: a glob matches a file when it matches its
name, or its absolute path once the glob is anchored at the project root
(`tests/**/*.py` matches `tests/x.py`, `*_pb2.py` a file in any directory);
a glob starting with `!` applies its codes to the files it does not match.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from threadlint.globs import compile_glob, glob_regex

if TYPE_CHECKING:
    from threadlint.config import Settings

ALL = "ALL"


def all_codes() -> set[str]:
    from threadlint.rules.base import all_rules

    return {rule.code for rule in all_rules()}


def is_known_prefix(code: str) -> bool:
    return code == ALL or any(known.startswith(code) for known in all_codes())


def _longest(code: str, prefixes: Iterable[str]) -> int:
    best = -1
    for prefix in prefixes:
        if prefix == ALL:
            best = max(best, 0)
        elif code.startswith(prefix):
            best = max(best, len(prefix))
    return best


def is_selected(settings: Settings, code: str, *, preview: bool, opt_in: bool) -> bool:
    if preview and not settings.preview:
        return False
    positive = [*settings.select, *settings.extend_select]
    select_len = _longest(code, positive)
    ignore_len = _longest(code, [*settings.ignore, *settings.extend_ignore])
    if select_len < 0 or ignore_len >= select_len:
        return False
    if opt_in:
        # Opt-in rules are never switched on by a family prefix.
        return select_len == len(code) or ALL in positive
    return True


def _covers(prefix: str, code: str) -> bool:
    return prefix == ALL or code.startswith(prefix)


def _without_covered(prefixes: tuple[str, ...], by: Sequence[str]) -> tuple[str, ...]:
    return tuple(p for p in prefixes if not any(_covers(b, p) for b in by))


def layer_over(
    settings: Settings,
    *,
    select: Sequence[str],
    ignore: Sequence[str],
    extend_select: Sequence[str],
    extend_ignore: Sequence[str],
) -> Settings:
    """The command line's selection applied over the configuration's."""
    if select:
        return replace(
            settings,
            select=tuple(select),
            ignore=tuple(ignore),
            extend_select=tuple(extend_select),
            extend_ignore=tuple(extend_ignore),
        )
    ignores = (*ignore, *extend_ignore)
    if not ignores and not extend_select:
        return settings
    # Drop the file's entries that would outrank the command line (equal or
    # more specific prefixes of the codes it names); the rest still apply.
    return replace(
        settings,
        select=_without_covered(settings.select, ignores),
        extend_select=(*_without_covered(settings.extend_select, ignores), *extend_select),
        ignore=_without_covered(settings.ignore, extend_select),
        extend_ignore=(*_without_covered(settings.extend_ignore, extend_select), *ignores),
    )


def per_file_ignored(settings: Settings, path: str, code: str) -> bool:
    """Whether `per-file-ignores` turns off `code` in the file at `path`."""
    if not settings.per_file_ignores:
        return False
    file = Path(path)
    name, absolute = file.name, file.resolve().as_posix()
    root = Path(settings.root).resolve().as_posix()
    for glob, codes in settings.per_file_ignores:
        if not any(code.startswith(c) or c == ALL for c in codes):
            continue
        negated, by_name, by_path = _file_matchers(glob, root)
        if (by_name.fullmatch(name) is not None or by_path.fullmatch(absolute) is not None) != negated:
            return True
    return False


@functools.lru_cache(maxsize=256)
def _file_matchers(glob: str, root: str) -> tuple[bool, re.Pattern[str], re.Pattern[str]]:
    """(negated, matcher of the file name, matcher of the absolute path) for `glob`."""
    negated = glob.startswith("!")
    body = glob[1:] if negated else glob
    if PurePosixPath(body).is_absolute():
        anchored = compile_glob(body)
    else:
        relative = body[2:] if body.startswith("./") else body
        anchored = re.compile(re.escape(root.rstrip("/")) + "/" + glob_regex(relative), re.DOTALL)
    return negated, compile_glob(body), anchored
