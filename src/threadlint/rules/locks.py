"""TL3xx: locks and conditions."""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from threadlint import facts as F
from threadlint.analysis import lifecycle_facts as facts
from threadlint.analysis import raise_evidence
from threadlint.analysis import threading_api as api
from threadlint.analysis.calls import argument, positional_params
from threadlint.analysis.cannot_raise import CannotRaise, Reach, never_ends
from threadlint.analysis.context import Binding, ModuleContext, catches, dotted_name, is_none
from threadlint.analysis.locks import (
    LockAnalysis,
    always_leaves,
    lock_analysis,
    method_call_on,
    small_statements,
)
from threadlint.analysis.summaries import qualified_id
from threadlint.analysis.test_code import in_test_code
from threadlint.analysis.walk import descendants, executed
from threadlint.diagnostics import Edit, Fix
from threadlint.rules.base import FileRule, register

_BLOCKS = (cst.IndentedBlock, cst.Module, cst.SimpleStatementSuite, cst.SimpleStatementLine)
_FUNCTIONS = (cst.FunctionDef, cst.Lambda)
_LOOPS = (cst.While, cst.For)
_TRIES = (cst.Try, cst.TryStar)


class _LockRule(FileRule):
    """A file rule that asks the module's shared LockAnalysis."""

    @property
    def locks(self) -> LockAnalysis:
        return lock_analysis(self.ctx, self.settings)

    def line(self, node: cst.CSTNode) -> int:
        return self.ctx.position(node).start.line

    def held_through_context_manager(self, node: cst.CSTNode, keys: set[str]) -> bool:
        """Inside `with self._locked():` where `_locked` is a `@contextmanager`
        of the module whose `yield` runs with one of `keys` held
        (`with self._lock: yield`)."""
        for ancestor in self.ctx.ancestors(node):
            if isinstance(ancestor, _FUNCTIONS):
                return False
            if not isinstance(ancestor, cst.With) or ancestor.asynchronous is not None:
                continue
            for item in ancestor.items:
                manager = self._context_manager_def(item.item)
                if manager is not None and any(
                    any(self.locks.holds(h, keys) for h in self.locks.held_here(y))
                    for y in self.locks.walk(manager)
                    if isinstance(y, cst.Yield)
                ):
                    return True
        return False

    def _context_manager_def(self, expr: cst.BaseExpression) -> cst.FunctionDef | None:
        """The local `@contextmanager` def that `expr` (`self._locked()`, `locked()`) calls."""
        if not isinstance(expr, cst.Call):
            return None
        func = expr.func
        function: cst.FunctionDef | None = None
        if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.value.value in ("self", "cls"):
            cls = self.ctx.enclosing_class(expr)
            if cls is not None:
                function = self.ctx.classes[cls].methods.get(func.attr.value)
        elif isinstance(func, cst.Name):
            found = [
                d for d in facts.definitions_visible(self.ctx, func.value, expr) or []
                if isinstance(d, cst.FunctionDef)
            ]
            function = found[0] if len(found) == 1 else None
        if function is None:
            return None
        for decorator in function.decorators:
            name = self.ctx.qualname(decorator.decorator) or dotted_name(decorator.decorator) or ""
            if name.split(".")[-1] == "contextmanager":
                return function
        return None

    def asyncio_alias(self, expr: cst.BaseExpression) -> bool:
        """`cond` whose declared type is a name the module binds to
        `asyncio.Condition` (or another asyncio lock) on some branch, as in
        `Condition = asyncio.Condition if sys.version_info >= (3, 13) else
        compat.Condition`: inside `async def` it is an asyncio condition."""
        annotations = [b.annotation for b in self.ctx.bindings_of_expr(expr) if b.annotation is not None]
        for annotation in annotations:
            if not isinstance(annotation, cst.Name):
                continue
            values: list[cst.BaseExpression] = []
            for binding in self.ctx.bindings_of(annotation.value, self.ctx.module):
                value = binding.value
                if isinstance(value, cst.IfExp):
                    values.extend((value.body, value.orelse))
                elif value is not None:
                    values.append(value)
            if any(self.ctx.kind_of_type(v) == api.ASYNCIO_LOCK for v in values):
                return True
        return False

    def is_lock(self, expr: cst.BaseExpression) -> bool:
        """A thread lock (LockAnalysis), or one this module's classes show:
        an object of a local lock wrapper class, or a lock attribute of an
        object of a local class reached through a parameter (`conn.guard`
        with `conn: Connection` whose `__init__` makes `self.guard`)."""
        return self.locks.is_thread_lock(expr) or self._local_class_lock(expr)

    def _local_class_lock(self, expr: cst.BaseExpression) -> bool:
        through_object = (
            isinstance(expr, cst.Attribute)
            and isinstance(expr.value, cst.Name)
            and expr.value.value not in ("self", "cls")
        )
        if through_object:
            assert isinstance(expr, cst.Attribute)
            bindings = [
                binding
                for cls in self._local_classes_of(expr.value)
                for binding in self.ctx.classes[cls].attrs.get(expr.attr.value, [])
            ]
        else:
            bindings = self.ctx.bindings_of_expr(expr)
        for binding in bindings:
            if through_object and binding.value is not None and self.locks.is_thread_lock(binding.value):
                return True
            if any(self._wraps_lock(cls) for cls in self._binding_classes(binding)):
                return True
        return False

    def _local_classes_of(self, expr: cst.BaseExpression) -> list[cst.ClassDef]:
        return [cls for b in self.ctx.bindings_of_expr(expr) for cls in self._binding_classes(b)]

    def _binding_classes(self, binding: Binding) -> list[cst.ClassDef]:
        """The local class a binding's value is made by (or annotated with)."""
        type_expr: cst.BaseExpression | None = binding.annotation
        if type_expr is None and isinstance(binding.value, cst.Call):
            type_expr = binding.value.func
        if isinstance(type_expr, cst.SimpleString):
            name: str | None = type_expr.evaluated_value if isinstance(type_expr.evaluated_value, str) else None
        else:
            name = dotted_name(type_expr) if type_expr is not None else None
        cls = self.ctx.classes_by_name.get(name or "")
        return [cls] if cls is not None else []

    def _wraps_lock(self, cls: cst.ClassDef) -> bool:
        """A class whose `acquire()` (or `__enter__`) takes a real thread lock."""
        methods = self.ctx.classes[cls].methods
        for name in ("acquire", "__enter__"):
            method = methods.get(name)
            if method is None:
                continue
            for node in self.locks.walk(method):
                receiver = method_call_on(node, ("acquire",))
                if receiver is not None and self.locks.is_thread_lock(receiver):
                    return True
                if isinstance(node, cst.With) and any(
                    self.locks.is_thread_lock(item.item) for item in node.items
                ):
                    return True
        return False


def _owner(ctx: ModuleContext, node: cst.CSTNode) -> cst.CSTNode | None:
    """The def (or module) whose code `node` is; None inside a lambda."""
    for ancestor in ctx.ancestors(node):
        if isinstance(ancestor, cst.Lambda):
            return None
        if isinstance(ancestor, cst.FunctionDef):
            return ancestor
    return ctx.module


def _awaited(ctx: ModuleContext, call: cst.Call) -> bool:
    """`await cond.wait()`, and a coroutine handed to an awaited call inside
    `async def` (`await asyncio.wait_for(cond.wait(), timeout)`): an asyncio
    condition, whatever its declared type says."""
    parent = ctx.parent(call)
    if isinstance(parent, cst.Await):
        return True
    if not isinstance(parent, cst.Arg):
        return False
    function = ctx.enclosing_function(call)
    if function is None or function.asynchronous is None:
        return False
    for ancestor in ctx.ancestors(call):
        if isinstance(ancestor, cst.Await):
            return True
        if isinstance(ancestor, (cst.BaseSmallStatement, cst.BaseCompoundStatement)):
            return False
    return False


def _in_async_def(ctx: ModuleContext, node: cst.CSTNode) -> bool:
    function = ctx.enclosing_function(node)
    return function is not None and function.asynchronous is not None


@register
class AcquireWithoutRelease(_LockRule):
    """
    ## What it does
    Flags `lock.acquire()` when the same function releases the lock on its
    normal path but the release is not guaranteed, and something that can
    really raise runs while the lock is held: the `release()` is not in a
    `finally` (or a catch-all `except` that re-raises), or such code runs
    between the `acquire()` and the `try` whose `finally` releases it.

    "Really raise" needs evidence. A step that fails by itself: `raise`, a
    lookup the code has not checked (`d[k]`, `q.popleft()`, `l.pop()`,
    `min()` of what may be empty), a dict changed while it is iterated. A
    call that does I/O (a socket, a file, `print()`, a subprocess, an HTTP
    or database client), parses outside data (`json.loads`, `.decode()`),
    or runs code of the caller's choosing (a callable the function
    receives, one kept in a container, a callback attribute that the
    project never sets itself). Or a call of a function of the project, in
    this module or another, that can raise by the same evidence, followed
    through its own calls and the callables stored in its callback
    attributes (the message then names the step it reaches and where). The
    steps that cannot raise are listed in `analysis/cannot_raise.py`: stores
    in names, attributes and dict keys; built-in container methods
    (`d.get(k)`, `d.pop(k, None)`, `d.clear()`, `s.add(x)`, `l.append(x)`);
    builtins over values and containers (`len`, `sum(c.values())`,
    `sorted(d)`, `max(..., default=0)`); a logging call with a constant
    message; `wait()` and `notify()` of the condition that is held; `set()`
    of an event; `if`, `while` and `for` made of such steps; a `try` whose
    catch-all handler (`except Exception:`) takes what its body raises and
    goes on. The check also knows what the code has just tested: `d[k]`
    inside `if k in d:`, `q.popleft()` or `q[0]` after
    `while not q: cond.wait()`.

    A window that is neither proven safe nor shown to raise (it calls code
    whose failure threadlint finds no evidence of, such as a method of an
    object of unknown type) is reported only with `--preview`.

    A window that can fail only if an item of the code's own list or dict
    is not of the shape the code gives its items (`self._filters[i][0]` of
    a list of pairs, `self._messages[i].mid`) is reported only with
    `--preview`: that shape is the class's own invariant, which one window
    does not show. With a call that can raise beside it, it is a default
    finding.

    ## Why is this bad?
    If anything raises between `acquire()` and `release()` (a bug, a
    failed connection, a callback's error) the release never runs and the
    lock stays held forever: every other thread that needs it blocks, and
    the program hangs with no error pointing at the cause.

    ## Example
    ```python
    lock.acquire()
    update(shared)
    lock.release()
    ```

    ## Use instead
    ```python
    with lock:
        update(shared)
    ```
    or, when you need `acquire()`'s arguments:
    ```python
    if lock.acquire(timeout=5):
        try:
            update(shared)
        finally:
            lock.release()
    ```

    Also flagged: a release only in an `except` handler that neither
    re-raises nor returns (`try: ... except Exception: lock.release()`, where
    `finally:` was meant): when nothing raises, the lock stays held.

    Also accepted: `acquire()` as a statement inside the `try` whose
    `finally` releases, `if not lock.acquire(...): return` (or `raise`)
    before that `try`, a lock taken and given straight back
    (`lock.acquire(); lock.release()`, `ok = lock.acquire(timeout=t)` then
    `if ok: lock.release()`: a wait for the lock to be free, or a wake-up
    signal), `assert not lock.acquire(False)` (a check of the lock's state),
    a semaphore made with no permit (`Semaphore(0)`, a signal between
    threads), and a release registered as a callback
    (`stack.callback(lock.release)`), and a lock the function takes again
    after its release and keeps (`release(); acquire()` wakes a waiter,
    then the lock stays held as a token for another function to release).

    Test code is not checked (a `tests/` folder, `test_*.py`, `*_test.py`,
    `conftest.py`, a `test*` function): an exception between `acquire()` and
    `release()` there already fails the test. Tests also drive the
    low-level protocol on purpose (`acquire()`, `wait()`, `release()` to
    test a condition), and the worst a leaked lock adds is a hang of the
    failing test, not of a program.

    ## How to suppress
    `# noqa: TL301` on the `acquire()` line.

    ## Known limits
    Only thread locks count (`threading`/`_thread`/`multiprocessing` locks,
    semaphores and conditions, also made by a `multiprocessing` context or
    manager held in a variable, `ctx.Condition()`, `manager.Lock()`;
    `lock-types` from the configuration, objects of unknown type named
    like a lock, objects of a lock wrapper class of the module whose
    `acquire()` takes a thread lock, and a thread lock attribute of a
    module class reached through a parameter or variable of that class);
    `asyncio` locks, distributed locks (`zk.Lock("/path")`)
    and other objects with an `acquire()` method are ignored.

    A function that acquires a lock and never releases it is not flagged:
    that is how lock wrappers hand a lock over (`__enter__`/`__exit__`,
    `acquire()`/`release()` methods, a lock released by another thread or
    method), and threadlint cannot tell such a hand-off from a forgotten
    release.

    "Cannot raise" is judged as real code needs it. An asynchronous
    `KeyboardInterrupt` can land anywhere, `with lock:` included, and a
    `wait()` in the main thread is where Ctrl-C most often lands: a lock
    left held after an interrupted `wait()` is not reported. Nor are
    programming errors that would fail on every run: a key that cannot be
    hashed, a tuple unpacked into the wrong number of names, values of a
    container that cannot be added or ordered. A container is known only by
    what every binding of it makes (`self.d = {}`, `Counter()`); one that
    may still be `None`, comes in as a parameter, or is of unknown type
    counts as unknown code (only `append` is trusted on any object). A
    logger is recognised by `logging.getLogger()` or by its name (`log`,
    `logger`, `self._log`), so a project object named like a logger is
    trusted with a constant message too.
    """

    code = "TL301"
    name = "acquire-without-release"
    summary = "`lock.acquire()` whose `release()` is not guaranteed by `try/finally` or `with`"

    def visit_Call(self, node: cst.Call) -> None:
        receiver = method_call_on(node, ("acquire",))
        if receiver is None or isinstance(self.ctx.parent(node), (cst.Await, cst.Arg)):
            return  # awaited: asyncio; an argument: `assertTrue(lock.acquire(False))` in tests
        owner = _owner(self.ctx, node)
        if owner is None or not self.is_lock(receiver):
            return
        if self.locks.signal_semaphore(receiver) or self._asserted(node):
            return
        if in_test_code(self.ctx, node, self.settings.root):
            return  # an exception there fails the test already; the held lock only adds a hang
        key = self.locks.key(receiver)
        if self._guaranteed(node, key, owner):
            return
        release = self._normal_release_after(node, key, owner)
        if release is None:
            swallowed = self._release_in_swallowing_handler(node, key, owner)
            if swallowed is not None:
                self.report(
                    node,
                    f"`{key}` is released only in an `except` handler that goes on "
                    f"(line {self.line(swallowed)}): when nothing raises, the lock stays "
                    f"held after the `try`, so the next `{key}.acquire()` waits forever; "
                    f"release it in `finally:` or use `with {key}:`",
                )
            return  # otherwise released elsewhere or by another thread: a hand-off
        if self._signals(node, release, key, owner):
            return
        released, first = self._window(node, key, owner)
        if released:
            return
        items_only, trusted = self._window(node, key, owner, trust_items=True)
        if items_only and not self.settings.preview:
            return  # only an item not of the shape the code gave it can fail
        if items_only:
            fails = "fails only if an item is not what the code put there"
            self.report(node, self._message(key, release, owner, self._blamed(first.blame, fails)))
            return
        # The default reports a window on evidence that it can raise: a step
        # that fails by itself (a lookup, a `raise`), a call that does I/O or
        # runs a callable the function receives, or a call of the project
        # that the link finds can raise (analysis/raise_evidence.py). A window
        # that is merely not proven safe is a preview finding.
        alone, assuming = self._window(node, key, owner, trust_items=True, assume_calls=True)
        if not alone and assuming.blame is not None and not self._caught_around(
            assuming, node, owner
        ):
            self.report(node, self._message(key, release, owner, self._blamed(assuming.blame)))
            return
        steps: list[cst.CSTNode] = list(assuming.assumed or [])
        if not alone:
            # Without a step to blame, the walk stopped where it could not
            # follow the code: judge what lies between the acquire and the
            # last release by its place instead.
            steps += self._steps_between(node, key, owner)
        judged = self._unshielded(steps, node, owner)
        for step, evidence in judged:
            if evidence is not None:
                raising = f" (`{self.shown(step)}`, line {self.line(step)}, {evidence.reason})"
                self.report(node, self._message(key, release, owner, raising))
                return
        calls = [step for step, _ in judged if isinstance(step, cst.Call)]
        if self.settings.preview:
            self.report(node, self._message(key, release, owner, self._blamed(trusted.blame)))
        elif calls:
            self.defer(node, self._message(key, release, owner, F.BLAME), self._id_of(owner), calls)

    def _blamed(self, blame: cst.CSTNode | None, fails: str = "can raise") -> str:
        """What can raise, when the window was followed far enough to see it."""
        if blame is None:
            return ""
        return f" (`{self.shown(blame)}`, line {self.line(blame)}, {fails})"

    def _caught_around(self, walk: CannotRaise, acquire: cst.Call, owner: cst.CSTNode) -> bool:
        """The step that failed is a lookup whose error a handler of a `try`
        around the acquire takes and goes on after (`for i in ...: try:
        acquire() ... pop(i) ... except IndexError: pass`): the lock is still
        held there and the code after it releases it."""
        errors = walk.lookup_errors(walk.blame)
        if not errors:
            return False
        child: cst.CSTNode = acquire
        for ancestor in self.ctx.ancestors(acquire):
            if ancestor is owner:
                return False
            if isinstance(ancestor, cst.Try) and child is ancestor.body and any(
                catches(h, errors) and not raise_evidence.passes_on(h) for h in ancestor.handlers
            ):
                return True
            child = ancestor
        return False

    def _steps_between(self, acquire: cst.Call, key: str, owner: cst.CSTNode) -> list[cst.CSTNode]:
        """The raises and calls placed between the acquire and the last
        release of the lock after it (not those releases)."""
        positions = self.ctx.fast_positions()
        start = positions.of(acquire)
        releases = [r for r, handler in self._releases_after(acquire, key, owner) if handler is None]
        end = max((positions.of(r) for r in releases), default=start)
        return [
            step
            for step in executed(owner)
            if isinstance(step, (cst.Raise, cst.Call))
            and start < positions.of(step) < end
            and not _is_release_of(step, key, self.locks)
        ]

    def _unshielded(
        self, steps: list[cst.CSTNode], acquire: cst.Call, owner: cst.CSTNode
    ) -> list[tuple[cst.CSTNode, raise_evidence.Evidence | None]]:
        """The steps (in order, once each) no handler inside the window
        takes what they raise (a catch-all for a call, the error's own
        handler for a step with evidence), each with its evidence."""
        positions = self.ctx.fast_positions()
        start = positions.of(acquire)
        params = _parameters(owner)

        def in_window(node: cst.CSTNode) -> bool:
            return positions.of(node) > start

        kept = []
        for step in sorted(dict.fromkeys(steps), key=positions.of):
            evidence = raise_evidence.of_step(self.ctx, step, params)
            if not raise_evidence.shielded(
                self.ctx, step, evidence or raise_evidence.ANYTHING, owner, in_window
            ):
                kept.append((step, evidence))
        return kept

    def _message(self, key: str, release: cst.CSTNode, owner: cst.CSTNode, raising: str) -> str:
        if any(isinstance(a, cst.Finally) for a in self._ancestors_within(release, owner)):
            return (
                f"`{key}.acquire()` is not followed directly by the `try` whose `finally` "
                f"releases it (line {self.line(release)}): an exception raised in between"
                f"{raising} leaves the lock held forever; acquire right before `try:` or use "
                f"`with {key}:`"
            )
        return (
            f"`{key}.release()` (line {self.line(release)}) is not in a `finally`: an "
            f"exception raised after `{key}.acquire()`{raising} leaves the lock held "
            f"forever; use `with {key}:` or `try/finally`"
        )

    def _id_of(self, owner: cst.CSTNode) -> str:
        module = self.ctx.module_name
        if isinstance(owner, cst.FunctionDef):
            return qualified_id(self.ctx, owner, module)
        return f"{module}.<module>"

    def _safe_steps(
        self, key: str, trust_items: bool = False, assume_calls: bool = False
    ) -> CannotRaise:
        """What cannot raise while `key` is held (a wait or notify only on that lock)."""
        return CannotRaise(
            self.ctx,
            lambda receiver: key in self.locks.same_lock_keys(receiver),
            lambda receiver: self.locks.key(receiver) != key and self.is_lock(receiver),
            trust_items,
            assume_calls,
        )

    def _window(
        self,
        acquire: cst.Call,
        key: str,
        owner: cst.CSTNode,
        trust_items: bool = False,
        assume_calls: bool = False,
    ) -> tuple[bool, CannotRaise]:
        """Whether nothing can raise while the lock is held (see
        analysis/cannot_raise.py) before each path releases it, so that the
        release is reached on every path (`acquire(); self.owner = me;
        self.count += 1; release()`); and if something can, the first step
        found that can.

        The steps are followed from the acquire on, out of the `if`/`with`
        bodies they end (as `_following` does); `ok = lock.acquire(timeout=1)`
        holds the lock only where `ok` is true, `if lock.acquire(False):` only
        in its body."""
        anchor = self._statement_of(acquire, owner)
        safe = self._safe_steps(key, trust_items, assume_calls)

        def ends(step: cst.CSTNode) -> bool:
            return (
                _releases_key(step, key, self.locks)
                or (isinstance(step, _TRIES) and self._releases_on_exit(step, key))
                or self._releases_each(step, key, safe)
            )

        flag: str | None = None
        if isinstance(anchor, cst.If) and _implies_acquired(anchor.test, acquire):
            reach = safe.window(list(anchor.body.body), ends)  # `else:` runs without the lock
        elif isinstance(anchor, cst.While) and _implies_acquired(anchor.test, acquire):
            # `while sem.acquire(blocking=False): taken += 1`: each pass holds
            # one more permit, and the code after the loop runs holding them.
            # The loop must not leave early (a `break` would skip the rest).
            if anchor.orelse is not None or any(
                isinstance(n, (cst.Break, cst.Return, cst.Raise)) for n in descendants(anchor.body)
            ):
                return False, safe
            reach = safe.window(list(anchor.body.body), never_ends)
        elif isinstance(anchor, cst.Expr) and anchor.value is acquire:
            reach = Reach.HELD
        elif isinstance(anchor, cst.Assign) and anchor.value is acquire:
            target = anchor.targets[0].target
            if len(anchor.targets) != 1 or not isinstance(target, cst.Name):
                return False, safe
            flag, reach = target.value, Reach.HELD
        else:
            return False, safe
        current: cst.CSTNode | None = anchor
        while reach is Reach.HELD and current is not None:
            block = self.ctx.parent(current)
            if not isinstance(block, _BLOCKS):
                return False, safe
            statements = list(block.body)
            reach = safe.window(statements[statements.index(current) + 1 :], ends, flag)
            if isinstance(block, cst.SimpleStatementLine):
                current = block  # the rest of the line is done: go on after it
            else:
                current = self._continues_after(block, owner)
        return reach is Reach.LEFT, safe

    def _releases_each(self, step: cst.CSTNode, key: str, safe: CannotRaise) -> bool:
        """`for _ in range(taken): sem.release()`: gives back every permit a
        loop of non-blocking acquires took, iterating what cannot raise."""
        if not isinstance(step, cst.For) or step.orelse is not None or not safe.value(step.iter):
            return False
        body = small_statements(list(step.body.body))
        return bool(body) and all(_releases_key(b, key, self.locks) for b in body)

    def _asserted(self, call: cst.Call) -> bool:
        """`assert lock.acquire(False)` / `assert not sem.acquire(False)`: a
        check of the lock's state, not a critical section."""
        for ancestor in self.ctx.ancestors(call):
            if isinstance(ancestor, cst.Assert):
                return True
            if isinstance(ancestor, cst.BaseSmallStatement):
                return False
        return False

    def _ancestors_within(self, node: cst.CSTNode, owner: cst.CSTNode) -> list[cst.CSTNode]:
        found = []
        for ancestor in self.ctx.ancestors(node):
            if ancestor is owner:
                break
            found.append(ancestor)
        return found

    def _guaranteed(self, call: cst.Call, key: str, owner: cst.CSTNode) -> bool:
        if self._release_is_callback(key, owner):
            return True
        child: cst.CSTNode = call
        for ancestor in self._ancestors_within(call, owner):
            if isinstance(ancestor, _TRIES) and child is ancestor.body and self._releases_on_exit(ancestor, key):
                return True
            child = ancestor
        anchor = self._statement_of(call, owner)
        if anchor is None:
            return False
        if isinstance(anchor, (cst.If, cst.While)):
            if _implies_acquired(anchor.test, call):
                # `if lock.acquire(timeout=...):` holds the lock in its body.
                return self._first_step_releases(list(anchor.body.body), key)
            if isinstance(anchor, cst.If) and isinstance(anchor.orelse, cst.Else):
                # `if not lock.acquire(False): ... else:` holds it in the `else`.
                return self._first_step_releases(list(anchor.orelse.body.body), key)
        loop = self._acquiring_loop(anchor)
        if loop is not None:
            # `for lock in locks: lock.acquire()` then `try: ... finally:` releasing them.
            anchor = loop
        return self._first_step_releases(self._following(anchor, owner, key), key)

    def _acquiring_loop(self, anchor: cst.CSTNode) -> cst.For | None:
        """The `for` whose whole body is this acquire statement."""
        line = self.ctx.parent(anchor)
        block = self.ctx.parent(line) if isinstance(line, cst.SimpleStatementLine) else None
        loop = self.ctx.parent(block) if block is not None else None
        if not isinstance(loop, cst.For) or loop.orelse is not None or not isinstance(block, cst.IndentedBlock):
            return None
        if len(block.body) != 1 or not isinstance(line, cst.SimpleStatementLine) or len(line.body) != 1:
            return None
        return loop

    def _signals(self, acquire: cst.Call, release: cst.Call, key: str, owner: cst.CSTNode) -> bool:
        """The lock is a signal between threads or handed over, not a critical section.

        - another `acquire()` of it in this function with no release in between
          (the second one waits for a release by another thread);
        - a `return` between the acquire and the release, leaving with it held;
        - a nested (or enclosing) function acquires or releases it too: the
          spawner and its thread pass it back and forth;
        - the function takes it again after the release and leaves holding it
          (`release(); acquire()` pulses a waiter, then keeps the lock as a
          token another function releases).
        """
        start, end = self._where(acquire), self._where(release)
        held = False
        calls = sorted(self._lock_calls(owner, key), key=self._where)
        if calls and self._where(calls[-1]) > end and _method_name(calls[-1]) == "acquire":
            return True
        for call in calls:
            method = _method_name(call)
            where = self._where(call)
            if call is acquire:
                if held:
                    return True
            elif method == "acquire":
                if start < where < end:
                    return True
                held = where < start or held
            elif where < start:
                held = False
        # `end` is the first release on a normal path, so a `return` before it
        # leaves the function holding the lock, on purpose.
        if any(
            isinstance(node, cst.Return) and start < self._where(node) < end
            for node in self.locks.walk(owner)
        ):
            return True
        return self._shared_with_nested(owner, key)

    def _where(self, node: cst.CSTNode) -> tuple[int, int]:
        start = self.ctx.position(node).start
        return start.line, start.column

    def _lock_calls(self, scope: cst.CSTNode, key: str) -> list[cst.Call]:
        return [
            call
            for call in self.locks.calls_in(scope)
            if (receiver := method_call_on(call, ("acquire", "release"))) is not None
            and self.locks.key(receiver) == key
        ]

    def _shared_with_nested(self, owner: cst.CSTNode, key: str) -> bool:
        if "." in key:
            return False
        for node in self.locks.walk(owner, into_functions=True):
            if node is not owner and isinstance(node, _FUNCTIONS) and self._lock_calls(node, key):
                return True
        outer = self.ctx.enclosing_function(owner)
        if outer is None or key in self.ctx.bindings.get(owner, {}):
            return False
        return key in self.ctx.bindings.get(outer, {}) and bool(
            self._lock_calls(outer, key)
        )

    def _statement_of(self, call: cst.Call, owner: cst.CSTNode) -> cst.CSTNode | None:
        child: cst.CSTNode = call
        for ancestor in self._ancestors_within(call, owner):
            if isinstance(ancestor, _BLOCKS):
                return child
            child = ancestor
        return child if isinstance(owner, cst.Module) else None

    def _following(self, anchor: cst.CSTNode, owner: cst.CSTNode, key: str) -> list[cst.CSTNode]:
        """What runs after `anchor` completes normally, up to the next compound boundary.

        Leaving the end of an `if`/`else`/`with` body continues after that
        statement; loops, `try` and the function end the search.
        """
        following: list[cst.CSTNode] = []
        current = anchor
        while True:
            block = self.ctx.parent(current)
            if not isinstance(block, _BLOCKS):
                return following
            statements = list(block.body)
            following.extend(statements[statements.index(current) + 1 :])
            if isinstance(block, cst.SimpleStatementLine):
                current = block
                continue
            safe = self._safe_steps(key)
            if not all(safe.statement(s) or _guard_exit(s, safe, key, self.locks) for s in small_statements(following)):
                return following
            holder = self._continues_after(block, owner)
            if holder is None:
                return following
            current = holder

    def _continues_after(self, block: cst.CSTNode, owner: cst.CSTNode) -> cst.CSTNode | None:
        """The `if`/`with` statement after which execution goes on when the
        body `block` ends normally; None for loops, `try` and the function."""
        holder = self.ctx.parent(block)
        if isinstance(holder, cst.Else):
            holder = self.ctx.parent(holder)
        while isinstance(holder, cst.If) and isinstance(self.ctx.parent(holder), cst.If):
            holder = self.ctx.parent(holder)  # an `elif` continues after its `if`
        if not isinstance(holder, (cst.If, cst.With)) or holder is owner:
            return None
        return holder

    def _first_step_releases(self, statements: list[cst.CSTNode], key: str) -> bool:
        safe = self._safe_steps(key)
        for statement in small_statements(statements):
            if safe.statement(statement) or _guard_exit(statement, safe, key, self.locks):
                continue
            if isinstance(statement, _TRIES):
                return self._releases_on_exit(statement, key)
            if isinstance(statement, cst.Expr):
                receiver = method_call_on(statement.value, ("release",))
                return receiver is not None and self.locks.key(receiver) == key
            return False
        return False

    def _releases_on_exit(self, node: cst.CSTNode, key: str) -> bool:
        assert isinstance(node, _TRIES)
        if node.finalbody is not None and self._releases(node.finalbody, key):
            return True
        for handler in node.handlers:
            catch_all = handler.type is None or self.ctx.qualname(handler.type) == "BaseException"
            if catch_all and self._releases(handler.body, key) and any(
                isinstance(n, cst.Raise) for n in self.locks.walk(handler.body)
            ):
                return True
        return False

    def _releases(self, node: cst.CSTNode, key: str) -> bool:
        for call in self.locks.calls_in(node):
            receiver = method_call_on(call, ("release",))
            if receiver is not None and self.locks.key(receiver) == key:
                return True
        return False

    def _release_is_callback(self, key: str, owner: cst.CSTNode) -> bool:
        """`stack.callback(lock.release)`, `atexit.register(lock.release)`..."""
        for node in self.locks.walk(owner):
            if (
                isinstance(node, cst.Attribute)
                and node.attr.value == "release"
                and self.locks.key(node.value) == key
            ):
                parent = self.ctx.parent(node)
                if not (isinstance(parent, cst.Call) and parent.func is node):
                    return True
        return False

    def _releases_after(
        self, call: cst.Call, key: str, owner: cst.CSTNode
    ) -> Iterator[tuple[cst.Call, cst.ExceptHandler | None]]:
        """The `key.release()` calls of `owner` after `call`, in source order,
        each with the `except` handler it sits in (None on the normal path)."""
        start = self.ctx.position(call).start
        for candidate in self.locks.calls_in(owner):
            receiver = method_call_on(candidate, ("release",))
            if receiver is None or self.locks.key(receiver) != key:
                continue
            where = self.ctx.position(candidate).start
            if (where.line, where.column) <= (start.line, start.column):
                continue
            handler = next(
                (
                    a
                    for a in self._ancestors_within(candidate, owner)
                    if isinstance(a, cst.ExceptHandler)
                ),
                None,
            )
            yield candidate, handler

    def _release_in_swallowing_handler(
        self, call: cst.Call, key: str, owner: cst.CSTNode
    ) -> cst.Call | None:
        """A release after `call` in an `except` handler that neither re-raises
        nor leaves: execution continues after the `try` with the lock held or
        not depending on whether something raised, which no hand-off does (a
        wrapper that hands the lock to its caller re-raises)."""
        for candidate, handler in self._releases_after(call, key, owner):
            if handler is not None and not always_leaves(handler.body):
                return candidate
        return None

    def _normal_release_after(self, call: cst.Call, key: str, owner: cst.CSTNode) -> cst.Call | None:
        for candidate, handler in self._releases_after(call, key, owner):
            if handler is None:  # one released only on error hands the lock over otherwise
                return candidate
        return None


def _method_name(call: cst.Call) -> str:
    return call.func.attr.value if isinstance(call.func, cst.Attribute) else ""


def _implies_acquired(test: cst.BaseExpression, call: cst.Call) -> bool:
    """`test` is true only if `call` acquired: `L.acquire(...)`, `ready and L.acquire(...)`."""
    if test is call:
        return True
    if isinstance(test, cst.BooleanOperation) and isinstance(test.operator, cst.And):
        return _implies_acquired(test.left, call) or _implies_acquired(test.right, call)
    return False


def _guard_exit(statement: cst.CSTNode, safe: CannotRaise, key: str, locks: LockAnalysis) -> bool:
    """`if not ok: return` / `raise`: leaves before the critical section (the
    acquire failed or the caller gave up), a hand-off the rule does not judge.
    Only steps that cannot raise may come before the exit. An early exit
    that releases first (`if not self.done: self.waiters.append(w);
    lock.release(); return`) is safe too when its test cannot raise."""
    if not (isinstance(statement, cst.If) and statement.orelse is None):
        return False
    body = small_statements(list(statement.body.body))
    if not body or not isinstance(body[-1], (cst.Return, cst.Raise, cst.Continue, cst.Break)):
        return False
    steps = body[:-1]
    releases = [s for s in steps if _releases_key(s, key, locks)]
    if releases and not safe.test(statement.test):
        return False
    return safe.statements([s for s in steps if s not in releases])


def _is_release_of(call: cst.CSTNode, key: str, locks: LockAnalysis) -> bool:
    receiver = method_call_on(call, ("release",)) if isinstance(call, cst.Call) else None
    return receiver is not None and locks.key(receiver) == key


def _parameters(owner: cst.CSTNode) -> tuple[str, ...]:
    if not isinstance(owner, cst.FunctionDef):
        return ()
    params = owner.params
    return tuple(
        p.name.value
        for p in (*params.posonly_params, *params.params, *params.kwonly_params)
    )


def _releases_key(step: cst.CSTNode, key: str, locks: LockAnalysis) -> bool:
    if not isinstance(step, cst.Expr):
        return False
    receiver = method_call_on(step.value, ("release",))
    return receiver is not None and locks.key(receiver) == key


_LOCK_METHODS = frozenset(
    {
        "acquire", "release", "locked", "wait", "wait_for", "notify", "notify_all", "notifyAll",
        "__enter__", "__exit__", "_is_owned",
    }
)


@register
class LockGuardsNothing(_LockRule):
    """
    ## What it does
    Flags a lock that is new each time it is used: `with threading.Lock():`,
    `threading.RLock().acquire()`, or a lock created as a local variable of a
    function and only locked and unlocked there (never passed to a call,
    returned, stored on an object or in a container, captured by a nested
    function, or declared `global`/`nonlocal`).

    ## Why is this bad?
    A lock excludes only the threads that hold *the same* lock object. A lock
    made per call is a different object in every thread, so nothing ever
    waits on it: the code it "protects" runs unsynchronized, and the lock
    only hides the race from readers.

    ## Example
    ```python
    def add(item):
        lock = threading.Lock()
        with lock:
            items.append(item)
    ```

    ## Use instead
    ```python
    _items_lock = threading.Lock()

    def add(item):
        with _items_lock:
            items.append(item)
    ```

    ## How to suppress
    `# noqa: TL302` on the line creating the lock.

    ## Known limits
    A `Condition(lock)` over an existing lock is not flagged: it acquires
    that shared lock. A local lock that reaches other code in any way is
    left alone, even when that code does not share it with other threads,
    and so is one that guards no code (acquired and never released, as a
    test exercising the lock's own API does).
    """

    code = "TL302"
    name = "lock-guards-nothing"
    summary = "a lock created anew for each use protects nothing"

    def visit_Call(self, node: cst.Call) -> None:
        kind = self.ctx.kind_of(node)
        if kind not in api.LOCK_KINDS or not _fresh(node, kind):
            return
        parent = self.ctx.parent(node)
        if isinstance(parent, cst.WithItem) and parent.item is node:
            self.report(
                node,
                f"`with {self.shown(node)}:` makes a new lock each time it runs: no other "
                f"thread can hold the same one, so it excludes nothing; create the lock once "
                f"(module level or `__init__`) and share it",
            )
        elif isinstance(parent, cst.Attribute) and parent.value is node and parent.attr.value == "acquire":
            self.report(
                node,
                f"`{self.shown(node)}.acquire()` acquires a brand-new lock that no other "
                f"thread can hold, so it excludes nothing; create the lock once and share it",
            )
        else:
            self._check_local(node, parent)

    def _check_local(self, node: cst.Call, parent: cst.CSTNode | None) -> None:
        name: str | None = None
        if isinstance(parent, cst.Assign) and len(parent.targets) == 1:
            target = parent.targets[0].target
            name = target.value if isinstance(target, cst.Name) else None
        elif isinstance(parent, cst.AnnAssign) and isinstance(parent.target, cst.Name):
            name = parent.target.value
        function = self.ctx.enclosing_scope(node)
        if name is None or not isinstance(function, cst.FunctionDef):
            return
        if len(self.ctx.bindings.get(function, {}).get(name, [])) != 1:
            return
        uses = self._local_uses(function, name, parent)
        if uses and self._guards(uses):
            self.report(
                node,
                f"`{name}` is a new lock on every call of `{function.name.value}()` and never "
                f"leaves it (locked at line {self.line(uses[0])}): no other thread can hold it, "
                f"so it guards nothing; create it once (module level or `__init__`) and share it",
            )

    def _guards(self, uses: list[cst.CSTNode]) -> bool:
        """The local lock is used as a critical section: `with lock:`, or both
        `acquire()` and `release()`. A lock only acquired (a test calling
        `cond.acquire(); cond.notify_all()` to exercise the API) guards no code."""
        methods = set()
        for use in uses:
            parent = self.ctx.parent(use)
            if isinstance(parent, cst.WithItem):
                return True
            if isinstance(parent, cst.Attribute):
                methods.add(parent.attr.value)
        return {"acquire", "release"} <= methods

    def _local_uses(
        self, function: cst.FunctionDef, name: str, creation: cst.CSTNode | None
    ) -> list[cst.CSTNode]:
        """Where the local lock is locked; empty when it escapes the function in any way."""
        uses: list[cst.CSTNode] = []
        for node in self.locks.walk(function, into_functions=True):
            if isinstance(node, (cst.Global, cst.Nonlocal)) and any(
                item.name.value == name for item in node.names
            ):
                return []
            if not (isinstance(node, cst.Name) and node.value == name):
                continue
            parent = self.ctx.parent(node)
            if parent is creation or isinstance(parent, cst.AssignTarget):
                continue
            if self.ctx.enclosing_scope(node) is not function:
                return []  # captured by a nested def, lambda or class
            locked = isinstance(parent, cst.WithItem) and parent.item is node
            called = (
                isinstance(parent, cst.Attribute)
                and parent.value is node
                and parent.attr.value in _LOCK_METHODS
                and isinstance(self.ctx.parent(parent), cst.Call)
            )
            if locked or called:
                uses.append(node)
            elif isinstance(parent, cst.Attribute) and parent.attr is node:
                continue  # `obj.lock` is another object's attribute
            else:
                return []  # passed, returned, stored, aliased...
        return uses


def _fresh(call: cst.Call, kind: str) -> bool:
    """A new lock of its own (a Condition over a given lock shares that lock)."""
    if kind != api.CONDITION:
        return True
    lock = argument(call, 0, "lock")
    return lock is None or is_none(lock)


@register
class ConditionWaitOutsideLoop(_LockRule):
    """
    ## What it does
    Flags `cond.wait()` without a timeout, on a `threading.Condition` (or
    `multiprocessing.Condition`), that is not inside a `while` (or `for`)
    loop of the same function.

    ## Why is this bad?
    `wait()` returning does not mean the condition you wait for is true:
    another thread woken by the same `notify_all()` may have consumed it
    first, the notifier may have notified for a different reason, and the
    platform may wake waiters spuriously. If the condition became true
    before `wait()` was called, the notification is lost and the thread
    waits forever. Re-check the predicate in a loop, under the lock.

    ## Example
    ```python
    with cond:
        if not items:
            cond.wait()
        item = items.pop()
    ```

    ## Use instead
    ```python
    with cond:
        while not items:
            cond.wait()
        item = items.pop()
    ```
    or `cond.wait_for(lambda: items)`.

    ## Fix
    With `--unsafe-fixes`, `if not pred:` whose whole body is the `wait()`
    (no `else`) becomes `while not pred:`. It is unsafe because the
    predicate is evaluated again, which changes behaviour if it has side
    effects.

    ## How to suppress
    `# noqa: TL303` on the `wait()` line.

    ## Known limits
    A `wait(timeout)` is not flagged: code waiting with a timeout must
    already cope with waking up while the predicate is false (the timeout
    may expire), and such waits are often interruptible sleeps. A condition
    made by a `multiprocessing` context or manager in a variable
    (`ctx.Condition(ctx.Lock())`) is known. Calls on objects of unknown type
    are checked only when named like a condition (`cond`, `condition`);
    `Event.wait()`, `Barrier.wait()` and `asyncio`
    conditions are not checked, nor is a condition inside `async def` whose
    declared type is a name the module binds to `asyncio.Condition` on some
    branch (`Condition = asyncio.Condition if ... else ...`), or whose
    `wait()` coroutine is awaited through another call
    (`await asyncio.wait_for(cond.wait(), t)`). A function whose body is
    only the `wait()`, or whose every call in the module is inside a loop,
    is not flagged.

    A loop counts only if it re-tests before acting: a wait under an `if`
    inside the loop (`while self.active: if self.paused: cond.wait()`)
    followed by more work in the loop body is flagged, since a spurious
    wake-up runs that work while the predicate is still false; `continue`
    after the wait, nothing after the `if`, or the same test again before
    the work (`if self.paused: continue`), goes back to the test.

    ## Why preview
    Judged strictly on 171 third-party packages (docs/precision.md), all 7
    sampled findings were false: each wait was the one wait of a handshake
    that cannot miss its notify (the waiter tests the predicate under the
    lock it keeps until the wait, and the only notifier must take that
    lock first), or a test of the `Condition` primitive itself. CPython's
    `Condition.wait()` does not wake spuriously, so a wait outside a loop
    goes wrong only with several waiters or a notifier that does not take
    the lock; the rule cannot see that yet, and stays in preview until it
    can.
    """

    code = "TL303"
    name = "condition-wait-outside-loop"
    summary = "`cond.wait()` outside a loop that re-checks the predicate"
    preview = True

    def visit_Call(self, node: cst.Call) -> None:
        receiver = method_call_on(node, ("wait",))
        if receiver is None or _awaited(self.ctx, node) or _has_timeout(node):
            return
        if not self.locks.is_condition(receiver, by_name=True):
            return
        if _in_async_def(self.ctx, node) and self.asyncio_alias(receiver):
            return
        if _loop_rechecks(self.ctx, node):
            return
        looping = _in_loop(self.ctx, node)
        function = self.ctx.enclosing_function(node)
        if function is not None and (
            _only_statement(function, node, self.ctx) or self._callers_loop(function)
        ):
            return
        cond = self.shown(receiver)
        where = (
            "is under an `if` whose enclosing loop goes on to other work without re-testing it"
            if looping
            else "is not in a loop re-checking what it waits for"
        )
        self.report(
            node,
            f"`{cond}.wait()` {where}: a wake-up can be "
            f"spurious or taken by another thread, and a notify sent before the wait is lost; "
            f"use `while not <predicate>: {cond}.wait()` or `{cond}.wait_for(<predicate>)`",
            fix=self._fix(node),
        )

    def _callers_loop(self, function: cst.FunctionDef) -> bool:
        sites = self.locks.call_sites(function)
        return bool(sites) and all(_in_loop(self.ctx, site) for site in sites or [])

    def _fix(self, call: cst.Call) -> Fix | None:
        """`if not pred:\\n    cond.wait()` -> `while not pred:` when the wait is the whole body."""
        statement = self.ctx.parent(call)
        line = self.ctx.parent(statement) if statement is not None else None
        if not isinstance(statement, cst.Expr) or line is None or len(getattr(line, "body", ())) != 1:
            return None
        body = self.ctx.parent(line) if isinstance(line, cst.SimpleStatementLine) else line
        if not isinstance(body, (cst.IndentedBlock, cst.SimpleStatementSuite)) or len(body.body) != 1:
            return None
        branch = self.ctx.parent(body)
        if not isinstance(branch, cst.If) or branch.orelse is not None:
            return None
        if isinstance(self.ctx.parent(branch), cst.If):
            return None  # an `elif`
        start = self.ctx.position(branch).start
        edit = Edit(start.line, start.column + 1, start.line, start.column + 3, "while")
        return Fix("re-check the predicate in a `while` loop", (edit,), safe=False)


def _has_timeout(call: cst.Call) -> bool:
    if any(arg.star for arg in call.args):
        return True
    timeout = argument(call, 0, "timeout")
    return timeout is not None and not is_none(timeout)


def _loop_rechecks(ctx: ModuleContext, call: cst.Call) -> bool:
    """The wait is in a loop that re-tests what it waits for before acting.

    A wait directly in a loop body goes back to the loop's test (or to the
    `if ...: break` that precedes it). A wait under an `if` inside the loop
    (`while self.active: if self.paused: self._wake.wait()` then work) is
    guarded only when nothing but `continue`/`pass` follows that `if` on the
    way back to the loop head: otherwise a spurious wake-up runs the work
    with the predicate still false, and no loop re-tests it.
    """
    conditional = False
    tests: list[str] = []  # the tests of the `if`s the wait is under
    child: cst.CSTNode = call
    for ancestor in ctx.ancestors(call):
        if isinstance(ancestor, _FUNCTIONS):
            return False
        if isinstance(ancestor, _LOOPS):
            return True
        if isinstance(ancestor, (cst.IndentedBlock, cst.SimpleStatementSuite)) and isinstance(
            ctx.parent(ancestor), (cst.If, cst.Else)
        ):
            conditional = True
            branch = ctx.parent(ancestor)
            if isinstance(branch, cst.If) and branch.body is ancestor:
                tests.append(_test_code(ctx, branch.test))
        if conditional and isinstance(ancestor, (cst.IndentedBlock, cst.SimpleStatementSuite)):
            statements = list(ancestor.body)
            if child in statements:
                rest = small_statements(statements[statements.index(child) + 1 :])
                for step in rest:
                    if isinstance(step, cst.Continue) or _retests(ctx, step, tests):
                        return _in_loop(ctx, ancestor)
                    if not _inert(step):
                        return False
        child = ancestor
    return False


def _retests(ctx: ModuleContext, step: cst.CSTNode, tests: list[str]) -> bool:
    """`if <the predicate waited for>: continue` (or break, return, raise)
    after the wait: it re-tests the predicate before the loop goes on."""
    return (
        isinstance(step, cst.If)
        and step.orelse is None
        and _test_code(ctx, step.test) in tests
        and always_leaves(step.body)
    )


def _test_code(ctx: ModuleContext, test: cst.BaseExpression) -> str:
    return " ".join(ctx.code_for(test).split())


def _inert(step: cst.CSTNode) -> bool:
    return isinstance(step, cst.Pass) or (
        isinstance(step, cst.Expr) and isinstance(step.value, (cst.SimpleString, cst.ConcatenatedString))
    )


def _in_loop(ctx: ModuleContext, node: cst.CSTNode) -> bool:
    for ancestor in ctx.ancestors(node):
        if isinstance(ancestor, _FUNCTIONS):
            return False
        if isinstance(ancestor, _LOOPS):
            return True
    return False


def _only_statement(function: cst.FunctionDef, call: cst.Call, ctx: ModuleContext) -> bool:
    """The function is a wrapper whose body is just this call (after a docstring)."""
    statements = small_statements(list(function.body.body))
    if statements and isinstance(statements[0], cst.Expr) and isinstance(
        statements[0].value, (cst.SimpleString, cst.ConcatenatedString)
    ):
        statements = statements[1:]
    if len(statements) != 1:
        return False
    only = statements[0]
    return isinstance(only, (cst.Expr, cst.Return)) and only.value is call


# Runtime errors of condition methods called without the lock.
_UNACQUIRED = {
    "wait": "cannot wait on un-acquired lock",
    "wait_for": "cannot wait on un-acquired lock",
    "notify": "cannot notify on un-acquired lock",
    "notify_all": "cannot notify on un-acquired lock",
    "notifyAll": "cannot notify on un-acquired lock",
}
_HELD_WORDS = ("held", "hold", "acquired", "owns", "owned", "locked")


@register
class ConditionUsedWithoutLock(_LockRule):
    """
    ## What it does
    Flags `cond.wait()`, `cond.wait_for()`, `cond.notify()` and
    `cond.notify_all()` on a `threading.Condition` (or
    `multiprocessing.Condition`) where its lock is not held: outside
    `with cond:`, not after `cond.acquire()`, and not in a helper that every
    caller in the module calls with the lock held.

    ## Why is this bad?
    A condition's methods must be called with its lock held; otherwise they
    raise `RuntimeError: cannot notify on un-acquired lock` (or `cannot wait
    on un-acquired lock`), often only on the rare path that runs them. The
    lock is also what makes the predicate check and the wait atomic:
    without it a notification can slip in between and be lost.

    ## Example
    ```python
    def put(self, item):
        with self._lock:
            self._items.append(item)
        self._not_empty.notify()
    ```

    ## Use instead
    ```python
    def put(self, item):
        with self._not_empty:
            self._items.append(item)
            self._not_empty.notify()
    ```

    A condition built on a lock (`Condition(self._mutex)`) is held when that
    lock is (`with self._mutex:`), and so is every other condition built on
    the same lock, as in `queue.Queue`.

    ## How to suppress
    `# noqa: TL308` on the call.

    ## Known limits
    The lock also counts as held inside `with self._locked():` when
    `_locked` is a `@contextmanager` of the module whose `yield` runs with
    it held (`with self._lock: yield`). A helper taking the condition as a
    parameter (`def _cond_wait(cond, timeout): return cond.wait(timeout)`)
    is checked at its callers in the module: it is flagged only if one of
    them passes a condition it does not hold (the message names that call);
    a private thin wrapper that its module never calls is left to the
    modules that import it. `asyncio` conditions behind a version-chosen
    alias are recognised as in TL303.

    Helpers are followed within the module only (`self.helper()` and plain
    function calls); a function whose callers are elsewhere is trusted when
    its name ends in `_locked`/`_unlocked` or its docstring says the lock
    must be held, or when a decorator named like a lock (`@synchronized`)
    wraps it. A function that calls `acquire()` on the condition (or its
    lock) anywhere is not checked, since manual locking across branches
    cannot be followed precisely. Objects of unknown type are not checked.
    """

    code = "TL308"
    name = "condition-used-without-lock"
    summary = "`wait()`/`notify()` on a Condition whose lock is not held"

    def visit_Call(self, node: cst.Call) -> None:
        receiver = method_call_on(node, tuple(_UNACQUIRED))
        if receiver is None or _awaited(self.ctx, node):
            return
        locks = self.locks
        if not locks.known_condition(receiver):
            return
        owner = _owner(self.ctx, node)
        if owner is None:
            return  # a lambda runs whenever its caller decides
        if _in_async_def(self.ctx, node) and self.asyncio_alias(receiver):
            return
        keys = locks.same_lock_keys(receiver)
        if locks.held_at(node, keys) or self._acquires_anywhere(owner, keys):
            return
        if self.held_through_context_manager(node, keys):
            return
        if isinstance(owner, cst.FunctionDef) and self._documented_as_locked(owner):
            return
        unheld_site: cst.Call | None = None
        if isinstance(owner, cst.FunctionDef) and self._parameter_index(owner, receiver) is not None:
            sites = locks.call_sites(owner)
            unheld_site = self._caller_without_lock(owner, receiver)
            if sites and unheld_site is None:
                return  # every caller in the module holds the condition it passes
            if sites == [] and owner.name.value.startswith("_") and _only_statement(owner, node, self.ctx):
                # A private thin wrapper that its own module never calls exists
                # for the package's other modules: holding is their job, and
                # they are checked when the project link follows calls.
                return
        assert isinstance(node.func, cst.Attribute)
        method = node.func.attr.value
        cond = locks.key(receiver)
        lock = locks.underlying_lock(receiver)
        holding = f"`{cond}`" + (f" (or its lock `{locks.key(lock)}`)" if lock is not None else "")
        creation = locks.creation(receiver)
        evidence = f" (a Condition, line {self.line(creation)})" if creation is not None else ""
        if unheld_site is not None:
            evidence += (
                f"; `{self.shown(unheld_site)}` (line {self.line(unheld_site)}) passes it "
                f"without holding it"
            )
        self.report(
            node,
            f"`{cond}.{method}()` is called without holding {holding}{evidence}: it raises "
            f"`RuntimeError: {_UNACQUIRED[method]}`; call it inside `with {cond}:`",
        )

    def _parameter_index(self, function: cst.FunctionDef, receiver: cst.BaseExpression) -> int | None:
        """The position of the parameter `receiver` names, counted as callers
        pass it (`self`/`cls` of a method not counted)."""
        if not isinstance(receiver, cst.Name):
            return None
        params = positional_params(function.params)
        if isinstance(self.ctx.enclosing_scope(function), cst.ClassDef) and params:
            params = params[1:]
        for index, param in enumerate(params):
            if param.name.value == receiver.value:
                return index
        return None

    def _caller_without_lock(self, function: cst.FunctionDef, receiver: cst.BaseExpression) -> cst.Call | None:
        """For a helper over a condition parameter (`def _cond_wait(cond, t):
        return cond.wait(t)`): the first call in the module that passes a
        condition it does not hold; None when every caller holds what it
        passes."""
        index = self._parameter_index(function, receiver)
        assert isinstance(receiver, cst.Name) and index is not None
        for site in self.locks.call_sites(function) or []:
            passed = argument(site, index, receiver.value)
            if passed is None:
                continue
            if not (
                self.locks.held_at(site, self.locks.same_lock_keys(passed))
                or self.held_through_context_manager(site, self.locks.same_lock_keys(passed))
            ):
                return site
        return None

    def _acquires_anywhere(self, owner: cst.CSTNode, keys: set[str]) -> bool:
        for call in self.locks.calls_in(owner):
            receiver = method_call_on(call, ("acquire", "__enter__"))
            if receiver is not None and self.locks.same_lock_keys(receiver) & keys:
                return True
        return False

    def _documented_as_locked(self, function: cst.FunctionDef) -> bool:
        name = function.name.value.lower()
        if name.endswith(("_locked", "_unlocked", "_nolock", "_no_lock")):
            return True
        for decorator in function.decorators:
            target = decorator.decorator
            if isinstance(target, cst.Call):
                target = target.func
            called = target.attr.value if isinstance(target, cst.Attribute) else (
                target.value if isinstance(target, cst.Name) else ""
            )
            if "lock" in called.lower() or "synchronized" in called.lower():
                return True
        docstring = function.get_docstring()
        if docstring:
            text = docstring.lower()
            return "lock" in text and any(word in text for word in _HELD_WORDS)
        return False
