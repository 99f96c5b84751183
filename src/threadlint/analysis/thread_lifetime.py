"""How long a started thread can run, as far as its module shows (TL201).

Python waits for every non-daemon thread at exit, so a thread that nobody
joins matters when it can run for long: its body loops (a `while` that
nothing visible ends), serves (`serve_forever()`), waits with no timeout
(`queue.get()`, `event.wait()`), sleeps for long (a constant of more than
a second), or it is a `Timer` whose
delay is long or not a constant. A thread whose body is visible and does
none of these is a one-shot job (a flush, a clean-up, a test's helper that
sleeps a moment and releases a lock): it ends by itself once its calls
return, and exit waits for it no longer than that work takes.

`lifetime` answers for one thread constructor call: long (with the evidence
named for a message), one-shot, or None when the body is not visible (an
imported function, a method of an object of unknown type).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import libcst as cst

from threadlint.analysis import threading_api as api
from threadlint.analysis.calls import argument
from threadlint.analysis.context import ModuleContext
from threadlint.analysis.lifecycle_facts import definitions_visible
from threadlint.analysis.walk import children

# A delay or sleep of at most this many seconds ends soon enough that exit
# waiting for it is no hazard.
SOON_SECONDS = 1.0
# Methods that serve until something else tells them to stop.
_FOREVER_METHODS = frozenset({"mainloop", "serve_forever", "run_forever", "loop_forever"})
# Calls of the body followed into the functions they reach, this deep.
_DEPTH = 3
_BLOCKING_WAITS = {
    api.QUEUE: ("get",),
    api.EVENT: ("wait",),
    api.CONDITION: ("wait",),
    api.BARRIER: ("wait",),
}
_ENDLESS_ITERATORS = frozenset({"itertools.count", "itertools.cycle", "itertools.repeat"})


@dataclass(frozen=True)
class Lifetime:
    long: bool  # it can run for long or for ever
    why: str = ""  # for a long one, the evidence, in a message's words
    node: cst.CSTNode | None = None  # where that evidence is


ONE_SHOT = Lifetime(False)


def lifetime(ctx: ModuleContext, creation: cst.Call, thread_class: cst.ClassDef | None) -> Lifetime | None:
    """How long the thread `creation` makes can run; None when unknown."""
    if ctx.kind_of_type(creation.func) == api.TIMER:
        delay = _timer_delay(ctx, creation)
        if delay is not None:
            return delay
        return _callable_lifetime(ctx, argument(creation, 1, "function"), creation)
    if thread_class is not None:
        run = _method(ctx, thread_class, "run")
        if run is not None:
            return _body_lifetime(ctx, [run.body], set())
    return _callable_lifetime(ctx, argument(creation, 1, "target"), creation)


def _timer_delay(ctx: ModuleContext, creation: cst.Call) -> Lifetime | None:
    """A Timer fires after its delay: long unless a small constant (None
    when the delay is not visible: then its function decides)."""
    interval = argument(creation, 0, "interval")
    if interval is None:
        return None
    seconds = _constant_seconds(interval)
    if seconds is not None and seconds <= SOON_SECONDS:
        return ONE_SHOT  # it runs its function and ends by itself
    shown = _one_line(ctx, interval)
    return Lifetime(True, f"it is a Timer of `{shown}` seconds", interval)


def _constant_seconds(expr: cst.BaseExpression | None) -> float | None:
    if isinstance(expr, (cst.Integer, cst.Float)):
        try:
            return float(expr.evaluated_value)
        except OverflowError:  # an integer of hundreds of digits
            return float("inf")
    return None


def _callable_lifetime(
    ctx: ModuleContext, target: cst.BaseExpression | None, at: cst.CSTNode
) -> Lifetime | None:
    if target is None:
        return None
    if isinstance(target, cst.Call) and ctx.qualname(target.func) in ("functools.partial", "partial"):
        return _callable_lifetime(ctx, argument(target, 0, None), at)
    if isinstance(target, cst.Attribute):
        shown = _one_line(ctx, target)
        method = target.attr.value
        if method in _FOREVER_METHODS:
            return Lifetime(True, f"it runs `{shown}()`, which returns only when told to stop", target)
        if method in _BLOCKING_WAITS.get(ctx.kind_of(target.value) or "", ()):
            return Lifetime(True, f"it runs `{shown}()`, which can wait for ever", target)
    body = _callable_body(ctx, target, at)
    if body is None:
        return None
    return _body_lifetime(ctx, [body], set())


def _callable_body(ctx: ModuleContext, target: cst.BaseExpression, at: cst.CSTNode) -> cst.CSTNode | None:
    """The code a callable expression runs, when the module shows it."""
    if isinstance(target, cst.Lambda):
        return target.body
    if isinstance(target, cst.Name):
        found = definitions_visible(ctx, target.value, at)
        if found and len(found) == 1 and isinstance(found[0], cst.FunctionDef):
            return found[0].body
        return None
    if isinstance(target, cst.Attribute):
        cls = _class_of(ctx, target.value, at)
        if cls is not None:
            method = _method(ctx, cls, target.attr.value)
            return method.body if method is not None else None
    return None


def _class_of(ctx: ModuleContext, owner: cst.BaseExpression, at: cst.CSTNode) -> cst.ClassDef | None:
    """The module's class of `self`/`cls`, or of a name or `self` attribute
    bound only to instances of one module class (`server = Server()`)."""
    if isinstance(owner, cst.Attribute):
        bindings = ctx.self_attr_bindings(owner) or []
    elif not isinstance(owner, cst.Name):
        return None
    elif owner.value in ("self", "cls"):
        return ctx.enclosing_class(at)
    else:
        bindings = ctx.bindings_of(owner.value, at)
    values = [b.value for b in bindings]
    classes = {
        ctx.classes_by_name.get(ctx.qualname(v.func) or "") if isinstance(v, cst.Call) else None
        for v in values
    }
    if len(classes) == 1:
        return classes.pop()
    return None


def _method(ctx: ModuleContext, cls: cst.ClassDef, name: str) -> cst.FunctionDef | None:
    """`name` as `cls` (or a base class of the module) defines it."""
    for member in [cls, *ctx.local_bases(cls)]:
        method = ctx.classes[member].methods.get(name)
        if method is not None:
            return method
    return None


def _body_lifetime(ctx: ModuleContext, bodies: list[cst.CSTNode], seen: set[cst.CSTNode]) -> Lifetime:
    """Long when the code (or a function of the module it calls, a few calls
    deep) loops, serves, waits with no timeout or sleeps for long."""
    depth = 0
    while bodies and depth <= _DEPTH:
        callees: list[cst.CSTNode] = []
        for body in bodies:
            if body in seen:
                continue
            seen.add(body)
            for node in _executed(body):
                found = _evidence(ctx, node)
                if found is not None:
                    return found
                if isinstance(node, cst.Call):
                    callee = _callable_body(ctx, node.func, node)
                    if callee is not None:
                        callees.append(callee)
        bodies, depth = callees, depth + 1
    return ONE_SHOT


def _executed(body: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """The nodes of `body` that run when it runs: not those of the functions,
    lambdas and classes it only defines."""
    stack = [body]
    while stack:
        node = stack.pop()
        yield node
        below = [c for c in children(node) if not isinstance(c, (cst.FunctionDef, cst.Lambda, cst.ClassDef))]
        below.reverse()
        stack.extend(below)


def _evidence(ctx: ModuleContext, node: cst.CSTNode) -> Lifetime | None:
    if isinstance(node, cst.While):
        test = _one_line(ctx, node.test)
        return Lifetime(
            True, f"it runs a loop that nothing here ends (`while {test}:`, line {line_of(ctx, node)})", node
        )
    if isinstance(node, cst.For) and isinstance(node.iter, cst.Call):
        name = ctx.qualname(node.iter.func)
        if name in _ENDLESS_ITERATORS or (name == "iter" and len(node.iter.args) == 2):
            shown = _one_line(ctx, node.iter)
            return Lifetime(
                True, f"it runs an endless loop (`for ... in {shown}:`, line {line_of(ctx, node)})", node
            )
    if not isinstance(node, cst.Call):
        return None
    func = node.func
    name = ctx.qualname(func)
    if name == "time.sleep":
        # Only a visibly long sleep: a sleep of a variable is as often a
        # short pause of a one-shot helper as a long one.
        seconds = _constant_seconds(argument(node, 0, "secs"))
        if seconds is not None and seconds > SOON_SECONDS:
            return Lifetime(True, f"it sleeps in `{_one_line(ctx, node)}` (line {line_of(ctx, node)})", node)
        return None
    if name == "input":
        return Lifetime(True, f"it waits for input (`input()`, line {line_of(ctx, node)})", node)
    if isinstance(func, cst.Attribute):
        method = func.attr.value
        if method in _FOREVER_METHODS:
            shown = _one_line(ctx, func)
            return Lifetime(
                True, f"it runs `{shown}()` (line {line_of(ctx, node)}), which returns only when told to stop", node
            )
        kind = ctx.kind_of(func.value)
        if kind is not None and method in _BLOCKING_WAITS.get(kind, ()) and _waits_for_ever(node, method):
            shown = _one_line(ctx, node)
            return Lifetime(True, f"it can wait for ever in `{shown}` (line {line_of(ctx, node)})", node)
    return None


def _waits_for_ever(call: cst.Call, method: str) -> bool:
    """No timeout, and (for a queue's `get`) blocking."""
    if any(arg.star for arg in call.args):
        return False
    if method == "get":
        block = argument(call, 0, "block")
        if block is not None and not _is_constant(block, "True"):
            return False
        timeout = argument(call, 1, "timeout")
    else:
        timeout = argument(call, 0, "timeout")
    return timeout is None or _is_constant(timeout, "None")


def _is_constant(expr: cst.BaseExpression, name: str) -> bool:
    return isinstance(expr, cst.Name) and expr.value == name


def line_of(ctx: ModuleContext, node: cst.CSTNode) -> int:
    """The line of `node`, taken for a loop from its header."""
    # A loop's line is that of the first name or call in its header: those
    # positions come from the C parser, a `while` node's would need libcst's
    # costly position provider.
    if isinstance(node, (cst.While, cst.For, cst.CompFor)):
        header = node.test if isinstance(node, cst.While) else node.iter
        node = next((n for n in _executed(header) if isinstance(n, (cst.Name, cst.Call))), header)
    return ctx.position(node).start.line


def _one_line(ctx: ModuleContext, node: cst.CSTNode) -> str:
    return " ".join(ctx.code_for(node).split())
