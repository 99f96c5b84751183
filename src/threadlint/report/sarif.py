"""`--format sarif`: SARIF 2.1.0, as GitHub code scanning and other viewers read it.

Every rule of the catalogue is described in `tool.driver.rules` (summary,
documentation, help link, default level, precision), so a viewer can show
a rule's documentation next to its findings.  Paths are relative to the
working directory (`%SRCROOT%`), which is what code scanning expects when
threadlint runs from the repository root.  Each result carries a partial
fingerprint of its line's content, the same one the baseline uses, so a
finding keeps its identity when unrelated lines move.

A file name that is not valid UTF-8 keeps its exact bytes in the artifact
URI (percent-encoded, as RFC 3986 says); in message text, which must be
Unicode, such a byte is written `\\xNN` (threadlint.printable).
"""

from __future__ import annotations

import inspect
import json
import os
import re
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import quote

from threadlint import __version__
from threadlint.baseline import line_fingerprint
from threadlint.diagnostics import Diagnostic, Fix
from threadlint.docs_gen import rule_page
from threadlint.printable import without_surrogates
from threadlint.rules.base import RuleClass, all_rules
from threadlint.source_text import SourceCache

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
INFORMATION_URI = "https://github.com/threadlint/threadlint"
SRCROOT = "%SRCROOT%"


def level(code: str) -> str:
    return "error" if code == "TL001" else "warning"


def _what_it_does(rule: RuleClass) -> str:
    doc = inspect.cleandoc(rule.__doc__ or "")
    match = re.search(r"## What it does\n(.*?)(?:\n## |\Z)", doc, re.DOTALL)
    text = match.group(1) if match else rule.summary
    return " ".join(text.split())


def rule_descriptor(rule: RuleClass) -> dict[str, Any]:
    page = rule_page(rule)
    tags = ["concurrency", "thread-safety", rule.name]
    if rule.preview:
        tags.append("preview")
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": _what_it_does(rule)},
        "help": {"text": page, "markdown": page},
        "helpUri": rule.url(),
        "defaultConfiguration": {"level": level(rule.code)},
        "properties": {
            "tags": tags,
            "precision": "medium" if rule.preview else "high",
            "problem.severity": level(rule.code),
        },
    }


def _region(line: int, col: int, end_line: int, end_col: int) -> dict[str, int]:
    region = {"startLine": line, "startColumn": col}
    if end_line >= line and end_col >= 1 and (end_line, end_col) >= (line, col):
        region.update(endLine=end_line, endColumn=end_col)
    return region


def _artifact(path: str) -> dict[str, str]:
    return {"uri": _uri(path), "uriBaseId": SRCROOT}


def _uri(path: str) -> str:
    """A URI relative to %SRCROOT% for files below it, else an absolute file URI."""
    absolute = Path(os.path.realpath(path))  # never raises on a link loop
    try:
        relative = absolute.relative_to(Path.cwd().resolve())
    except ValueError:
        return absolute.as_uri()
    # The name's bytes, so that one that is not UTF-8 is encoded exactly.
    return "/".join(
        quote(os.fsencode(part), safe="!$&'()*+,;=@-._~") for part in relative.parts
    )


def _fix(d: Diagnostic, fix: Fix) -> dict[str, Any]:
    return {
        "description": {"text": fix.description + ("" if fix.safe else " (unsafe)")},
        "artifactChanges": [
            {
                "artifactLocation": _artifact(d.path),
                "replacements": [
                    {
                        "deletedRegion": _region(e.line, e.col, e.end_line, e.end_col),
                        "insertedContent": {"text": e.text},
                    }
                    for e in fix.edits
                ],
            }
        ],
    }


def to_sarif(
    diagnostics: list[Diagnostic], sources: SourceCache | None = None
) -> dict[str, Any]:
    sources = sources if sources is not None else SourceCache()
    rules = all_rules()
    index = {rule.code: number for number, rule in enumerate(rules)}
    results = []
    for d in diagnostics:
        result: dict[str, Any] = {
            "ruleId": d.code,
            "level": level(d.code),
            "message": {"text": without_surrogates(d.message)},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": _artifact(d.path),
                        "region": _region(d.line, d.col, d.end_line, d.end_col),
                    }
                }
            ],
            "partialFingerprints": {"threadlintLineHash/v1": line_fingerprint(d, sources)},
        }
        if d.code in index:
            result["ruleIndex"] = index[d.code]
        if d.fix is not None and d.fix.edits:
            result["fixes"] = [_fix(d, d.fix)]
        results.append(result)
    cwd_uri = Path.cwd().resolve().as_uri().rstrip("/") + "/"
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "threadlint",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "informationUri": INFORMATION_URI,
                        "rules": [rule_descriptor(rule) for rule in rules],
                    }
                },
                "originalUriBaseIds": {SRCROOT: {"uri": cwd_uri}},
                "columnKind": "unicodeCodePoints",
                "results": results,
            }
        ],
    }


def render(
    diagnostics: list[Diagnostic], out: TextIO, sources: SourceCache | None = None
) -> None:
    json.dump(to_sarif(diagnostics, sources), out, indent=2, ensure_ascii=False)
    out.write("\n")
