"""TL402: forking a process while threads of the project run.

The per-file stage (`analysis/fork_facts.py`) finds the fork sites and the
threads each function leaves running; this project rule decides, with the
concurrency model's call resolution (`project_model`), which threads are
alive at each fork site:

1. a thread started earlier in the same function and not yet joined;
2. a thread left running by a call made earlier in the same function (a
   constructor or `start()` that keeps a thread on its object, a helper
   that starts one and returns);
3. a thread that the forking method's own object keeps running (stored on
   `self` and started in `__init__`, `__enter__` or a `start` method);
4. a thread started while a module is imported, when the forking module
   imports it (directly or through other modules of the project): a
   program that never imports it never runs that thread; and the workers
   of a module-level thread pool of the forking module that it submits to;
5. the fork itself runs on threads started several at a time.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from threadlint.analysis import fork_facts as ff
from threadlint.analysis.per_file import FileResult
from threadlint.analysis.state_api import CONSTRUCTION
from threadlint.config import Settings, target_version
from threadlint.diagnostics import Diagnostic
from threadlint.facts import Call
from threadlint.project_model import Model, project_model
from threadlint.rules.base import ProjectRule, register

_THREAD_BASES = frozenset({"threading.Thread", "threading.Timer"})
_PROCESS_BASES = frozenset(
    {"multiprocessing.Process", "multiprocessing.context.Process", "multiprocessing.process.BaseProcess"}
)
# Methods that start what an object keeps running for the rest of its life.
_STARTING_METHODS = frozenset({"__init__", "__enter__", "__aenter__"})


@dataclass(frozen=True)
class _Alive:
    """Why a thread runs at a fork site, in the message's words."""

    thread: ff.LiveThread
    started: str  # where it was started: "line 12", "`Worker.__init__` (pkg/w.py:40)"
    why: str  # why it is still running at the fork


@register
class ForkWhileThreadsRunning(ProjectRule):
    """
    ## What it does
    Flags a call that forks the process while a thread the project started
    may be running: `os.fork()`, `os.forkpty()`, `pty.fork()`, `subprocess`
    with a `preexec_fn`, and `multiprocessing` with the `fork` start method
    (`Process.start()`, `Pool()`, `Manager()`, `ProcessPoolExecutor()`), which
    is the default on Linux before Python 3.14.

    A thread is taken to be running at the fork when it was started earlier
    in the same function and not joined (or stopped) before the fork; when a
    call made earlier in that function leaves one running (a constructor or
    `start()` that keeps a thread on its object, a helper that starts one
    and returns); when the forking method's object keeps one running (stored
    on `self` and started in `__init__`, `__enter__` or a `start` method);
    when a module the forking module imports, directly or through other
    modules of the project, starts one at import; when the forking module
    makes a thread pool at module level and submits tasks to it; or when
    the fork itself runs on threads started several at a time. The message
    names the thread and where it was started.

    ## Why is this bad?
    `fork()` copies the whole memory of the process, every lock included,
    but only the thread that called it. A lock that another thread held at
    that moment (the logging module's, a buffered file's, the import lock,
    a C library's DNS or allocator mutex) is copied locked, and no thread of
    the child will ever release it: the child hangs forever the first time
    it takes it. This happens at random, under load, and is very hard to
    debug; CPython 3.12+ warns about it (`DeprecationWarning: This process
    is multi-threaded, use of fork() may lead to deadlocks in the child`).

    ## Example
    ```python
    import multiprocessing, threading

    class Worker:
        def __init__(self, scheduler):
            self._pinger = threading.Thread(target=scheduler.ping_forever, daemon=True)
            self._pinger.start()

        def run_task(self, task):
            p = multiprocessing.Process(target=task.run)
            p.start()  # forks while `self._pinger` may hold a lock
    ```

    ## Use instead
    Start child processes without `fork`, from a `spawn` or `forkserver`
    context (the default on Linux from Python 3.14):
    ```python
    ctx = multiprocessing.get_context("spawn")  # or "forkserver"

    def run_task(self, task):
        p = ctx.Process(target=task.run)
        p.start()
    ```
    `ProcessPoolExecutor(mp_context=multiprocessing.get_context("spawn"))`
    does the same for an executor, and `multiprocessing.set_start_method(...)`
    for the whole program. Instead of a `preexec_fn`, use the `subprocess`
    arguments that do the same work without running Python in the child:
    `start_new_session=True`, `process_group=` (3.11+), `user=`, `group=`,
    `extra_groups=` and `umask=` (3.9+). A bare `os.fork()` is safe when the
    child execs at once (`if pid == 0: os.execv(...)`), or when it happens
    before any thread starts.

    ## How to suppress
    `# noqa: TL402` on the line of the fork call.

    ## Known limits
    Only threads the project starts are seen: threads started inside other
    libraries (a tracing client, a WebSocket client, a database driver's
    pool) are invisible, so forks in programs that run such threads go
    unreported. A fork is judged by what runs in the same program: the
    threads of modules it imports, of its own object and of the calls made
    before it in its function, not of callers further up. Modules the
    project analyses only when they use a concurrency API (or fork) carry
    the imports between them; a chain of imports through a module that
    does neither is not followed. A join or any stop-like call (`stop()`,
    `close()`, `shutdown()`) between the start and the fork is taken to end
    the threads started before it.

    The `multiprocessing` forms are not reported when the target version
    (`target-version`, else `requires-python`) is 3.14 or later, nor when a
    module of the same program (one that imports the forking module or is
    imported by it) calls `multiprocessing.set_start_method()` with
    anything but `"fork"`.
    """

    code = "TL402"
    name = "fork-while-threads-running"
    summary = "The process forks while a thread the project started may be running: the child can deadlock"
    preview = True

    def check(self, project: object, settings: Settings) -> Iterable[Diagnostic]:
        results: Sequence[FileResult] = project  # type: ignore[assignment]
        facts: dict[str, ff.ForkFacts] = {}
        paths: dict[str, str] = {}
        for result in results:
            found = result.facts.get("fork") if result.facts else None
            if isinstance(found, ff.ForkFacts):
                facts[found.module] = found
                paths[found.module] = result.path
        if not any(f.forks for f in facts.values()):
            return []
        judge = _Judge(project_model(results, settings), facts, paths, settings)
        return [d for module in sorted(facts) for d in judge.module(module)]


class _Judge:
    def __init__(
        self,
        model: Model,
        facts: dict[str, ff.ForkFacts],
        paths: dict[str, str],
        settings: Settings,
    ) -> None:
        self.model = model
        self.facts = facts
        self.paths = paths
        self.settings = settings
        self.version = target_version(settings)
        self.subclasses: dict[str, list[str]] = {}
        for cid, cls in model.classes.items():
            for base in cls.bases:
                resolved = model.resolve(base)[1]
                if resolved is not None:
                    self.subclasses.setdefault(resolved, []).append(cid)
        self.imports = _ImportGraph(facts)
        # Threads still running when the function that started them returns.
        self.starters: dict[str, ff.LiveThread] = {}
        for module_facts in facts.values():
            for thread in module_facts.threads:
                if not thread.unit.endswith(".<module>") and self._real(thread):
                    self.starters.setdefault(thread.unit, thread)
        self._import_threads: dict[str, list[tuple[ff.LiveThread, int]]] = {}

    # -- one module --------------------------------------------------------------

    def module(self, module: str) -> Iterable[Diagnostic]:
        for site in self.facts[module].forks:
            form = self._form(site, module)
            if form is None:
                continue
            alive = self._alive(site, module)
            if alive is None:
                continue
            yield Diagnostic(
                self.paths[module],
                site.line,
                site.col,
                ForkWhileThreadsRunning.code,
                self._message(site, form, alive),
                site.end_line,
                site.end_col,
            )

    def _form(self, site: ff.ForkSite, module: str) -> str | None:
        """ALWAYS or DEFAULT when the site forks in this program, else None."""
        if site.process_class:
            owner = self.model.resolve(site.process_class)[1]
            if owner is None or not self.model.derives(owner, _PROCESS_BASES):
                return None
        if site.form == ff.ALWAYS:
            return ff.ALWAYS
        methods = {
            method
            for related in self.imports.related(module)
            for method, _ in self.facts[related].start_methods
        }
        if methods - {"fork"}:
            return None  # the program picks spawn or forkserver (or we cannot tell)
        if "fork" in methods:
            return ff.ALWAYS
        if self.version is not None and self.version >= (3, 14):
            return None  # forkserver is the default on Linux from 3.14
        return ff.DEFAULT

    # -- which thread runs ---------------------------------------------------------

    def _alive(self, site: ff.ForkSite, module: str) -> _Alive | None:
        for thread in site.local:
            if self._real(thread) and not self._prepared(thread):
                return _Alive(thread, f"at line {thread.line}", "not joined before the fork")
        return (
            self._left_running(site)
            or self._kept_by_object(site)
            or self._started_at_import(site, module)
            or self._on_threads(site, module)
        )

    def _left_running(self, site: ff.ForkSite) -> _Alive | None:
        function = self.model.functions.get(site.unit)
        if function is None:
            return None
        for call in function.calls:
            if not site.ended_line < call.line < site.line:
                continue
            thread = self._started_by(call, site.unit)
            if thread is None or self._prepared(thread):
                continue
            if thread.unit == site.unit:
                return _Alive(thread, f"at line {call.line}", "not joined before the fork")
            return _Alive(
                thread, self._started_where(thread, site), f"the call at line {call.line} left it running"
            )
        return None

    def _started_by(self, call: Call, caller: str) -> ff.LiveThread | None:
        """A thread that the call leaves running: its callee (or the `__init__`
        of the class it constructs) starts one and does not join it, or it
        is `start()` of a Thread subclass of the project."""
        how, target, method = call.callee
        model = self.model
        for callee in model.callees(call.callee, self.subclasses):
            if callee in self.starters:
                return self.starters[callee]
        if how == "name":
            owner = model.resolve(target)[1]
            init = model.method(owner, "__init__") if owner else None
            if init is not None:
                return self.starters.get(init) or self._started_in_init(owner)
        if how == "inst" and method == "start":
            owner = model.resolve(target)[1]
            if owner is not None and model.derives(owner, _THREAD_BASES):
                name = owner.rpartition(".")[2]
                return ff.LiveThread(f"a `{name}`", "thread", caller, call.line)
        return None

    def _started_in_init(self, owner: str | None) -> ff.LiveThread | None:
        """A thread kept on `self` and started by a helper that `__init__` calls."""
        if owner is None:
            return None
        for cid in self.model.mro(owner):
            for thread in self._object_threads(cid):
                if self._start_method(thread) == "__init__":
                    return thread
        return None

    def _object_threads(self, class_id: str) -> list[ff.LiveThread]:
        module = self.model.module_of(class_id) or ""
        found = self.facts.get(module)
        if found is None:
            return []
        return [t for t in found.threads if t.cls == class_id and self._real(t)]

    def _start_method(self, thread: ff.LiveThread) -> str | None:
        """The method that starts an object's thread, as far as its life goes:
        `__init__` also for a helper only `__init__` calls."""
        method = thread.unit[len(thread.cls) + 1 :]
        if "." in method:
            return None  # a function nested in a method
        callers = self.model.edges.get(thread.unit, [])
        if method not in _STARTING_METHODS and callers and all(
            caller.rpartition(".")[2] in _STARTING_METHODS for caller, _, _ in callers
        ):
            return "__init__"
        if method in _STARTING_METHODS or method.lstrip("_").startswith("start"):
            return method
        return None

    def _kept_by_object(self, site: ff.ForkSite) -> _Alive | None:
        model = self.model
        function = model.functions.get(site.unit)
        if function is None or function.cls is None or site.ended_line:
            return None
        if function.name in CONSTRUCTION or self._setup_only(site.unit):
            return None
        for cid in model.mro(function.cls):
            for thread in self._object_threads(cid):
                start = self._start_method(thread)
                if start is None or thread.unit == site.unit or self._prepared(thread):
                    continue
                owner = cid.rpartition(".")[2]
                return _Alive(
                    thread,
                    self._started_where(thread, site),
                    f"the `{owner}` object keeps it running, and this is one of its methods",
                )
        return None

    def _setup_only(self, function: str) -> bool:
        """Called only from constructors and starting methods: before its
        object's threads start."""
        callers = self.model.edges.get(function, [])
        return bool(callers) and all(
            caller.rpartition(".")[2] in _STARTING_METHODS
            or caller.rpartition(".")[2].lstrip("_").startswith("start")
            for caller, _, _ in callers
        )

    def _started_at_import(self, site: ff.ForkSite, module: str) -> _Alive | None:
        for imported in self.imports.reach(module):
            if imported == module and site.unit.endswith(".<module>"):
                continue  # the module body itself: the order of its statements decides
            for thread, line in self._threads_at_import(imported):
                if thread.module_pool and imported != module:
                    continue  # whether the importer's program submits to it is not known
                where = "line" if imported == module else f"{self.paths[imported]}:"
                started = f"at import ({where}{'' if imported != module else ' '}{line})"
                if thread.module_pool:
                    return _Alive(
                        thread,
                        f"with the first task submitted to it (line {thread.module_pool})",
                        f"made at module level (line {line}), its workers then run until the "
                        f"program exits",
                    )
                if imported == module:
                    return _Alive(thread, started, "it runs from then on")
                how = "" if imported in self.facts[module].imports else ", through other modules"
                return _Alive(thread, started, f"this module imports `{imported}`{how}")
        return None

    def _threads_at_import(self, module: str) -> list[tuple[ff.LiveThread, int]]:
        """The threads importing the module starts, each with the line that starts it."""
        found = self._import_threads.get(module)
        if found is not None:
            return found
        found = []
        module_facts = self.facts[module]
        for thread in module_facts.threads:
            if (thread.at_import or thread.module_pool) and self._real(thread) and not self._prepared(thread):
                found.append((thread, thread.line))
        body = self.model.functions.get(f"{module}.<module>")
        for call in body.calls if body is not None else ():
            if any(first <= call.line <= last for first, last in module_facts.main_guards):
                continue
            started = self._started_by(call, f"{module}.<module>")
            if started is not None and not self._prepared(started):
                found.append((started, call.line))
        self._import_threads[module] = found
        return found

    def _on_threads(self, site: ff.ForkSite, module: str) -> _Alive | None:
        model = self.model
        for index in sorted(model.reach.get(site.unit, {})):
            root = model.roots[index]
            if root.api or not root.repeats or not root.at[1]:
                continue
            name = model.display_name(root.function)
            thread = ff.LiveThread(f"`{name}`", "thread", root.function, root.at[1])
            where = (
                f"line {root.at[1]}" if root.at[0] == self.paths[module] else f"{root.at[0]}:{root.at[1]}"
            )
            here = "it" if root.function == site.unit else "it reaches this code, and"
            return _Alive(
                thread,
                f"at {where}",
                f"{here} runs on several threads at once: the fork happens on one while the others run",
            )
        return None

    def _real(self, thread: ff.LiveThread) -> bool:
        """Not the `start()` of a project class that is no Thread subclass."""
        if not thread.thread_class or thread.thread_class in _THREAD_BASES:
            return True
        owner = self.model.resolve(thread.thread_class)[1]
        return owner is not None and self.model.derives(owner, _THREAD_BASES)

    def _prepared(self, thread: ff.LiveThread) -> bool:
        """The module that starts the thread registers an `os.register_at_fork`
        hook that runs before a fork: it stops the thread, or takes its locks."""
        module = self.model.module_of(thread.unit) or thread.unit.rpartition(".")[0]
        found = self.facts.get(module)
        return found is not None and bool(found.fork_hooks)

    def _started_where(self, thread: ff.LiveThread, site: ff.ForkSite) -> str:
        module = self.model.module_of(thread.unit) or thread.unit.rpartition(".")[0]
        path = self.paths.get(module, "?")
        here = self.paths.get(self.model.module_of(site.unit) or "")
        line = f"line {thread.line}" if path == here else f"{path}:{thread.line}"
        return f"in `{self.model.display_name(thread.unit)}` at {line}"

    # -- the message ---------------------------------------------------------------

    def _message(self, site: ff.ForkSite, form: str, alive: _Alive) -> str:
        thread = alive.thread
        if site.form == ff.DEFAULT and form == ff.DEFAULT:
            forks = f"{site.api} forks (the default start method on Linux before Python 3.14)"
        elif site.form == ff.DEFAULT:
            forks = f"{site.api} forks (the program sets the `fork` start method)"
        elif site.preexec:
            forks = f"{site.api} forks and runs `{site.preexec}` in the child before exec"
        else:
            forks = f"{site.api} forks"
        what = f"the {thread.what} {thread.label}" if thread.label.startswith("`") else (
            f"{thread.label} {thread.what}"
        )
        return (
            f"{forks} while {what} may be running (started {alive.started}; {alive.why}): "
            f"the child inherits every lock the other threads hold at that moment, still "
            f"locked and with no thread left to release it, so it deadlocks the first time it "
            f"takes one (logging, buffered I/O, a C library's mutex); {self._remedy(site, form)}"
        )

    def _remedy(self, site: ff.ForkSite, form: str) -> str:
        version = self.version
        if site.preexec:
            return _preexec_remedy(site.preexec, version)
        if site.api.startswith(("`os.", "`pty.", "`posix.")):
            return (
                "fork before any thread starts or exec at once in the child, or start the child "
                'with `subprocess` or a `multiprocessing.get_context("spawn")` process'
            )
        context = '`multiprocessing.get_context("spawn")` (or `"forkserver"`)'
        executor = "ProcessPoolExecutor" in site.api
        if site.form == ff.DEFAULT and form == ff.DEFAULT:
            if executor:
                return f"pass `mp_context=` {context}"
            return f"create it from {context}, or call `multiprocessing.set_start_method()` at start-up"
        if version is not None and version >= (3, 14):
            return 'drop the `"fork"` start method: the default from Python 3.14, `"forkserver"`, does not fork the running program'
        if site.form == ff.DEFAULT:
            return 'set the `"spawn"` or `"forkserver"` start method instead of `"fork"`'
        if executor:
            return f"pass `mp_context=` {context} instead of the `\"fork\"` one"
        return f"use {context} instead of the `\"fork\"` context"


def _preexec_remedy(preexec: str, version: tuple[int, int] | None) -> str:
    """The `subprocess` argument that does what the `preexec_fn` does, for the
    target version."""
    name = preexec.rpartition(".")[2]
    group_ok = version is None or version >= (3, 11)
    user_ok = version is None or version >= (3, 9)
    if name in ("setsid", "setpgrp") or "setsid" in preexec:
        hint = "pass `start_new_session=True` instead"
        if name == "setpgrp" and group_ok:
            hint = "pass `process_group=0` instead" + (" (Python 3.11+)" if version is None else "")
        return hint
    if any(word in preexec for word in ("setuid", "setgid", "setgroups", "initgroups")) and user_ok:
        return "pass `user=`, `group=` or `extra_groups=` instead" + (
            " (Python 3.9+)" if version is None else ""
        )
    if "umask" in preexec and user_ok:
        return "pass `umask=` instead" + (" (Python 3.9+)" if version is None else "")
    options = ["`start_new_session=True`"]
    if group_ok:
        options.append("`process_group=`" + (" (3.11+)" if version is None else ""))
    if user_ok:
        options.append("`user=`/`group=`/`umask=`" + (" (3.9+)" if version is None else ""))
    return (
        "do that work without `preexec_fn`: " + ", ".join(options)
        + " cover the usual cases, or do it in the parent or in the program the child execs"
    )


class _ImportGraph:
    """Which modules of the project a module imports, directly or not: the
    modules whose import-time code runs in the same program."""

    def __init__(self, facts: dict[str, ff.ForkFacts]) -> None:
        self.edges: dict[str, set[str]] = {}
        self.reverse: dict[str, set[str]] = {}
        modules = set(facts)
        for module, module_facts in facts.items():
            targets: set[str] = set(_packages(module, modules))
            for name in module_facts.imports:
                targets.update(_packages(name, modules, inclusive=True))
            targets.discard(module)
            self.edges[module] = targets
            for target in targets:
                self.reverse.setdefault(target, set()).add(module)
        self._reach: dict[str, list[str]] = {}

    def reach(self, module: str) -> list[str]:
        """The module itself, then every module it imports, nearest first."""
        found = self._reach.get(module)
        if found is None:
            found = self._reach[module] = _closure(module, self.edges)
        return found

    def related(self, module: str) -> set[str]:
        """The modules of the programs that run this module: those it imports
        and those that import it."""
        return set(self.reach(module)) | set(_closure(module, self.reverse))


def _closure(start: str, edges: dict[str, set[str]]) -> list[str]:
    order = [start]
    seen = {start}
    index = 0
    while index < len(order):
        for target in sorted(edges.get(order[index], ())):
            if target not in seen:
                seen.add(target)
                order.append(target)
        index += 1
    return order


def _packages(name: str, modules: set[str], inclusive: bool = False) -> list[str]:
    """The project modules whose code importing `name` runs: its packages
    (`a`, `a.b` for `a.b.c`) and, when `inclusive`, the module itself (or
    the module of a name imported from it)."""
    parts = name.split(".")
    stop = len(parts) if inclusive else len(parts) - 1
    return [".".join(parts[:cut]) for cut in range(1, stop + 1) if ".".join(parts[:cut]) in modules]
