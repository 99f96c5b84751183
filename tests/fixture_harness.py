"""Fixture files with their expected findings marked inline.

A line expecting findings carries a comment `# expect: TL203` (several codes
separated by commas); `# expect-preview: TL103` marks a finding that only
`--preview` reports (the rule's weaker evidence).  Each fixture is checked
twice: by default (the `expect:` marks of rules that are not preview rules)
and with `--preview` (every mark).  A fixture directory named after a rule code is
linted with that rule alone; any other directory (such as `clean/`) with
every rule, preview ones included.  Each `.py` file directly in a fixture
directory is its own one-file project; each subdirectory is one project of
several modules (for findings that cross files); a `threadlint.toml` in
such a folder configures it (`concurrent-api`, `thread-entry-points`...).
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from threadlint.config import Settings, load_config
from threadlint.rules.base import get_rule
from threadlint.runner import run

FIXTURES = Path(__file__).parent / "fixtures"
_EXPECT = re.compile(
    r"#\s*expect(?P<preview>-preview)?:\s*(?P<codes>TL\d{3}(?:\s*,\s*TL\d{3})*)"
)

Finding = tuple[str, int, str]  # (path relative to the project, line, code)


def fixture_projects() -> list[Path]:
    """Every project under tests/fixtures: single files and multi-module folders."""
    projects: list[Path] = []
    for group in sorted(p for p in FIXTURES.iterdir() if p.is_dir()):
        for entry in sorted(group.iterdir()):
            if entry.name.startswith((".", "__pycache__")):
                continue  # caches and tool folders, not fixtures
            if entry.suffix == ".py" or entry.is_dir():
                projects.append(entry)
    return projects


def settings_for(project: Path, preview: bool = True) -> Settings:
    group = project.parent.name if project.is_file() else project.parent.name
    base = Settings(root=str(project if project.is_dir() else project.parent), preview=preview)
    config = project / "threadlint.toml"
    if project.is_dir() and config.is_file():
        base = replace(load_config(config), preview=preview)
    if re.fullmatch(r"TL\d{3}", group):
        return replace(base, select=(group,))
    return replace(base, select=("ALL",))


def expected_findings(project: Path, preview: bool = True) -> set[Finding]:
    files = [project] if project.is_file() else sorted(project.rglob("*.py"))
    base = project.parent if project.is_file() else project
    found: set[Finding] = set()
    for path in files:
        rel = path.relative_to(base).as_posix()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            match = _EXPECT.search(line)
            if not match or (match.group("preview") and not preview):
                continue
            for code in re.split(r"\s*,\s*", match.group("codes")):
                rule = get_rule(code)
                if preview or (rule is not None and not rule.preview):
                    found.add((rel, number, code))
    return found


def actual_findings(project: Path, settings: Settings) -> set[Finding]:
    base = (project.parent if project.is_file() else project).resolve()
    result = run([str(project)], settings, jobs=1)
    assert not result.errors, result.errors
    return {
        (Path(d.path).resolve().relative_to(base).as_posix(), d.line, d.code)
        for d in result.diagnostics
    }


def compare(expected: set[Finding], actual: set[Finding]) -> list[str]:
    """Human-readable differences; empty when the findings match exactly."""
    problems = [f"missing: {f[0]}:{f[1]}: {f[2]}" for f in sorted(expected - actual)]
    problems += [f"unexpected: {f[0]}:{f[1]}: {f[2]}" for f in sorted(actual - expected)]
    return problems
