"""Everything threadlint does with one file, as a pure function of its bytes.

This runs in worker processes and its result is cached by content hash, so
it takes and returns only plain, picklable data (no libcst nodes escape).

Cost control: parsing with libcst and resolving positions costs about 100x
a byte scan, and most files of a project never touch a thread.  A file in
which no concurrency API or annotation appears is only checked for syntax
with the C parser (`ast`), and gets the full libcst analysis when anything
in it could matter.
"""

from __future__ import annotations

import ast
import re
import sys
import traceback
import warnings
from dataclasses import dataclass, field
from hashlib import sha256
from typing import Any, Callable

import libcst as cst

from threadlint.analysis.context import ModuleContext
from threadlint.analysis.walk import visit_batched
from threadlint.config import Settings
from threadlint.diagnostics import Diagnostic
from threadlint.suppress import Suppression, find_suppressions, is_skipped_file

# What makes a file worth a full analysis: code (not prose) that imports or
# names a concurrency API, takes a lock, or carries a threadlint annotation.
_SIGNALS = re.compile(
    rb"^[ \t]*(?:import|from)[ \t]+(?:threading|_thread|concurrent|multiprocessing|"
    rb"socketserver)\b"
    rb"|\b(?:Thread|Timer|Lock|RLock|Condition|Semaphore|BoundedSemaphore|"
    rb"ThreadPoolExecutor|ProcessPoolExecutor|ThreadPool|ThreadingMixIn)\b"
    rb"|\bwith[ \t]+[\w.]*(?:lock|mutex|cond)\w*[ \t]*:|\.acquire\("
    rb"|\b(?:to_thread|run_in_executor|add_done_callback)\b|threadlint:|guarded-by",
    re.MULTILINE,
)


# Fact collectors: name -> function(ctx, settings) returning a picklable
# summary of the module for project rules (see `register_collector`).
Collector = Callable[[ModuleContext, Settings], Any]
_COLLECTORS: dict[str, Collector] = {}


def register_collector(name: str) -> Callable[[Collector], Collector]:
    """Decorator: run this function on every analysed module; its result is
    stored in `FileResult.facts[name]` for the project rules to read."""

    def decorate(function: Collector) -> Collector:
        _COLLECTORS[name] = function
        return function

    return decorate


@dataclass
class FileResult:
    path: str
    module_name: str
    diagnostics: list[Diagnostic] = field(default_factory=list)
    suppressions: dict[int, Suppression] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    # Why the file could not be read: an I/O condition of the file, not a bug.
    unreadable: str | None = None
    # SHA-256 of the bytes analysed: --fix edits those exact bytes or nothing.
    digest: str = ""
    analysed: bool = False
    skipped: bool = False


def is_relevant(source: bytes, settings: Settings) -> bool:
    if _SIGNALS.search(source):
        return True
    extra = [*settings.thread_entry_points, *settings.lock_types, *settings.thread_safe_types]
    return any(name.rsplit(".", 1)[-1].encode() in source for name in extra)


# libcst visits recursively; deeply nested literals (generated tables) need
# more than the default 1000 frames.
_RECURSION_LIMIT = 10_000


def analyze_source(
    path: str, module_name: str, source: bytes, settings: Settings, force: bool = False
) -> FileResult:
    """Lint one file; never raises (an internal error is returned in `error`).

    `force` analyses it even without a concurrency signal (the project link
    asks for modules that code running on threads calls into)."""
    if sys.getrecursionlimit() < _RECURSION_LIMIT:
        sys.setrecursionlimit(_RECURSION_LIMIT)
    result = FileResult(path=path, module_name=module_name, digest=sha256(source).hexdigest())
    try:
        _analyze(result, source, settings, force)
    except Exception:
        result.diagnostics = []
        result.error = traceback.format_exc()
    return result


def _analyze(result: FileResult, source: bytes, settings: Settings, force: bool = False) -> None:
    if is_skipped_file(source):
        result.skipped = True
        return
    result.suppressions = find_suppressions(source)
    tree, syntax_error = _host_parse(source)
    relevant = force or is_relevant(source, settings)
    if syntax_error is None and not relevant:
        return
    try:
        module = cst.parse_module(source)
    except (cst.ParserSyntaxError, SyntaxError, UnicodeDecodeError, LookupError) as exc:
        result.diagnostics.append(_syntax_diagnostic(result.path, syntax_error, exc, source))
        return
    if not relevant:
        return  # newer syntax than the host's parser knows, and nothing to analyse
    ctx = ModuleContext(result.path, module, result.module_name, source, tree)
    rules = [
        rule(ctx, settings, result.diagnostics.append)
        for rule in file_rules(settings)
    ]
    if rules:
        visit_batched(ctx.module, rules)
    result.facts = collect_facts(ctx, settings)
    result.analysed = True


def collect_facts(ctx: ModuleContext, settings: Settings) -> dict[str, Any]:
    """The module's summaries for the project-wide link, one per collector."""
    return {name: collect(ctx, settings) for name, collect in _COLLECTORS.items()}


def file_rules(settings: Settings) -> list[type]:
    # Imported here, not at the top: rule modules import fact collectors,
    # which import this module to register themselves.
    from threadlint.rules.base import FileRule, all_rules

    return [
        rule
        for rule in all_rules()
        if issubclass(rule, FileRule)
        and settings.is_selected(rule.code, preview=rule.preview, opt_in=rule.opt_in)
    ]


def _host_parse(source: bytes) -> tuple[ast.Module | None, SyntaxError | None]:
    """The C parser's tree (kept for positions) or its syntax error."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escape sequences etc.
            return ast.parse(source), None
    except SyntaxError as exc:
        return None, exc
    except (ValueError, UnicodeDecodeError) as exc:  # null bytes, bad encodings
        return None, SyntaxError(str(exc))


def _syntax_diagnostic(
    path: str, host_error: SyntaxError | None, cst_error: Exception, source: bytes
) -> Diagnostic:
    """TL001, preferring CPython's message (it names the problem best)."""
    if host_error is not None and host_error.lineno:
        line, col, message = host_error.lineno, host_error.offset or 1, host_error.msg
    elif isinstance(cst_error, cst.ParserSyntaxError):
        # CPython gave no position (null bytes): libcst's, with CPython's words.
        line, col = cst_error.raw_line, cst_error.raw_column + 1
        message = host_error.msg if host_error is not None else cst_error.message
    else:
        # An unknown coding cookie has no position: line 1 is where it is.
        line, col = 1, 1
        message = host_error.msg if host_error is not None else str(cst_error)
    message = " ".join(message.split())
    line, col = max(line, 1), max(col, 1)
    end_line, end_col = _syntax_error_end(source, line, col, host_error)
    return Diagnostic(
        path, line, col, "TL001", f"syntax error: {message}", end_line=end_line, end_col=end_col
    )


def _syntax_error_end(
    source: bytes, line: int, col: int, host_error: SyntaxError | None
) -> tuple[int, int]:
    """Where TL001's range ends: CPython's end (3.10+) when it has one past the
    start, else the end of the line, so that an editor underlines something."""
    end = (
        getattr(host_error, "end_lineno", None) or 0,
        getattr(host_error, "end_offset", None) or 0,
    )
    if end > (line, col):
        return end
    lines = source.splitlines()
    text = lines[line - 1] if line <= len(lines) else b""
    return line, max(col + 1, len(text.decode("utf-8", errors="replace")) + 1)
