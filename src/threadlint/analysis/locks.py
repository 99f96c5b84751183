"""Which expressions are thread locks, and which locks are held at a node.

Shared by the lock rules (TL3xx) and anything else that needs a lockset.
`lock_analysis(ctx, settings)` returns one `LockAnalysis` per module (cached),
which answers:

- `is_thread_lock(expr)` / `is_condition(expr)`: only real thread locks count
  (RULES.md, "Lock held", and the traps list).  An expression is one when its
  kind is known to be a lock; when its value is visible and is something else
  (an `asyncio.Lock`, `redis.lock(...)`, `FileLock(...)`, any call we do not
  know), it is not; only when nothing about its value can be seen (a
  parameter, an attribute set elsewhere) does its name decide.
- `held_here(node)` / `held_locks(node)`: what the enclosing function holds
  at `node`: the items of enclosing `with` statements, and receivers of an
  `X.acquire()` earlier in an enclosing block with no `X.release()` between
  (also `if X.acquire(...):` bodies and the code after `if not
  X.acquire(...): return`).
- `same_lock_keys(expr)`: the keys whose holding holds `expr`'s lock: a
  `Condition(self.mutex)` is held when `self.mutex` is, and so is every other
  condition built on `self.mutex`.
- `callers_hold(function, keys)`: every call site of a helper in this module
  (`self.helper()` in related classes, `helper()` in its defining scope)
  holds one of `keys`, directly or through its own callers.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Union

import libcst as cst

from threadlint.analysis import threading_api as api
from threadlint.analysis.calls import argument
from threadlint.analysis.context import ModuleContext, dotted_name, is_none
from threadlint.config import Settings

FunctionNode = Union[cst.FunctionDef, cst.Lambda]
Block = Union[cst.IndentedBlock, cst.Module, cst.SimpleStatementSuite, cst.SimpleStatementLine]

# A verdict on what an expression's visible values are.
_LOCK = "lock"
_NOT_LOCK = "not-lock"
_UNKNOWN = "unknown"

# Name tokens that end in "lock"/contain "cond" without naming a lock.
_FALSE_FRIENDS = frozenset(
    {"block", "clock", "deadlock", "unlock", "flock", "padlock", "second", "seconds", "secondary"}
)
# Lock factories of `multiprocessing` contexts and managers, by method name.
_FACTORY_KINDS = {
    "Lock": api.LOCK,
    "RLock": api.RLOCK,
    "Condition": api.CONDITION,
    "Semaphore": api.SEMAPHORE,
    "BoundedSemaphore": api.SEMAPHORE,
}
_CONDITION_TOKENS = frozenset({"cond", "condition", "condvar"})
_NAME_TOKENS = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")
_ESCAPING_EXITS = (cst.Return, cst.Raise, cst.Continue, cst.Break)


def name_tokens(name: str) -> list[str]:
    """`_notEmptyCond` -> ["not", "empty", "cond"]."""
    return [token.lower() for token in _NAME_TOKENS.findall(name)]


def named_like_lock(name: str) -> bool:
    """`api.looks_like_lock_name`, without its false friends (`block`, `clock`, `seconds`)."""
    if not api.looks_like_lock_name(name):
        return False
    for token in name_tokens(name):
        if token in _FALSE_FRIENDS:
            continue
        if token.endswith(("lock", "cond")) or "mutex" in token:
            return True
        if token in _CONDITION_TOKENS:
            return True
    return False


def named_like_condition(name: str) -> bool:
    return any(
        token in _CONDITION_TOKENS or (token.endswith("cond") and token not in _FALSE_FRIENDS)
        for token in name_tokens(name)
    )


def last_name(expr: cst.BaseExpression) -> str | None:
    if isinstance(expr, cst.Name):
        return expr.value
    if isinstance(expr, cst.Attribute):
        return expr.attr.value
    return None


def method_call_on(call: cst.CSTNode, methods: Sequence[str]) -> cst.BaseExpression | None:
    """The receiver `X` of a call `X.m(...)` with `m` in `methods`."""
    if (
        isinstance(call, cst.Call)
        and isinstance(call.func, cst.Attribute)
        and call.func.attr.value in methods
    ):
        return call.func.value
    return None


@dataclass(frozen=True)
class Held:
    """One lock (or other context manager) held at a node."""

    expr: cst.BaseExpression  # as written in the `with` item or before `.acquire()`
    key: str  # canonical text: "self._lock"
    holder: cst.CSTNode  # the `With` or the `acquire()` call that holds it


class LockAnalysis:
    def __init__(self, ctx: ModuleContext, lock_types: Sequence[str] = ()) -> None:
        self.ctx = ctx
        self.lock_types = frozenset(lock_types)
        self._call_index: dict[str, list[cst.Call]] | None = None
        self._references: dict[str, int] | None = None
        self._callers_hold_memo: dict[tuple[cst.CSTNode, frozenset[str]], bool] = {}
        self._children: dict[cst.CSTNode, list[cst.CSTNode]] | None = None

    # -- tree walking -------------------------------------------------------------

    def walk(self, node: cst.CSTNode, into_functions: bool = False) -> Iterator[cst.CSTNode]:
        """`node` and its descendants (in source order); nested defs, lambdas and
        classes only when `into_functions` (they run at another time)."""
        if self._children is None:
            children: dict[cst.CSTNode, list[cst.CSTNode]] = {}
            for child, parent in self.ctx.parents.items():
                children.setdefault(parent, []).append(child)
            self._children = children
        pending = [node]
        while pending:
            current = pending.pop()
            yield current
            if current is not node and not into_functions and isinstance(
                current, (cst.FunctionDef, cst.Lambda, cst.ClassDef)
            ):
                continue
            pending.extend(reversed(self._children.get(current, [])))

    def calls_in(self, node: cst.CSTNode) -> Iterator[cst.Call]:
        """The calls `node` makes itself (not those of nested defs and lambdas)."""
        return (n for n in self.walk(node) if isinstance(n, cst.Call))

    # -- what an expression is ------------------------------------------------

    def lock_kind(self, expr: cst.BaseExpression) -> str | None:
        """The lock kind (api.LOCK_KINDS) of a thread lock; None for anything else.

        A lock known only by its name is reported as `api.LOCK` (or
        `api.CONDITION` when named like one).
        """
        verdict, kind = self._verdict(expr, 0)
        if verdict == _LOCK:
            return kind
        if verdict == _NOT_LOCK:
            return None
        name = last_name(expr)
        if name is None or not named_like_lock(name):
            return None
        return api.CONDITION if named_like_condition(name) else api.LOCK

    def is_thread_lock(self, expr: cst.BaseExpression) -> bool:
        return self.lock_kind(expr) is not None

    def is_condition(self, expr: cst.BaseExpression, by_name: bool = False) -> bool:
        """A thread Condition; `by_name` also accepts an unknown object named like one."""
        verdict, kind = self._verdict(expr, 0)
        if verdict == _LOCK:
            return kind == api.CONDITION
        if verdict == _NOT_LOCK or not by_name:
            return False
        name = last_name(expr)
        return name is not None and named_like_condition(name)

    def known_condition(self, expr: cst.BaseExpression) -> bool:
        return self.is_condition(expr, by_name=False)

    def _verdict(self, expr: cst.BaseExpression, depth: int) -> tuple[str, str | None]:
        if depth > 6:
            return _UNKNOWN, None
        kind = self.ctx.kind_of(expr)
        if kind is not None:
            return (_LOCK, kind) if kind in api.LOCK_KINDS else (_NOT_LOCK, None)
        if isinstance(expr, cst.Call):
            if self.ctx.qualname(expr.func) in self.lock_types:
                return _LOCK, api.LOCK
            factory_kind = self._context_factory(expr) or self._package_lock(expr)
            if factory_kind is not None:
                return _LOCK, factory_kind
            made = self._made_by(expr)
            if made is not None:
                return self._made_verdict(made, depth)
            # A visible call that makes something we do not know: a
            # distributed lock, a file lock, a pool... not a thread lock.
            return _NOT_LOCK, None
        if isinstance(expr, (cst.BooleanOperation, cst.IfExp)):
            parts = (
                [expr.left, expr.right]
                if isinstance(expr, cst.BooleanOperation)
                else [expr.body, expr.orelse]
            )
            return _combine([self._verdict(part, depth + 1) for part in parts])
        bindings = self.ctx.bindings_of_expr(expr)
        if not bindings:
            return _UNKNOWN, None
        verdicts: list[tuple[str, str | None]] = []
        for binding in bindings:
            if binding.annotation is not None:
                annotated = self.ctx.kind_of_type(binding.annotation)
                if annotated is None:
                    verdicts.append((_UNKNOWN, None))
                elif annotated in api.LOCK_KINDS:
                    verdicts.append((_LOCK, annotated))
                else:
                    verdicts.append((_NOT_LOCK, None))
            elif binding.value is None:
                verdicts.append((_UNKNOWN, None))
            elif not is_none(binding.value):
                verdicts.append(self._verdict(binding.value, depth + 1))
        return _combine(verdicts)

    def _made_by(self, call: cst.Call) -> cst.FunctionDef | cst.ClassDef | None:
        """The project code a call runs to make its value, when it is in this
        module: a method of the caller's class (`self._create_lock()`) or a
        class defined here (`_RWLock()`)."""
        func = call.func
        if isinstance(func, cst.Attribute) and _is_self(func.value):
            cls = self.ctx.enclosing_class(call)
            if cls is not None:
                return self.ctx.classes[cls].methods.get(func.attr.value)
            return None
        if isinstance(func, cst.Name):
            local = self.ctx.classes_by_name.get(self.ctx.qualname(func) or "")
            return local
        return None

    def _made_verdict(self, made: cst.FunctionDef | cst.ClassDef, depth: int) -> tuple[str, str | None]:
        """A factory method is a lock when everything it returns is one; a
        class of the project is one when it is a lock wrapper: it has
        `acquire`/`release` or `__enter__`/`__exit__` and holds a thread
        lock of its own."""
        if isinstance(made, cst.FunctionDef):
            returned = [
                node.value
                for node in self.walk(made.body)
                if isinstance(node, cst.Return) and node.value is not None
            ]
            if not returned:
                return _NOT_LOCK, None
            return _combine([self._verdict(value, depth + 1) for value in returned])
        info = self.ctx.classes[made]
        protocol = {"acquire", "release"} <= set(info.methods) or {
            "__enter__",
            "__exit__",
        } <= set(info.methods)
        if not protocol:
            return _NOT_LOCK, None
        for bindings in info.attrs.values():
            for binding in bindings:
                if isinstance(binding.value, cst.Call) and self.created_kind(binding.value):
                    return _LOCK, api.LOCK
        return _NOT_LOCK, None

    def _context_factory(self, call: cst.Call) -> str | None:
        """`ctx.Condition()`, `manager.Lock()`: the factory methods of a
        `multiprocessing` context or manager held in a variable or attribute,
        called with their signature (no argument but a semaphore's value or
        a condition's lock). A module's class (`asyncio.Lock`) is not one, nor
        a distributed lock taking a path (kazoo's `zk.Lock("/path", id)`)."""
        func = call.func
        if not isinstance(func, cst.Attribute) or func.attr.value not in _FACTORY_KINDS:
            return None
        head = func.value
        while isinstance(head, cst.Attribute):
            head = head.value
        if not isinstance(head, cst.Name) or head.value in self.ctx.imports:
            return None
        kind = _FACTORY_KINDS[func.attr.value]
        if not call.args:
            return kind
        if len(call.args) > 1 or call.args[0].star or kind in (api.LOCK, api.RLOCK):
            return None
        value = call.args[0].value
        if kind == api.SEMAPHORE:
            return kind if isinstance(value, cst.Integer) else None
        return kind if self.lock_kind(value) in (api.LOCK, api.RLOCK) else None

    def _package_lock(self, call: cst.Call) -> str | None:
        """`Lock()` imported from another module of the same package (`from
        pkg.internal.threads import Lock`, `from ._compat import RLock`):
        a compatibility module that re-exports the thread lock types, out of
        this file's sight.  Only with a thread lock's signature, no
        argument: a package's own distributed or file lock takes some
        (redis's `Lock(client, name)`)."""
        if call.args:
            return None
        dotted = dotted_name(call.func)
        if dotted is None or dotted.partition(".")[0] not in self.ctx.imports:
            return None
        target = self.ctx.qualname(call.func) or ""
        module, _, name = target.rpartition(".")
        package = self.ctx.module_name.partition(".")[0]
        relative = module.startswith(".")  # imports keep a relative import's dots
        if name not in _FACTORY_KINDS or not (relative or module.partition(".")[0] == package):
            return None
        return _FACTORY_KINDS[name]

    def creation(self, expr: cst.BaseExpression) -> cst.Call | None:
        """The constructor call that made the lock `expr`, when there is exactly one."""
        calls = [
            b.value
            for b in self.ctx.bindings_of_expr(expr)
            if isinstance(b.value, cst.Call) and self.created_kind(b.value) is not None
        ]
        return calls[0] if len(calls) == 1 else None

    def created_kind(self, call: cst.Call) -> str | None:
        """The lock kind `call` makes: `threading.Lock()`, `ctx.Condition()`..."""
        kind = self.ctx.kind_of(call)
        if kind is not None:
            return kind if kind in api.LOCK_KINDS else None
        return self._context_factory(call)

    def signal_semaphore(self, expr: cst.BaseExpression) -> bool:
        """A semaphore made with no permit (`Semaphore(0)`): a signal, released
        by one thread and acquired by another, not a critical section."""
        creation = self.creation(expr)
        if creation is None or self.created_kind(creation) != api.SEMAPHORE:
            return False
        value = argument(creation, 0, "value")
        return isinstance(value, cst.Integer) and int(value.value) == 0

    # -- identity ---------------------------------------------------------------

    def key(self, expr: cst.BaseExpression) -> str:
        dotted = dotted_name(expr)
        if dotted is not None:
            return dotted
        return " ".join(self.ctx.code_for(expr).split())

    def underlying_lock(self, expr: cst.BaseExpression) -> cst.BaseExpression | None:
        """`self.mutex` for a condition made by `Condition(self.mutex)`."""
        creation = self.creation(expr)
        if creation is None or self.ctx.kind_of(creation) != api.CONDITION:
            return None
        lock = argument(creation, 0, "lock")
        if lock is None or isinstance(lock, cst.Call) or is_none(lock):
            return None
        return lock

    def same_lock_keys(self, expr: cst.BaseExpression) -> set[str]:
        """Keys of the expressions whose holding holds the lock of `expr`."""
        keys = {self.key(expr)}
        lock = self.underlying_lock(expr)
        if lock is not None:
            keys.add(self.key(lock))
        return keys

    def holds(self, held: Held, keys: set[str]) -> bool:
        """Does holding `held` hold the lock of one of `keys` (a condition's lock counts)?"""
        return bool(self.same_lock_keys(held.expr) & keys)

    # -- what is held at a node ---------------------------------------------------

    def held_here(self, node: cst.CSTNode) -> list[Held]:
        """Everything held at `node` by its own function: `with` items and acquired receivers.

        Not filtered by kind (see `held_locks`); `async with` items are left out.
        """
        held: list[Held] = []
        child: cst.CSTNode = node
        for parent in self.ctx.ancestors(node):
            if isinstance(parent, (cst.FunctionDef, cst.Lambda, cst.ClassDef)):
                break
            if isinstance(parent, cst.With) and child is parent.body and parent.asynchronous is None:
                for item in parent.items:
                    held.append(Held(item.item, self.key(item.item), parent))
            elif isinstance(parent, cst.If) and child is parent.body:
                receiver = _acquire_receiver(parent.test, positive=True)
                if receiver is not None:
                    held.append(Held(receiver, self.key(receiver), parent.test))
            if isinstance(parent, (cst.IndentedBlock, cst.Module, cst.SimpleStatementSuite, cst.SimpleStatementLine)):
                held.extend(self._acquired_before(parent, child))
            child = parent
        return held

    def held_locks(self, node: cst.CSTNode) -> list[Held]:
        """`held_here`, only the thread locks."""
        return [h for h in self.held_here(node) if self.is_thread_lock(h.expr)]

    def _acquired_before(self, block: Block, child: cst.CSTNode) -> list[Held]:
        statements = list(block.body)
        if child not in statements:
            return []
        acquired: dict[str, Held] = {}
        for statement in small_statements(statements[: statements.index(child)]):
            gained = _statement_acquires(statement)
            if gained is not None:
                acquired[self.key(gained[0])] = Held(gained[0], self.key(gained[0]), gained[1])
                continue
            for call in self.calls_in(statement):
                receiver = method_call_on(call, ("release",))
                if receiver is not None:
                    acquired.pop(self.key(receiver), None)
        return list(acquired.values())

    # -- who calls a function -----------------------------------------------------

    def call_sites(self, function: cst.FunctionDef) -> list[cst.Call] | None:
        """The calls of `function` in this module; None when it is also used otherwise
        (passed as a callback, a thread target...), so its callers are unknown."""
        index, references = self._index()
        scope = self.ctx.enclosing_scope(function)
        name = function.name.value
        if isinstance(scope, cst.ClassDef):
            name = f"self.{name}"
        candidates = [c for c in index.get(name, []) if self._calls(c, function, scope)]
        if references.get(name, 0) > len(index.get(name, [])):
            # Some uses of the name are not calls: it escapes as a value.
            return None
        return candidates

    def _calls(self, call: cst.Call, function: cst.FunctionDef, scope: cst.CSTNode) -> bool:
        func = call.func
        if isinstance(scope, cst.ClassDef):
            if not (isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name)):
                return False
            if func.value.value not in ("self", "cls"):
                return False
            caller_class = self.ctx.enclosing_class(call)
            return caller_class is not None and self._related(caller_class, scope)
        if not isinstance(func, cst.Name):
            return False
        # The name must reach the def's scope without being rebound on the way.
        for ancestor in self.ctx.ancestors(call):
            if ancestor is scope:
                return True
            if isinstance(ancestor, (cst.FunctionDef, cst.Lambda)) and func.value in self.ctx.bindings.get(
                ancestor, {}
            ):
                return False
        return False

    def _related(self, a: cst.ClassDef, b: cst.ClassDef) -> bool:
        return a is b or b in self.ctx.local_bases(a) or a in self.ctx.local_bases(b)

    def _index(self) -> tuple[dict[str, list[cst.Call]], dict[str, int]]:
        """Calls by called name (`f()`, `self.f()`), and how often each name is referenced."""
        if self._call_index is None or self._references is None:
            calls: dict[str, list[cst.Call]] = {}
            references: dict[str, int] = {}
            for node in self.ctx.parents:
                if isinstance(node, cst.Call):
                    name = _called_name(node.func)
                    if name is not None:
                        calls.setdefault(name, []).append(node)
                reference = _reference_name(self.ctx, node)
                if reference is not None:
                    references[reference] = references.get(reference, 0) + 1
            self._call_index, self._references = calls, references
        return self._call_index, self._references

    def callers_hold(self, function: cst.FunctionDef, keys: set[str]) -> bool:
        """Every call of `function` in this module holds one of `keys` (directly or
        because its own caller does); False when it has no visible caller."""
        memo_key = (function, frozenset(keys))
        if memo_key in self._callers_hold_memo:
            return self._callers_hold_memo[memo_key]
        # Recursion: assume held while deciding (a recursive call holds what
        # its outer call holds).
        self._callers_hold_memo[memo_key] = True
        sites = self.call_sites(function)
        result = bool(sites) and all(self.held_at(site, keys) for site in sites or [])
        self._callers_hold_memo[memo_key] = result
        return result

    def held_at(self, node: cst.CSTNode, keys: set[str]) -> bool:
        """The lock of one of `keys` is held at `node`, here or by all callers."""
        if any(self.holds(h, keys) for h in self.held_here(node)):
            return True
        function = self.ctx.enclosing_function(node)
        if function is None or _inside_lambda(self.ctx, node, function):
            return False
        return self.callers_hold(function, keys)


def _combine(verdicts: list[tuple[str, str | None]]) -> tuple[str, str | None]:
    locks = {kind for verdict, kind in verdicts if verdict == _LOCK}
    if locks:
        return _LOCK, (locks.pop() if len(locks) == 1 else api.LOCK)
    if any(verdict == _NOT_LOCK for verdict, _ in verdicts):
        return _NOT_LOCK, None
    return _UNKNOWN, None


def _is_self(expr: cst.BaseExpression) -> bool:
    return isinstance(expr, cst.Name) and expr.value in ("self", "cls")


def _called_name(func: cst.BaseExpression) -> str | None:
    """`f` for `f(...)`, `self.f` for `self.f(...)` and `cls.f(...)`."""
    if isinstance(func, cst.Name):
        return func.value
    if isinstance(func, cst.Attribute) and _is_self(func.value):
        return f"self.{func.attr.value}"
    return None


def _reference_name(ctx: ModuleContext, node: cst.CSTNode) -> str | None:
    """Like `_called_name`, for any use of a name or `self` attribute as a value."""
    if isinstance(node, cst.Attribute) and _is_self(node.value):
        return f"self.{node.attr.value}"
    if isinstance(node, cst.Name) and not isinstance(
        ctx.parent(node), (cst.FunctionDef, cst.ClassDef, cst.Attribute, cst.Param)
    ):
        return node.value
    return None


def _inside_lambda(ctx: ModuleContext, node: cst.CSTNode, function: cst.FunctionDef) -> bool:
    for ancestor in ctx.ancestors(node):
        if ancestor is function:
            return False
        if isinstance(ancestor, cst.Lambda):
            return True
    return False


def _acquire_receiver(test: cst.BaseExpression, positive: bool) -> cst.BaseExpression | None:
    """`X` when `test` is `X.acquire(...)` (positive) or `not X.acquire(...)` (negated)."""
    if not positive:
        if not (isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not)):
            return None
        test = test.expression
    if _awaited(test):
        return None
    return method_call_on(test, ("acquire",))


def _awaited(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Await)


def always_leaves(body: cst.BaseSuite) -> bool:
    """The block always leaves: its last statement returns, raises, continues or breaks."""
    statements = list(body.body)
    if not statements:
        return False
    last = statements[-1]
    if isinstance(last, cst.SimpleStatementLine):
        return bool(last.body) and isinstance(last.body[-1], _ESCAPING_EXITS)
    return isinstance(last, _ESCAPING_EXITS)


def small_statements(statements: Sequence[cst.CSTNode]) -> list[cst.CSTNode]:
    """Statements in execution order, the small statements of a line one by one."""
    flat: list[cst.CSTNode] = []
    for statement in statements:
        if isinstance(statement, cst.SimpleStatementLine):
            flat.extend(statement.body)
        else:
            flat.append(statement)
    return flat


def _statement_acquires(statement: cst.CSTNode) -> tuple[cst.BaseExpression, cst.CSTNode] | None:
    """(X, holder) when the lock X is held after `statement` completes normally."""
    value: cst.BaseExpression | None = None
    if isinstance(statement, (cst.Expr, cst.Assign, cst.AnnAssign)):
        value = statement.value
    elif isinstance(statement, cst.If) and statement.orelse is None and always_leaves(statement.body):
        receiver = _acquire_receiver(statement.test, positive=False)
        if receiver is not None:
            return receiver, statement.test
        return None
    if value is None:
        return None
    receiver = method_call_on(value, ("acquire",))
    return (receiver, value) if receiver is not None else None


_CACHE: weakref.WeakKeyDictionary[ModuleContext, LockAnalysis] = weakref.WeakKeyDictionary()


def lock_analysis(ctx: ModuleContext, settings: Settings | None = None) -> LockAnalysis:
    """The module's LockAnalysis, shared by every rule that asks."""
    analysis = _CACHE.get(ctx)
    if analysis is None:
        lock_types = settings.lock_types if settings is not None else ()
        analysis = LockAnalysis(ctx, lock_types)
        _CACHE[ctx] = analysis
    return analysis


def blocking_acquire(call: cst.Call) -> bool:
    """`acquire()` that waits for ever: not `acquire(False)`, `blocking=False`, or a timeout."""
    for position, arg in enumerate(call.args):
        if arg.star:
            return False
        name = arg.keyword.value if arg.keyword is not None else ("blocking" if position == 0 else "timeout")
        if name == "timeout":
            return isinstance(arg.value, cst.Integer) and arg.value.value == "-1"
        if name == "blocking" and not _true(arg.value):
            return False
    return True


def _true(value: cst.BaseExpression) -> bool:
    """`True` or a non-zero integer (`acquire(1)` waits like `acquire(True)`)."""
    if isinstance(value, cst.Name):
        return value.value == "True"
    return isinstance(value, cst.Integer) and value.evaluated_value != 0
