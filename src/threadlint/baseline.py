"""`--write-baseline` / `--baseline`: adopt threadlint on a legacy codebase.

A baseline records the findings a project already has, so that a run
reports only new ones.  A finding is matched by its path, its code and a
fingerprint of the content of the line it is reported on, never by line
number: adding or removing lines elsewhere in a file moves findings without
resurrecting them, while editing the offending line itself brings its
finding back for review.  Identical lines with the same finding in one file
are counted, so a copy of a baselined bug is still reported.

Paths are stored relative to the baseline file's directory (with `/`), so
the file can be committed and used from any working directory.  The file is
ASCII JSON: a name that is not valid UTF-8 is stored as Python decodes it
(`\\udcXX` escapes for its undecodable bytes), so it matches again on load.
A baseline that is not one (including JSON nested too deeply to read) is a
usage error naming the file.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from pathlib import Path
from typing import Any

from threadlint.config import ConfigError
from threadlint.diagnostics import Diagnostic
from threadlint.printable import printable
from threadlint.source_text import SourceCache, read_regular_file

FORMAT_VERSION = 1

_Key = tuple[str, str, str]  # (path relative to the baseline, code, fingerprint)


def fingerprint(line: str) -> str:
    """A hash of a line's content, blind to indentation and spacing changes."""
    normalized = " ".join(line.split())
    return hashlib.sha256(normalized.encode("utf-8")).hexdigest()[:16]


def line_fingerprint(d: Diagnostic, sources: SourceCache) -> str:
    return fingerprint(sources.line(d.path, d.line) or "")


def _relative(path: str, root: Path) -> str:
    absolute = os.path.abspath(path)
    try:
        return Path(os.path.relpath(absolute, root)).as_posix()
    except ValueError:  # another drive on Windows
        return Path(absolute).as_posix()


class Baseline:
    """The known findings of a project, loaded from a baseline file."""

    def __init__(self, root: Path, entries: Counter[_Key]) -> None:
        self.root = root
        self.entries = entries

    @classmethod
    def load(cls, path: str) -> Baseline:
        where = f"--baseline {printable(path)}"
        if not os.path.lexists(path):
            raise ConfigError(
                f"{where}: no such file (create it with --write-baseline {printable(path)})"
            )
        try:
            data = json.loads(read_regular_file(path).decode("utf-8"))
        except OSError as exc:
            raise ConfigError(f"{where}: cannot read: {exc.strerror or exc}") from None
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ConfigError(f"{where}: not a threadlint baseline (invalid JSON: {exc})") from None
        except RecursionError:
            raise ConfigError(
                f"{where}: not a threadlint baseline (JSON nested too deeply to read)"
            ) from None
        findings = data.get("findings") if isinstance(data, dict) else None
        version = data.get("threadlint_baseline") if isinstance(data, dict) else None
        if version != FORMAT_VERSION or not isinstance(findings, list):
            raise ConfigError(
                f"{where}: not a threadlint baseline version {FORMAT_VERSION} "
                "(write a new one with --write-baseline)"
            )
        entries: Counter[_Key] = Counter()
        for number, item in enumerate(findings, start=1):
            if not isinstance(item, dict) or not all(
                isinstance(item.get(k), str) for k in ("path", "code", "fingerprint")
            ):
                raise ConfigError(
                    f"{where}: finding #{number} must have string 'path', 'code' and 'fingerprint'"
                )
            entries[(item["path"], item["code"], item["fingerprint"])] += 1
        return cls(Path(os.path.abspath(path)).parent, entries)

    def key(self, d: Diagnostic, sources: SourceCache) -> _Key:
        return (_relative(d.path, self.root), d.code, line_fingerprint(d, sources))

    def split(
        self, diagnostics: list[Diagnostic], sources: SourceCache
    ) -> tuple[list[Diagnostic], list[Diagnostic]]:
        """(new findings, findings the baseline knows)."""
        remaining = Counter(self.entries)
        new: list[Diagnostic] = []
        known: list[Diagnostic] = []
        for d in diagnostics:
            key = self.key(d, sources)
            if remaining[key] > 0:
                remaining[key] -= 1
                known.append(d)
            else:
                new.append(d)
        return new, known

    def new_findings(self, diagnostics: list[Diagnostic], sources: SourceCache) -> list[Diagnostic]:
        return self.split(diagnostics, sources)[0]


def write_baseline(path: str, diagnostics: list[Diagnostic], sources: SourceCache) -> int:
    """Write every finding to a baseline file at `path`; returns how many."""
    root = Path(os.path.abspath(path)).parent
    findings: list[dict[str, Any]] = []
    for d in diagnostics:
        findings.append(
            {
                "path": _relative(d.path, root),
                "code": d.code,
                "fingerprint": line_fingerprint(d, sources),
                # For people reading the file; matching ignores both.
                "line": d.line,
                "message": d.message,
            }
        )
    findings.sort(key=lambda f: (f["path"], f["line"], f["code"], f["fingerprint"]))
    data = {"threadlint_baseline": FORMAT_VERSION, "findings": findings}
    try:
        with open(path, "w", encoding="ascii", newline="\n") as handle:
            json.dump(data, handle, indent=2)
            handle.write("\n")
    except OSError as exc:
        raise ConfigError(
            f"--write-baseline {printable(path)}: cannot write: {exc.strerror or exc}"
        ) from None
    return len(findings)
