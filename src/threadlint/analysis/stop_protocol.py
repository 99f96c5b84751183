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

The loops and waits of a thread's body are judged one by one
(`thread_lifetime` asks, for each loop or blocking wait it finds):

- `loop_stop`: the loop ends on a signal that code outside the thread's
  function sends. Its exits (the `while` test, an `if` that breaks, returns
  or changes what the `while` tests) read a flag, an Event or a queue, and
  another function of the module (any name: `stop()`, `unsubscribe()`, a
  command handler) assigns that flag a value that ends the loop, sets that
  Event, or puts the sentinel the loop returns on (`if item is None:
  return`) on that queue, once for each thread when several are started
  in a loop; or the Event's `set` is handed on as a callable
  (`atexit.register(done.set)`). The flag, Event or queue may be an
  attribute (matched by name, as everywhere in the lifecycle analysis), a
  global, a variable of an enclosing function, or (an Event or a queue;
  a flag passed on is a copy) an argument the thread was started with
  (`args=(self._stop_event,)`) or a local alias (`q = self._queue`).
- `wait_released`: a blocking wait with no timeout (`event.wait()`,
  `queue.get()`) on an object another function of the module releases (a
  `set()`, a `put()`, `atexit.register(event.set)`).
- `joined_current_thread`: the thread keeps a handle on itself
  (`self._thread = threading.current_thread()`) that the module joins.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

import libcst as cst

from threadlint.analysis import threading_api as api
from threadlint.analysis.calls import argument
from threadlint.analysis.context import ModuleContext, dotted_name
from threadlint.analysis.lifecycle_facts import (
    Use,
    attribute_occurrences,
    classify,
    is_inside,
    name_occurrences,
    repeating_loop,
    resolving_scope,
)
from threadlint.analysis.walk import descendants, executed

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


# -- signals that end a loop or a wait of the thread ---------------------------

# A thread function's parameters, mapped to the arguments it was started (or
# called) with, as the code that passes them names them.
Env = Mapping[str, cst.BaseExpression]

_EVENT_TESTS = frozenset({"is_set", "isSet"})
_QUEUE_GETS = frozenset({"get", "get_nowait"})
_QUEUE_PUTS = frozenset({"put", "put_nowait"})
_CURRENT_THREAD = frozenset({"threading.current_thread", "threading.currentThread"})
# What wakes a blocking wait of each kind, called by another thread.
_RELEASES = {
    api.QUEUE: _QUEUE_PUTS,
    api.EVENT: frozenset({"set"}),
    api.CONDITION: frozenset({"notify", "notify_all", "notifyAll"}),
    api.BARRIER: frozenset({"wait", "abort"}),
}


@dataclass(frozen=True)
class _Signal:
    """A flag, Event or queue the thread reads, and the change of it that
    ends the thread's loop or wait."""

    subject: cst.BaseExpression  # as the thread's code names it
    methods: frozenset[str] = frozenset()  # calls that end it (`set`, `put`); none for a flag
    ends_when: bool | None = None  # a flag: the truth value that ends it (None: any new value)
    sentinel: cst.BaseExpression | None = None  # a put: the value that ends it
    falsy: bool = False  # a put: any false value ends it (`if not item: break`)


def loop_stop(ctx: ModuleContext, loop: cst.While | cst.For, env: Env, many: bool) -> StopEvidence | None:
    """The signal from outside the thread's function that ends `loop`, if the
    module sends one. `many`: the thread is one of several started in a loop,
    so a sentinel must be put once for each."""
    signals: list[_Signal] = []
    if isinstance(loop, cst.For) and isinstance(loop.iter, cst.Call) and ctx.qualname(loop.iter.func) == "iter":
        # `for job in iter(q.get, None):` ends on the sentinel.
        source, sentinel = argument(loop.iter, 0, None), argument(loop.iter, 1, None)
        if isinstance(source, cst.Attribute) and source.attr.value in _QUEUE_GETS and sentinel is not None:
            signals.append(_Signal(source.value, _QUEUE_PUTS, sentinel=sentinel))
    for test, ends_when in exit_tests(ctx, loop):
        signals.extend(_signals(ctx, test, ends_when))
    reader = _reader(ctx, loop)
    for signal in signals:
        found = _signalled(ctx, signal, env, reader, many)
        if found is not None:
            return found
    return None


def wait_released(
    ctx: ModuleContext, wait: cst.Call | cst.Attribute, kind: str, env: Env
) -> StopEvidence | None:
    """What releases a blocking wait with no timeout: a call of another
    function of the module that wakes it (`event.set()`, `queue.put(x)`), or
    the waking method handed on (`atexit.register(event.set)`). `wait` is the
    call in the thread's code, or the bound method that is the thread's
    target (`Thread(target=event.wait)`)."""
    func = wait.func if isinstance(wait, cst.Call) else wait
    if not isinstance(func, cst.Attribute) or kind not in _RELEASES:
        return None
    reader = _reader(ctx, wait) if isinstance(wait, cst.Call) else None
    return _signalled(ctx, _Signal(func.value, _RELEASES[kind]), env, reader, many=False)


def joined_current_thread(ctx: ModuleContext, node: cst.CSTNode) -> StopEvidence | None:
    """`self._thread = threading.current_thread()` in the thread's code, and
    a `join()` of that attribute (or global) in the module: the thread hands
    its owner a handle, and the owner joins it (in `close()`, `__del__`)."""
    if not (
        isinstance(node, cst.Assign)
        and isinstance(node.value, cst.Call)
        and ctx.qualname(node.value.func) in _CURRENT_THREAD
    ):
        return None
    for target in node.targets:
        kept = target.target
        occurrences: Sequence[cst.BaseExpression] = []
        if isinstance(kept, cst.Attribute):
            occurrences = attribute_occurrences(ctx, kept.attr.value)
        elif isinstance(kept, cst.Name) and resolving_scope(ctx, kept.value, kept) is ctx.module:
            occurrences = name_occurrences(ctx, kept.value, ctx.module)
        for occ in occurrences:
            use = classify(ctx, occ)
            if use.kind == "call" and use.member == "join" and use.call is not None:
                return StopEvidence(f"`{dotted_name(occ) or '?'}.join()`", use.call)
    return None


def exit_tests(ctx: ModuleContext, loop: cst.While | cst.For) -> Iterator[tuple[cst.BaseExpression, bool]]:
    """The tests that end `loop`, each with the truth value that ends it: the
    `while` test (false), and the test of an `if` whose branch leaves the
    loop or changes what the `while` tests (`if stop.is_set(): done = True`)."""
    tested: frozenset[str] = frozenset()
    if isinstance(loop, cst.While):
        yield loop.test, False
        tested = frozenset(
            name for n in _nodes(loop.test) if isinstance(n, (cst.Name, cst.Attribute))
            for name in [dotted_name(n)] if name is not None
        )
    for node in executed(loop.body):
        if not isinstance(node, cst.If):
            continue
        if leaves_loop(ctx, node.body, loop, tested):
            yield node.test, True
        if isinstance(node.orelse, cst.Else) and leaves_loop(ctx, node.orelse.body, loop, tested):
            yield node.test, False


def leaves_loop(
    ctx: ModuleContext, block: cst.CSTNode, loop: cst.While | cst.For, tested: frozenset[str] = frozenset()
) -> bool:
    """`block` (in `loop`) returns, breaks out of `loop` (not of a loop
    inside it), or assigns something the `while` tests (`tested`)."""
    for node in executed(block):
        if isinstance(node, cst.Return):
            return True
        if isinstance(node, cst.Break) and _innermost_loop(ctx, node) is loop:
            return True
        if tested and isinstance(node, cst.Assign) and any(dotted_name(t.target) in tested for t in node.targets):
            return True
    return False


def _innermost_loop(ctx: ModuleContext, node: cst.CSTNode) -> cst.CSTNode | None:
    for ancestor in ctx.ancestors(node):
        if isinstance(ancestor, (cst.For, cst.While)):
            return ancestor
        if isinstance(ancestor, (cst.FunctionDef, cst.Lambda, cst.ClassDef)):
            return None
    return None


def _signals(ctx: ModuleContext, test: cst.BaseExpression, ends_when: bool) -> Iterator[_Signal]:
    """What `test` reads that another thread can change to make it
    `ends_when`: a flag, an Event, or the item taken from a queue."""
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        yield from _signals(ctx, test.expression, not ends_when)
    elif isinstance(test, cst.BooleanOperation):
        yield from _signals(ctx, test.left, ends_when)
        yield from _signals(ctx, test.right, ends_when)
    elif isinstance(test, cst.Comparison) and len(test.comparisons) == 1:
        yield from _compared(ctx, test, ends_when)
    elif isinstance(test, cst.Call) and isinstance(test.func, cst.Attribute):
        method = test.func.attr.value
        if method in _EVENT_TESTS:
            yield _Signal(test.func.value, frozenset({"set" if ends_when else "clear"}))
        elif method == "wait" and ends_when:  # `while not stop.wait(1):`
            yield _Signal(test.func.value, _RELEASES[api.EVENT])
    elif isinstance(test, (cst.Name, cst.Attribute, cst.NamedExpr)) and _truth(test) is None:
        queue = _taken_from(ctx, test)
        if queue is None:
            if not isinstance(test, cst.NamedExpr):
                yield _Signal(test, ends_when=ends_when)
        elif not ends_when:  # `if not item: break`
            yield _Signal(queue, _QUEUE_PUTS, falsy=True)


def _compared(ctx: ModuleContext, test: cst.Comparison, ends_when: bool) -> Iterator[_Signal]:
    """`item is None` for an item taken from a queue: a sentinel; `self.state
    != "stopped"`: a flag that any new value may end."""
    comparison = test.comparisons[0]
    same = isinstance(comparison.operator, (cst.Is, cst.Equal))
    differ = isinstance(comparison.operator, (cst.IsNot, cst.NotEqual))
    sides = ((test.left, comparison.comparator), (comparison.comparator, test.left))
    for side, other in sides:
        queue = _taken_from(ctx, side)
        if queue is not None:
            if (same and ends_when) or (differ and not ends_when):
                yield _Signal(queue, _QUEUE_PUTS, sentinel=other)
            return
    for side, _ in sides:
        if isinstance(side, (cst.Name, cst.Attribute)) and _truth(side) is None:
            yield _Signal(side)


def _taken_from(ctx: ModuleContext, expr: cst.BaseExpression) -> cst.BaseExpression | None:
    """The queue `expr` is an item of: `q.get()`, `(item := q.get())`, or a
    variable only ever bound to `q.get(...)`."""
    if isinstance(expr, cst.NamedExpr):
        return _taken_from(ctx, expr.value)
    if isinstance(expr, cst.Call):
        func = expr.func
        return func.value if isinstance(func, cst.Attribute) and func.attr.value in _QUEUE_GETS else None
    if not isinstance(expr, cst.Name):
        return None
    bindings = ctx.bindings_of(expr.value, expr)
    queues = [_taken_from(ctx, b.value) if isinstance(b.value, cst.Call) else None for b in bindings]
    names = {dotted_name(q) for q in queues}
    if not queues or None in names or len(names) != 1:
        return None
    return queues[0]


def _signalled(
    ctx: ModuleContext, signal: _Signal, env: Env, reader: cst.CSTNode | None, many: bool
) -> StopEvidence | None:
    """Where the module, outside the thread's function `reader`, sends `signal`."""
    # A flag is a value: the thread's parameter or local alias of one is a
    # copy that no assignment elsewhere reaches. An Event or a queue is
    # the same object however it is passed on.
    occurrences = _occurrences(ctx, signal.subject, env if signal.methods else None, reader, depth=0)
    if not occurrences:
        return None
    senders = [
        use for occ in occurrences
        if reader is None or not is_inside(ctx, occ, reader)
        for use in [classify(ctx, occ)] if _sends(ctx, signal, use)
    ]
    if not senders:
        return None
    sentinel = signal.sentinel is not None or signal.falsy
    if many and sentinel and len(senders) == 1 and repeating_loop(ctx, senders[0].node) is None:
        return None  # one sentinel for several threads ends only one of them
    use = senders[0]
    shown = (dotted_name(use.node) if isinstance(use.node, cst.BaseExpression) else None) or "?"
    if use.kind == "store":
        return StopEvidence(f"`{shown} = ...`", use.node)
    if use.kind == "call" and use.call is not None:
        return StopEvidence(f"`{shown}.{use.member}(...)`", use.call)
    return StopEvidence(f"`{shown}.{use.member}` handed on", use.node)


def _occurrences(
    ctx: ModuleContext, subject: cst.BaseExpression, env: Env | None, reader: cst.CSTNode | None, depth: int
) -> Sequence[cst.BaseExpression] | None:
    """Every place the module names the object that `subject` names in the
    thread's function `reader`: an attribute (by name), a global or a
    variable of an enclosing function; and, unless `env` is None (a flag),
    the argument a parameter was passed (`env`) or what a local alias was
    bound to (`q = self._queue`)."""
    if isinstance(subject, cst.Attribute):
        return attribute_occurrences(ctx, subject.attr.value)
    if not isinstance(subject, cst.Name) or depth > 3:
        return None
    scope = resolving_scope(ctx, subject.value, subject)
    if scope is None:
        return None
    if scope is not reader:
        return name_occurrences(ctx, subject.value, scope)
    if env is None:
        return None
    if subject.value in env:
        # The argument, as the code that started or called the thread names it.
        return _occurrences(ctx, env[subject.value], {}, None, depth + 1)
    bindings = ctx.bindings_of(subject.value, subject)
    if len(bindings) == 1 and isinstance(bindings[0].value, (cst.Name, cst.Attribute)):
        return _occurrences(ctx, bindings[0].value, env, reader, depth + 1)
    return None


def _sends(ctx: ModuleContext, signal: _Signal, use: Use) -> bool:
    """`use` sends `signal`: assigns the flag a value that ends the loop,
    calls the Event's or queue's method (with the sentinel), or hands that
    method on for somebody else to call (`atexit.register(done.set)`)."""
    if not signal.methods:
        return use.kind == "store" and (signal.ends_when is None or _truth(use.value) in (None, signal.ends_when))
    if use.member not in signal.methods:
        return False
    any_value = signal.sentinel is None and not signal.falsy
    if use.kind == "attr":
        return any_value
    if use.kind != "call" or use.call is None:
        return False
    if any_value:
        return True
    sent = argument(use.call, 0, "item")
    if sent is None:
        return False
    if signal.falsy:
        return _truth(sent) is False
    assert signal.sentinel is not None
    return _same_value(ctx, sent, signal.sentinel)


def _same_value(ctx: ModuleContext, a: cst.BaseExpression, b: cst.BaseExpression) -> bool:
    names = dotted_name(a), dotted_name(b)
    if names[0] is not None or names[1] is not None:
        return names[0] == names[1]
    return " ".join(ctx.code_for(a).split()) == " ".join(ctx.code_for(b).split())


def _truth(expr: cst.BaseExpression | None) -> bool | None:
    """The truth value of a constant (`True`, `None`, `0`, `""`); None otherwise."""
    if isinstance(expr, cst.Name) and expr.value in ("True", "False", "None"):
        return expr.value == "True"
    if isinstance(expr, (cst.Integer, cst.Float, cst.SimpleString)):
        try:
            return bool(expr.evaluated_value)
        except (ValueError, SyntaxError):  # a string libcst cannot evaluate
            return None
    return None


def _reader(ctx: ModuleContext, node: cst.CSTNode) -> cst.CSTNode | None:
    """The function (or lambda) of the thread's code that runs `node`."""
    scope = ctx.enclosing_scope(node)
    return scope if isinstance(scope, (cst.FunctionDef, cst.Lambda)) else None
