"""What every walker of one module shares while it builds the summaries.

The tables of the module (imports, classes, definitions, tracked globals)
and the small questions both the module collector and the function walker
ask: what a dotted expression names absolutely, whether bindings make a
thread-safe object or a container, whether a `def`/`class` carries a
`# threadlint:` annotation.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import libcst as cst

from threadlint import facts as F
from threadlint.analysis import threading_api as api
from threadlint.analysis.context import Binding, ModuleContext, dotted_name
from threadlint.analysis.locks import LockAnalysis
from threadlint.analysis.positions import Positions
from threadlint.analysis.state_api import (
    CONTAINER_FACTORIES,
    CONTAINER_LITERALS,
)
from threadlint.config import Settings

_ANNOTATION = "threadlint:"


@dataclass
class ModuleScope:
    """What every walker of one module shares."""

    ctx: ModuleContext
    settings: Settings
    locks: LockAnalysis
    imports: dict[str, str]
    class_ids: dict[cst.ClassDef, str]
    class_facts: dict[cst.ClassDef, ClassScope]
    module_defs: dict[str, str]  # module-level def/class name -> absolute id
    nested_defs: dict[cst.CSTNode, dict[str, cst.FunctionDef]]
    tracked_globals: set[str]
    safe_globals: set[str]
    pos: Positions = field(init=False)
    function_ids: dict[cst.FunctionDef, str] = field(default_factory=dict)
    functions: list[F.Function] = field(default_factory=list)
    servers: list[F.Server] = field(default_factory=list)


@dataclass
class ClassScope:
    methods: set[str]
    safe_attrs: set[str]


def makes_safe(model: ModuleScope, bindings: Sequence[Binding]) -> bool:
    """Any binding makes a thread-safe object (a lock, queue, event, thread, local...)."""
    for binding in bindings:
        value = binding.value if binding.value is not None else binding.annotation
        if value is None:
            continue
        kind = (
            model.ctx.kind_of(value) if binding.value is not None else model.ctx.kind_of_type(value)
        )
        if kind is not None and kind != api.DEQUE:
            return True
        if (
            isinstance(value, cst.Call)
            and model.settings.thread_safe_types
            and absolute_name(model, value.func) in model.settings.thread_safe_types
        ):
            return True
    return False


def container_kind(model: ModuleScope, bindings: Sequence[Binding]) -> str | None:
    """ "list", "container" (dict, set, deque...) or None when no binding shows one."""
    found: str | None = None
    for binding in bindings:
        value = binding.value
        if isinstance(value, (cst.List, cst.ListComp)):
            return "list"
        if isinstance(value, CONTAINER_LITERALS):
            found = "container"
        elif isinstance(value, cst.Call):
            qualified = model.ctx.qualname(value.func)
            if qualified == "list":
                return "list"
            if qualified in CONTAINER_FACTORIES:
                found = "container"
    return found


def absolute_name(model: ModuleScope, expr: cst.BaseExpression) -> str | None:
    """The absolute dotted name an expression refers to (imports, module definitions)."""
    dotted = dotted_name(expr)
    if dotted is None:
        return None
    head, _, rest = dotted.partition(".")
    if head in model.imports:
        base = model.imports[head]
    elif head in model.module_defs:
        base = model.module_defs[head]
    elif head in model.ctx.bindings.get(model.ctx.module, {}):
        base = f"{model.ctx.module_name}.{head}"
    else:
        return dotted
    return f"{base}.{rest}" if rest else base


def _comment_lines(node: cst.FunctionDef | cst.ClassDef) -> Iterable[str]:
    body = node.body
    if isinstance(body, cst.IndentedBlock) and body.header.comment is not None:
        yield body.header.comment.value
    elif (
        isinstance(body, cst.SimpleStatementSuite) and body.trailing_whitespace.comment is not None
    ):
        yield body.trailing_whitespace.comment.value
    for line in node.leading_lines[-1:]:
        if line.comment is not None:
            yield line.comment.value
    for decorator in node.decorators[:1]:
        for line in decorator.leading_lines[-1:]:
            if line.comment is not None:
                yield line.comment.value


def annotated(node: cst.FunctionDef | cst.ClassDef, word: str) -> bool:
    for comment in _comment_lines(node):
        text = comment.lstrip("#").strip()
        if text.startswith(_ANNOTATION) and word in text[len(_ANNOTATION) :].split():
            return True
    return False
