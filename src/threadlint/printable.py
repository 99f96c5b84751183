r"""Text from files and file names made safe to print: one escaping scheme.

A file name or a line of source can hold anything: a newline that starts a
line parsing as a finding in another file, an ESC byte that drives the
terminal, bytes that are not UTF-8.  Every text format (flake8's `path:
line:col: CODE message`, `--show-source`, GitHub annotations, messages on
stderr) passes such text through `printable`, which writes, as Python's
`repr` does for strings:

- a backslash as `\\`, and newline, carriage return and tab as `\n`, `\r`, `\t`;
- a byte of a name that is not valid UTF-8 (kept by Python as a lone
  surrogate, PEP 383) as `\xNN`, the byte itself;
- any other character `str.isprintable()` rejects (control and format
  characters, line separators, unassigned code points) as `\xNN`, `\uNNNN`
  or `\UNNNNNNNN`.

Everything else, including non-ASCII letters, is printed as it is.  JSON
and SARIF need none of this: their serialisers escape (see docs/design.md).
"""

from __future__ import annotations

_NAMED = {"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(c: str) -> str:
    named = _NAMED.get(c)
    if named is not None:
        return named
    code = ord(c)
    if 0xDC80 <= code <= 0xDCFF:  # a byte that did not decode (surrogateescape)
        return f"\\x{code - 0xDC00:02x}"
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def printable(text: str) -> str:
    """`text` with backslashes and unprintable characters escaped."""
    if text.isprintable() and "\\" not in text:
        return text
    return "".join(c if c.isprintable() and c != "\\" else _escape(c) for c in text)


def printable_source(line: str) -> str:
    """A line of code to show: as `printable`, but tabs and backslashes are
    part of the code and kept (the caller expands tabs)."""
    if line.isprintable():
        return line
    return "".join(c if c.isprintable() or c == "\t" else _escape(c) for c in line)


def without_surrogates(text: str) -> str:
    """`text` as valid Unicode: only the bytes that did not decode are escaped
    (as `\\xNN`), for formats that must hold Unicode but mean no terminal."""
    if text.isprintable() or not any(0xDC80 <= ord(c) <= 0xDCFF for c in text):
        return text
    return "".join(_escape(c) if 0xDC80 <= ord(c) <= 0xDCFF else c for c in text)


def shortened(code: str, limit: int = 40) -> str:
    """Source code quoted in a message: on one line, at most `limit` characters."""
    code = " ".join(code.split())
    return code if len(code) <= limit else code[: limit - 3] + "..."
