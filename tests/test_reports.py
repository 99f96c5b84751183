"""The output formats: SARIF (validated against the official schema), GitHub, text."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from cli_helpers import ARGS_NOT_TUPLE, run_cli, write_tree

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
