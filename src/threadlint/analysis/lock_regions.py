"""What code does while it holds a lock: the acquisitions and calls it makes.

Shared by TL305 (a Lock re-acquired) and TL306 (a blocking call under a
lock); TL304 (lock order) reads the project's summaries instead
(`threadlint.lock_graph`). Within one module:

- every *acquisition* of a thread lock (a `with` item, an `X.acquire()`) in
  each function, with the locks already held there;
- every call made while a lock is held, and the function of the module it
  reaches (`self.m()` through the class and its local bases, `f()`, a
  callback attribute bound to `self.m`);
- per function, what it acquires and what it blocks on, directly or through
  such calls (a summary, memoised, cycles cut).

Locks are named by an *identity* that stays meaningful outside the function:
`<module>:Class.attr` for `self.attr` (the class that binds the attribute),
`<module>:name` for a module global, `<module>:Class.attr` for `Class.attr`.
Locks reached any other way (a parameter, a local) have no identity: within a
function they compare by text, across functions not at all.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field

import libcst as cst

from threadlint.analysis import lifecycle_facts as facts
from threadlint.analysis import threading_api as api
from threadlint.analysis.context import ModuleContext, is_none
from threadlint.analysis.locks import (
    Held,
    LockAnalysis,
    blocking_acquire,
    lock_analysis,
    method_call_on,
)
from threadlint.config import Settings

_MAX_DEPTH = 6


@dataclass(frozen=True)
class Acquisition:
    """A lock taken at `node` (a `with` statement or an `acquire()` call)."""

    expr: cst.BaseExpression
    key: str  # text: "self._lock"
    identity: str | None  # "mod:Cache._lock", None when it cannot be named outside
    node: cst.CSTNode
    held: tuple[Held, ...]  # thread locks already held by this function there
    blocking: bool  # False for `acquire(False)` / `acquire(timeout=...)`: it cannot hang


@dataclass(frozen=True)
class Reached:
    """Something a function does through the calls it makes: the call in the
    function (`via`), and the step at the end of the chain (`step`)."""

    via: cst.Call
    step: cst.CSTNode
    chain: tuple[str, ...]  # the functions passed through, outermost first
    key: str  # the lock as written at `step`


@dataclass
class Summary:
    """What running a function acquires (identities), directly or through calls."""

    acquires: dict[str, Reached | Acquisition] = field(default_factory=dict)


class LockRegions:
    def __init__(self, ctx: ModuleContext, locks: LockAnalysis) -> None:
        self.ctx = ctx
        self.locks = locks
        self._acquisitions: dict[cst.CSTNode, list[Acquisition]] = {}
        self._summaries: dict[cst.FunctionDef, Summary] = {}
        self._in_progress: set[cst.FunctionDef] = set()
        self._generators: dict[cst.FunctionDef, bool] = {}

    # -- acquisitions -------------------------------------------------------------

    def functions(self) -> Iterator[cst.FunctionDef]:
        return (n for n in self.ctx.parents if isinstance(n, cst.FunctionDef))

    def acquisitions(self, function: cst.CSTNode) -> list[Acquisition]:
        """The thread locks `function` takes itself (not its nested defs)."""
        if function not in self._acquisitions:
            found: list[Acquisition] = []
            for node in self.locks.walk(function):
                if isinstance(node, cst.With) and node.asynchronous is None:
                    for item in node.items:
                        if self.locks.is_thread_lock(item.item):
                            found.append(self._acquisition(item.item, node))
                elif isinstance(node, cst.Call) and not isinstance(self.ctx.parent(node), cst.Await):
                    receiver = method_call_on(node, ("acquire",))
                    if receiver is not None and self.locks.is_thread_lock(receiver):
                        found.append(self._acquisition(receiver, node))
            self._acquisitions[function] = found
        return self._acquisitions[function]

    def _acquisition(self, expr: cst.BaseExpression, node: cst.CSTNode) -> Acquisition:
        if isinstance(node, cst.With):
            # Locks of earlier items of the same `with` are held too.
            held_list = list(self.held(node))
            for item in node.items:
                if item.item is expr:
                    break
                if self.locks.is_thread_lock(item.item):
                    held_list.append(Held(item.item, self.locks.key(item.item), node))
            held = tuple(held_list)
            blocking = True
        else:
            held = tuple(h for h in self.held(node) if h.holder is not node)
            blocking = isinstance(node, cst.Call) and blocking_acquire(node)
        return Acquisition(expr, self.locks.key(expr), self.identity(expr), node, held, blocking)

    def identity(self, expr: cst.BaseExpression) -> str | None:
        """A name for the lock object that holds outside this function (a
        condition made over a lock is named by that lock)."""
        underlying = self.locks.underlying_lock(expr)
        if underlying is not None and underlying is not expr:
            return self._identity(underlying)
        return self._identity(expr)

    def _identity(self, expr: cst.BaseExpression) -> str | None:
        module = self.ctx.module_name or self.ctx.path
        if isinstance(expr, cst.Attribute) and isinstance(expr.value, cst.Name):
            owner = expr.value.value
            attr = expr.attr.value
            if owner in ("self", "cls"):
                cls = self.ctx.enclosing_class(expr)
                if cls is None:
                    return None
                return f"{module}:{self._binding_class(cls, attr)}.{attr}"
            local = self.ctx.classes_by_name.get(owner)
            if local is not None and self.ctx.bindings_of(owner, expr) == []:
                return f"{module}:{owner}.{attr}"
            return None
        if isinstance(expr, cst.Name):
            scope = facts.resolving_scope(self.ctx, expr.value, expr)
            if isinstance(scope, cst.Module) and expr.value not in self.ctx.imports:
                return f"{module}:{expr.value}"
        return None

    def _binding_class(self, cls: cst.ClassDef, attr: str) -> str:
        """The class of `cls`'s family that binds `self.attr` (a base's lock
        is the same attribute in every subclass)."""
        for member in [cls, *self.ctx.local_bases(cls)]:
            if attr in self.ctx.classes[member].attrs:
                return self.ctx.classes[member].name
        return self.ctx.classes[cls].name

    # -- calls ------------------------------------------------------------------

    def callee(self, call: cst.Call) -> cst.FunctionDef | None:
        """The function of this module that `call` runs, when it is plain to see.

        None for a generator function: calling it runs none of its body (a
        `@contextmanager`'s code after `yield` runs at the `with`'s exit)."""
        function = self._callee(call)
        if function is None or self._is_generator(function):
            return None
        return function

    def _is_generator(self, function: cst.FunctionDef) -> bool:
        if function not in self._generators:
            self._generators[function] = any(
                isinstance(node, cst.Yield) for node in self.locks.walk(function)
            )
        return self._generators[function]

    def _callee(self, call: cst.Call) -> cst.FunctionDef | None:
        func = call.func
        if isinstance(func, cst.Name):
            found = facts.definitions_visible(self.ctx, func.value, call) or []
            functions = [d for d in found if isinstance(d, cst.FunctionDef)]
            if len(functions) == 1 and len(found) == 1:
                return functions[0]
            return self._bound_method(func, call)
        if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.value.value in (
            "self",
            "cls",
        ):
            cls = self.ctx.enclosing_class(call)
            if cls is None:
                return None
            method = self.ctx.method(cls, func.attr.value)
            if method is not None:
                return method
            return self._bound_method(func, call)
        return None

    def _bound_method(self, func: cst.BaseExpression, at: cst.CSTNode) -> cst.FunctionDef | None:
        """A callback bound to a method of this class: `self._on_change = self._handle`
        (every binding of it that is visible is that method)."""
        if isinstance(func, cst.Name):
            bindings = self.ctx.bindings_of(func.value, at)
        elif isinstance(func, cst.Attribute):
            bindings = self.ctx.self_attr_bindings(func) or []
        else:
            return None
        methods: set[cst.FunctionDef] = set()
        for binding in bindings:
            value = binding.value
            if is_none(value):
                continue
            if not (
                isinstance(value, cst.Attribute)
                and isinstance(value.value, cst.Name)
                and value.value.value == "self"
            ):
                return None
            cls = self.ctx.enclosing_class(value)
            method = self.ctx.method(cls, value.attr.value) if cls is not None else None
            if method is None:
                return None
            methods.add(method)
        return methods.pop() if len(methods) == 1 else None

    def calls_under_locks(self, function: cst.CSTNode) -> Iterator[tuple[cst.Call, list[Held]]]:
        """Each call `function` makes itself while it holds a thread lock."""
        for call in self.locks.calls_in(function):
            held = self.held(call)
            if held:
                yield call, held

    def held(self, node: cst.CSTNode) -> list[Held]:
        """The thread locks held at `node`, less those released on the way
        there (`if lock.acquire(False): lock.release(); ...` holds nothing)."""
        return [h for h in self.locks.held_locks(node) if not self._released_before(h, node)]

    def _released_before(self, held: Held, node: cst.CSTNode) -> bool:
        child: cst.CSTNode = node
        for ancestor in self.ctx.ancestors(node):
            if ancestor is held.holder or isinstance(ancestor, (cst.FunctionDef, cst.Lambda)):
                return False
            if isinstance(ancestor, (cst.IndentedBlock, cst.SimpleStatementLine, cst.SimpleStatementSuite)):
                statements = list(ancestor.body)
                if child in statements:
                    for statement in statements[: statements.index(child)]:
                        for call in self.locks.calls_in(statement):
                            receiver = method_call_on(call, ("release",))
                            if receiver is not None and self.locks.key(receiver) == held.key:
                                return True
            child = ancestor
        return False

    # -- summaries ---------------------------------------------------------------

    def summary(self, function: cst.FunctionDef, depth: int = 0) -> Summary:
        """The locks (by identity) `function` takes, directly or through calls."""
        if function in self._summaries:
            return self._summaries[function]
        if function in self._in_progress or depth > _MAX_DEPTH:
            return Summary()  # a cycle: what it adds is found at its first entry
        self._in_progress.add(function)
        result = Summary()
        for acquisition in self.acquisitions(function):
            if acquisition.identity is not None and acquisition.blocking:
                result.acquires.setdefault(acquisition.identity, acquisition)
        for call in self.locks.calls_in(function):
            callee = self.callee(call)
            if callee is None or callee is function:
                continue
            probed = self._probed(call)
            for identity, how in self.summary(callee, depth + 1).acquires.items():
                if identity in probed:
                    continue  # reached only when a try-lock of it succeeded: it was free
                step = how.node if isinstance(how, Acquisition) else how.step
                chain = (callee.name.value,) + (how.chain if isinstance(how, Reached) else ())
                result.acquires.setdefault(identity, Reached(call, step, chain, how.key))
        self._in_progress.discard(function)
        # Cached even when a cycle cut it short: a recursive chain adds no
        # lock that its first entry does not already report.
        self._summaries[function] = result
        return result

    def _probed(self, call: cst.Call) -> set[str]:
        """Locks tried without blocking by the `if` tests that guard `call`
        (`if self._mutex.acquire(False): self._mutex.release(); self.write()`):
        the call runs only when the lock was free, so not while this thread
        holds it."""
        probed: set[str] = set()
        child: cst.CSTNode = call
        for ancestor in self.ctx.ancestors(call):
            if isinstance(ancestor, (cst.FunctionDef, cst.Lambda)):
                break
            if isinstance(ancestor, cst.If) and child is ancestor.body:
                for node in self.locks.walk(ancestor.test):
                    receiver = method_call_on(node, ("acquire",))
                    if receiver is not None and isinstance(node, cst.Call) and not blocking_acquire(node):
                        identity = self.identity(receiver)
                        if identity is not None:
                            probed.add(identity)
            child = ancestor
        return probed

    def line(self, node: cst.CSTNode) -> int:
        return self.ctx.position(node).start.line

    def kind(self, expr: cst.BaseExpression) -> str | None:
        """The visible lock kind: LOCK only for a lock whose creation says so
        (one known by name only may be an RLock)."""
        kind = self.ctx.kind_of(expr)
        if kind == api.CONDITION:
            lock = self.locks.underlying_lock(expr)
            if lock is None:
                return api.RLOCK  # `Condition()` makes an RLock
            return self.ctx.kind_of(lock)
        return kind


def shown_chain(chain: tuple[str, ...]) -> str:
    return " -> ".join(f"`{name}()`" for name in chain)


_CACHE: weakref.WeakKeyDictionary[ModuleContext, LockRegions] = weakref.WeakKeyDictionary()


def lock_regions(ctx: ModuleContext, settings: Settings | None = None) -> LockRegions:
    """The module's LockRegions, shared by the rules that ask."""
    regions = _CACHE.get(ctx)
    if regions is None:
        regions = LockRegions(ctx, lock_analysis(ctx, settings))
        _CACHE[ctx] = regions
    return regions
