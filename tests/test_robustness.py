"""Hostile input: crashing workers, inputs CPython rejects, deep and huge files.

Whatever one file does, the run goes on with every other file and keeps
their findings; a file CPython rejects is TL001, one it accepts that
threadlint could not analyse is TL003.
"""

from __future__ import annotations

import ast
import faulthandler
import multiprocessing
import os
import signal
import sys
from pathlib import Path

import libcst
import pytest
from cli_helpers import BAD, BAD_COL, BAD_LINE, run_cli, write_tree

import threadlint.analysis.per_file as per_file
import threadlint.runner
from threadlint.analysis.per_file import analyze_source
from threadlint.config import Settings

forked = pytest.mark.skipif(
    multiprocessing.get_start_method() != "fork",
    reason="the crash hook is patched in before the workers fork",
)


def _codes(source: str | bytes, settings: Settings | None = None) -> list[tuple[str, str]]:
    raw = source.encode() if isinstance(source, str) else source
    result = analyze_source("m.py", "m", raw, settings or Settings())
    assert result.error is None, result.error
    return [(d.code, d.message) for d in result.diagnostics]


def _host_accepts(source: str) -> bool:
    """Whether `python file.py` would compile it (default recursion limit)."""
    previous = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)
    try:
        ast.parse(source)
        return True
    except (SyntaxError, RecursionError, MemoryError, ValueError):
        return False
    finally:
        sys.setrecursionlimit(previous)


@pytest.fixture
def libcst_forbidden(monkeypatch: pytest.MonkeyPatch) -> None:
    """libcst's native parser must not see the input (it can segfault on it)."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("libcst was asked to parse a file CPython rejects")

    monkeypatch.setattr(per_file.cst, "parse_module", refuse)


# -- crash isolation -----------------------------------------------------


@pytest.fixture
def crashing_worker(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A worker analysing a file that contains SEGFAULT_ME dies of SIGSEGV,
    ABORT_ME aborts, and CRASH_ONCE dies only the first time (the marker file
    returned is created then), as a worker killed for another's crash does."""
    marker = tmp_path.parent / f"{tmp_path.name}-crashed-once"
    real = threadlint.runner.analyze_source

    def crashing(path: str, module: str, source: bytes, *args, **kwargs):  # type: ignore[no-untyped-def]
        if b"SEGFAULT_ME" in source:
            _die(signal.SIGSEGV)
        if b"ABORT_ME" in source:
            _die(signal.SIGABRT)
        if b"CRASH_ONCE" in source and not marker.exists():
            marker.touch()
            _die(signal.SIGKILL)
        return real(path, module, source, *args, **kwargs)

    monkeypatch.setattr(threadlint.runner, "analyze_source", crashing)
    return marker


def _die(signum: int) -> None:
    faulthandler.disable()  # pytest's, inherited: no traceback dump from the worker
    if signum == signal.SIGABRT:
        os.abort()
    os.kill(os.getpid(), signum)


@forked
@pytest.mark.parametrize("jobs", ["-j1", "-j2", "-j3"])
def test_a_crashing_file_costs_only_that_file(
    tmp_path: Path, crashing_worker: Path, jobs: str
) -> None:
    files: dict[str, str | bytes] = {f"ok{n}.py": BAD for n in range(6)}
    files["segv.py"] = BAD + "# SEGFAULT_ME\n"
    files["abort.py"] = BAD + "# ABORT_ME\n"
    write_tree(tmp_path, files)
    run = run_cli([jobs, "--no-cache"], tmp_path)
    assert run.findings() == sorted(
        [("abort.py", 1, 1, "TL003"), ("segv.py", 1, 1, "TL003")]
        + [(f"ok{n}.py", BAD_LINE, BAD_COL, "TL203") for n in range(6)]
    )
    assert "abort.py:1:1: TL003 could not be analysed: the parser crashed" in run.stdout
    assert "killed by SIGSEGV" in run.stdout and "killed by SIGABRT" in run.stdout
    assert "internal error" not in run.stderr
    assert run.exit_code == 1


@forked
def test_a_file_killed_once_is_retried_alone_and_keeps_its_findings(
    tmp_path: Path, crashing_worker: Path
) -> None:
    write_tree(tmp_path, {"a.py": BAD, "flaky.py": BAD + "# CRASH_ONCE\n", "z.py": BAD})
    run = run_cli(["-j1", "--no-cache"], tmp_path)
    assert crashing_worker.exists()  # it did die once
    assert run.codes() == [("a.py", "TL203"), ("flaky.py", "TL203"), ("z.py", "TL203")]
    assert run.exit_code == 1


@forked
def test_a_crash_alone_is_exit_1_and_shows_in_json(tmp_path: Path, crashing_worker: Path) -> None:
    write_tree(tmp_path, {"segv.py": "x = 1  # SEGFAULT_ME\n"})
    run = run_cli(["-j1", "--no-cache", "--format", "json"], tmp_path)
    assert run.exit_code == 1
    assert '"code": "TL003"' in run.stdout


def test_nested_parentheses_crash_no_worker(tmp_path: Path) -> None:
    # 2,000 nested parentheses segfaulted libcst's native parser, killing the run.
    write_tree(tmp_path, {
        "deep.py": "import threading\nx = " + "(" * 2000 + "1" + ")" * 2000 + "\n",
        "a.py": BAD,
    })
    for jobs in ("-j1", "-j2"):
        run = run_cli([jobs, "--no-cache"], tmp_path)
        assert run.codes() == [("a.py", "TL203"), ("deep.py", "TL001")], jobs
        assert "too many nested parentheses" in run.stdout
        assert run.exit_code == 1


# -- TL001 agrees with CPython -------------------------------------------


@pytest.mark.parametrize("depth", [201, 500, 1000, 2000])
def test_too_many_parentheses_is_tl001_and_never_reaches_libcst(
    depth: int, libcst_forbidden: None
) -> None:
    source = "import threading\nx = " + "(" * depth + "1" + ")" * depth + "\n"
    assert _codes(source) == [("TL001", "syntax error: too many nested parentheses")]


@pytest.mark.parametrize(
    "source, line",
    [
        ("import threading\n# a\0b\nx = 1\n", 2),
        ("import threading\nx = 'a\0b'\n", 2),
        ("x = 1\ny = 2  # \0\n", 2),  # no concurrency signal: still checked
    ],
)
def test_nul_bytes_are_tl001(source: str, line: int, libcst_forbidden: None) -> None:
    result = analyze_source("m.py", "m", source.encode(), Settings())
    assert [(d.code, d.line) for d in result.diagnostics] == [("TL001", line)]
    assert "null bytes" in result.diagnostics[0].message


def test_elif_chain_cpython_cannot_compile_is_tl001(libcst_forbidden: None) -> None:
    source = "import threading\nif x:\n    pass\n" + "elif x:\n    pass\n" * 10_000
    codes = _codes(source)
    assert [code for code, _ in codes] == ["TL001"]
    assert "too deeply nested or complex for CPython" in codes[0][1]


@pytest.mark.parametrize(
    "source",
    [
        "import threading\nif x:\n\f    pass\n",
        "import threading\nif x:\n  \f  pass\n",
        "\fimport threading\nlock = threading.Lock()\n",
    ],
)
def test_form_feed_in_indentation_is_not_tl001(source: str) -> None:
    assert _host_accepts(source)
    assert _codes(source) == []


def test_many_implicitly_concatenated_strings_are_not_tl001() -> None:
    source = "import threading\nx = (" + " ".join(['"a"'] * 5000) + ")\n"
    assert _host_accepts(source)
    codes = _codes(source)
    # libcst rejects (or cannot nest) this many operands: TL003, never TL001.
    assert all(code == "TL003" for code, _ in codes), codes


def test_libcst_rejecting_what_cpython_accepts_is_tl003_not_tl001(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def reject(source: bytes) -> None:
        raise libcst.ParserSyntaxError("unexpected token", lines=["x"], raw_line=1, raw_column=0)

    monkeypatch.setattr(per_file.cst, "parse_module", reject)
    codes = _codes("import threading\nx = 1\n")
    assert [code for code, _ in codes] == ["TL003"]
    assert "libcst" in codes[0][1] and "CPython" in codes[0][1]
    # A file without a concurrency signal never reaches libcst: no finding.
    assert _codes("x = 1\n") == []


def test_a_panic_in_libcsts_parser_is_tl003(monkeypatch: pytest.MonkeyPatch) -> None:
    class PanicException(BaseException):  # what pyo3 raises for a Rust panic
        pass

    def panic(source: bytes) -> None:
        raise PanicException("index out of bounds")

    monkeypatch.setattr(per_file.cst, "parse_module", panic)
    assert _codes("import threading\nx = 1\n") == [(
        "TL003",
        "could not be analysed: the parser crashed (PanicException: index out of bounds)",
    )]


def test_running_out_of_memory_in_the_analysis_is_tl003(monkeypatch: pytest.MonkeyPatch) -> None:
    def exhausted(*args: object) -> None:
        raise MemoryError

    monkeypatch.setattr(per_file, "collect_facts", exhausted)
    assert _codes("import threading\nx = 1\n") == [(
        "TL003",
        "could not be analysed: analysing it needs more memory than this machine has to give",
    )]


# Syntax that one CPython accepts and an older one rejects, with libcst's support.
_NEWER_SYNTAX = [
    ((3, 12), "import threading\ntype Pair = tuple[int, int]\n"),
    ((3, 10), "import threading\nmatch x:\n    case 1:\n        pass\n"),
]


@pytest.mark.parametrize("needs, source", _NEWER_SYNTAX)
def test_syntax_newer_than_the_host_is_judged_by_the_target_version(
    needs: tuple[int, int], source: str
) -> None:
    if sys.version_info[:2] >= needs:
        pytest.skip(f"this CPython accepts {needs} syntax")
    # No target version, or an older one: CPython's verdict stands.
    assert [code for code, _ in _codes(source)] == ["TL001"]
    older = Settings(target_version=f"{sys.version_info[0]}.{sys.version_info[1]}")
    assert [code for code, _ in _codes(source, older)] == ["TL001"]
    # Code for a newer Python than this one: libcst's grammar judges, and accepts.
    newer = Settings(target_version=f"{needs[0]}.{needs[1]}")
    assert _codes(source, newer) == []


def test_resource_limits_hold_even_for_a_newer_target(libcst_forbidden: None) -> None:
    source = "import threading\nx = " + "(" * 300 + "1" + ")" * 300 + "\n"
    assert [code for code, _ in _codes(source, Settings(target_version="3.99"))] == ["TL001"]


# -- deep and huge inputs --------------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        "import threading\nx = a" + ".b" * 10_000 + "\n",
        "import threading\nx = f" + "()" * 5_000 + "\n",
        "import threading\nx = " + " + ".join(["1"] * 20_000) + "\n",
        "import threading\nx = a" + ".b" * 1_000 + "\n",
        "import threading\nx = " + " + ".join(["1"] * 1_000) + "\n",
        "import threading\nx = a" + "[0]" * 1_000 + "\n",
        "import threading\nx = " + "not " * 1_000 + "1\n",
    ],
    ids=["attr-10k", "calls-5k", "plus-20k", "attr-1k", "plus-1k", "subscript-1k", "not-1k"],
)
def test_deep_input_is_a_clean_finding(source: str) -> None:
    codes = _codes(source)
    if _host_accepts(source):
        assert codes == [(
            "TL003",
            "could not be analysed: it is too deeply nested to analyse "
            "(its syntax tree is more than 400 levels deep)",
        )]
    else:
        assert [code for code, _ in codes] == ["TL001"]
        assert "too deeply nested or complex for CPython" in codes[0][1]


def test_nesting_within_the_limit_is_analysed(tmp_path: Path) -> None:
    chain = " + ".join(["n"] * 300)
    source = (
        "import threading\n\ncount = 0\n\n\ndef work(n):\n    global count\n"
        f"    count += {chain}\n    return count\n\n\n"
        "def spawn():\n"
        "    for _ in range(4):\n"
        "        threading.Thread(target=work, args=(1,), daemon=True).start()\n"
    )
    write_tree(tmp_path, {"m.py": source})
    assert run_cli(["-j1", "--no-cache"], tmp_path).codes() == [("m.py", "TL102")]


def test_a_file_too_large_to_check_is_tl003_at_once(libcst_forbidden: None) -> None:
    source = b"import threading\n" + b"x = 1\n" * 1_000_000  # 6 MB
    codes = _codes(source)
    assert [code for code, _ in codes] == ["TL003"]
    assert "too large to check (6.0 MB" in codes[0][1]


def test_a_large_file_is_syntax_checked_but_not_analysed(libcst_forbidden: None) -> None:
    body = b"x = 1\ndata = '" + b"a" * 2_400_000 + b"'\n"  # 2.4 MB, cheap to parse
    relevant = _codes(b"import threading\n" + body)
    assert [code for code, _ in relevant] == ["TL003"]
    assert "only its syntax was checked" in relevant[0][1]
    assert _codes(body) == []  # no concurrency signal: only checked, as any file
    assert [code for code, _ in _codes(body + b"def (\n")] == ["TL001"]


def test_the_recursion_limit_is_restored() -> None:
    before = sys.getrecursionlimit()
    _codes(BAD)
    assert sys.getrecursionlimit() == before


_REAL_CHUNK = threadlint.runner._analyze_chunk


def _chunk_failing_on_bug(chunk, *args, **kwargs):  # type: ignore[no-untyped-def]
    """A chunk whose result cannot come back (module-level: tasks are pickled)."""
    if any(job[0].startswith("bug") for _, job in chunk):
        raise ValueError("cannot send this result back")
    return _REAL_CHUNK(chunk, *args, **kwargs)


@forked
def test_a_failing_chunk_is_an_internal_error_not_a_retry_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(threadlint.runner, "_analyze_chunk", _chunk_failing_on_bug)
    write_tree(tmp_path, {"a.py": BAD, "bug.py": BAD})
    run = run_cli(["-j2", "--no-cache"], tmp_path)
    assert run.exit_code == 2
    assert "internal error while linting bug.py: ValueError: cannot send this result back" in run.stderr
    assert ("a.py", "TL203") in run.codes()


def test_a_delay_too_large_for_a_float_is_a_long_one() -> None:
    huge = "9" * 400
    source = (
        "import threading, time\n"
        f"threading.Timer({huge}, print).start()\n"
        "def nap():\n"
        f"    time.sleep({huge})\n"
        "threading.Thread(target=nap).start()\n"
    )
    found = _codes(source, Settings(select=("TL201",)))
    assert [code for code, _ in found] == ["TL201", "TL201"]
    assert "it is a Timer of" in found[0][1] and "it sleeps in" in found[1][1]
