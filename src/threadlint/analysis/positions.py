"""Line and column of libcst nodes, found with the C parser.

libcst's PositionProvider regenerates the whole module's code to compute
positions, which costs more than parsing it.  The model needs the positions
of a few node kinds only (names, attributes, calls, `if`s, lambdas, defs,
classes and raises), and Python's own `ast` gives those almost for free: the k-th
`self.items` of a module in source order is the k-th `self.items` for both
parsers.  When the two parsers do not agree on how many nodes of a kind
there are (or the source is not at hand), this falls back to libcst.
"""

from __future__ import annotations

import ast
import warnings

import libcst as cst
from libcst.metadata import CodePosition, CodeRange

from threadlint.analysis.context import ModuleContext

Key = str
# Parents under which a libcst Name is not a variable (ast has a string there).
_NOT_VARIABLE = (
    cst.FunctionDef,
    cst.ClassDef,
    cst.Param,
    cst.ImportAlias,
    cst.ImportFrom,
    cst.NameItem,
    cst.MatchAs,
    cst.MatchStar,
    cst.MatchMapping,
    cst.MatchKeywordElement,
)


def _ast_key(node: ast.AST) -> Key | None:
    if isinstance(node, ast.Name):
        return "n:" + node.id
    if isinstance(node, ast.Attribute):
        return "." + node.attr
    if isinstance(node, ast.Call):
        return "call"
    if isinstance(node, ast.If):
        return "if"
    if isinstance(node, ast.Lambda):
        return "lambda"
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return "def"
    if isinstance(node, ast.ClassDef):
        return "class"
    if isinstance(node, ast.Raise):
        return "raise"
    return None


Place = tuple[int, int, int, int]  # line, byte offset, end line, end byte offset


class Positions:
    def __init__(self, ctx: ModuleContext) -> None:
        self.ctx = ctx
        self._ast: dict[Key, list[Place]] | None = None
        self._ordinals: dict[cst.CSTNode, tuple[Key, int]] = {}
        self._counts: dict[Key, int] = {}
        self._lines: list[bytes] = []
        self._failed = ctx.source is None

    def of(self, node: cst.CSTNode) -> tuple[int, int]:
        """(line, column), both 1-based; the column counts characters."""
        found = self.range_of(node)
        if found is not None:
            return found.start.line, found.start.column + 1
        start = self.ctx.position(node).start
        return start.line, start.column + 1

    def range_of(self, node: cst.CSTNode) -> CodeRange | None:
        """libcst's range of `node` (0-based character columns), or None if unknown here."""
        if self._failed:
            return None
        if self._ast is None:
            self._index()
        found = self._ordinals.get(node)
        if found is None or self._ast is None:
            return None
        key, index = found
        places = self._ast.get(key, [])
        if len(places) != self._counts.get(key, -1):
            return None  # the parsers disagree on this kind: do not guess
        line, offset, end_line, end_offset = places[index]
        return CodeRange(
            CodePosition(line, self._column(line, offset)),
            CodePosition(end_line, self._column(end_line, end_offset)),
        )

    def _index(self) -> None:
        assert self.ctx.source is not None
        tree = self.ctx.ast_tree
        if tree is None:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    tree = ast.parse(self.ctx.source)
            except (SyntaxError, ValueError):
                self._failed = True
                return
        places: dict[Key, list[Place]] = {}
        for found in ast.walk(tree):
            key = _ast_key(found)
            if key is not None:
                places.setdefault(key, []).append(
                    (
                        found.lineno,  # type: ignore[attr-defined]
                        found.col_offset,  # type: ignore[attr-defined]
                        getattr(found, "end_lineno", None) or 0,
                        getattr(found, "end_col_offset", None) or 0,
                    )
                )
        # Source order, outer before inner (as a pre-order walk of libcst meets them).
        self._ast = {
            key: sorted(found, key=lambda p: (p[0], p[1], -p[2], -p[3]))
            for key, found in places.items()
        }
        counts: dict[Key, int] = {}
        for node, parent in self.ctx.parents.items():
            key = _cst_key(node, parent, self.ctx)
            if key is not None:
                index = counts.get(key, 0)
                self._ordinals[node] = (key, index)
                counts[key] = index + 1
        self._counts = counts
        self._lines = self.ctx.source.splitlines()

    def _column(self, line: int, offset: int) -> int:
        """A 0-based character column from ast's byte offset."""
        text = self._lines[line - 1] if 0 < line <= len(self._lines) else b""
        try:
            return len(text[:offset].decode("utf-8"))
        except UnicodeDecodeError:
            return offset


def _in_import(parent: cst.CSTNode, ctx: ModuleContext) -> bool:
    """Module paths of imports (`import os.path`) are plain strings for `ast`."""
    current: cst.CSTNode | None = parent
    while isinstance(current, cst.Attribute):
        current = ctx.parent(current)
    return isinstance(current, (cst.ImportAlias, cst.ImportFrom))


_FIXED_KEYS = {
    cst.Call: "call",
    cst.If: "if",
    cst.Lambda: "lambda",
    cst.FunctionDef: "def",
    cst.ClassDef: "class",
    cst.Raise: "raise",
}
_CONSTANTS = frozenset({"True", "False", "None"})


def _cst_key(node: cst.CSTNode, parent: cst.CSTNode, ctx: ModuleContext) -> Key | None:
    kind = type(node)
    if kind is cst.Name:
        assert isinstance(node, cst.Name)
        if node.value in _CONSTANTS or isinstance(parent, _NOT_VARIABLE):
            return None
        parent_kind = type(parent)
        if parent_kind is cst.Attribute:
            if parent.attr is node or _in_import(parent, ctx):  # type: ignore[attr-defined]
                return None
        elif parent_kind is cst.Arg:
            if parent.keyword is node:  # type: ignore[attr-defined]
                return None
        elif parent_kind is cst.AsName and not isinstance(ctx.parent(parent), cst.WithItem):
            return None
        return "n:" + node.value
    if kind is cst.Attribute:
        assert isinstance(node, cst.Attribute)
        if type(parent) in (cst.Attribute, cst.ImportAlias, cst.ImportFrom) and _in_import(
            parent, ctx
        ):
            return None
        return "." + node.attr.value
    return _FIXED_KEYS.get(kind)
