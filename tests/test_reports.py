"""The output formats: SARIF (validated against the official schema), GitHub, text."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from cli_helpers import ARGS_NOT_TUPLE, run_cli, run_process, write_tree

from threadlint.diagnostics import Diagnostic
from threadlint.report.github import annotation
from threadlint.rules.base import all_rules

ROOT = Path(__file__).resolve().parent.parent
# The official OASIS schema is kept beside the checkout (shared/ next to it,
# also in CI's fresh clone), not copied into the project.
SARIF_SCHEMA = ROOT.parent / "shared" / "data" / "sarif-schema-2.1.0.json"

RACY = ARGS_NOT_TUPLE
LINE, COL = 9, 46

ARGS = ["-j1", "--select", "TL001,TL203"]


def _sarif(tmp_path: Path) -> dict:
    write_tree(tmp_path, {"pkg/racy.py": RACY, "with space/old.py": 'print "hi"\n'})
    run = run_cli([*ARGS, "--format", "sarif"], tmp_path)
    assert run.exit_code == 1, run.stderr
    return json.loads(run.stdout)


@pytest.mark.skipif(
    not SARIF_SCHEMA.is_file(),
    reason=f"the OASIS SARIF 2.1.0 schema is not at {SARIF_SCHEMA} (shared/ beside the checkout)",
)
def test_sarif_is_valid_against_the_official_schema(tmp_path: Path) -> None:
    import jsonschema

    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    validator = validator_class(schema, format_checker=validator_class.FORMAT_CHECKER)
    document = _sarif(tmp_path)
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)
    # And an empty run is valid too.
    write_tree(tmp_path / "clean", {"a.py": "x = 1\n"})
    empty = json.loads(run_cli([*ARGS, "--format", "sarif"], tmp_path / "clean").stdout)
    assert empty["runs"][0]["results"] == []
    assert not list(validator.iter_errors(empty))


def test_sarif_results_and_rule_metadata(tmp_path: Path) -> None:
    document = _sarif(tmp_path)
    assert document["version"] == "2.1.0"
    [sarif_run] = document["runs"]
    driver = sarif_run["tool"]["driver"]
    assert driver["name"] == "threadlint"
    rules = driver["rules"]
    assert [r["id"] for r in rules] == [r.code for r in all_rules()]
    tl203 = rules[[r["id"] for r in rules].index("TL203")]
    assert tl203["name"] == "thread-args-not-tuple"
    assert tl203["helpUri"].endswith("/docs/rules/TL203.md")
    assert "## Why is this bad?" in tl203["help"]["markdown"]
    assert tl203["defaultConfiguration"]["level"] == "warning"
    assert tl203["fullDescription"]["text"].startswith("Flags an `args=` argument")

    by_rule = {r["ruleId"]: r for r in sarif_run["results"]}
    assert set(by_rule) == {"TL001", "TL203"}
    finding = by_rule["TL203"]
    assert rules[finding["ruleIndex"]]["id"] == "TL203"
    location = finding["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": "pkg/racy.py", "uriBaseId": "%SRCROOT%"}
    assert (location["region"]["startLine"], location["region"]["startColumn"]) == (LINE, COL)
    assert finding["partialFingerprints"]
    assert finding["fixes"][0]["artifactChanges"][0]["replacements"][0]["insertedContent"][
        "text"
    ].endswith("args=(url,))")
    syntax = by_rule["TL001"]
    assert syntax["level"] == "error"
    assert syntax["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == (
        "with%20space/old.py"
    )
    assert sarif_run["originalUriBaseIds"]["%SRCROOT%"]["uri"].startswith("file://")


def test_github_annotations(tmp_path: Path) -> None:
    write_tree(tmp_path, {"pkg/racy.py": RACY})
    run = run_cli([*ARGS, "--format", "github"], tmp_path)
    assert run.exit_code == 1
    [line] = run.stdout.splitlines()
    assert line.startswith(
        f"::warning file=pkg/racy.py,line={LINE},col={COL},endLine={LINE},endColumn={COL + 3},"
        "title=TL203 thread-args-not-tuple::`args` is `(url)`, not a tuple"
    )


def test_github_annotations_escape_their_values() -> None:
    d = Diagnostic("a,b:c%.py", 3, 1, "TL001", "syntax error: 50%\nbad")
    assert annotation(d) == (
        "::error file=a%2Cb%3Ac%25.py,line=3,col=1,title=TL001 syntax-error::"
        "syntax error: 50%25%0Abad"
    )


def test_show_source_frames_the_finding_like_ruff(tmp_path: Path) -> None:
    write_tree(tmp_path, {"racy.py": RACY})
    run = run_cli([*ARGS, "--show-source", "--color", "never"], tmp_path)
    assert run.stdout.splitlines() == [
        (f"racy.py:{LINE}:{COL}: TL203 `args` is `(url)`, not a tuple: it is unpacked with `*`, "
        "so the thread gets the wrong arguments; write `(url,)`"),
        "   |",
        " 8 | def start(url):",
        " 9 |     t = threading.Thread(target=fetch, args=(url))",
        "   |                                              ^^^ TL203",
        "10 |     t.start()",
        "11 |     t.join()",
        "   |",
        "   = help: make `args` a one-element tuple (fixable with --fix)",
        "",
    ]


def test_show_source_works_for_stdin(tmp_path: Path) -> None:
    run = run_cli([*ARGS, "--show-source", "-", "--stdin-filename", "x.py"], tmp_path, stdin=RACY)
    assert " 9 |     t = threading.Thread(target=fetch, args=(url))" in run.stdout.splitlines()


def test_color(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_tree(tmp_path, {"racy.py": RACY})
    plain = run_cli([*ARGS], tmp_path).stdout
    assert "\033[" not in plain  # auto: not a terminal
    coloured = run_cli([*ARGS, "--color", "always"], tmp_path).stdout
    assert "\033[1;31mTL203\033[0m" in coloured
    # Colour wraps the same characters: stripped of escapes it is the plain line.
    assert re.sub(r"\033\[[0-9;]*m", "", coloured) == plain
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert "\033[" in run_cli([*ARGS], tmp_path).stdout
    assert "\033[" not in run_cli([*ARGS, "--color", "never"], tmp_path).stdout
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.delenv("FORCE_COLOR")
    assert "\033[" not in run_cli([*ARGS], tmp_path).stdout
    # Other formats are never coloured.
    assert "\033[" not in run_cli([*ARGS, "--color", "always", "--format", "json"], tmp_path).stdout


# --- hostile file names and sources -------------------------------------------------

INJECTED = "a\nfake.py:1:1: TL201 x.py"
ESCAPED = "a\\nfake.py:1:1: TL201 x.py"


def test_a_file_name_cannot_inject_a_finding_line(tmp_path: Path) -> None:
    write_tree(tmp_path, {INJECTED: RACY})
    for args in ([], ["--show-source"], ["--statistics"], ["--color", "always"]):
        run = run_cli([*ARGS, *args], tmp_path)
        assert run.exit_code == 1
        lines = run.stdout.splitlines()
        assert not any(line.startswith("fake.py") for line in lines), lines
        assert lines[0].replace("\033[1m", "").replace("\033[0m", "").replace(
            "\033[36m", "").startswith(ESCAPED)
    # flake8's format cannot escape `:`; what matters is that no line is about fake.py.
    assert [path for path, _ in run_cli(ARGS, tmp_path).codes()] == ["a\\nfake.py"]


def test_escape_bytes_never_reach_the_terminal(tmp_path: Path) -> None:
    name = "\033]0;owned\007\033[2J.py"
    source = RACY.replace("def start(url):", "def start(url):  # \033[31mred\033[0m\t\u202eevil")
    write_tree(tmp_path, {name: source})
    for fmt in ("text", "github"):
        run = run_cli([*ARGS, "--format", fmt, "--show-source", "--color", "never"], tmp_path)
        assert run.exit_code == 1
        assert "\033" not in run.stdout and "\007" not in run.stdout and "\u202e" not in run.stdout
        assert "\\x1b]0;owned\\x07\\x1b[2J.py" in run.stdout
    frame = run_cli([*ARGS, "--show-source", "--color", "never"], tmp_path).stdout
    assert "# \\x1b[31mred\\x1b[0m   \\u202eevil" in frame  # tabs are expanded, not escaped


def test_carets_stay_under_the_finding_after_escapes(tmp_path: Path) -> None:
    source = RACY.replace("    t = threading", '    s = "\033\t\u202e"; t = threading')
    write_tree(tmp_path, {"m.py": source})
    frame = run_cli([*ARGS, "--show-source", "--color", "never"], tmp_path).stdout
    code_line = next(line for line in frame.splitlines() if "args=(url)" in line)
    caret_line = frame.splitlines()[frame.splitlines().index(code_line) + 1]
    assert caret_line.index("^") == code_line.index("url)")


def test_errors_on_stderr_escape_names(tmp_path: Path) -> None:
    write_tree(tmp_path, {"a.py": RACY})
    (tmp_path / "x\033[2J\nfake.py").symlink_to("missing")
    run = run_cli(ARGS, tmp_path)
    assert run.exit_code == 2
    assert "threadlint: error: x\\x1b[2J\\nfake.py: cannot read: a dangling symbolic link" in (
        run.stderr
    )
    assert "\033" not in run.stderr


NOT_UTF8 = os.fsdecode(b"caf\xe9.py")


def test_a_name_that_is_not_utf8_in_every_format(tmp_path: Path) -> None:
    write_tree(tmp_path, {NOT_UTF8: RACY})
    text = run_process([*ARGS], tmp_path)
    assert (text.exit_code, text.codes()) == (1, [("caf\\xe9.py", "TL203")]), text.stderr
    github = run_process([*ARGS, "--format", "github"], tmp_path)
    assert github.exit_code == 1 and "file=caf\\xe9.py," in github.stdout
    data = run_process([*ARGS, "--format", "json"], tmp_path)
    assert data.exit_code == 1
    assert [os.fsencode(f["path"]) for f in json.loads(data.stdout)] == [b"caf\xe9.py"]
    sarif = run_process([*ARGS, "--format", "sarif"], tmp_path)
    assert sarif.exit_code == 1, sarif.stderr
    location = json.loads(sarif.stdout)["runs"][0]["results"][0]["locations"][0]
    assert location["physicalLocation"]["artifactLocation"]["uri"] == "caf%E9.py"
    for fmt in ("text", "json", "sarif", "github"):
        written = run_process([*ARGS, "--format", fmt, "--output-file", f"out.{fmt}"], tmp_path)
        assert written.exit_code == 1, written.stderr
        (tmp_path / f"out.{fmt}").read_text(encoding="utf-8")  # valid UTF-8


@pytest.mark.skipif(
    not SARIF_SCHEMA.is_file(), reason=f"the OASIS SARIF 2.1.0 schema is not at {SARIF_SCHEMA}"
)
def test_sarif_with_hostile_names_is_valid(tmp_path: Path) -> None:
    import jsonschema

    write_tree(tmp_path, {NOT_UTF8: RACY, INJECTED: RACY, "sp ace/%41.py": RACY})
    run = run_process([*ARGS, "--format", "sarif"], tmp_path)
    document = json.loads(run.stdout)
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    validator_class = jsonschema.validators.validator_for(schema)
    validator = validator_class(schema, format_checker=validator_class.FORMAT_CHECKER)
    assert not list(validator.iter_errors(document))
    uris = sorted(
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for r in document["runs"][0]["results"]
    )
    assert uris == ["a%0Afake.py%3A1%3A1%3A%20TL201%20x.py", "caf%E9.py", "sp%20ace/%2541.py"]
