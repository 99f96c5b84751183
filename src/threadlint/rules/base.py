"""The rule framework: one small class per rule, registered by code.

A *file rule* is a libcst batchable visitor: it declares the `visit_*` /
`leave_*` methods for the syntax it looks at, reads the shared
`ModuleContext`, and calls `self.report(node, message)`.  All enabled file
rules of a file run in one batched traversal.

A *project rule* runs once per run over the facts of every file (see
`threadlint.facts` and `threadlint.link`) and yields diagnostics itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Callable, ClassVar

import libcst as cst

from threadlint.analysis.context import ModuleContext
from threadlint.diagnostics import Diagnostic, Fix, rule_url
from threadlint.printable import shortened

if TYPE_CHECKING:
    from threadlint.config import Settings

Reporter = Callable[[Diagnostic], None]


class RuleMeta:
    """What the catalogue says about a rule; shared by both rule kinds."""

    code: ClassVar[str]
    name: ClassVar[str]
    summary: ClassVar[str]
    # Preview rules run only with --preview: new or not yet precise enough.
    preview: ClassVar[bool] = False
    # Opt-in rules run only when selected by their full code (or ALL).
    opt_in: ClassVar[bool] = False
    fixable: ClassVar[bool] = False

    @classmethod
    def url(cls) -> str:
        return rule_url(cls.code)


class FileRule(RuleMeta, cst.BatchableCSTVisitor):
    def __init__(self, ctx: ModuleContext, settings: Settings, reporter: Reporter) -> None:
        super().__init__()
        self.ctx = ctx
        self.settings = settings
        self._reporter = reporter

    def shown(self, node: cst.CSTNode) -> str:
        """A node's code, short enough to quote in a message."""
        return shortened(self.ctx.code_for(node))

    def report(self, node: cst.CSTNode, message: str, fix: Fix | None = None) -> None:
        pos = self.ctx.position(node)
        self._reporter(
            Diagnostic(
                path=self.ctx.path,
                line=pos.start.line,
                col=pos.start.column + 1,
                end_line=pos.end.line,
                end_col=pos.end.column + 1,
                code=self.code,
                message=message,
                fix=fix,
            )
        )


class ProjectRule(RuleMeta):
    """A rule decided over the whole project's facts by the link phase."""

    def check(self, project: object, settings: Settings) -> Iterable[Diagnostic]:
        raise NotImplementedError


class ToolRule(RuleMeta):
    """Findings the tool itself emits (TL0xx); no check method of their own."""


RuleClass = type[RuleMeta]

_REGISTRY: dict[str, RuleClass] = {}


def register(rule: RuleClass) -> RuleClass:
    """Class decorator adding a rule to the catalogue."""
    if rule.code in _REGISTRY:
        raise ValueError(f"duplicate rule code {rule.code}")
    _REGISTRY[rule.code] = rule
    return rule


def all_rules() -> list[RuleClass]:
    from threadlint import rules  # noqa: F401  (imports every family module)

    return [_REGISTRY[code] for code in sorted(_REGISTRY)]


def get_rule(code: str) -> RuleClass | None:
    from threadlint import rules  # noqa: F401  (imports every family module)

    return _REGISTRY.get(code)
