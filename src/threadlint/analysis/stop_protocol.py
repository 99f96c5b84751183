"""How a thread is told to end when nobody joins it (TL201).

A thread that loops until its owner signals it is ended by that signal, even
when nothing joins it afterwards:

- its target (`self._serve`, or `run()` of a Thread subclass) reads a queue,
  an Event or a flag of the object (`self._queue.get()`, `self._stop.is_set()`,
  `while self._running:`), and a stop method of the class (`stop()`,
  `close()`, `shutdown()`, `__exit__`...) puts on that queue (a sentinel),
  sets that Event, or assigns that flag;
- a stop method of the thread's own class that works on state its `run()`
  uses is called on it (`self._loop.stop()`);
- its target is a method of another object (`server.serve_forever`), and the
  module calls a stop method on that same object (`server.shutdown()`,
  `request.addfinalizer(server.stop)`): the same variable, not another
  function's local of the same name; or the function hands that object on
  (returns, yields or stores it), and whoever receives it can stop it.

`stop_evidence` returns the stopping call or method, to be named in a message.
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from threadlint.analysis.calls import argument
from threadlint.analysis.context import ModuleContext, dotted_name
from threadlint.analysis.lifecycle_facts import resolving_scope
from threadlint.analysis.walk import descendants

_STOP_PREFIXES = ("stop", "close", "shutdown", "terminate", "cancel", "quit", "kill", "halt", "disconnect")
_STOP_DUNDERS = frozenset({"__exit__", "__del__"})
# How a stop method signals a queue, an Event or a flag of its object.
_SIGNAL_METHODS = frozenset({"put", "put_nowait", "set"})
# How a thread's loop reads them.
_READ_METHODS = frozenset({"get", "get_nowait", "is_set", "isSet", "wait"})


@dataclass(frozen=True)
class StopEvidence:
    what: str  # `self.stop()` / `server.shutdown()`
    node: cst.CSTNode  # where the stop happens


def is_stop_name(name: str) -> bool:
    lowered = name.lower().lstrip("_")
    return name in _STOP_DUNDERS or lowered.startswith(_STOP_PREFIXES)


def stop_evidence(
    ctx: ModuleContext, creation: cst.Call, thread_class: cst.ClassDef | None
) -> StopEvidence | None:
    """What stops the thread `creation` makes, if the module shows it."""
    if thread_class is not None:
        run = ctx.classes[thread_class].methods.get("run")
        return _stopped_by_owner(ctx, thread_class, run)
    target = argument(creation, 1, "target")
    if not isinstance(target, cst.Attribute):
        return None
    owner = target.value
    if isinstance(owner, cst.Name) and owner.value in ("self", "cls"):
        cls = ctx.enclosing_class(creation)
        if cls is None:
            return None
        return _stopped_by_owner(ctx, cls, ctx.classes[cls].methods.get(target.attr.value))
    return _stopped_object(ctx, owner)


def _stopped_by_owner(
    ctx: ModuleContext, cls: cst.ClassDef, loop: cst.FunctionDef | None
) -> StopEvidence | None:
    """A stop method of `cls` signals something `loop` (the thread's body) reads."""
    if loop is None:
        return None
    read = _attributes_read(loop)
    if not read:
        return None
    methods = ctx.classes[cls].methods
    for name, method in methods.items():
        if method is loop or not is_stop_name(name):
            continue
        for body in [method, *_self_callees(method, methods)]:
            for node in _nodes(body):
                signalled = _signalled_attribute(node)
                if signalled is not None and signalled in read:
                    return StopEvidence(f"`self.{name}()`", method)
    return None


def _self_callees(method: cst.FunctionDef, methods: dict[str, cst.FunctionDef]) -> list[cst.FunctionDef]:
    """Methods `method` calls as `self.m()` (one level: `stop()` -> `_signal()`)."""
    found: list[cst.FunctionDef] = []
    for node in _nodes(method):
        if (
            isinstance(node, cst.Call)
            and isinstance(node.func, cst.Attribute)
            and _is_self(node.func.value)
            and node.func.attr.value in methods
        ):
            found.append(methods[node.func.attr.value])
    return found


def _attributes_read(loop: cst.FunctionDef) -> set[str]:
    """`self.x` attributes the loop reads as a signal: `self.x.get()`,
    `self.x.is_set()`, `self.x.wait()`, or `self.x` tested by a `while`/`if`."""
    read: set[str] = set()
    for node in _nodes(loop):
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
            receiver = node.func.value
            if node.func.attr.value in _READ_METHODS and _self_attribute(receiver):
                assert isinstance(receiver, cst.Attribute)
                read.add(receiver.attr.value)
        elif isinstance(node, (cst.While, cst.If)):
            for part in _nodes(node.test):
                if isinstance(part, cst.Attribute) and _self_attribute(part):
                    read.add(part.attr.value)
    return read


def _signalled_attribute(node: cst.CSTNode) -> str | None:
    """`self.x.put(...)`, `self.x.set()`, `self.x = <value>`: the `x` signalled."""
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
        receiver = node.func.value
        if node.func.attr.value in _SIGNAL_METHODS and _self_attribute(receiver):
            assert isinstance(receiver, cst.Attribute)
            return receiver.attr.value
    if isinstance(node, cst.Assign):
        for target in node.targets:
            if _self_attribute(target.target):
                assert isinstance(target.target, cst.Attribute)
                return target.target.attr.value
    return None


def _stopped_object(ctx: ModuleContext, owner: cst.BaseExpression) -> StopEvidence | None:
    """The module calls (or hands on) a stop method of `owner`: `server.shutdown()`.

    The stop must name the same object: the same variable (a local of the
    function that starts the thread, a global), or the same attribute chain
    of `self`/`cls` in the same class. A local of the same name in another
    function is another object."""
    wanted = dotted_name(owner)
    if wanted is None:
        return None
    identity = _identity(ctx, owner)
    handed_on = _handed_on(ctx, owner, identity)
    if handed_on is not None:
        return handed_on
    for node in ctx.parents:
        if (
            isinstance(node, cst.Attribute)
            and is_stop_name(node.attr.value)
            and dotted_name(node.value) == wanted
            and _identity(ctx, node.value) == identity
        ):
            parent = ctx.parent(node)
            shown = f"`{wanted}.{node.attr.value}()`"
            return StopEvidence(shown, parent if isinstance(parent, cst.Call) else node)
    return None


def _handed_on(ctx: ModuleContext, owner: cst.BaseExpression, scope: cst.CSTNode | None) -> StopEvidence | None:
    """A local `owner` the function returns, yields or stores on an object:
    whoever receives it holds what stops it (`return server`, then the
    caller's `server.shutdown()`)."""
    if not isinstance(owner, cst.Name) or not isinstance(scope, (cst.FunctionDef, cst.Lambda)):
        return None
    for node in descendants(scope):
        if not (isinstance(node, cst.Name) and node.value == owner.value):
            continue
        parent = ctx.parent(node)
        if isinstance(parent, (cst.Return, cst.Yield)) or (
            isinstance(parent, cst.Assign)
            and parent.value is node
            and any(isinstance(t.target, cst.Attribute) for t in parent.targets)
        ):
            return StopEvidence(f"whoever receives `{owner.value}`", parent)
    return None


def _identity(ctx: ModuleContext, expr: cst.BaseExpression) -> cst.CSTNode | None:
    """What the root name of `expr` means where it is used: the class for
    `self`/`cls`, else the scope (function, lambda, module) binding it."""
    root = expr
    while isinstance(root, cst.Attribute):
        root = root.value
    if not isinstance(root, cst.Name):
        return None
    if root.value in ("self", "cls"):
        return ctx.enclosing_class(root)
    return resolving_scope(ctx, root.value, root)


def shares_state(stop: cst.FunctionDef, run: cst.FunctionDef) -> bool:
    """The stop method works on something the thread's body uses
    (`CFRunLoopStop(self._run_loop)` for a loop `run()` set up): it can end it."""
    used = {n.attr.value for n in _nodes(run) if isinstance(n, cst.Attribute) and _self_attribute(n)}
    return any(
        isinstance(n, cst.Attribute) and _self_attribute(n) and n.attr.value in used for n in _nodes(stop)
    )


def _self_attribute(expr: cst.BaseExpression) -> bool:
    return isinstance(expr, cst.Attribute) and _is_self(expr.value)


def _is_self(expr: cst.BaseExpression) -> bool:
    return isinstance(expr, cst.Name) and expr.value in ("self", "cls")


def _nodes(node: cst.CSTNode) -> list[cst.CSTNode]:
    return [node, *descendants(node)]
