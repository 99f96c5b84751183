"""Source files as text, decoded and split into lines the way Python does.

The reporters (`--show-source`, SARIF fingerprints), the baseline and the
fixer all need the text of the files a run looked at.  `SourceCache` reads
each file once, honours its PEP 263 encoding declaration, and can hold text
that is not on disk (stdin, or a file being fixed in memory).
"""

from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass

# Python's (and libcst's) line breaks; str.splitlines() also breaks on form
# feeds and other characters that do not end a line of Python source.
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def split_lines(text: str) -> list[str]:
    """Lines of `text`, each with its line break (the last one may have none)."""
    lines = []
    start = 0
    for match in _LINE_BREAK.finditer(text):
        lines.append(text[start : match.end()])
        start = match.end()
    if start < len(text):
        lines.append(text[start:])
    return lines


def strip_line_break(line: str) -> str:
    return line.rstrip("\r\n")


def encode_source(text: str) -> bytes:
    """Decoded text (an editor's buffer, flake8's lines) back to bytes in the
    encoding it declares (PEP 263), so that the analysis decodes it as Python would."""
    data = text.encode("utf-8")
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError:
        return data
    if encoding in ("utf-8", "utf-8-sig"):
        return data
    try:
        return text.encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return data


@dataclass
class SourceText:
    """One file's text and how to turn it back into the same kind of bytes."""

    text: str
    encoding: str = "utf-8"

    @classmethod
    def from_bytes(cls, data: bytes) -> SourceText:
        try:
            encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        except SyntaxError:  # an unknown or conflicting encoding declaration
            encoding = "utf-8"
        try:
            return cls(data.decode(encoding), encoding)
        except (UnicodeDecodeError, LookupError):
            return cls(data.decode("utf-8", errors="replace"), "utf-8")

    def to_bytes(self, text: str | None = None) -> bytes:
        return (self.text if text is None else text).encode(self.encoding)

    def lines(self) -> list[str]:
        return split_lines(self.text)


class SourceCache:
    """The text of each path a run reports on, read at most once."""

    def __init__(self) -> None:
        self._texts: dict[str, SourceText | None] = {}
        self._lines: dict[str, list[str] | None] = {}

    def put(self, path: str, source: SourceText) -> None:
        """Use this text for `path` instead of the file (stdin, fixed text)."""
        self._texts[path] = source
        self._lines.pop(path, None)

    def get(self, path: str) -> SourceText | None:
        if path not in self._texts:
            try:
                with open(path, "rb") as handle:
                    self._texts[path] = SourceText.from_bytes(handle.read())
            except OSError:
                self._texts[path] = None
        return self._texts[path]

    def lines(self, path: str) -> list[str] | None:
        if path not in self._lines:
            source = self.get(path)
            self._lines[path] = source.lines() if source is not None else None
        return self._lines[path]

    def line(self, path: str, number: int) -> str | None:
        """Line `number` (1-based) of `path` without its line break, if it exists."""
        lines = self.lines(path)
        if lines is None or not 1 <= number <= len(lines):
            return None
        return strip_line_break(lines[number - 1])
