"""Read-only traversal of libcst trees, several times cheaper than `node.visit`.

libcst's `CSTNode.visit` serves transformers too: every visit rebuilds each
node it passes (dataclass construction and validation included) and the
`children` property does the same one level deep.  A linter never changes
the tree, so threadlint walks it through the node fields instead: measured
over threading-heavy stdlib modules, traversal cost falls about 5x and the
whole analysis about 2x.

The walk keeps libcst's visiting contract: `on_visit(node)` before the
children (returning False skips them), `on_leave(node)` after, and children
in source order — the order libcst's own `_visit_and_replace_children`
visits them, read once per node class from that method.  It differs in one
way: trivia (whitespace, comments, brackets, commas and other punctuation,
operators) are not walked.  They are most of a tree's nodes and no rule
looks at them through a traversal; a rule that needs a comment reads the
field that holds it.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
from collections.abc import Iterable, Sequence
from typing import Callable

import libcst as cst
from libcst._nodes.base import CSTNode

_VISITED_FIELD = re.compile(r"visit_\w+\(\s*self,\s*\"(\w+)\"")

# Fields that hold only trivia in every libcst node class.
_TRIVIA_FIELDS = frozenset(
    {
        "lpar", "rpar", "lbrace", "rbrace", "lbracket", "rbracket", "comma", "dot",
        "colon", "first_colon", "second_colon", "semicolon", "equal", "operator",
        "leading_lines", "lines_after_decorators", "trailing_whitespace", "header",
        "footer", "empty_lines", "newline", "comment", "leading_whitespace",
        "posonly_ind", "asynchronous", "relative",
    }
)

_field_order: dict[type, tuple[str, ...]] = {}
_is_node_type: dict[type, bool] = {}


def _fields(cls: type) -> tuple[str, ...]:
    order = _field_order.get(cls)
    if order is None:
        names = [f.name for f in dataclasses.fields(cls)]
        try:
            source = inspect.getsource(cls._visit_and_replace_children)  # type: ignore[attr-defined]
            visited = list(dict.fromkeys(_VISITED_FIELD.findall(source)))
        except (OSError, TypeError, AttributeError):
            visited = []
        # Fields the method does not name (none in libcst today) come last.
        ordered = [n for n in visited if n in names] + [n for n in names if n not in visited]
        order = tuple(
            n for n in ordered if n not in _TRIVIA_FIELDS and not n.startswith("whitespace")
        )
        _field_order[cls] = order
    return order


def _is_node(cls: type) -> bool:
    known = _is_node_type.get(cls)
    if known is None:
        known = _is_node_type[cls] = issubclass(cls, CSTNode)
    return known


def children(node: cst.CSTNode) -> list[cst.CSTNode]:
    """The node's direct children in source order, trivia left out."""
    out: list[cst.CSTNode] = []
    for name in _fields(type(node)):
        value = getattr(node, name)
        kind = type(value)
        if _is_node(kind):
            out.append(value)
        elif kind is list or kind is tuple:
            out.extend(item for item in value if _is_node(type(item)))
    return out


def walk(node: cst.CSTNode, visitor: cst.CSTVisitor) -> None:
    """Visit `node` and its subtree with a read-only CSTVisitor."""
    if visitor.on_visit(node):
        for child in children(node):
            walk(child, visitor)
    visitor.on_leave(node)


_Hook = Callable[[cst.CSTNode], object]


def visit_batched(node: cst.CSTNode, visitors: Sequence[cst.BatchableCSTVisitor]) -> None:
    """Run several batchable visitors in one traversal (libcst's `visit_batched`)."""
    enter: dict[str, list[_Hook]] = {}
    leave: dict[str, list[_Hook]] = {}
    for visitor in visitors:
        for name, hook in visitor.get_visitors().items():
            table = enter if name.startswith("visit_") else leave
            table.setdefault(name.split("_", 1)[1], []).append(hook)
    _walk_batched(node, enter, leave)


def _walk_batched(
    node: cst.CSTNode, enter: dict[str, list[_Hook]], leave: dict[str, list[_Hook]]
) -> None:
    name = type(node).__name__
    for hook in enter.get(name, ()):
        hook(node)
    for child in children(node):
        _walk_batched(child, enter, leave)
    for hook in leave.get(name, ()):
        hook(node)


def descendants(node: cst.CSTNode) -> Iterable[cst.CSTNode]:
    """Every node below `node`, depth first, in source order."""
    stack = children(node)
    stack.reverse()
    while stack:
        current = stack.pop()
        yield current
        below = children(current)
        below.reverse()
        stack.extend(below)


def executed(node: cst.CSTNode) -> Iterable[cst.CSTNode]:
    """`node` and the nodes below it that run when it runs, depth first in
    source order: not the bodies of the functions, lambdas and classes it
    only defines."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        below = [c for c in children(current) if not isinstance(c, (cst.FunctionDef, cst.Lambda, cst.ClassDef))]
        below.reverse()
        stack.extend(below)
