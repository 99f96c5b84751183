"""`--format json`: an array of finding objects (INTERFACE.md, Output)."""

from __future__ import annotations

import json
from typing import Any, TextIO

from threadlint.diagnostics import Diagnostic
from threadlint.rules.base import get_rule


def to_dict(d: Diagnostic) -> dict[str, Any]:
    rule = get_rule(d.code)
    fix = None
    if d.fix is not None:
        fix = {
            "description": d.fix.description,
            "safe": d.fix.safe,
            "edits": [
                {
                    "line": e.line,
                    "column": e.col,
                    "end_line": e.end_line,
                    "end_column": e.end_col,
                    "content": e.text,
                }
                for e in d.fix.edits
            ],
        }
    return {
        "path": d.path,
        "line": d.line,
        "column": d.col,
        "end_line": d.end_line or d.line,
        "end_column": d.end_col or d.col,
        "code": d.code,
        "name": rule.name if rule else d.code,
        "message": d.message,
        "severity": "error" if d.code == "TL001" else "warning",
        "fix": fix,
        "url": rule.url() if rule else None,
    }


def render(diagnostics: list[Diagnostic], out: TextIO) -> None:
    json.dump([to_dict(d) for d in diagnostics], out, indent=2)
    out.write("\n")
