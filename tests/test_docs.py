"""The rule pages and the README's rule table follow the rule classes."""

from __future__ import annotations

from pathlib import Path

import pytest

from threadlint.docs_gen import rule_page
from threadlint.rules.base import all_rules

ROOT = Path(__file__).parent.parent


@pytest.mark.parametrize("rule", all_rules(), ids=lambda r: r.code)
def test_rule_page_is_up_to_date(rule: type) -> None:
    page = ROOT / "docs" / "rules" / f"{rule.code}.md"
    assert page.is_file(), "run: python -m threadlint.docs_gen docs/rules"
    assert page.read_text(encoding="utf-8") == rule_page(rule), (
        "docs/rules is stale; run: python -m threadlint.docs_gen docs/rules"
    )


@pytest.mark.parametrize("rule", all_rules(), ids=lambda r: r.code)
def test_readme_lists_rule(rule: type) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"[{rule.code}](docs/rules/{rule.code}.md) | {rule.name} |" in readme


@pytest.mark.parametrize("rule", all_rules(), ids=lambda r: r.code)
def test_rule_documents_itself(rule: type) -> None:
    if rule.code.startswith("TL0"):
        return
    for heading in ("## What it does", "## Why is this bad?", "## Example", "## How to suppress"):
        assert heading in (rule.__doc__ or ""), f"{rule.code} docstring lacks {heading!r}"
