"""Suppression comments: `# noqa`, `# noqa: TL101,TL102`, `# threadlint: ignore[TL101]`.

As in flake8, a suppression applies to the physical line a finding is
reported on, its codes are read case-insensitively (`# NOQA:tl201`) and
separated by commas and/or whitespace.  `# threadlint: skip-file` or
flake8's `# flake8: noqa` on a line of its own skips the file (flake8 skips
it even when codes follow, and so does threadlint).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# flake8's own noqa grammar: codes separated by commas and/or spaces.
_NOQA = re.compile(
    r"#\s*noqa(?::[\s]?(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*))?",
    re.IGNORECASE,
)
_IGNORE = re.compile(r"#\s*threadlint:\s*ignore(?:\[(?P<codes>[^\]]*)\])?", re.IGNORECASE)
SKIP_FILE = re.compile(
    rb"^[ \t]*#[ \t]*(?:threadlint:[ \t]*skip-file\b|flake8[:=][ \t]*noqa)",
    re.MULTILINE | re.IGNORECASE,
)


@dataclass(frozen=True)
class Suppression:
    """One suppression comment; `codes` is None for a blanket one.

    `col` and `end_col` (1-based, the end exclusive, in characters) span the
    comment's directive, where TL002 points when it suppresses nothing.
    """

    line: int
    codes: frozenset[str] | None
    col: int = 1
    end_col: int = 1

    def covers(self, code: str) -> bool:
        return self.codes is None or any(code.startswith(c) for c in self.codes)


def _codes(text: str | None) -> frozenset[str] | None:
    if text is None:
        return None
    found = frozenset(c.upper() for c in re.split(r"[,\s]+", text) if c)
    return found or None


def find_suppressions(source: bytes, *, noqa: bool = True) -> dict[int, Suppression]:
    """Suppression comments by 1-based line number.

    `noqa=False` leaves `# noqa` comments out, for the flake8 plugin: flake8
    applies them itself (and `flake8 --disable-noqa` must reveal findings).
    """
    if b"noqa" not in source.lower() and b"threadlint:" not in source:
        return {}
    regexes = (_NOQA, _IGNORE) if noqa else (_IGNORE,)
    text = source.decode("utf-8", errors="replace")
    result: dict[int, Suppression] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if "#" not in line:
            continue
        for regex in regexes:
            match = regex.search(line)
            if match:
                codes = _codes(match.group("codes"))
                col, end_col = match.start() + 1, match.end() + 1
                previous = result.get(number)
                if previous is not None:
                    col, end_col = min(col, previous.col), max(end_col, previous.end_col)
                if previous is not None and (previous.codes is None or codes is None):
                    codes = None
                elif previous is not None and previous.codes is not None and codes is not None:
                    codes = previous.codes | codes
                result[number] = Suppression(number, codes, col, end_col)
    return result


def is_skipped_file(source: bytes) -> bool:
    return SKIP_FILE.search(source) is not None
