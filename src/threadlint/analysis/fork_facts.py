"""What TL402 needs to know about one module: where it forks, and which of
its threads keep running after the code that started them returns.

A *fork site* is a call that copies the process with `fork()`: `os.fork()`,
`os.forkpty()`, `pty.fork()`, `subprocess` with a `preexec_fn` (the child
runs Python before it execs), and the `multiprocessing` forms that fork
when the start method is `fork` (`Process.start()`, `Pool()`, `Manager()`,
`ProcessPoolExecutor()`).  Those last depend on the start method: an
explicit `get_context("fork")` forks on every version (`ALWAYS`), the
default forks on Linux before Python 3.14 (`DEFAULT`), and a `spawn` or
`forkserver` context does not fork at all (not a site).

Each function (and the module body) is read once in source order: a thread
started before a fork site and not joined or stopped between the two is
alive at the fork (`ForkSite.local`).  Threads still running when their
function ends are `LiveThread`s: started at import, kept on `self`, or
left running by a helper; the project link (`rules/forking.py`) decides
which of them run when another function forks.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Callable, Union

import libcst as cst

from threadlint.analysis import lifecycle_facts as lf
from threadlint.analysis import threading_api as api
from threadlint.analysis.calls import argument
from threadlint.analysis.context import (
    ModuleContext,
    dotted_name,
    import_bindings,
    import_from_prefix,
    is_none,
)
from threadlint.analysis.per_file import register_collector
from threadlint.analysis.spawn import find_spawn
from threadlint.analysis.stop_protocol import is_stop_name
from threadlint.analysis.summaries import qualified_id
from threadlint.analysis.walk import children, descendants
from threadlint.config import Settings
from threadlint.printable import shortened

ALWAYS = "always"  # forks whatever the start method
DEFAULT = "default"  # forks when multiprocessing's default start method is fork

_OS_FORKS = frozenset({"os.fork", "os.forkpty", "pty.fork", "posix.fork", "posix.forkpty"})
_SUBPROCESS_CALLS = frozenset(
    {
        "subprocess.Popen",
        "subprocess.run",
        "subprocess.call",
        "subprocess.check_call",
        "subprocess.check_output",
        "asyncio.create_subprocess_exec",
        "asyncio.create_subprocess_shell",
    }
)
_PROCESS_TYPES = frozenset(
    {"multiprocessing.Process", "multiprocessing.context.Process", "multiprocessing.process.BaseProcess"}
)
# Made with the default context unless a context is passed: (keyword of the context).
_POOL_TYPES = {
    "multiprocessing.Pool": "context",
    "multiprocessing.pool.Pool": "context",
    "multiprocessing.Manager": "",
    "concurrent.futures.ProcessPoolExecutor": "mp_context",
    "concurrent.futures.process.ProcessPoolExecutor": "mp_context",
}
_CONTEXT_FACTORIES = frozenset({"multiprocessing.get_context", "multiprocessing.context.get_context"})
# Methods of a multiprocessing context that fork with the context's start method.
_CONTEXT_FORKS = frozenset({"Process", "Pool", "Manager"})
_NON_FORK_METHODS = frozenset({"spawn", "forkserver"})
# Child-side calls that replace the forked Python program with another one.
_EXEC_PREFIXES = ("os.exec", "posix.exec")
# Threads named per fork site: enough for the link to find one that is real.
_KEPT = 4

Unit = Union[cst.FunctionDef, cst.Module]


@dataclass(frozen=True)
class LiveThread:
    """A thread, timer or thread pool still running when the code that started it returns."""

    label: str  # the thread as written: `self._t`, `Thread(target=poll)`, `_executor`
    what: str  # "thread", "daemon thread", "timer", "thread pool"
    unit: str  # the id of the function (or `<module>`) that starts it
    line: int
    # It is kept on `self` (`self.label`) by this class.
    cls: str = ""
    # Started by the module body as it is imported (not under the main guard).
    at_import: bool = False
    # `start()` of an object of this project class (absolute dotted name):
    # a thread when the class derives from `threading.Thread` (the link decides).
    thread_class: str = ""
    # A thread pool made at module level: the line of a `submit` (or `map`)
    # to it, from which on its workers run until exit.
    module_pool: int = 0


@dataclass(frozen=True)
class ForkSite:
    unit: str  # the id of the function (or `<module>`) the call is in
    api: str  # what forks, as a message names it: "`os.fork()`"
    form: str  # ALWAYS or DEFAULT
    line: int
    col: int  # 1-based
    end_line: int
    end_col: int
    # `.start()` of an object of this project class (absolute dotted name):
    # a fork when the class derives from `multiprocessing.Process`.
    process_class: str = ""
    preexec: str = ""  # the `preexec_fn` as written, for the remedy
    # Threads started earlier in the same function and not joined before the fork.
    local: tuple[LiveThread, ...] = ()
    # The line of the last join or stop-like call before the fork in its
    # function (0: none): what was started before it may have ended.
    ended_line: int = 0


@dataclass(frozen=True)
class ForkFacts:
    module: str
    forks: tuple[ForkSite, ...]
    threads: tuple[LiveThread, ...]
    # `multiprocessing.set_start_method(...)` calls: (the method, or "?" when
    # not a literal, line).
    start_methods: tuple[tuple[str, int], ...]
    # Absolute dotted names of everything it imports, in any scope.
    imports: tuple[str, ...]
    # The lines of `if __name__ == "__main__":` blocks: (first, last).
    main_guards: tuple[tuple[int, int], ...] = ()
    # `os.register_at_fork(before=...)` calls: the module prepares its own
    # threads for a fork (stops them, or takes the locks they use).
    fork_hooks: tuple[int, ...] = ()


@register_collector("fork")
def collect_forks(ctx: ModuleContext, settings: Settings) -> ForkFacts:
    module = ctx.module_name
    collector = _Collector(ctx)
    units: list[Unit] = [ctx.module]
    units.extend(node for node in ctx.parents if isinstance(node, cst.FunctionDef))
    for unit in units:
        collector.walk(unit)
    return ForkFacts(
        module=module,
        forks=tuple(collector.forks),
        threads=tuple(collector.threads),
        start_methods=tuple(collector.start_methods),
        imports=tuple(sorted(_imported_names(ctx))),
        main_guards=tuple(collector.main_guards),
        fork_hooks=tuple(collector.fork_hooks),
    )


def _imported_names(ctx: ModuleContext) -> set[str]:
    path = ctx.path.replace("\\", "/")
    is_package = path.endswith("/__init__.py") or path == "__init__.py"
    package = ctx.module_name if is_package else ctx.module_name.rpartition(".")[0]
    names: set[str] = set()
    for node in ctx.parents:
        if isinstance(node, (cst.Import, cst.ImportFrom)):
            names.update(import_bindings(node, package).values())
            if isinstance(node, cst.Import):
                names.update(filter(None, (dotted_name(alias.name) for alias in node.names)))
            else:
                prefix = import_from_prefix(node, package)
                if prefix and not prefix.startswith("."):
                    names.add(prefix)
    return {name for name in names if not name.startswith(".")}



class _Collector:
    def __init__(self, ctx: ModuleContext) -> None:
        self.ctx = ctx
        self.forks: list[ForkSite] = []
        self.threads: list[LiveThread] = []
        self.start_methods: list[tuple[str, int]] = []
        self.main_guards: list[tuple[int, int]] = []
        self.fork_hooks: list[int] = []
        self.pools: set[str] = set()  # module-level thread pools already recorded

    # -- one function in source order ----------------------------------------

    def walk(self, unit: Unit) -> None:
        ctx = self.ctx
        unit_id = (
            f"{ctx.module_name}.<module>"
            if isinstance(unit, cst.Module)
            else qualified_id(ctx, unit, ctx.module_name)
        )
        alive: list[tuple[LiveThread, bool]] = []  # (thread, may outlive the unit)
        ended_line = 0
        for node, leaving in _in_order(unit):
            if leaving:
                if isinstance(node, cst.With) and self._joins_executor(node):
                    # Leaving `with ThreadPoolExecutor() as pool:` joins its workers.
                    alive.clear()
                    ended_line = self._line(node.items[0].item)
                continue
            if isinstance(node, cst.If) and isinstance(unit, cst.Module) and lf.is_main_test(node.test):
                self.main_guards.append((self._line(node), self._last_line(node)))
                continue
            if not isinstance(node, cst.Call):
                continue
            self._start_method(node)
            started = self._thread_start(node, unit, unit_id)
            if started is not None:
                alive.append(started)
                if not started[0].thread_class:
                    continue  # else it may start a process instead: a fork site
            elif self._ends_threads(node):
                alive.clear()
                ended_line = self._line(node)
                continue
            site = self._fork_site(node, unit_id)
            if site is not None:
                local = tuple(thread for thread, _ in alive if thread.line < site.line)[:_KEPT]
                self.forks.append(
                    ForkSite(
                        site.unit, site.api, site.form, site.line, site.col, site.end_line,
                        site.end_col, site.process_class, site.preexec, local, ended_line,
                    )
                )
        self.threads.extend(thread for thread, lives_on in alive if lives_on)

    def _line(self, node: cst.CSTNode) -> int:
        return self.ctx.position(node).start.line

    def _last_line(self, node: cst.If) -> int:
        return self.ctx.position(node).end.line

    # -- threads -------------------------------------------------------------------

    def _thread_start(
        self, call: cst.Call, unit: Unit, unit_id: str
    ) -> tuple[LiveThread, bool] | None:
        """A thread this call starts, and whether it may keep running once the
        unit returns (a thread pool held only by a local is reclaimed with it)."""
        ctx = self.ctx
        func = call.func
        receiver: cst.BaseExpression | None = None
        what = ""
        if isinstance(func, cst.Attribute) and func.attr.value == "start" and not call.args:
            kind = ctx.kind_of(func.value)
            if kind in api.THREAD_KINDS:
                receiver = func.value
                what = "timer" if kind == api.TIMER else self._thread_word(func.value)
        elif ctx.qualname(func) in ("_thread.start_new_thread", "_thread.start_new"):
            return self._live(unit, unit_id, "`_thread.start_new_thread(...)`", "thread", call), True
        else:
            spawn = find_spawn(ctx, call)
            if (
                spawn is not None
                and spawn.confident
                and spawn.api.startswith(("executor.", "pool."))
                and isinstance(func, cst.Attribute)
            ):
                receiver = func.value
                what = "thread pool"
        thread_class = ""
        if receiver is None and isinstance(func, cst.Attribute) and func.attr.value == "start":
            project_class = self._process_start(func.value) if not call.args else None
            if project_class is None or not project_class[1]:
                return None
            receiver, what, thread_class = func.value, "thread", project_class[1]
        if receiver is None:
            return None
        label = f"`{shortened(ctx.code_for(receiver))}`"
        thread = self._live(unit, unit_id, label, what, call, receiver, thread_class)
        lives_on = what != "thread pool" or not isinstance(receiver, cst.Name) or (
            isinstance(unit, cst.Module) or not self._local(receiver.value, unit)
        )
        if what == "thread pool" and isinstance(receiver, cst.Name) and lives_on:
            self._module_pool(receiver, call)
        return thread, lives_on

    def _local(self, name: str, unit: Unit) -> bool:
        """A variable of the function, not a global it uses."""
        return name in self.ctx.bindings.get(unit, {}) and name not in self.ctx.globals_declared.get(
            unit, set()
        )

    def _module_pool(self, receiver: cst.Name, submit: cst.Call) -> None:
        """A thread pool made at module level: once a task is submitted, its
        workers live until the program exits."""
        ctx = self.ctx
        if receiver.value in self.pools:
            return
        made = [
            b.value
            for b in ctx.bindings.get(ctx.module, {}).get(receiver.value, [])
            if isinstance(b.value, cst.Call) and ctx.kind_of(b.value) in api.THREAD_EXECUTOR_KINDS
        ]
        if not made:
            return
        self.pools.add(receiver.value)
        self.threads.append(
            LiveThread(
                f"`{receiver.value}`",
                "thread pool",
                f"{ctx.module_name}.<module>",
                self._line(made[0]),
                module_pool=self._line(submit),
            )
        )

    def _live(
        self,
        unit: Unit,
        unit_id: str,
        label: str,
        what: str,
        call: cst.Call,
        receiver: cst.BaseExpression | None = None,
        thread_class: str = "",
    ) -> LiveThread:
        ctx = self.ctx
        cls = ""
        if (
            isinstance(receiver, cst.Attribute)
            and isinstance(receiver.value, cst.Name)
            and receiver.value.value == "self"
            and isinstance(unit, cst.FunctionDef)
        ):
            owner = ctx.enclosing_class(call)
            if owner is not None:
                cls = qualified_id(ctx, owner, ctx.module_name)
        at_import = isinstance(unit, cst.Module) and not lf.is_main_guard(ctx, call)
        return LiveThread(label, what, unit_id, self._line(call), cls, at_import, thread_class)

    def _thread_word(self, receiver: cst.BaseExpression) -> str:
        """"daemon thread" when every visible creation of it makes a daemon."""
        ctx = self.ctx
        creations: list[cst.BaseExpression | None] = []
        if isinstance(receiver, cst.Call):
            creations = [receiver]
        elif isinstance(receiver, cst.Name):
            creations = [b.value for b in ctx.bindings_of(receiver.value, receiver)]
        elif isinstance(receiver, cst.Attribute):
            creations = [b.value for b in ctx.self_attr_bindings(receiver) or []]
        made = [c for c in creations if isinstance(c, cst.Call)]
        if made and all(lf.constructor_daemon(ctx, c) for c in made):
            return "daemon thread"
        return "thread"

    def _ends_threads(self, call: cst.Call) -> bool:
        """A join, a shutdown, or any stop-like call: what was started may have
        ended (precision first: the rule does not try to tell which)."""
        func = call.func
        if isinstance(func, cst.Attribute):
            method = func.attr.value
            if method == "join":
                return _thread_join_arguments(call) and not isinstance(
                    func.value, (cst.SimpleString, cst.FormattedString, cst.ConcatenatedString)
                )
            return is_stop_name(method)
        return self.ctx.qualname(func) == "concurrent.futures.wait"

    def _joins_executor(self, node: cst.With) -> bool:
        return any(
            isinstance(item.item, cst.Call)
            and self.ctx.kind_of(item.item) in api.THREAD_EXECUTOR_KINDS
            for item in node.items
        )

    # -- start methods and fork hooks -------------------------------------------

    def _start_method(self, call: cst.Call) -> None:
        func = call.func
        name = func.attr.value if isinstance(func, cst.Attribute) else (
            func.value if isinstance(func, cst.Name) else ""
        )
        if name == "register_at_fork" and _keyword(call, "before") is not None:
            self.fork_hooks.append(self._line(call))
        if name != "set_start_method":
            return
        method = argument(call, 0, "method")
        value = _string(method)
        self.start_methods.append((value if value is not None else "?", self._line(call)))

    # -- fork sites ----------------------------------------------------------------

    def _fork_site(self, call: cst.Call, unit_id: str) -> ForkSite | None:
        ctx = self.ctx
        qualified = ctx.qualname(call.func) or ""
        found: tuple[str, str] | None = None
        process_class = preexec = ""
        if qualified in _OS_FORKS:
            if self._child_execs(call):
                return None
            found = (f"`{qualified}()`", ALWAYS)
        elif qualified in _SUBPROCESS_CALLS:
            value = _keyword(call, "preexec_fn")
            if value is None or is_none(value):
                return None
            preexec = shortened(ctx.code_for(value))
            found = (f"`{qualified}(..., preexec_fn={preexec})`", ALWAYS)
        elif qualified in _POOL_TYPES:
            keyword = _POOL_TYPES[qualified]
            context = _keyword(call, keyword) if keyword else None
            form = DEFAULT if context is None or is_none(context) else self._context_form(context)
            if form is not None:
                found = (f"`{qualified}()`", form)
        elif isinstance(call.func, cst.Attribute) and call.func.attr.value in _CONTEXT_FORKS - {"Process"}:
            form = self._context_form(call.func.value)
            if form is not None:
                found = (f"`{shortened(ctx.code_for(call.func))}()`", form)
        elif isinstance(call.func, cst.Attribute) and call.func.attr.value == "start" and not call.args:
            started = self._process_start(call.func.value)
            if started is not None:
                form, process_class = started
                found = (f"`{shortened(ctx.code_for(call))}`", form)
        if found is None:
            return None
        position = ctx.position(call)
        return ForkSite(
            unit_id,
            found[0],
            found[1],
            position.start.line,
            position.start.column + 1,
            position.end.line,
            position.end.column + 1,
            process_class,
            preexec,
        )

    def _process_start(self, receiver: cst.BaseExpression) -> tuple[str, str] | None:
        """(form, project class) when `receiver.start()` starts a multiprocessing
        process: made by `multiprocessing.Process(...)`, a context's
        `Process(...)`, or a project class (the link decides whether it is a
        Process subclass)."""
        ctx = self.ctx
        if ctx.kind_of(receiver) is not None:
            return None  # a thread, an executor...
        if isinstance(receiver, cst.Call):
            creations: list[cst.BaseExpression | None] = [receiver]
        elif isinstance(receiver, cst.Name):
            creations = [b.value for b in ctx.bindings_of(receiver.value, receiver)]
        elif isinstance(receiver, cst.Attribute):
            found = ctx.self_attr_bindings(receiver)
            creations = [b.value for b in found or []]
        else:
            return None
        made = [c for c in creations if not is_none(c)]
        if not made or not all(isinstance(c, cst.Call) for c in made):
            return None
        answers: set[tuple[str, str]] = set()
        for creation in made:
            assert isinstance(creation, cst.Call)
            answer = self._process_creation(creation)
            if answer is None:
                return None
            answers.add(answer)
        return answers.pop() if len(answers) == 1 else None

    def _process_creation(self, creation: cst.Call) -> tuple[str, str] | None:
        ctx = self.ctx
        func = creation.func
        qualified = ctx.qualname(func) or ""
        if qualified in _PROCESS_TYPES:
            return DEFAULT, ""
        if isinstance(func, cst.Attribute) and func.attr.value == "Process":
            form = self._context_form(func.value)
            return (form, "") if form is not None else None
        if not isinstance(func, (cst.Name, cst.Attribute)) or not qualified:
            return None
        local = ctx.classes_by_name.get(qualified)
        if local is not None:
            return DEFAULT, qualified_id(ctx, local, ctx.module_name)
        written = dotted_name(func) or ""
        if written.partition(".")[0] in ctx.imports:
            return DEFAULT, qualified
        return None

    def _context_form(self, expr: cst.BaseExpression, depth: int = 0) -> str | None:
        """ALWAYS for a `get_context("fork")` context, DEFAULT for the default
        one, None for spawn, forkserver, or a context not visible here."""
        ctx = self.ctx
        if depth > 4:
            return None
        if isinstance(expr, cst.Call):
            if (ctx.qualname(expr.func) or "") not in _CONTEXT_FACTORIES:
                return None
            method = argument(expr, 0, "method")
            if method is None or is_none(method):
                return DEFAULT
            value = _string(method)
            if value == "fork":
                return ALWAYS
            return None
        if isinstance(expr, cst.Name):
            if ctx.qualname(expr) == "multiprocessing":
                return DEFAULT  # `multiprocessing.Pool` through the module itself
            values = [b.value for b in ctx.bindings_of(expr.value, expr)]
        elif isinstance(expr, cst.Attribute):
            values = [b.value for b in ctx.self_attr_bindings(expr) or []]
        else:
            return None
        forms = {
            self._context_form(v, depth + 1) if v is not None else None
            for v in values
            if not is_none(v)
        }
        return forms.pop() if len(forms) == 1 else None

    def _child_execs(self, call: cst.Call) -> bool:
        """The child branch of the fork (`if pid == 0:`) execs another program
        (the copied locks die with the copied Python program) or only exits."""
        ctx = self.ctx
        pid = _assigned_pid(ctx, call)
        if pid is None:
            # `if os.fork() == 0:` / `if not os.fork():`
            for ancestor in ctx.ancestors(call):
                if isinstance(ancestor, cst.If) and lf.is_inside(ctx, call, ancestor.test):
                    return self._execs(_child_branch(ctx, ancestor, lambda e: e is call))
            return False
        statement = _statement_of(ctx, call)
        block = ctx.parent(statement) if statement is not None else None
        if not isinstance(block, (cst.IndentedBlock, cst.Module)) or statement is None:
            return False
        body: list[cst.CSTNode] = list(block.body)
        for following in body[body.index(statement) + 1 :]:
            if isinstance(following, cst.If) and _names(following.test, pid):
                return self._execs(_child_branch(ctx, following, lambda e: dotted_name(e) == pid))
        return False

    def _execs(self, nodes: list[cst.CSTNode] | None) -> bool:
        """The child execs another program, or makes only system calls
        (`os.write`, `os.close`, `os._exit`): no Python code of its own
        takes a lock that another thread may have held."""
        if nodes is None:
            return False
        names = [
            self.ctx.qualname(call.func) or ""
            for node in nodes
            for call in descendants(node)
            if isinstance(call, cst.Call)
        ]
        return any(name.startswith(_EXEC_PREFIXES) for name in names) or (
            bool(names) and all(name.startswith("os.") for name in names)
        )


def _thread_join_arguments(call: cst.Call) -> bool:
    """`t.join()`, `t.join(1.0)`, `t.join(timeout=t)`: a thread's join, not
    `", ".join(items)` (one positional argument that is no number)."""
    positional = [a for a in call.args if a.keyword is None]
    if not positional:
        return True
    if len(positional) > 1 or positional[0].star:
        return False
    return isinstance(positional[0].value, (cst.Integer, cst.Float)) or (
        isinstance(positional[0].value, cst.Name) and "time" in positional[0].value.value.lower()
    )


def _keyword(call: cst.Call, name: str) -> cst.BaseExpression | None:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == name:
            return arg.value
    return None


def _string(expr: cst.BaseExpression | None) -> str | None:
    if isinstance(expr, cst.SimpleString):
        value = expr.evaluated_value
        return value if isinstance(value, str) else None
    return None


def _in_order(unit: Unit) -> Iterator[tuple[cst.CSTNode, bool]]:
    """The unit's own nodes in source order, each entered (False) and left
    (True); nested functions, lambdas and classes are their own units."""
    start = unit.body if isinstance(unit, cst.FunctionDef) else unit
    stack: list[tuple[cst.CSTNode, bool]] = [(start, False)]
    while stack:
        node, leaving = stack.pop()
        yield node, leaving
        if leaving:
            continue
        stack.append((node, True))
        below = [
            child
            for child in children(node)
            if not isinstance(child, (cst.FunctionDef, cst.Lambda, cst.ClassDef))
        ]
        stack.extend((child, False) for child in reversed(below))


def _assigned_pid(ctx: ModuleContext, call: cst.Call) -> str | None:
    """`pid` in `pid = os.fork()`, `pid, fd = pty.fork()`, `self.pid = os.fork()`."""
    parent = ctx.parent(call)
    if not (isinstance(parent, cst.Assign) and parent.value is call and len(parent.targets) == 1):
        return None
    target: cst.BaseExpression = parent.targets[0].target
    if isinstance(target, cst.Tuple) and target.elements:
        target = target.elements[0].value
    return dotted_name(target)


def _statement_of(ctx: ModuleContext, node: cst.CSTNode) -> cst.CSTNode | None:
    current: cst.CSTNode = node
    for ancestor in ctx.ancestors(node):
        if isinstance(ancestor, (cst.IndentedBlock, cst.Module)):
            return current
        current = ancestor
    return None


def _names(test: cst.BaseExpression, name: str) -> bool:
    return any(
        isinstance(node, (cst.Name, cst.Attribute)) and dotted_name(node) == name
        for node in [test, *descendants(test)]
    )


def _child_branch(
    ctx: ModuleContext, node: cst.If, is_pid: Callable[[cst.BaseExpression], bool]
) -> list[cst.CSTNode] | None:
    """The statements the child runs: the body of `if pid == 0:` / `if not
    pid:`; the `else` of `if pid:` / `if pid > 0:` / `if pid != 0:`, or what
    follows the `if` when the parent's branch leaves (`return`, `os._exit`)."""
    test = node.test
    child_in_body: bool | None = None
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        if is_pid(test.expression):
            child_in_body = True
    elif is_pid(test):
        child_in_body = False
    elif isinstance(test, cst.Comparison) and len(test.comparisons) == 1:
        target = test.comparisons[0]
        left, right = test.left, target.comparator
        other = right if is_pid(left) else left if is_pid(right) else None
        zero = other is not None and (
            (isinstance(other, cst.Integer) and other.value == "0")
            or (isinstance(other, cst.Attribute) and other.attr.value == "CHILD")
        )
        if zero and isinstance(target.operator, (cst.Equal, cst.Is)):
            child_in_body = True
        elif zero and isinstance(target.operator, (cst.NotEqual, cst.IsNot, cst.GreaterThan)):
            child_in_body = False
    if child_in_body is None:
        return None
    if child_in_body:
        return [node.body]
    if node.orelse is not None:
        return [node.orelse]
    block = ctx.parent(node)
    if not _leaves(ctx, node.body) or not isinstance(block, (cst.IndentedBlock, cst.Module)):
        return None
    body: list[cst.CSTNode] = list(block.body)
    return body[body.index(node) + 1 :]


def _leaves(ctx: ModuleContext, body: cst.BaseSuite) -> bool:
    """The block ends by leaving the function or the process."""
    if not isinstance(body, cst.IndentedBlock) or not body.body:
        return False
    last = body.body[-1]
    if not isinstance(last, cst.SimpleStatementLine) or not last.body:
        return False
    step = last.body[-1]
    if isinstance(step, (cst.Return, cst.Raise)):
        return True
    return (
        isinstance(step, cst.Expr)
        and isinstance(step.value, cst.Call)
        and ctx.qualname(step.value.func) in ("os._exit", "sys.exit")
    )
