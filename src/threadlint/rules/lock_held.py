"""TL304–TL306: what code does while it holds a lock.

These rules share `analysis/lock_regions.py`: the acquisitions of each
function, the calls made while a lock is held, and what a function of the
module does when called (the locks it takes, what it blocks on).
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from threadlint.analysis.blocking import Blocking, blocking_call
from threadlint.analysis.lock_regions import (
    LockRegions,
    lock_regions,
    shown_chain,
)
from threadlint.analysis.locks import Held
from threadlint.rules.base import FileRule, register

_MAX_DEPTH = 6


class _HeldRule(FileRule):
    @property
    def regions(self) -> LockRegions:
        return lock_regions(self.ctx, self.settings)

    def line(self, node: cst.CSTNode) -> int:
        return self.ctx.position(node).start.line

    def shown(self, node: cst.CSTNode) -> str:
        code = " ".join(self.ctx.code_for(node).split())
        return code if len(code) <= 40 else code[:37] + "..."

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
    business (TL503).
    """

    code = "TL306"
    name = "blocking-call-under-lock"
    summary = "A blocking call (sleep, join, queue, I/O, subprocess) while a lock is held"
    preview = True

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
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
