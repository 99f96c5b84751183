"""flake8's default format: `path:line:col: CODE message`, one finding a line.

Colour changes only the escape codes around the same characters, and
`--show-source` adds a ruff-style code frame under each line, so editors
that parse flake8's format still parse the first line of each finding.
Paths, messages and source lines are escaped (`threadlint.printable`), so a
file name or a line of code never prints a line of its own nor reaches the
terminal as a control sequence.
"""

from __future__ import annotations

import unicodedata
from typing import TextIO

from threadlint.diagnostics import Diagnostic
from threadlint.printable import printable, printable_source
from threadlint.source_text import SourceCache

CONTEXT_LINES = 2
_TAB = 4

_RESET = "\033[0m"
_BOLD = "\033[1m"
_RED_BOLD = "\033[1;31m"
_CYAN = "\033[36m"
_CYAN_BOLD = "\033[1;36m"
_BLUE_BOLD = "\033[1;34m"


class _Paint:
    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, text: str, style: str) -> str:
        return f"{style}{text}{_RESET}" if self.enabled and text else text


def render(diagnostics: list[Diagnostic], out: TextIO) -> None:
    render_text(diagnostics, out)


def render_text(
    diagnostics: list[Diagnostic],
    out: TextIO,
    *,
    color: bool = False,
    show_source: bool = False,
    sources: SourceCache | None = None,
    unsafe_fixes: bool = False,
) -> None:
    paint = _Paint(color)
    sources = sources if sources is not None else SourceCache()
    sep = paint(":", _CYAN)
    for d in diagnostics:
        out.write(
            f"{paint(printable(d.path), _BOLD)}{sep}{d.line}{sep}{d.col}{sep} "
            f"{paint(d.code, _RED_BOLD)} {printable(d.message)}\n"
        )
        if show_source:
            out.write(_frame(d, sources, paint, unsafe_fixes))


def _frame(d: Diagnostic, sources: SourceCache, paint: _Paint, unsafe_fixes: bool) -> str:
    """The lines around the finding with carets under it, as ruff prints them."""
    lines = sources.lines(d.path)
    if lines is None or not 1 <= d.line <= len(lines):
        return ""
    first = max(1, d.line - CONTEXT_LINES)
    last = min(len(lines), d.line + CONTEXT_LINES)
    while first < d.line and not lines[first - 1].strip():
        first += 1
    while last > d.line and not lines[last - 1].strip():
        last -= 1
    width = len(str(last))
    gutter = paint(" " * width + " |", _BLUE_BOLD)
    out = [gutter]
    for number in range(first, last + 1):
        text = printable_source(lines[number - 1].rstrip("\r\n")).expandtabs(_TAB)
        number_text = paint(f"{number:>{width}} |", _BLUE_BOLD)
        out.append(f"{number_text} {text}".rstrip())
        if number == d.line:
            out.append(f"{gutter} {_underline(lines[number - 1], d, paint)}")
    out.append(gutter)
    if d.fix is not None:
        hint = d.fix.description
        if d.fix.safe or unsafe_fixes:
            hint += " (fixable with --fix)"
        else:
            hint += " (unsafe fix: changes behaviour; --fix --unsafe-fixes applies it)"
        out.append(f"{' ' * width} {paint('= help', _CYAN_BOLD)}: {hint}")
    return "\n".join(out) + "\n\n"


def _underline(line: str, d: Diagnostic, paint: _Paint) -> str:
    line = line.rstrip("\r\n")
    start = min(d.col - 1, len(line))
    if d.end_line == d.line and d.end_col > d.col:
        end = min(d.end_col - 1, len(line))
    elif d.end_line > d.line:
        end = len(line.rstrip())  # a multi-line span: underline to the end of this line
    else:
        end = start + 1
    # Widths as shown: escapes take the room of their text.
    before = _display_width(printable_source(line[:start]).expandtabs(_TAB))
    span = max(1, _display_width(printable_source(line[start:end])))
    return " " * before + paint("^" * span + " " + d.code, _RED_BOLD)


def _display_width(text: str) -> int:
    """Terminal columns: East Asian wide characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
