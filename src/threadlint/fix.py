"""`--fix` and `--diff`: apply the rules' autofixes, as ruff does.

Rules attach a `Fix` (edits over 1-based, end-exclusive positions) to a
finding; libcst generates the replacement text, so a fix is a concrete
syntax tree transformation rendered back to source.  Here the edits are
applied to the text of each file, in a loop:

1. take the fixable findings of the run (safe fixes only, unless
   `--unsafe-fixes`), and per file the fixes whose edits do not overlap an
   earlier one (the others wait for the next round);
2. apply them, and check that the result still parses (libcst, and the
   host's `compile` when the original compiled), else drop the fixes that
   break it;
3. lint the changed files again, in memory, and repeat while fixes apply
   (bounded: a fix that keeps re-creating its own finding cannot loop).

Fixes are made on the exact bytes that were analysed: a file whose bytes
changed since (or that do not decode and encode back to themselves) is left
alone, with a warning.  Only at the end are files written, in place (the
same inode: owner, mode and hard links stay), after checks: the file is
inside the paths given (a link out of them is not followed), writable, not
read-only, and still holds the bytes analysed.  docs/design.md explains the
scheme.  `--diff` prints the same result as a unified diff and writes nothing.
"""

from __future__ import annotations

import difflib
import hashlib
import os
import stat
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Callable

import libcst as cst

from threadlint.analysis.per_file import FileResult, analyze_source
from threadlint.config import Settings
from threadlint.diagnostics import Diagnostic, Edit, Fix
from threadlint.printable import printable
from threadlint.runner import RunResult, finish
from threadlint.source_text import SourceCache, SourceText, split_lines

# ruff stops after 100 rounds; threadlint's fixes are local, so a handful of
# rounds settles everything that can settle.
MAX_ROUNDS = 10

# Which of the run's findings the caller wants fixed and reported (the
# baseline removes the ones it already knows).
Filter = Callable[[list[Diagnostic], SourceCache], list[Diagnostic]]


def applicable(fix: Fix | None, unsafe: bool) -> bool:
    return fix is not None and bool(fix.edits) and (fix.safe or unsafe)


@dataclass
class FixOutcome:
    result: RunResult  # the run after fixing: the findings that remain
    fixed: int = 0
    originals: dict[str, SourceText] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    converged: bool = True

    def changed_paths(self, sources: SourceCache) -> list[str]:
        out = []
        for path, original in sorted(self.originals.items()):
            current = sources.get(path)
            if current is not None and current.text != original.text:
                out.append(path)
        return out


def fix_run(
    result: RunResult,
    settings: Settings,
    sources: SourceCache,
    *,
    unsafe: bool = False,
    wanted: Filter | None = None,
) -> FixOutcome:
    """Apply fixes in memory (in `sources`) until none applies; write nothing."""
    outcome = FixOutcome(result=result)
    rejected: set[tuple[str, str, str]] = set()
    digests = {f.path: f.digest for f in result.files}
    refused: set[str] = set()
    for _ in range(MAX_ROUNDS):
        reported = wanted(result.diagnostics, sources) if wanted else result.diagnostics
        by_path: dict[str, list[Diagnostic]] = {}
        for d in reported:
            if applicable(d.fix, unsafe) and _key(d) not in rejected:
                by_path.setdefault(d.path, []).append(d)
        changed: list[str] = []
        for path, diagnostics in sorted(by_path.items()):
            source = sources.get(path)
            if source is None or path in refused:
                continue
            if path not in outcome.originals:
                problem = _not_as_analysed(source, digests.get(path, ""))
                if problem is not None:
                    refused.add(path)
                    outcome.warnings.append(f"{path}: not fixed: {problem}")
                    continue
            text, applied, broken = fix_text(source.text, diagnostics)
            for d in broken:
                rejected.add(_key(d))
                outcome.warnings.append(
                    f"{path}:{d.line}:{d.col}: the {d.code} fix would not parse; "
                    "left unchanged (please report this)"
                )
            if applied:
                outcome.originals.setdefault(path, source)
                sources.put(path, SourceText(text, source.encoding))
                outcome.fixed += len(applied)
                changed.append(path)
        if not changed:
            break
        result = relint(result, changed, settings, sources)
    else:
        reported = wanted(result.diagnostics, sources) if wanted else result.diagnostics
        outcome.converged = not any(
            applicable(d.fix, unsafe) and _key(d) not in rejected for d in reported
        )
    outcome.result = result
    return outcome


def _not_as_analysed(source: SourceText, digest: str) -> str | None:
    """Why the fixes cannot be applied to `source`, if they cannot."""
    if source.raw is None or hashlib.sha256(source.raw).hexdigest() != digest:
        return "the file changed since threadlint read it; run threadlint again"
    if source.to_bytes() != source.raw:
        return f"its bytes do not decode as {source.encoding}; fixing would change them"
    return None


def _key(d: Diagnostic) -> tuple[str, str, str]:
    return (d.path, d.code, "\0".join(e.text for e in _edits(d)))


def relint(
    result: RunResult, paths: Iterable[str], settings: Settings, sources: SourceCache
) -> RunResult:
    """The run again, with `paths` re-analysed from their text in `sources`."""
    again = set(paths)
    files: list[FileResult] = []
    for previous in result.files:
        source = sources.get(previous.path)
        if previous.path in again and source is not None:
            files.append(
                analyze_source(previous.path, previous.module_name, source.to_bytes(), settings)
            )
        else:
            files.append(previous)
    return finish(files, settings, result.scope)


def fix_text(
    text: str, diagnostics: Sequence[Diagnostic]
) -> tuple[str, list[Diagnostic], list[Diagnostic]]:
    """Apply the non-overlapping fixes of `diagnostics` to `text`.

    Returns the new text, the findings fixed, and the findings whose fix
    would make the file unparsable (never applied).  Findings whose fix
    overlaps an earlier one are in neither list: they wait for the next round.
    """
    chosen: list[Diagnostic] = []
    taken: list[tuple[tuple[int, int], tuple[int, int]]] = []
    for d in sorted(diagnostics, key=lambda d: min((e.line, e.col) for e in _edits(d))):
        spans = [((e.line, e.col), (e.end_line, e.end_col)) for e in _edits(d)]
        if any(_overlaps(a, b) for a in spans for b in taken):
            continue
        chosen.append(d)
        taken.extend(spans)
    if not chosen:
        return text, [], []
    check_compile = compiles(text)
    new = apply_edits(text, [e for d in chosen for e in _edits(d)])
    if parses(new, check_compile):
        return new, chosen, []
    # Find the fixes that break the file on their own, and apply the rest.
    good = [d for d in chosen if parses(apply_edits(text, _edits(d)), check_compile)]
    broken = [d for d in chosen if d not in good]
    new = apply_edits(text, [e for d in good for e in _edits(d)])
    if good and parses(new, check_compile):
        return new, good, broken
    return text, [], chosen


def _edits(d: Diagnostic) -> tuple[Edit, ...]:
    return d.fix.edits if d.fix is not None else ()


def _overlaps(
    a: tuple[tuple[int, int], tuple[int, int]], b: tuple[tuple[int, int], tuple[int, int]]
) -> bool:
    # Two insertions at the same point also conflict: their order is unknown.
    if a[0] == b[0]:
        return True
    return a[0] < b[1] and b[0] < a[1]


def apply_edits(text: str, edits: Sequence[Edit]) -> str:
    """Replace each edit's range (1-based line/col, end exclusive) by its text.

    The edits must not overlap; they are applied from the end of the text so
    that earlier positions stay valid.
    """
    starts = [0]
    for line in split_lines(text):
        starts.append(starts[-1] + len(line))

    def offset(line: int, col: int) -> int:
        if line > len(starts) - 1:
            return len(text)
        return min(starts[line - 1] + col - 1, starts[line] if line < len(starts) else len(text))

    pieces = sorted(
        ((offset(e.line, e.col), offset(e.end_line, e.end_col), e.text) for e in edits),
        reverse=True,
    )
    for begin, end, replacement in pieces:
        text = text[:begin] + replacement + text[end:]
    return text


def compiles(text: str) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(text, "<fix>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        return False
    return True


def parses(text: str, check_compile: bool) -> bool:
    """libcst parses it, and so does the host Python if it parsed the original."""
    try:
        cst.parse_module(text)
    except (cst.ParserSyntaxError, SyntaxError):
        return False
    return compiles(text) if check_compile else True


def write_fixes(outcome: FixOutcome, sources: SourceCache, roots: Sequence[str]) -> list[str]:
    """Write the fixed files; returns why files could not be written.

    `roots` are the paths the user named: a file is only written if it is
    one of them or below one (after resolving links).
    """
    allowed = [os.path.realpath(root) for root in roots]
    problems = []
    for path in outcome.changed_paths(sources):
        fixed = sources.get(path)
        assert fixed is not None
        original = outcome.originals[path]
        assert original.raw is not None
        try:
            write_in_place(path, original.raw, fixed.to_bytes(), allowed)
        except NotFixed as exc:
            problems.append(f"{path}: not fixed: {exc}")
        except OSError as exc:
            problems.append(f"{path}: not fixed: {exc.strerror or exc}")
    return problems


class NotFixed(Exception):
    """Why a fixed file was not written (one line, for the user)."""


def _inside(path: str, roots: Sequence[str]) -> bool:
    return any(path == root or path.startswith(os.path.join(root, "")) for root in roots)


# Open the file itself, never a link swapped in for it after the check, and
# never wait on a FIFO swapped in either.
_WRITE_FLAGS = os.O_RDWR | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)


def write_in_place(path: str, expected: bytes, data: bytes, roots: Sequence[str]) -> None:
    """Replace the content of the file at `path` by `data`, if it still holds `expected`.

    The file is rewritten in place, so its inode, and with it its owner,
    mode, hard links and extended attributes, stay as they are; every check
    is made on the open descriptor before the first byte is written.
    """
    target = os.path.realpath(path)
    if not _inside(target, roots):
        raise NotFixed(f"it is a link to {target}, outside the paths given")
    try:
        fd = os.open(target, _WRITE_FLAGS)
    except PermissionError:
        raise NotFixed("permission denied: this user cannot write it") from None
    with open(fd, "r+b") as handle:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise NotFixed("not a regular file")
        if not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH):
            raise NotFixed("the file is read-only; make it writable to fix it")
        if handle.read() != expected:
            raise NotFixed("the file changed since threadlint read it; run threadlint again")
        handle.seek(0)
        handle.write(data)
        handle.truncate()
        handle.flush()
        os.fsync(fd)


def unified_diff(path: str, before: str, after: str) -> str:
    name = printable(path)  # the header is one line whatever the name holds
    lines = difflib.unified_diff(
        split_lines(before), split_lines(after), fromfile=name, tofile=name
    )
    out = []
    for line in lines:
        out.append(line if line.endswith(("\n", "\r")) else line + "\n\\ No newline at end of file\n")
    return "".join(out)
