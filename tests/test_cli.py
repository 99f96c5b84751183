"""The command line as INTERFACE.md describes it: options, output, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from cli_helpers import (
    BAD,
    BAD_COL,
    BAD_LINE,
    CLEAN,
    FINDING_LINE,
    PY2,
    PY2_COL,
    run_cli,
    run_process,
    write_tree,
)

from threadlint import __version__
from threadlint.rules import lifecycle
from threadlint.rules.base import get_rule

# --- exit codes -------------------------------------------------------------


def test_clean_project_exits_0_with_summary_on_stderr(tmp_path: Path) -> None:
    write_tree(tmp_path, {"a.py": CLEAN})
    run = run_cli(["-j1"], tmp_path)
    assert run.exit_code == 0
    assert run.stdout == ""
    assert "No problems found in 1 file" in run.stderr


def test_findings_exit_1_in_flake8_format_on_stdout(tmp_path: Path) -> None:
    write_tree(tmp_path, {"a.py": BAD})
    run = run_cli(["-j1"], tmp_path)
    assert run.exit_code == 1
    assert run.findings() == [("a.py", BAD_LINE, BAD_COL, "TL203")]
    assert "Found 1 problem in 1 file" in run.stderr
    assert "Found" not in run.stdout


def test_exit_zero_keeps_the_output(tmp_path: Path) -> None:
    write_tree(tmp_path, {"a.py": BAD})
    run = run_cli(["-j1", "--exit-zero"], tmp_path)
    assert run.exit_code == 0
    assert run.codes() == [("a.py", "TL203")]


@pytest.mark.parametrize(
    "args, message",
    [
        (["missing.py"], "no such file or directory: missing.py"),
        (["--select", "TL999"], "--select: unknown rule code or prefix 'TL999'"),
        (["--ignore", "XYZ"], "--ignore: unknown rule code or prefix 'XYZ'"),
        (["--extend-select", "TL2,E501"], "unknown rule code or prefix 'E501'"),
        (["--explain", "TL999"], "unknown rule code 'TL999'"),
        (["--config", "nope.toml"], "--config: no such file: nope.toml"),
        (["-", "a.py"], "cannot be mixed"),
    ],
)
def test_usage_errors_exit_2_in_one_line(tmp_path: Path, args: list, message: str) -> None:
    write_tree(tmp_path, {"a.py": BAD})
    run = run_cli(args, tmp_path, stdin="")
    assert run.exit_code == 2
    assert run.stdout == ""
    assert message in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1
    assert "Traceback" not in run.stderr


def test_bad_option_value_is_a_usage_error(tmp_path: Path) -> None:
    run = run_cli(["--format", "xml"], tmp_path)
    assert run.exit_code == 2
    assert "Traceback" not in run.stderr


def _raise_in_boom(monkeypatch: pytest.MonkeyPatch) -> None:
    original = lifecycle.ThreadArgsNotTuple.visit_Call

    def visit_call(self, node):  # type: ignore[no-untyped-def]
        if self.ctx.path.endswith("boom.py"):
            raise RuntimeError("simulated rule failure")
        return original(self, node)

    monkeypatch.setattr(lifecycle.ThreadArgsNotTuple, "visit_Call", visit_call)


def test_internal_error_in_one_file_keeps_the_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _raise_in_boom(monkeypatch)
    write_tree(tmp_path, {"a.py": BAD, "boom.py": BAD, "z.py": BAD})
    run = run_cli(["-j1"], tmp_path)
    assert run.exit_code == 2
    assert run.codes() == [("a.py", "TL203"), ("z.py", "TL203")]
    assert "internal error while linting boom.py: RuntimeError: simulated rule failure" in run.stderr
    assert "Traceback" not in run.stderr

    verbose = run_cli(["-j1", "-v"], tmp_path)
    assert verbose.exit_code == 2
    assert "Traceback" in verbose.stderr
    assert verbose.stdout == run.stdout


def test_internal_error_wins_over_exit_zero(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _raise_in_boom(monkeypatch)
    write_tree(tmp_path, {"boom.py": BAD})
    assert run_cli(["-j1", "--exit-zero"], tmp_path).exit_code == 2


def test_project_pass_failure_keeps_the_file_findings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threadlint.link

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise ValueError("simulated project rule failure")

    monkeypatch.setattr(threadlint.link, "link_project", broken)
    write_tree(tmp_path, {"a.py": BAD})
    run = run_cli(["-j1"], tmp_path)
    assert run.exit_code == 2
    assert run.codes() == [("a.py", "TL203")]
    assert "ValueError: simulated project rule failure" in run.stderr
    assert "Traceback" not in run.stderr


def test_unexpected_error_is_one_line_without_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threadlint.cli

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise OSError("disk on fire")

    monkeypatch.setattr(threadlint.cli, "lint_paths", broken)
    write_tree(tmp_path, {"a.py": BAD})
    run = run_cli(["-j1"], tmp_path)
    assert run.exit_code == 2
    assert "internal error: OSError: disk on fire" in run.stderr
    assert "Traceback" not in run.stderr
    assert "Traceback" in run_cli(["-j1", "-v"], tmp_path).stderr


# --- output -------------------------------------------------------------------


def test_output_is_sorted_by_path_line_col(tmp_path: Path) -> None:
    twice = BAD + (
        "    other = threading.Thread(target=work, args=('x'), daemon=True)\n"
        "    other.start()\n"
        "    other.join()\n"
    )
    write_tree(tmp_path, {"b.py": twice, "a.py": BAD, "sub/c.py": BAD, "a_b.py": BAD})
    run = run_cli(["-j1"], tmp_path)
    findings = run.findings()
    assert findings == sorted(findings)
    assert [f[0] for f in findings] == ["a.py", "a_b.py", "b.py", "b.py", "sub/c.py"]
    assert [f[1] for f in findings if f[0] == "b.py"] == [BAD_LINE, BAD_LINE + 3]


def test_paths_default_to_the_current_directory_and_are_relative_to_it(tmp_path: Path) -> None:
    write_tree(tmp_path, {"pkg/mod.py": BAD})
    assert run_cli(["-j1"], tmp_path).codes() == [("pkg/mod.py", "TL203")]
    assert run_cli(["-j1"], tmp_path / "pkg").codes() == [("mod.py", "TL203")]
    assert run_cli(["-j1", "pkg/mod.py"], tmp_path).codes() == [("pkg/mod.py", "TL203")]


def test_json_format(tmp_path: Path) -> None:
    write_tree(tmp_path, {"a.py": BAD, "old.py": PY2})
    run = run_cli(["-j1", "--format", "json"], tmp_path)
    assert run.exit_code == 1
    data = json.loads(run.stdout)
    assert [(d["path"], d["code"]) for d in data] == [("a.py", "TL203"), ("old.py", "TL001")]
    first = data[0]
    assert set(first) >= {
        "path", "line", "column", "end_line", "end_column", "code", "name",
        "message", "severity", "fix", "url",
    }
    assert (first["line"], first["column"]) == (BAD_LINE, BAD_COL)
    assert first["name"] == "thread-args-not-tuple"
    assert first["fix"] is not None
    assert json.loads(run_cli(["-j1", "--format", "json", "--statistics"], tmp_path).stdout)


def test_json_format_without_findings_is_an_empty_array(tmp_path: Path) -> None:
    write_tree(tmp_path, {"a.py": CLEAN})
    assert json.loads(run_cli(["-j1", "--format", "json"], tmp_path).stdout) == []


def test_output_file(tmp_path: Path) -> None:
    write_tree(tmp_path, {"a.py": BAD})
    run = run_cli(["-j1", "--output-file", "report.txt"], tmp_path)
    assert run.exit_code == 1
    assert run.stdout == ""
    assert "Found 1 problem" in run.stderr
    assert (tmp_path / "report.txt").read_text(encoding="utf-8").startswith(
        f"a.py:{BAD_LINE}:{BAD_COL}: TL203 "
    )


def test_output_file_that_cannot_be_written(tmp_path: Path) -> None:
    write_tree(tmp_path, {"a.py": BAD})
    run = run_cli(["-j1", "--output-file", "no/such/dir/report.txt"], tmp_path)
    assert run.exit_code == 2
    assert "--output-file" in run.stderr
    assert "Traceback" not in run.stderr


def test_statistics(tmp_path: Path) -> None:
    write_tree(tmp_path, {"a.py": BAD, "b.py": BAD, "old.py": PY2})
    run = run_cli(["-j1", "--statistics"], tmp_path)
    lines = run.stdout.splitlines()
    assert all(FINDING_LINE.match(line) for line in lines[:3])
    assert lines[3].split() == ["1", "TL001", "syntax-error"]
    assert lines[4].split() == ["2", "TL203", "thread-args-not-tuple"]


def test_show_source(tmp_path: Path) -> None:
    write_tree(tmp_path, {"a.py": BAD})
    run = run_cli(["-j1", "--show-source"], tmp_path)
    lines = run.stdout.splitlines()
    assert lines[0].startswith(f"a.py:{BAD_LINE}:{BAD_COL}: TL203")
    offending = BAD.splitlines()[BAD_LINE - 1]
    shown = next(i for i, line in enumerate(lines) if line.endswith(offending))
    # The caret sits under the reported column of the echoed line.
    start = len(lines[shown]) - len(offending)
    caret = next(line for line in lines[shown + 1 :] if "^" in line)
    assert caret.index("^") == start + BAD_COL - 1
    assert run.exit_code == 1


def test_jobs_2_gives_the_same_output_as_jobs_1(tmp_path: Path) -> None:
    files = {f"m{i}.py": BAD if i % 2 else CLEAN for i in range(12)}
    files["old.py"] = PY2
    files["pkg/__init__.py"] = ""
    files["pkg/inner.py"] = BAD
    write_tree(tmp_path, files)
    one = run_cli(["-j1"], tmp_path)
    two = run_cli(["-j2"], tmp_path)
    assert one.exit_code == two.exit_code == 1
    assert one.stdout == two.stdout
    assert len(one.findings()) == 8
    json_one = run_cli(["-j1", "--format", "json"], tmp_path).stdout
    assert run_cli(["-j2", "--format", "json"], tmp_path).stdout == json_one


def test_list_rules_explain_and_version(tmp_path: Path) -> None:
    listed = run_cli(["--list-rules"], tmp_path)
    assert listed.exit_code == 0
    assert any(line.startswith("TL203 ") for line in listed.stdout.splitlines())
    assert "opt-in" in next(ln for ln in listed.stdout.splitlines() if ln.startswith("TL002"))
    explained = run_cli(["--explain", "tl203"], tmp_path)
    assert explained.exit_code == 0
    assert explained.stdout.startswith("# TL203")
    version = run_cli(["--version"], tmp_path)
    assert version.exit_code == 0
    assert __version__ in version.stdout


# --- selection ------------------------------------------------------------------

_SELECTION_TREE = {
    "a.py": BAD,
    "old.py": PY2,
    "stale.py": "x = 1  # noqa: TL203\n",
}


@pytest.mark.parametrize(
    "args, expected",
    [
        ([], {("a.py", "TL203"), ("old.py", "TL001")}),
        (["--select", "TL2"], {("a.py", "TL203")}),
        (["--select", "TL2", "--ignore", "TL203"], set()),
        (["--select", "TL0"], {("old.py", "TL001")}),
        (["--ignore", "TL2", "--extend-select", "TL203"], {("a.py", "TL203"), ("old.py", "TL001")}),
        (["--extend-ignore", "TL001"], {("a.py", "TL203")}),
        (["--select", "tl203,tl001"], {("a.py", "TL203"), ("old.py", "TL001")}),
        (["--select", "TL203", "--select", "TL001"], {("a.py", "TL203"), ("old.py", "TL001")}),
        # TL002 is opt-in: a family prefix does not switch it on, its code or ALL does.
        (["--extend-select", "TL002"], {("a.py", "TL203"), ("old.py", "TL001"), ("stale.py", "TL002")}),
        (["--select", "ALL"], {("a.py", "TL203"), ("old.py", "TL001"), ("stale.py", "TL002")}),
        (["--select", "ALL", "--ignore", "TL0"], {("a.py", "TL203")}),
    ],
)
def test_selection(tmp_path: Path, args: list, expected: set) -> None:
    write_tree(tmp_path, _SELECTION_TREE)
    run = run_cli(["-j1", *args], tmp_path)
    assert set(run.codes()) == expected
    assert run.exit_code == (1 if expected else 0)


# --- stdin ----------------------------------------------------------------------


def test_stdin_with_a_name(tmp_path: Path) -> None:
    run = run_cli(["-", "--stdin-filename", "pkg/mod.py"], tmp_path, stdin=BAD)
    assert run.exit_code == 1
    assert run.findings() == [("pkg/mod.py", BAD_LINE, BAD_COL, "TL203")]


def test_stdin_without_a_name(tmp_path: Path) -> None:
    run = run_cli(["-"], tmp_path, stdin=BAD)
    assert run.codes() == [("-", "TL203")]


def test_stdin_filename_alone_reads_stdin(tmp_path: Path) -> None:
    write_tree(tmp_path, {"other.py": BAD})
    run = run_cli(["--stdin-filename", "given.py"], tmp_path, stdin=BAD)
    assert run.codes() == [("given.py", "TL203")]


def test_stdin_per_file_ignores_apply_by_the_given_name(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {"pyproject.toml": '[tool.threadlint]\nper-file-ignores = {"tests/*" = ["TL203"]}\n'},
    )
    ignored = run_cli(["-", "--stdin-filename", "tests/test_x.py"], tmp_path, stdin=BAD)
    assert ignored.exit_code == 0
    assert ignored.stdout == ""
    kept = run_cli(["-", "--stdin-filename", "src/x.py"], tmp_path, stdin=BAD)
    assert kept.codes() == [("src/x.py", "TL203")]


def test_stdin_syntax_error_and_bytes(tmp_path: Path) -> None:
    run = run_cli(["-", "--stdin-filename", "old.py"], tmp_path, stdin=PY2.encode())
    assert run.codes() == [("old.py", "TL001")]


# --- files that do not parse ---------------------------------------------------


# Where and how CPython reports an unclosed bracket: 3.10 names the bracket.
_NEVER_CLOSED = (
    (2, 12, "was never closed") if sys.version_info >= (3, 10)
    else (2, 15, "unexpected EOF while parsing")
)


@pytest.mark.parametrize(
    "content, line, col, words",
    [
        (PY2, 1, PY2_COL, "Missing parentheses in call to 'print'"),
        (b"def f(x):\n    return (1,\n", *_NEVER_CLOSED),
        (b"def f(:\n    pass\n", 1, 7, "invalid syntax"),
        (b"# -*- coding: bogus -*-\nx = 1\n", 1, 1, "unknown encoding: bogus"),
        (b"x = '\xff\xfe'\n", 1, None, "can't decode byte 0xff"),
        (b"x = 1\x00\n", 1, None, "null bytes"),
    ],
    ids=["python2", "truncated", "invalid", "bad-cookie", "invalid-utf8", "null-byte"],
)
def test_unparsable_file_is_tl001_and_the_others_are_linted(
    tmp_path: Path, content, line: int, col, words: str
) -> None:
    write_tree(tmp_path, {"a.py": BAD, "broken.py": content, "z.py": BAD})
    run = run_cli(["-j1"], tmp_path)
    assert run.exit_code == 1
    assert run.codes() == [("a.py", "TL203"), ("broken.py", "TL001"), ("z.py", "TL203")]
    broken = next(f for f in run.findings() if f[0] == "broken.py")
    assert broken[1] == line
    if col is not None:
        assert broken[2] == col
    message = next(ln for ln in run.stdout.splitlines() if ln.startswith("broken.py:"))
    assert words in message
    assert "Traceback" not in run.stderr


def test_declared_encoding_is_honoured(tmp_path: Path) -> None:
    latin1 = ("# -*- coding: latin-1 -*-\n# café\n" + BAD).encode("latin-1")
    write_tree(tmp_path, {"a.py": latin1})
    assert run_cli(["-j1"], tmp_path).findings() == [("a.py", BAD_LINE + 2, BAD_COL, "TL203")]


# --- through a real process -------------------------------------------------------


def _python_m(args: list, cwd: Path, stdin: bytes = b"") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "threadlint", *args],
        cwd=cwd, input=stdin, capture_output=True, timeout=120, check=False,
    )


def test_python_m_threadlint(tmp_path: Path) -> None:
    write_tree(tmp_path, {"a.py": BAD, "old.py": PY2})
    proc = _python_m(["-j2"], tmp_path)
    assert proc.returncode == 1
    out = proc.stdout.decode()
    assert out.splitlines()[0] == (
        f"a.py:{BAD_LINE}:{BAD_COL}: TL203 "
        + out.splitlines()[0].split(" TL203 ", 1)[1]
    )
    assert [line.split(": ")[1].split()[0] for line in out.splitlines()] == ["TL203", "TL001"]
    assert proc.stderr.decode().strip() == "Found 2 problems in 2 files (1 fixable with --fix)."

    quiet = _python_m(["-q", "--exit-zero"], tmp_path)
    assert quiet.returncode == 0
    assert quiet.stderr == b""

    piped = _python_m(["-", "--stdin-filename", "x.py"], tmp_path, stdin=BAD.encode())
    assert piped.returncode == 1
    assert piped.stdout.decode().startswith(f"x.py:{BAD_LINE}:{BAD_COL}: TL203 ")

    bad = _python_m(["--select", "NOPE"], tmp_path)
    assert bad.returncode == 2
    assert b"Traceback" not in bad.stderr


# --- the acceptance scenario ---------------------------------------------------------

CLASSIC = """\
import threading
import time


class Worker(threading.Thread):
    def __init__(self, number):
        super().__init__()
        self.number = number

    def run(self):
        while True:
            print("worker", self.number, "polling")
            time.sleep(1)


def main():
    for number in range(20):
        worker = Worker(number)
        worker.start()
    print("all started")


def main_with_list():
    workers = []
    for number in range(20):
        worker = Worker(number)
        workers.append(worker)
        worker.start()
    print("all started, none joined")


if __name__ == "__main__":
    main()
    main_with_list()
"""
CLASSIC_STARTS = [
    i for i, line in enumerate(CLASSIC.splitlines(), 1) if line.strip() == "worker.start()"
]


@pytest.mark.skipif(get_rule("TL201") is None, reason="TL201 (thread-never-joined) not written yet")
def test_classic_never_joined_program(tmp_path: Path) -> None:
    write_tree(tmp_path, {"workers.py": CLASSIC, "legacy.py": PY2})
    proc = _python_m([], tmp_path)
    lines = proc.stdout.decode().splitlines()
    assert proc.returncode == 1
    tl201 = [line for line in lines if " TL201 " in line]
    assert [int(line.split(":")[1]) for line in tl201] == CLASSIC_STARTS
    assert all(line.split(":")[0] == "workers.py" for line in tl201)
    assert any(line.startswith(f"legacy.py:1:{PY2_COL}: TL001 ") for line in lines)

    data = json.loads(_python_m(["--format", "json"], tmp_path).stdout)
    assert [d["line"] for d in data if d["code"] == "TL201"] == CLASSIC_STARTS
    assert {d["code"] for d in data if d["path"] == "legacy.py"} == {"TL001"}


def test_target_version_is_validated(tmp_path: Path) -> None:
    write_tree(tmp_path, {"ok.py": CLEAN})
    accepted = run_cli(["--target-version", "py312", "ok.py"], tmp_path)
    assert accepted.exit_code == 0
    rejected = run_cli(["--target-version", "banana", "ok.py"], tmp_path)
    assert rejected.exit_code == 2
    assert rejected.stderr.strip() == (
        "threadlint: error: --target-version: expected a Python version such as py39 or "
        "3.12, got 'banana'"
    )


# --- a reader that goes away, a disk that is full -------------------------------


def _many_findings(root: Path) -> None:
    # Enough output to fill a pipe's buffer several times over.
    spawns = "".join(
        f"\n\ndef spawn{n}():\n    w{n} = threading.Thread(target=work, args=(1), daemon=True)\n"
        f"    w{n}.start()\n    w{n}.join()\n"
        for n in range(400)
    )
    write_tree(root, {"many.py": "import threading\n\n\ndef work(x):\n    return x\n" + spawns})


def test_a_closed_stdout_ends_the_run_quietly(tmp_path: Path) -> None:
    _many_findings(tmp_path)
    for args in (["--show-source"], ["--format", "json"], ["--diff"], ["--list-rules"]):
        process = subprocess.Popen(
            [sys.executable, "-m", "threadlint", "-j1", "--no-cache", *args],
            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        assert process.stdout is not None and process.stderr is not None
        first = process.stdout.readline()  # `| head -1`
        process.stdout.close()
        stderr = process.stderr.read().decode()
        status = process.wait(timeout=120)
        assert first
        assert "Traceback" not in stderr and "BrokenPipe" not in stderr, stderr
        assert "internal error" not in stderr and "Exception ignored" not in stderr, stderr
        # The status is the run's, as if everything had been read.
        assert status == (0 if args == ["--list-rules"] else 1), (args, stderr)


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full here")
def test_a_full_disk_is_a_one_line_error(tmp_path: Path) -> None:
    write_tree(tmp_path, {"a.py": BAD})
    to_file = run_process(["-j1", "--output-file", "/dev/full"], tmp_path)
    assert to_file.exit_code == 2
    assert to_file.stderr.splitlines()[0] == (
        "threadlint: error: --output-file /dev/full: cannot write: No space left on device"
    )
    for args in ([], ["--format", "sarif"], ["--list-rules"], ["--diff"]):
        with open("/dev/full", "wb") as full:
            to_stdout = run_process(["-j1", *args], tmp_path, stdout=full)
        assert to_stdout.exit_code == 2, (args, to_stdout.stderr)
        assert to_stdout.stderr.splitlines()[0] == (
            "threadlint: error: standard output: cannot write: No space left on device"
        ), to_stdout.stderr
        assert "Traceback" not in to_stdout.stderr and "internal error" not in to_stdout.stderr
