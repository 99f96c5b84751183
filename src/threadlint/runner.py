"""One run: discover files, analyse each (in worker processes), link, filter.

Per-file analysis is a pure function of (file bytes, settings), so files are
sent to a process pool in a few large chunks: one task per file would spend
more time pickling than linting.  `jobs == 1` runs everything in-process.
"""

from __future__ import annotations

import fnmatch
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, List, Optional, Sequence, Tuple

from threadlint.analysis.per_file import FileResult, analyze_source
from threadlint.config import Settings
from threadlint.diagnostics import Diagnostic
from threadlint.discovery import discover, display_path, module_name_for
from threadlint.rules.base import all_rules

# (display path, module name, absolute path)
_Job = Tuple[str, str, str]


@dataclass
class RunResult:
    diagnostics: List[Diagnostic] = field(default_factory=list)
    files: List[FileResult] = field(default_factory=list)
    errors: List[Tuple[str, str]] = field(default_factory=list)  # (path, traceback)

    @property
    def files_checked(self) -> int:
        return len(self.files)


def collect_files(paths: Sequence[str], settings: Settings) -> List[Path]:
    excludes = [*settings.exclude, *settings.extend_exclude]
    root = Path(settings.root).resolve()
    seen = set()
    files = []
    for path in discover(paths, excludes, root, settings.respect_gitignore):
        key = path.resolve()
        if key not in seen:
            seen.add(key)
            files.append(path)
    return files


def run(paths: Sequence[str], settings: Settings, jobs: int = 0) -> RunResult:
    cwd = Path.cwd().resolve()
    files = collect_files(paths, settings)
    work: List[_Job] = [
        (display_path(p, cwd), module_name_for(p), str(p.resolve())) for p in files
    ]
    results = analyze_files(work, settings, jobs)
    return finish(results, settings)


def run_source(source: bytes, display_name: str, settings: Settings) -> RunResult:
    """Lint text from stdin, named `display_name` for output and per-file config."""
    module = Path(display_name).stem if display_name.endswith(".py") else "__main__"
    result = analyze_source(display_name, module, source, settings)
    return finish([result], settings)


def analyze_files(work: List[_Job], settings: Settings, jobs: int) -> List[FileResult]:
    jobs = jobs or os.cpu_count() or 1
    jobs = min(jobs, max(1, len(work)))
    if jobs == 1:
        return _analyze_chunk(work, settings)
    chunks = _chunks(work, jobs * 4)
    results: List[FileResult] = []
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        for chunk_result in pool.map(_analyze_chunk, chunks, [settings] * len(chunks)):
            results.extend(chunk_result)
    return results


def _chunks(work: List[_Job], count: int) -> List[List[_Job]]:
    """Split work into `count` chunks of similar total size (largest files first)."""
    sized = sorted(work, key=lambda job: _size(job[2]), reverse=True)
    buckets: List[List[_Job]] = [[] for _ in range(min(count, len(work)))]
    totals = [0] * len(buckets)
    for job in sized:
        index = totals.index(min(totals))
        buckets[index].append(job)
        totals[index] += _size(job[2])
    return [b for b in buckets if b]


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def _analyze_chunk(chunk: List[_Job], settings: Settings) -> List[FileResult]:
    out = []
    for display, module_name, absolute in chunk:
        try:
            with open(absolute, "rb") as handle:
                source = handle.read()
        except OSError as exc:
            result = FileResult(path=display, module_name=module_name)
            result.error = f"cannot read file: {exc.strerror}"
            out.append(result)
            continue
        out.append(analyze_source(display, module_name, source, settings))
    return out


def finish(results: List[FileResult], settings: Settings) -> RunResult:
    """Link the project, then apply selection, per-file ignores and suppressions."""
    from threadlint.link import link_project

    run_result = RunResult(files=results)
    diagnostics: List[Diagnostic] = []
    for result in results:
        if result.error is not None:
            run_result.errors.append((result.path, result.error))
        diagnostics.extend(result.diagnostics)
    diagnostics.extend(link_project(results, settings))
    by_path = {r.path: r for r in results}
    kept = [d for d in diagnostics if _keep(d, by_path.get(d.path), settings)]
    kept.extend(unused_suppressions(results, kept, diagnostics, settings))
    run_result.diagnostics = sorted(set(kept), key=lambda d: d.sort_key)
    return run_result


def _rule_flags(code: str) -> Tuple[bool, bool]:
    for rule in all_rules():
        if rule.code == code:
            return rule.preview, rule.opt_in
    return False, False


def _keep(diagnostic: Diagnostic, result: Optional[FileResult], settings: Settings) -> bool:
    preview, opt_in = _rule_flags(diagnostic.code)
    if not settings.is_selected(diagnostic.code, preview=preview, opt_in=opt_in):
        return False
    if result is not None and result.skipped:
        return False
    if _per_file_ignored(diagnostic, settings):
        return False
    if result is not None:
        suppression = result.suppressions.get(diagnostic.line)
        if suppression is not None and suppression.covers(diagnostic.code):
            return False
    return True


def _per_file_ignored(diagnostic: Diagnostic, settings: Settings) -> bool:
    if not settings.per_file_ignores:
        return False
    path = Path(diagnostic.path)
    candidates = {diagnostic.path, path.name}
    try:
        candidates.add(path.resolve().relative_to(Path(settings.root).resolve()).as_posix())
    except ValueError:
        pass
    for glob, codes in settings.per_file_ignores:
        if any(fnmatch.fnmatch(c, glob) for c in candidates):
            if any(diagnostic.code.startswith(code) or code == "ALL" for code in codes):
                return True
    return False


def unused_suppressions(
    results: Iterable[FileResult],
    kept: List[Diagnostic],
    everything: List[Diagnostic],
    settings: Settings,
) -> List[Diagnostic]:
    """TL002: a suppression naming TL codes that matched no finding of an enabled rule."""
    preview, opt_in = _rule_flags("TL002")
    if not settings.is_selected("TL002", preview=preview, opt_in=opt_in):
        return []
    found = {(d.path, d.line, d.code) for d in everything}
    out = []
    for result in results:
        if result.skipped:
            continue
        for line, suppression in result.suppressions.items():
            if suppression.codes is None:
                continue
            ours = sorted(c for c in suppression.codes if c.startswith("TL"))
            unused = [
                c
                for c in ours
                if settings.is_selected(c, preview=_rule_flags(c)[0], opt_in=_rule_flags(c)[1])
                and not any(p == result.path and ln == line and k.startswith(c) for p, ln, k in found)
            ]
            if unused:
                out.append(
                    Diagnostic(
                        result.path, line, 1, "TL002",
                        f"unused suppression of {', '.join(unused)}: nothing is reported here",
                    )
                )
    return out
