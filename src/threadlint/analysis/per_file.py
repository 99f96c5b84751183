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
from threadlint.config import Settings, target_version
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
    rb"|\b(?:to_thread|run_in_executor|add_done_callback)\b|threadlint:|guarded-by"
    # Forks (TL402): a module that forks is judged against the threads of
    # the modules it imports, even when it uses no threading API itself.
    rb"|\b(?:fork|forkpty)\(|\bpreexec_fn\b|\bset_start_method\b"
    # Code that hands work to an event loop from other threads (TL501).
    rb"|\b(?:call_soon_threadsafe|run_coroutine_threadsafe)\b|_from_(?:thread|executor)\b"
    # A class whose docstring says it is thread-safe is a concurrent API
    # even in a module that imports nothing of threading.
    rb"|(?i:thread[- ]?safe)",
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
# more than the default 1000 frames.  Raised only while a file is analysed.
_RECURSION_LIMIT = 10_000

# The file is judged as `python file.py` would judge it: CPython 3.9-3.11
# scale the parser's nesting budget by the recursion limit, so the host parse
# runs under the interpreter's default limit, not the raised one above.
_DEFAULT_RECURSION_LIMIT = 1000

# Bounds on what reaches libcst (docs/design.md, "Limits").  libcst's native
# parser and our recursive walks cost far more per byte and per nesting level
# than CPython's parser, and it can crash on input CPython refuses.
#   - Above _MAX_CHECKED_BYTES a file is not even parsed by CPython (a dense
#     50 MB module takes minutes and many GB in `ast.parse`).
#   - Above _MAX_ANALYSED_BYTES it is syntax-checked but not analysed.
#   - A syntax tree nested deeper than _MAX_DEPTH (the standard library's
#     deepest is 33) is not analysed either: each level costs libcst and the
#     rules superlinear time and stack.
_MAX_CHECKED_BYTES = 5_000_000
_MAX_ANALYSED_BYTES = 2_000_000
_MAX_DEPTH = 400

_MB = 1_000_000


def analyze_source(
    path: str, module_name: str, source: bytes, settings: Settings, force: bool = False
) -> FileResult:
    """Lint one file; never raises (an internal error is returned in `error`).

    `force` analyses it even without a concurrency signal (the project link
    asks for modules that code running on threads calls into)."""
    result = FileResult(path=path, module_name=module_name, digest=sha256(source).hexdigest())
    previous_limit = sys.getrecursionlimit()
    try:
        _analyze(result, source, settings, force)
    except RecursionError:
        # A walk went deeper than the depth check foresaw (libcst nests some
        # constructs, such as implicitly concatenated strings, per operand).
        result.diagnostics = [not_analysed_diagnostic(path, "it is too deeply nested to analyse")]
        result.facts = {}
        result.analysed = False
    except MemoryError:
        result.diagnostics = [not_analysed_diagnostic(
            path, "analysing it needs more memory than this machine has to give"
        )]
        result.facts = {}
        result.analysed = False
    except Exception:
        result.diagnostics = []
        result.error = traceback.format_exc()
    finally:
        sys.setrecursionlimit(previous_limit)
    return result


def _analyze(result: FileResult, source: bytes, settings: Settings, force: bool = False) -> None:
    if is_skipped_file(source):
        result.skipped = True
        return
    result.suppressions = find_suppressions(source)
    if len(source) > _MAX_CHECKED_BYTES:
        result.diagnostics.append(not_analysed_diagnostic(
            result.path,
            f"it is too large to check ({len(source) / _MB:.1f} MB; threadlint parses "
            f"files up to {_MAX_CHECKED_BYTES // _MB} MB), so its syntax was not checked either",
        ))
        return
    tree, syntax_error = _host_parse(source)
    relevant = force or is_relevant(source, settings)
    if syntax_error is not None and not _libcst_may_judge(syntax_error, settings):
        result.diagnostics.append(_syntax_diagnostic(result.path, syntax_error, None, source))
        return
    if not relevant and syntax_error is None:
        return
    if len(source) > _MAX_ANALYSED_BYTES:
        if relevant:
            result.diagnostics.append(not_analysed_diagnostic(
                result.path,
                f"it is too large to analyse ({len(source) / _MB:.1f} MB; threadlint analyses "
                f"files up to {_MAX_ANALYSED_BYTES // _MB} MB); only its syntax was checked",
            ))
        return
    if tree is not None and _deeper_than(tree, _MAX_DEPTH):
        if relevant:
            result.diagnostics.append(not_analysed_diagnostic(
                result.path,
                f"it is too deeply nested to analyse (its syntax tree is more than "
                f"{_MAX_DEPTH} levels deep)",
            ))
        return
    sys.setrecursionlimit(max(sys.getrecursionlimit(), _RECURSION_LIMIT))
    try:
        module = cst.parse_module(source)
    except (cst.ParserSyntaxError, SyntaxError, UnicodeDecodeError, LookupError) as exc:
        if syntax_error is not None:
            result.diagnostics.append(_syntax_diagnostic(result.path, syntax_error, exc, source))
        elif relevant:
            result.diagnostics.append(not_analysed_diagnostic(
                result.path,
                f"threadlint's parser (libcst) rejects it though CPython "
                f"{sys.version_info[0]}.{sys.version_info[1]} accepts it: "
                f"{' '.join(_cst_message(exc).split())}",
            ))
        return
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:
        # A panic in libcst's native parser arrives as pyo3's PanicException,
        # which is not an Exception: the parser crashed on this file.
        result.diagnostics.append(not_analysed_diagnostic(
            result.path, f"the parser crashed ({type(exc).__name__}: {' '.join(str(exc).split())})"
        ))
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


def not_analysed_diagnostic(path: str, why: str) -> Diagnostic:
    """TL003: CPython accepts the file (or could not be asked), threadlint could not
    analyse it; `why` completes "could not be analysed: ...". It is about the
    whole file, so it covers the first line, whole (to the start of the
    second), which editors and SARIF viewers can show even when the file's
    text is not at hand (a worker that died)."""
    return Diagnostic(path, 1, 1, "TL003", f"could not be analysed: {why}", end_line=2, end_col=1)


def not_analysed(path: str, module_name: str, why: str) -> FileResult:
    """The result of a file whose analysis never finished (its worker died)."""
    result = FileResult(path=path, module_name=module_name)
    result.diagnostics.append(not_analysed_diagnostic(path, why))
    return result


def _deeper_than(tree: ast.AST, limit: int) -> bool:
    """Whether any node lies more than `limit` levels down (iterative: the
    point is to refuse trees too deep to recurse over)."""
    stack: list[tuple[ast.AST, int]] = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        depth += 1
        stack.extend((child, depth) for child in ast.iter_child_nodes(node))
    return False


def _libcst_may_judge(error: SyntaxError, settings: Settings) -> bool:
    """Whether libcst's parser, not CPython's verdict, decides a file the host rejects.

    Only when the code targets a newer Python than the one running threadlint
    (its syntax may be valid there), and never for CPython's resource limits
    (nesting, parser stack, recursion): those hold in every version, and
    libcst's native parser can crash on such input."""
    if isinstance(error, _ResourceLimit):
        return False
    target = _target_version(settings)
    return target is not None and target > sys.version_info[:2]


class _ResourceLimit(SyntaxError):
    """CPython refused the file for its size or depth, not its grammar."""


_TARGETS: dict[tuple[str | None, str | None], tuple[int, int] | None] = {}


def _target_version(settings: Settings) -> tuple[int, int] | None:
    key = (settings.target_version, settings.config_file)
    if key not in _TARGETS:
        _TARGETS[key] = target_version(settings)
    return _TARGETS[key]


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


def _place_nul(error: SyntaxError, source: bytes) -> None:
    """Older CPythons name no position for a NUL byte: give the first one's."""
    if error.lineno is None and b"\0" in source:
        before = source[: source.index(b"\0")]
        error.lineno = before.count(b"\n") + 1
        error.offset = len(before) - (before.rfind(b"\n") + 1) + 1


def _host_parse(source: bytes) -> tuple[ast.Module | None, SyntaxError | None]:
    """The C parser's tree (kept for positions) or its syntax error, judged as
    the interpreter judges a file it runs (under the default recursion limit)."""
    previous_limit = sys.getrecursionlimit()
    sys.setrecursionlimit(_DEFAULT_RECURSION_LIMIT)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escape sequences etc.
            return ast.parse(source), None
    except SyntaxError as exc:
        _place_nul(exc, source)
        if "too many nested parentheses" in str(exc.msg):
            limit = _ResourceLimit(exc.msg, (exc.filename, exc.lineno, exc.offset, exc.text))
            return None, limit
        return None, exc
    except (ValueError, UnicodeDecodeError) as exc:  # null bytes (up to 3.11), bad encodings
        error = SyntaxError(str(exc))
        _place_nul(error, source)
        return None, error
    except (RecursionError, MemoryError) as exc:
        # CPython's parser gives up on deep nesting (10,000 `elif`s, a very
        # long `a.b.b...` chain): the interpreter could not run this file.
        detail = str(exc) or "the parser ran out of memory"
        return None, _ResourceLimit(f"too deeply nested or complex for CPython to compile ({detail})")
    finally:
        sys.setrecursionlimit(previous_limit)


def _cst_message(error: Exception) -> str:
    if isinstance(error, cst.ParserSyntaxError):
        return error.message
    return str(error)


def _syntax_diagnostic(
    path: str, host_error: SyntaxError | None, cst_error: Exception | None, source: bytes
) -> Diagnostic:
    """TL001, preferring CPython's message (it names the problem best)."""
    if host_error is not None and host_error.lineno:
        line, col, message = host_error.lineno, host_error.offset or 1, host_error.msg
    elif isinstance(cst_error, cst.ParserSyntaxError):
        # CPython gave no position (null bytes): libcst's, with CPython's words.
        line, col = cst_error.raw_line, cst_error.raw_column + 1
        message = host_error.msg if host_error is not None else cst_error.message
    else:
        # An unknown coding cookie or a nesting limit has no position: line 1.
        line, col = 1, 1
        message = host_error.msg if host_error is not None else str(cst_error)
    message = " ".join(str(message).split())
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
