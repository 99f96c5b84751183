"""TL304–TL306: what code does while it holds a lock.

TL305 and TL306 share `analysis/lock_regions.py`: the acquisitions of each
function, the calls made while a lock is held, and what a function of the
module does when called (the locks it takes, what it blocks on). TL304 is a
project rule over the project's lock-order graph (`threadlint.lock_graph`),
which joins every module's summaries.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import libcst as cst

from threadlint import facts as F
from threadlint.analysis import threading_api as api
from threadlint.analysis.blocking import Blocking, blocking_call
from threadlint.analysis.context import ModuleContext, dotted_name
from threadlint.analysis.lock_regions import (
    Acquisition,
    LockRegions,
    Reached,
    lock_regions,
    shown_chain,
)
from threadlint.analysis.locks import Held, method_call_on
from threadlint.analysis.per_file import FileResult
from threadlint.analysis.test_code import in_test_code
from threadlint.analysis.walk import descendants
from threadlint.config import Settings
from threadlint.diagnostics import Diagnostic
from threadlint.lock_graph import LockGraph, Order
from threadlint.project_model import project_model
from threadlint.rules.base import FileRule, ProjectRule, register

_MAX_DEPTH = 6


class _HeldRule(FileRule):
    @property
    def regions(self) -> LockRegions:
        return lock_regions(self.ctx, self.settings)

    def line(self, node: cst.CSTNode) -> int:
        return self.ctx.position(node).start.line

    def taken(self, held: Held) -> str:
        return f"`{held.key}` (taken line {self.line(held.holder)})"


@dataclass(frozen=True)
class _Found:
    blocking: Blocking
    chain: tuple[str, ...]


@register
class BlockingCallUnderLock(_HeldRule):
    """
    ## What it does
    Flags a call that blocks — sleeps, waits for a thread, a queue, an
    `Event` or another condition, does socket, HTTP or `select` I/O, runs a
    process, reads `input()` — while a thread lock is held: directly inside
    `with lock:` (or between `acquire()` and `release()`), or in a function
    of the same module called there (the message names the chain).

    ## Why is this bad?
    A lock should be held for a few bytecodes. While its holder sleeps or
    waits for the network, every other thread that needs the lock stalls
    too, for as long as the slowest peer takes: throughput collapses to one
    thread, latency spikes, and a wait for something that needs the same
    lock (a thread being joined, a queue its producer fills under the lock)
    never ends: a deadlock. A short sleep meant to rate-limit is no
    exception: it rate-limits every thread that needs the lock, not just
    this one.

    ## Example
    ```python
    with self._lock:
        response = requests.get(url, timeout=10)
        self._cache[url] = response.text
    ```

    ## Use instead
    ```python
    response = requests.get(url, timeout=10)
    with self._lock:
        self._cache[url] = response.text
    ```

    ## Blocking calls
    | what | calls |
    |---|---|
    | sleeping | `time.sleep` (not `sleep(0)`) |
    | waiting for a thread | `join()` on a `Thread`/`Timer` |
    | queues | `Queue.get()` unless `block=False`/`timeout=0`; `put()` on a queue made with a `maxsize`; `Queue.join()` |
    | events | `Event.wait()` (not `wait(0)`) |
    | conditions | `wait()`/`wait_for()` on a condition whose lock is not the one held (waiting on the held condition releases it) |
    | sockets | `socket.create_connection`, `getaddrinfo`, `gethostbyname`; `accept`, `connect`, `recv*`, `send*`, `makefile` on a socket made in the module |
    | select | `select.select`, `poll()` of `select.poll()`/`epoll()`, `select()` of a `selectors` selector |
    | HTTP | `urllib.request.urlopen`/`urlretrieve`; `request`/`getresponse`/`connect` of `http.client` connections; `requests.*`/`httpx.*` requests and `Session`/`Client` methods |
    | processes | `subprocess.run`/`call`/`check_call`/`check_output`/`getoutput`/`getstatusoutput`, `Popen.wait()`/`communicate()`, `os.system`, `os.wait`, `os.waitpid` |
    | the user | `input()` |

    Extend it with the `blocking-functions` configuration key: qualified
    names (`"myapp.rpc.call"`) or prefixes ending in a dot (`"grpc."`).

    ## How to suppress
    `# noqa: TL306` on the call (a lock that exists to serialise exactly
    this I/O, such as one writer on a socket, is a deliberate choice).

    ## Known limits
    Calls are followed within the module (`self.method()` and plain
    functions, to a depth of six); a blocking call reached through another
    module is not seen yet. Methods are recognised by what their receiver
    is (a queue, a thread, a socket made in the module), never by name
    alone. Only thread locks count: `asyncio` locks are another rule's
    business (TL503). Socket and HTTP I/O on a connection the object keeps
    (`self._sock.sendall(...)`) under a lock of that same object is taken as
    deliberate: one request at a time on a shared connection. So is a
    start-up handshake (`thread.start()` then `ready.wait(timeout)` in one
    function under the lock: one-time initialisation, so that no other
    thread starts a second one), and a `get()` guarded by `while not
    q.empty():` does not wait. Calling a generator function runs none of its
    body, so what it does is not counted at the call. Test code (a `tests/` folder, `test_*.py`,
    `conftest.py`, a `test*` function) is not checked: tests hold locks
    while they wait on purpose, to provoke contention.
    """

    code = "TL306"
    name = "blocking-call-under-lock"
    summary = "A blocking call (sleep, join, queue, I/O, subprocess) while a lock is held"
    preview = True

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if in_test_code(self.ctx, node, self.settings.root):
            return  # tests hold locks while they wait on purpose, to provoke contention
        regions = self.regions
        for call, held in regions.calls_under_locks(node):
            direct = blocking_call(self.ctx, call, self.settings.blocking_functions)
            found = _Found(direct, ()) if direct is not None else None
            if found is None:
                callee = regions.callee(call)
                if callee is not None:
                    found = self._blocks(callee, (callee.name.value,), set())
            if found is None:
                continue
            blocked = self._blocked(found.blocking, held)
            if found.blocking.own_connection and self._same_object(found.blocking.call, blocked):
                continue  # the object's lock serialises use of its own connection
            if _drains(found.blocking.call, self.ctx) or self._start_handshake(found.blocking.call):
                continue
            if blocked:
                self.report(call, self._message(call, found, blocked))

    def _blocked(self, blocking: Blocking, held: list[Held]) -> list[Held]:
        """The held locks the blocking call keeps held (a wait on a held
        condition releases that condition's lock)."""
        if blocking.receiver is None:
            return held
        locks = self.regions.locks
        released = locks.same_lock_keys(blocking.receiver)
        return [h for h in held if not locks.holds(h, released)]

    def _start_handshake(self, step: cst.Call) -> bool:
        """`thread.start(); ready.wait(timeout)` in one function: the lock is
        held on purpose through a start-up handshake, so that no other thread
        starts a second one meanwhile (one-time initialisation)."""
        if not isinstance(step.func, cst.Attribute) or step.func.attr.value != "wait":
            return False
        function = self.ctx.enclosing_function(step)
        if function is None:
            return False
        where = self.line(step)
        made_here = {
            dotted_name(target.target)
            for node in self.regions.locks.walk(function)
            if isinstance(node, cst.Assign)
            and isinstance(node.value, cst.Call)
            and self.ctx.kind_of_type(node.value.func) in api.THREAD_KINDS
            for target in node.targets
        }
        for call in self.regions.locks.calls_in(function):
            func = call.func
            if (
                isinstance(func, cst.Attribute)
                and func.attr.value == "start"
                and (
                    self.ctx.kind_of(func.value) in api.THREAD_KINDS
                    or dotted_name(func.value) in made_here
                )
                and self.line(call) < where
            ):
                return True
        return False

    def _same_object(self, step: cst.Call, blocked: list[Held]) -> bool:
        """Every blocked lock is a `self` lock of the class whose method does the I/O."""
        regions = self.regions
        cls = self.ctx.enclosing_class(step)
        if cls is None:
            return False
        for held in blocked:
            identity = regions.identity(held.expr)
            expr = held.expr
            is_self = isinstance(expr, cst.Attribute) and isinstance(expr.value, cst.Name) and expr.value.value == "self"
            if not is_self or identity is None or self.ctx.enclosing_class(held.expr) is not cls:
                return False
        return True

    def _blocks(self, function: cst.FunctionDef, chain: tuple[str, ...], seen: set[cst.FunctionDef]) -> _Found | None:
        """The first blocking call `function` makes, directly or through calls."""
        if function in seen or len(chain) > _MAX_DEPTH:
            return None
        seen.add(function)
        regions = self.regions
        for call in regions.locks.calls_in(function):
            direct = blocking_call(self.ctx, call, self.settings.blocking_functions)
            if direct is not None:
                return _Found(direct, chain)
            callee = regions.callee(call)
            if callee is not None:
                found = self._blocks(callee, chain + (callee.name.value,), seen)
                if found is not None:
                    return found
        return None

    def _message(self, call: cst.Call, found: _Found, blocked: list[Held]) -> str:
        locks = " and ".join(self.taken(h) for h in blocked)
        first = blocked[0].key
        step = found.blocking.call
        if found.chain:
            what = (
                f"`{self.shown(call)}` {found.blocking.what} (through {shown_chain(found.chain)}: "
                f"`{self.shown(step)}`, line {self.line(step)})"
            )
        else:
            what = f"`{self.shown(call)}` {found.blocking.what}"
        others = self._other_users(blocked[0], call)
        users = f" (also taken at line {others})" if others else ""
        if self.ctx.qualname(step.func) == "time.sleep":
            return (
                f"{what} while holding {locks}: every other thread that needs `{first}`{users} "
                f"is held up for the whole sleep too, so a sleep that rate-limits this thread "
                f"rate-limits all of them; sleep after releasing the lock"
            )
        return (
            f"{what} while holding {locks}: every other thread that needs `{first}`{users} "
            f"stalls until it returns, and a wait on something that needs the lock never "
            f"ends; make the call after releasing the lock"
        )

    def _other_users(self, held: Held, call: cst.Call) -> str:
        """Up to three other lines where the same lock is taken in this module."""
        regions = self.regions
        identity = regions.identity(held.expr)
        lines: list[int] = []
        for function in regions.functions():
            for acquisition in regions.acquisitions(function):
                same = (identity is not None and acquisition.identity == identity) or (
                    identity is None and function is self.ctx.enclosing_function(call)
                    and acquisition.key == held.key
                )
                if same and acquisition.node is not held.holder:
                    lines.append(self.line(acquisition.node))
        lines = sorted(set(lines))
        shown = ", ".join(str(n) for n in lines[:3])
        return shown + (", ..." if len(lines) > 3 else "")


@register
class NonReentrantLockReacquired(_HeldRule):
    """
    ## What it does
    Flags a `threading.Lock` (not an `RLock`) taken again by the thread that
    already holds it: a nested `with lock:` or `lock.acquire()` inside the
    region that holds it, or a call made while holding it to a function of
    the module that takes it (`self.method()`, a plain function, a callback
    attribute bound to a method of the class), however deep the chain.

    ## Why is this bad?
    A `Lock` does not know who holds it. The second `acquire()` waits for
    the lock to be released, and the only thread that could release it is
    the one waiting: the thread deadlocks against itself, silently and for
    ever. It typically happens when a public method that takes the lock
    calls another public method that takes it too.

    ## Example
    ```python
    def add(self, item):
        with self._lock:
            self._items.append(item)
            self.flush_if_full()   # takes self._lock again

    def flush_if_full(self):
        with self._lock:
            ...
    ```

    ## Use instead
    Split the locked part into a helper that expects the lock held
    (`_flush_locked()`), called by both public methods; or make the lock a
    `threading.RLock` if re-entry is intended.

    ## How to suppress
    `# noqa: TL305` on the inner acquisition or the call.

    ## Known limits
    A lock taken with `acquire()` and used as a signal between threads is
    not flagged: the second `acquire()` blocks until another thread releases
    it (`waiter.acquire(); waiters.append(waiter); waiter.acquire()`, as
    `threading.Condition` does). The evidence is that the lock is handed on
    from the function, or that another function of the module releases it
    without taking it.

    Only a lock whose creation the module shows to be a `Lock` (or a
    `Condition` made over one) is checked: a lock of unknown type may be an
    `RLock`. Calls are followed within the module; `acquire(False)` and
    `acquire(timeout=...)` cannot hang and are not counted. Locks are
    compared by what they are named (`self._lock` within a class and its
    local bases, a module global), not by aliasing.
    """

    code = "TL305"
    name = "non-reentrant-lock-reacquired"
    summary = "A `Lock` (not `RLock`) acquired again by the thread that holds it: self-deadlock"
    preview = True

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        regions = self.regions
        for acquisition in regions.acquisitions(node):
            if not acquisition.blocking:
                continue
            for held in acquisition.held:
                if self._signal(held, node):
                    continue
                if self._same_plain_lock(held, acquisition.expr):
                    self.report(
                        acquisition.expr if isinstance(acquisition.node, cst.With) else acquisition.node,
                        f"`{acquisition.key}` is acquired again while this thread already holds "
                        f"it ({self._taken_as(held)}): {self._why(held)}",
                    )
                    break
        for call, held_locks in regions.calls_under_locks(node):
            callee = regions.callee(call)
            if callee is None:
                continue
            acquires = regions.summary(callee).acquires
            for held in held_locks:
                identity = regions.identity(held.expr)
                how = acquires.get(identity) if identity is not None else None
                if how is None or not self._plain_lock(held.expr) or self._signal(held, node):
                    continue
                step = how.node if isinstance(how, Acquisition) else how.step
                chain = (callee.name.value,) + (how.chain if isinstance(how, Reached) else ())
                holding = f"`{held.key}`, " if how.key != held.key else ""
                self.report(
                    call,
                    f"`{self.shown(call)}` takes `{how.key}` again (through {shown_chain(chain)}, "
                    f"line {self.line(step)}) while this thread holds it ({holding}"
                    f"{self._taken_as(held)}): {self._why(held)}",
                )
                break

    def _signal(self, held: Held, function: cst.FunctionDef) -> bool:
        """A lock taken with `acquire()` and used as a signal between threads:
        a second `acquire()` waits until another thread releases it (a `Lock`,
        unlike an `RLock`, may be released by any thread). Evidence: the lock
        is handed on from here (`waiters.append(waiter)`), or another function
        of the module releases it without taking it."""
        if isinstance(held.holder, cst.With):
            return False
        regions = self.regions
        locks = regions.locks
        if isinstance(held.expr, cst.Name) and regions.identity(held.expr) is None:
            for node in locks.walk(function, into_functions=True):
                if isinstance(node, cst.Name) and node.value == held.key and node is not held.expr:
                    parent = self.ctx.parent(node)
                    used_as_lock = isinstance(parent, cst.Attribute) and parent.value is node
                    if not used_as_lock and not isinstance(parent, cst.AssignTarget):
                        return True
            return False
        identity = regions.identity(held.expr)
        if identity is None:
            return False
        for other in regions.functions():
            if other is function:
                continue
            releases = any(
                (receiver := method_call_on(call, ("release",))) is not None
                and regions.identity(receiver) == identity
                for call in locks.calls_in(other)
            )
            if releases and not any(a.identity == identity for a in regions.acquisitions(other)):
                return True
        return False

    def _taken_as(self, held: Held) -> str:
        return f"taken line {self.line(held.holder)}"

    def _why(self, held: Held) -> str:
        creation = self.regions.locks.creation(held.expr)
        made = f", made line {self.line(creation)}" if creation is not None else ""
        what = "a `threading.Lock`"
        if self.ctx.kind_of(held.expr) == api.CONDITION:
            what = "a Condition over a `threading.Lock`"
        return (
            f"it is {what}{made}, which is not reentrant, so the thread waits for "
            f"itself for ever; move the locked work into a helper that expects the lock held, "
            f"or use an `RLock`"
        )

    def _plain_lock(self, expr: cst.BaseExpression) -> bool:
        return self.regions.kind(expr) == api.LOCK

    def _same_plain_lock(self, held: Held, expr: cst.BaseExpression) -> bool:
        regions = self.regions
        if not self._plain_lock(held.expr):
            return False
        identity = regions.identity(expr)
        if identity is not None:
            return identity == regions.identity(held.expr)
        return bool(regions.locks.same_lock_keys(expr) & regions.locks.same_lock_keys(held.expr))


@register
class LockOrderInversion(ProjectRule):
    """
    ## What it does
    Flags two locks taken nested in opposite orders anywhere in the project:
    one place takes `a` then (while holding it) `b`, another takes `b` then
    `a` (or three locks in a cycle: `a` then `b`, `b` then `c`, `c` then
    `a`). Nesting counts directly (`with a: with b:`, `with a, b:`,
    `acquire()` inside a held region) and through calls made while a lock
    is held to functions, in this module or another, that take the other
    lock themselves or through their own calls. The message names both
    orders, where each is taken and the calls it goes through.

    ## Why is this bad?
    Two threads that run the two places at the same time can each take
    their first lock and then wait for ever for the other's: a deadlock
    that shows up only under load, and hangs the program with no error.

    ## Example
    ```python
    # accounts.py
    def transfer(self):
        with self._lock:
            audit.record(self)       # takes audit's _log_lock

    # audit.py
    def flush():
        with _log_lock:
            for account in _pending:
                account.settle()     # takes the account's _lock
    ```

    ## Use instead
    Take the locks in one global order everywhere (`_lock` before
    `_log_lock`), or restructure so that no code holds both at once (copy
    what `flush()` needs under `_log_lock`, then settle after releasing it).

    ## How to suppress
    `# noqa: TL304` on the reported acquisition or call.

    ## Known limits
    Locks are compared by what they are named, the same in every module: a
    module global by its absolute name (imported elsewhere, it is the same
    lock), `self.x` and `Cls.x` by the class (and bases) that bind them.
    Different objects of one class cannot be told apart, so one object's
    `_lock` then another's is not reported (nor would it be caught if it
    deadlocks). Locks reached through parameters or locals (`def move(a, b):
    with a.lock: with b.lock:`) have no name outside their function and are
    not compared. Calls are followed as the race rules resolve them, six
    calls deep (`self.m()` reaches every override of `m` in subclasses);
    calling a generator function is taken to run its body.
    A non-blocking `acquire(False)` or one with a timeout cannot deadlock
    and is not counted, nor is a lock taken again by the thread that holds
    it (an `RLock`). Orders taken only while no other thread runs (before
    the function that starts the threads starts them, or after it joined
    them) and a constructor's orders on the object it builds are left out;
    other orders that can never run at the same time are still reported.
    Cycles of two and of three locks are found, not longer ones.
    """

    code = "TL304"
    name = "lock-order-inversion"
    summary = "Two locks taken nested in opposite orders: deadlock"
    preview = True

    def check(self, project: object, settings: Settings) -> Iterable[Diagnostic]:
        results: Sequence[FileResult] = project  # type: ignore[assignment]
        graph = LockGraph(project_model(results, settings)).build()
        for here, others in graph.inversions():
            yield Diagnostic(
                here.path, here.line, here.col, self.code, _cycle_message(graph, here, others),
                here.end_line, here.end_col,
            )


def _cycle_message(graph: LockGraph, here: Order, others: tuple[Order, ...]) -> str:
    shown = [_order(graph, here, here, "here")] + [_order(graph, o, here) for o in others]
    if len(others) == 1:
        return (
            f"{shown[0]}, but {shown[1]}: two threads running these at once can each hold "
            f"one lock and wait for ever for the other (deadlock); take the two locks in one "
            f"order everywhere"
        )
    return (
        f"{shown[0]}, {', '.join(shown[1:-1])} and {shown[-1]}: three threads running these "
        f"at once can each hold one lock and wait for ever for the one the next holds "
        f"(deadlock); take the three locks in one order everywhere"
    )


def _order(graph: LockGraph, order: Order, reported: Order, at: str = "") -> str:
    """"`a` then `b` at x.py:10 (through `helper()`, which takes it at y.py:20)"."""

    def where(path: str, line: int) -> str:
        return f"line {line}" if path == reported.path else f"{path}:{line}"

    model = graph.model
    function = model.functions[order.function]
    reader = model.functions[reported.function]

    def named(key: str, identity: str) -> str:
        # `self._lock` means what it says only in the reported function's
        # class; a lock written elsewhere is named by its identity.
        same = graph.identity(reader, key) == identity
        return _shown(graph, key if same else identity)

    outer = named(order.outer_key, order.outer)
    inner = named(order.inner_key, order.inner)
    if outer == inner:
        outer, inner = order.outer, order.inner
    text = f"`{outer}` then `{inner}` {at or 'at ' + where(order.path, order.line)}"
    if order.through is not None:
        taken = order.through
        # Methods of the same class as `self.m()`, anything else by its class.
        chain = tuple(_callee_name(graph, fid, function) for fid in taken.chain)
        text += f" (through {shown_chain(chain)}, which takes it at {where(taken.path, taken.line)})"
    return text


def _callee_name(graph: LockGraph, fid: str, caller: F.Function) -> str:
    """`m` for a method of the caller's class or a function of its module;
    `Cls.m` or `module.f` for anything else."""
    model = graph.model
    callee = model.functions[fid]
    if callee.cls is not None:
        return callee.name if callee.cls == caller.cls else model.display_name(fid)
    module = model.module_of(fid) or ""
    if caller.cls is None and module == model.module_of(caller.id):
        return callee.name
    return f"{module.rpartition('.')[2]}.{callee.name}" if module else callee.name


def _shown(graph: LockGraph, name: str) -> str:
    """A lock as a reader knows it: `self._lock`, `registry_lock`, `Cache._lock`."""
    if name.startswith(("self.", "~")):
        return name
    head, _, last = name.rpartition(".")
    if head in graph.model.classes:
        return f"{head.rpartition('.')[2]}.{last}"
    return last or name


def _drains(call: cst.Call, ctx: ModuleContext) -> bool:
    """`while not q.empty(): q.get()`: a get the test just said will not wait."""
    func = call.func
    if not (isinstance(func, cst.Attribute) and func.attr.value in ("get", "get_nowait")):
        return False
    queue = dotted_name(func.value)
    for ancestor in ctx.ancestors(call):
        if isinstance(ancestor, (cst.FunctionDef, cst.Lambda)):
            return False
        if isinstance(ancestor, (cst.While, cst.If)):
            for node in descendants(ancestor.test):
                if (
                    isinstance(node, cst.Call)
                    and isinstance(node.func, cst.Attribute)
                    and node.func.attr.value in ("empty", "qsize")
                    and queue is not None
                    and dotted_name(node.func.value) == queue
                ):
                    return True
    return False
