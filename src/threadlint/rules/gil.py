"""TL4xx: the GIL and processes."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Union

from threadlint.analysis.cpu_profile import (
    CALLEE,
    CPU_HEAVY,
    PURE,
    UNKNOWN,
    ClassFacts,
    FunctionProfile,
    Loop,
    ModuleProfile,
    SpawnSite,
    Tables,
    profile_file,
)
from threadlint.analysis.per_file import FileResult
from threadlint.config import Settings, target_version
from threadlint.diagnostics import Diagnostic
from threadlint.rules.base import ProjectRule, register
from threadlint.source_text import read_regular_file

# How far TL401 follows calls from a thread target, and how many functions
# it looks at: beyond that it cannot tell, and stays silent.
_MAX_DEPTH = 8
_MAX_FUNCTIONS = 200

# What a spawn API runs its target on, for the message.
_RUNS_ON = {
    "threading.Thread": "a thread",
    "threading.Timer": "a thread",
    "_thread.start_new_thread": "a thread",
    "_thread.start_new": "a thread",
    "asyncio.to_thread": "a worker thread",
    "loop.run_in_executor": "a worker thread",
}

_CLASS_HEADER = re.compile(rb"^[ \t]*class[ \t]+\w+[ \t]*\(([^)]*)\)", re.MULTILINE)

Resolved = Union[FunctionProfile, str]


@register
class CpuBoundWorkInThread(ProjectRule):
    """
    ## What it does
    Flags a CPU-bound function handed to a thread: `Thread(target=...)`,
    `Timer`, `executor.submit`/`map` on a `ThreadPoolExecutor`,
    `multiprocessing.pool.ThreadPool` methods, `loop.run_in_executor` with
    the default or a thread executor, and `asyncio.to_thread`. A function is
    CPU-bound when it (or a function of the project it calls) loops over
    arithmetic, string building or parsing, and nothing it does waits: no
    I/O, no sleeping, no locks or queues, no calls known to release the GIL.
    A task that a pool runs many times at once (`pool.map(json.loads, docs)`,
    `submit` in a loop) is also CPU-bound when it only calls computation
    that holds the GIL (`re`, `json`, `pickle`, `copy.deepcopy`, ...).

    ## Why is this bad?
    Under the GIL, threads run Python bytecode one at a time: the interpreter
    lets one thread run for `sys.getswitchinterval()` (5 ms) and then hands
    the GIL to another. Only waiting (I/O, `sleep`) and C code that releases
    the GIL (hashlib, zlib, NumPy, ...) overlap. Pure-Python computation in
    four threads takes as long as in one, often a little longer. See
    [the GIL, threads and processes](../gil.md).

    ## Example
    ```python
    from concurrent.futures import ThreadPoolExecutor

    def render_row(y):
        row = []
        for x in range(WIDTH):
            c = complex(x / WIDTH * 3 - 2, y / HEIGHT * 2 - 1)
            z, n = 0j, 0
            while abs(z) <= 2 and n < 255:
                z = z * z + c
                n += 1
            row.append(n)
        return row

    with ThreadPoolExecutor() as pool:
        rows = list(pool.map(render_row, range(HEIGHT)))
    ```

    ## Use instead
    ```python
    from concurrent.futures import ProcessPoolExecutor

    if __name__ == "__main__":
        with ProcessPoolExecutor() as pool:
            rows = list(pool.map(render_row, range(HEIGHT)))
    ```
    On Python 3.14+, `concurrent.futures.InterpreterPoolExecutor` runs each
    task in its own interpreter with its own GIL, at a lower cost than a
    process. On a free-threaded build (`python3.13t` and later), threads do
    run Python code in parallel: lint with `--free-threaded` (or
    `free-threaded = true`) and TL401 is off.

    ## Options
    The tables behind the decision live in `threadlint.analysis.cpu_profile`;
    extend them with qualified names or module prefixes:
    ```toml
    [tool.threadlint]
    io-functions = ["mycompany.storage"]           # does I/O or waits
    gil-releasing-functions = ["myext.fast_sum"]   # C code releasing the GIL
    cpu-heavy-functions = ["mylib.parse_report"]   # computation holding the GIL
    ```
    `target-version` (or the project's `requires-python`) decides whether
    the message suggests `InterpreterPoolExecutor` (3.14+).

    ## How to suppress
    `# noqa: TL401` on the line of the thread target (for example when a
    single background thread is used on purpose to keep a GUI responsive).

    ## Known limits
    Precision first: TL401 stays silent when it cannot tell. A call into
    third-party code it has no table entry for, a callable passed in as an
    argument, a method on an object of unknown type that could block
    (`get`, `read`, `join`, ...), or a method a subclass overrides keeps it
    silent, as does any I/O in the reachable code, however small (a log
    line, a `print`); so does a body without a loop, and a loop that only
    counts (`n += 1`, as in a busy-wait). Calls are followed 8 levels deep.
    `run()` of a `Thread` subclass is not checked, nor threads started in
    a test (a function named `test*`): tests start threads to provoke races
    or to exercise threading, not for speed. A few method names
    (`append`, `split`, `items`, ...) are taken to be those of builtin
    strings and containers even on objects of unknown type.
    """

    code = "TL401"
    name = "cpu-bound-work-in-thread"
    summary = (
        "CPU-bound function run in a thread: under the GIL it gets no faster; "
        "use processes (or a free-threaded build)"
    )

    def check(self, project: object, settings: Settings) -> Iterable[Diagnostic]:
        if settings.free_threaded:
            return []  # threads do run Python code in parallel there
        results: Sequence[FileResult] = project  # type: ignore[assignment]
        model = _Project(results, settings)
        suggestion = _suggestion(settings)
        out = []
        for result in results:
            facts = result.facts.get("cpu")
            if not isinstance(facts, ModuleProfile):
                continue
            for spawn in facts.spawns:
                why = model.why_cpu_bound(spawn, result.module_name)
                if why is None:
                    continue
                runs_on = _RUNS_ON.get(spawn.api, "a thread pool")
                out.append(Diagnostic(
                    result.path, spawn.line, spawn.col, self.code,
                    f"`{spawn.shown}` looks CPU-bound ({why}, no I/O): under the GIL, "
                    f"threads run Python code one at a time, so running it in {runs_on} "
                    f"makes it no faster; use {suggestion}",
                    end_line=spawn.end_line, end_col=spawn.end_col,
                ))
        return out


class _Project:
    """Every function profile of the project, loaded on demand, and the verdicts."""

    def __init__(self, results: Sequence[FileResult], settings: Settings) -> None:
        self.settings = settings
        self.tables = Tables(settings)
        self.functions: dict[str, FunctionProfile] = {}
        self.classes: dict[str, ClassFacts] = {}
        self.ambiguous: set[str] = set()
        # Modules the per-file pass did not analyse: profiled when reached.
        self.unloaded: dict[str, str] = {}
        self._subclass_index: dict[str, set[str]] | None = None
        seen_modules: set[str] = set()
        for result in results:
            if result.module_name in seen_modules:
                self.unloaded.pop(result.module_name, None)
            seen_modules.add(result.module_name)
            facts = result.facts.get("cpu")
            if isinstance(facts, ModuleProfile):
                self._merge(facts)
            elif not (result.analysed or result.skipped or result.error):
                self.unloaded[result.module_name] = result.path
        self._computed: dict[str, bool] = {}

    def _merge(self, facts: ModuleProfile) -> None:
        self.ambiguous |= facts.ambiguous
        for table, new in ((self.functions, facts.functions), (self.classes, facts.classes)):
            for key, value in new.items():
                if key in table:
                    self.ambiguous.add(key)
                table[key] = value  # type: ignore[assignment]

    def _load(self, name: str) -> None:
        """Profile the unanalysed module that defines `name`, if any."""
        module = name
        while module:
            path = self.unloaded.pop(module, None)
            if path is not None:
                facts = profile_file(path, module, self.settings)
                if facts is not None:
                    self._merge(facts)
                return
            module = module.rpartition(".")[0]

    # -- resolving callees ---------------------------------------------------

    def resolve(self, name: str, virtual: bool = False) -> Resolved:
        """A callee's profile, or its category when it has none."""
        category = self.tables.category(name, builtin=False)
        if category is not None:
            return category
        if name in self.ambiguous:
            return UNKNOWN
        if name not in self.functions and name not in self.classes:
            self._load(name)
        if name in self.classes:
            return self._method(name, "__init__", set(), constructor=True)
        owner, _, method = name.rpartition(".")
        if name not in self.functions and owner not in self.classes:
            self._load(owner)
        if virtual and owner in self.classes and self._overridden(owner, method):
            return UNKNOWN
        if name in self.functions:
            return self.functions[name]
        if owner in self.classes:
            return self._method(owner, method, set(), constructor=False)
        return UNKNOWN

    def _method(self, cls: str, method: str, seen: set[str], constructor: bool) -> Resolved:
        """`cls.method` through the bases; a class without `__init__` is pure to build."""
        if cls in seen or cls in self.ambiguous:
            return UNKNOWN
        seen.add(cls)
        facts = self.classes[cls]
        if method in facts.methods:
            return self.functions.get(f"{cls}.{method}", UNKNOWN)
        for base in facts.bases:
            if base is None:
                return UNKNOWN
            if base not in self.classes:
                self._load(base)
            if base in self.classes:
                found = self._method(base, method, seen, constructor)
                if found != PURE:
                    return found
            elif not (constructor and self.tables.category(base) == PURE):
                return UNKNOWN  # a third-party base: cannot tell what it does
        return PURE if constructor else UNKNOWN

    def _overridden(self, cls: str, method: str) -> bool:
        """Whether a subclass of `cls` anywhere in the project defines `method`."""
        self._load_possible_subclasses(cls.rpartition(".")[2])
        children: dict[str, list[str]] = {}
        for name, facts in self.classes.items():
            for base in facts.bases:
                if base is not None:
                    children.setdefault(base, []).append(name)
        todo, seen = list(children.get(cls, ())), {cls}
        while todo:
            child = todo.pop()
            if child in seen:
                continue
            seen.add(child)
            if method in self.classes[child].methods:
                return True
            todo.extend(children.get(child, ()))
        return False

    def _load_possible_subclasses(self, short: str) -> None:
        """Profile the unanalysed modules with a class header naming `short`."""
        if self._subclass_index is None:
            self._subclass_index = {}
            for module, path in self.unloaded.items():
                try:
                    source = read_regular_file(path)
                except OSError:
                    continue
                for bases in _CLASS_HEADER.findall(source):
                    for word in re.findall(rb"\w+", bases):
                        self._subclass_index.setdefault(word.decode(), set()).add(module)
        for module in sorted(self._subclass_index.get(short, ())):
            if module in self.unloaded:
                self._load(module)

    # -- the verdict ---------------------------------------------------------

    def why_cpu_bound(self, spawn: SpawnSite, module: str) -> str | None:
        """What makes the spawned work CPU-bound, or None (not, or cannot tell)."""
        if spawn.inline is not None:
            root: Resolved = spawn.inline
        elif spawn.target is not None and spawn.target.category == CPU_HEAVY:
            if not spawn.repeated:
                return None
            return f"`{spawn.target.name}` is computation that holds the GIL"
        elif spawn.target is not None:
            root = self.resolve(spawn.target.name, spawn.target.virtual)
        else:
            return None
        if not isinstance(root, FunctionProfile) or root.asynchronous or root.generator:
            return None
        reached = self._reach(root)
        if reached is None:
            return None
        return self._evidence(reached, module, spawn.repeated)

    def _reach(self, root: FunctionProfile) -> list[FunctionProfile] | None:
        """Every function the root may run; None when any of it waits or is unknown."""
        reached: list[FunctionProfile] = []
        seen: set[str] = set()
        todo: list[tuple[FunctionProfile, int]] = [(root, 0)]
        while todo:
            profile, depth = todo.pop()
            if profile.qualname in seen and profile.qualname != "<lambda>":
                continue
            seen.add(profile.qualname)
            reached.append(profile)
            if depth > _MAX_DEPTH or len(reached) > _MAX_FUNCTIONS:
                return None
            for call in profile.calls:
                if call.category == CPU_HEAVY:
                    continue
                if call.category != CALLEE:
                    return None  # I/O, waiting, GIL-releasing, or cannot tell
                callee = self.resolve(call.name, call.virtual)
                if isinstance(callee, FunctionProfile):
                    if callee.asynchronous:
                        return None
                    todo.append((callee, depth + 1))
                elif callee not in (PURE, CPU_HEAVY):
                    return None
        return reached

    def _evidence(
        self, reached: list[FunctionProfile], module: str, repeated: bool
    ) -> str | None:
        """The strongest sign of CPU work: a working loop; else, for a task run
        many times at once, a call of a cpu-heavy function."""
        best: tuple[tuple[int, int, int], Loop, FunctionProfile] | None = None
        for profile in reached:
            for loop in profile.loops:
                if not self._loop_works(loop):
                    continue
                inner = any(self._has_working_loop(c) for c in loop.callees)
                depth = loop.depth + (1 if inner else 0)
                score = (depth, loop.kind == "while", loop.arithmetic + loop.strings)
                if best is None or score > best[0]:
                    best = (score, loop, profile)
        where = _display(reached[0], module)
        if best is not None:
            (depth, _, _), loop, profile = best
            floats = any(other.floats for other in profile.loops)
            return f"{_loop_words(loop, depth, floats)} in `{_display(profile, module)}`"
        if not repeated:
            return None  # one call of json.loads in one thread: nothing to speed up
        for profile in reached:
            for call in profile.calls:
                if call.category == CPU_HEAVY:
                    return f"`{call.name}` in `{where}`, computation that holds the GIL"
        return None

    def _loop_works(self, loop: Loop) -> bool:
        if loop.arithmetic or loop.strings or loop.heavy:
            return True
        return any(self._computes(callee) for callee in loop.callees)

    def _has_working_loop(self, name: str) -> bool:
        callee = self.resolve(name)
        return isinstance(callee, FunctionProfile) and any(
            self._loop_works(loop) for loop in callee.loops
        )

    def _computes(self, name: str) -> bool:
        """Whether calling `name` does arithmetic, string building or parsing."""
        if name in self._computed:
            return self._computed[name]
        self._computed[name] = False  # a cycle adds nothing
        callee = self.resolve(name)
        if callee == CPU_HEAVY:
            found = True
        elif isinstance(callee, FunctionProfile):
            found = bool(
                callee.arithmetic or callee.strings or callee.loops
                or any(c.category == CPU_HEAVY for c in callee.calls)
                or any(self._computes(c.name) for c in callee.calls if c.category == CALLEE)
            )
        else:
            found = False
        self._computed[name] = found
        return found


def _loop_words(loop: Loop, depth: int, floats: bool) -> str:
    if depth >= 2:
        shape = "a nested loop"
    elif loop.kind == "while":
        shape = "a `while` loop"
    elif loop.kind == "comprehension":
        shape = "a comprehension"
    else:
        shape = "a loop"
    kinds = []
    if loop.arithmetic:
        kinds.append("float arithmetic" if floats else "arithmetic")
    if loop.strings:
        kinds.append("string building")
    if not kinds and loop.heavy:
        kinds.append(f"`{loop.heavy[0]}` calls")
    if not kinds:
        kinds.append(f"calls to `{loop.callees[0].rpartition('.')[2]}`")
    return f"{shape} of {' and '.join(kinds)}"


def _display(profile: FunctionProfile, module: str) -> str:
    if profile.qualname == "<lambda>":
        return "the lambda"
    if module and profile.qualname.startswith(module + "."):
        return profile.qualname[len(module) + 1:]
    return profile.qualname


def _suggestion(settings: Settings) -> str:
    version = target_version(settings)
    if version is None:
        return (
            "a ProcessPoolExecutor (or InterpreterPoolExecutor on Python 3.14+), "
            "or a free-threaded build"
        )
    if version >= (3, 14):
        return "a ProcessPoolExecutor or InterpreterPoolExecutor, or a free-threaded build"
    return "a ProcessPoolExecutor (multiprocessing), or a free-threaded build (3.13+)"
