"""What the lifecycle rules (TL2xx) need to know about one module.

The questions are all of the form "what happens to this object after it is
created?": is this thread joined, made a daemon, handed to somebody else?
is this executor shut down?  They are answered by looking at every
*occurrence* of the variable or attribute that holds the object and
classifying each one (a method call on it, a rebinding, an escape...).

Anything we cannot classify counts as an escape: the object may be handled
somewhere we cannot see, so the rules stay silent (precision first).
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Union

import libcst as cst

from threadlint.analysis import threading_api as api
from threadlint.analysis.calls import argument
from threadlint.analysis.context import ModuleContext
from threadlint.analysis.walk import children

Scope = Union[cst.Module, cst.FunctionDef, cst.Lambda]
Definition = Union[cst.FunctionDef, cst.ClassDef]


class ModuleIndex:
    """Every name and attribute occurrence and every def of a module, by name."""

    def __init__(self, ctx: ModuleContext) -> None:
        self.names: dict[str, list[cst.Name]] = {}
        self.attributes: dict[str, list[cst.Attribute]] = {}
        self.definitions: dict[cst.CSTNode, dict[str, list[Definition]]] = {}
        # name -> the scope each reference resolves to -> those references;
        # filled per name on first use (see `name_occurrences`).
        self.names_by_scope: dict[str, dict[Scope | None, list[cst.Name]]] = {}
        for node, parent in ctx.parents.items():
            if isinstance(node, cst.Name):
                if _is_reference(node, parent):
                    self.names.setdefault(node.value, []).append(node)
            elif isinstance(node, cst.Attribute) and not _in_import(ctx, node):
                self.attributes.setdefault(node.attr.value, []).append(node)
            elif isinstance(node, (cst.FunctionDef, cst.ClassDef)):
                scope = ctx.enclosing_scope(node)
                self.definitions.setdefault(scope, {}).setdefault(node.name.value, []).append(node)


def _in_import(ctx: ModuleContext, node: cst.Attribute) -> bool:
    """`multiprocessing.pool` in `from multiprocessing.pool import ...` names a
    module, not an object's attribute."""
    parent = ctx.parent(node)
    while isinstance(parent, cst.Attribute):
        parent = ctx.parent(parent)
    return isinstance(parent, (cst.ImportFrom, cst.ImportAlias))


def _is_reference(node: cst.Name, parent: cst.CSTNode) -> bool:
    """False for names that are syntax, not variables: `x.attr`, `f(kw=)`, `def f`."""
    if isinstance(parent, cst.Attribute) and parent.attr is node:
        return False
    if isinstance(parent, (cst.Arg, cst.Param)) and getattr(parent, "keyword", None) is node:
        return False
    if isinstance(parent, (cst.FunctionDef, cst.ClassDef)) and parent.name is node:
        return False
    return not isinstance(parent, (cst.ImportAlias, cst.AsName, cst.Param))


_INDEXES: weakref.WeakKeyDictionary[ModuleContext, ModuleIndex] = weakref.WeakKeyDictionary()


def module_index(ctx: ModuleContext) -> ModuleIndex:
    """The index of `ctx`, built once and shared by all lifecycle rules."""
    index = _INDEXES.get(ctx)
    if index is None:
        index = ModuleIndex(ctx)
        _INDEXES[ctx] = index
    return index


# -- scopes ------------------------------------------------------------------


def resolving_scope(ctx: ModuleContext, name: str, at: cst.CSTNode) -> Scope | None:
    """The function, lambda or module whose binding of `name` is visible at `at`."""
    for ancestor in ctx.ancestors(at):
        if isinstance(ancestor, (cst.FunctionDef, cst.Lambda, cst.Module)):
            if name in ctx.globals_declared.get(ancestor, set()):
                return ctx.module
            if name in ctx.bindings.get(ancestor, {}):
                return ancestor
    return None


def is_inside(ctx: ModuleContext, node: cst.CSTNode, container: cst.CSTNode) -> bool:
    return node is container or any(a is container for a in ctx.ancestors(node))


def name_occurrences(
    ctx: ModuleContext, name: str, scope: Scope
) -> list[cst.BaseExpression]:
    """The references to the variable `name` of `scope` (nested scopes that
    rebind the name are someone else's variable).

    Every reference to `name` is resolved once and grouped by scope: a module
    with a thousand functions each binding its own `t` would otherwise resolve
    all thousand functions' `t`s for each of them (quadratic time)."""
    index = module_index(ctx)
    by_scope = index.names_by_scope.get(name)
    if by_scope is None:
        by_scope = {}
        for node in index.names.get(name, []):
            by_scope.setdefault(resolving_scope(ctx, name, node), []).append(node)
        index.names_by_scope[name] = by_scope
    return list(by_scope.get(scope, []))


def attribute_occurrences(ctx: ModuleContext, attr: str) -> list[cst.Attribute]:
    """Every `<anything>.attr` in the module.  Matching by attribute name alone
    over-approximates, which only ever makes the rules report less."""
    return list(module_index(ctx).attributes.get(attr, []))


def is_store(ctx: ModuleContext, node: cst.CSTNode) -> bool:
    """True when `node` is (part of) an assignment, loop or `with` target, or `del`."""
    child = node
    parent = ctx.parent(child)
    while isinstance(parent, (cst.Element, cst.StarredElement, cst.Tuple, cst.List)):
        child, parent = parent, ctx.parent(parent)
    if isinstance(parent, (cst.AssignTarget, cst.AsName, cst.Del)):
        return True
    if isinstance(parent, (cst.AnnAssign, cst.AugAssign, cst.NamedExpr)):
        return parent.target is child
    if isinstance(parent, (cst.For, cst.CompFor)):
        return parent.target is child
    return False


# -- what happens to an object -------------------------------------------------


@dataclass(frozen=True)
class Use:
    """One occurrence of a holder (a variable or attribute holding an object)."""

    kind: str  # "call", "attr", "setattr", "store", "setitem", "test", "value"
    node: cst.CSTNode  # the occurrence itself
    member: str = ""  # the method or attribute, for call/attr/setattr
    call: cst.Call | None = None  # the method call, for "call"
    value: cst.BaseExpression | None = None  # the assigned value, for "setattr" and "store"


def classify(ctx: ModuleContext, occurrence: cst.BaseExpression) -> Use:
    parent = ctx.parent(occurrence)
    if isinstance(parent, cst.Attribute) and parent.value is occurrence:
        member = parent.attr.value
        grandparent = ctx.parent(parent)
        if isinstance(grandparent, cst.Call) and grandparent.func is parent:
            return Use("call", occurrence, member, call=grandparent)
        if is_store(ctx, parent):
            return Use("setattr", occurrence, member, value=_assigned_value(ctx, parent))
        return Use("attr", occurrence, member)
    if is_store(ctx, occurrence):
        return Use("store", occurrence, value=_assigned_value(ctx, occurrence))
    if isinstance(parent, cst.Subscript) and parent.value is occurrence and is_store(ctx, parent):
        return Use("setitem", occurrence)
    if _is_truth_test(parent, occurrence):
        return Use("test", occurrence)
    return Use("value", occurrence)


def _is_truth_test(parent: cst.CSTNode | None, node: cst.CSTNode) -> bool:
    """`if t:`, `not t`, `t is None`: looking at the reference, not handing it on."""
    if isinstance(parent, (cst.If, cst.While, cst.IfExp)):
        return parent.test is node
    if isinstance(parent, (cst.UnaryOperation, cst.BooleanOperation)):
        return True
    if isinstance(parent, cst.Comparison) and parent.left is node:
        return all(isinstance(c.operator, (cst.Is, cst.IsNot)) for c in parent.comparisons)
    if isinstance(parent, cst.ComparisonTarget):
        return isinstance(parent.operator, (cst.Is, cst.IsNot))
    return False


def _assigned_value(ctx: ModuleContext, target: cst.CSTNode) -> cst.BaseExpression | None:
    parent = ctx.parent(target)
    if isinstance(parent, cst.AssignTarget):
        statement = ctx.parent(parent)
        if isinstance(statement, cst.Assign):
            return statement.value
    if isinstance(parent, cst.AnnAssign):
        return parent.value
    return None


def is_false(expr: cst.BaseExpression | None) -> bool:
    return isinstance(expr, cst.Name) and expr.value in ("False", "None")


# -- threads -----------------------------------------------------------------

# Thread methods that neither end the thread nor hand it to anybody.
_NEUTRAL_THREAD_MEMBERS = frozenset(
    {
        "start", "run", "is_alive", "isAlive", "name", "getName", "setName", "ident",
        "native_id", "isDaemon", "daemon", "interval", "function", "args", "kwargs", "finished",
    }
)
_ENDING_MEMBERS = frozenset({"join", "cancel"})
# Container methods that add to or trim a collection of threads without
# touching the threads in it.
_NEUTRAL_CONTAINER_METHODS = frozenset(
    {"append", "add", "insert", "extend", "clear", "remove", "discard", "appendleft"}
)
_ADD_METHODS = frozenset({"append", "add", "insert", "appendleft"})
# Ways of iterating a container's elements: `d.values()`, `list(ts)`, `ts[:]`.
_ITER_METHODS = frozenset({"values", "copy"})
_ITER_FUNCTIONS = frozenset({"list", "tuple", "reversed", "sorted", "set", "iter"})


def constructor_daemon(ctx: ModuleContext, call: cst.Call) -> bool:
    """`Thread(..., daemon=True)`, or any value that may be true (a variable,
    `**kwargs`): only a visible `daemon=False` or no `daemon` at all is not."""
    for arg in call.args:
        if arg.star == "**":
            return True
        if arg.keyword is not None and arg.keyword.value == "daemon":
            return not is_false(arg.value)
    return thread_class_daemon(ctx, call.func)


def chose_non_daemon(call: cst.Call) -> bool:
    """`Thread(..., daemon=False)`: the author asked for a thread that keeps
    the process alive (a supervisor, a job runner ended by a signal)."""
    return any(
        arg.keyword is not None and arg.keyword.value == "daemon" and is_false(arg.value)
        for arg in call.args
    )


def thread_class_daemon(ctx: ModuleContext, type_expr: cst.BaseExpression) -> bool:
    """A local Thread subclass (or one of its local bases) that makes itself a daemon."""
    qualified = ctx.qualname(type_expr)
    seen: set[str] = set()
    pending = [qualified] if qualified else []
    while pending:
        name = pending.pop()
        node = ctx.classes_by_name.get(name)
        if node is None or name in seen:
            continue
        seen.add(name)
        if _class_sets_daemon(ctx, node):
            return True
        pending.extend(base for base in ctx.classes[node].bases if base)
    return False


def _class_sets_daemon(ctx: ModuleContext, node: cst.ClassDef) -> bool:
    info = ctx.classes[node]
    # `self.daemon = True` in a method, or `daemon = True` in the class body:
    # instances read the class attribute until they set their own.
    bindings = info.attrs.get("daemon", []) + ctx.bindings.get(node, {}).get("daemon", [])
    for binding in bindings:
        if not is_false(binding.value):
            return True
    for call in _calls_in(node):
        func = call.func
        if not isinstance(func, cst.Attribute):
            continue
        if (
            func.attr.value == "setDaemon"
            and _is_self(func.value)
            and not is_false(argument(call, 0, "daemonic"))
        ):
            return True
        if func.attr.value == "__init__" and any(
            arg.keyword is not None and arg.keyword.value == "daemon" and not is_false(arg.value)
            for arg in call.args
        ):
            return True
    return False


def _calls_in(node: cst.CSTNode) -> Iterator[cst.Call]:
    stack: list[cst.CSTNode] = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, cst.Call):
            yield current
        stack.extend(children(current))


def _is_self(expr: cst.BaseExpression) -> bool:
    if isinstance(expr, cst.Name):
        return expr.value == "self"
    # super() in `super().join()`
    return _is_call_of(expr, "super")


def _is_call_of(expr: cst.CSTNode | None, name: str) -> bool:
    return (
        isinstance(expr, cst.Call)
        and isinstance(expr.func, cst.Name)
        and expr.func.value == name
    )


def local_thread_class(ctx: ModuleContext, type_expr: cst.BaseExpression) -> cst.ClassDef | None:
    qualified = ctx.qualname(type_expr)
    node = ctx.classes_by_name.get(qualified or "")
    if node is not None and ctx.is_thread_subclass(node):
        return node
    return None


class ThreadMethods:
    """What the methods of a local Thread subclass do to the thread itself."""

    def __init__(self, ctx: ModuleContext, cls: cst.ClassDef | None) -> None:
        self.ctx = ctx
        self.methods: dict[str, cst.FunctionDef] = {}
        # A base we cannot see (a mixin from another module) may define any method.
        self.opaque = False
        if cls is None:
            return
        for member in [cls, *ctx.local_bases(cls)]:
            info = ctx.classes[member]
            for name, method in info.methods.items():
                self.methods.setdefault(name, method)
            for base in info.bases:
                if ctx.classes_by_name.get(base or "") is None and (
                    base not in api.THREAD_BASES and base not in ("object", "typing.Generic")
                ):
                    self.opaque = True

    def ends_thread(self, method: str, seen: set[str] | None = None) -> bool | None:
        """Whether calling `method` joins/cancels the thread: True, False, or
        None when the method is not visible."""
        if method in _ENDING_MEMBERS:
            return True
        node = self.methods.get(method)
        if node is None:
            return False if method in _NEUTRAL_THREAD_MEMBERS else None
        seen = seen if seen is not None else set()
        if method in seen:
            return False
        seen.add(method)
        for call in _calls_in(node.body):
            func = call.func
            if not isinstance(func, cst.Attribute):
                continue
            name = func.attr.value
            if name in _ENDING_MEMBERS and (
                _is_self(func.value) or _first_arg_is_self(call)
            ):
                return True
            if (
                isinstance(func.value, cst.Name)
                and func.value.value == "self"
                and self.ends_thread(name, seen)
            ):
                return True
        return False


def _first_arg_is_self(call: cst.Call) -> bool:
    # threading.Thread.join(self) / Base.join(self, timeout)
    first = argument(call, 0, None)
    return isinstance(first, cst.Name) and first.value == "self"


class ThreadFate:
    """Follows a thread through its holder's occurrences (and the local
    containers it is added to) to decide whether anything ends it."""

    def __init__(self, ctx: ModuleContext, methods: ThreadMethods) -> None:
        self.ctx = ctx
        self.methods = methods
        self.containers: list[str] = []
        self._depth = 0

    def holder_handled(self, occurrences: Sequence[cst.BaseExpression]) -> bool:
        return any(self._use_handles(classify(self.ctx, occ)) for occ in occurrences)

    def _use_handles(self, use: Use) -> bool:
        if use.kind in ("store", "test"):
            return False
        if use.kind == "call":
            if use.member == "setDaemon":
                return use.call is None or not is_false(argument(use.call, 0, "daemonic"))
            return self.methods.ends_thread(use.member) is not False
        if use.kind == "attr":
            # `t.join` handed somewhere (atexit.register(t.join)) may be called.
            return use.member in _ENDING_MEMBERS or self.methods.ends_thread(use.member) is None
        if use.kind == "setattr":
            return use.member == "daemon" and not is_false(use.value)
        if use.kind == "value":
            return self._escapes_or_contained(use.node)
        return True

    def _escapes_or_contained(self, node: cst.CSTNode) -> bool:
        """True unless `node` is only added to a local container whose
        threads are never joined."""
        container = self._container_added_to(node)
        if container is None:
            return True
        label, occurrences = container
        if self._depth > 3 or label in self.containers:
            return True  # threads moved from container to container: give up
        self.containers.append(label)
        self._depth += 1
        try:
            return any(self._container_use_handles(classify(self.ctx, o)) for o in occurrences)
        finally:
            self._depth -= 1

    def _container_added_to(
        self, node: cst.CSTNode
    ) -> tuple[str, list[cst.BaseExpression]] | None:
        ctx = self.ctx
        parent = ctx.parent(node)
        receiver: cst.BaseExpression | None = None
        if isinstance(parent, cst.Arg) and parent.keyword is None and not parent.star:
            call = ctx.parent(parent)
            if (
                isinstance(call, cst.Call)
                and isinstance(call.func, cst.Attribute)
                and call.func.attr.value in _ADD_METHODS
            ):
                receiver = call.func.value
        elif isinstance(parent, cst.Assign) and parent.value is node and len(parent.targets) == 1:
            target = parent.targets[0].target
            if isinstance(target, cst.Subscript):
                receiver = target.value
        if receiver is None or not _owned_container(ctx, receiver):
            return None
        return holder_occurrences(ctx, receiver)

    def _container_use_handles(self, use: Use) -> bool:
        if use.kind in ("store", "setitem", "test"):
            return False
        if use.kind == "call" and use.member in _NEUTRAL_CONTAINER_METHODS:
            return False
        if use.kind == "value" and _is_len_argument(self.ctx, use.node):
            return False
        loop = iteration_of(self.ctx, use.node)
        if loop is not None:
            element, body = loop
            if element is None:
                return True
            occurrences = [
                occ
                for occ in module_index(self.ctx).names.get(element, [])
                if is_inside(self.ctx, occ, body)
            ]
            return any(self._use_handles(classify(self.ctx, occ)) for occ in occurrences)
        return True


_CONTAINER_TYPES = frozenset({"list", "dict", "set", "collections.deque", "collections.OrderedDict"})


def _owned_container(ctx: ModuleContext, holder: cst.BaseExpression) -> bool:
    """A container made here (`threads = []`), not one received from elsewhere."""
    if isinstance(holder, cst.Attribute) and ctx.self_attr_bindings(holder) is None:
        return False  # `other.items`: not an attribute of this object
    return ctx.container_type(holder, or_none=True) in _CONTAINER_TYPES


def _is_len_argument(ctx: ModuleContext, node: cst.CSTNode) -> bool:
    parent = ctx.parent(node)
    call = ctx.parent(parent) if isinstance(parent, cst.Arg) else None
    return _is_call_of(call, "len")


def iteration_of(
    ctx: ModuleContext, node: cst.CSTNode
) -> tuple[str | None, cst.CSTNode] | None:
    """For a container iterated element by element (`for t in ts`, a
    comprehension, `for k, t in d.items()`), the element variable (None when
    not a plain name) and the code that sees it."""
    iterable = node
    parent = ctx.parent(iterable)
    via_items = False
    if isinstance(parent, cst.Attribute) and parent.value is iterable:
        call = ctx.parent(parent)
        member = parent.attr.value
        if not (isinstance(call, cst.Call) and call.func is parent and not call.args):
            return None
        if member not in _ITER_METHODS and member != "items":
            return None
        via_items = member == "items"
        iterable, parent = call, ctx.parent(call)
    elif isinstance(parent, cst.Subscript) and parent.value is iterable:
        iterable, parent = parent, ctx.parent(parent)  # ts[:]
    elif isinstance(parent, cst.Arg):
        call = ctx.parent(parent)
        if not (
            isinstance(call, cst.Call)
            and isinstance(call.func, cst.Name)
            and call.func.value in _ITER_FUNCTIONS
        ):
            return None
        iterable, parent = call, ctx.parent(call)
    if isinstance(parent, (cst.For, cst.CompFor)) and parent.iter is iterable:
        target = parent.target
        element_target: cst.BaseExpression = target
        if via_items and isinstance(target, cst.Tuple) and len(target.elements) == 2:
            element_target = target.elements[1].value
        element = element_target.value if isinstance(element_target, cst.Name) else None
        body: cst.CSTNode = (
            parent.body if isinstance(parent, cst.For) else _comprehension_of(ctx, parent)
        )
        return element, body
    return None


def _comprehension_of(ctx: ModuleContext, comp_for: cst.CompFor) -> cst.CSTNode:
    for ancestor in ctx.ancestors(comp_for):
        if isinstance(ancestor, (cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp)):
            return ancestor
    return comp_for


def holder_occurrences(
    ctx: ModuleContext, holder: cst.BaseExpression
) -> tuple[str, list[cst.BaseExpression]] | None:
    """A variable (`t`) or own attribute (`self._t`) and all its occurrences."""
    if isinstance(holder, cst.Name):
        scope = resolving_scope(ctx, holder.value, holder)
        if scope is None:
            return None
        return holder.value, list(name_occurrences(ctx, holder.value, scope))
    if (
        isinstance(holder, cst.Attribute)
        and isinstance(holder.value, cst.Name)
        and holder.value.value in ("self", "cls")
        and ctx.enclosing_class(holder) is not None
    ):
        return f"self.{holder.attr.value}", list(attribute_occurrences(ctx, holder.attr.value))
    return None


# -- other shared checks -------------------------------------------------------


def repeating_loop(ctx: ModuleContext, node: cst.CSTNode) -> cst.CSTNode | None:
    """The loop (or comprehension) of the same function that runs `node`
    again and again, if any."""
    for ancestor in ctx.ancestors(node):
        if isinstance(ancestor, (cst.FunctionDef, cst.Lambda, cst.ClassDef)):
            return None
        if isinstance(ancestor, (cst.For, cst.While)):
            return ancestor
        if isinstance(ancestor, (cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp)):
            return ancestor.for_in
    return None


def in_thread_helper(ctx: ModuleContext, node: cst.CSTNode) -> bool:
    """Inside `with helper(...):` where the helper is named for threads
    (`threading_helper.wait_threads_exit()`, `reap_threads()`): a context
    manager of another module that waits for the threads started in it.
    An executor (`with ThreadPoolExecutor():`) is known and is not one."""
    for ancestor in ctx.ancestors(node):
        if not isinstance(ancestor, cst.With):
            continue
        for item in ancestor.items:
            call = item.item
            if not isinstance(call, cst.Call) or ctx.kind_of_type(call.func) is not None:
                continue
            name = ctx.qualname(call.func) or ""
            if name not in ctx.classes_by_name and "thread" in name.rpartition(".")[2].lower():
                return True
    return False


def is_main_guard(ctx: ModuleContext, node: cst.CSTNode) -> bool:
    """Inside `if __name__ == "__main__":` (either operand order)."""
    for ancestor in ctx.ancestors(node):
        if isinstance(ancestor, cst.If) and is_main_test(ancestor.test):
            # Only the body is guarded, not the else branch.
            return is_inside(ctx, node, ancestor.body)
    return False


def is_main_test(test: cst.BaseExpression) -> bool:
    if not (isinstance(test, cst.Comparison) and len(test.comparisons) == 1):
        return False
    target = test.comparisons[0]
    if not isinstance(target.operator, cst.Equal):
        return False
    operands = [test.left, target.comparator]
    names = [o for o in operands if isinstance(o, cst.Name) and o.value == "__name__"]
    strings = [
        o for o in operands
        if isinstance(o, cst.SimpleString) and o.evaluated_value == "__main__"
    ]
    return len(names) == 1 and len(strings) == 1


def definitions_visible(
    ctx: ModuleContext, name: str, at: cst.CSTNode
) -> list[Definition] | None:
    """The `def`/`class` statements a bare name refers to at `at`.

    None when the name is a variable (assigned or a parameter) or imported in
    the scope that resolves it: then it is not (only) a definition we see.
    """
    index = module_index(ctx)
    for ancestor in ctx.ancestors(at):
        if not isinstance(ancestor, (cst.FunctionDef, cst.Lambda, cst.Module)):
            continue
        found = index.definitions.get(ancestor, {}).get(name)
        if name in ctx.bindings.get(ancestor, {}):
            return None
        if found:
            return found
        if isinstance(ancestor, cst.Module) and name in ctx.imports:
            return None
    return []


def publishes_self(ctx: ModuleContext, cls: cst.ClassDef | None) -> bool:
    """A local thread class (or local base) that hands `self` to somebody
    (`registry.append(self)`): whoever receives it may join it."""
    seen: set[str] = set()
    pending = [cls] if cls is not None else []
    while pending:
        node = pending.pop()
        info = ctx.classes[node]
        if info.name in seen:
            continue
        seen.add(info.name)
        for occ in module_index(ctx).names.get("self", []):
            if ctx.enclosing_class(occ) is node and _publishes(ctx, occ):
                return True
        pending.extend(
            ctx.classes_by_name[base] for base in info.bases if base in ctx.classes_by_name
        )
    return False


def _publishes(ctx: ModuleContext, occ: cst.Name) -> bool:
    use = classify(ctx, occ)
    if use.kind != "value":
        return False
    parent = ctx.parent(occ)
    if isinstance(parent, cst.Arg):
        call = ctx.parent(parent)
        # Base.__init__(self) / threading.Thread.join(self): unbound method calls.
        if (
            isinstance(call, cst.Call)
            and isinstance(call.func, cst.Attribute)
            and call.args
            and call.args[0] is parent
            and _is_class_reference(ctx, call.func.value)
        ):
            return False
        if _is_call_of(call, "super"):
            return False
    return True


def _is_class_reference(ctx: ModuleContext, expr: cst.BaseExpression) -> bool:
    qualified = ctx.qualname(expr)
    return qualified in api.THREAD_BASES or qualified in ctx.classes_by_name


# -- callables (TL202) -----------------------------------------------------------

# Built-ins whose result is never a callable.
NON_CALLABLE_BUILTINS = frozenset(
    {
        "print", "len", "str", "int", "float", "bool", "bytes", "list", "dict", "set",
        "tuple", "frozenset", "sorted", "sum", "min", "max", "open", "input", "range",
        "repr", "format", "isinstance", "issubclass", "hash", "id", "abs", "round",
        "any", "all", "enumerate", "zip", "ord", "chr", "hex", "bin", "oct", "divmod",
        "pow", "exec", "eval", "compile", "bytearray",
    }
)

# Word parts of a function name that say it makes (returns) a callable.
_FACTORY_PREFIXES = frozenset(
    {
        "make", "get", "create", "build", "new", "wrap", "wrapped", "bind", "compose",
        "curry", "lookup", "resolve", "load", "select", "choose", "pick", "as", "to",
        "gen", "generate", "produce", "construct", "decorate", "with",
        # Taking an element out of a container of callables.
        "pop", "popleft", "popitem", "setdefault",
    }
)
_FACTORY_WORDS = frozenset(
    {
        "factory", "handler", "handlers", "callback", "callbacks", "cb", "wrapper",
        "wrap", "wrapped", "wraps", "decorator", "decorate", "func", "function", "fn",
        "callable", "partial", "hook", "closure", "target", "runner", "maker",
        "builder", "getter", "loader", "thunk", "entry", "entrypoint", "dispatcher",
        "method", "action", "receiver", "listener",
    }
)


def name_suggests_factory(name: str) -> bool:
    words = _words(name)
    if not words:
        return False
    return words[0] in _FACTORY_PREFIXES or any(w in _FACTORY_WORDS for w in words)


# Word parts of a name that say it holds a class (`task_cls`, `handler_class`):
# its instances may define `__call__`.
_CLASS_WORDS = frozenset({"cls", "class", "klass", "type", "ctor", "constructor"})


def name_suggests_class(name: str) -> bool:
    return any(w in _CLASS_WORDS for w in _words(name))


def _words(name: str) -> list[str]:
    words: list[str] = []
    for part in name.split("_"):
        current = ""
        for char in part:
            if char.isupper() and current and not current[-1].isupper():
                words.append(current.lower())
                current = ""
            current += char
        if current:
            words.append(current.lower())
    return words
