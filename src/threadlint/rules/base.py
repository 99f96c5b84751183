"""The rule framework: one small class per rule, registered by code.

A *file rule* is a libcst batchable visitor: it declares the `visit_*` /
`leave_*` methods for the syntax it looks at, reads the shared
`ModuleContext`, and calls `self.report(node, message)`.  All enabled file
rules of a file run in one batched traversal.

A *project rule* runs once per run over the facts of every file (see
`threadlint.facts` and `threadlint.link`) and yields diagnostics itself.

A file rule whose finding depends on what other modules' functions do
*defers* it (`self.defer(...)`): the link reports it when the fact holds
(`threadlint.raising`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Callable, ClassVar

import libcst as cst

from threadlint import facts as F
from threadlint.analysis.context import ModuleContext
from threadlint.analysis.per_file import register_collector
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
        self._reporter(self._diagnostic(node, message, fix))

    def defer(
        self, node: cst.CSTNode, message: str, function: str, calls: Sequence[cst.Call]
    ) -> None:
        """Report at the link if one of `calls` (made by `function`) can
        raise; `message` has `facts.BLAME` where the reason goes."""
        positions = self.ctx.fast_positions()
        places = tuple(
            (*positions.of(call)[:2], self.shown(call)) for call in calls
        )
        deferred = self.ctx.memo.setdefault((_DEFERRED, self.ctx.module), [])
        assert isinstance(deferred, list)
        deferred.append(F.Deferred(self._diagnostic(node, message), function, places))

    def _diagnostic(self, node: cst.CSTNode, message: str, fix: Fix | None = None) -> Diagnostic:
        pos = self.ctx.position(node)
        return Diagnostic(
            path=self.ctx.path,
            line=pos.start.line,
            col=pos.start.column + 1,
            end_line=pos.end.line,
            end_col=pos.end.column + 1,
            code=self.code,
            message=message,
            fix=fix,
        )


_DEFERRED = "deferred-findings"


@register_collector("deferred")
def collect_deferred(ctx: ModuleContext, settings: Settings) -> tuple[F.Deferred, ...]:
    """The findings this module's file rules deferred to the link."""
    deferred = ctx.memo.get((_DEFERRED, ctx.module), [])
    assert isinstance(deferred, list)
    return tuple(deferred)


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
