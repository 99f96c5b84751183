"""`--fix`, `--diff` and `--unsafe-fixes`: edits applied safely, files written in place after checks."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from cli_helpers import run_cli, write_tree

from threadlint.analysis.per_file import analyze_source
from threadlint.config import Settings
from threadlint.diagnostics import Diagnostic, Edit, Fix
from threadlint.fix import apply_edits, fix_run, fix_text, unified_diff, write_in_place
from threadlint.runner import finish
from threadlint.source_text import SourceCache

RACY = """\
import threading


def fetch(url):
    return url


def start(url, host):
    threads = [
        threading.Thread(target=fetch, args=(url)),
        threading.Thread(target=fetch, args=(host)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
"""

FIXED = RACY.replace("args=(url)", "args=(url,)").replace("args=(host)", "args=(host,)")

ONLY_TL203 = ["-j1", "--select", "TL203"]


def test_fix_rewrites_the_file_and_reports_what_remains(tmp_path: Path) -> None:
    write_tree(tmp_path, {"racy.py": RACY, "clean.py": FIXED})
    run = run_cli([*ONLY_TL203, "--fix"], tmp_path)
    assert (tmp_path / "racy.py").read_text(encoding="utf-8") == FIXED
    assert run.exit_code == 0
    assert run.stdout == ""
    assert "Found 2 problems (2 fixed, 0 remaining)." in run.stderr
    # A second run finds nothing left to fix.
    again = run_cli([*ONLY_TL203, "--fix"], tmp_path)
    assert again.exit_code == 0
    assert "No problems found in 2 files." in again.stderr


def test_fix_keeps_findings_without_a_fix_and_exits_1(tmp_path: Path) -> None:
    # TL001 (syntax error) has no fix; it is still reported after --fix.
    write_tree(tmp_path, {"racy.py": RACY, "old.py": 'print "hi"\n'})
    run = run_cli(["-j1", "--select", "TL001,TL203", "--fix"], tmp_path)
    assert run.exit_code == 1
    assert run.codes() == [("old.py", "TL001")]
    assert "(2 fixed, 1 remaining)" in run.stderr


def test_diff_prints_a_unified_diff_and_changes_nothing(tmp_path: Path) -> None:
    write_tree(tmp_path, {"racy.py": RACY})
    run = run_cli([*ONLY_TL203, "--diff"], tmp_path)
    assert run.exit_code == 1
    assert (tmp_path / "racy.py").read_text(encoding="utf-8") == RACY
    assert run.stdout.startswith("--- racy.py\n+++ racy.py\n@@ ")
    assert "-        threading.Thread(target=fetch, args=(url))," in run.stdout
    assert "+        threading.Thread(target=fetch, args=(url,))," in run.stdout
    assert "Would fix 2 problems in 1 file." in run.stderr
    # The printed diff applies cleanly to give the fixed file.
    assert unified_diff("racy.py", RACY, FIXED) == run.stdout


def test_diff_without_fixes_exits_0(tmp_path: Path) -> None:
    write_tree(tmp_path, {"clean.py": FIXED})
    run = run_cli([*ONLY_TL203, "--diff"], tmp_path)
    assert (run.exit_code, run.stdout) == (0, "")
    assert "No fixes available." in run.stderr


def test_fix_from_stdin_prints_the_fixed_source(tmp_path: Path) -> None:
    run = run_cli([*ONLY_TL203, "--fix", "-", "--stdin-filename", "x.py"], tmp_path, stdin=RACY)
    assert run.exit_code == 0
    assert run.stdout == FIXED
    assert not (tmp_path / "x.py").exists()


def test_fix_preserves_mode_line_endings_and_encoding(tmp_path: Path) -> None:
    source = "# -*- coding: latin-1 -*-\r\n" + RACY.replace("\n", "\r\n").replace(
        "def fetch(url):", "def fetch(url):  # café"
    )
    path = tmp_path / "legacy.py"
    path.write_bytes(source.encode("latin-1"))
    os.chmod(path, 0o640)
    run = run_cli([*ONLY_TL203, "--fix"], tmp_path)
    assert run.exit_code == 0, run.stderr
    data = path.read_bytes()
    assert data == source.replace("(url))", "(url,))").replace("(host))", "(host,))").encode(
        "latin-1"
    )
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert not list(tmp_path.glob(".threadlint-*.tmp"))  # no temporary file left


def test_fix_through_a_symlink_keeps_the_link(tmp_path: Path) -> None:
    write_tree(tmp_path, {"real/racy.py": RACY})
    (tmp_path / "link.py").symlink_to(tmp_path / "real" / "racy.py")
    run = run_cli([*ONLY_TL203, "--fix", "link.py"], tmp_path)
    assert run.exit_code == 0
    assert (tmp_path / "link.py").is_symlink()
    assert (tmp_path / "real" / "racy.py").read_text(encoding="utf-8") == FIXED


# --- never harm a file ------------------------------------------------------------


def test_a_file_edited_during_the_run_is_left_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threadlint.cli

    write_tree(tmp_path, {"racy.py": RACY, "other.py": RACY})
    users_edit = RACY.replace("def fetch(url):", "def fetch(url):  # the user's new line")
    real_fix_run = threadlint.cli.fix_run

    def edit_then_fix(*args, **kwargs):  # type: ignore[no-untyped-def]
        # Between the analysis and the fix, the user saves the file.
        (tmp_path / "racy.py").write_text(users_edit, encoding="utf-8")
        return real_fix_run(*args, **kwargs)

    monkeypatch.setattr(threadlint.cli, "fix_run", edit_then_fix)
    run = run_cli([*ONLY_TL203, "--fix"], tmp_path)
    assert (tmp_path / "racy.py").read_text(encoding="utf-8") == users_edit
    assert (tmp_path / "other.py").read_text(encoding="utf-8") == FIXED
    assert "threadlint: warning: racy.py: not fixed: the file changed since threadlint read it" in (
        run.stderr
    )
    assert run.exit_code == 1  # its findings are still reported
    assert {path for path, _ in run.codes()} == {"racy.py"}


def test_fix_never_writes_through_a_link_out_of_the_paths_given(tmp_path: Path) -> None:
    write_tree(tmp_path, {"outside/racy.py": RACY, "project/inside/racy.py": RACY})
    project = tmp_path / "project"
    (project / "out.py").symlink_to(tmp_path / "outside" / "racy.py")
    (project / "in.py").symlink_to(project / "inside" / "racy.py")
    run = run_cli([*ONLY_TL203, "--fix", "."], project)
    assert (tmp_path / "outside" / "racy.py").read_text(encoding="utf-8") == RACY
    assert (project / "inside" / "racy.py").read_text(encoding="utf-8") == FIXED
    assert (project / "out.py").is_symlink() and (project / "in.py").is_symlink()
    outside = tmp_path / "outside" / "racy.py"
    assert (
        f"threadlint: error: out.py: not fixed: it is a link to {outside}, outside the paths given"
        in run.stderr
    )
    assert run.exit_code == 2


def test_fix_refuses_a_read_only_file_and_does_not_chmod_it(tmp_path: Path) -> None:
    write_tree(tmp_path, {"racy.py": RACY, "other.py": RACY})
    (tmp_path / "racy.py").chmod(0o444)
    run = run_cli([*ONLY_TL203, "--fix"], tmp_path)
    assert (tmp_path / "racy.py").read_text(encoding="utf-8") == RACY
    assert stat.S_IMODE((tmp_path / "racy.py").stat().st_mode) == 0o444
    assert (tmp_path / "other.py").read_text(encoding="utf-8") == FIXED
    assert (
        "threadlint: error: racy.py: not fixed: the file is read-only; make it writable to fix it"
        in run.stderr
    )
    assert run.exit_code == 2


def test_fix_keeps_the_inode_owner_mode_and_hard_links(tmp_path: Path) -> None:
    write_tree(tmp_path, {"racy.py": RACY})
    path = tmp_path / "racy.py"
    os.link(path, tmp_path / "same.txt")
    path.chmod(0o604)
    if os.geteuid() == 0:
        os.chown(path, 4321, 4322)
    before = path.stat()
    run = run_cli([*ONLY_TL203, "--fix", "racy.py"], tmp_path)
    assert run.exit_code == 0, run.stderr
    after = path.stat()
    assert (after.st_ino, after.st_nlink, after.st_mode, after.st_uid, after.st_gid) == (
        before.st_ino, 2, before.st_mode, before.st_uid, before.st_gid
    )
    assert (tmp_path / "same.txt").read_text(encoding="utf-8") == FIXED
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".threadlint-")]


def test_fix_keeps_a_byte_order_mark(tmp_path: Path) -> None:
    (tmp_path / "bom.py").write_bytes(b"\xef\xbb\xbf" + RACY.encode("utf-8"))
    run = run_cli([*ONLY_TL203, "--fix"], tmp_path)
    assert run.exit_code == 0, run.stderr
    assert (tmp_path / "bom.py").read_bytes() == b"\xef\xbb\xbf" + FIXED.encode("utf-8")


def test_fix_from_cached_results_checks_the_same_bytes(tmp_path: Path) -> None:
    write_tree(tmp_path, {"racy.py": RACY})
    assert run_cli(ONLY_TL203, tmp_path).exit_code == 1  # fills the cache
    run = run_cli([*ONLY_TL203, "--fix"], tmp_path)  # served from it
    assert run.exit_code == 0, run.stderr
    assert (tmp_path / "racy.py").read_text(encoding="utf-8") == FIXED


# --- the machinery -------------------------------------------------------------


def _diag(line: int, col: int, end_line: int, end_col: int, text: str, safe: bool = True) -> Diagnostic:
    edit = Edit(line, col, end_line, end_col, text)
    return Diagnostic("m.py", line, col, "TL203", "m", fix=Fix("f", (edit,), safe))


def test_apply_edits_positions_are_1_based_and_end_exclusive() -> None:
    text = "ab\ncd\r\nef"
    assert apply_edits(text, [Edit(1, 2, 1, 3, "X")]) == "aX\ncd\r\nef"
    assert apply_edits(text, [Edit(2, 1, 3, 1, "")]) == "ab\nef"
    assert apply_edits(text, [Edit(3, 3, 3, 3, "!")]) == "ab\ncd\r\nef!"
    # Several edits, given in any order, all refer to the original text.
    assert apply_edits(text, [Edit(3, 1, 3, 2, "E"), Edit(1, 1, 1, 2, "A")]) == "Ab\ncd\r\nEf"


def test_a_fix_that_would_not_parse_is_never_applied() -> None:
    text = "x = (1)\ny = (2)\n"
    good = _diag(1, 5, 1, 8, "(1,)")
    broken = _diag(2, 5, 2, 8, "(2,")
    new, applied, rejected = fix_text(text, [good, broken])
    assert new == "x = (1,)\ny = (2)\n"
    assert (applied, rejected) == ([good], [broken])
    assert fix_text(text, [broken]) == (text, [], [broken])


def test_overlapping_fixes_wait_for_the_next_round() -> None:
    text = "x = (1)\n"
    first = _diag(1, 5, 1, 8, "(1,)")
    overlapping = _diag(1, 1, 1, 8, "z = 0")
    new, applied, rejected = fix_text(text, [overlapping, first])
    assert len(applied) == 1 and rejected == []
    assert new in ("x = (1,)\n", "z = 0\n")


def test_unsafe_fixes_apply_only_when_asked(tmp_path: Path) -> None:
    path = tmp_path / "m.py"
    path.write_text("x = (1)\n", encoding="utf-8")
    settings = Settings(root=str(tmp_path), select=("TL203",))

    def outcome(unsafe: bool) -> int:
        analysed = analyze_source(str(path), "m", path.read_bytes(), settings)
        result = finish([analysed], settings)
        unsafe_fix = Diagnostic(
            str(path), 1, 5, "TL203", "m",
            fix=Fix("change it", (Edit(1, 5, 1, 8, "(1,)"),), safe=False),
        )
        result.diagnostics = [unsafe_fix]
        return fix_run(result, settings, SourceCache(), unsafe=unsafe).fixed

    assert outcome(unsafe=False) == 0
    assert outcome(unsafe=True) == 1


def test_write_in_place_refuses_a_file_changed_meanwhile(tmp_path: Path) -> None:
    path = tmp_path / "m.py"
    path.write_bytes(b"x = 2\n")
    roots = [str(tmp_path)]
    with pytest.raises(Exception, match="changed since threadlint read it"):
        write_in_place(str(path), b"x = 1\n", b"x = (1,)\n", roots)
    assert path.read_bytes() == b"x = 2\n"
    write_in_place(str(path), b"x = 2\n", b"x = 3\n", roots)
    assert path.read_bytes() == b"x = 3\n"
