"""`--format github`: GitHub Actions workflow commands, shown as annotations.

`::warning file=PATH,line=L,col=C,endLine=..,endColumn=..,title=CODE name::message`
(TL001, a file that does not parse, is an `::error`).  Text from files goes
is escaped as the Actions runner expects (`%`, CR and LF everywhere, `:` and
`,` in properties), then every other control character, and any byte that
is not UTF-8, becomes a backslash escape (`threadlint.printable`).
"""

from __future__ import annotations

from typing import TextIO

from threadlint.diagnostics import Diagnostic
from threadlint.printable import printable
from threadlint.rules.base import get_rule

_RUNNER_ESCAPES = {"%": "%25", "\r": "%0D", "\n": "%0A"}


def _data(text: str) -> str:
    # The runner's own escapes for CR and LF (the annotation shows the line
    # break), then threadlint's for every other unprintable character.
    return printable("".join(_RUNNER_ESCAPES.get(c, c) for c in text))


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(d: Diagnostic) -> str:
    rule = get_rule(d.code)
    title = f"{d.code} {rule.name}" if rule else d.code
    command = "error" if d.code == "TL001" else "warning"
    props = [f"file={_property(d.path)}", f"line={d.line}", f"col={d.col}"]
    if d.end_line >= d.line and d.end_col >= 1:
        props += [f"endLine={d.end_line}", f"endColumn={d.end_col}"]
    props.append(f"title={_property(title)}")
    return f"::{command} {','.join(props)}::{_data(d.message)}"


def render(diagnostics: list[Diagnostic], out: TextIO) -> None:
    out.writelines(annotation(d) + "\n" for d in diagnostics)
