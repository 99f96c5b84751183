"""Reporters: one module per output format, each a function of the findings."""

from __future__ import annotations

from typing import Callable, Dict, List, TextIO

from threadlint.diagnostics import Diagnostic
from threadlint.report import json_format, text

Renderer = Callable[[List[Diagnostic], TextIO], None]

FORMATS: Dict[str, Renderer] = {
    "text": text.render,
    "json": json_format.render,
}
