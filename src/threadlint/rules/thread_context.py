"""TL501, TL502: calls that run on a thread other than the one they must run on.

Both rules read the project model (`threadlint.project_model`): the calls
each function makes that work only on one thread (`facts.ThreadCall`, found
by `analysis/thread_calls.py`), and the thread roots that reach the
function.  A call is judged only when a *real* thread reaches it: a spawned
target, a Thread subclass's `run`, a threading server's handler, an
executor or `to_thread` target, a callback a thread calls.  A public entry
of a concurrent API is not one: library code runs on its users' threads,
and nothing says that those are not the main thread or the loop's.

The path from the root must be synchronous: a call made inside a lambda
runs when the lambda is called (often as a loop callback), and a coroutine
runs on the thread of the loop that runs it, not on the thread that
created it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import threadlint.analysis.summaries  # noqa: F401  (registers the "model" fact collector)
from threadlint import facts as F
from threadlint.analysis.per_file import FileResult
from threadlint.config import Settings
from threadlint.diagnostics import Diagnostic
from threadlint.project_model import OWNED, Model, canonical, project_model
from threadlint.rules.base import ProjectRule, register

# Callers followed back from a call to the roots that reach it.
_MAX_VISITED = 2000
# Names that say a function is called from other threads: `call_from_executor`,
# `callFromThread`, `post_from_worker`, `notify_threadsafe`.
# Not `_unthreadsafe_get` or `not_threadsafe`, which say the opposite.
_FROM_THREAD = re.compile(
    r"from_?(?:other_?)?(?:thread|executor|worker)"
    r"|(?<![a-z])(?<!non_)(?<!not_)thread_?safe(?![a-z])",
    re.IGNORECASE,
)


@dataclass
class _Reach:
    """How a thread root reaches a function: the root and the call chain."""

    root: int
    chain: tuple[str, ...]  # from the root's function to the function judged, both included


@dataclass
class _ThreadModel:
    """What both rules need beyond the model, computed once per model."""

    model: Model
    # Asyncio objects and the functions that make or run them (their thread's).
    owners: dict[F.Location, set[str]] = field(default_factory=dict)
    runners: dict[F.Location, set[tuple[str, int]]] = field(default_factory=dict)
    reaches: dict[str, list[_Reach]] = field(default_factory=dict)
    running: dict[tuple[str, int], bool] = field(default_factory=dict)
    loop_threads: dict[int, bool] = field(default_factory=dict)

    def key(self, location: F.Location) -> F.Location:
        return canonical(self.model, location) if location[0] == "self" else location

    def thread_reaches(self, function: str) -> list[_Reach]:
        """The real thread roots that reach `function` by synchronous calls,
        each with its shortest chain of calls."""
        if function not in self.reaches:
            self.reaches[function] = _find_reaches(self.model, function)
        return self.reaches[function]

    def runs_under(self, function: str, root: int) -> bool:
        """Does the root's thread run `function`?  Lenient, since it only
        ever clears a call: by any path (coroutines and callbacks included),
        as a function nested in one the thread runs (a callback it hands its
        own loop), or as the override of a method the thread calls on an
        object whose class the project cannot pin down (`IOLoop.start` runs
        `AsyncIOLoop.start`)."""
        key = (function, root)
        if key not in self.running:
            self.running[key] = self._runs_under(function, root)
        return self.running[key]

    def _runs_under(self, function: str, root: int) -> bool:
        model = self.model
        if function == model.roots[root].function or root in model.reach.get(function, {}):
            return True
        outer = function.rpartition(".")[0]
        if outer in model.functions and self.runs_under(outer, root):
            return True
        owner = model.functions[function].cls
        if owner is None or owner not in model.classes:
            return False
        name = model.functions[function].name
        return any(
            base != owner
            and f"{base}.{name}" in model.functions
            and root in model.reach.get(f"{base}.{name}", {})
            for base in model.mro(owner)
        )

    def runs_a_loop(self, root: int) -> bool:
        """Does the root's thread run (or set) an event loop of its own?"""
        if root not in self.loop_threads:
            self.loop_threads[root] = any(
                self.runs_under(function, root)
                for runners in self.runners.values()
                for function, _ in runners
            )
        return self.loop_threads[root]

    def owned(self, location: F.Location, root: int) -> bool:
        """The asyncio object is made or run by the root's own thread."""
        return any(self.runs_under(f, root) for f in self.owners.get(self.key(location), ()))

    def run_elsewhere(self, location: F.Location, root: int) -> tuple[str, int] | None:
        """A function (and line) that runs the loop on a thread other than the root's."""
        for function, line in sorted(self.runners.get(self.key(location), ())):
            if not self.runs_under(function, root):
                return function, line
        return None


def _find_reaches(model: Model, function: str) -> list[_Reach]:
    """Walk the callers back from `function` to the real thread roots,
    breadth first (shortest chains first), through synchronous calls only."""
    roots_at: dict[str, list[int]] = {}
    for index, root in enumerate(model.roots):
        if not root.api and not model.functions[root.function].is_async:
            roots_at.setdefault(root.function, []).append(index)
    found: list[_Reach] = []
    came_from: dict[str, str | None] = {function: None}
    pending = [function]
    while pending and len(came_from) < _MAX_VISITED:
        current = pending.pop(0)
        for index in roots_at.get(current, []):
            chain = [current]
            step = came_from[current]
            while step is not None:
                chain.append(step)
                step = came_from[step]
            found.append(_Reach(index, tuple(chain)))
        for caller, call, _ in model.edges.get(current, []):
            if call.deferred or caller in came_from or model.functions[caller].is_async:
                continue
            came_from[caller] = current
            pending.append(caller)
    return found


_CACHE: list[tuple[Model, _ThreadModel]] = []


def thread_model(model: Model) -> _ThreadModel:
    """The owners and runners of asyncio objects, once per model."""
    if _CACHE and _CACHE[0][0] is model:
        return _CACHE[0][1]
    found = _ThreadModel(model)
    for fid, function in model.functions.items():
        for use in function.loop_uses:
            key = found.key(use.location)
            if use.how in ("makes", "stores", "runs"):
                found.owners.setdefault(key, set()).add(fid)
            if use.how == "runs":
                found.runners.setdefault(key, set()).add((fid, use.line))
    _CACHE[:] = [(model, found)]
    return found


def _where(model: Model, root: int, here: str) -> str:
    """How the root is started, `{at}` filled in."""
    entry = model.roots[root]
    path, line = entry.at
    return entry.description.replace("{at}", f"line {line}" if path == here else f"{path}:{line}")


def _runs_on(model: Model, reach: _Reach, here: str) -> str:
    """`f` runs on the thread ...: the evidence of a root, as messages say it."""
    name = model.display_name(reach.chain[-1])
    how = _where(model, reach.root, here)
    if len(reach.chain) == 1:
        return f"`{name}` {how}"
    root_name = model.display_name(reach.chain[0])
    via = "" if len(reach.chain) == 2 else f" (through `{model.display_name(reach.chain[-2])}`)"
    return f"`{name}` is called{via} from `{root_name}`, which {how}"


class _ThreadCallRule(ProjectRule):
    def check(self, project: object, settings: Settings) -> Iterable[Diagnostic]:
        results: Sequence[FileResult] = project  # type: ignore[assignment]
        model = project_model(results, settings)
        if not any(
            call.code == self.code for f in model.functions.values() for call in f.thread_calls
        ):
            return
        threads = thread_model(model)
        seen = set()
        for fid, function in sorted(model.functions.items()):
            for call in function.thread_calls:
                if call.code != self.code:
                    continue
                message = self.judge(threads, fid, call)
                if message is None:
                    continue
                path = model.paths[fid]
                key = (path, call.line, call.col)
                if key not in seen:
                    seen.add(key)
                    yield Diagnostic(
                        path, call.line, call.col, self.code, message, call.end_line, call.end_col
                    )

    def judge(self, threads: _ThreadModel, function: str, call: F.ThreadCall) -> str | None:
        raise NotImplementedError


def _remedy(call: F.ThreadCall) -> str:
    receiver = call.text.partition("(")[0].rpartition(".")[0] or "loop"
    method = call.api.rpartition(".")[2]
    hints = {
        "call_soon": f"`{receiver}.call_soon_threadsafe(...)`",
        "call_later": f"`{receiver}.call_soon_threadsafe({receiver}.call_later, ...)`",
        "call_at": f"`{receiver}.call_soon_threadsafe({receiver}.call_at, ...)`",
        "create_task": f"`asyncio.run_coroutine_threadsafe(coro, {receiver})`",
        "run_until_complete": f"`asyncio.run_coroutine_threadsafe(coro, {receiver}).result()`",
        "set_result": f"`loop.call_soon_threadsafe({receiver}.set_result, value)`",
        "set_exception": f"`loop.call_soon_threadsafe({receiver}.set_exception, exc)`",
        "cancel": f"`loop.call_soon_threadsafe({receiver}.cancel)`",
        "put_nowait": f"`loop.call_soon_threadsafe({receiver}.put_nowait, item)`",
        "get_nowait": f"`asyncio.run_coroutine_threadsafe({receiver}.get(), loop)`",
        "set": f"`loop.call_soon_threadsafe({receiver}.set)`",
    }
    if call.api.startswith("asyncio."):
        return "`asyncio.run_coroutine_threadsafe(coro, loop)` with the loop's reference"
    return hints.get(method, "`loop.call_soon_threadsafe(...)`")


@register
class AsyncioCallFromThread(_ThreadCallRule):
    """
    ## What it does
    Flags an event-loop call that is not thread-safe made from code that
    runs on a thread other than the loop's: `loop.call_soon()`,
    `call_later()`, `call_at()`, `create_task()`, `run_until_complete()` on
    a loop that runs elsewhere, `set_result()` / `set_exception()` /
    `cancel()` on an asyncio future, `put_nowait()` / `get_nowait()` on an
    `asyncio.Queue`, `set()` on an `asyncio.Event`, and
    `asyncio.create_task()` / `asyncio.ensure_future()`.

    It reports only when the receiver is visibly an asyncio object (made by
    `asyncio.get_event_loop()`, `get_running_loop()`, `new_event_loop()`,
    `loop.create_future()`, `asyncio.Future()`, `asyncio.Queue()`,
    `asyncio.Event()`, or annotated as one), kept in a variable, on `self`
    or in a global, and when the code runs on another thread:

    - a thread root reaches it through plain calls (a `Thread` target, a
      Thread subclass's `run`, an executor, `run_in_executor` or
      `asyncio.to_thread` target, a threading server's handler, a callback
      that a thread calls), and that thread neither made the object nor
      runs its loop; or
    - the same function hands work to that loop with
      `call_soon_threadsafe()` / `run_coroutine_threadsafe()`, so its author
      expects it to run off the loop's thread, and then calls the loop (or
      its future) directly, with no test of the thread in between; or
    - the function's name says that other threads call it
      (`call_from_executor`, `callFromThread`, `post_threadsafe`).

    The last two are the author's word, which test code (calling every
    method of the loop on purpose) does not give.

    ## Why is this bad?
    An asyncio event loop and its futures, queues and events belong to the
    thread that runs the loop; only `call_soon_threadsafe()` and
    `run_coroutine_threadsafe()` may be called from other threads. A
    callback scheduled with `call_soon()` from another thread does not wake
    the loop (it may run seconds later, or never, if the loop sleeps in
    `select()`), and it races with the loop on its internal deque; a future
    completed from another thread runs its callbacks on the wrong thread.
    In debug mode asyncio raises `RuntimeError: Non-thread-safe operation
    invoked on an event loop other than the current one`.
    `asyncio.create_task()` outside a running loop raises `RuntimeError: no
    running event loop`.

    ## Example
    ```python
    import asyncio
    import threading

    class Bridge:
        def __init__(self):
            self._loop = asyncio.get_event_loop()
            self._results = asyncio.Queue()

        def start(self):
            threading.Thread(target=self._work, daemon=True).start()

        def _work(self):
            for item in produce():
                self._results.put_nowait(item)
    ```

    ## Use instead
    ```python
        def _work(self):
            for item in produce():
                self._loop.call_soon_threadsafe(self._results.put_nowait, item)
    ```

    ## Not reported
    Anything inside `async def` (a coroutine runs on its loop's thread); a
    thread that creates, sets or runs its own loop (its calls on that loop
    are on the right thread); calls passed through `call_soon_threadsafe()`
    or `run_coroutine_threadsafe()`, lambdas included; calls under a test
    of the running thread or loop; public methods of a library's classes
    that no thread of the linted code reaches.

    ## How to suppress
    `# noqa: TL501` on the line of the call.
    """

    code = "TL501"
    name = "asyncio-call-from-thread"
    summary = "a non-thread-safe asyncio call made from a thread other than the loop's"

    def judge(self, threads: _ThreadModel, function: str, call: F.ThreadCall) -> str | None:
        model = threads.model
        if call.branch:
            # Under a test of the running thread or loop: the code may have
            # made sure it is on the loop's thread.
            return self._inconsistent(model, function, call)
        here = model.paths[function]
        for reach in threads.thread_reaches(function):
            why = self._from_thread(threads, function, call, reach)
            if why is not None:
                return (
                    f"`{call.text}` is not thread-safe, and it runs on a thread other than "
                    f"its event loop's: {_runs_on(model, reach, here)}; {why}; "
                    f"use {_remedy(call)}"
                )
            if call.target is not None and threads.owned(call.target, reach.root):
                return None  # the thread made or runs it: its own loop
        return self._named(model, function, call) or self._inconsistent(model, function, call)

    def _named(self, model: Model, function: str, call: F.ThreadCall) -> str | None:
        """A function whose name says it is called from other threads
        (`call_from_executor`, `callFromThread`, `schedule_threadsafe`)."""
        name = model.functions[function].name
        if (
            call.target is None
            or call.test
            or call.api == "loop.run_until_complete"
            or not _FROM_THREAD.search(name)
        ):
            return None
        return (
            f"`{call.text}` is not thread-safe, and `{model.display_name(function)}` is named "
            f"to be called from other threads; {call.evidence}; use {_remedy(call)}"
        )

    def _from_thread(
        self, threads: _ThreadModel, function: str, call: F.ThreadCall, reach: _Reach
    ) -> str | None:
        """Why the call is on the wrong thread when `reach` brings it there, or None."""
        model = threads.model
        if call.target is None:
            if call.api.endswith("ensure_future") and threads.runs_a_loop(reach.root):
                return None  # the thread set a loop of its own: the task goes there
            return "no event loop runs on that thread at this point (RuntimeError)"
        if call.api == "loop.run_until_complete":
            runner = threads.run_elsewhere(call.target, reach.root)
            if runner is None:
                return None
            where = model.where(runner[0], runner[1], model.paths[function])
            return (
                f"{call.evidence}, and `{model.display_name(runner[0])}` runs it ({where}) "
                f"on another thread"
            )
        target = call.target
        if call.api.startswith(("queue.", "event.")) and threads.runs_a_loop(reach.root):
            # Since Python 3.10 a queue or event belongs to the first loop
            # that waits on it, which may be this thread's own.
            return None
        if threads.owned(target, reach.root) or (
            call.loop is not None and threads.owned(call.loop, reach.root)
        ):
            return None
        modes = model.reach.get(function, {}).get(reach.root, set())
        if target[0] == "self" and modes and modes <= {OWNED}:
            return None  # an object the thread made itself
        if target[0] == "local" and not threads.owners.get(target) and target[1] != reach.chain[0]:
            # A parameter: its caller passed it.  Only the root's own
            # parameters are known to come from another thread (the spawner's).
            return None
        return f"{call.evidence}, and that thread neither made it nor runs its loop"

    def _inconsistent(self, model: Model, function: str, call: F.ThreadCall) -> str | None:
        """The function hands work to the same loop thread-safely elsewhere."""
        if call.phase == "pre" or call.test or call.api == "loop.run_until_complete":
            return None
        if call.target is None:
            return None
        objects = {canonical(model, call.target) if call.target[0] == "self" else call.target}
        if call.loop is not None:
            objects.add(canonical(model, call.loop) if call.loop[0] == "self" else call.loop)
        for use in model.functions[function].loop_uses:
            location = (
                canonical(model, use.location) if use.location[0] == "self" else use.location
            )
            if use.how == "threadsafe" and location in objects and use.branch == call.branch:
                name = model.display_name(function)
                return (
                    f"`{call.text}` is not thread-safe, and `{name}` expects to run off "
                    f"the loop's thread: it hands work to the same loop with a thread-safe "
                    f"call at line {use.line}; {call.evidence}; use {_remedy(call)}"
                )
        return None


_SIGNAL_WHY = {
    "handler": (
        "works only on the main thread (ValueError: signal only works in main thread "
        "of the main interpreter)"
    ),
    "timer": (
        "arms a signal that only the main thread receives, so the timeout never "
        "interrupts this thread"
    ),
}


@register
class SignalInThread(_ThreadCallRule):
    """
    ## What it does
    Flags `signal.signal()` and `signal.set_wakeup_fd()` in code that runs
    on a thread other than the main thread, and `signal.alarm()` /
    `signal.setitimer()` used there as a timeout. Any import spelling
    counts (`import signal as s`, `from signal import signal as sig`).

    The code runs on another thread when a thread root reaches it through
    plain calls: a `Thread` target, a Thread subclass's `run`, an executor
    or `run_in_executor` target, a threading server's handler, a callback
    that a thread calls (in any module of the project).

    ## Why is this bad?
    Python runs signal handlers in the main thread only, and
    `signal.signal()` and `signal.set_wakeup_fd()` raise `ValueError:
    signal only works in main thread of the main interpreter` anywhere
    else. `signal.alarm()` does not raise, but its `SIGALRM` is handled in
    the main thread: a timeout armed this way never interrupts the thread
    that armed it, so the call it was meant to bound can block forever
    (and the main thread is interrupted instead).

    ## Example
    ```python
    import signal
    import threading

    def worker(job):
        signal.signal(signal.SIGALRM, on_timeout)
        signal.alarm(5)
        job.run()

    threading.Thread(target=worker, args=(job,)).start()
    ```

    ## Use instead
    Install handlers on the main thread before starting threads, and bound
    the work in the thread with the timeout of the blocking call itself
    (`sock.settimeout()`, `Event.wait(timeout)`, `future.result(timeout)`):
    ```python
    def worker(job, done):
        job.run(timeout=5)
    ```

    ## Not reported
    A call under a main-thread test (`threading.current_thread() is
    threading.main_thread()`, `isinstance(current_thread(), _MainThread)`,
    an ident comparison, or an earlier such test that returns), a call
    inside a `try` whose handler catches `ValueError` (the author expects
    it to fail off the main thread), `signal.alarm(0)` (a cancellation),
    and code only the main thread runs.

    ## How to suppress
    `# noqa: TL502` on the line of the call.
    """

    code = "TL502"
    name = "signal-in-thread"
    summary = "`signal.signal()` or a signal-based timeout used on a thread other than the main one"

    def judge(self, threads: _ThreadModel, function: str, call: F.ThreadCall) -> str | None:
        reaches = threads.thread_reaches(function)
        if not reaches:
            return None
        model = threads.model
        kind = "timer" if call.api in ("signal.alarm", "signal.setitimer") else "handler"
        remedy = (
            "install handlers on the main thread before the threads start"
            if kind == "handler"
            else "bound the work with the blocking call's own timeout instead"
        )
        return (
            f"`{call.text}` runs on a thread other than the main one: "
            f"{_runs_on(model, reaches[0], model.paths[function])}; `{call.api}` "
            f"{_SIGNAL_WHY[kind]}; {remedy}"
        )
