"""docs/ci.md and docs/editors.md work when followed verbatim.

Every `threadlint` command in the CI workflows and snippets is run on a
project with a finding, the YAML parses, and the problem matcher and error
format of the editor page parse threadlint's real output.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from cli_helpers import ARGS_NOT_TUPLE, run_cli, write_tree

ROOT = Path(__file__).resolve().parent.parent
CI = ROOT / "docs" / "ci.md"
EDITORS = ROOT / "docs" / "editors.md"

RACY = ARGS_NOT_TUPLE


def blocks(page: Path, language: str) -> list[str]:
    text = page.read_text(encoding="utf-8")
    return re.findall(rf"^```{language}\n(.*?)^```", text, re.DOTALL | re.MULTILINE)


def _commands(node: Any) -> Iterator[str]:
    """Shell commands of a GitHub workflow (`run:`) or a GitLab job (`script:`)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "run" and isinstance(value, str):
                yield from value.splitlines()
            elif key == "script" and isinstance(value, list):
                yield from (v for v in value if isinstance(v, str))
            else:
                yield from _commands(value)
    elif isinstance(node, list):
        for item in node:
            yield from _commands(item)


def ci_commands() -> list[str]:
    text = CI.read_text(encoding="utf-8")
    found: list[tuple[int, str]] = []
    for match in re.finditer(r"^```(yaml|sh)\n(.*?)^```", text, re.DOTALL | re.MULTILINE):
        language, body = match.groups()
        if language == "yaml":
            document = yaml.safe_load(body)
            lines = list(_commands(document))
        else:
            lines = body.splitlines()
        found.extend((match.start(), line.strip()) for line in lines)
    return [line for _, line in sorted(found, key=lambda f: f[0]) if line.startswith("threadlint ")]


def test_ci_yaml_parses() -> None:
    documents = [yaml.safe_load(body) for body in blocks(CI, "yaml")]
    workflows = [d for d in documents if isinstance(d, dict) and "jobs" in d]
    assert len(workflows) == 2  # the plain/annotations one and the SARIF one
    for workflow in workflows:
        for job in workflow["jobs"].values():
            assert job["runs-on"] and job["steps"]
    sarif = workflows[1]
    assert sarif["permissions"]["security-events"] == "write"
    uses = [step.get("uses", "") for step in sarif["jobs"]["threadlint-sarif"]["steps"]]
    assert any(u.startswith("github/codeql-action/upload-sarif@") for u in uses)


def test_every_ci_command_runs(tmp_path: Path) -> None:
    write_tree(tmp_path, {"src/app/racy.py": RACY})
    commands = ci_commands()
    assert len(commands) >= 6
    for command in commands:
        args = shlex.split(command)[1:]
        run = run_cli(["-j1", "--select", "TL203", *args], tmp_path)
        quiet = "--exit-zero" in args or "--write-baseline" in args or "--baseline" in args
        assert run.exit_code == (0 if quiet else 1), (command, run.stdout, run.stderr)
        if "github" in args:
            assert run.stdout.startswith("::warning file=src/app/racy.py,line=9,col=46,")
        if "--output-file" in args:
            output = tmp_path / args[args.index("--output-file") + 1]
            assert json.loads(output.read_text(encoding="utf-8"))["version"] == "2.1.0"


def test_pre_commit_snippets_name_the_hook() -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert [h["id"] for h in hooks] == ["threadlint"]
    assert hooks[0]["types"] == ["python"]
    config = next(yaml.safe_load(b) for b in blocks(CI, "yaml") if b.startswith("repos:"))
    assert config["repos"][0]["hooks"][0]["id"] == "threadlint"


def test_vscode_problem_matcher_reads_the_output(tmp_path: Path) -> None:
    tasks = next(json.loads(b) for b in blocks(EDITORS, "json") if "problemMatcher" in b)
    task = tasks["tasks"][0]
    pattern = task["problemMatcher"]["pattern"]
    write_tree(tmp_path, {"pkg/racy.py": RACY})
    run = run_cli(["-j1", "--select", "TL203", *task["args"]], tmp_path)
    assert run.exit_code == 1 and run.stderr == ""  # --quiet: nothing but findings
    [line] = run.stdout.splitlines()
    match = re.match(pattern["regexp"], line)
    assert match
    assert match.group(pattern["file"]) == "pkg/racy.py"
    assert (match.group(pattern["line"]), match.group(pattern["column"])) == ("9", "46")
    assert match.group(pattern["code"]) == "TL203"
    assert match.group(pattern["message"]).startswith("`args` is `(url)`")


def test_vim_errorformat_reads_the_output(tmp_path: Path) -> None:
    vim = "\n".join(blocks(EDITORS, "vim"))
    assert r"errorformat=%f:%l:%c:\ %m" in vim
    # %f:%l:%c: %m, as Vim reads it.
    efm = re.compile(r"^(?P<f>[^:]+):(?P<l>\d+):(?P<c>\d+): (?P<m>.*)$")
    write_tree(tmp_path, {"racy.py": RACY})
    run = run_cli(["-j1", "--select", "TL203", "--quiet", "racy.py"], tmp_path)
    match = efm.match(run.stdout.splitlines()[0])
    assert match and (match["f"], match["l"], match["c"]) == ("racy.py", "9", "46")
