"""The concurrency model's per-module summary: plain, picklable, small.

The collector in `threadlint.analysis.model` builds one `ModuleFacts` per
analysed file; the project link (`threadlint.link`) joins them.  No
libcst node is kept: every fact is strings, numbers and tuples of them.

Vocabulary:

- A *location* is shared state, `(scope, owner, name)`:
  `("self", "pkg.mod.Cls", "items")` for `self.items` in a method of `Cls`,
  `("class", "pkg.mod.Cls", "count")` for `Cls.count` / `cls.count`,
  `("global", "pkg.mod", "cache")` for a module global.
- A *lock key* names a held lock: `self._lock` (an attribute of the same
  object as the accesses of `self`), `pkg.mod._lock` (a module global),
  `pkg.mod.Cls._lock` (a class attribute), or, for any other lock-like
  expression, its text prefixed with `~` (held, but comparable with nothing).
  `?` means "a lock may be held here" (a manual `acquire()` whose scope
  could not be followed): it silences rules and is evidence for nothing.
- A *callee* says how a call names its target, for the link to resolve:
  `("name", "pkg.mod.f")` an absolute dotted name (function, class method, or
  something imported), `("self", class id, "m")` for `self.m()` / `cls.m()`,
  `("super", class id, "m")` for `super().m()`, `("inst", class dotted, "m")`
  for a method of an object whose class is visible.
- `("param", function id, "p")` names a callable that the function received
  as its parameter `p`: a call or spawn through it is resolved by the
  function's callers (the *spawner summary*: which parameters reach a
  thread root).
- `("arg", "pkg.mod.f(job)", "m")` is `job.m()` on the parameter `job` of
  `pkg.mod.f` whose type is not written: the link takes it from the call
  sites, when those that show one agree.
- A *slot* says where an argument goes: its position among the positional
  arguments ("0", "1"...) or its keyword.
- A *phase* places a statement of a function that starts threads: `pre`
  (before any thread it starts), `post` (after it joined them), or `""`.
"""

from __future__ import annotations

from dataclasses import dataclass

from threadlint.diagnostics import Diagnostic

Location = tuple[str, str, str]
Callee = tuple[str, str, str]

# Access kinds.
READ = "read"
ITEM_READ = "item-read"  # `x[k]` as a value
TEST = "test"  # a read in the test of an `if`
ITERATE = "iterate"
REBIND = "rebind"  # `x = v`, `del x`
ITEM_WRITE = "item-write"  # `x[k] = v`, `del x[k]`
MUTATE = "mutate"  # a mutating method of a built-in container: `x.append(v)`
RMW = "read-modify-write"  # `x += 1`, `x = x + 1`, `x[k] = x.get(k, 0) + 1`

WRITE_KINDS = frozenset({REBIND, ITEM_WRITE, MUTATE, RMW})
# Changes that make a concurrent iteration fail or skip items.
RESIZING_KINDS = frozenset({ITEM_WRITE, MUTATE, RMW})

UNKNOWN_LOCK = "?"


@dataclass(frozen=True)
class Access:
    location: Location
    kind: str
    line: int
    col: int
    locks: frozenset[str]
    phase: str = ""
    resizes: bool = True  # for mutations: may change the container's size
    text: str = ""  # the statement, shortened, for messages (writes only)
    # Inside a `try` whose handler catches what a lost race raises (KeyError,
    # IndexError, RuntimeError...): the author tolerates the race.
    tolerated: bool = False
    constant: bool = False  # a rebinding to a literal (`flag = True`, `cache = {}`): idempotent
    # Inside an `if` that tests the same location: the action of a
    # check-then-act, which TL103 judges.
    checked: bool = False
    end_line: int = 0  # where the accessed expression ends (1-based, column exclusive)
    end_col: int = 0
    # Other locations whose test the access depends on: it is inside an
    # `if` testing them, or after an `if` testing them that leaves the
    # function (`if self._closed: return`).  A status that gates every
    # mutation of a container is how code hands a frozen container over.
    gates: frozenset[Location] = frozenset()
    # The write can take items away (`del d[k]`, `pop`, `remove`, `clear`,
    # `del x`, `x = {}`, `x = None`): what makes a tested key vanish.
    removes: bool = False
    # For read-modify-writes: an arithmetic update (`n += 1`, `n = n - k`),
    # not `x = f(x)`, and the line where the function reads the new value
    # again (0: never), as an id or a decision does.
    counter: bool = False
    used_line: int = 0
    # The constant key of an item access (`"hits"` in `d["hits"] += 1`):
    # items at two different constant keys are separate cells.
    key: str = ""
    seq: int = 0  # its place in the function's order of steps (see `Call.seq`)


@dataclass(frozen=True)
class Call:
    callee: Callee
    line: int
    locks: frozenset[str]
    phase: str = ""
    owned: bool = False  # the receiver is an object this function created
    repeated: bool = False  # made in a loop or comprehension
    # Arguments that are callables or received callables: (slot, callee).
    callables: tuple[tuple[str, Callee], ...] = ()
    # The receiver is an object `self` made and keeps (`self._parser =
    # Parser()` ... `self._parser.feed()`): it belongs to whoever owns `self`.
    held: bool = False
    # Status tests the call depends on (see `Access.gates`).
    gates: frozenset[Location] = frozenset()
    # Arguments whose class is visible here: (slot, absolute dotted name of
    # what made them), for the types of the callee's parameters.
    arg_classes: tuple[tuple[str, str], ...] = ()
    # Made inside a lambda: it runs when the lambda is called (later, maybe
    # on another thread, as a loop callback), not when this function runs.
    deferred: bool = False
    # Where the call starts (1-based column) and ends (column exclusive):
    # a lock-order finding made by a call is reported on it.
    col: int = 0
    end_line: int = 0
    end_col: int = 0
    # Inside a `try` whose handler takes every exception and goes on: what
    # the callee raises does not leave this function.
    shielded: bool = False
    # Its place in the function's order of steps, and the place from which
    # a thread it starts runs: the entry of the outermost loop around it
    # (the loop's next round runs after the start too), else `seq`.  The
    # link uses them when the callee turns out to start a thread.
    seq: int = 0
    start_at: int = 0


@dataclass(frozen=True)
class Spawn:
    """A thread root created here: `target` will run on another thread."""

    target: Callee
    api: str
    line: int
    repeats: bool  # started in a loop, or by an API that runs it many times
    # The function joins it before returning (`t.start(); t.join()`, the end
    # of `with ThreadPoolExecutor()`): calls of the spawner do not overlap
    # through it, however many there are.
    joined: bool = False
    # Handed to a `ThreadPoolExecutor(max_workers=1)`: one task at a time.  The
    # executor's key: tasks with the same one never overlap.
    serial: str = ""
    # How the target is named: "" (the callable itself), "returned" (the
    # target is what calling `target` returns: a factory's closure, or a
    # task object whose class defines `__call__`).
    via: str = ""
    # The target is a method of an object the spawner made just before
    # (`w = Worker(); Thread(target=w.run)`): each start runs on its own.
    fresh: bool = False


@dataclass(frozen=True)
class Acquire:
    """A lock this function takes itself: `with L:`, `L.acquire()`, `if L.acquire(False):`."""

    key: str
    line: int
    col: int = 0
    end_line: int = 0
    end_col: int = 0
    # The locks already held there (earlier items of the same `with`
    # included): the lock-order graph's edges into `key`.
    held: frozenset[str] = frozenset()
    # False for `acquire(False)`, `blocking=False` or a timeout: it cannot
    # wait for ever, so it cannot deadlock.
    blocking: bool = True
    phase: str = ""


@dataclass(frozen=True)
class CheckAct:
    """`if <test of location>: <action on location>` (TL103)."""

    location: Location
    line: int
    col: int
    test_locks: frozenset[str]
    action_kind: str
    action_line: int
    action_locks: frozenset[str]
    phase: str = ""
    # The line of an enclosing `if` that tests the same location (0: none):
    # a nested test is part of the same check-then-act.
    outer_line: int = 0
    end_line: int = 0  # the end of the `if` test
    end_col: int = 0
    # The action fails when the tested item is gone: `d[k]`, `del d[k]`,
    # `d.pop(k)`, `lst.remove(x)`, `q.popleft()`, `d[k] += 1`.
    raises: bool = False
    seq: int = 0  # the place of the test in the function's order of steps


@dataclass(frozen=True)
class ThreadCall:
    """A call that works only on one thread: its event loop's (TL501) or
    the main thread (TL502)."""

    code: str  # the rule that judges it: "TL501" or "TL502"
    api: str  # what is called, for messages: "loop.call_soon", "signal.signal"
    text: str  # the call as written, shortened
    line: int
    col: int
    end_line: int
    end_col: int
    # TL501: the asyncio object acted on and the loop it belongs to, as
    # locations (`("local", function id, name)` for a local variable); None
    # for the loop of the calling thread (`asyncio.create_task(coro)`).
    target: Location | None = None
    loop: Location | None = None
    evidence: str = ""  # why the receiver is an asyncio object
    # The tests of the running thread or loop it depends on ("12:body,30:after"):
    # under `if in_loop:`, or after `if not in_loop: return`.  "" when none.
    branch: str = ""
    phase: str = ""
    # In a test module or test function, which calls every method on purpose.
    test: bool = False


@dataclass(frozen=True)
class LoopUse:
    """An asyncio object a function makes, stores or runs (so it belongs to
    the function's thread), or a loop it hands work to with a thread-safe
    call (so the function expects to run off that loop's thread)."""

    location: Location
    how: str  # "makes", "stores" (a received object), "runs" or "threadsafe"
    line: int
    branch: str = ""  # as `ThreadCall.branch`


@dataclass(frozen=True)
class Function:
    id: str  # "pkg.mod.Cls.method", "pkg.mod.outer.inner", "pkg.mod.f.<lambda:12>"
    name: str
    cls: str | None  # the class whose method this is (or nested in one)
    line: int
    is_async: bool
    entry: bool  # `# threadlint: thread-entry` or a configured entry decorator
    accesses: tuple[Access, ...] = ()
    calls: tuple[Call, ...] = ()
    spawns: tuple[Spawn, ...] = ()
    checks: tuple[CheckAct, ...] = ()
    # Locks this function takes itself, in order.
    acquires: tuple[Acquire, ...] = ()
    # Its parameters that callers bind by position, then by keyword only
    # (the bound `self`/`cls` of a method left out), and whether it takes
    # `*args`/`**kwargs`.
    params: tuple[str, ...] = ()
    keyword_params: tuple[str, ...] = ()
    star: bool = False
    # Callables it returns (`return inner`, `return self.check`): a factory.
    returns: tuple[Callee, ...] = ()
    # It assigns a new thread lock to an attribute of `self` outside
    # `__init__`: it rebuilds the object (after a fork, on reset).
    rebuilds: bool = False
    # It releases a lock it did not take: a lock taken in another call
    # (`acquire()` in one method, `release()` in another).
    releases_unheld: bool = False
    # Callables it stores in a container (`self._callbacks.append(fn)`,
    # `self._tasks.put(job)`, `handlers[name] = fn`): (container, callee, line).
    registers: tuple[tuple[Location, Callee, int], ...] = ()
    # Containers whose items it calls (`for cb in self._callbacks: cb()`,
    # `job = self._tasks.get(); job()`).
    invokes: frozenset[Location] = frozenset()
    # Calls that must run on one particular thread (TL501, TL502), and the
    # asyncio objects this function makes, runs or hands work to.
    thread_calls: tuple[ThreadCall, ...] = ()
    loop_uses: tuple[LoopUse, ...] = ()
    # Steps that evidently can raise out of it (`analysis/raise_evidence.py`):
    # (line, why), and the values it stores in attributes that callers may
    # call as callbacks: (attribute, callee; None for what is not a
    # callable's name).
    raises: tuple[tuple[int, str], ...] = ()
    slot_stores: tuple[tuple[str, Callee | None], ...] = ()
    # It starts threads itself (`phase` is set from those starts), and may
    # return while one it started still runs (no join after the last start).
    starts: bool = False
    leaves_running: bool = False


@dataclass(frozen=True)
class ClassFacts:
    id: str
    name: str
    line: int
    bases: tuple[str, ...]  # absolute dotted names of the resolvable bases
    methods: frozenset[str]
    thread_safe: bool  # `# threadlint: thread-safe` on the class line
    lock_attrs: frozenset[str]  # attributes holding a thread lock
    safe_attrs: frozenset[str]  # attributes holding thread-safe objects
    assigned: frozenset[str]  # attributes assigned in its methods or body
    lists: frozenset[str] = frozenset()  # attributes that are lists (for `+=`)
    # Attributes that are dicts, sets or deques: their iterators raise when
    # the size changes under them.
    resize_checked: frozenset[str] = frozenset()
    guarded: tuple[tuple[str, str, int], ...] = ()  # (attr, lock key, line)
    # Its docstring says that it is thread-safe ("This class is thread-safe."),
    # all of it or only the methods it names (`documented_methods`).
    documented_safe: bool = False
    documented_methods: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Server:
    """A socketserver-style server constructed with a request handler class."""

    server: str  # absolute dotted name of the server class
    handler: str  # absolute dotted name of the handler class
    line: int


# Where a deferred finding's message says what can raise.
BLAME = "\x00"


@dataclass(frozen=True)
class Deferred:
    """A file rule's finding that holds only if one of `calls` can raise,
    which the project link decides (`threadlint.raising`)."""

    diagnostic: Diagnostic  # its message has `BLAME` where the reason goes
    function: str  # the id of the function that makes the calls
    calls: tuple[tuple[int, int, str], ...]  # (line, column, code shown) of each call


@dataclass(frozen=True)
class ModuleFacts:
    module: str
    functions: tuple[Function, ...]
    classes: tuple[ClassFacts, ...]
    imports: tuple[tuple[str, str], ...]  # module-level: local name -> absolute dotted
    safe_globals: frozenset[str]
    list_globals: frozenset[str]
    resize_checked_globals: frozenset[str] = frozenset()
    guarded_globals: tuple[tuple[str, str, int], ...] = ()
    servers: tuple[Server, ...] = ()
