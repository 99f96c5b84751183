"""Statements that cannot raise in practice.

TL301 asks whether anything between `lock.acquire()` and `lock.release()`
(or before the `try:` whose `finally` releases) can raise: if nothing can,
the release is reached on every path and the manual locking is safe.

"Cannot raise" is meant as real code needs it, not as the language allows
(every bytecode can raise `MemoryError` or an asynchronous
`KeyboardInterrupt`; no locking pattern survives those either):

- storing a name or a constant in a local, an attribute or a slot of a name
  (`self.owner = me`, `self._count = 0`, `state.busy = True`);
- `x += 1` / `self.n -= 1` on an integer, with a constant operand;
- `append`/`appendleft` of such a value to a deque (or a list, or an object
  of unknown type, which `append` almost always is);
- `notify()`/`notify_all()` on the condition that was just acquired;
- a plain `acquire()` of another thread lock (it waits, it does not raise);
- `threading.current_thread()`, `get_ident()` and the monotonic clocks;
- `pass`, and an `if` whose test compares names and constants and whose
  branches are made of the above (or leave with `return`/`break`/
  `continue`).

Anything else, a call of a user function, a callback, I/O, a subscript (a
`KeyError`), can raise.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import libcst as cst

from threadlint.analysis import threading_api as api
from threadlint.analysis.context import ModuleContext
from threadlint.analysis.locks import small_statements

# Calls that return a value of the running interpreter and cannot fail.
_SAFE_CALLS = frozenset(
    {
        "threading.current_thread",
        "threading.currentThread",
        "threading.get_ident",
        "threading.get_native_id",
        "_thread.get_ident",
        "time.monotonic",
        "time.monotonic_ns",
        "time.perf_counter",
        "time.time",
        "time.time_ns",
        "os.getpid",
    }
)
_APPENDS = ("append", "appendleft")
_NOTIFIES = ("notify", "notify_all", "notifyAll")
_CONSTANTS = (cst.Integer, cst.Float, cst.Imaginary, cst.SimpleString, cst.Ellipsis)
_SAFE_COMPARISONS = (cst.Is, cst.IsNot, cst.Equal, cst.NotEqual)
_EXITS = (cst.Return, cst.Break, cst.Continue)

# `notifies(receiver)` says whether `receiver.notify()` is a notify on the
# condition held in the window (the caller knows which lock that is).
NotifyCheck = Callable[[cst.BaseExpression], bool]


class CannotRaise:
    def __init__(
        self, ctx: ModuleContext, notifies_held: NotifyCheck, is_lock: NotifyCheck | None = None
    ) -> None:
        self.ctx = ctx
        self.notifies_held = notifies_held
        # `other_lock.acquire()` waits, it does not raise: two locks taken in
        # a row before the `try:` that releases both.
        self.is_lock = is_lock

    def statements(self, statements: Sequence[cst.CSTNode]) -> bool:
        return all(self.statement(s) for s in statements)

    def statement(self, node: cst.CSTNode) -> bool:
        if isinstance(node, cst.SimpleStatementLine):
            return self.statements(list(node.body))
        if isinstance(node, cst.Pass):
            return True
        if isinstance(node, cst.Assign):
            return all(self._store_target(t.target) for t in node.targets) and self.value(node.value)
        if isinstance(node, cst.AnnAssign):
            return node.value is not None and self._store_target(node.target) and self.value(node.value)
        if isinstance(node, cst.AugAssign):
            return (
                isinstance(node.operator, (cst.AddAssign, cst.SubtractAssign))
                and self._store_target(node.target)
                and isinstance(node.value, cst.Integer)
            )
        if isinstance(node, cst.Expr):
            return self._call_statement(node.value)
        if isinstance(node, cst.If):
            return self._if(node)
        return False

    def _if(self, node: cst.If) -> bool:
        if not self.test(node.test) or not self._branch(node.body):
            return False
        orelse = node.orelse
        if orelse is None:
            return True
        if isinstance(orelse, cst.If):
            return self._if(orelse)
        return self._branch(orelse.body)

    def _branch(self, body: cst.BaseSuite) -> bool:
        """A branch made of safe steps, maybe leaving with a plain `return`/`break`."""
        for step in small_statements(list(body.body)):
            if isinstance(step, _EXITS):
                value = step.value if isinstance(step, cst.Return) else None
                if value is not None and not self.value(value):
                    return False
            elif not self.statement(step):
                return False
        return True

    def _store_target(self, target: cst.BaseExpression) -> bool:
        if isinstance(target, cst.Name):
            return True
        if isinstance(target, cst.Attribute):
            return self._plain_reference(target.value)
        if isinstance(target, (cst.Tuple, cst.List)):
            return all(
                not isinstance(e, cst.StarredElement) and self._store_target(e.value)
                for e in target.elements
            )
        return False

    def _plain_reference(self, expr: cst.BaseExpression) -> bool:
        """`self`, `state`, `self.inner`: reading it cannot fail once it was set."""
        if isinstance(expr, cst.Name):
            return True
        return isinstance(expr, cst.Attribute) and isinstance(expr.value, cst.Name)

    def value(self, expr: cst.BaseExpression) -> bool:
        """A name, a constant, or a value the interpreter hands out without failing."""
        if isinstance(expr, (cst.Name, *_CONSTANTS)):
            return True
        if isinstance(expr, cst.Attribute):
            return self._plain_reference(expr)
        if isinstance(expr, cst.UnaryOperation):
            return isinstance(expr.operator, (cst.Minus, cst.Not)) and self.value(expr.expression)
        if isinstance(expr, (cst.Tuple, cst.List, cst.Set)):
            return all(not isinstance(e, cst.StarredElement) and self.value(e.value) for e in expr.elements)
        if isinstance(expr, cst.Dict):
            return not expr.elements
        if isinstance(expr, cst.Call):
            return not expr.args and self.ctx.qualname(expr.func) in _SAFE_CALLS
        return False

    def test(self, expr: cst.BaseExpression) -> bool:
        if isinstance(expr, cst.BooleanOperation):
            return self.test(expr.left) and self.test(expr.right)
        if isinstance(expr, cst.Comparison):
            return (
                self.value(expr.left)
                and all(
                    isinstance(c.operator, _SAFE_COMPARISONS) and self.value(c.comparator)
                    for c in expr.comparisons
                )
            )
        return self.value(expr)

    def _call_statement(self, expr: cst.BaseExpression) -> bool:
        if not isinstance(expr, cst.Call):
            return False
        func = expr.func
        if not isinstance(func, cst.Attribute):
            return self.value(expr)
        method = func.attr.value
        if method in _NOTIFIES:
            return self.notifies_held(func.value)
        if method == "acquire" and not expr.args:
            return self.is_lock is not None and self._plain_reference(func.value) and self.is_lock(func.value)
        if method in _APPENDS:
            return (
                len(expr.args) == 1
                and not expr.args[0].star
                and expr.args[0].keyword is None
                and self.value(expr.args[0].value)
                and self._plain_reference(func.value)
                and self.ctx.kind_of(func.value) in (api.DEQUE, None)
            )
        return self.value(expr)
