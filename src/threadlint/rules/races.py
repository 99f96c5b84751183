"""TL1xx: races on shared state (project rules over the concurrency model).

Each rule reads the `Model` of `threadlint.project_model` (built once per run)
and reports only code that a thread root reaches, with the evidence: the
root that makes it concurrent and the access on the other side.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

import threadlint.analysis.summaries  # noqa: F401  (registers the "model" fact collector)
from threadlint import facts as F
from threadlint.analysis.per_file import FileResult
from threadlint.config import Settings
from threadlint.diagnostics import Diagnostic
from threadlint.project_model import (
    DECLARED,
    HELD,
    SELF,
    Model,
    Site,
    canonical,
    project_model,
    real_locks,
)
from threadlint.rules.base import ProjectRule, register
from threadlint.rules.race_messages import describe, evidence

_VERBS = {
    F.REBIND: "assigned",
    F.ITEM_WRITE: "assigned an item",
    F.MUTATE: "mutated",
    F.RMW: "updated",
}


def _where(model: Model, site: Site, here: str) -> str:
    return f"line {site.access.line}" if site.path == here else f"{site.path}:{site.access.line}"


class _RaceRule(ProjectRule):
    def check(self, project: object, settings: Settings) -> Iterable[Diagnostic]:
        results: Sequence[FileResult] = project  # type: ignore[assignment]
        model = project_model(results, settings)
        seen = set()
        for diagnostic in self.find(model, settings.preview):
            key = (diagnostic.path, diagnostic.line, diagnostic.col)
            if key not in seen:
                seen.add(key)
                yield diagnostic

    def find(self, model: Model, preview: bool) -> Iterator[Diagnostic]:
        """The findings; without `preview`, only races whose failure is visible
        (each rule's "Reported by default")."""
        raise NotImplementedError

    def diagnostic(
        self, site: Site, message: str, span: tuple[int, int, int, int] | None = None
    ) -> Diagnostic:
        """A finding at the access, or at `span` (line, col, end line, end col)."""
        access = site.access
        line, col, end_line, end_col = span or (
            access.line,
            access.col,
            access.end_line,
            access.end_col,
        )
        return Diagnostic(site.path, line, col, self.code, message, end_line, end_col)


def _racing_writes(
    model: Model,
    site: Site,
    sites: list[Site],
    location: F.Location,
    kinds: frozenset = F.WRITE_KINDS,
) -> Iterator[Site]:
    """Writes of the location that may run at the same time as `site` (itself included)."""
    for other in sites:
        if other.access.kind in kinds and _may_run_together(model, site, other, location):
            yield other


def _may_run_together(model: Model, site: Site, other: Site, location: F.Location) -> bool:
    """`other` may run at the same time as `site`; a site races with itself when
    several threads run it at once."""
    if other is site:
        if any(self_repeats(model, site, i, m, location[0]) for i, m in site.roots):
            return True
        roots = [i for i, _ in site.roots]
        return any(
            _two_threads(model, i, j, location[0]) for n, i in enumerate(roots) for j in roots[n + 1 :]
        )
    return may_race(model, site, other, location)


def _partner_text(model: Model, site: Site, other: Site) -> str:
    if other is site:
        return "several threads run it at once"
    where = _where(model, other, site.path)
    if other.roots:
        return f"another thread also writes it at {where}"
    return f"the thread that starts it also writes it at {where}"


@register
class UnsynchronizedSharedMutation(_RaceRule):
    """
    ## What it does
    Flags a write to shared state (assignment, `del`, item assignment, a
    mutating method such as `append`) made without a lock, in code that runs
    on a thread or in a concurrent API (a class that takes its lock in
    several methods, a module that takes a module lock in several
    functions, or one declared thread-safe: see
    [concepts](../concepts.md)), when

    - most other accesses of that state hold a lock (inconsistent locking:
      the unlocked accesses weigh less than half, writes counting twice;
      the message names the lock and how many accesses hold it), or
    - the state is declared `# guarded-by: <lock>`, or
    - it is a module global rebound by a thread that runs several times at
      once (not to a literal or a fresh empty container, which is the same
      whichever thread stores it last, and not as the action of a lazy
      initialisation `if _x is None: _x = ...`, which TL103 reports).

    ## Why is this bad?
    When the code around a piece of state takes a lock to touch it, the
    author meant that lock to protect it. The one write that skips it breaks
    the invariant the lock was keeping: readers holding the lock can see a
    half-updated structure, and a locked read-then-write can be overwritten
    in between.

    ## Example
    ```python
    class Registry:
        def __init__(self):
            self._lock = threading.Lock()
            self._items = {}

        def add(self, key, value):
            with self._lock:
                self._items[key] = value

        def get(self, key):
            with self._lock:
                return self._items.get(key)

        def reset(self):  # called from a worker thread
            self._items = {}  # TL101: other accesses hold self._lock
    ```

    ## Use instead
    ```python
        def reset(self):
            with self._lock:
                self._items = {}
    ```

    ## How to suppress
    `# noqa: TL101` on the line. When a helper is always called with the lock
    held but threadlint cannot see every caller, take the lock in the helper
    or declare the state `# guarded-by: self._lock` and check the callers.

    ## Known limits
    Only code that a thread root or a concurrent API reaches is checked (see
    [concepts](../concepts.md)). A write holding a *different* lock than the
    others is not reported. Objects passed between threads through
    parameters are not followed: only `self` attributes of shared classes,
    class attributes and module globals are shared state. Code that runs
    only in a forked child (after comparing `os.getpid()` with a stored
    pid) is single-threaded, but threadlint does not see it: add a
    `# noqa: TL101` there.

    ## Why preview
    Before concurrent APIs, TL101 reported 2 findings on 96 installed
    packages and six CPython standard libraries (1 false positive, the fork
    child above, and 1 debatable): too little evidence to meet threadlint's
    bar (9 in 10 findings a maintainer agrees with). With concurrent APIs
    it reports many more on threading-heavy libraries; the rule stays in
    preview until an independent, strict judgement of a sample of those
    shows the bar is met.
    """

    code = "TL101"
    name = "unsynchronized-shared-mutation"
    summary = "Shared state written without the lock that its other accesses hold"
    preview = True

    def find(self, model: Model, preview: bool) -> Iterator[Diagnostic]:
        for location, sites in model.sites.items():
            scope = location[0]
            guard = model.guards.get(location)
            majority = _majority_lock(sites)
            for site in sites:
                access = site.access
                if not site.roots or access.kind not in (F.REBIND, F.ITEM_WRITE, F.MUTATE):
                    continue
                if site.locks:
                    continue
                name = describe(location)
                verb = _VERBS[access.kind]
                if guard is not None:
                    lock, line, path = guard
                    declared = f"line {line}" if path == site.path else f"{path}:{line}"
                    if _races_with_any(model, site, sites, location):
                        yield self.diagnostic(
                            site,
                            f"`{name}` is {verb} without holding `{lock}`, which guards it "
                            f"(`# guarded-by` at {declared}): another thread can see a "
                            f"half-made change or overwrite it; hold `{lock}` here too; "
                            f"{evidence(model, site)}",
                        )
                    continue
                if majority is not None:
                    lock, held, total, example = majority
                    if any(
                        may_race(model, site, other, location)
                        for other in sites
                        if lock in other.locks
                    ):
                        yield self.diagnostic(
                            site,
                            f"`{name}` is {verb} without a lock, but {held} of {total} "
                            f"accesses hold `{_lock_text(model, lock)}` "
                            f"(e.g. {_where(model, example, site.path)}): a thread holding "
                            f"it can see this change half-made or lose it; hold "
                            f"`{_lock_text(model, lock)}` here too; {evidence(model, site)}",
                        )
                        continue
                if (
                    scope == "global"
                    and access.kind == F.REBIND
                    and not access.constant
                    and not access.checked  # lazy initialisation: TL103's
                    and any(self_repeats(model, site, i, m, scope) for i, m in site.roots)
                ):
                    yield self.diagnostic(
                        site,
                        f"global `{name}` is rebound without a lock by code that runs on several "
                        f"threads at once: {evidence(model, site)}",
                    )


def _lock_text(model: Model, key: str) -> str:
    """A lock key as the code spells it: `self._lock`, `_lock` for a global
    of the module, `Cls._lock` for a class attribute."""
    if key.startswith("~"):
        return key.partition(":")[2]
    owner, _, name = key.rpartition(".")
    if owner in model.modules:
        return name
    if owner in model.classes:
        return f"{owner.rpartition('.')[2]}.{name}"
    return key


def _majority_lock(sites: list[Site]) -> tuple[str, int, int, Site] | None:
    """The lock most accesses hold, when unlocked accesses weigh less than half
    (writes count twice): (lock, accesses holding it, all accesses, one of them)."""
    weights: dict[str, int] = {}
    counts: dict[str, int] = {}
    examples: dict[str, Site] = {}
    total = unlocked = 0
    for site in sites:
        weight = 2 if site.access.kind in F.WRITE_KINDS else 1
        total += weight
        locks = real_locks(site.locks)
        if not site.locks:
            unlocked += weight
        for lock in locks:
            if lock.startswith("~"):
                continue
            weights[lock] = weights.get(lock, 0) + weight
            counts[lock] = counts.get(lock, 0) + 1
            examples.setdefault(lock, site)
    if not weights or unlocked * 2 >= total:
        return None
    lock = max(weights, key=lambda k: (weights[k], k))
    if counts[lock] < 2:
        return None
    return lock, counts[lock], len(sites), examples[lock]


def _races_with_any(model: Model, site: Site, sites: list[Site], location: F.Location) -> bool:
    return any(_may_run_together(model, site, other, location) for other in sites)


@register
class NonAtomicReadModifyWrite(_RaceRule):
    """
    ## What it does
    Flags a read-modify-write of shared state with no lock held, in code
    that runs on a thread (or in an entry of a concurrent API) while
    something else writes the same state:
    `x += 1`, `self.n -= 1`, `x = x + n`, `d[k] += 1`,
    `d[k] = d.get(k, 0) + 1`, `lst[i] = lst[i] * 2`.

    ## Why is this bad?
    `self.count += 1` is three steps: read `self.count`, add one, store it.
    Two threads can both read 41 and both store 42: one increment is lost.
    The GIL does not prevent it (a thread switch can happen between any two
    bytecodes), and free-threaded builds make it more frequent.

    ## Example
    ```python
    class Stats:
        def __init__(self):
            self.hits = 0

        def record(self):  # submitted to a ThreadPoolExecutor many times
            self.hits += 1
    ```

    ## Use instead
    ```python
    class Stats:
        def __init__(self):
            self._lock = threading.Lock()
            self.hits = 0

        def record(self):
            with self._lock:
                self.hits += 1
    ```
    Or give each thread its own counter and add them up after `join()`, or
    use `itertools.count()` (its `next()` is atomic in CPython).

    ## Reported by default
    A count whose new value some update reads back at once: an id or a
    sequence number (`self._last_id += 1; return self._last_id`), a
    reference count (`self._users -= 1; if self._users == 0: ...`). Two
    threads then get the same number, or the count never reaches zero.
    Every unlocked update of such a count is reported. A statistics counter
    that nothing reads back in the updating code (`self.requests += 1`), or
    reads back only to log it (`log.debug("connection (%d)", self.count)`),
    is reported only with `--preview`: its lost updates are real but cost a
    wrong number in a log line, rarely worth a lock. In a class or module
    declared concurrent in a form meant for threadlint (`# threadlint:
    thread-safe`, `concurrent-api`), every unlocked update is reported:
    its author asked for all its state to be held to the promise. `x = f(x)`
    (`self.sock = wrap(self.sock)`) adds nothing up and is never reported.

    ## How to suppress
    `# noqa: TL102` on the line.

    ## Known limits
    Reported only when another update of the same state may run at the same
    time: the same code on several threads (started in a loop, by a pool,
    by several callers, or an entry of a concurrent API), or another
    read-modify-write on another thread or the starting thread. A plain
    store racing with the update (`self.loaded = 0` on another thread) is
    reported only with `--preview`: the store itself is what can be lost,
    and it is most often a reset made before the thread starts or after it
    stops. In a class or module that is
    concurrent only because it takes a lock, only state that some access
    locks is checked. `lst += [x]` on a list is an in-place `extend` and is
    not reported; tasks of a `ThreadPoolExecutor(max_workers=1)` do not
    overlap. Items of one dict at two different constant keys
    (`d["sent"] += 1`, `d["failed"] += 1`, or a local bound to one
    constant) are separate counts.
    """

    code = "TL102"
    name = "non-atomic-read-modify-write"
    summary = "Read-modify-write of shared state without a lock: concurrent updates can be lost"

    def find(self, model: Model, preview: bool) -> Iterator[Diagnostic]:
        for location, sites in model.sites.items():
            for site in sites:
                access = site.access
                if access.kind != F.RMW or not access.counter or not site.roots or site.locks:
                    continue
                cell = [s for s in sites if _same_cell(s, site)]
                # A count that some update reads back right away (an id, a
                # sequence number, a reference count) decides something, and
                # its lost updates are reported by default; `user` is such
                # an update.
                user = next((s for s in cell if s.access.counter and s.access.used_line), None)
                if not preview and user is None and not _declared(model, site):
                    continue
                # Updates are lost between two updates; a plain store racing
                # with one (a reset to 0, a key set once) loses only itself,
                # and is reported with `--preview`.
                kinds = F.WRITE_KINDS if preview else frozenset({F.RMW})
                other = next(iter(_racing_writes(model, site, cell, location, kinds)), None)
                if other is None:
                    continue
                text = access.text or describe(location)
                harm = "updates can be lost"
                if access.used_line:
                    harm += (
                        f", and the value read back at line {access.used_line} "
                        "can be another thread's (two threads can get the same number)"
                    )
                elif user is not None:
                    harm += f", and the count decides something at {_where(model, user, site.path)}"
                yield self.diagnostic(
                    site,
                    f"`{text}` reads and writes shared `{describe(location)}` with no lock held, "
                    f"and {_partner_text(model, site, other)}: {harm}; do the read, the write "
                    f"and the use under one lock; {evidence(model, site)}",
                )


def _same_cell(site: Site, other: Site) -> bool:
    """Can the two accesses touch the same value: not two items of one
    container at two different constant keys (`d["a"] += 1`, `d["b"] += 1`)?"""
    key, other_key = site.access.key, other.access.key
    return not (key and other_key and key != other_key)


# What goes wrong when another thread acts between the test and the action.
_CHECK_CONSEQUENCES = {
    F.REBIND: "two threads can both find it unset and both set it (one result is lost)",
    F.ITEM_WRITE: "two threads can both pass the test and both write (one value is lost)",
    F.MUTATE: "the state tested can change before the change that relies on it",
    F.RMW: "the state tested can change before the update that relies on it",
    F.ITEM_READ: "another thread can remove the key in between (`KeyError`)",
}


@register
class CheckThenAct(_RaceRule):
    """
    ## What it does
    Flags an `if` that tests shared state and then acts on what it found,
    with no lock held across both, in code that runs on a thread (or in an
    entry of a concurrent API: a lazy `instance()` classmethod or property
    of a class declared thread-safe) while the state can change: `if k not in d: d[k] = v`, `if k in d: del d[k]` or
    `v = d[k]`, lazy initialisation `if self._conn is None: self._conn = ...`,
    `if self.queue: self.queue.pop()`.

    ## Why is this bad?
    Between the test and the action another thread can change the state:
    two threads both see `self._conn is None` and open two connections (one
    leaks), or both see `k in d` and the second `del d[k]` raises `KeyError`.

    ## Example
    ```python
    def get_connection(self):  # called from worker threads
        if self._conn is None:
            self._conn = connect()
        return self._conn
    ```

    ## Use instead
    ```python
    def get_connection(self):
        with self._lock:
            if self._conn is None:
                self._conn = connect()
            return self._conn
    ```
    Double-checked locking (test, take the lock, test again, act) is fine
    and not reported; so are the atomic one-call forms `d.setdefault(k, v)`
    and `d.pop(k, None)`.

    ## Reported by default
    Where the code says the state needs a lock: most of its accesses hold
    one (the message names it), it is declared `# guarded-by`, or its class
    or module is declared concurrent (`# threadlint: thread-safe`,
    `concurrent-api`). There, a test whose action fails when the item it
    found is gone: `d[k]`, `del d[k]`, `d.pop(k)`, `lst.remove(x)`, `q.popleft()`, `d[k] += 1`
    after `k in d` or a non-empty test, while another thread can take the
    item away (`pop`, `del`, `remove`, `clear`, or `None` or an empty
    container bound to the name); `popitem()`, `popleft()` and `pop()`,
    which take any item, only after a test that the container is not
    empty (`if q:`, `if len(q) > 0:`), not after a threshold
    (`if len(d) > 1024:`). The action then raises `KeyError`, `IndexError` or
    `ValueError`. Lazy initialisation (`if self._conn is None:`) and
    fill-if-missing (`if k not in d: d[k] = v`) are reported only with
    `--preview`: computing the value twice is often harmless, and
    threadlint cannot tell when it is not, except in code declared
    concurrent by `# threadlint: thread-safe` or `concurrent-api`, whose
    author asked for every check-then-act to be reported. A read after
    `k in d` is not reported at all when nothing can take `k` away.
    Without such a word
    from the code (a thread root alone, or a docstring that calls the
    class thread-safe), every check-then-act is reported only with
    `--preview`: on real packages these were registries filled at start-up
    and caches emptied at close, whose maintainers would not add a lock.

    ## How to suppress
    `# noqa: TL103` on the `if` line.

    ## Known limits
    The test and the action must be in the same `if` statement (its body,
    `elif`s and `else`); a test that returns early
    (`if x is not None: return x`) followed by the action is not followed.
    Reported only when another write of the state may run concurrently.
    A test nested in a reported one on the same state is the same race and
    is reported once, at the outer `if`. A constant stored in an `except`
    handler (`if FLAG: try: probe() except OSError: FLAG = False`) memoises
    a failure and is not an action. A lazy initialisation of a value that
    is the same whichever thread computes it is still reported: threadlint
    cannot tell that computing it twice is harmless.
    """

    code = "TL103"
    name = "check-then-act"
    summary = "A test of shared state and the action relying on it, with no lock held across both"

    def find(self, model: Model, preview: bool) -> Iterator[Diagnostic]:
        checks_by_location: dict[F.Location, list[tuple[str, F.CheckAct]]] = {}
        for fid, function in model.functions.items():
            if not function.checks or not model.is_concurrent(fid):
                continue
            for check in function.checks:
                checks_by_location.setdefault(canonical(model, check.location), []).append(
                    (fid, check)
                )
        for location, checks in checks_by_location.items():
            sites = model.sites.get(location)
            if not sites:
                continue
            reported: set[tuple[str, int]] = set()
            for fid, check in sorted(checks, key=lambda item: (item[0], item[1].line)):
                if (fid, check.outer_line) in reported:
                    continue  # a test nested in a reported one: the same race
                inherited = model.inherited.get(fid, frozenset())
                if (check.test_locks | inherited) & (check.action_locks | inherited):
                    continue
                if any(k.startswith(F.UNKNOWN_LOCK) for k in check.test_locks | check.action_locks):
                    continue
                site = next(
                    (
                        s
                        for s in sites
                        if s.function == fid
                        and s.access.line == check.action_line
                        and s.access.kind == check.action_kind
                    ),
                    None,
                )
                if site is None or not site.roots:
                    continue
                racing = list(_racing_writes(model, site, sites, location))
                # A test whose action fails when the item is gone, against a
                # write that can take it away, is reported by default.
                removal = next((o for o in racing if o.access.removes), None) if check.raises else None
                if not racing or (removal is None and check.action_kind == F.ITEM_READ):
                    continue  # a read after `k in d` fails only if `k` can go
                reported.add((fid, check.line))
                locked = _meant_locked(model, site, sites, location)
                if not preview and (removal is None or locked is None) and not _declared(model, site):
                    continue
                other = removal or racing[0]
                action = {
                    F.REBIND: "set",
                    F.ITEM_WRITE: "written",
                    F.MUTATE: "changed",
                    F.RMW: "updated",
                    F.ITEM_READ: "read",
                }[check.action_kind]
                consequence = (
                    _RAISING_CONSEQUENCE.format(where=_where(model, other, site.path))
                    if removal is not None
                    else _CHECK_CONSEQUENCES[check.action_kind]
                )
                yield self.diagnostic(
                    site,
                    f"check-then-act on shared `{describe(location)}`: tested here and {action} at "
                    f"line {check.action_line} with no lock held across both, and "
                    f"{_partner_text(model, site, other)}: {consequence}; "
                    f"hold one lock across the test and the action"
                    f"{f' ({locked})' if locked else ''}; {evidence(model, site)}",
                    (check.line, check.col, check.end_line, check.end_col),
                )


def _meant_locked(model: Model, site: Site, sites: list[Site], location: F.Location) -> str | None:
    """Why the code says that this state is shared by threads and needs a
    lock, for the message ("" when the evidence names it already; None when
    the code does not say so): most of its accesses hold one (inconsistent
    locking), it is declared `guarded-by`, or it belongs to a class or
    module declared concurrent in a form meant for threadlint.  Elsewhere a
    test and a read without a lock on a thread was mostly a registry filled
    at start-up or a cache emptied at close, which no maintainer would lock
    (docs/precision.md: 1 TRUE of 36 judged)."""
    majority = _majority_lock(sites)
    if majority is not None:
        lock, held, total, example = majority
        return (
            f"{held} of its {total} accesses hold `{_lock_text(model, lock)}` "
            f"(e.g. {_where(model, example, site.path)})"
        )
    guard = model.guards.get(location)
    if guard is not None:
        return f"it is declared `# guarded-by: {guard[0]}`"
    return "" if _declared(model, site) else None


def _declared(model: Model, site: Site) -> bool:
    """Is the access in, or reached from, a class or module declared
    concurrent in a form meant for threadlint (`# threadlint: thread-safe`,
    `concurrent-api`)?  Its author asked for all its state to be held to
    the promise, statistics counters and lazy initialisations included."""
    owner = model.functions[site.function].cls or model.module_of(site.function)
    return owner in model.declared or any(model.roots[i].api == DECLARED for i, _ in site.roots)


_RAISING_CONSEQUENCE = (
    "another thread can take the item away in between (at {where}), and the action "
    "then raises (`KeyError`, `IndexError` or `ValueError`)"
)


# What a resize during the iteration does: a dict or set iterator checks its
# size on every step and raises; a list iterator only walks an index, so it
# never raises but moves past or back onto items that shifted under it.
_MAPPING_HARM = "`RuntimeError: changed size during iteration`"
_LIST_HARM = "items can be skipped or seen twice (a list does not raise)"


@register
class IterationOverMutatedContainer(_RaceRule):
    """
    ## What it does
    Flags iteration (`for`, a comprehension, `list(d)`, `sorted(d)`,
    `d.items()`...) over a shared dict, set or list in code that runs on a
    thread (or in an entry of a concurrent API), when another thread can
    add or remove items at the same time and no lock is held by both.

    ## Why is this bad?
    A dict or set that changes size during iteration raises
    `RuntimeError: dictionary changed size during iteration`. A list never
    raises: its iterator walks an index, so an item inserted or removed
    before that index makes the loop skip an item or see one twice, and a
    loop over `range(len(items))` can hit `IndexError`. The failure
    depends on timing, so it shows up in production, not in tests.

    ## Example
    ```python
    def broadcast(self, message):  # runs on a worker thread
        for client in self.clients:
            client.send(message)

    def connect(self, client):  # runs on the accept thread
        with self._lock:
            self.clients.append(client)
    ```

    ## Use instead
    ```python
    def broadcast(self, message):
        with self._lock:
            clients = list(self.clients)  # a copy taken under the lock
        for client in clients:
            client.send(message)
    ```

    ## Reported by default
    Iterations of dicts, sets and deques (their iterators raise
    `RuntimeError` when the size changes). A list only skips or repeats an
    item, which is often harmless: lists, and containers whose type
    threadlint cannot see, are reported only with `--preview`.

    ## How to suppress
    `# noqa: TL104` on the line of the iteration.

    ## Known limits
    Only mutations that can change the size are counted (`append`, `pop`,
    `d[k] = v` on a dict, `del`...); rebinding the attribute to a new
    container does not disturb an iteration of the old one, and a store at
    a key the same function has just read (`if d[k] == "queued": d[k] =
    "done"`, the read earlier in a block around the store, neither the key
    nor the container rebound in between) replaces a value. Copying a
    container in one call (`list(d)`, `sorted(s)`, `list(d.keys())`,
    `d.copy()`, `list(d.items())`) is atomic in CPython and not
    reported. An
    iteration inside a `try` that catches `RuntimeError` is taken as a race
    the author expects. A container handed off by a state change (every
    change holds lock `L` behind a status test, and the status itself
    changes under `L`) is frozen once handed over, and iterating it
    without `L` is not reported; nor is rebinding it to a new value
    (`self.procs = self.procs + (p,)`), which leaves the old one intact.
    A local that took the container just before the shared name was bound
    to a new one (`items, self.items = self.items, []`, or `items =
    self.items` then `self.items = []`) holds an object nothing else
    reaches, and iterating it afterwards is not reported. A timer loop
    that awaits each offloaded round before it sleeps (`while True: await
    loop.run_in_executor(pool, collect); await asyncio.sleep(5)`) runs the
    rounds one after another, so one round's scan does not race the next
    round's update.
    """

    code = "TL104"
    name = "iteration-over-mutated-container"
    summary = "Iterating a shared container that another thread may resize, with no common lock"

    def find(self, model: Model, preview: bool) -> Iterator[Diagnostic]:
        for location, sites in model.sites.items():
            scope = location[0]
            is_list = location in model.lists
            if not preview and location not in model.resize_checked:
                continue  # by default only dicts, sets and deques, which raise
            for site in sites:
                if site.access.kind != F.ITERATE or not site.roots or site.access.tolerated:
                    continue
                if location in model.handed_off:
                    continue
                if any(k.startswith(F.UNKNOWN_LOCK) for k in site.locks):
                    continue
                for other in sites:
                    access = other.access
                    if other is site or access.kind not in F.RESIZING_KINDS or not access.resizes:
                        continue
                    if access.kind == F.ITEM_WRITE and is_list:
                        continue
                    if any(k.startswith(F.UNKNOWN_LOCK) for k in other.locks):
                        continue
                    if site.locks & other.locks:
                        continue
                    same = other.function == site.function
                    if same and not any(
                        self_repeats(model, site, i, m, scope) for i, m in site.roots
                    ):
                        continue
                    if not same and not may_race(model, site, other, location):
                        continue
                    where = _where(model, other, site.path)
                    who = "another thread" if other.roots else "the thread that starts this one"
                    yield self.diagnostic(
                        site,
                        f"iterating shared `{describe(location)}` while {who} can change its size "
                        f"({_VERBS[access.kind]} at {where}) with no common lock: "
                        f"{_LIST_HARM if is_list else _MAPPING_HARM}; iterate a copy taken "
                        f"under the lock that guards its changes; {evidence(model, site)}",
                    )
                    break


# ---------------------------------------------------------------------------
# When two accesses may run at the same time


def self_repeats(
    model: Model, site: Site, root_index: int, modes: frozenset[str], scope: str
) -> bool:
    """Does this root run the site's code several times at once on the same state?"""
    root = model.roots[root_index]
    if scope == "self" and modes <= {SELF, HELD}:
        # The root's own object, or one it made and keeps: shared by its runs
        # only when they run on the same object (not a fresh Thread, handler
        # or worker per run).
        return root.repeats_self and not root.per_instance
    return root.repeats or root.many_instances


def _alternatives(model: Model, i: int, j: int, scope: str) -> bool:
    """Roots that one start resolves to by method override (`Thread(target=
    self._run)` where a subclass overrides `_run`): an object runs one of
    them, so they never share its `self` state (nor anything else, unless
    the start itself runs several times at once).  Likewise roots that
    methods of sibling classes, or an override and the method it replaces,
    start on their own `self`: no object runs both starts."""
    first, second = model.roots[i], model.roots[j]
    if scope == "self" and first.mode == second.mode == SELF and model.exclusive(first, second):
        return True
    if first.at != second.at or first.spawner != second.spawner or not first.at[1]:
        return False
    if first.function == second.function:
        return False
    return scope == "self" or not (first.repeats or second.repeats)


def _two_threads(model: Model, i: int, j: int, scope: str) -> bool:
    """Are roots `i` and `j` two threads that can overlap on state of this
    scope?  Not when they are one root, run on the same single-worker
    executor, or are alternatives that no one object runs both of."""
    if i == j:
        return False
    serial = model.roots[i].serial
    if serial and model.roots[j].serial == serial:
        return False
    return not _alternatives(model, i, j, scope)


def may_race(model: Model, a: Site, b: Site, location: F.Location) -> bool:
    """Can the code of `a` (concurrent) run at the same time as that of `b`?

    Code on no thread runs concurrently with `a` when it is in the code that
    started `a`'s thread (after the start, before the join), or when the
    state is meant to be shared: it belongs to a class that owns a lock, is
    declared thread-safe or is a Thread, or a lock is taken to access it.
    """
    scope = location[0]
    if not a.roots:
        return False
    if not b.roots:
        if any(b.function in model.spawn_context.get(i, ()) for i, _ in a.roots):
            return True
        if not model.edges.get(b.function):
            return False  # nothing calls it: no evidence that it ever runs
        if location in model.locked_locations:
            return True
        function = model.functions[b.function]
        return scope != "global" and function.cls in model.strong_classes
    roots_b = dict(b.roots)
    for index, modes in a.roots:
        if any(_two_threads(model, index, other, scope) for other in roots_b):
            return True
        if index in roots_b and self_repeats(model, a, index, modes | roots_b[index], scope):
            return True
    return False
