"""File globs as ruff reads them (it uses the `globset` crate), for per-file ignores.

Python's `fnmatch` differs where users notice: its `**` is just `*`, so
`tests/**/*.py` misses `tests/x.py`.  Here, as in globset's defaults:

- `*` matches any run of characters, `/` included, and `?` any one;
- `**/` matches zero or more directories (`a/**/b` matches `a/b`), and a
  trailing `/**` everything below a directory;
- `[abc]`, `[a-z]` and `[!abc]` (or `[^abc]`) match one character of a class;
- `{py,pyi}` matches either alternative;
- `\\` escapes the next character;
- matching is case-sensitive.

A pattern that cannot be read as a glob (an unclosed `[` or `{`) keeps those
characters literal instead of failing the run.
"""

from __future__ import annotations

import re


def glob_regex(pattern: str) -> str:
    """The regular expression source matching what `pattern` matches (use `fullmatch`)."""
    out: list[str] = []
    i, n = 0, len(pattern)
    in_braces = False
    while i < n:
        char = pattern[i]
        if pattern.startswith("**/", i) and (i == 0 or pattern[i - 1] == "/"):
            out.append("(?:.*/)?")  # zero or more whole directories
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")  # `dir/**` and any other `**`: as `*`
            i += 2
        elif char == "*":
            out.append(".*")
            i += 1
        elif char == "?":
            out.append(".")
            i += 1
        elif char == "\\" and i + 1 < n:
            out.append(re.escape(pattern[i + 1]))
            i += 2
        elif char == "[":
            end = _class_end(pattern, i)
            if end < 0:
                out.append(re.escape(char))
                i += 1
                continue
            body = pattern[i + 1 : end]
            negated = body[:1] in ("!", "^")
            if negated:
                body = body[1:]
            body = body.replace("\\", "\\\\").replace("^", "\\^").replace("[", "\\[")
            out.append(f"[{'^' if negated else ''}{body}]")
            i = end + 1
        elif char == "{" and not in_braces and "}" in pattern[i:]:
            out.append("(?:")
            in_braces = True
            i += 1
        elif char == "," and in_braces:
            out.append("|")
            i += 1
        elif char == "}" and in_braces:
            out.append(")")
            in_braces = False
            i += 1
        else:
            out.append(re.escape(char))
            i += 1
    return "".join(out)


def _class_end(pattern: str, start: int) -> int:
    """The index of the `]` closing the class opened at `start`, or -1."""
    i = start + 1
    if i < len(pattern) and pattern[i] in "!^":
        i += 1
    if i < len(pattern) and pattern[i] == "]":
        i += 1  # a leading `]` is a member, as in every glob dialect
    return pattern.find("]", i)


def compile_glob(pattern: str) -> re.Pattern[str]:
    """`pattern` compiled; use `fullmatch` (a glob matches the whole path)."""
    return re.compile(glob_regex(pattern), re.DOTALL)
