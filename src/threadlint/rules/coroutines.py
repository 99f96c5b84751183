"""TL5xx: threads meeting asyncio and signals."""

from __future__ import annotations

import libcst as cst

from threadlint.analysis import threading_api as api
from threadlint.analysis.context import ModuleContext
from threadlint.analysis.locks import Held, lock_analysis
from threadlint.config import Settings
from threadlint.rules.base import FileRule, Reporter, register

_KIND_NAMES = {
    api.LOCK: "threading.Lock",
    api.RLOCK: "threading.RLock",
    api.CONDITION: "threading.Condition",
    api.SEMAPHORE: "threading.Semaphore",
}


_SUSPENSION_NAMES: dict[type, str] = {
    cst.Await: "`await`",
    cst.Yield: "a `yield`",
    cst.For: "`async for`",
    cst.With: "`async with`",
    cst.CompFor: "an async comprehension",
}


def _suspends(node: cst.CSTNode) -> bool:
    """A point where a coroutine gives the event loop away: `await`,
    `async for`, `async with`, an async comprehension, and `yield` (in an
    async generator the consumer decides when, or whether, it resumes)."""
    if isinstance(node, (cst.Await, cst.Yield)):
        return True
    if isinstance(node, (cst.For, cst.With, cst.CompFor)):
        return node.asynchronous is not None
    return False


def _waits_on(node: cst.CSTNode, lock: str, ctx: ModuleContext) -> bool:
    """`await <lock>.wait()` / `.wait_for(...)`: it releases `lock` while it waits."""
    return (
        isinstance(node, cst.Await)
        and isinstance(node.expression, cst.Call)
        and isinstance(node.expression.func, cst.Attribute)
        and node.expression.func.attr.value in ("wait", "wait_for")
        and ctx.code_for(node.expression.func.value) == lock
    )


class _AsyncioLocks:
    """The asyncio locks of a module that are never contended.

    Taking a free `asyncio.Lock` (or `Condition`, `Semaphore`) returns at
    once, without suspending. A lock that no coroutine of the module keeps
    across a suspension (other than its own `wait()`, which releases it) is
    always free when taken, so an `async with` of it is no suspension point
    (a thread lock held around it costs the loop nothing). Locks are named by
    their text; any `acquire()` of one (its release may be anywhere) counts
    as contended.
    """

    def __init__(self, ctx: ModuleContext) -> None:
        self._ctx = ctx
        self._contended: set[str] = set()
        for node in ctx.parents:
            if isinstance(node, cst.With) and node.asynchronous is not None:
                for item in node.items:
                    name = ctx.code_for(item.item)
                    if self._suspends_holding(node.body, name):
                        self._contended.add(name)
            elif (
                isinstance(node, cst.Call)
                and isinstance(node.func, cst.Attribute)
                and node.func.attr.value == "acquire"
            ):
                self._contended.add(ctx.code_for(node.func.value))

    def _suspends_holding(self, body: cst.CSTNode, lock: str) -> bool:
        pending = [body]
        while pending:
            node = pending.pop()
            if isinstance(node, (cst.FunctionDef, cst.Lambda, cst.ClassDef)):
                continue  # runs when called, not while the lock is held here
            if _suspends(node) and not _waits_on(node, lock, self._ctx):
                return True
            pending.extend(node.children)
        return False

    def never_suspends(self, node: cst.With) -> bool:
        """An `async with` of free asyncio locks only."""
        return all(
            self._is_asyncio_lock(item.item) and self._ctx.code_for(item.item) not in self._contended
            for item in node.items
        )

    def _is_asyncio_lock(self, expr: cst.BaseExpression) -> bool:
        if self._ctx.kind_of(expr) == api.ASYNCIO_LOCK:
            return True
        # A property that makes the lock on first use (`self.condition`
        # returning `self._condition = asyncio.Condition()`).
        if not isinstance(expr, cst.Attribute):
            return False
        cls = self._ctx.enclosing_class(expr)
        if cls is None or not (isinstance(expr.value, cst.Name) and expr.value.value == "self"):
            return False
        for statement in cls.body.body:
            if (
                isinstance(statement, cst.FunctionDef)
                and statement.name.value == expr.attr.value
                and any(_is_property(d) for d in statement.decorators)
            ):
                returned = [r.value for r in _returns(statement)]
                return bool(returned) and all(
                    r is not None and self._ctx.kind_of(r) == api.ASYNCIO_LOCK for r in returned
                )
        return False


def _is_property(decorator: cst.Decorator) -> bool:
    target = decorator.decorator
    return isinstance(target, cst.Name) and target.value in ("property", "cached_property") or (
        isinstance(target, cst.Attribute) and target.attr.value == "cached_property"
    )


def _returns(function: cst.FunctionDef) -> list[cst.Return]:
    found: list[cst.Return] = []
    pending: list[cst.CSTNode] = [function.body]
    while pending:
        node = pending.pop()
        if isinstance(node, (cst.FunctionDef, cst.Lambda, cst.ClassDef)):
            continue
        if isinstance(node, cst.Return):
            found.append(node)
        pending.extend(node.children)
    return found


@register
class ThreadLockInCoroutine(FileRule):
    """
    ## What it does
    Flags a `threading` lock, condition or semaphore that a coroutine
    (`async def`) holds across an `await` (or an `async for`, an
    `async with`, a `yield` of an async generator): taken with `with lock:`
    or `lock.acquire()` and not yet released where the coroutine suspends.

    ## Why is this bad?
    A thread lock belongs to a thread, and every coroutine of an event loop
    runs on the same thread. While the holder is suspended at the `await`,
    any other coroutine that reaches `with lock:` blocks the whole event
    loop thread inside `acquire()`; the holder can then never be resumed to
    release the lock, and the program deadlocks. Even without a second
    taker, worker threads that need the lock wait for as long as the
    `await` takes.

    Taking a thread lock in a coroutine for a moment, with no `await` inside,
    is fine: that is the right bridge between the event loop and worker
    threads.

    An `async with` of an `asyncio` lock, condition or semaphore that no
    coroutine of the module keeps across a suspension (its own `wait()`
    aside, which releases it) does not suspend: such a lock is always free
    when taken, and taking a free asyncio lock returns at once.

    ## Example
    ```python
    import threading

    class Cache:
        def __init__(self):
            self._lock = threading.Lock()

        async def refresh(self, client):
            with self._lock:
                self._data = await client.fetch()
    ```

    ## Use instead
    Do the waiting outside the lock, then publish under it:
    ```python
        async def refresh(self, client):
            data = await client.fetch()
            with self._lock:
                self._data = data
    ```
    or, when only coroutines take it, an `asyncio.Lock` with `async with`.

    ## How to suppress
    `# noqa: TL503` on the line of the `with` or the `acquire()`.

    ## Known limits
    Only locks whose type is visible count (made by `threading`, `_thread`
    or `multiprocessing`, or named in `lock-types`); a lock passed in as a
    parameter of unknown type is not judged, since in a coroutine it may as
    well be an `asyncio` lock.
    """

    code = "TL503"
    name = "thread-lock-in-coroutine"
    summary = "a `threading` lock held across an `await` in a coroutine: it can deadlock the event loop"

    def __init__(self, ctx: ModuleContext, settings: Settings, reporter: Reporter) -> None:
        super().__init__(ctx, settings, reporter)
        self._reported: set[cst.CSTNode] = set()
        self._asyncio_locks: _AsyncioLocks | None = None

    def visit_Await(self, node: cst.Await) -> None:
        self._suspension(node)

    def visit_Yield(self, node: cst.Yield) -> None:
        self._suspension(node)

    def visit_For(self, node: cst.For) -> None:
        self._suspension(node)

    def visit_With(self, node: cst.With) -> None:
        self._suspension(node)

    def visit_CompFor(self, node: cst.CompFor) -> None:
        self._suspension(node)

    def _suspension(self, node: cst.CSTNode) -> None:
        if not _suspends(node):
            return
        if isinstance(node, cst.With):
            if self._asyncio_locks is None:
                self._asyncio_locks = _AsyncioLocks(self.ctx)
            if self._asyncio_locks.never_suspends(node):
                return
        coroutine = self._coroutine_of(node)
        if coroutine is not None:
            self._check(node, coroutine)

    def _coroutine_of(self, node: cst.CSTNode) -> cst.FunctionDef | None:
        """The `async def` whose own code `node` is (not a nested def or lambda's)."""
        for ancestor in self.ctx.ancestors(node):
            if isinstance(ancestor, cst.Lambda):
                return None
            if isinstance(ancestor, cst.FunctionDef):
                return ancestor if ancestor.asynchronous is not None else None
        return None

    def _check(self, suspension: cst.CSTNode, coroutine: cst.FunctionDef) -> None:
        locks = lock_analysis(self.ctx, self.settings)
        for held in locks.held_here(suspension):
            kind = self._known_kind(held)
            if kind is None or held.holder in self._reported:
                continue
            self._reported.add(held.holder)
            where = self.ctx.position(suspension).start.line
            what = _SUSPENSION_NAMES[type(suspension)]
            self.report(
                held.expr if isinstance(held.holder, cst.With) else held.holder,
                f"`{held.key}` (a {_KIND_NAMES.get(kind, 'threading lock')}) is held across "
                f"{what} (line {where}) in coroutine `{coroutine.name.value}`: while it is suspended, "
                f"another coroutine taking `{held.key}` blocks the event loop thread and "
                f"the holder can never resume to release it (deadlock); await outside "
                f"the lock, or use an `asyncio.Lock`",
            )

    def _known_kind(self, held: Held) -> str | None:
        """The lock kind when the lock's creation is visible (not guessed from its name)."""
        locks = lock_analysis(self.ctx, self.settings)
        creation = locks.creation(held.expr)
        if creation is not None:
            return locks.created_kind(creation)
        kind = self.ctx.kind_of(held.expr)
        return kind if kind in _KIND_NAMES else None
