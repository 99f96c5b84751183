"""Reporters: one module per output format, each a function of the findings."""

from __future__ import annotations

from typing import Callable, TextIO

from threadlint.diagnostics import Diagnostic
from threadlint.report import github, json_format, sarif, text
from threadlint.source_text import SourceCache

Renderer = Callable[[list[Diagnostic], TextIO], None]

FORMATS: dict[str, Renderer] = {
    "text": text.render,
    "json": json_format.render,
    "sarif": sarif.render,
    "github": github.render,
}


def render_report(
    output_format: str,
    diagnostics: list[Diagnostic],
    out: TextIO,
    *,
    sources: SourceCache | None = None,
    color: bool = False,
    show_source: bool = False,
    unsafe_fixes: bool = False,
) -> None:
    """Write the findings in `output_format`; the options apply where they mean something."""
    if output_format == "text":
        text.render_text(
            diagnostics, out, color=color, show_source=show_source, sources=sources,
            unsafe_fixes=unsafe_fixes,
        )
    elif output_format == "sarif":
        sarif.render(diagnostics, out, sources)
    else:
        FORMATS[output_format](diagnostics, out)
