"""Suppression comments: noqa, threadlint: ignore[...], skip-file, and TL002."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_helpers import BAD, BAD_LINE, PY2, run_cli, write_tree

from threadlint.suppress import find_suppressions, is_skipped_file

LINES = BAD.splitlines()


def _with_comment(comment: str, line: int = BAD_LINE) -> str:
    lines = list(LINES)
    lines[line - 1] += "  " + comment
    return "\n".join(lines) + "\n"


def _lint_line(tmp_path: Path, comment: str, *args: str) -> list:
    write_tree(tmp_path, {"a.py": _with_comment(comment)})
    return run_cli(["-j1", *args], tmp_path).codes()


@pytest.mark.parametrize(
    "comment",
    [
        "# noqa",
        "#noqa",
        "# NOQA",
        "# noqa: TL203",
        "# noqa:TL203",
        "# noqa: tl203",
        "# noqa: TL2",
        "# noqa: E501,TL203",
        "# noqa: E501, TL203",
        "# noqa: E501 TL203",
        "# noqa - the tuple is built elsewhere",
        "# type: ignore  # noqa: TL203",
        "# threadlint: ignore[TL203]",
        "# threadlint: ignore[TL201, TL203]",
        "# threadlint: ignore",
        "# threadlint: ignore[tl203]",
    ],
)
def test_suppressed(tmp_path: Path, comment: str) -> None:
    assert _lint_line(tmp_path, comment) == []


@pytest.mark.parametrize(
    "comment",
    [
        "# noqa:E501",
        "# noqa: E501",
        "# noqa: TL201",
        "# noqa: TL2031",
        "# threadlint: ignore[TL201]",
    ],
)
def test_not_suppressed(tmp_path: Path, comment: str) -> None:
    assert _lint_line(tmp_path, comment) == [("a.py", "TL203")]


def test_suppression_is_per_line(tmp_path: Path) -> None:
    # On the line before or after the finding, a noqa does nothing.
    write_tree(
        tmp_path,
        {
            "before.py": _with_comment("# noqa: TL203", BAD_LINE - 1),
            "after.py": _with_comment("# noqa", BAD_LINE + 1),
        },
    )
    codes = run_cli(["-j1"], tmp_path).codes()
    assert codes == [("after.py", "TL203"), ("before.py", "TL203")]


def test_skip_file(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "skipped.py": "# threadlint: skip-file\n" + BAD,
            "skipped_py2.py": "#threadlint:skip-file\n" + PY2,
            "late.py": BAD + "\n# threadlint: skip-file\n",
            "mentioned.py": BAD.replace("import threading", "import threading  # threadlint: skip-file is not this"),
            "kept.py": BAD,
        },
    )
    codes = run_cli(["-j1"], tmp_path).codes()
    assert ("kept.py", "TL203") in codes
    assert ("mentioned.py", "TL203") in codes
    assert not any(path.startswith("skipped") for path, _ in codes)
    # As ruff's file-level directive, it counts on any line of its own.
    assert ("late.py", "TL203") not in codes


def test_unused_suppression_tl002_is_opt_in(tmp_path: Path) -> None:
    source = (
        _with_comment("# noqa: TL203, TL201")  # TL203 used, TL201 unused
        + "x = 1  # noqa: TL203\n"  # unused
        + "y = 2  # noqa\n"  # blanket: not judged
        + "z = 3  # noqa: E501\n"  # another tool's: not judged
        + "w = 4  # threadlint: ignore[TL203]\n"  # unused
        + _with_comment("# noqa: TL203").splitlines()[BAD_LINE - 1].strip() + "\n"  # used
    )
    write_tree(tmp_path, {"a.py": source})
    assert run_cli(["-j1"], tmp_path).codes() == []
    run = run_cli(["-j1", "--extend-select", "TL002"], tmp_path)
    end = len(LINES)
    assert [(line, code) for _, line, _, code in run.findings()] == [
        (BAD_LINE, "TL002"),
        (end + 1, "TL002"),
        (end + 4, "TL002"),
    ]
    messages = run.stdout.splitlines()
    assert "TL201" in messages[0] and "TL203" not in messages[0]
    assert "TL203" in messages[1] and "TL203" in messages[2]
    # A code whose rule is not enabled is not judged.
    narrowed = run_cli(["-j1", "--select", "TL001,TL002"], tmp_path)
    assert narrowed.codes() == []


def test_tl002_itself_can_be_suppressed(tmp_path: Path) -> None:
    write_tree(tmp_path, {"a.py": "x = 1  # noqa: TL203, TL002\n"})
    assert run_cli(["-j1", "--extend-select", "TL002"], tmp_path).codes() == []


def test_find_suppressions() -> None:
    source = (
        b"a = 1  # noqa\n"
        b"b = 2  # noqa: TL101,TL102\n"
        b"c = 3\n"
        b"d = 4  # threadlint: ignore[TL201] # noqa: TL202\n"
        b"e = 5  # noqa:E501\n"
        b"f = '\xff'  # noqa: TL203\n"
    )
    found = find_suppressions(source)
    assert found[1].codes is None
    assert found[2].codes == frozenset({"TL101", "TL102"})
    assert 3 not in found
    assert found[4].codes == frozenset({"TL201", "TL202"})
    assert found[5].covers("E501") and not found[5].covers("TL203")
    assert found[6].covers("TL203")
    assert find_suppressions(b"x = 1\n") == {}


def test_is_skipped_file() -> None:
    assert is_skipped_file(b"# threadlint: skip-file\nx = 1\n")
    assert is_skipped_file(b'"""Doc."""\n  #  threadlint:  skip-file\n')
    assert not is_skipped_file(b"x = 1  # threadlint: skip-file\n")
    assert not is_skipped_file(b"# threadlint: skip-files-please\n")
