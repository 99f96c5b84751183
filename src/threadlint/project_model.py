"""The project half of the concurrency model: which code runs on which thread.

Joins every module's facts (`threadlint.facts`) into one `Model`:

1. resolve calls across modules (imports and re-exports, `self.m()` through
   the class hierarchy and its overrides, `super().m()`, methods of objects
   whose class is visible);
2. find the thread roots (spawned targets, `run` of Thread subclasses,
   request handlers of threading servers, declared entry points) and the
   functions each one reaches: the concurrent contexts;
3. propagate held locks from callers (a helper every call of which holds
   `self._lock` runs with it held) and single-threaded setup (helpers only
   called from `__init__`, or only before threads start / after they join);
4. list, per shared location, every access with its effective lockset and
   the roots it runs under, for the race rules to judge.

The model is built once per run and shared by the four TL1xx rules.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace

from threadlint import facts as F
from threadlint.analysis.per_file import FileResult
from threadlint.analysis.state_api import CONSTRUCTION, THREADING_SERVERS
from threadlint.config import Settings

SELF = "self"  # reached through `self.m()` calls from the root's own object
OWNED = "owned"  # reached through an object the caller created itself
OTHER = "other"
HELD = "held"  # reached through an object that the caller's `self` made and keeps

# How a public entry of a concurrent API was found (`Root.api`): declared by
# the code's author in a form meant for threadlint (`# threadlint:
# thread-safe`, `concurrent-api`), claimed in prose (a docstring that says
# the class is thread-safe), or inferred from a lock its class takes.
DECLARED = "declared"
DOCUMENTED = "documented"
EVIDENCED = "evidenced"
# A lock taken in this many methods (functions) of a class (module) shows
# that callers share it; one method may lock for a reason of its own
# (a rekey, a flush) that says nothing about the rest of the API.
_EVIDENCE = 2

_THREAD_BASES = frozenset({"threading.Thread", "threading.Timer"})
_TEST_CASES = frozenset({"unittest.TestCase", "unittest.case.TestCase"})
# Special methods that are public API: callers reach them by syntax.
_PUBLIC_SPECIAL = frozenset(
    {
        "__call__",
        "__getitem__",
        "__setitem__",
        "__delitem__",
        "__contains__",
        "__iter__",
        "__next__",
        "__len__",
        "__enter__",
        "__exit__",
        "__get__",
        "__set__",
    }
)
_HANDLER_METHODS = ("setup", "handle", "finish")


@dataclass
class Root:
    function: str
    description: str
    repeats: bool  # may run several times at once
    per_instance: bool  # its `self` is a fresh object per thread (Thread subclass, handler)
    mode: str  # how its `self` relates to the spawner's (SELF: the same object)
    spawner: str | None = None
    at: tuple[str, int] = ("", 0)  # where it is started: `{at}` in the description
    many_instances: bool = False  # per-instance, and its class is instantiated several times
    repeats_self: bool = False  # several runs at once on the same object
    self_class: str | None = None  # the class of its `self`, when known exactly
    joined: bool = False  # its spawner joins it before returning
    # A public entry of a concurrent API rather than a thread the code starts:
    # DECLARED (annotation, `concurrent-api`), DOCUMENTED (docstring) or
    # EVIDENCED (its class or module takes a lock, which says callers share it).
    api: str = ""
    serial: str = ""  # the single-worker executor it runs on (`Spawn.serial`)


@dataclass(frozen=True)
class Site:
    """One access to a shared location, placed in the project."""

    function: str
    path: str
    access: F.Access
    locks: frozenset[str]  # held here or by every caller
    roots: tuple[tuple[int, frozenset[str]], ...]  # (root index, modes); empty: main thread


@dataclass
class Model:
    functions: dict[str, F.Function] = field(default_factory=dict)
    paths: dict[str, str] = field(default_factory=dict)  # function id -> display path
    classes: dict[str, F.ClassFacts] = field(default_factory=dict)
    modules: dict[str, F.ModuleFacts] = field(default_factory=dict)
    roots: list[Root] = field(default_factory=list)
    reach: dict[str, dict[int, set[str]]] = field(default_factory=dict)
    inherited: dict[str, frozenset[str]] = field(default_factory=dict)
    quiet: set[str] = field(default_factory=set)
    sites: dict[F.Location, list[Site]] = field(default_factory=dict)
    guards: dict[F.Location, tuple[str, int, str]] = field(default_factory=dict)  # lock, line, path
    lists: set[F.Location] = field(default_factory=set)
    resize_checked: set[F.Location] = field(default_factory=set)  # dicts, sets, deques
    shared_classes: set[str] = field(default_factory=set)
    # Classes meant to be used from several threads: they own a lock, are
    # declared thread-safe, or are Thread subclasses.
    strong_classes: set[str] = field(default_factory=set)
    # Classes and modules declared concurrent in a form meant for threadlint
    # (`# threadlint: thread-safe`, `concurrent-api`), not in prose.
    declared: set[str] = field(default_factory=set)
    # Methods that a docstring's claim leaves out ("`add` and `merge` are
    # thread-safe. Other methods may not be."): by the class's word they do
    # not run while threads use its objects, so, like setup, they say
    # nothing about the locks its helpers run under.
    unclaimed: set[str] = field(default_factory=set)
    # Per root: the code that runs on the starting thread while it runs.
    spawn_context: dict[int, set[str]] = field(default_factory=dict)
    # Locations some access of which holds a lock: meant to be shared.
    locked_locations: set[F.Location] = field(default_factory=set)
    # Of those, the ones whose lock is taken for them: in the accessing
    # function, or a lock of the same object or a named global inherited
    # from the callers (not some other object's lock a caller happens to
    # hold).  What a concurrent API's lock is evidence for.
    guarded_locations: set[F.Location] = field(default_factory=set)
    edges: dict[str, list[tuple[str, F.Call, str]]] = field(
        default_factory=dict
    )  # callee -> callers
    # caller -> (callee, mode, call)
    out_edges: dict[str, list[tuple[str, str, F.Call]]] = field(default_factory=dict)
    module_paths: dict[str, str] = field(default_factory=dict)
    instances: dict[str, int] = field(default_factory=dict)  # class id -> constructor calls
    # "pkg.mod.f(job)" -> the class every call site that shows one passes.
    param_types: dict[str, str] = field(default_factory=dict)
    # Status tests every call of a function depends on (through `self.m()`).
    inherited_gates: dict[str, frozenset[F.Location]] = field(default_factory=dict)
    # Spawner summaries: function -> its parameters whose callable reaches a
    # thread root -> the spawn it ends in.
    spawners: dict[str, dict[str, F.Spawn]] = field(default_factory=dict)
    # Containers handed over by a state change: frozen once the status moves on.
    handed_off: set[F.Location] = field(default_factory=set)
    subclasses: dict[str, list[str]] = field(default_factory=dict)  # class id -> direct subclasses
    _exclusive: dict[tuple[str, str], bool] = field(default_factory=dict)
    # What can raise (`threadlint.raising.RaiseModel`), built when a rule first asks.
    raising: object = None

    # -- names ---------------------------------------------------------------------

    def resolve(self, dotted: str, depth: int = 0) -> tuple[str | None, str | None]:
        """(function id, class id) that an absolute dotted name refers to."""
        if depth > 6:
            return None, None
        if dotted in self.functions:
            return dotted, None
        if dotted in self.classes:
            return None, dotted
        head, _, last = dotted.rpartition(".")
        if head in self.classes:
            return self.method(head, last), None
        parts = dotted.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            module = ".".join(parts[:cut])
            facts = self.modules.get(module)
            if facts is None:
                continue
            imported = dict(facts.imports).get(parts[cut])
            if imported is not None:
                return self.resolve(".".join([imported, *parts[cut + 1 :]]), depth + 1)
            break
        if head and depth < 6:
            _, owner = self.resolve(head, depth + 1)
            if owner is not None:
                return self.method(owner, last), None
        return None, None

    def mro(self, class_id: str) -> list[str]:
        order: list[str] = []
        pending = [class_id]
        while pending:
            current = pending.pop(0)
            if current in order or current not in self.classes:
                continue
            order.append(current)
            for base in self.classes[current].bases:
                _, resolved = self.resolve(base)
                if resolved is not None:
                    pending.append(resolved)
        return order

    def external_bases(self, class_id: str) -> set[str]:
        """The bases outside the project (`threading.Thread`) of a class and its ancestors."""
        found = set()
        for cid in self.mro(class_id):
            for base in self.classes[cid].bases:
                if self.resolve(base)[1] is None:
                    found.add(base)
        return found

    def derives(self, class_id: str, bases: frozenset[str]) -> bool:
        """Is the class one of `bases` or derived from one (inside or outside the project)?"""
        return bool(bases & set(self.mro(class_id))) or bool(bases & self.external_bases(class_id))

    def method(self, class_id: str, name: str, after: bool = False) -> str | None:
        order = self.mro(class_id)
        if after:
            order = order[1:]
        for cid in order:
            if name in self.classes[cid].methods and f"{cid}.{name}" in self.functions:
                return f"{cid}.{name}"
        return None

    def exclusive(self, first: Root, second: Root) -> bool:
        """Do the two roots' spawners never run on one object?  Methods of
        classes that no class of the project inherits both of
        (`LinuxDriver.start` and `WebDriver.start`), or an override that
        does not call the method it overrides (`NotebookSpinner.start` over
        `Spinner.start`): each object starts one of the two threads."""
        a, b = first.spawner or "", second.spawner or ""
        if a == b:
            return False
        key = (a, b) if a < b else (b, a)
        if key not in self._exclusive:
            self._exclusive[key] = self._exclusive_methods(a, b)
        return self._exclusive[key]

    def _exclusive_methods(self, first: str, second: str) -> bool:
        a, b = self.functions.get(first), self.functions.get(second)
        if a is None or b is None or a.cls is None or b.cls is None:
            return False
        return not any(
            self._runs_on(cid, a) and self._runs_on(cid, b)
            # An object that runs `a` is of `a`'s class or of a subclass.
            for cid in (a.cls, *_descendants(a.cls, self.subclasses))
        )

    def _runs_on(self, class_id: str, method: F.Function) -> bool:
        """Does calling `method.name` on an instance of the class run `method`
        (resolved by the MRO, or reached through `super()` calls)?"""
        if method.cls not in self.mro(class_id):
            return False
        current = self.method(class_id, method.name)
        while current is not None and current != method.id:
            function = self.functions[current]
            calls_super = any(
                c.callee[0] == "super" and c.callee[2] == method.name for c in function.calls
            )
            if not calls_super or function.cls is None:
                return False
            current = self.method(function.cls, method.name, after=True)
        return current == method.id

    def callees(self, callee: F.Callee, subclasses: dict[str, list[str]]) -> list[str]:
        how, target, name = callee
        single: str | None = None
        if how == "name":
            single = self.resolve(target)[0]
        elif how == "super":
            single = self.method(target, name, after=True)
        elif how == "inst":
            owner = self.resolve(target)[1]
            single = self.method(owner, name) if owner else None
        elif how == "param":
            return []  # a received callable: its callers say what it is
        elif how == "arg":
            owner = self.param_types.get(target)
            single = self.method(owner, name) if owner else None
        else:
            # self.m(): the class's own (or inherited) method, and overrides in subclasses.
            found = [m for m in [self.method(target, name)] if m]
            found.extend(
                f"{sub}.{name}"
                for sub in _descendants(target, subclasses)
                if name in self.classes[sub].methods and f"{sub}.{name}" in self.functions
            )
            return found
        return [single] if single else []

    # -- places ---------------------------------------------------------------------

    def where(self, function: str, line: int, here: str | None = None) -> str:
        path = self.paths.get(function, "?")
        return f"line {line}" if path == here else f"{path}:{line}"

    def module_of(self, function_id: str) -> str | None:
        """The module that defines a function."""
        parts = function_id.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            module = ".".join(parts[:cut])
            if module in self.modules:
                return module
        return None

    def display_name(self, function_id: str) -> str:
        """`Cls.method` or `function`, as messages name a function."""
        function = self.functions.get(function_id)
        if function is not None and function.cls is not None:
            return f"{function.cls.rpartition('.')[2]}.{function.name}"
        return function.name if function is not None else function_id

    def is_concurrent(self, function: str) -> bool:
        return bool(self.reach.get(function))


def _descendants(class_id: str, subclasses: dict[str, list[str]]) -> list[str]:
    out: list[str] = []
    pending = list(subclasses.get(class_id, []))
    while pending:
        current = pending.pop()
        if current in out:
            continue
        out.append(current)
        pending.extend(subclasses.get(current, []))
    return out


_CACHE: list[tuple[object, Settings, Model]] = []


def project_model(results: Sequence[FileResult], settings: Settings) -> Model:
    """The model of this run's files, built once and shared by every race rule."""
    if _CACHE and _CACHE[0][0] is results and _CACHE[0][1] == settings:
        return _CACHE[0][2]
    model = build_model(results, settings)
    _CACHE[:] = [(results, settings, model)]
    return model


def build_model(results: Iterable[FileResult], settings: Settings) -> Model:
    model = Model()
    for result in results:
        facts = result.facts.get("model") if result.facts else None
        if not isinstance(facts, F.ModuleFacts):
            continue
        model.modules[facts.module] = facts
        model.module_paths[facts.module] = result.path
        for function in facts.functions:
            model.functions[function.id] = function
            model.paths[function.id] = result.path
        for cls in facts.classes:
            model.classes[cls.id] = cls
            model.paths.setdefault(cls.id, result.path)
    subclasses: dict[str, list[str]] = {}
    for cid, cls in model.classes.items():
        for base in cls.bases:
            _, resolved = model.resolve(base)
            if resolved is not None:
                subclasses.setdefault(resolved, []).append(cid)
    model.subclasses = subclasses
    _parameter_types(model, subclasses)
    _link_calls(model, subclasses)
    _before_starts(model)
    _find_roots(model, settings, subclasses)
    _api_roots(model, settings)
    _propagate_reach(model)
    if _callback_spawns(model):
        # Callbacks a thread calls are thread roots too: find them all again.
        model.roots.clear()
        model.reach.clear()
        _find_roots(model, settings, subclasses)
        _api_roots(model, settings)
        _propagate_reach(model)
    _find_quiet(model)
    _spawn_contexts(model)
    _propagate_locks(model)
    _shared_classes(model)
    _collect_sites(model)
    return model


def _spawn_contexts(model: Model) -> None:
    """The spawner of each root and what it calls after the start, on its own thread."""
    for index, root in enumerate(model.roots):
        if root.spawner is None:
            continue
        context = {root.spawner}
        pending = [
            callee for callee, _, call in model.out_edges.get(root.spawner, []) if not call.phase
        ]
        while pending:
            current = pending.pop()
            if current in context or model.is_concurrent(current):
                continue
            context.add(current)
            pending.extend(callee for callee, _, _ in model.out_edges.get(current, []))
        model.spawn_context[index] = context


def _parameter_types(model: Model, subclasses: dict[str, list[str]]) -> None:
    """The class of a parameter without annotation, from the call sites:
    when every call that shows the class of its argument passes the same
    project class, `job.run()` in the callee is that class's `run`."""
    seen: dict[str, set[str]] = {}
    for function in model.functions.values():
        for call in function.calls:
            if not call.arg_classes:
                continue
            targets = call_targets(model, call)
            for slot, made in call.arg_classes:
                cls = model.resolve(made)[1]
                for target in targets:
                    param = param_at(model.functions[target], slot)
                    if param is not None:
                        seen.setdefault(f"{target}({param})", set()).add(cls or "")
    model.param_types = {
        key: next(iter(found)) for key, found in seen.items() if len(found) == 1 and "" not in found
    }


def _before_starts(model: Model) -> None:
    """What a function does before it calls one that starts a thread
    (`self.state.load(); self.state.schedule_save()`, where the second
    starts a timer) runs before that thread exists, like the code before a
    `start()` of its own: phase "pre".

    A function *starts* threads when it may return with one it started
    still running, or calls a function that does (not after its own join).
    Functions with starts of their own keep the phases their walk gave.
    Runs on the linked calls, and puts the rewritten calls in their place
    in the edges."""

    def counts(call: F.Call) -> bool:
        return not call.deferred and call.phase != "post"

    starters = {fid for fid, function in model.functions.items() if function.leaves_running}
    pending = list(starters)
    while pending:
        for caller, call, _ in model.edges.get(pending.pop(), []):
            if caller not in starters and counts(call):
                starters.add(caller)
                pending.append(caller)
    for caller in {c for fid in starters for c, _, _ in model.edges.get(fid, [])}:
        function = model.functions[caller]
        if function.starts or function.name == "<module>":
            continue
        first = min(
            (
                call.start_at
                for callee, _, call in model.out_edges.get(caller, [])
                if callee in starters and counts(call)
            ),
            default=None,
        )
        if first is None:
            continue

        def before(seq: int, phase: str, first: int = first) -> str:
            return "pre" if seq < first and not phase else phase

        calls = tuple(replace(c, phase=before(c.seq, c.phase)) for c in function.calls)
        renamed = {id(old): new for old, new in zip(function.calls, calls) if old != new}
        model.functions[caller] = replace(
            function,
            accesses=tuple(replace(a, phase=before(a.seq, a.phase)) for a in function.accesses),
            calls=calls,
            checks=tuple(replace(c, phase=before(c.seq, c.phase)) for c in function.checks),
        )
        out = model.out_edges.get(caller, [])
        model.out_edges[caller] = [(c, mode, renamed.get(id(call), call)) for c, mode, call in out]
        for callee in {c for c, _, _ in out}:
            model.edges[callee] = [
                (c, renamed.get(id(call), call), mode) for c, call, mode in model.edges[callee]
            ]


def _link_calls(model: Model, subclasses: dict[str, list[str]]) -> None:
    for fid, function in model.functions.items():
        for call in function.calls:
            how = call.callee[0]
            mode = (
                SELF
                if how in ("self", "super")
                else OWNED
                if call.owned
                else HELD
                if call.held
                else OTHER
            )
            if how == "name":
                made = model.resolve(call.callee[1])[1]
                if made is not None:
                    model.instances[made] = model.instances.get(made, 0) + (
                        2 if call.repeated else 1
                    )
                    continue
            for callee in model.callees(call.callee, subclasses):
                if callee != fid:
                    model.edges.setdefault(callee, []).append((fid, call, mode))
                    model.out_edges.setdefault(fid, []).append((callee, mode, call))


def _callers(model: Model, function: str) -> list[tuple[str, F.Call, str]]:
    return model.edges.get(function, [])


def _callback_spawns(model: Model) -> bool:
    """Turn the registrations of callables into containers whose items code
    on a thread calls into spawns (`self._callbacks.append(fn)` with
    `for cb in self._callbacks: cb()` in a worker).  Whether the invoking
    code runs on a thread is known only once the other roots are: returns
    whether any spawn was added."""
    invoked: dict[F.Location, tuple[str, bool]] = {}
    for fid, function in model.functions.items():
        reach = model.reach.get(fid)
        if not function.invokes or not reach:
            continue
        threads = [model.roots[i] for i in reach if not model.roots[i].api]
        if not threads:
            continue
        repeats = any(root.repeats for root in threads)
        for location in function.invokes:
            invoked.setdefault(canonical(model, location), (fid, repeats))
    if not invoked:
        return False
    added = False
    for fid, function in list(model.functions.items()):
        spawns = [
            F.Spawn(
                callee,
                f"callback:`{model.display_name(invoked[where][0])}`",
                line,
                invoked[where][1],
            )
            for location, callee, line in function.registers
            if (where := canonical(model, location)) in invoked
        ]
        if spawns:
            model.functions[fid] = replace(function, spawns=function.spawns + tuple(spawns))
            added = True
    return added


def _spawned(model: Model, spawn: F.Spawn, subclasses: dict[str, list[str]]) -> list[str]:
    """The functions a spawn runs: its target, or for a target built by a
    call, the closures the factory returns or the `__call__` of the task
    object it constructs."""
    if not spawn.via:
        return model.callees(spawn.target, subclasses)
    how, name, _ = spawn.target
    if how == "name":
        made = model.resolve(name)[1]
        if made is not None:
            task = model.method(made, "__call__")
            return [task] if task else []
    found = []
    for factory in model.callees(spawn.target, subclasses):
        for returned in model.functions[factory].returns:
            found.extend(model.callees(returned, subclasses))
    return found


def call_targets(model: Model, call: F.Call) -> list[str]:
    """What a call runs: functions and methods, and for a class its `__init__`."""
    if call.callee[0] == "name":
        made = model.resolve(call.callee[1])[1]
        if made is not None:
            init = model.method(made, "__init__")
            return [init] if init else []
    return model.callees(call.callee, model.subclasses)


def param_at(function: F.Function, slot: str) -> str | None:
    """The parameter an argument in `slot` binds."""
    if slot.isdigit():
        index = int(slot)
        return function.params[index] if index < len(function.params) else None
    return slot if slot in function.params or slot in function.keyword_params else None


def _thread_class_target(model: Model, call: F.Call, slot: str) -> bool:
    """`Worker(target=f)` for a Thread subclass that takes the Thread
    constructor's arguments (it defines no `__init__`, or forwards
    `*args, **kwargs`)."""
    if call.callee[0] != "name":
        return False
    made = model.resolve(call.callee[1])[1]
    if made is None or not model.derives(made, _THREAD_BASES):
        return False
    init = model.method(made, "__init__")
    if init is None:
        return slot in ("target", "1")
    return model.functions[init].star and slot == "target"


_THREAD_SUBCLASS_SPAWN = F.Spawn(("name", "threading.Thread", ""), "threading.Thread", 0, False)


def _spawner_summaries(
    model: Model, subclasses: dict[str, list[str]]
) -> dict[str, dict[str, F.Spawn]]:
    """Per function, the parameters whose callable reaches a thread root
    (`def run_all(fn): Thread(target=fn)`), through any number of wrappers
    in any module: function -> parameter -> the spawn it ends in."""
    spawners: dict[str, dict[str, F.Spawn]] = {}
    for fid, function in model.functions.items():
        for spawn in function.spawns:
            how, owner, name = spawn.target
            if how == "param" and owner == fid and not spawn.via:
                spawners.setdefault(fid, {})[name] = spawn
    changed = True
    rounds = 0
    while changed and rounds < 20:
        changed = False
        rounds += 1
        for fid, function in model.functions.items():
            for call in function.calls:
                received = [
                    (slot, callee[2])
                    for slot, callee in call.callables
                    if callee[0] == "param" and callee[1] == fid
                ]
                if not received:
                    continue
                targets = call_targets(model, call)
                for slot, param in received:
                    if param in spawners.get(fid, {}):
                        continue
                    reached: F.Spawn | None = (
                        _THREAD_SUBCLASS_SPAWN if _thread_class_target(model, call, slot) else None
                    )
                    for target in targets:
                        bound = param_at(model.functions[target], slot)
                        if bound is not None and bound in spawners.get(target, {}):
                            reached = spawners[target][bound]
                            if call.repeated and not reached.repeats:
                                # Called in a loop: the threads it starts overlap.
                                reached = replace(reached, repeats=True)
                            break
                    if reached is not None:
                        spawners.setdefault(fid, {})[param] = reached
                        changed = True
    return spawners


def _handed_to_spawners(
    model: Model,
    fid: str,
    spawners: dict[str, dict[str, F.Spawn]],
    subclasses: dict[str, list[str]],
) -> Iterator[tuple[F.Call, str, F.Callee, F.Spawn]]:
    """Callables this function hands to a spawner: (call, spawner, callable,
    the spawn it reaches)."""
    for call in model.functions[fid].calls:
        handed = [(slot, callee) for slot, callee in call.callables if callee[0] != "param"]
        if not handed:
            continue
        targets = call_targets(model, call)
        for slot, callee in handed:
            if _thread_class_target(model, call, slot):
                yield call, call.callee[1], callee, _THREAD_SUBCLASS_SPAWN
                continue
            for target in targets:
                bound = param_at(model.functions[target], slot)
                if bound is not None and bound in spawners.get(target, {}):
                    yield call, target, callee, spawners[target][bound]
                    break


def _find_roots(model: Model, settings: Settings, subclasses: dict[str, list[str]]) -> None:
    by_function: dict[str, Root] = {}
    spawners = model.spawners = _spawner_summaries(model, subclasses)

    def add(function: str, root: Root) -> None:
        existing = by_function.get(function)
        if existing is None:
            by_function[function] = root
            model.roots.append(root)
        elif (
            root.at != existing.at
            and not (root.serial and root.serial == existing.serial)
            and not (root.mode == existing.mode == SELF and model.exclusive(root, existing))
        ):
            # Started in several places: it can run concurrently with itself
            # (on the same object when both start it on their own `self`).
            existing.repeats = True
            existing.repeats_self = (
                existing.repeats_self
                or root.repeats_self
                or (existing.mode == SELF and root.mode == SELF)
            )
            existing.per_instance = existing.per_instance and root.per_instance
            existing.joined = existing.joined and root.joined
            if existing.self_class != root.self_class:
                existing.self_class = None

    for fid, function in list(model.functions.items()):
        for spawn in function.spawns:
            mode = SELF if spawn.target[0] in ("self", "super") and not spawn.via else OTHER
            for target in _spawned(model, spawn, subclasses):
                desc = (
                    "is registered as a callback at {at}, and "
                    + spawn.api.partition(":")[2]
                    + " calls the registered callbacks on a thread"
                    if spawn.api.startswith("callback:")
                    else "is started on a thread at {at}"
                )
                at = (model.paths[fid], spawn.line)
                self_class = (
                    model.resolve(spawn.target[1])[1]
                    if spawn.target[0] == "inst" and not spawn.via
                    else None
                )
                add(
                    target,
                    Root(
                        target,
                        desc,
                        spawn.repeats,
                        spawn.fresh,
                        mode,
                        fid,
                        at,
                        repeats_self=spawn.repeats,
                        self_class=self_class,
                        joined=spawn.joined,
                        serial=spawn.serial,
                    ),
                )
        for call, wrapper, callee, spawn in _handed_to_spawners(model, fid, spawners, subclasses):
            for target in model.callees(callee, subclasses):
                desc = (
                    f"is registered as a callback by `{model.display_name(wrapper)}` at {{at}}, "
                    f"and {spawn.api.partition(':')[2]} calls the registered callbacks on a thread"
                    if spawn.api.startswith("callback:")
                    else f"is started on a thread by `{model.display_name(wrapper)}`, called at {{at}}"
                )
                at = (model.paths[fid], call.line)
                repeats = spawn.repeats or call.repeated
                add(
                    target, Root(target, desc, repeats, False, OTHER, fid, at, repeats_self=repeats)
                )
        if function.entry:
            desc = "is declared a thread entry point"
            add(fid, Root(fid, desc, True, False, OTHER))
        elif fid in settings.thread_entry_points:
            desc = "is a configured thread entry point"
            add(fid, Root(fid, desc, True, False, OTHER))
    for cid in model.classes:
        if not model.derives(cid, _THREAD_BASES):
            continue
        run = model.method(cid, "run")
        if run is not None and model.functions[run].cls in model.mro(cid):
            owner = model.functions[run].cls or cid
            desc = f"runs on the thread of a `{owner.rpartition('.')[2]}` (a Thread subclass)"
            many = sum(model.instances.get(c, 0) for c in [cid, *_descendants(cid, subclasses)]) > 1
            if run in {r.function for r in model.roots}:
                continue  # inherited by several Thread subclasses: one root, any of them
            add(run, Root(run, desc, False, True, SELF, many_instances=many, self_class=cid))
    for module, facts in model.modules.items():
        for server in facts.servers:
            _, server_class = model.resolve(server.server)
            threading = server.server in THREADING_SERVERS or (
                server_class is not None
                and model.derives(server_class, THREADING_SERVERS | {"socketserver.ThreadingMixIn"})
            )
            _, handler = model.resolve(server.handler)
            if not threading or handler is None:
                continue
            methods = {f"{handler}.{m}" for m in model.classes[handler].methods}
            methods |= {m for name in _HANDLER_METHODS if (m := model.method(handler, name))}
            for method in sorted(m for m in methods if m in model.functions):
                if (
                    model.functions[method].name in CONSTRUCTION
                    and model.functions[method].name != "__init__"
                ):
                    continue
                desc = (
                    "handles requests of the threading server created at {at} "
                    "(one thread per request)"
                )
                at = (model.module_paths[module], server.line)
                add(method, Root(method, desc, True, True, SELF, None, at, self_class=handler))


def _public(name: str) -> bool:
    """A name callers use: not `_private`, not setup, not `<module>` or a lambda."""
    return name in _PUBLIC_SPECIAL or (not name.startswith(("_", "<")) and name not in CONSTRUCTION)


def _declared(name: str, prefixes: Sequence[str]) -> str | None:
    """The `concurrent-api` entry that covers a qualified name, if any."""
    for prefix in prefixes:
        if prefix == "*" or name == prefix or name.startswith(prefix.rstrip(".") + "."):
            return prefix
    return None


def _module_global(key: str, module: str) -> bool:
    """Is the lock key a global of the module (`pkg.mod._lock`)?"""
    return key.startswith(module + ".") and "." not in key[len(module) + 1 :]


def _most_taken(
    functions: Iterable[F.Function], wanted: Callable[[str], bool] = lambda key: True
) -> tuple[str, int] | None:
    """The lock the most of these functions take, and in how many."""
    users: dict[str, set[str]] = {}
    for function in functions:
        for acquire in function.acquires:
            key = acquire.key
            if not key.startswith(("~", F.UNKNOWN_LOCK)) and wanted(key):
                users.setdefault(key, set()).add(function.id)
    if not users:
        return None
    key = max(users, key=lambda k: (len(users[k]), k))
    return key, len(users[key])


def _synchroniser(model: Model, order: list[str]) -> bool:
    """A class that is itself a lock: its `release` releases an inner lock
    that `acquire` took in another call.  Its state is protected by that
    ownership across calls, which a lockset per method cannot show."""
    release = model.method(order[0], "release") if order else None
    return (
        release is not None
        and model.method(order[0], "acquire") is not None
        and model.functions[release].releases_unheld
    )


def _evidenced_entry(model: Model, function: str) -> bool:
    """Can a public function of a class or module that takes a lock be taken
    for an entry that several threads call?  Not when it starts threads
    itself (it sets up the concurrency, and its own code before the start
    and after the join is single-threaded), nor when the project calls it
    only during setup (in a constructor, or before it starts threads)."""
    if model.functions[function].spawns:
        return False
    callers = model.edges.get(function, [])
    return not callers or not all(
        call.phase in ("pre", "post") or model.functions[caller].name in CONSTRUCTION
        for caller, call, _ in callers
    )


def _api_roots(model: Model, settings: Settings) -> None:
    """Public methods and functions of concurrent APIs: entries that callers
    may run on several threads at once, whether or not the project starts a
    thread (RacerD's contract).  A class or module is concurrent when it is
    declared so, or when it takes a lock, which says that its callers share
    it between threads."""
    prefixes = settings.concurrent_api
    methods_of: dict[str, list[F.Function]] = {}
    for function in model.functions.values():
        if function.cls is not None:
            methods_of.setdefault(function.cls, []).append(function)
    existing = {root.function for root in model.roots}

    def add(function: str, description: str, kind: str, self_class: str | None) -> None:
        if function in existing or model.functions[function].is_async:
            return  # a coroutine runs on its event loop's thread
        # Inferred from a lock alone, an entry was mostly wrong on real code
        # (docs/precision.md): that inference runs only in preview.
        if kind == EVIDENCED and (not settings.preview or not _evidenced_entry(model, function)):
            return
        existing.add(function)
        model.roots.append(
            Root(
                function,
                description,
                True,
                False,
                SELF if self_class else OTHER,
                repeats_self=True,
                self_class=self_class,
                api=kind,
            )
        )

    for cid, cls in model.classes.items():
        order = model.mro(cid)
        short = cls.name
        if model.derives(cid, _TEST_CASES):
            continue  # a test runner calls test methods one at a time
        if any("__getattribute__" in model.classes[c].methods for c in order):
            # Every method call goes through the class's own attribute
            # lookup, which may wrap it (transitions' `LockedMachine` runs
            # each public method under its machine lock): what an entry
            # holds when it runs is not in its body.
            continue
        prefix = _declared(cid, prefixes) if not cls.name.startswith("_") else None
        only: frozenset[str] = frozenset()  # the methods a docstring's claim names
        if any(model.classes[c].thread_safe for c in order):
            kind, why = DECLARED, f"`{short}` is declared `# threadlint: thread-safe`"
            model.declared.add(cid)
        elif any(model.classes[c].documented_safe for c in order):
            claimed = next(model.classes[c] for c in order if model.classes[c].documented_safe)
            kind, why = DOCUMENTED, f"the docstring of `{claimed.name}` says it is thread-safe"
            only = claimed.documented_methods
            if only:
                listed = ", ".join(f"`{n}`" for n in sorted(only))
                why = f"the docstring of `{claimed.name}` says that {listed} are thread-safe"
        elif prefix is not None:
            where = "the whole project" if prefix == "*" else f"`{prefix}`"
            kind, why = DECLARED, f"{where} is declared in `concurrent-api`"
            model.declared.add(cid)
        else:
            taken = _most_taken(f for c in order for f in methods_of.get(c, []))
            if taken is None or taken[1] < _EVIDENCE or _synchroniser(model, order):
                continue
            lock, count = taken
            lock_text = lock if lock.startswith("self.") else lock.rpartition(".")[2]
            places = "one of its methods" if count == 1 else f"{count} of its methods"
            kind, why = EVIDENCED, f"`{short}` takes `{lock_text}` in {places}"
        description = f"{why}, so its public methods may run on several threads at once"
        names = {name for c in order for name in model.classes[c].methods if _public(name)}
        if only:
            description = f"{why}, so they may run on several threads at once"
            left_out = {
                name
                for c in order
                for name in model.classes[c].methods
                if name not in only and (_public(name) or name.startswith("__"))
            }
            model.unclaimed.update(
                m for name in left_out if (m := model.method(cid, name)) is not None
            )
            names &= only
        for name in sorted(names):
            method = model.method(cid, name)
            if method is not None:
                add(method, description, kind, cid)
    for module, facts in model.modules.items():
        functions = [
            model.functions[f.id]
            for f in facts.functions
            if f.cls is None and f.id == f"{module}.{f.name}" and f.id in model.functions
        ]
        prefix = _declared(module, prefixes)
        if prefix is not None:
            where = "the whole project" if prefix == "*" else f"`{prefix}`"
            kind, why = DECLARED, f"{where} is declared in `concurrent-api`"
            model.declared.add(module)
        else:
            globals_taken = _most_taken(functions, functools.partial(_module_global, module=module))
            if globals_taken is None or globals_taken[1] < _EVIDENCE:
                continue
            lock, count = globals_taken
            places = "one of its functions" if count == 1 else f"{count} of its functions"
            kind = EVIDENCED
            why = f"module `{module}` takes `{lock.rpartition('.')[2]}` in {places}"
        description = f"{why}, so its public functions may run on several threads at once"
        for function in functions:
            if _public(function.name):
                add(function.id, description, kind, None)


def _propagate_reach(model: Model) -> None:
    dispatch: dict[tuple[str, str], str | None] = {}
    for index, root in enumerate(model.roots):
        # A method root runs on its own object: what it reaches through `self`
        # is that object's state; through anything else, possibly shared state.
        start_mode = SELF if model.functions[root.function].cls is not None else OTHER
        pending: list[tuple[str, str, str | None]] = [(root.function, start_mode, root.self_class)]
        visited: set[tuple[str, str, str | None]] = set()
        while pending:
            state = pending.pop()
            if state in visited:
                continue
            visited.add(state)
            function, mode, self_class = state
            model.reach.setdefault(function, {}).setdefault(index, set()).add(mode)
            for callee, call_mode, call in model.out_edges.get(function, []):
                how, target, name = call.callee
                if call_mode == SELF:
                    if how == "self" and self_class is not None:
                        # The object's class is known: `self.m()` is its `m`, not
                        # every override in the project.
                        key = (self_class, name)
                        if key not in dispatch:
                            dispatch[key] = model.method(self_class, name)
                        if dispatch[key] != callee:
                            continue
                    pending.append((callee, mode, self_class))
                else:
                    inst = model.resolve(target)[1] if how == "inst" else None
                    if call_mode == HELD:
                        # Confinement carries over: what an object made and
                        # keeps is shared as widely as that object, whether it
                        # is one the thread made itself (OWNED) or the root's
                        # own (HELD, like SELF).
                        call_mode = (
                            OWNED if mode == OWNED else HELD if mode in (SELF, HELD) else OTHER
                        )
                    pending.append((callee, call_mode, inst))
    # A root started by code that runs several times (called in a loop or
    # from several places, or itself on several threads) repeats too.  When
    # the spawner joins the thread before it returns, its calls overlap only
    # if the spawner itself runs on several threads at once.
    changed = True
    while changed:
        changed = False
        for root in model.roots:
            if root.repeats or root.spawner is None or root.mode == SELF or root.serial:
                continue
            callers = [] if root.joined else model.edges.get(root.spawner, [])
            if (
                len(callers) > 1
                or any(call.repeated for _, call, _ in callers)
                or any(
                    model.roots[i].repeats and model.roots[i].api != EVIDENCED
                    for i in model.reach.get(root.spawner, {})
                )
            ):
                root.repeats = True
                changed = True


def is_setup(function: F.Function) -> bool:
    """Code that builds its object before it is shared: a constructor, or a
    method that replaces the object's own locks (a reset after `fork()`,
    which no other thread can see: replacing a lock that others may hold
    would itself be the bug)."""
    return function.name in CONSTRUCTION or function.rebuilds


def _find_quiet(model: Model) -> None:
    """Functions that never run while threads do: setup, and code only called
    from setup or before threads start / after they are joined."""
    quiet = {
        fid
        for fid, f in model.functions.items()
        if f.name in CONSTRUCTION and not model.is_concurrent(fid)
    }
    changed = True
    while changed:
        changed = False
        for fid in model.functions:
            if fid in quiet or model.is_concurrent(fid):
                continue
            callers = _callers(model, fid)
            if callers and all(
                caller in quiet or call.phase in ("pre", "post") for caller, call, _ in callers
            ):
                quiet.add(fid)
                changed = True
    model.quiet = quiet


def _translate(locks: frozenset[str], mode: str, caller: str) -> frozenset[str]:
    """Caller's locks as seen by the callee: `self._lock` is the callee's own
    only through `self.m()`."""
    if mode == SELF:
        return locks
    return frozenset(f"~{caller}:{key}" if key.startswith("self.") else key for key in locks)


def _meet(first: frozenset[str], second: frozenset[str]) -> frozenset[str]:
    """The locks two kinds of call both hold: `L` where both surely hold it,
    `?L` where both may and one is unsure (its caller took `L` on some paths
    only).  A lock one of them surely does not hold is not held."""
    common = first & second

    def maybe(locks: frozenset[str]) -> set[str]:
        return {key.removeprefix(F.UNKNOWN_LOCK) for key in locks}

    unsure = {
        F.UNKNOWN_LOCK + key
        for key in maybe(first) & maybe(second)
        if key not in common and F.UNKNOWN_LOCK + key not in common
    }
    return common | unsure


def _propagate_locks(model: Model) -> None:
    """The locks every call of a function holds, from its callers.

    A function that runs on a thread inherits only from callers that run on
    one too, or on the starting thread while one runs: a caller on no
    thread (`shutdown()` called by the main program once the workers are
    done) runs while no thread does, so what it holds says nothing about
    the threads' own calls, which are all the race rules look at there."""
    roots = {root.function for root in model.roots}
    live = set(model.reach).union(*model.spawn_context.values())
    inherited: dict[str, frozenset[str] | None] = {}
    for fid in model.functions:
        inherited[fid] = frozenset() if fid in roots or not _callers(model, fid) else None
    changed = True
    rounds = 0
    while changed and rounds < 50:
        changed = False
        rounds += 1
        for fid, current in inherited.items():
            if fid in roots:
                continue
            callers = _callers(model, fid)
            if not callers:
                continue
            held: frozenset[str] | None = None
            for caller, call, mode in callers:
                if fid in live and caller not in live:
                    continue
                if mode == SELF and is_setup(model.functions[caller]):
                    continue  # the object is not shared yet: no lock is needed there
                if caller in model.unclaimed and (
                    model.functions[caller].cls == model.functions[fid].cls
                ):
                    continue  # not run while threads use the class's objects
                caller_held = inherited.get(caller, frozenset())
                if caller_held is None:
                    continue  # not known yet: optimistic, refined by later rounds
                seen = _translate(call.locks | caller_held, mode, caller)
                held = seen if held is None else _meet(held, seen)
            if held is not None and held != current:
                inherited[fid] = held
                changed = True
    model.inherited = {fid: held or frozenset() for fid, held in inherited.items()}
    _propagate_gates(model)


def _propagate_gates(model: Model) -> None:
    """The status tests a helper runs behind at every call: `submit` tests
    `self._shutdown` under the lock, then calls `self._adjust()`."""
    gates: dict[str, frozenset[F.Location]] = {}
    roots = {root.function for root in model.roots}
    for _ in range(10):
        changed = False
        for fid in model.functions:
            if fid in roots:
                continue  # an entry: called from anywhere, behind no test
            callers = _callers(model, fid)
            if not callers or any(mode != SELF for _, _, mode in callers):
                continue
            seen = frozenset.intersection(
                *(call.gates | gates.get(caller, frozenset()) for caller, call, _ in callers)
            )
            if seen != gates.get(fid, frozenset()):
                gates[fid] = seen
                changed = True
        if not changed:
            break
    model.inherited_gates = {fid: found for fid, found in gates.items() if found}


def _shared_classes(model: Model) -> None:
    strong = set()
    for cid, cls in model.classes.items():
        if cls.thread_safe or cls.lock_attrs or model.derives(cid, _THREAD_BASES):
            strong.add(cid)
    direct = set(strong)
    for root in model.roots:
        owner = model.functions[root.function].cls
        # A request handler made per request is no one else's; a Thread, or
        # a worker the spawner made and keeps (`w = Worker(); Thread(target=
        # w.run)`), is still the spawner's to call while it runs.
        if owner is not None and not (
            root.per_instance and root.mode == SELF and not model.derives(owner, _THREAD_BASES)
        ):
            direct.add(owner)
    # A base class's methods run on its subclasses' shared objects too.
    bases_of_direct = {c for cid in direct for c in model.mro(cid)}
    for cid in model.classes:
        order = model.mro(cid)
        if any(c in strong for c in order):
            model.strong_classes.add(cid)
        if cid in bases_of_direct or any(c in direct for c in order):
            model.shared_classes.add(cid)


def canonical(model: Model, location: F.Location) -> F.Location:
    scope, owner, name = location
    if scope == "global":
        return location
    best = owner
    for cid in model.mro(owner):
        if name in model.classes[cid].assigned:
            best = cid
    return (scope, best, name)


def _collect_sites(model: Model) -> None:
    safe_cache: dict[tuple[str, str], bool] = {}

    def safe(location: F.Location, accessor: str | None) -> bool:
        scope, owner, name = location
        if scope == "global":
            facts = model.modules.get(owner)
            return facts is None or name in facts.safe_globals
        key = (accessor or owner, name)
        if key not in safe_cache:
            classes = set(model.mro(owner)) | set(model.mro(accessor or owner))
            safe_cache[key] = any(name in model.classes[c].safe_attrs for c in classes)
        return safe_cache[key]

    for fid, function in model.functions.items():
        if fid in model.quiet or not function.accesses:
            continue
        reach = model.reach.get(fid, {})
        path = model.paths[fid]
        for access in function.accesses:
            if not reach and access.phase:
                continue
            location = canonical(model, access.location)
            if safe(location, function.cls):
                continue
            roots = reach
            if location[0] == "self":
                if function.cls not in model.shared_classes or is_setup(function):
                    # An object under construction is not shared yet, even
                    # when a thread constructs it or `reset()` calls
                    # `self.__init__()` again.
                    continue
                roots = {i: m for i, m in reach.items() if m - {OWNED}}
                if reach and not roots:
                    continue  # only ever on an object the thread made itself
            locks = access.locks | model.inherited.get(fid, frozenset())
            site = Site(
                fid, path, access, locks, tuple((i, frozenset(m)) for i, m in sorted(roots.items()))
            )
            model.sites.setdefault(location, []).append(site)
            if real_locks(locks) and access.kind != F.TEST:
                model.locked_locations.add(location)
                if _guards(access.locks, model.inherited.get(fid, frozenset())):
                    model.guarded_locations.add(location)
    _drop_unguarded_evidence(model)
    _find_hand_offs(model)
    for facts in model.modules.values():
        for cls in facts.classes:
            for attr, lock, line in cls.guarded:
                model.guards[canonical(model, ("self", cls.id, attr))] = (
                    lock,
                    line,
                    model.paths.get(cls.id, "?"),
                )
            for attr in cls.lists:
                model.lists.add(canonical(model, ("self", cls.id, attr)))
            for attr in cls.resize_checked:
                model.resize_checked.add(canonical(model, ("self", cls.id, attr)))
        for name, lock, line in facts.guarded_globals:
            model.guards[("global", facts.module, name)] = (
                lock,
                line,
                model.module_paths[facts.module],
            )
        for name in facts.list_globals:
            model.lists.add(("global", facts.module, name))
        for name in facts.resize_checked_globals:
            model.resize_checked.add(("global", facts.module, name))


def real_locks(locks: frozenset[str]) -> frozenset[str]:
    return frozenset(k for k in locks if not k.startswith(F.UNKNOWN_LOCK))


def _guards(own: frozenset[str], inherited: frozenset[str]) -> bool:
    return bool(real_locks(own)) or any(
        not key.startswith(("~", F.UNKNOWN_LOCK)) for key in inherited
    )


def _drop_unguarded_evidence(model: Model) -> None:
    """A class or module that takes a lock promises only what the lock
    protects: its public entries count as concurrent for state some access
    of which holds a lock, and for nothing else."""
    evidenced = {index for index, root in enumerate(model.roots) if root.api == EVIDENCED}
    if not evidenced:
        return
    for location, sites in model.sites.items():
        if location in model.guarded_locations:
            continue
        for position, site in enumerate(sites):
            kept = tuple((i, m) for i, m in site.roots if i not in evidenced)
            if kept != site.roots:
                sites[position] = replace(site, roots=kept)


def _find_hand_offs(model: Model) -> None:
    """Containers every mutation of which holds lock L and runs only while a
    status S says so (`if self._status != OPEN: return` / `if not
    self._closed:`), where S is itself changed under L: the code that sets
    S hands the container over, and from then on it is frozen, so reading
    it without L is no race."""
    for location, sites in model.sites.items():
        writes = [site for site in sites if site.access.kind in F.WRITE_KINDS]
        if not writes:
            continue
        locks = frozenset.intersection(*(real_locks(site.locks) for site in writes))
        if not locks:
            continue
        gates = frozenset.intersection(
            *(
                frozenset(
                    canonical(model, g)
                    for g in site.access.gates
                    | model.inherited_gates.get(site.function, frozenset())
                )
                for site in writes
            )
        )
        for gate in gates - {location}:
            if any(
                other.access.kind == F.REBIND and other.locks & locks
                for other in model.sites.get(gate, [])
            ):
                model.handed_off.add(location)
                break
