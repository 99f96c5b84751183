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
