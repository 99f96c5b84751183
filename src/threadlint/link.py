"""The project-wide pass: every project rule over all files' facts."""

from __future__ import annotations

from collections.abc import Sequence

from threadlint.analysis.per_file import FileResult
from threadlint.config import Settings
from threadlint.diagnostics import Diagnostic
from threadlint.rules.base import ProjectRule, all_rules


def link_project(results: Sequence[FileResult], settings: Settings) -> list[Diagnostic]:
    rules = [
        rule()
        for rule in all_rules()
        if issubclass(rule, ProjectRule)
        and settings.is_selected(rule.code, preview=rule.preview, opt_in=rule.opt_in)
    ]
    if not rules:
        return []
    diagnostics: list[Diagnostic] = []
    for rule in rules:
        diagnostics.extend(rule.check(results, settings))
    return diagnostics
