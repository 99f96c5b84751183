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

Only at the end are files written, each atomically (a temporary file in the
same directory, then `os.replace`, keeping the file's mode), and only if the
file did not change on disk meanwhile.  `--diff` prints the same result as
a unified diff and writes nothing.
"""

from __future__ import annotations

import contextlib
import difflib
import os
import stat
import tempfile
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Callable

import libcst as cst

from threadlint.analysis.per_file import FileResult, analyze_source
from threadlint.config import Settings
from threadlint.diagnostics import Diagnostic, Edit, Fix
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
    for _ in range(MAX_ROUNDS):
        reported = wanted(result.diagnostics, sources) if wanted else result.diagnostics
        by_path: dict[str, list[Diagnostic]] = {}
        for d in reported:
            if applicable(d.fix, unsafe) and _key(d) not in rejected:
                by_path.setdefault(d.path, []).append(d)
        changed: list[str] = []
        for path, diagnostics in sorted(by_path.items()):
            source = sources.get(path)
            if source is None:
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


def write_fixes(outcome: FixOutcome, sources: SourceCache) -> list[str]:
    """Write the fixed files; returns warnings for files that could not be written."""
    problems = []
    for path in outcome.changed_paths(sources):
        fixed = sources.get(path)
        assert fixed is not None
        original = outcome.originals[path]
        try:
            write_atomically(path, original.to_bytes(), fixed.to_bytes())
        except (OSError, _ChangedOnDisk) as exc:
            problems.append(f"{path}: not fixed: {exc}")
    return problems


class _ChangedOnDisk(Exception):
    pass


def write_atomically(path: str, expected: bytes, data: bytes) -> None:
    """Replace the file's content by `data` in one step, if it still holds `expected`."""
    target = os.path.realpath(path)  # write through a symlink, do not replace it
    with open(target, "rb") as handle:
        if handle.read() != expected:
            raise _ChangedOnDisk("the file changed on disk while threadlint was fixing it")
    mode = stat.S_IMODE(os.stat(target).st_mode)
    directory = os.path.dirname(target) or "."
    fd, temporary = tempfile.mkstemp(prefix=".threadlint-", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def unified_diff(path: str, before: str, after: str) -> str:
    lines = difflib.unified_diff(
        split_lines(before), split_lines(after), fromfile=path, tofile=path
    )
    out = []
    for line in lines:
        out.append(line if line.endswith(("\n", "\r")) else line + "\n\\ No newline at end of file\n")
    return "".join(out)
