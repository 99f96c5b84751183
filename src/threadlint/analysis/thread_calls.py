"""Calls that work only on one thread, as one function's walk meets them.

TL501 and TL502 ask the same question of the project model: does this call
run on a thread that is not the one it must run on?  This module is the
per-file half: it recognises

- the event-loop calls that are not thread-safe (`loop.call_soon`,
  `fut.set_result`, `queue.put_nowait`, `asyncio.create_task`...), but only
  when the receiver is visibly an asyncio object (made by
  `asyncio.get_event_loop()`, `loop.create_future()`, `asyncio.Queue()`...,
  or annotated so), with the location it is kept in and the loop it
  belongs to;
- the `signal` calls that work only on the main thread (`signal.signal`,
  `signal.set_wakeup_fd`, and `signal.alarm` / `signal.setitimer`, whose
  signal only the main thread receives), unless a main-thread test or a
  `ValueError` handler shows that the author expects another thread;
- the asyncio objects a function makes or runs (they belong to its thread)
  and the loops it hands work to with `call_soon_threadsafe` /
  `run_coroutine_threadsafe` (it expects to run off their thread).

The project rules (`rules/thread_context.py`) decide with the roots of the
model which thread each call runs on.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import libcst as cst

from threadlint import facts as F
from threadlint.analysis.calls import argument
from threadlint.analysis.context import Binding, catches, dotted_name, is_none
from threadlint.analysis.test_code import in_test_code
from threadlint.printable import shortened

if TYPE_CHECKING:
    from threadlint.analysis.function_walk import FunctionWalker

LOOP = "event loop"
FUTURE = "future"
QUEUE = "queue"
EVENT = "event"

# What makes an asyncio object, by qualified name: the kind of the result.
_MAKERS = {
    **dict.fromkeys(
        (
            "asyncio.get_event_loop",
            "asyncio.new_event_loop",
            "asyncio.get_running_loop",
            "asyncio.events.get_event_loop",
            "asyncio.events.new_event_loop",
            "asyncio.events.get_running_loop",
            "asyncio.SelectorEventLoop",
            "asyncio.ProactorEventLoop",
            "uvloop.new_event_loop",
        ),
        LOOP,
    ),
    **dict.fromkeys(
        (
            "asyncio.Future",
            "asyncio.futures.Future",
            "asyncio.Task",
            "asyncio.tasks.Task",
            "asyncio.ensure_future",
            "asyncio.create_task",
        ),
        FUTURE,
    ),
    **dict.fromkeys(
        ("asyncio.Queue", "asyncio.LifoQueue", "asyncio.PriorityQueue", "asyncio.queues.Queue"),
        QUEUE,
    ),
    **dict.fromkeys(("asyncio.Event", "asyncio.locks.Event"), EVENT),
}
# Annotations that say what an object is.
_TYPES = {
    **_MAKERS,
    **dict.fromkeys(
        (
            "asyncio.AbstractEventLoop",
            "asyncio.events.AbstractEventLoop",
            "asyncio.BaseEventLoop",
            "asyncio.base_events.BaseEventLoop",
            "uvloop.Loop",
        ),
        LOOP,
    ),
}
# Methods of a loop that make an object of the loop.
_LOOP_MADE = {"create_future": FUTURE, "create_task": FUTURE}

# The methods that are not thread-safe, by receiver kind.
_UNSAFE = {
    LOOP: frozenset({"call_soon", "call_later", "call_at", "create_task", "run_until_complete"}),
    FUTURE: frozenset({"set_result", "set_exception", "cancel"}),
    QUEUE: frozenset({"put_nowait", "get_nowait"}),
    EVENT: frozenset({"set"}),
}
_UNSAFE_METHODS = frozenset().union(*_UNSAFE.values())
# asyncio functions that act on the calling thread's loop (or the one passed).
_LOOP_FUNCTIONS = frozenset(
    {"asyncio.create_task", "asyncio.ensure_future", "asyncio.tasks.ensure_future"}
)
# Thread-safe hand-overs: what is passed to them runs on the loop.
_HAND_OVER_METHODS = frozenset({"call_soon_threadsafe"})
_HAND_OVER_FUNCTIONS = frozenset(
    {"asyncio.run_coroutine_threadsafe", "asyncio.tasks.run_coroutine_threadsafe"}
)
# Calls that run a loop on the calling thread.
_RUNNING_METHODS = frozenset({"run_forever", "run_until_complete"})
_SET_LOOP = frozenset({"asyncio.set_event_loop", "asyncio.events.set_event_loop"})
_RUNNING_LOOP = frozenset({"asyncio.get_running_loop", "asyncio.events.get_running_loop"})

# Only the main thread may set handlers and wake-up descriptors (ValueError
# elsewhere); only the main thread receives the alarm that arms a timeout.
_SIGNAL_CALLS = {
    "signal.signal": "handler",
    "signal.set_wakeup_fd": "handler",
    "signal.alarm": "timer",
    "signal.setitimer": "timer",
}
# A test that asks which thread runs: `current_thread() is main_thread()`,
# `isinstance(current_thread(), _MainThread)`, `get_ident() == ...`, or a
# helper or flag that says so (`if _is_main_thread():`, `if in_main:`).
_THREAD_TEST = re.compile(
    r"main_?thread|current_?thread|currentThread|get_ident|get_native_id|is_main|in_main"
    r"|_thread_id|thread_ident",
    re.IGNORECASE,
)
# For TL501, a test of which thread or loop runs: `running is loop` after
# `running = get_running_loop()`, `loop.is_running()`, `self._in_loop()`.
_LOOP_TEST = re.compile(
    _THREAD_TEST.pattern + r"|running|thread|in_loop|inside_loop|on_loop|same_loop", re.IGNORECASE
)
_VALUE_ERROR_CATCHERS = frozenset({"ValueError", "Exception", "BaseException"})


@dataclass(frozen=True)
class _Object:
    kind: str
    location: F.Location | None  # where it is kept; None: made right here
    loop: F.Location | None  # the loop it belongs to, when known
    evidence: str



class ThreadCalls:
    """The thread-bound calls and asyncio objects of one function, as its
    walk (`FunctionWalker.call`) passes each call."""

    def __init__(self, walker: FunctionWalker) -> None:
        self.w = walker
        self.ctx = walker.ctx
        unit = walker.unit
        # A coroutine runs on its loop's thread: nothing in it is judged.
        self.active = not (isinstance(unit, cst.FunctionDef) and unit.asynchronous is not None)
        self.found: list[tuple[F.ThreadCall, int]] = []  # with the walk's sequence number
        self.uses: list[F.LoopUse] = []

    def call(self, node: cst.Call) -> None:
        func = node.func
        qualified = self.ctx.qualname(func) if isinstance(func, (cst.Name, cst.Attribute)) else None
        self._uses(node, func, qualified)
        if not self.active:
            return
        if qualified in _SIGNAL_CALLS:
            self._signal(node, qualified)
        elif qualified in _LOOP_FUNCTIONS:
            self._loop_function(node, qualified)
        elif isinstance(func, cst.Attribute):
            self._method(node, func)

    # -- what this function makes, runs and hands over ------------------------

    def _uses(self, node: cst.Call, func: cst.BaseExpression, qualified: str | None) -> None:
        if qualified in _SET_LOOP and node.args:
            self._use(node, node.args[0].value, "runs")
        elif qualified in _HAND_OVER_FUNCTIONS:
            loop = argument(node, 1, "loop")
            if loop is not None:
                self._use(node, loop, "threadsafe")
        elif isinstance(func, cst.Attribute):
            method = func.attr.value
            if method in _RUNNING_METHODS:
                self._use(node, func.value, "runs")
            elif method in _HAND_OVER_METHODS:
                self._use(node, func.value, "threadsafe")
        made = self._made_kind(node, qualified)
        if made is not None:
            for target in self._assigned_to(node):
                location = self.location(target)
                if location is not None:
                    line = self.w.m.pos.of(node)[0]
                    self.uses.append(F.LoopUse(location, "makes", line))
                    if qualified in _RUNNING_LOOP:
                        # `get_running_loop()` returns the loop running this code.
                        self.uses.append(F.LoopUse(location, "runs", line))

    def assign(self, targets: Sequence[cst.BaseExpression], value: cst.BaseExpression) -> None:
        """`self.loop = loop`: an asyncio object stored where other code finds
        it belongs to the thread that stores it (its caller's, for a
        parameter).  Objects made right there are `_uses`' to record."""
        if not isinstance(value, (cst.Name, cst.Attribute, cst.BooleanOperation)):
            return
        kept = [
            location
            for target in targets
            if isinstance(target, cst.Attribute) or self.w.unit is self.ctx.module
            for location in [self.location(target)]
            if location is not None and location[0] != "local"
        ]
        if kept and self.resolve(value) is not None:
            line = self.w.m.pos.of(targets[0])[0]
            self.uses.extend(F.LoopUse(location, "stores", line) for location in kept)

    def _use(self, call: cst.Call, expr: cst.BaseExpression, how: str) -> None:
        found = self.resolve(expr)
        if found is not None and found.kind == LOOP and found.location is not None:
            line = self.w.m.pos.of(call)[0]
            branch = self.branch(expr, _LOOP_TEST) if how == "threadsafe" else ""
            self.uses.append(F.LoopUse(found.location, how, line, branch))

    def _made_kind(self, node: cst.Call, qualified: str | None) -> str | None:
        if qualified in _MAKERS:
            return _MAKERS[qualified]
        func = node.func
        if isinstance(func, cst.Attribute):
            method = func.attr.value
            # Only asyncio loops (and loops made to their interface) have
            # `create_future()`; `create_task()` belongs to task groups too.
            if method == "create_future":
                return FUTURE
            if method in _LOOP_MADE:
                receiver = self.resolve(func.value)
                if receiver is not None and receiver.kind == LOOP:
                    return _LOOP_MADE[method]
        return None

    def _assigned_to(self, node: cst.CSTNode) -> list[cst.BaseExpression]:
        """The targets a value is stored in: `x = value`, `self.x = a or value`."""
        parent = self.ctx.parent(node)
        while isinstance(parent, cst.BooleanOperation):
            node, parent = parent, self.ctx.parent(parent)
        if isinstance(parent, cst.Assign) and parent.value is node:
            return [target.target for target in parent.targets]
        if isinstance(parent, (cst.AnnAssign, cst.NamedExpr)) and parent.value is node:
            return [parent.target]
        return []

    # -- the calls judged -----------------------------------------------------

    def _signal(self, node: cst.Call, qualified: str) -> None:
        if _SIGNAL_CALLS[qualified] == "timer" and _cancels_timer(node, qualified):
            return  # `alarm(0)`: a cancellation, harmless on any thread
        if self.branch(node, _THREAD_TEST) or self._value_error_handled(node):
            return
        self._found(node, "TL502", qualified, None)

    def _loop_function(self, node: cst.Call, qualified: str) -> None:
        loop = argument(node, 1, "loop") if qualified.endswith("ensure_future") else None
        if loop is None:
            if self._handles(node, ("RuntimeError", "Exception", "BaseException")):
                return
            self._found(node, "TL501", qualified, None)
            return
        found = self.resolve(loop)
        if found is None or found.kind != LOOP or found.location is None:
            return
        self._found(node, "TL501", qualified, found, receiver=loop)

    def _method(self, node: cst.Call, func: cst.Attribute) -> None:
        method = func.attr.value
        if method not in _UNSAFE_METHODS:
            return
        found = self.resolve(func.value)
        if found is None or method not in _UNSAFE[found.kind] or found.location is None:
            return
        api = f"{'loop' if found.kind == LOOP else found.kind.replace(' ', '_')}.{method}"
        self._found(node, "TL501", api, found, receiver=func.value)

    def _found(
        self,
        node: cst.Call,
        code: str,
        api: str,
        found: _Object | None,
        receiver: cst.BaseExpression | None = None,
    ) -> None:
        if self._deferred(node):
            return
        pos = self.w.m.pos
        line, col = pos.of(node)
        end_line, end_col = self.w._end(node)
        branch = self.branch(node, _LOOP_TEST) if code == "TL501" else ""
        target = found.location if found is not None else None
        loop = (found.loop if found.kind != LOOP else found.location) if found else None
        evidence = found.evidence if found is not None else ""
        if receiver is not None and found is not None:
            evidence = f"`{shortened(self.ctx.code_for(receiver), 30)}` is {evidence}"
        self.found.append(
            (
                F.ThreadCall(
                    code,
                    api,
                    shortened(self.ctx.code_for(node), 60),
                    line,
                    col,
                    end_line,
                    end_col,
                    target,
                    loop,
                    evidence,
                    branch,
                    test=in_test_code(self.ctx, node, self.w.m.settings.root),
                ),
                self.w.seq,
            )
        )

    # -- what an expression is --------------------------------------------------

    def resolve(self, expr: cst.BaseExpression, depth: int = 0) -> _Object | None:
        """The asyncio object an expression names, where it is kept and why
        threadlint believes it is one."""
        if depth > 4:
            return None
        if isinstance(expr, cst.Call):
            made = self._made_kind(expr, self.ctx.qualname(expr.func))
            if made is None:
                return self._returned(expr)
            loop = None
            if isinstance(expr.func, cst.Attribute) and made != LOOP:
                owner = self.resolve(expr.func.value, depth + 1)
                loop = owner.location if owner is not None else self.location(expr.func.value)
            line = self.w.m.pos.of(expr)[0]
            made_by = f"made by `{shortened(self.ctx.code_for(expr), 40)}` (line {line})"
            return _Object(made, None, loop, made_by)
        if isinstance(expr, cst.BooleanOperation) and isinstance(expr.operator, cst.Or):
            return self.resolve(expr.right, depth + 1) or self.resolve(expr.left, depth + 1)
        location = self.location(expr)
        if location is None:
            return None
        if isinstance(expr, cst.Name):
            bindings = self.ctx.bindings_of(expr.value, expr)
        elif isinstance(expr, cst.Attribute):
            bindings = self.ctx.self_attr_bindings(expr) or []
        else:
            return None
        return self._of_bindings(bindings, location, depth, alias=location[0] == "local")

    def _of_bindings(
        self, bindings: list[Binding], location: F.Location, depth: int, alias: bool
    ) -> _Object | None:
        """What every binding agrees the object is.  A parameter without an
        annotation says nothing (`loop = loop or asyncio.get_event_loop()`).
        A local variable that only copies another location (`loop =
        self._loop`) is that location; an attribute is itself, whatever it
        was copied from (it outlives the function that set it)."""
        found: list[_Object] = []
        aliases: set[F.Location | None] = set()
        for binding in bindings:
            value = binding.value
            if value is None:
                if binding.annotation is None:
                    continue
                declared = self._declared(binding.annotation, location)
                if declared is None:
                    return None
                found.append(declared)
                continue
            if is_none(value):
                continue  # a placeholder until the object is made
            inner = self.resolve(value, depth + 1)
            if inner is None and binding.annotation is not None:
                inner = self._declared(binding.annotation, location)
            if inner is None:
                return None
            if isinstance(value, (cst.Name, cst.Attribute)):
                code = shortened(self.ctx.code_for(value), 30)
                inner = replace(inner, evidence=f"set from `{code}`, {inner.evidence}")
            aliases.add(inner.location)
            found.append(inner)
        if not found or len({o.kind for o in found}) != 1:
            return None
        first = found[0]
        # `loop = self._loop`: the object is the attribute's, wherever it is used.
        kept = (
            aliases.pop()
            if alias and len(aliases) == 1 and None not in aliases and len(found) == 1
            else location
        )
        loops = {o.loop for o in found}
        loop = loops.pop() if len(loops) == 1 else None
        return _Object(first.kind, kept, loop, first.evidence)

    def _declared(self, annotation: cst.BaseExpression, location: F.Location) -> _Object | None:
        """The object an annotation declares (`loop: asyncio.AbstractEventLoop`)."""
        kind = self._annotated(annotation)
        if kind is None:
            return None
        line = (
            self.w.m.pos.of(annotation)[0]
            if isinstance(annotation, (cst.Name, cst.Attribute))
            else 0
        )
        where = f" (line {line})" if line else ""
        code = shortened(self.ctx.code_for(annotation), 40)
        return _Object(kind, location, None, f"annotated `{code}`{where}")

    def _annotated(self, annotation: cst.BaseExpression) -> str | None:
        if isinstance(annotation, cst.Subscript):
            if (self.ctx.qualname(annotation.value) or "").rpartition(".")[2] == "Optional":
                element = annotation.slice[0].slice
                if isinstance(element, cst.Index):
                    return self._annotated(element.value)
            return None
        if isinstance(annotation, (cst.Name, cst.Attribute)):
            return _TYPES.get(self.ctx.qualname(annotation) or "")
        return None

    def _returned(self, call: cst.Call) -> _Object | None:
        """`self._get_loop()` where the method is annotated to return a loop."""
        func = call.func
        if not (
            isinstance(func, cst.Attribute)
            and isinstance(func.value, cst.Name)
            and func.value.value == self.w.self_name
            and self.w.class_node is not None
        ):
            return None
        method = self.ctx.classes[self.w.class_node].methods.get(func.attr.value)
        if method is None or method.returns is None:
            return None
        kind = self._annotated(method.returns.annotation)
        if kind is None:
            return None
        code = shortened(self.ctx.code_for(method.returns.annotation), 40)
        return _Object(kind, None, None, f"returned by `{func.attr.value}`, annotated `{code}`")

    def location(self, expr: cst.BaseExpression) -> F.Location | None:
        """Where a name or `self` attribute is kept: the model's locations,
        and `("local", function id, name)` for a variable of a function (the
        one that binds it, for a name a closure reads)."""
        w = self.w
        if isinstance(expr, cst.Attribute):
            base = expr.value
            if (
                isinstance(base, cst.Name)
                and base.value in ("self", w.self_name)
                and w.class_id is not None
            ):
                return ("self", w.class_id, expr.attr.value)
            return None
        if not isinstance(expr, cst.Name):
            return None
        name = expr.value
        for scope in self.ctx.ancestors(expr):
            if not isinstance(scope, (cst.FunctionDef, cst.Lambda, cst.Module)):
                continue
            if isinstance(scope, cst.Module) or name in self.ctx.globals_declared.get(scope, ()):
                if name in self.ctx.bindings.get(self.ctx.module, {}):
                    return ("global", self.ctx.module_name, name)
                return None
            if name in self.ctx.bindings.get(scope, {}):
                if scope is w.unit:
                    return ("local", w.id, name)
                function = (
                    w.m.function_ids.get(scope) if isinstance(scope, cst.FunctionDef) else None
                )
                return ("local", function, name) if function is not None else None
        return None

    # -- where the call sits --------------------------------------------------

    def _ancestors(self, node: cst.CSTNode) -> list[cst.CSTNode]:
        """The nodes around `node` inside this function's own code."""
        found = []
        for ancestor in self.ctx.ancestors(node):
            if ancestor is self.w.unit:
                break
            found.append(ancestor)
        return found

    def _deferred(self, node: cst.Call) -> bool:
        """Inside a lambda (it runs later, wherever it is called), or handed
        to the loop through a thread-safe call (`call_soon_threadsafe(lambda:
        fut.set_result(x))`)."""
        child: cst.CSTNode = node
        for ancestor in self._ancestors(node):
            if isinstance(ancestor, cst.Lambda):
                return True
            if (
                isinstance(ancestor, cst.Call)
                and child is not ancestor.func
                and self._hands_over(ancestor)
            ):
                return True
            child = ancestor
        return False

    def _hands_over(self, call: cst.Call) -> bool:
        func = call.func
        if isinstance(func, cst.Attribute) and func.attr.value in _HAND_OVER_METHODS:
            return True
        return self.ctx.qualname(func) in _HAND_OVER_FUNCTIONS

    def branch(self, node: cst.CSTNode, pattern: re.Pattern[str]) -> str:
        """The tests of the running thread (or loop) that `node` depends on:
        the enclosing `if`s (and `a if t else b`, `t and a`) whose test
        matches `pattern`, and the earlier `if`s of that kind that leave
        the function, as `line:side` marks (`""`: none).  Code that does
        not ask which thread runs it has no marks."""
        marks: list[str] = []
        child: cst.CSTNode = node
        for ancestor in self._ancestors(node):
            test: cst.BaseExpression | None = None
            side = ""
            if isinstance(ancestor, (cst.If, cst.IfExp, cst.While)) and child is not ancestor.test:
                test = ancestor.test
                side = "body" if child is ancestor.body else "else"
            elif isinstance(ancestor, cst.BooleanOperation) and child is ancestor.right:
                test, side = ancestor.left, "right"
            if test is not None and pattern.search(self.ctx.code_for(test)):
                marks.append(f"{self.w.m.pos.of(ancestor)[0]}:{side}")
            if isinstance(ancestor, (cst.IndentedBlock, cst.Module)):
                for statement in _before(ancestor, child):
                    if (
                        isinstance(statement, cst.If)
                        and _leaves(statement)
                        and pattern.search(self.ctx.code_for(statement.test))
                    ):
                        marks.append(f"{self.w.m.pos.of(statement)[0]}:after")
            child = ancestor
        return ",".join(reversed(marks))

    def _value_error_handled(self, node: cst.CSTNode) -> bool:
        return self._handles(node, tuple(_VALUE_ERROR_CATCHERS))

    def _handles(self, node: cst.CSTNode, errors: tuple[str, ...]) -> bool:
        """Inside a `try` body with a handler for one of `errors` (or a bare
        `except:`), or a `with contextlib.suppress(...)` of one."""
        child: cst.CSTNode = node
        for ancestor in self._ancestors(node):
            if isinstance(ancestor, (cst.Try, cst.TryStar)) and child is ancestor.body:
                if any(catches(handler, errors) for handler in ancestor.handlers):
                    return True
            if isinstance(ancestor, cst.With) and child is ancestor.body:
                for item in ancestor.items:
                    value = item.item
                    if (
                        isinstance(value, cst.Call)
                        and (self.ctx.qualname(value.func) or "").endswith("suppress")
                        and any(
                            (dotted_name(arg.value) or "").rpartition(".")[2] in errors
                            for arg in value.args
                        )
                    ):
                        return True
            child = ancestor
        return False

    # -- the facts ----------------------------------------------------------------

    def facts(
        self, phase: Callable[[int], str]
    ) -> tuple[tuple[F.ThreadCall, ...], tuple[F.LoopUse, ...]]:
        """The function's facts, each call placed by `phase(seq)` (before the
        threads the function starts, after it joins them, or while they run)."""
        calls = tuple(replace(call, phase=phase(seq)) for call, seq in self.found)
        return calls, tuple(self.uses)


def _cancels_timer(node: cst.Call, qualified: str) -> bool:
    """`signal.alarm(0)`, `signal.setitimer(which, 0)`: the timer is cleared."""
    value = argument(node, 0 if qualified == "signal.alarm" else 1, "seconds")
    return isinstance(value, (cst.Integer, cst.Float)) and float(value.value) == 0


def _before(block: cst.CSTNode, child: cst.CSTNode) -> list[cst.CSTNode]:
    """The statements of a block that come before `child`."""
    body: Sequence[cst.CSTNode] = (
        block.body if isinstance(block, (cst.IndentedBlock, cst.Module)) else ()
    )
    found: list[cst.CSTNode] = []
    for statement in body:
        if statement is child:
            return found
        found.append(statement)
    return []


def _leaves(statement: cst.If) -> bool:
    """An `if` whose body ends in `return`, `raise`, `continue` or `break`."""
    body = statement.body
    if isinstance(body, cst.IndentedBlock):
        last = body.body[-1] if body.body else None
        small = last.body[-1] if isinstance(last, cst.SimpleStatementLine) and last.body else None
    elif isinstance(body, cst.SimpleStatementSuite):
        small = body.body[-1] if body.body else None
    else:
        small = None
    return isinstance(small, (cst.Return, cst.Raise, cst.Continue, cst.Break))
