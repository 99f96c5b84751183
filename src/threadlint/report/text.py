"""flake8's default format: `path:line:col: CODE message`, one finding a line."""

from __future__ import annotations

from typing import Dict, List, Optional, TextIO

from threadlint.diagnostics import Diagnostic


def render(diagnostics: List[Diagnostic], out: TextIO) -> None:
    for d in diagnostics:
        out.write(f"{d.path}:{d.line}:{d.col}: {d.code} {d.message}\n")


def render_with_source(diagnostics: List[Diagnostic], out: TextIO) -> None:
    """Each finding followed by its source line and a caret under the column."""
    lines_by_path: Dict[str, Optional[List[str]]] = {}
    for d in diagnostics:
        out.write(f"{d.path}:{d.line}:{d.col}: {d.code} {d.message}\n")
        if d.path not in lines_by_path:
            lines_by_path[d.path] = _read_lines(d.path)
        lines = lines_by_path[d.path]
        if lines is None or not 1 <= d.line <= len(lines):
            continue
        source = lines[d.line - 1].rstrip("\r\n").expandtabs(1)
        out.write(f"    {source}\n")
        width = 1
        if d.end_line == d.line and d.end_col > d.col:
            width = d.end_col - d.col
        out.write("    " + " " * (d.col - 1) + "^" * width + "\n")


def _read_lines(path: str) -> Optional[List[str]]:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.readlines()
    except OSError:
        return None
