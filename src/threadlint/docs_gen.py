"""Rule documentation pages, generated from the rule classes' docstrings.

The docstring of each rule class is the single source of a rule's
documentation: `threadlint --explain CODE` prints it, and
`python -m threadlint.docs_gen docs/rules` writes docs/rules/CODE.md (a test
fails when the committed pages are out of date).
"""

from __future__ import annotations

import inspect
import sys
from pathlib import Path

from threadlint.rules.base import RuleClass, all_rules


def rule_page(rule: RuleClass) -> str:
    body = inspect.cleandoc(rule.__doc__ or "").strip()
    notes = []
    if rule.preview:
        notes.append("This rule is in **preview**: it runs only with `--preview`.")
    if rule.opt_in:
        notes.append(f"This rule is **opt-in**: enable it with `--extend-select {rule.code}`.")
    if rule.fixable:
        notes.append("Fix: available with `--fix`.")
    head = f"# {rule.code}: {rule.name}\n\n{rule.summary}.\n"
    parts = [head]
    if notes:
        parts.append("\n".join(f"> {n}" for n in notes) + "\n")
    if body:
        parts.append(body + "\n")
    return "\n".join(parts)


def write_pages(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for rule in all_rules():
        (directory / f"{rule.code}.md").write_text(rule_page(rule), encoding="utf-8")


if __name__ == "__main__":
    write_pages(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/rules"))
