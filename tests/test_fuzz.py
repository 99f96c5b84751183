"""Property tests on generated and mangled programs: threadlint never fails
internally, and says the same thing every time it is asked.

Generated programs come from hypothesmith (grammar-driven, so most do not
compile, which is the point: TL001 must hold up too); mangled ones are the
fixture files truncated, with bytes flipped, and nested deeper.  Everything
is derandomized, so a failure here fails the same way in CI.
"""

from __future__ import annotations

import random
from pathlib import Path

import hypothesmith
import pytest
from cli_helpers import run_cli, write_tree
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from threadlint.analysis.per_file import FileResult, analyze_source
from threadlint.config import Settings
from threadlint.runner import finish

FIXTURE_FILES = sorted((Path(__file__).parent / "fixtures").rglob("*.py"))
FIXTURE_SOURCES = [path.read_bytes() for path in FIXTURE_FILES]

EVERYTHING = Settings(select=("ALL",), preview=True)

_FUZZ = settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=20,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _lint(source: bytes) -> tuple[FileResult, list[tuple[int, int, str, str]]]:
    result = analyze_source("fuzzed.py", "fuzzed", source, EVERYTHING)
    assert result.error is None, result.error
    run = finish([result], EVERYTHING)
    assert run.errors == [], run.errors
    return result, [(d.line, d.col, d.code, d.message) for d in run.diagnostics]


def _lint_twice(source: bytes) -> list[tuple[int, int, str, str]]:
    _, first = _lint(source)
    _, second = _lint(source)
    assert first == second
    return first


# -- generated programs ---------------------------------------------------------

# A concurrency import makes every generated program worth a full analysis.
_PRELUDE = "import threading\nfrom concurrent.futures import ThreadPoolExecutor\n"


# hypothesmith compiles what it generates, and CPython warns about some of it.
@pytest.mark.filterwarnings("ignore::SyntaxWarning")
@_FUZZ
@given(hypothesmith.from_grammar())
def test_grammar_generated_programs(source: str) -> None:
    _lint_twice((_PRELUDE + source).encode("utf-8", "surrogatepass"))


# libcst-built programs are slow to generate: fewer of them.
@settings(_FUZZ, max_examples=4)
@given(hypothesmith.from_node())
def test_libcst_generated_programs(source: str) -> None:
    _lint_twice((_PRELUDE + source).encode("utf-8", "surrogatepass"))


# -- mangled fixtures ---------------------------------------------------------

fixture_index = st.integers(min_value=0, max_value=len(FIXTURE_SOURCES) - 1)


@_FUZZ
@given(fixture_index, st.floats(min_value=0.0, max_value=1.0))
def test_truncated_fixtures(which: int, fraction: float) -> None:
    source = FIXTURE_SOURCES[which]
    _lint_twice(source[: int(len(source) * fraction)])


@_FUZZ
@given(
    fixture_index,
    st.lists(st.tuples(st.floats(0.0, 1.0), st.integers(1, 255)), min_size=1, max_size=4),
)
def test_byte_flipped_fixtures(which: int, flips: list[tuple[float, int]]) -> None:
    source = bytearray(FIXTURE_SOURCES[which])
    for where, mask in flips:
        if source:
            source[min(int(len(source) * where), len(source) - 1)] ^= mask
    _lint_twice(bytes(source))


def _nest(source: bytes, how: str, depth: int) -> bytes:
    """The fixture inside `depth` levels of a block, or as a deeply bracketed value."""
    if how == "brackets":
        return source + b"\nvalue = " + b"[" * depth + b"0" + b"]" * depth + b"\n"
    header = {"if": b"if True:", "def": b"def outer():", "class": b"class Outer:"}[how]
    out = []
    for level in range(depth):
        out.append(b" " * level + header)
    indent = b" " * depth
    out.extend(indent + line if line.strip() else line for line in source.splitlines())
    return b"\n".join(out) + b"\n"


@_FUZZ
@given(
    fixture_index,
    st.sampled_from(["if", "def", "class", "brackets"]),
    st.integers(min_value=1, max_value=60),
)
def test_nested_fixtures(which: int, how: str, depth: int) -> None:
    _lint_twice(_nest(FIXTURE_SOURCES[which], how, depth))


def test_worker_processes_agree_with_each_other(tmp_path: Path) -> None:
    """-j1 (one worker) and -j2 give the same report on a tree of mangled files."""
    rng = random.Random(9)
    files: dict[str, str | bytes] = {}
    for n, source in enumerate(FIXTURE_SOURCES):
        mangled = bytearray(source)
        kind = n % 3
        if kind == 0:
            mangled = mangled[: rng.randrange(len(mangled) + 1)]
        elif kind == 1 and mangled:
            mangled[rng.randrange(len(mangled))] ^= rng.randrange(1, 256)
        else:
            mangled = bytearray(_nest(source, rng.choice(["if", "def", "brackets"]), 30))
        files[f"m{n:03d}.py"] = bytes(mangled)
    write_tree(tmp_path, files)
    one = run_cli(["-j1", "--no-cache", "--isolated", "--select", "ALL", "--preview"], tmp_path)
    two = run_cli(["-j2", "--no-cache", "--isolated", "--select", "ALL", "--preview"], tmp_path)
    assert "internal error" not in one.stderr + two.stderr
    assert (one.exit_code, one.stdout) == (two.exit_code, two.stdout)
    assert one.exit_code == 1 and "TL001" in one.stdout  # the mangling did break files


@pytest.mark.parametrize("index", range(len(FIXTURE_SOURCES)))
def test_every_fixture_prefix_of_each_line(index: int) -> None:
    """Cut each fixture at every line end: each prefix is a plausible file
    being typed in an editor; none may fail internally."""
    source = FIXTURE_SOURCES[index]
    ends = [i + 1 for i, byte in enumerate(source) if byte == ord("\n")]
    for end in ends[:: max(1, len(ends) // 4)]:
        _lint(source[:end])
