"""TL307: waiting for another thread by spinning on its state."""

from __future__ import annotations

import libcst as cst

from threadlint.analysis.calls import argument
from threadlint.analysis.context import ModuleContext, dotted_name
from threadlint.analysis.locks import small_statements
from threadlint.analysis.walk import descendants
from threadlint.rules.base import FileRule, register

# A sleep shorter than this in a polling loop is a spin: ten milliseconds is
# a hundred wake-ups a second, each taking the GIL from the thread being
# waited for. A loop that sleeps this long or longer is a deliberate poll.
SPIN_SECONDS = 0.01

# Methods of thread-safe objects that only read their state.
_STATE_METHODS = frozenset(
    {"is_set", "isSet", "empty", "full", "qsize", "is_alive", "isAlive", "done", "locked", "running"}
)
_SLEEPS = frozenset({"time.sleep", "os.sched_yield"})
# What to block on instead, by the state method the loop re-tests.
_INSTEAD = {
    "is_set": "block in `{obj}.wait()`",
    "isSet": "block in `{obj}.wait()`",
    "empty": "block in `{obj}.get()`",
    "qsize": "block in `{obj}.get()`",
    "is_alive": "block in `{obj}.join()`",
    "isAlive": "block in `{obj}.join()`",
    "done": "block in `{obj}.result()` or `concurrent.futures.wait`",
    "running": "block in `{obj}.result()` or `concurrent.futures.wait`",
}


@register
class BusyWait(FileRule):
    """
    ## What it does
    Flags a loop that does nothing but re-test state another thread
    changes: `while not self.ready: pass` (or `continue`, or a sleep shorter
    than 10 ms), and `while True: if self.ready: break` with nothing else in
    the body. The state is an attribute (`self.ready`, `job.done_flag`), a
    module global, or a read of a thread-safe object (`event.is_set()`,
    `queue.empty()`, `thread.is_alive()`, `future.done()`).

    ## Why is this bad?
    The loop runs as fast as the interpreter can: it burns a core doing
    nothing, and under the GIL it takes the interpreter away from the very
    thread it waits for, every few milliseconds, slowing that thread down.
    A blocking wait costs nothing and wakes up at once.

    ## Example
    ```python
    while not self.ready:
        time.sleep(0.001)
    ```

    ## Use instead
    ```python
    self.ready_event.wait()   # set by the other thread: self.ready_event.set()
    ```
    or a `threading.Condition` (`cond.wait_for(lambda: self.ready)`), a
    `queue.Queue` (`q.get()`), `thread.join()`, `future.result()`.

    ## What is not a busy-wait
    A loop that does real work in its body (anything but `pass`,
    `continue`, `...` and a short sleep), one that sleeps 10 ms or more per
    turn (a deliberate poll: at most a hundred wake-ups a second), one
    whose sleep is not a constant (a backoff), and one whose test calls
    anything but the state reads above and `len()` (a timeout check such as
    `time.monotonic() < deadline`, an attempt such as `not try_connect()`).
    A loop over local variables only is not waiting for another thread.

    ## How to suppress
    `# noqa: TL307` on the `while` line.

    ## Known limits
    Whether another thread really sets the state is not checked: a loop
    that spins on an attribute the same thread changes through a signal
    handler is reported too.
    """

    code = "TL307"
    name = "busy-wait"
    summary = "A loop spinning on state another thread sets, where an Event or queue would block"
    preview = True

    def visit_While(self, node: cst.While) -> None:
        steps = _steps(node.body)
        if _always_true(node.test):
            if not steps or not isinstance(steps[0], cst.If):
                return
            guard = steps[0]
            if guard.orelse is not None or not _only_exits(_steps(guard.body)):
                return
            predicate: cst.BaseExpression = guard.test
            rest = steps[1:]
        else:
            predicate = node.test
            rest = steps
        if node.orelse is not None or not _reads_shared_state(self.ctx, predicate, node):
            return
        sleep = self._spin_body(rest)
        if sleep is False:
            return
        how = "with nothing else in its body" if sleep is True else f"with only `{self.shown(sleep)}` in its body"
        self.report(
            node,
            f"this loop spins {how}, re-testing `{self.shown(predicate)}`, which only another "
            f"thread can change: it burns a core and keeps taking the GIL from that thread; "
            f"{self._instead(predicate)}",
        )

    def _spin_body(self, steps: list[cst.CSTNode]) -> cst.Call | bool:
        """True for an empty spin, the sleep call of a short-sleep spin,
        False when the body does anything else."""
        sleep: cst.Call | bool = True
        for step in steps:
            if isinstance(step, (cst.Pass, cst.Continue)):
                continue
            if isinstance(step, cst.Expr) and isinstance(step.value, (cst.Ellipsis, cst.SimpleString)):
                continue
            if isinstance(step, cst.Expr) and isinstance(step.value, cst.Call) and self._short_sleep(step.value):
                sleep = step.value
                continue
            return False
        return sleep

    def _short_sleep(self, call: cst.Call) -> bool:
        qualified = self.ctx.qualname(call.func)
        if qualified not in _SLEEPS:
            return False
        if qualified == "os.sched_yield":
            return True
        seconds = argument(call, 0, "secs")
        if not isinstance(seconds, (cst.Integer, cst.Float)):
            return False  # a variable: a backoff or a configured interval
        return float(seconds.evaluated_value) < SPIN_SECONDS

    def _instead(self, predicate: cst.BaseExpression) -> str:
        for node in _nodes(predicate):
            if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
                advice = _INSTEAD.get(node.func.attr.value)
                if advice is not None:
                    return advice.format(obj=self.shown(node.func.value))
        return "block instead: a `threading.Event` (`event.wait()`), a `Condition` or a `queue.Queue`"


def _steps(body: cst.BaseSuite) -> list[cst.CSTNode]:
    return small_statements(list(body.body))


def _always_true(test: cst.BaseExpression) -> bool:
    return (isinstance(test, cst.Name) and test.value == "True") or (
        isinstance(test, cst.Integer) and test.value == "1"
    )


def _only_exits(steps: list[cst.CSTNode]) -> bool:
    return len(steps) == 1 and (
        isinstance(steps[0], cst.Break)
        or (isinstance(steps[0], cst.Return) and (steps[0].value is None or _constant(steps[0].value)))
    )


def _constant(expr: cst.BaseExpression) -> bool:
    return isinstance(expr, (cst.Integer, cst.Float, cst.SimpleString)) or (
        isinstance(expr, cst.Name) and expr.value in ("True", "False", "None")
    )


def _reads_shared_state(ctx: ModuleContext, test: cst.BaseExpression, loop: cst.While) -> bool:
    """The test reads state another thread can change, and calls nothing else
    than state reads of thread-safe objects and `len()`."""
    shared = False
    for node in _nodes(test):
        if isinstance(node, cst.Call):
            func = node.func
            if isinstance(func, cst.Attribute) and func.attr.value in _STATE_METHODS:
                shared = True
            elif not (isinstance(func, cst.Name) and func.value == "len"):
                return False
        elif isinstance(node, cst.Attribute) or isinstance(node, cst.Name) and _is_global(ctx, node, loop):
            shared = True
        elif isinstance(node, (cst.Await, cst.Yield, cst.NamedExpr)):
            return False
    return shared


def _is_global(ctx: ModuleContext, name: cst.Name, loop: cst.While) -> bool:
    """A module global read from a function (not a local, not an import or a constant name)."""
    if name.value in ("True", "False", "None") or name.value in ctx.imports:
        return False
    function = ctx.enclosing_function(loop)
    if function is None:
        return False
    if name.value in ctx.bindings.get(function, {}):
        return any(
            isinstance(n, cst.Global) and any(item.name.value == name.value for item in n.names)
            for n in _nodes(function)
        )
    return name.value in ctx.bindings.get(ctx.module, {}) and dotted_name(name) is not None


def _nodes(node: cst.CSTNode) -> list[cst.CSTNode]:
    return [node, *descendants(node)]
