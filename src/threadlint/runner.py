"""One run: discover files, analyse each (in worker processes), link, filter.

Per-file analysis is a pure function of (file bytes, settings), so files are
sent to a process pool in a few large chunks: one task per file would spend
more time pickling than linting.  Every `-j`, `-j1` included, analyses in
worker processes, so that a file that crashes its worker (libcst's native
parser, the out-of-memory killer) costs only that file (docs/design.md,
"Crash isolation").
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import traceback
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from threadlint.analysis.per_file import (
    FileResult,
    analyze_source,
    not_analysed,
)
from threadlint.cache import ResultCache
from threadlint.config import Settings
from threadlint.diagnostics import Diagnostic
from threadlint.discovery import discover, display_path, module_name_for, real_path
from threadlint.rules.base import get_rule
from threadlint.selection import per_file_ignored
from threadlint.source_text import read_regular_file

# (display path, module name, absolute path)
_Job = tuple[str, str, str]
# A job with its index in the run's work list (its slot in the progress array).
_Indexed = tuple[int, _Job]

# Each file's state in the progress array the workers share with the parent:
# after a worker dies, a file it had started and not finished is the suspect.
_NOT_STARTED, _STARTED, _DONE = 0, 1, 2


@dataclass
class RunResult:
    diagnostics: list[Diagnostic] = field(default_factory=list)
    files: list[FileResult] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)  # (path, traceback)
    # A partial run (threadlint.project) analyses whole projects but reports
    # on these display paths only; None reports every file.
    scope: frozenset[str] | None = None
    # The settings the files were analysed and linked with (--fix re-links so).
    settings: Settings | None = None

    @property
    def files_checked(self) -> int:
        return len(self.files) if self.scope is None else len(self.scope)


def collect_files(paths: Sequence[str], settings: Settings) -> list[Path]:
    excludes = [*settings.exclude, *settings.extend_exclude]
    root = Path(settings.root).resolve()
    seen = set()
    files = []
    # Each directory's own configuration says what is excluded in it.
    rules_at = settings.discovery_at if settings.lookup is not None else None
    for path in discover(paths, excludes, root, settings.respect_gitignore, rules_at):
        key = real_path(path)
        if key not in seen:
            seen.add(key)
            files.append(path)
    return files


def run(
    paths: Sequence[str],
    settings: Settings,
    jobs: int = 0,
    cache: ResultCache | None = None,
) -> RunResult:
    cwd = Path.cwd().resolve()
    files = collect_files(paths, settings)
    work: list[_Job] = [
        (display_path(p, cwd), module_name_for(p), os.path.abspath(p)) for p in files
    ]
    results = sorted(analyze_files(work, settings, jobs, cache), key=lambda r: r.path)
    results = analyze_reached(results, work, settings, jobs, cache)
    return finish(results, settings)


def analyze_reached(
    results: list[FileResult],
    work: list[_Job],
    settings: Settings,
    jobs: int = 1,
    cache: ResultCache | None = None,
) -> list[FileResult]:
    """Analyse the modules without a concurrency signal that code on threads calls
    into (a worker function in a plain helper module), so the project link sees them."""
    from threadlint.link import modules_to_analyse

    for _ in range(3):
        wanted = modules_to_analyse(results, settings)
        todo = [job for job in work if job[1] in wanted]
        if not todo:
            break
        redone = {r.path: r for r in analyze_files(todo, settings, jobs, cache, force=True)}
        results = [redone.get(r.path, r) for r in results]
    return results


def run_source(source: bytes, display_name: str, settings: Settings) -> RunResult:
    """Lint text from stdin, named `display_name` for output and per-file config."""
    module = Path(display_name).stem if display_name.endswith(".py") else "__main__"
    result = analyze_source(display_name, module, source, settings)
    return finish([result], settings)


def analyze_files(
    work: list[_Job],
    settings: Settings,
    jobs: int,
    cache: ResultCache | None = None,
    force: bool = False,
    in_process: bool = False,
) -> list[FileResult]:
    """Analyse files, in a pool of `jobs` worker processes (0: one per core),
    or here with `in_process`.

    `force` analyses files fully even without a concurrency signal.  Results
    come back in the order of `work`.

    When a worker dies, the pool is rebuilt: the files its chunks had not
    finished are analysed again, and each file a dead worker was in the
    middle of is retried alone; one that kills its worker again is reported
    as not analysed (TL003), and every other file keeps its findings.
    """
    if not work:
        return []
    if in_process or multiprocessing.current_process().daemon:
        # A process that runs threads must not fork (the language server), and
        # a daemonic one may not start children (flake8 runs its plugins in
        # such workers): analyse here.  The CPython-first parse and the depth
        # and size limits still keep libcst away from what crashes it.
        return _analyze_chunk(list(enumerate(work)), settings, cache, force)
    jobs = jobs or os.cpu_count() or 1
    jobs = min(jobs, len(work))
    _warm_up(settings)
    progress = multiprocessing.RawArray("b", len(work))
    results: dict[int, FileResult] = {}
    suspects: list[int] = []
    todo = list(range(len(work)))
    while todo:
        chunks = _chunks([(i, work[i]) for i in todo], jobs * 4)
        lost = _run_pool(chunks, jobs, progress, settings, cache, force, results)
        started = [i for i in lost if progress[i] == _STARTED]
        # A worker that died before starting any file leaves no suspect:
        # then every file it lost is retried alone, so each round progresses.
        suspects.extend(started or lost)
        retry_alone = set(suspects)
        todo = [i for i in lost if i not in retry_alone]
        for i in todo:
            progress[i] = _NOT_STARTED
    for i in suspects:
        display, module_name, _ = work[i]
        retried = _analyze_alone(work[i], settings, cache, force)
        if isinstance(retried, FileResult):
            results[i] = retried
        else:
            results[i] = not_analysed(
                display, module_name,
                f"the parser crashed (its worker process {retried}, twice: "
                "also when the file was analysed alone)",
            )
    return [results[i] for i in range(len(work))]


_warmed_up = False


def _warm_up(settings: Settings) -> None:
    """Analyse a tiny module here, once a process: the first analysis in a
    process imports the rules and builds libcst's visitor tables (about 0.2 s),
    and forked workers then inherit all of it instead of each paying it."""
    global _warmed_up
    if _warmed_up:
        return
    _warmed_up = True
    analyze_source("<warm-up>", "warm_up", b"import threading\nthreading.Lock()\n", settings)


def _run_pool(
    chunks: list[list[_Indexed]],
    jobs: int,
    progress: Any,
    settings: Settings,
    cache: ResultCache | None,
    force: bool,
    results: dict[int, FileResult],
) -> list[int]:
    """Run `chunks` in one pool, storing results; the indices of files lost with
    a worker that died (the pool breaks then, and every unfinished chunk with it)."""
    lost: list[int] = []
    with ProcessPoolExecutor(
        max_workers=jobs, initializer=_init_worker, initargs=(progress,)
    ) as pool:
        futures: list[tuple[Future[list[FileResult]], list[_Indexed]]] = []
        for number, chunk in enumerate(chunks):
            try:
                futures.append((pool.submit(_analyze_chunk, chunk, settings, cache, force), chunk))
            except BrokenProcessPool:  # a worker died while chunks were still being sent
                lost.extend(i for unsent in chunks[number:] for i, _ in unsent)
                break
        for future, chunk in futures:
            try:
                chunk_results = future.result()
            except BrokenProcessPool:
                lost.extend(i for i, _ in chunk)
                continue
            except (KeyboardInterrupt, SystemExit):
                raise
            except BaseException:
                # Not a crash but a bug (say, a result that cannot be pickled):
                # an internal error for these files, never a retry loop.
                error = traceback.format_exc()
                for i, (display, module_name, _) in chunk:
                    results[i] = FileResult(path=display, module_name=module_name, error=error)
                continue
            for (i, _), result in zip(chunk, chunk_results):
                results[i] = result
    return lost


def _analyze_alone(
    job: _Job, settings: Settings, cache: ResultCache | None, force: bool
) -> FileResult | str:
    """Analyse one file in a process of its own: its result, or how the process died."""
    receiver, sender = multiprocessing.Pipe(duplex=False)
    process = multiprocessing.Process(
        target=_analyze_and_send, args=(sender, job, settings, cache, force), daemon=True
    )
    process.start()
    sender.close()
    try:
        result: FileResult | str = receiver.recv()
    except EOFError:
        result = ""
    finally:
        receiver.close()
    process.join()
    if isinstance(result, FileResult):
        return result
    return _death(process.exitcode)


def _analyze_and_send(
    sender: Any, job: _Job, settings: Settings, cache: ResultCache | None, force: bool
) -> None:
    sender.send(_analyze_chunk([(0, job)], settings, cache, force)[0])
    sender.close()


def _death(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            return f"was killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"was killed by signal {-exitcode}"
    return f"exited with status {exitcode}"


_PROGRESS: Any = None  # in a worker: the run's progress array


def _init_worker(progress: Any) -> None:
    global _PROGRESS
    _PROGRESS = progress


def _chunks(work: list[_Indexed], count: int) -> list[list[_Indexed]]:
    """Split work into `count` chunks of similar total size (largest files first)."""
    sized = sorted(work, key=lambda job: _size(job[1][2]), reverse=True)
    buckets: list[list[_Indexed]] = [[] for _ in range(min(count, len(work)))]
    totals = [0] * len(buckets)
    for job in sized:
        index = totals.index(min(totals))
        buckets[index].append(job)
        totals[index] += _size(job[1][2])
    return [b for b in buckets if b]


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def _analyze_chunk(
    chunk: list[_Indexed],
    settings: Settings,
    cache: ResultCache | None = None,
    force: bool = False,
) -> list[FileResult]:
    out = []
    for index, (display, module_name, absolute) in chunk:
        if _PROGRESS is not None:
            _PROGRESS[index] = _STARTED
        out.append(_analyze_file(display, module_name, absolute, settings, cache, force))
        if _PROGRESS is not None:
            _PROGRESS[index] = _DONE
    return out


def _analyze_file(
    display: str,
    module_name: str,
    absolute: str,
    settings: Settings,
    cache: ResultCache | None,
    force: bool,
) -> FileResult:
    try:
        source = read_regular_file(absolute)
    except OSError as exc:
        return FileResult(path=display, module_name=module_name, unreadable=str(exc))
    flavour = "forced" if force else ""
    cached = cache.get(source, display, module_name, flavour) if cache is not None else None
    if cached is not None:
        return cached
    result = analyze_source(display, module_name, source, settings, force=force)
    if cache is not None:
        cache.put(source, result, flavour)
    return result


def finish(
    results: list[FileResult], settings: Settings, scope: frozenset[str] | None = None
) -> RunResult:
    """Link the project, then apply selection, per-file ignores and suppressions;
    with a `scope`, keep the findings and errors of those files only."""
    from threadlint.link import link_project

    # Workers return files in chunk order; the link must see the same order
    # whatever -j is, so that the evidence a message names is stable.  (An
    # already sorted list is kept as it is: the project model built for it
    # while finding the modules threads reach is reused.)
    if any(a.path > b.path for a, b in zip(results, results[1:])):
        results = sorted(results, key=lambda r: r.path)
    run_result = RunResult(files=results, settings=settings)
    diagnostics: list[Diagnostic] = []
    for result in results:
        if result.error is not None:
            run_result.errors.append((result.path, result.error))
        diagnostics.extend(result.diagnostics)
    try:
        diagnostics.extend(link_project(results, settings))
    except Exception:
        run_result.errors.append(("<project>", traceback.format_exc()))
    by_path = {r.path: r for r in results}
    kept = [d for d in diagnostics if _keep(d, by_path.get(d.path), settings)]
    unused = unused_suppressions(results, kept, diagnostics, settings)
    kept.extend(d for d in unused if _keep(d, by_path.get(d.path), settings))
    run_result.diagnostics = sorted(set(kept), key=lambda d: d.sort_key)
    return restrict(run_result, scope) if scope is not None else run_result


def restrict(result: RunResult, scope: frozenset[str]) -> RunResult:
    """The run as reported on the files of `scope` only.  Its `files` stay the
    whole project, so that re-linting it (--fix) keeps cross-module findings;
    errors not tied to a file (the project link's) are kept."""
    known = {r.path for r in result.files}
    return RunResult(
        diagnostics=[d for d in result.diagnostics if d.path in scope],
        files=result.files,
        errors=[(p, e) for p, e in result.errors if p in scope or p not in known],
        scope=scope,
        settings=result.settings,
    )


def _rule_flags(code: str) -> tuple[bool, bool]:
    rule = get_rule(code)
    return (rule.preview, rule.opt_in) if rule is not None else (False, False)


def _keep(diagnostic: Diagnostic, result: FileResult | None, settings: Settings) -> bool:
    settings = settings.for_file(diagnostic.path)  # its own configuration's selection
    preview, opt_in = _rule_flags(diagnostic.code)
    if not settings.is_selected(diagnostic.code, preview=preview, opt_in=opt_in):
        return False
    if result is not None and result.skipped:
        return False
    if per_file_ignored(settings, diagnostic.path, diagnostic.code):
        return False
    if result is not None:
        suppression = result.suppressions.get(diagnostic.line)
        if suppression is not None and suppression.covers(diagnostic.code):
            return False
    return True


def unused_suppressions(
    results: Iterable[FileResult],
    kept: list[Diagnostic],
    everything: list[Diagnostic],
    settings: Settings,
) -> list[Diagnostic]:
    """TL002: a suppression naming TL codes that matched no finding of an enabled rule."""
    preview, opt_in = _rule_flags("TL002")
    found = {(d.path, d.line, d.code) for d in everything}
    out = []
    run_settings = settings
    for result in results:
        settings = run_settings.for_file(result.path)
        if result.skipped or not settings.is_selected("TL002", preview=preview, opt_in=opt_in):
            continue
        for line, suppression in result.suppressions.items():
            if suppression.codes is None:
                continue
            ours = sorted(c for c in suppression.codes if c.startswith("TL") and c != "TL002")
            unused = [
                c
                for c in ours
                if settings.is_selected(c, preview=_rule_flags(c)[0], opt_in=_rule_flags(c)[1])
                and not any(p == result.path and ln == line and k.startswith(c) for p, ln, k in found)
            ]
            if unused:
                out.append(
                    Diagnostic(
                        result.path, line, suppression.col, "TL002",
                        f"unused suppression of {', '.join(unused)}: nothing is reported here",
                        end_line=line, end_col=suppression.end_col,
                    )
                )
    return out
