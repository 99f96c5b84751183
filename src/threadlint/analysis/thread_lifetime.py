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

Evidence that has an end the module shows is not evidence:

- a loop that reads until its input ends (an `except EOFError:` or
  `except OSError:` that leaves it, `if not data: break` after a read);
- a loop that ends by itself: one timed against a clock (`while deadline >
  time.time():`, a deadline moved on by activity still ends when activity
  stops), or one that leaves when the main thread is no longer alive
  (`if not threading.main_thread().is_alive(): break`): at exit the
  interpreter marks the main thread stopped before it joins the others;
- a loop, or a blocking wait, that another function of the module ends by
  a signal (`stop_protocol.loop_stop`, `stop_protocol.wait_released`): the
  thread is then handled, not forgotten (`Lifetime.ended_by`); the loops
  and sleeps inside such a loop, and in the functions it calls, pace it
  and are not evidence of their own;
- whatever the body does, when it keeps a handle on its own thread that
  the module joins (`stop_protocol.joined_current_thread`).

`lifetime` answers for one thread constructor call: long (with the evidence
named for a message), one-shot, ended by a stop the module shows, or None
when the body is not visible (an imported function, a method of an object
of unknown type).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import libcst as cst

from threadlint.analysis import threading_api as api
from threadlint.analysis.calls import argument, positional_params
from threadlint.analysis.cannot_raise import ORDERINGS
from threadlint.analysis.context import ModuleContext
from threadlint.analysis.lifecycle_facts import definitions_visible, is_inside, repeating_loop
from threadlint.analysis.stop_protocol import (
    Env,
    StopEvidence,
    exit_tests,
    joined_current_thread,
    leaves_loop,
    loop_stop,
    wait_released,
)
from threadlint.analysis.walk import descendants, executed

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
# Exceptions that say there is no more to read: the input ended, the
# connection closed, the queue stayed empty past the timeout. A loop that
# leaves on one ends when its input does.
_END_OF_INPUT = frozenset(
    {
        "EOFError", "OSError", "IOError", "EnvironmentError", "ConnectionError",
        "BrokenPipeError", "ConnectionResetError", "ConnectionAbortedError",
        "socket.error", "select.error", "StopIteration", "queue.Empty",
    }
)
# ... and so do exceptions named for it (`ConnectionClosed`, `ChannelEOF`).
_END_OF_INPUT_WORDS = ("eof", "closed", "disconnect")
# Reads that return an empty value at the end of their input.
_READS = frozenset({"read", "read1", "readline", "recv", "recv_into", "readinto"})
# Clocks a loop can be timed against.
_CLOCKS = frozenset(
    {"time.time", "time.time_ns", "time.monotonic", "time.monotonic_ns", "time.perf_counter",
     "time.perf_counter_ns"}
)
# Where Thread and Timer take their argument tuple and keyword dict.
_ARGUMENTS = {api.THREAD: ((3, "args"), (4, "kwargs")), api.TIMER: ((2, "args"), (3, "kwargs"))}


@dataclass(frozen=True)
class Lifetime:
    long: bool  # it can run for long or for ever
    why: str = ""  # for a long one, the evidence, in a message's words
    node: cst.CSTNode | None = None  # where that evidence is
    # Not long because the module ends it: the stop (or join) that does.
    ended_by: StopEvidence | None = None


ONE_SHOT = Lifetime(False)


@dataclass(frozen=True)
class _Body:
    """Code the thread runs, with what its parameters were passed."""

    code: cst.CSTNode
    env: Env
    # Run once for each pass of a loop that is ended (by a signal, or by the
    # end of its input): its own loops and sleeps pace that loop.
    paced: bool = False


@dataclass(frozen=True)
class _Callee:
    body: cst.CSTNode
    function: cst.FunctionDef | None  # None for a lambda
    bound: bool  # a method called on its object: `self` is not passed


def lifetime(ctx: ModuleContext, creation: cst.Call, thread_class: cst.ClassDef | None) -> Lifetime | None:
    """How long the thread `creation` makes can run; None when unknown."""
    kind = ctx.kind_of_type(creation.func)
    many = repeating_loop(ctx, creation) is not None
    if kind == api.TIMER:
        delay = _timer_delay(ctx, creation)
        if delay is not None:
            return delay
    if thread_class is not None:
        run = ctx.method(thread_class, "run")
        if run is not None:
            return _body_lifetime(ctx, [_Body(run.body, {})], many)
    target = argument(creation, 1, "function" if kind == api.TIMER else "target")
    return _callable_lifetime(ctx, target, creation, _started_with(creation, kind), many)


def timer_seconds(ctx: ModuleContext, creation: cst.Call) -> float | None:
    """The constant delay of `Timer(delay, ...)`, also through a name bound
    once to a constant (`trigger = 0.5`); None when not a constant."""
    interval = argument(creation, 0, "interval")
    if isinstance(interval, cst.Name):
        bindings = ctx.bindings_of(interval.value, interval)
        if len(bindings) == 1 and bindings[0].value is not None:
            interval = bindings[0].value
    return _constant_seconds(interval)


def _timer_delay(ctx: ModuleContext, creation: cst.Call) -> Lifetime | None:
    """A Timer fires after its delay: long unless a small constant (None
    when the delay is not visible: then its function decides)."""
    interval = argument(creation, 0, "interval")
    if interval is None:
        return None
    seconds = timer_seconds(ctx, creation)
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
    ctx: ModuleContext,
    target: cst.BaseExpression | None,
    at: cst.CSTNode,
    arguments: Sequence[cst.Arg],
    many: bool,
) -> Lifetime | None:
    if target is None:
        return None
    if isinstance(target, cst.Call) and ctx.qualname(target.func) in ("functools.partial", "partial"):
        return _callable_lifetime(ctx, argument(target, 0, None), at, [*target.args[1:], *arguments], many)
    if isinstance(target, cst.Attribute):
        shown = _one_line(ctx, target)
        method = target.attr.value
        if method in _FOREVER_METHODS:
            return Lifetime(True, f"it runs `{shown}()`, which returns only when told to stop", target)
        kind = ctx.kind_of(target.value) or ""
        if method in _BLOCKING_WAITS.get(kind, ()):
            released = wait_released(ctx, target, kind, {})
            if released is not None:
                return Lifetime(False, ended_by=released)
            return Lifetime(True, f"it runs `{shown}()`, which can wait for ever", target)
    callee = _callee(ctx, target, at)
    if callee is None:
        return None
    return _body_lifetime(ctx, [_Body(callee.body, _parameters(callee, arguments, {}))], many)


def _started_with(creation: cst.Call, kind: str | None) -> list[cst.Arg]:
    """The arguments a Thread or Timer passes its function, as call
    arguments: `args=(q,)` and `kwargs={"timeout": 5}` (literals only)."""
    if kind not in _ARGUMENTS:
        return []
    (args_at, args_name), (kwargs_at, kwargs_name) = _ARGUMENTS[kind]
    found: list[cst.Arg] = []
    args = argument(creation, args_at, args_name)
    if isinstance(args, (cst.Tuple, cst.List)):
        for element in args.elements:
            if isinstance(element, cst.StarredElement):
                return found  # the rest is not known by position
            found.append(cst.Arg(element.value))
    kwargs = argument(creation, kwargs_at, kwargs_name)
    if isinstance(kwargs, cst.Dict):
        for item in kwargs.elements:
            if isinstance(item, cst.DictElement) and isinstance(item.key, cst.SimpleString):
                key = item.key.evaluated_value
                if isinstance(key, str) and key.isidentifier():
                    found.append(cst.Arg(item.value, keyword=cst.Name(key)))
    return found


def _parameters(callee: _Callee, arguments: Sequence[cst.Arg], outer: Env) -> dict[str, cst.BaseExpression]:
    """What each parameter of `callee` is passed, as the caller names it (a
    parameter of the caller is replaced by what the caller was passed)."""
    if callee.function is None:
        return {}
    params = callee.function.params
    positional = positional_params(params)
    if callee.bound and positional:
        positional = positional[1:]
    env: dict[str, cst.BaseExpression] = {}
    position = 0
    for arg in arguments:
        if arg.star:
            break  # `*args`, `**kwargs`: the rest is not known
        value = arg.value
        if isinstance(value, cst.Name) and value.value in outer:
            value = outer[value.value]
        if arg.keyword is not None:
            env[arg.keyword.value] = value
            continue
        if position < len(positional):
            env[positional[position].name.value] = value
        position += 1
    return env


def _callee(ctx: ModuleContext, target: cst.BaseExpression, at: cst.CSTNode) -> _Callee | None:
    """The code a callable expression runs, when the module shows it."""
    if isinstance(target, cst.Lambda):
        return _Callee(target.body, None, False)
    if isinstance(target, cst.Name):
        found = definitions_visible(ctx, target.value, at)
        if found and len(found) == 1 and isinstance(found[0], cst.FunctionDef):
            return _Callee(found[0].body, found[0], False)
        return None
    if isinstance(target, cst.Attribute):
        cls = _class_of(ctx, target.value, at)
        if cls is not None:
            method = ctx.method(cls, target.attr.value)
            if method is None:
                return None
            static = any(
                isinstance(d.decorator, cst.Name) and d.decorator.value == "staticmethod" for d in method.decorators
            )
            return _Callee(method.body, method, not static)
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


def _body_lifetime(ctx: ModuleContext, bodies: list[_Body], many: bool) -> Lifetime:
    """Long when the code (or a function of the module it calls, a few calls
    deep) loops, serves, waits with no timeout or sleeps for long, and
    nothing the module shows ends that; ended when a stop the module shows
    ends all of it, or the thread keeps a handle on itself that is joined.
    `many`: the thread is one of several started in a loop."""
    seen: set[cst.CSTNode] = set()
    ended: list[cst.CSTNode] = []  # loops that end: what runs in them paces them
    stop: StopEvidence | None = None
    long: Lifetime | None = None
    depth = 0
    while bodies and depth <= _DEPTH:
        callees: list[_Body] = []
        for body in bodies:
            if body.code in seen:
                continue
            seen.add(body.code)
            for node in executed(body.code):
                joined = joined_current_thread(ctx, node)
                if joined is not None:
                    return Lifetime(False, ended_by=joined)
                paced = body.paced or any(is_inside(ctx, node, loop) for loop in ended)
                found = _evidence(ctx, node) if long is None else None
                if found is not None:
                    ending = _ending(ctx, node, body.env, many, paced)
                    if ending is None:
                        long = found
                    elif isinstance(ending, StopEvidence):
                        stop = stop or ending
                    if ending is not None and isinstance(node, (cst.While, cst.For)):
                        ended.append(node)
                if isinstance(node, cst.Call):
                    callee = _callee(ctx, node.func, node)
                    if callee is not None:
                        env = _parameters(callee, node.args, body.env)
                        callees.append(_Body(callee.body, env, paced))
        bodies, depth = callees, depth + 1
    if long is not None:
        return long
    return Lifetime(False, ended_by=stop) if stop is not None else ONE_SHOT


def _ending(
    ctx: ModuleContext, node: cst.CSTNode, env: Env, many: bool, paced: bool
) -> StopEvidence | Literal[True] | None:
    """What ends the loop, sleep or wait `node` (evidence of a long life):
    the stop the module sends; True when it ends by itself (a loop that
    reads to the end of its input) or paces a loop that ends; None when
    nothing does."""
    if isinstance(node, (cst.While, cst.For)):
        if paced or _reads_to_the_end(ctx, node) or _ends_by_itself(ctx, node):
            return True
        return loop_stop(ctx, node, env, many)
    if not isinstance(node, cst.Call):
        return None
    if ctx.qualname(node.func) == "time.sleep":
        return True if paced else None
    func = node.func
    if isinstance(func, cst.Attribute):
        kind = ctx.kind_of(func.value)
        if kind is not None and func.attr.value in _BLOCKING_WAITS.get(kind, ()):
            return wait_released(ctx, node, kind, env)
    return None


def _reads_to_the_end(ctx: ModuleContext, loop: cst.While | cst.For) -> bool:
    """The loop leaves when its input ends: a handler of an end-of-input
    exception that leaves it (`except EOFError: break`, `except OSError:
    return`), a `try` around it with such a handler, or an exit on an empty
    read (`if not data: break`, `while data:`)."""
    for ancestor in ctx.ancestors(loop):
        if isinstance(ancestor, (cst.FunctionDef, cst.Lambda, cst.ClassDef)):
            break
        if isinstance(ancestor, cst.Try) and is_inside(ctx, loop, ancestor.body):
            if any(_catches_end_of_input(ctx, h) for h in ancestor.handlers):
                return True
    for node in executed(loop.body):
        if isinstance(node, cst.Try) and any(
            _catches_end_of_input(ctx, h) and leaves_loop(ctx, h.body, loop) for h in node.handlers
        ):
            return True
    return any(_ends_on_empty_read(ctx, test, ends_when) for test, ends_when in exit_tests(ctx, loop))


def _ends_by_itself(ctx: ModuleContext, loop: cst.While | cst.For) -> bool:
    """A test that ends the loop is timed against a clock (`while stoptime >
    time.time():`) or asks whether the main thread is still alive."""
    return any(
        _timed(ctx, test) or _asks_main_thread_alive(ctx, test, follow=True)
        for test, _ in exit_tests(ctx, loop)
    )


def _timed(ctx: ModuleContext, test: cst.BaseExpression) -> bool:
    """An ordering comparison with a clock reading on one side."""
    return any(
        isinstance(node, cst.Comparison)
        and any(isinstance(c.operator, ORDERINGS) for c in node.comparisons)
        and any(
            isinstance(side, cst.Call) and ctx.qualname(side.func) in _CLOCKS
            for side in (node.left, *(c.comparator for c in node.comparisons))
        )
        for node in (test, *descendants(test))
    )


def _asks_main_thread_alive(ctx: ModuleContext, code: cst.CSTNode, follow: bool) -> bool:
    """`code` calls `is_alive()` on `threading.main_thread()`, or on the
    threads of `threading.enumerate()` (`any(t.name == "MainThread" and
    t.is_alive() for t in threading.enumerate())`); with `follow`, also
    through a call of a lambda or function of the module that does."""
    for node in (code, *descendants(code)):
        if isinstance(node, (cst.GeneratorExp, cst.ListComp)) and any(
            isinstance(n, cst.Call) and ctx.qualname(n.func) == "threading.enumerate"
            for n in descendants(node.for_in)
        ) and any(_is_alive_call(n) for n in descendants(node.elt)):
            return True
        if not isinstance(node, cst.Call):
            continue
        if _is_alive_call(node):
            assert isinstance(node.func, cst.Attribute)
            owner = node.func.value
            if isinstance(owner, cst.Call) and ctx.qualname(owner.func) == "threading.main_thread":
                return True
        elif follow and any(
            _asks_main_thread_alive(ctx, body, follow=False) for body in _bodies_called(ctx, node)
        ):
            return True
    return False


def _is_alive_call(node: cst.CSTNode) -> bool:
    return (
        isinstance(node, cst.Call)
        and isinstance(node.func, cst.Attribute)
        and node.func.attr.value in ("is_alive", "isAlive")
    )


def _bodies_called(ctx: ModuleContext, call: cst.Call) -> list[cst.CSTNode]:
    """The code a call runs, where the module shows it: a function or method
    of the module, or a lambda bound to the name or attribute called."""
    callee = _callee(ctx, call.func, call)
    if callee is not None:
        return [callee.body]
    return [b.value.body for b in ctx.bindings_of_expr(call.func) if isinstance(b.value, cst.Lambda)]


def _catches_end_of_input(ctx: ModuleContext, handler: cst.ExceptHandler) -> bool:
    caught = handler.type
    types = [e.value for e in caught.elements] if isinstance(caught, cst.Tuple) else [caught]
    for exc in types:
        name = ctx.qualname(exc) if exc is not None else None
        if name is None:
            continue
        last = name.rpartition(".")[2].lower()
        if name in _END_OF_INPUT or any(word in last for word in _END_OF_INPUT_WORDS):
            return True
    return False


def _ends_on_empty_read(ctx: ModuleContext, test: cst.BaseExpression, ends_when: bool) -> bool:
    """`test` ends the loop when a read returns nothing: `not data` after
    `data = sock.recv(n)`, `not f.readline()`."""
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        return _ends_on_empty_read(ctx, test.expression, not ends_when)
    return not ends_when and _is_read(ctx, test, 0)


def _is_read(ctx: ModuleContext, expr: cst.BaseExpression, depth: int) -> bool:
    if isinstance(expr, cst.NamedExpr):
        return _is_read(ctx, expr.value, depth)
    if isinstance(expr, cst.Call):
        return isinstance(expr.func, cst.Attribute) and expr.func.attr.value in _READS
    if isinstance(expr, cst.Name) and depth == 0:
        bindings = ctx.bindings_of(expr.value, expr)
        return bool(bindings) and all(b.value is not None and _is_read(ctx, b.value, 1) for b in bindings)
    return False


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
        node = next((n for n in executed(header) if isinstance(n, (cst.Name, cst.Call))), header)
    return ctx.position(node).start.line


def _one_line(ctx: ModuleContext, node: cst.CSTNode) -> str:
    return " ".join(ctx.code_for(node).split())
