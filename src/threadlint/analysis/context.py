"""What every rule may ask about the module it is looking at.

One `ModuleContext` is built per parsed file: the libcst tree, node
positions, parent links, imports, and the bindings of every scope.  It
answers the questions rules keep asking ("what does this name refer to?",
"is this expression a Thread?") so no rule re-derives them.

Parent links and bindings come from one cheap pre-pass of our own rather
than libcst's ParentNodeProvider/ScopeProvider/QualifiedNameProvider: on the
standard library those providers cost several times the parse itself, and
the lint needs only a small part of what they compute.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Union

import libcst as cst
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider

from threadlint.analysis import threading_api as api
from threadlint.analysis.state_api import CONTAINER_FACTORIES
from threadlint.analysis.walk import walk

if TYPE_CHECKING:
    from threadlint.analysis.positions import Positions

ScopeNode = Union[cst.Module, cst.FunctionDef, cst.Lambda, cst.ClassDef]


@dataclass
class Binding:
    """One way a name or attribute gets its value."""

    value: cst.BaseExpression | None = None
    annotation: cst.BaseExpression | None = None


@dataclass
class ClassInfo:
    node: cst.ClassDef
    name: str
    bases: list[str | None]  # qualified names; None where unresolved
    methods: dict[str, cst.FunctionDef] = field(default_factory=dict)
    # `self.attr = value` anywhere in the class's methods, and class-level
    # `attr = value`.
    attrs: dict[str, list[Binding]] = field(default_factory=dict)


class _Indexer(cst.CSTVisitor):
    """One pass that records parents, imports, scope bindings and classes."""

    def __init__(self, ctx: ModuleContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.stack: list[cst.CSTNode] = []
        self.scopes: list[ScopeNode] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        if self.stack:
            self.ctx.parents[node] = self.stack[-1]
        self.stack.append(node)
        if isinstance(node, (cst.Module, cst.FunctionDef, cst.Lambda, cst.ClassDef)):
            self.scopes.append(node)
            self.ctx.bindings.setdefault(node, {})
        return super().on_visit(node)

    def on_leave(self, original_node: cst.CSTNode) -> None:
        super().on_leave(original_node)
        self.stack.pop()
        if self.scopes and self.scopes[-1] is original_node:
            self.scopes.pop()

    # -- helpers -----------------------------------------------------------

    def _bind(self, name: str, binding: Binding) -> None:
        self.ctx.bindings[self.scopes[-1]].setdefault(name, []).append(binding)

    def _bind_target(self, target: cst.BaseExpression, binding: Binding) -> None:
        if isinstance(target, cst.Name):
            self._bind(target.value, binding)
        elif isinstance(target, cst.Attribute):
            self._bind_self_attr(target, binding)
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self._bind_target(element.value, Binding())

    def _bind_self_attr(self, target: cst.Attribute, binding: Binding) -> None:
        if not (isinstance(target.value, cst.Name) and target.value.value in ("self", "cls")):
            return
        # The target itself has no parent link yet (children are indexed
        # after their parent's visit), the statement being visited has.
        cls = self.ctx.enclosing_class(self.stack[-1])
        if cls is not None:
            self.ctx.classes[cls].attrs.setdefault(target.attr.value, []).append(binding)

    # -- imports -----------------------------------------------------------

    def _add_imports(self, bindings: dict[str, str]) -> None:
        fallback = any(isinstance(n, cst.ExceptHandler) for n in self.stack)
        add_imports(self.ctx.imports, bindings, fallback)

    def visit_Import(self, node: cst.Import) -> None:
        self._add_imports(import_bindings(node, None))
        for alias in node.names:
            dotted = _dotted(alias.name)
            if dotted is not None:
                self.ctx.imported_modules.add(dotted)

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        prefix = import_from_prefix(node, None)
        if prefix is None:
            return
        self.ctx.imported_modules.add(prefix)
        if isinstance(node.names, cst.ImportStar):
            self.ctx.star_imports.append(prefix)
            return
        self._add_imports(import_bindings(node, None))

    # -- bindings ----------------------------------------------------------

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        bases = [self.ctx.qualname(arg.value) for arg in node.bases if arg.keyword is None]
        self.ctx.classes[node] = ClassInfo(node=node, name=node.name.value, bases=bases)
        self.ctx.classes_by_name.setdefault(node.name.value, node)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        parent = self.scopes[-2] if len(self.scopes) > 1 else None
        if isinstance(parent, cst.ClassDef):
            self.ctx.classes[parent].methods.setdefault(node.name.value, node)
        params = node.params
        for param in [*params.posonly_params, *params.params, *params.kwonly_params]:
            annotation = param.annotation.annotation if param.annotation else None
            self.ctx.bindings[node].setdefault(param.name.value, []).append(
                Binding(annotation=annotation)
            )
        for star in (params.star_arg, params.star_kwarg):
            if isinstance(star, cst.Param):
                self.ctx.bindings[node].setdefault(star.name.value, []).append(Binding())

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            self._bind_target(target.target, Binding(value=node.value))

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._bind_target(node.target, Binding(value=node.value, annotation=node.annotation.annotation))

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._bind_target(node.target, Binding())

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self._bind_target(node.asname.name, Binding(value=node.item))

    def visit_For(self, node: cst.For) -> None:
        self._bind_target(node.target, Binding())

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._bind_target(node.target, Binding(value=node.value))

    def visit_Global(self, node: cst.Global) -> None:
        for item in node.names:
            self.ctx.globals_declared.setdefault(self.scopes[-1], set()).add(item.name.value)


def _dotted(node: cst.Name | cst.Attribute | cst.BaseExpression | None) -> str | None:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr.value}" if base is not None else None
    return None


LOG_METHODS = frozenset(
    {"debug", "info", "warning", "warn", "error", "exception", "critical", "log"}
)
_LOGGER_FACTORIES = frozenset({"logging.getLogger", "logging.Logger", "logging.LoggerAdapter"})


def _named_like_logger(name: str) -> bool:
    """`log`, `logger`, `_LOG`, `self.audit_log`, `request_logger`."""
    lowered = name.lower()
    return lowered.split("_")[-1] in ("log", "logger") or lowered.endswith("logger")


def dotted_name(node: cst.BaseExpression | None) -> str | None:
    """`a.b.c` for a chain of names and attributes, else None."""
    return _dotted(node)


def add_imports(table: dict[str, str], bindings: dict[str, str], fallback: bool) -> None:
    """Add what an import binds to a table of local names.  An import in an
    `except` handler is a fallback (`try: import threading` / `except
    ImportError: import dummy_threading as threading`): it runs only where
    the first import failed, and names the same API, so a name keeps what
    the first import bound."""
    for name, target in bindings.items():
        if not (fallback and name in table):
            table[name] = target


def import_bindings(node: cst.Import | cst.ImportFrom, package: str | None) -> dict[str, str]:
    """The local names an import binds, each to the dotted name it refers to.

    With `package` (the dotted package the module lives in), relative imports
    are made absolute (`from .m import f` in `pkg.a` binds `f` to `pkg.m.f`);
    with None they keep their dots (`.m.f`).  A relative import climbing
    above the top package binds nothing.
    """
    bound: dict[str, str] = {}
    if isinstance(node, cst.Import):
        for alias in node.names:
            dotted = _dotted(alias.name)
            if dotted is None:
                continue
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                bound[alias.asname.name.value] = dotted
            else:
                top = dotted.split(".")[0]
                bound[top] = top
        return bound
    prefix = import_from_prefix(node, package)
    if prefix is None or isinstance(node.names, cst.ImportStar):
        return bound
    for alias in node.names:
        name = _dotted(alias.name)
        if name is None:
            continue
        local = name
        if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
            local = alias.asname.name.value
        bound[local] = f"{prefix}.{name}" if prefix else name
    return bound


def import_from_prefix(node: cst.ImportFrom, package: str | None) -> str | None:
    """The module a `from ... import` reads from; see `import_bindings`."""
    module = _dotted(node.module) if node.module is not None else ""
    if module is None:
        return None
    level = len(node.relative)
    if not level:
        return module
    if package is None:
        return "." * level + module
    anchor = package.split(".") if package else []
    if level - 1 > len(anchor):
        return None
    anchor = anchor[: len(anchor) - (level - 1)]
    return ".".join([*anchor, module] if module else anchor)


class ModuleContext:
    def __init__(
        self,
        path: str,
        module: cst.Module,
        module_name: str = "",
        source: bytes | None = None,
        ast_tree: ast.Module | None = None,
    ) -> None:
        self.path = path
        self.module_name = module_name
        # The bytes parsed, when known: lets a collector find line numbers with
        # the C parser instead of resolving libcst positions (see analysis.model).
        self.source = source
        self.ast_tree = ast_tree  # the same source parsed by `ast`, when at hand
        # Per-module memo for derived facts other modules compute on demand
        # (keyed by (purpose, node)), e.g. analysis.spawn's thread roots.
        self.memo: dict[tuple[str, cst.CSTNode], object] = {}
        self.wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
        self.module = self.wrapper.module
        self.parents: dict[cst.CSTNode, cst.CSTNode] = {}
        self.imports: dict[str, str] = {}
        self.imported_modules: set[str] = set()
        self.star_imports: list[str] = []
        self.bindings: dict[cst.CSTNode, dict[str, list[Binding]]] = {}
        self.globals_declared: dict[cst.CSTNode, set[str]] = {}
        self.classes: dict[cst.ClassDef, ClassInfo] = {}
        self.classes_by_name: dict[str, cst.ClassDef] = {}
        walk(self.module, _Indexer(self))
        self._positions: Mapping[cst.CSTNode, CodeRange] | None = None
        self._fast_positions: Positions | None = None
        self._kinds: dict[cst.CSTNode, str | None] = {}
        self._bindings_cache: dict[tuple[str, cst.CSTNode | None], list[Binding]] = {}

    # -- positions and tree navigation -------------------------------------

    def position(self, node: cst.CSTNode) -> CodeRange:
        """libcst's range of `node`: 1-based lines, 0-based character columns."""
        # libcst's PositionProvider regenerates the whole module's code, which
        # costs more than parsing it; the C parser's positions serve the node
        # kinds rules report most (see analysis.positions), and libcst's are
        # resolved only for the rest, once, on first request.
        found = self.fast_positions().range_of(node)
        if found is not None:
            return found
        if self._positions is None:
            self._positions = self.wrapper.resolve(PositionProvider)
        return self._positions[node]

    def fast_positions(self) -> Positions:
        if self._fast_positions is None:
            from threadlint.analysis.positions import Positions

            self._fast_positions = Positions(self)
        return self._fast_positions

    def parent(self, node: cst.CSTNode) -> cst.CSTNode | None:
        return self.parents.get(node)

    def ancestors(self, node: cst.CSTNode) -> Iterator[cst.CSTNode]:
        current = self.parents.get(node)
        while current is not None:
            yield current
            current = self.parents.get(current)

    def enclosing_function(self, node: cst.CSTNode) -> cst.FunctionDef | None:
        for ancestor in self.ancestors(node):
            if isinstance(ancestor, cst.FunctionDef):
                return ancestor
        return None

    def enclosing_scope(self, node: cst.CSTNode) -> ScopeNode:
        for ancestor in self.ancestors(node):
            if isinstance(ancestor, (cst.FunctionDef, cst.Lambda, cst.ClassDef, cst.Module)):
                return ancestor
        return self.module

    def enclosing_class(self, node: cst.CSTNode) -> cst.ClassDef | None:
        """The class whose method (directly) contains `node`."""
        function = self.enclosing_function(node)
        while function is not None:
            parent = self.parents.get(function)
            if isinstance(parent, cst.IndentedBlock):
                parent = self.parents.get(parent)
            if isinstance(parent, cst.ClassDef):
                return parent
            function = self.enclosing_function(function)
        return None

    def is_module_level(self, node: cst.CSTNode) -> bool:
        """True when `node` runs at import time (not inside a def or lambda)."""
        return not any(
            isinstance(a, (cst.FunctionDef, cst.Lambda)) for a in self.ancestors(node)
        )

    # -- names -------------------------------------------------------------

    def qualname(self, node: cst.BaseExpression | None) -> str | None:
        """The fully qualified name an expression refers to through imports.

        `Thread` after `from threading import Thread` is `threading.Thread`;
        `th.Lock` after `import threading as th` is `threading.Lock`.  Names
        bound locally (not imported) resolve to themselves when defined at
        module level, so a local class `Worker` is `Worker`.
        """
        dotted = _dotted(node)
        if dotted is None:
            return None
        head, _, rest = dotted.partition(".")
        if head in self.imports:
            target = self.imports[head]
            return f"{target}.{rest}" if rest else target
        return dotted

    def bindings_of(self, name: str, at: cst.CSTNode) -> list[Binding]:
        """The bindings `name` may have at `at`: innermost scope that binds it."""
        scope = self._variable_scope(at)
        key = (name, scope)
        found = self._bindings_cache.get(key)
        if found is None:
            found = self._bindings_cache[key] = self._lookup(name, at)
        return found

    def _variable_scope(self, node: cst.CSTNode) -> cst.CSTNode | None:
        """The innermost function, lambda or module around `node` (class bodies
        do not scope names for the code inside their methods)."""
        for ancestor in self.ancestors(node):
            if isinstance(ancestor, (cst.FunctionDef, cst.Lambda, cst.Module)):
                return ancestor
        return None

    def _lookup(self, name: str, at: cst.CSTNode) -> list[Binding]:
        for ancestor in self.ancestors(at):
            if isinstance(ancestor, (cst.FunctionDef, cst.Lambda, cst.Module)):
                scope = self.bindings.get(ancestor, {})
                if name in self.globals_declared.get(ancestor, set()):
                    return self.bindings.get(self.module, {}).get(name, [])
                if name in scope:
                    return scope[name]
        return []

    # -- types -------------------------------------------------------------

    def kind_of(self, expr: cst.BaseExpression | None, _depth: int = 0) -> str | None:
        """The concurrency kind (threading_api) of an expression's value, if known.

        Follows constructor calls, local and module bindings, `with ... as`,
        annotations and `self.attr` assignments anywhere in the class.  When
        the bindings disagree, the kind is unknown (None): rules stay silent
        rather than guess.
        """
        if expr is None or _depth > 6:
            return None
        # Memoised: rules ask about the same names over and over, and chains of
        # bindings (`x = f(x)` in a loop) make the uncached walk quadratic.
        # An expression met again while its own kind is being worked out is a
        # cycle of bindings: unknown.
        if expr in self._kinds:
            return self._kinds[expr]
        self._kinds[expr] = None
        kind = self._kind_of_uncached(expr, _depth)
        self._kinds[expr] = kind
        return kind

    def _kind_of_uncached(self, expr: cst.BaseExpression, _depth: int) -> str | None:
        if isinstance(expr, cst.Call):
            if isinstance(expr.func, cst.Attribute):
                method = expr.func.attr.value
                receiver = self.kind_of(expr.func.value, _depth + 1)
                if receiver is not None and (receiver, method) in api.METHOD_RESULT_KINDS:
                    return api.METHOD_RESULT_KINDS[(receiver, method)]
            return self.kind_of_type(expr.func)
        if isinstance(expr, cst.Name):
            return self._kind_of_bindings(self.bindings_of(expr.value, expr), _depth)
        if isinstance(expr, cst.Attribute):
            attr_bindings = self.self_attr_bindings(expr)
            if attr_bindings is not None:
                return self._kind_of_bindings(attr_bindings, _depth)
        if isinstance(expr, cst.IfExp):
            # `Semaphore(n) if n > 0 else None`: the kind of the branches that
            # make something, when they agree.
            kinds = {self.kind_of(branch, _depth + 1) for branch in (expr.body, expr.orelse) if not is_none(branch)}
            return kinds.pop() if len(kinds) == 1 else None
        return None

    def kind_of_type(self, type_expr: cst.BaseExpression) -> str | None:
        """The kind of instances of the class (or factory) `type_expr` names."""
        qualified = self.qualname(type_expr)
        if qualified is None:
            return None
        if qualified in api.TYPE_KINDS:
            return api.TYPE_KINDS[qualified]
        local = self.classes_by_name.get(qualified)
        if local is not None:
            return self._kind_of_class(local, set())
        # A module-level alias of an API: `_allocate_lock = _thread.allocate_lock`.
        if isinstance(type_expr, cst.Name):
            aliases = self.bindings.get(self.module, {}).get(type_expr.value, [])
            if len(aliases) == 1 and isinstance(aliases[0].value, (cst.Name, cst.Attribute)):
                target = self.qualname(aliases[0].value)
                if target in api.TYPE_KINDS:
                    return api.TYPE_KINDS[target]
        return None

    def _kind_of_class(self, node: cst.ClassDef, seen: set[str]) -> str | None:
        info = self.classes[node]
        if info.name in seen:
            return None
        seen.add(info.name)
        for base in info.bases:
            if base is None:
                continue
            if base in api.TYPE_KINDS and api.TYPE_KINDS[base] in (api.THREAD, api.TIMER):
                return api.TYPE_KINDS[base]
            local = self.classes_by_name.get(base)
            if local is not None:
                kind = self._kind_of_class(local, seen)
                if kind is not None:
                    return kind
        return None

    def local_bases(self, cls: cst.ClassDef) -> list[cst.ClassDef]:
        """The bases of `cls` defined in this module, and theirs, breadth
        first (nearest first), each once; `cls` itself is not among them."""
        found: list[cst.ClassDef] = []
        pending = [cls]
        while pending:
            for base in self.classes[pending.pop(0)].bases:
                local = self.classes_by_name.get(base or "")
                if local is not None and local is not cls and local not in found:
                    found.append(local)
                    pending.append(local)
        return found

    def method(self, cls: cst.ClassDef, name: str) -> cst.FunctionDef | None:
        """The method `name` as `cls` defines it, or else its nearest base of
        this module (None when neither does: a base from elsewhere may)."""
        for member in [cls, *self.local_bases(cls)]:
            found = self.classes[member].methods.get(name)
            if found is not None:
                return found
        return None

    def is_thread_subclass(self, node: cst.ClassDef) -> bool:
        return self._kind_of_class(node, set()) in api.THREAD_KINDS

    def is_logger(self, receiver: cst.BaseExpression) -> bool:
        """`logging`, a logger made by `logging.getLogger()`, or an object
        named like one (`log`, `self._logger`, `LOGGER`)."""
        if self.qualname(receiver) == "logging":
            return True
        values = [b.value for b in self.bindings_of_expr(receiver) if b.value is not None]
        if values and all(
            isinstance(v, cst.Call) and self.qualname(v.func) in _LOGGER_FACTORIES for v in values
        ):
            return True
        dotted = dotted_name(receiver)
        return dotted is not None and _named_like_logger(dotted.rsplit(".", 1)[-1])

    def is_logging_call(self, call: cst.Call) -> bool:
        """`log.debug(...)`, `logging.info(...)`, `self._logger.log(...)`."""
        func = call.func
        return (
            isinstance(func, cst.Attribute)
            and func.attr.value in LOG_METHODS
            and self.is_logger(func.value)
        )

    def bindings_of_expr(self, expr: cst.BaseExpression) -> list[Binding]:
        """What a name or a `self.x` / `cls.x` may hold here; [] for anything else."""
        if isinstance(expr, cst.Name):
            return self.bindings_of(expr.value, expr)
        if isinstance(expr, cst.Attribute):
            return self.self_attr_bindings(expr) or []
        return []

    def container_type(self, expr: cst.BaseExpression, or_none: bool = False) -> str | None:
        """The built-in container a name or `self.x` holds: "dict", "list",
        "set" or a factory of `state_api.CONTAINER_FACTORIES`
        ("collections.Counter"...), when every binding makes one of that type
        (`{}`, `dict()`, `[x for x in y]`); `obj.__dict__` is a dict.  With
        `or_none`, `x = None` placeholders are left out (the container may not
        exist yet); otherwise they make the type unknown, as does any binding
        that is not such a display or call (a parameter, `x += ...`).  What
        `__setstate__` stores is left out too: unpickling gives back the
        value pickled from such an object, of the same type."""
        if isinstance(expr, cst.Attribute) and expr.attr.value == "__dict__":
            return "dict"
        types: set[str | None] = set()
        for binding in self.bindings_of_expr(expr):
            value = binding.value
            if or_none and is_none(value):
                continue
            function = self.enclosing_function(value) if value is not None else None
            if function is not None and function.name.value == "__setstate__":
                continue
            if isinstance(value, (cst.List, cst.ListComp)):
                types.add("list")
            elif isinstance(value, (cst.Dict, cst.DictComp)):
                types.add("dict")
            elif isinstance(value, (cst.Set, cst.SetComp)):
                types.add("set")
            elif isinstance(value, cst.Call) and self.qualname(value.func) in CONTAINER_FACTORIES:
                types.add(self.qualname(value.func))
            else:
                return None
        return types.pop() if len(types) == 1 else None

    def self_attr_bindings(self, expr: cst.Attribute) -> list[Binding] | None:
        """Bindings of `self.x`/`cls.x` in the enclosing class; None if not such an access."""
        if not (isinstance(expr.value, cst.Name) and expr.value.value in ("self", "cls")):
            return None
        cls = self.enclosing_class(expr)
        if cls is None:
            return None
        # Class-level `attr = value` is what `self.attr` reads until an
        # instance assignment shadows it.
        class_level = self.bindings.get(cls, {}).get(expr.attr.value, [])
        return [*self.classes[cls].attrs.get(expr.attr.value, []), *class_level]

    def _kind_of_bindings(self, bindings: list[Binding], depth: int) -> str | None:
        kinds: set[str | None] = set()
        for binding in bindings:
            if binding.annotation is not None:
                kinds.add(self._kind_of_annotation(binding.annotation))
            elif binding.value is not None:
                if is_none(binding.value):
                    continue  # `self._thread = None` placeholders say nothing
                kinds.add(self.kind_of(binding.value, depth + 1))
            else:
                kinds.add(None)
        if len(kinds) == 1:
            return kinds.pop()
        return None

    def _kind_of_annotation(self, annotation: cst.BaseExpression) -> str | None:
        if isinstance(annotation, cst.Subscript):  # Optional[threading.Thread]
            if self.qualname(annotation.value) in ("typing.Optional", "Optional"):
                element = annotation.slice[0].slice
                if isinstance(element, cst.Index):
                    return self._kind_of_annotation(element.value)
            return None
        if isinstance(annotation, cst.BinaryOperation) and isinstance(annotation.operator, cst.BitOr):
            # `threading.Thread | None`
            sides = [side for side in (annotation.left, annotation.right) if not is_none(side)]
            return self._kind_of_annotation(sides[0]) if len(sides) == 1 else None
        if isinstance(annotation, cst.SimpleString):
            return None
        return self.kind_of_type(annotation)

    def code_for(self, node: cst.CSTNode) -> str:
        return self.module.code_for_node(node)


def is_none(expr: cst.BaseExpression | None) -> bool:
    return isinstance(expr, cst.Name) and expr.value == "None"


Handler = Union[cst.ExceptHandler, cst.ExceptStarHandler]


def _caught_names(handler: Handler) -> list[str | None]:
    """The dotted names of the types an `except` clause with a type names."""
    caught = handler.type
    assert caught is not None
    types = [e.value for e in caught.elements] if isinstance(caught, cst.Tuple) else [caught]
    return [dotted_name(t) for t in types]


def catches(handler: Handler, errors: tuple[str, ...] | frozenset[str]) -> bool:
    """A bare `except:`, or one naming one of `errors` (by its last part:
    `socket.timeout` is `timeout`)."""
    if handler.type is None:
        return True
    return any(n is not None and n.rpartition(".")[2] in errors for n in _caught_names(handler))


def catches_all(handler: Handler) -> bool:
    """`except:`, `except Exception:`, `except (OSError, Exception):`."""
    if handler.type is None:
        return True
    return any(n in ("Exception", "BaseException") for n in _caught_names(handler))
