"""Statements that cannot raise in practice.

TL301 asks whether anything between `lock.acquire()` and `lock.release()`
(or before the `try:` whose `finally` releases) can raise: if nothing can,
the release is reached on every path and the manual locking is safe.  TL201
asks the same of the steps between a Timer's `start()` and its `cancel()`.

"Cannot raise" is meant as real code needs it, not as the language allows.
Every bytecode can raise `MemoryError` or an asynchronous
`KeyboardInterrupt`, and no locking pattern survives those either. A key
that cannot be hashed, a tuple unpacked into the wrong number of names, a
built-in container of values that cannot be added or ordered: these are
programming errors that fail on every run. They do not leave a lock held
now and then.

Steps that cannot raise:

- `pass`, `global`, `nonlocal`; storing a safe value (below) in a local
  or global name, in an attribute of a name or of a name's attribute
  (`self.owner = me`, `state.busy = True`, `self._local.depth = 0`), or at
  a key of a built-in mapping (`self._entries[key] = value`,
  `self.__dict__[name] = value`);
- `+=` / `-=` of a safe value on such a target (at a key, one that can be
  read: see below);
- `del d[k]` where `d[k]` can be read;
- a call of the tables below, as a statement;
- `if` and `while` whose tests are safe values, and `for` over a built-in
  container, one of its views (`d.items()`) or a `range()`, when the loop
  does not change the size of a dict, set or deque it iterates ("changed
  size during iteration"; a list changed so skips items but does not raise). Their
  bodies must be made of such steps, and may leave with `return`, `break` or
  `continue`.

Safe values: names, constants, attributes of a name, displays of them, and
`not`, `-`, `+`, `and`, `or` and `x if c else y` of them. Comparisons count
too: `==`, `!=`, `is`, `in` a built-in container, and `<`, `<=`, `>`, `>=`
against a number or a `len()`, or between names and attributes
(`self._inflight < self._max_inflight`: counters and limits; values that
cannot be ordered are a programming error). So do a subscript of a
`Counter` (a missing key reads 0), of a mapping at a key known to be in
it, or `[0]` / `[-1]` of a list or deque known not to be empty. The calls
that cannot raise are:

- the interpreter's own state: `threading.current_thread()`, `get_ident()`,
  `get_native_id()`, `os.getpid()`, the clocks of `time`;
- `time.sleep()` of a constant that is not negative (a warm-up task's
  `lambda: time.sleep(0.1)`);
- making a `threading` lock, condition, semaphore or event (a
  `multiprocessing` one can fail: no semaphores on the platform);
- builtins on values: `len`, `bool`, `id`, `isinstance`, `callable`, `type`,
  `hasattr` and `getattr` with a default;
  builtins over a built-in container or view: `sum`, `sorted`, `list`,
  `tuple`, `set`, `frozenset`, `any`, `all`, `enumerate`, and `min` / `max` with a
  `default=` or of two or more values (of an empty sequence they raise);
  `range()`;
- making a built-in container (`dict()`, `Counter(...)`, `deque(...)`);
- the methods of the built-in containers in `_MAPPING_METHODS`,
  `_SEQUENCE_METHODS` and `_SET_METHODS` below: `d.get(k)`,
  `d.pop(k, None)`, `d.clear()`, `d.values()`, `l.append(x)`, `s.add(x)`...
  A method that raises when the container is empty (`q.popleft()`, `l.pop()`)
  counts only where the container is known not to be empty. One that raises
  on a missing key (`d.pop(k)`, `s.remove(x)`) counts only where the key is
  known to be in it;
- `append` / `appendleft` of a safe value to an object of unknown type,
  which `append` almost always is;
- a logging call (`debug`, `info`, `warning`, `error`, `exception`,
  `critical`, `log`) with a constant message on `logging`, on a logger made
  by `logging.getLogger()`, or on an object named like one (`log`,
  `self._logger`, `LOGGER`): logging formats the message and catches its
  handlers' errors itself (`Handler.handleError`);
- `put(item)` and `put_nowait(item)` of a `queue.Queue` (or `LifoQueue`,
  `PriorityQueue`, `SimpleQueue`) made with no `maxsize`: it never blocks
  and is never full (`shutdown()`, new in 3.13, aside);
- on the condition held in the window: `notify()`, `notify_all()`, `wait()`
  and `wait(timeout)`; on any event: `set()`, `clear()`,
  `is_set()`; `locked()` on a lock; `acquire()` of another thread lock,
  with or without `blocking=False` or a timeout (it waits or returns
  False, it does not raise), and its `release()`.

What is known: inside `if t:` that `t` is true (and false in its `else`); in
the right operand of `a and b`, that `a` is true; after `if t: <leave>`, that
`t` is false; after `while t:` (no `break`), that `t` is false; in
`for k in d:`, that `k in d`; in `for i in range(len(seq)):` (or
`range(0, len(seq))`, `for i, x in enumerate(seq):`), that `i` is an index of
`seq` (`seq[i]`, `seq.pop(i)`, `seq[i] = x`), as is `seq.index(x)` with `x`
in `seq`. `not q` and `len(q) == 0` say the same thing
about a container. A store and a call that changes a container forget what
was known about what they change (one that only grows keeps its keys). A
`wait()` lets other threads in, so it forgets everything.

A call of a function of the module (named directly, or `self.method()` of
the enclosing class that no class of the module overrides, undecorated)
cannot raise when its arguments are safe values and every step of its body
cannot raise, judged the same way a few calls deep (`def socket(self):
return self._sock`).

A `with` of another thread lock (or condition) counts as one step: taking
it waits, it does not raise; its body must not raise, and a condition it
takes is held in there. A `try` counts as one step: its parts must not raise, except its body
when a catch-all handler (`except Exception:`, a bare `except:`) takes what
the body raises and goes on, or when what fails there is a lookup of a
missing item and a handler takes that error (`l.pop(i)` under
`except IndexError:`). A `def` without decorators is a step that cannot
raise when its default values cannot. `sys.version_info` and its items are
constants.

With `assume_calls` (TL301's second pass, see `raise_evidence.py`), calls
of unknown code are taken as not raising and noted in `assumed`, and so are
operations on values of unknown type (their subscripts, orderings,
iteration, attribute chains, `with`) and the held lock's own release and
re-acquire inside the window: what still fails fails by itself.

Anything else can raise: a call of a function or method of another module
or of unknown code (a callback, a user function), I/O, a subscript of an
object of unknown type, a key not known to be present, `raise`.

Items: with `trust_items`, an item of a list or mapping, once read
safely, is trusted to have the shape the code gave it: its items and
attributes can be read (`self._filters[i][0]` of a list of pairs,
`self._messages[i].mid`) and its attributes stored. What the code puts in
its containers is its own invariant, which a reader of one window cannot
check: TL301 reports a window that fails only through such items in
preview alone, and names in its default findings the call that can raise.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import libcst as cst

from threadlint.analysis import threading_api as api
from threadlint.analysis.calls import method_call
from threadlint.analysis.context import ModuleContext, catches, catches_all
from threadlint.analysis.locks import small_statements
from threadlint.analysis.state_api import CONTAINER_FACTORIES, MUTATORS, VIEWS
from threadlint.analysis.walk import children, descendants


class Reach(enum.Enum):
    """How the steps after an `acquire()` end."""

    HELD = "held"  # normally, the lock still held
    LEFT = "left"  # each path released the lock or left the block (return, break) first
    RAISES = "raises"  # a step can raise while the lock is held


# Calls that return a value of the running interpreter and cannot fail.
_SAFE_CALLS = frozenset(
    {
        "threading.current_thread",
        "threading.currentThread",
        "threading.get_ident",
        "threading.get_native_id",
        "_thread.get_ident",
        "time.monotonic",
        "time.monotonic_ns",
        "time.perf_counter",
        "time.perf_counter_ns",
        "time.time",
        "time.time_ns",
        "os.getpid",
    }
)
_THREADING_FACTORIES = frozenset(
    {
        "threading.Lock",
        "threading.RLock",
        "threading.Condition",
        "threading.Semaphore",
        "threading.BoundedSemaphore",
        "threading.Event",
        "_thread.allocate_lock",
    }
)
_VALUE_BUILTINS = frozenset({"len", "bool", "id", "isinstance", "callable", "type", "range"})
_ATTRIBUTE_BUILTINS = frozenset({"getattr", "hasattr"})
_ITERATING_BUILTINS = frozenset(
    {"sum", "sorted", "list", "tuple", "set", "frozenset", "any", "all", "min", "max", "enumerate"}
)
# Of those, the ones whose result is iterated without running code of the
# project (a built-in container, a range, an enumeration of one).
_CONTAINER_BUILTINS = frozenset(
    {"sorted", "list", "tuple", "set", "frozenset", "range", "enumerate"}
)

_MAPPINGS = frozenset(
    {
        "dict",
        "collections.OrderedDict",
        "collections.defaultdict",
        "collections.Counter",
        "weakref.WeakValueDictionary",
        "weakref.WeakKeyDictionary",
    }
)
_SEQUENCES = frozenset({"list", "collections.deque"})
_SETS = frozenset({"set", "weakref.WeakSet"})


@dataclass(frozen=True)
class _Method:
    """A container method that cannot raise when called with `arity`
    positional arguments (safe values) and, if `needs` says so:
    "iterable": the argument is a built-in container, a view or a range;
    "mapping": the argument is a built-in mapping or a dict display;
    "nonempty": the container is known not to be empty;
    "end": the argument is `0` or `-1` and the container is known not to
    be empty;
    "key": the argument is known to be in the container;
    "index": the argument is known to be an index of the list."""

    arity: tuple[int, ...]
    needs: str = ""


_M = _Method
_MAPPING_METHODS: dict[str, tuple[_Method, ...]] = {
    "get": (_M((1, 2)),),
    "keys": (_M((0,)),),
    "values": (_M((0,)),),
    "items": (_M((0,)),),
    "copy": (_M((0,)),),
    "clear": (_M((0,)),),
    "setdefault": (_M((1, 2)),),
    "pop": (_M((2,)), _M((1,), "key")),
    "popitem": (_M((0,), "nonempty"),),
    "update": (_M((0,)), _M((1,), "mapping")),
}
# `Counter.update(iterable)` counts the items; `dict.update` wants pairs.
_COUNTER_METHODS: dict[str, tuple[_Method, ...]] = {
    "update": (_M((0,)), _M((1,), "iterable")),
    "subtract": (_M((0,)), _M((1,), "iterable")),
    "most_common": (_M((0, 1)),),
    "elements": (_M((0,)),),
    "total": (_M((0,)),),
}
_SEQUENCE_METHODS: dict[str, tuple[_Method, ...]] = {
    "append": (_M((1,)),),
    "extend": (_M((1,), "iterable"),),
    "count": (_M((1,)),),
    "remove": (_M((1,), "key"),),
    "index": (_M((1,), "key"),),
    "copy": (_M((0,)),),
    "clear": (_M((0,)),),
    "reverse": (_M((0,)),),
    "pop": (_M((0,), "nonempty"),),
}
_LIST_METHODS: dict[str, tuple[_Method, ...]] = {
    "insert": (_M((2,)),),
    "pop": (_M((0,), "nonempty"), _M((1,), "end"), _M((1,), "index")),
}
_DEQUE_METHODS: dict[str, tuple[_Method, ...]] = {
    "appendleft": (_M((1,)),),
    "extendleft": (_M((1,), "iterable"),),
    "rotate": (_M((0, 1)),),
    "popleft": (_M((0,), "nonempty"),),
}
_SET_METHODS: dict[str, tuple[_Method, ...]] = {
    "add": (_M((1,)),),
    "discard": (_M((1,)),),
    "copy": (_M((0,)),),
    "clear": (_M((0,)),),
    "remove": (_M((1,), "key"),),
    "pop": (_M((0,), "nonempty"),),
    **{
        name: (_M((1,), "iterable"),)
        for name in (
            "update",
            "difference_update",
            "intersection_update",
            "symmetric_difference_update",
            "union",
            "intersection",
            "difference",
            "symmetric_difference",
            "issubset",
            "issuperset",
            "isdisjoint",
        )
    },
}

_APPENDS = ("append", "appendleft")
# Queues whose `put()` cannot raise when made with no `maxsize`.
_UNBOUNDED_QUEUES = frozenset(
    {"queue.Queue", "queue.LifoQueue", "queue.PriorityQueue", "queue.SimpleQueue"}
)
# Mutators that only add: what was in the container stays in.
_GROWERS = frozenset(
    {"append", "appendleft", "extend", "extendleft", "insert", "add", "update", "setdefault"}
)
_NOTIFIES = ("notify", "notify_all", "notifyAll")
_EVENT_METHODS = frozenset({"set", "clear", "is_set", "isSet"})
_LOG_KEYWORDS = frozenset({"exc_info", "stack_info", "stacklevel", "extra"})
_CONSTANTS = (cst.Integer, cst.Float, cst.Imaginary, cst.SimpleString, cst.Ellipsis)
_EQUALITIES = (cst.Is, cst.IsNot, cst.Equal, cst.NotEqual)
ORDERINGS = (cst.LessThan, cst.LessThanEqual, cst.GreaterThan, cst.GreaterThanEqual)
_EXITS = (cst.Return, cst.Break, cst.Continue)
_DIVISIONS = (cst.Divide, cst.FloorDivide, cst.Modulo)

# `held(receiver)` says whether `receiver` is the condition held in the
# window (the caller knows which lock that is): its `wait()` and `notify()`.
Check = Callable[[cst.BaseExpression], bool]
# `ends(step)` says whether a step releases the lock (a `release()`, a `try`
# whose `finally` releases): the window ends there.
Ends = Callable[[cst.CSTNode], bool]

# What is known, as clauses (one literal of each is true). A literal is an
# atom and its truth; atoms: ("truthy", X), ("in", K, X) and ("code", text),
# with X and K the code of the expressions.
_Atom = tuple[str, ...]
_Literal = tuple[_Atom, bool]
_Clause = frozenset[_Literal]


# Calls of the module's functions are followed this deep.
_CALLEE_DEPTH = 3


def is_docstring(step: cst.CSTNode) -> bool:
    return isinstance(step, cst.Expr) and isinstance(step.value, (cst.SimpleString, cst.ConcatenatedString))


def never_ends(step: cst.CSTNode) -> bool:
    """An `Ends` for a window no step of which releases the lock."""
    return False


class CannotRaise:
    """Checks steps in the order they run, and learns from them what holds
    after them (see "What is known" above): one instance per window."""

    def __init__(
        self,
        ctx: ModuleContext,
        held: Check,
        is_lock: Check | None = None,
        trust_items: bool = False,
        assume_calls: bool = False,
    ) -> None:
        self.ctx = ctx
        # With `assume_calls`, the calls of unknown code found in the way
        # (see `_unknown`): what fails then fails on its own.
        self.assumed: list[cst.Call] | None = [] if assume_calls else None
        self.held = held
        # Whether items of the code's containers are trusted to have the
        # shape it gave them (see "Items" in the module doc).
        self.trust_items = trust_items
        # `other_lock.acquire()` waits, it does not raise: two locks taken in
        # a row before the `try:` that releases both.
        self.is_lock = is_lock
        self._known: list[_Clause] = []
        self._flag: _Literal | None = None
        # The first step (or test, or iterable) found able to raise: what a
        # finding names as its reason.
        self.blame: cst.CSTNode | None = None

    def statements(self, statements: Sequence[cst.CSTNode]) -> bool:
        return all(self.statement(s) for s in statements)

    def statement(self, node: cst.CSTNode) -> bool:
        """One step that cannot raise (an `if` may leave in its branches)."""
        return not isinstance(node, _EXITS) and self._step(node, never_ends) is not Reach.RAISES

    def window(self, steps: Sequence[cst.CSTNode], ends: Ends, flag: str | None = None) -> Reach:
        """How `steps`, run with the lock held, end. `flag` names the variable
        that holds the `acquire()`'s result (`ok = lock.acquire(timeout=1)`):
        where it is known false, the lock is not held."""
        self._flag = (("truthy", flag), False) if flag is not None else None
        return self._steps(steps, ends)

    def test(self, expr: cst.BaseExpression) -> bool:
        return self.value(expr)

    # -- steps ---------------------------------------------------------------

    def _steps(self, steps: Sequence[cst.CSTNode], ends: Ends) -> Reach:
        for step in small_statements(list(steps)):
            if self._unheld():
                return Reach.LEFT
            reach = self._step(step, ends)
            if reach is not Reach.HELD:
                return reach
        return Reach.LEFT if self._unheld() else Reach.HELD

    def _raises(self, node: cst.CSTNode) -> Reach:
        if self.blame is None:
            self.blame = node
        return Reach.RAISES

    def _unheld(self) -> bool:
        return self._flag is not None and self._knows(self._flag)

    def _step(self, node: cst.CSTNode, ends: Ends) -> Reach:
        if ends(node):
            return Reach.LEFT
        if isinstance(node, cst.SimpleStatementLine):
            return self._steps(node.body, ends)
        if isinstance(node, _EXITS):
            value = node.value if isinstance(node, cst.Return) else None
            return Reach.LEFT if value is None or self.value(value) else self._raises(node)
        if isinstance(node, cst.If):
            return self._if(node, ends)
        if isinstance(node, (cst.While, cst.For)):
            return self._loop(node, ends)
        if isinstance(node, cst.Try):
            return self._try(node, ends)
        if isinstance(node, cst.With):
            return self._with(node, ends)
        return Reach.HELD if self._simple(node) else self._raises(node)

    def _simple(self, node: cst.CSTNode) -> bool:
        if isinstance(node, (cst.Pass, cst.Global, cst.Nonlocal)):
            return True
        if isinstance(node, cst.FunctionDef):
            # Defining it runs its decorators and default values, not its body.
            return not node.decorators and all(
                self.value(p.default) for p in _parameters_of(node) if p.default is not None
            )
        if isinstance(node, cst.Assign):
            return self.value(node.value) and all(self._store(t.target) for t in node.targets)
        if isinstance(node, cst.AnnAssign):
            return node.value is not None and self.value(node.value) and self._store(node.target)
        if isinstance(node, cst.AugAssign):
            # The target is read first: a key must be known there (or a Counter's).
            subscript = isinstance(node.target, cst.Subscript)
            return (
                isinstance(node.operator, (cst.AddAssign, cst.SubtractAssign))
                and self.value(node.value)
                and (not subscript or self.value(node.target))
                and self._store(node.target)
            )
        if isinstance(node, cst.Del):
            return self._delete(node.target)
        if isinstance(node, cst.Expr):
            return isinstance(node.value, cst.Call) and self.value(node.value)
        return False

    def _if(self, node: cst.If, ends: Ends) -> Reach:
        if not self.value(node.test):
            return self._raises(node.test)
        start = list(self._known)
        body, after_body = self._branch(start, node.test, True, list(node.body.body), ends)
        orelse = node.orelse
        if isinstance(orelse, cst.If):
            self._known = start
            with self._assuming(node.test, False):
                other = self._if(orelse, ends)
                after_other = list(self._known)
        else:
            steps = list(orelse.body.body) if orelse is not None else []
            other, after_other = self._branch(start, node.test, False, steps, ends)
        if Reach.RAISES in (body, other):
            return Reach.RAISES
        going_on = [k for r, k in ((body, after_body), (other, after_other)) if r is Reach.HELD]
        if not going_on:
            return Reach.LEFT
        # What holds after the `if`: what every branch that goes on knows.
        self._known = [c for c in going_on[0] if all(c in k for k in going_on[1:])]
        return Reach.HELD

    def _try(self, node: cst.Try, ends: Ends) -> Reach:
        """A `try` whose parts cannot raise; its body may, when a catch-all
        handler (`except Exception:`) takes what it raises and goes on with
        the lock still held. A release inside it is not followed."""
        if any(ends(n) for n in descendants(node)):
            # A release in there is not followed; with `assume_calls`, the
            # window is taken to end in it.
            return Reach.LEFT if self._unknowns else self._raises(node)
        start = list(self._known)
        blame = self.blame
        body = self._steps(list(node.body.body), never_ends)
        if body is Reach.RAISES:
            errors = self.lookup_errors(self.blame)
            if not any(catches_all(h) or (errors and catches(h, errors)) for h in node.handlers):
                return Reach.RAISES
            self.blame = blame  # what the body raises is caught
        after = [c for c in start if c in self._known]
        parts = [h.body for h in node.handlers]
        parts += [p.body for p in (node.orelse, node.finalbody) if p is not None]
        for part in parts:
            self._known = list(start)
            if self._steps(list(part.body), never_ends) is Reach.RAISES:
                return Reach.RAISES
            after = [c for c in after if c in self._known]
        # What holds after it: what held before and no part of it changed.
        self._known = after
        return Reach.HELD

    def lookup_errors(self, node: cst.CSTNode | None) -> tuple[str, ...]:
        """What a step that failed on a missing item raises (`d[k]`: KeyError,
        `l.pop(i)`: IndexError, `s.remove(x)`: KeyError...), with the base
        class that takes both; () for any other failing step."""
        if isinstance(node, cst.SimpleStatementLine) and len(node.body) == 1:
            node = node.body[0]
        if isinstance(node, (cst.Assign, cst.Expr)):
            node = node.value
        if isinstance(node, cst.Subscript):
            container = node.value
        elif (
            isinstance(node, cst.Call)
            and isinstance(node.func, cst.Attribute)
            and node.func.attr.value in ("pop", "popleft", "popitem", "remove")
        ):
            container = node.func.value
        else:
            return ()
        kind = self.ctx.container_type(container)
        if kind in _SEQUENCES and isinstance(node, cst.Call) and method_call(node) == "remove":
            return ("ValueError",)
        if kind in _SEQUENCES:
            return ("IndexError", "LookupError")
        if kind in _MAPPINGS or kind in _SETS:
            return ("KeyError", "LookupError")
        return ("KeyError", "IndexError", "LookupError")

    def _with(self, node: cst.With, ends: Ends) -> Reach:
        """`with other_lock:` (a thread lock, not the one held: taking it
        waits, it does not raise) whose body cannot raise; the condition it
        takes is held in there (its `notify()`). A release inside it is not
        followed."""
        if node.asynchronous is not None or any(ends(n) for n in descendants(node)):
            return self._raises(node)
        if self._unknowns and any(not self.value(item.item) for item in node.items):
            return self._raises(node)
        if not self._unknowns and any(
            item.asname is not None
            or self.held(item.item)
            or self.ctx.kind_of(item.item) not in api.LOCK_KINDS
            for item in node.items
        ):
            return self._raises(node)
        outer = self.held
        texts = {self._text(item.item) for item in node.items}
        self.held = lambda receiver: outer(receiver) or self._text(receiver) in texts
        try:
            body = self._steps(list(node.body.body), never_ends)
        finally:
            self.held = outer
        return Reach.RAISES if body is Reach.RAISES else Reach.HELD

    def _branch(
        self, start: list[_Clause], test: cst.BaseExpression, truth: bool,
        steps: list[cst.CSTNode], ends: Ends,
    ) -> tuple[Reach, list[_Clause]]:
        self._known = list(start)
        self._assume(test, truth)
        reach = self._steps(steps, ends)
        return reach, list(self._known)

    def _loop(self, node: cst.While | cst.For, ends: Ends) -> Reach:
        """A loop whose body cannot raise. A release in its body counts only
        where the loop is left right after it (`release(); return found`):
        that path is out of the window, and every other pass still holds
        the lock. A release the loop goes on after is not followed."""
        if not self._releases_then_leaves(node.body, ends):
            ends = never_ends
        if isinstance(node, cst.While):
            if not self.value(node.test):
                return self._raises(node.test)
        elif node.asynchronous is not None or not self._iterable(node.iter):
            return self._raises(node.iter)
        else:
            iterated = _container_of_iteration(node.iter)
            # A list changed while iterated skips or repeats items, but does
            # not raise; a dict, a set or a deque does.
            if (
                iterated is not None
                and not (node.iter is iterated and self.ctx.container_type(iterated) == "list")
                and self._changes(node.body, iterated)
            ):
                return self._raises(node.iter)
        start = list(self._known)
        # `for i in range(len(seq)):` makes `i` an index of `seq`, on each
        # pass while no pass that goes on shrinks `seq`.
        index = self._index_of_loop(node)
        # Twice: the second pass starts from what survives a first iteration.
        for _ in range(2):
            self._known = list(start)
            if not self._enter(node):
                return self._raises(node)
            if index is not None:
                self._add([index])
            if self._steps(list(node.body.body), ends) is not Reach.HELD:
                return self._raises(node)
            if index is not None and not self._knows(index):
                index = None
            start = [c for c in start if c in self._known]
        self._known = start
        orelse = list(node.orelse.body.body) if node.orelse is not None else []
        if self._steps(orelse, never_ends) is Reach.RAISES:
            return Reach.RAISES
        breaks = any(isinstance(n, cst.Break) for n in _own_statements(node.body))
        if isinstance(node, cst.While) and node.orelse is None and not breaks:
            self._assume(node.test, False)
        return Reach.HELD

    def _releases_then_leaves(self, body: cst.BaseSuite, ends: Ends) -> bool:
        """Each step of `body` that ends the window is followed at once, in
        its block, by a `return` or `break`."""
        for block in (body, *descendants(body)):
            if not isinstance(block, cst.IndentedBlock):
                continue
            steps = small_statements(list(block.body))
            for index, step in enumerate(steps):
                if ends(step) and not (
                    index + 1 < len(steps) and isinstance(steps[index + 1], (cst.Return, cst.Break))
                ):
                    return False
        return True

    def _enter(self, node: cst.While | cst.For) -> bool:
        """What holds at the start of an iteration: the test, or the loop
        variable stored (a key of the mapping iterated)."""
        if isinstance(node, cst.While):
            self._assume(node.test, True)
            return True
        if not self._store(node.target):
            return False
        iterated = _container_of_iteration(node.iter)
        key = _iteration_key(node.iter, node.target)
        if key is not None and iterated is not None:
            self._add([(("in", self._text(key), self._text(iterated)), True)])
        return True

    def _index_of_loop(self, node: cst.While | cst.For) -> _Literal | None:
        """That `i` is an index of `seq`, in `for i in range(len(seq)):`,
        `range(0, len(seq))` (any start that is a constant not below 0) and
        `for i, item in enumerate(seq):`."""
        if not isinstance(node, cst.For) or not isinstance(node.iter, cst.Call):
            return None
        args = _positional(node.iter)
        if len(args) != len(node.iter.args):
            return None
        target: cst.BaseExpression = node.target
        sequence: cst.BaseExpression | None = None
        if self._builtin(node.iter, ("range",)) is not None:
            start = args[0] if len(args) == 2 else None
            if len(args) in (1, 2) and (
                start is None
                or (isinstance(start, cst.Integer) and start.evaluated_value >= 0)
            ):
                sequence = self._length_of(args[-1])
        elif (
            self._builtin(node.iter, ("enumerate",)) is not None
            and len(args) == 1
            and isinstance(target, cst.Tuple)
            and len(target.elements) == 2
        ):
            sequence, target = args[0], target.elements[0].value
        if sequence is None or not isinstance(target, cst.Name):
            return None
        return ("index", target.value, self._text(sequence)), True

    def _changes(self, body: cst.BaseSuite, container: cst.BaseExpression) -> bool:
        """The loop body changes the size of the container it iterates."""
        text = self._text(container)
        for node in descendants(body):
            if (
                isinstance(node, cst.Call)
                and isinstance(node.func, cst.Attribute)
                and node.func.attr.value in MUTATORS
                and self._text(node.func.value) == text
            ):
                return True
            targets: list[cst.BaseExpression] = []
            if isinstance(node, cst.Assign):
                targets = [t.target for t in node.targets]
            elif isinstance(node, (cst.AugAssign, cst.AnnAssign, cst.Del)):
                targets = [node.target]
            for target in targets:
                base = target.value if isinstance(target, cst.Subscript) else target
                if self._text(base) == text:
                    return True
        return False

    # -- stores --------------------------------------------------------------

    def _store(self, target: cst.BaseExpression) -> bool:
        if isinstance(target, cst.Name):
            self._forget(target)
            return True
        if isinstance(target, cst.Attribute):
            self._forget(target)
            if self.trust_items and isinstance(target.value, cst.Subscript):
                return self.value(target.value)  # `self._messages[i].mid = 0`
            return self._plain_reference(target.value)
        if isinstance(target, (cst.Tuple, cst.List)):
            return all(
                not isinstance(e, cst.StarredElement) and self._store(e.value)
                for e in target.elements
            )
        if isinstance(target, cst.Subscript):
            index = _index(target)
            safe = (
                index is not None
                and self.value(index)
                and self._plain_reference(target.value)
                and (
                    self.ctx.container_type(target.value) in _MAPPINGS
                    or self._knows((("index", self._text(index), self._text(target.value)), True))
                )
            )
            self._forget(target.value, growing=True)
            return safe
        return False

    def _delete(self, target: cst.BaseExpression) -> bool:
        if isinstance(target, cst.Name):
            self._forget(target)
            return True
        if isinstance(target, cst.Subscript):
            safe = self.value(target)  # the key is known to be there
            self._forget(target.value)
            return safe
        return False

    def _plain_reference(self, expr: cst.BaseExpression) -> bool:
        """`self`, `state`, `self.inner`: reading it cannot fail once it was set."""
        if isinstance(expr, cst.Name):
            return True
        return isinstance(expr, cst.Attribute) and isinstance(expr.value, cst.Name)

    # -- values --------------------------------------------------------------

    def value(self, expr: cst.BaseExpression) -> bool:
        """A value computed without running code of the project (see the module doc)."""
        if isinstance(expr, (cst.Name, *_CONSTANTS)):
            return True
        if isinstance(expr, cst.ConcatenatedString):
            return _constant_string(expr)
        if isinstance(expr, cst.Attribute):
            if (self.trust_items and isinstance(expr.value, cst.Subscript)) or self._unknowns:
                return self.value(expr.value)  # `self._messages[i].mid`
            return self._plain_reference(expr)
        if isinstance(expr, cst.UnaryOperation):
            return (
                isinstance(expr.operator, (cst.Minus, cst.Not)) or self._unknowns
            ) and self.value(expr.expression)
        if isinstance(expr, cst.BinaryOperation):
            # With `assume_calls`, any operator but a division (which fails
            # on a zero of its own) is what its operands' types make it.
            return (
                isinstance(expr.operator, (cst.Add, cst.Subtract))
                or (self._unknowns and not isinstance(expr.operator, _DIVISIONS))
            ) and self.value(expr.left) and self.value(expr.right)
        if isinstance(expr, (cst.Tuple, cst.List, cst.Set)):
            return all(
                not isinstance(e, cst.StarredElement) and self.value(e.value) for e in expr.elements
            )
        if isinstance(expr, cst.Dict):
            return all(
                isinstance(e, cst.DictElement) and self.value(e.key) and self.value(e.value)
                for e in expr.elements
            )
        if isinstance(expr, cst.BooleanOperation):
            if not self.value(expr.left):
                return False
            with self._assuming(expr.left, isinstance(expr.operator, cst.And)):
                return self.value(expr.right)
        if isinstance(expr, cst.IfExp):
            if not self.value(expr.test):
                return False
            with self._assuming(expr.test, True):
                if not self.value(expr.body):
                    return False
            with self._assuming(expr.test, False):
                return self.value(expr.orelse)
        if isinstance(expr, cst.Comparison):
            return self._comparison(expr)
        if isinstance(expr, cst.Subscript):
            return self._subscript(expr)
        if isinstance(expr, cst.Call):
            return self._call(expr)
        if isinstance(expr, cst.FormattedString):
            return all(
                self.value(part.expression)
                for part in expr.parts
                if isinstance(part, cst.FormattedStringExpression)
            )
        # Comprehensions, lambdas...: code of their own, not followed.
        return self._unknowns and isinstance(expr, (cst.BaseComp, cst.Lambda))

    @property
    def _unknowns(self) -> bool:
        """With `assume_calls`, operations on values of unknown type (their
        `__getitem__`, `__lt__`, `__iter__`...) are taken as not raising too:
        only what fails by itself counts."""
        return self.assumed is not None

    def _comparison(self, expr: cst.Comparison) -> bool:
        if not self.value(expr.left):
            return False
        left = expr.left
        for comparison in expr.comparisons:
            right, operator = comparison.comparator, comparison.operator
            if not self.value(right):
                return False
            if self._unknowns:
                left = right
                continue  # orderings and `in` of unknown types: taken at their word
            if isinstance(operator, (cst.In, cst.NotIn)):
                if not self._iterable(right):
                    return False  # `x in obj` runs `obj.__contains__`
            elif isinstance(operator, ORDERINGS):
                if not (
                    self._number(left)
                    or self._number(right)
                    or (self._quantity(left) and self._quantity(right))
                    or self._version(left)
                    or self._version(right)
                ):
                    return False
            elif not isinstance(operator, _EQUALITIES):
                return False
            left = right
        return True

    def _quantity(self, expr: cst.BaseExpression) -> bool:
        """A name, an attribute of one, or a sum of them: `m.timestamp +
        self._retry < now` orders counters, times and limits."""
        if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, (cst.Add, cst.Subtract)):
            return self._quantity(expr.left) and self._quantity(expr.right)
        return self._plain_reference(expr) or self._number(expr)

    def _version(self, expr: cst.BaseExpression) -> bool:
        """`sys.version_info` or an item of it: compared with a tuple or a number."""
        if isinstance(expr, cst.Subscript):
            expr = expr.value
        return self.ctx.qualname(expr) == "sys.version_info"

    def _number(self, expr: cst.BaseExpression) -> bool:
        if isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, cst.Minus):
            expr = expr.expression
        return isinstance(expr, (cst.Integer, cst.Float)) or self._length_of(expr) is not None

    def _length_of(self, expr: cst.BaseExpression) -> cst.BaseExpression | None:
        """`x` in `len(x)`."""
        if self._builtin(expr, ("len",)) is None:
            return None
        assert isinstance(expr, cst.Call)
        args = _positional(expr)
        return args[0] if len(args) == 1 else None

    def _subscript(self, expr: cst.Subscript) -> bool:
        index = _index(expr)
        container = expr.value
        if index is None or not self.value(index):
            return False
        if self.ctx.qualname(container) == "sys.version_info":
            return isinstance(index, cst.Integer)
        if self.trust_items and isinstance(container, cst.Subscript):
            # `self._filters[i][0]`: an item of an item the code put there.
            return self._subscript(container)
        if not self._plain_reference(container):
            return self._unknowns and self.value(container)
        kind = self.ctx.container_type(container)
        if kind in _MAPPINGS:
            return kind == "collections.Counter" or self._has(container, index)
        if kind in _SEQUENCES:
            return (_end_index(index) and self._not_empty(container)) or self._is_index(index, container)
        return self._unknowns and kind is None

    def _is_index(self, index: cst.BaseExpression, sequence: cst.BaseExpression) -> bool:
        """`i` of `for i in range(len(seq))`, or `seq.index(x)` with `x` in `seq`."""
        if (
            isinstance(index, cst.Call)
            and isinstance(index.func, cst.Attribute)
            and index.func.attr.value == "index"
            and self._text(index.func.value) == self._text(sequence)
            and len(index.args) == 1
        ):
            return self._has(sequence, index.args[0].value)
        return self._knows((("index", self._text(index), self._text(sequence)), True))

    def _iterable(self, expr: cst.BaseExpression) -> bool:
        """A built-in container, a view of one, a range: iterating it runs no
        code of the project."""
        if isinstance(expr, (cst.Tuple, cst.List, cst.Set, cst.Dict)):
            return self.value(expr)
        if self._plain_reference(expr):
            return self.ctx.container_type(expr) is not None or self._unknowns
        if not isinstance(expr, cst.Call) or not self.value(expr):
            return False
        if self._unknowns:
            return True
        func = expr.func
        if isinstance(func, cst.Attribute):
            kind = self.ctx.container_type(func.value)
            return (func.attr.value in VIEWS and kind in _MAPPINGS) or (
                kind in _SETS and func.attr.value in _SET_METHODS
            )
        return self._builtin(expr, _CONTAINER_BUILTINS) is not None

    # -- calls ---------------------------------------------------------------

    def _call(self, call: cst.Call) -> bool:
        # The arguments are evaluated first, whatever the callee.
        if any(a.star for a in call.args) or not all(self.value(a.value) for a in call.args):
            return False
        qualified = self.ctx.qualname(call.func)
        if qualified in _SAFE_CALLS:
            return not call.args
        if qualified == "time.sleep":
            return len(call.args) == 1 and isinstance(call.args[0].value, (cst.Integer, cst.Float))
        if qualified in _THREADING_FACTORIES:
            return True
        builtin = self._builtin(call, _VALUE_BUILTINS | _ITERATING_BUILTINS | _ATTRIBUTE_BUILTINS)
        if builtin is not None:
            return self._builtin_call(builtin, call)
        if qualified in CONTAINER_FACTORIES:
            first = _positional(call)[:1]
            # `defaultdict(list)`: the first argument makes the missing values.
            return not first or qualified == "collections.defaultdict" or self._iterable(first[0])
        callee = self._module_callee(call)
        if callee is not None:
            return self._body_cannot_raise(callee) or self._unknown(call)
        func = call.func
        if not isinstance(func, cst.Attribute) or not self._plain_reference(func.value):
            return self._unknown(call)
        if self._method(func.value, func.attr.value, call):
            return True
        receiver = func.value
        known = self.ctx.container_type(receiver) is not None or self.ctx.kind_of(receiver) is not None
        return not known and self._unknown(call)

    def _unknown(self, call: cst.Call) -> bool:
        """A call of code this module does not show (or a function of it that
        could not be proven): with `assume_calls`, taken as not raising and
        noted for the project link to judge."""
        if self.assumed is None:
            return False
        self.assumed.append(call)
        return True

    def _module_callee(self, call: cst.Call) -> cst.FunctionDef | None:
        """The function of this module a call runs: a module-level function
        named directly, or `self.method(...)` of the enclosing class, that no
        class of the module overrides and no decorator wraps."""
        func = call.func
        found: cst.FunctionDef | None = None
        if isinstance(func, cst.Name) and func.value in _module_definitions(self.ctx):
            if self.ctx.bindings_of(func.value, func) or func.value in self.ctx.imports:
                return None
            matches = [
                s for s in self.ctx.module.body
                if isinstance(s, cst.FunctionDef) and s.name.value == func.value
            ]
            found = matches[0] if len(matches) == 1 else None
        elif isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.value.value == "self":
            cls = self.ctx.enclosing_class(func)
            name = func.attr.value
            if cls is None:
                return None
            overridden = [
                info for node, info in self.ctx.classes.items()
                if node is not cls and name in info.methods
            ]
            found = None if overridden else self.ctx.method(cls, name)
        if found is None or found.decorators or found.asynchronous is not None:
            return None
        return found

    def _body_cannot_raise(self, function: cst.FunctionDef) -> bool:
        """Every step of the function's body cannot raise (its returns give
        back safe values), judged a few calls deep: `def socket(self):
        return self._sock`."""
        key = ("cannot-raise-body", function)
        known = self.ctx.memo.get(key)
        if isinstance(known, bool):
            return known
        # The functions being judged, innermost last: never one already open.
        opened = self.ctx.memo.setdefault(("cannot-raise-open", self.ctx.module), [])
        assert isinstance(opened, list)
        if function in opened or len(opened) >= _CALLEE_DEPTH:
            return False
        opened.append(function)
        try:
            # No lock is known held in there: its lock calls count as raising.
            inner = CannotRaise(self.ctx, lambda receiver: False)
            result = True
            for step in small_statements(list(function.body.body)):
                if isinstance(step, cst.Return):
                    if step.value is not None and not inner.value(step.value):
                        result = False
                elif not (is_docstring(step) or inner.statement(step)):
                    result = False
                if not result:
                    break
        finally:
            opened.pop()
        self.ctx.memo[key] = result
        return result

    def _builtin(
        self, expr: cst.BaseExpression, names: frozenset[str] | tuple[str, ...]
    ) -> str | None:
        """The builtin of `names` that `expr` calls (not a name the module
        binds, imports or defines)."""
        if not isinstance(expr, cst.Call) or not isinstance(expr.func, cst.Name):
            return None
        name = expr.func.value
        if (
            name not in names
            or name in self.ctx.imports
            or self.ctx.bindings_of(name, expr.func)
            or name in _module_definitions(self.ctx)
        ):
            return None
        return name

    def _builtin_call(self, name: str, call: cst.Call) -> bool:
        positional = _positional(call)
        if name in _VALUE_BUILTINS:
            return True
        if name in _ATTRIBUTE_BUILTINS:
            # With a default, a missing attribute is no error.
            return len(positional) == (3 if name == "getattr" else 2) == len(call.args)
        if not positional:
            return name in ("list", "tuple", "set", "frozenset")
        if name in ("min", "max"):
            if len(positional) >= 2:
                return True
            if not any(a.keyword is not None and a.keyword.value == "default" for a in call.args):
                return False  # of an empty sequence: ValueError
        return self._iterable(positional[0])

    def _method(self, receiver: cst.BaseExpression, method: str, call: cst.Call) -> bool:
        if method in _NOTIFIES:
            return self.held(receiver)
        if method == "wait" and len(call.args) <= 1 and self.held(receiver):
            # The wait lets other threads in: what was known may have changed.
            self._known = []
            return True
        if method == "acquire" or (method == "release" and not call.args):
            # It waits, or (`blocking=False`, a timeout) returns False; a
            # release of a lock not held is a programming error. With
            # `assume_calls`, the held lock's own release and acquire inside
            # the window (not followed) are taken at their word too.
            return (self.is_lock is not None and self.is_lock(receiver)) or (
                self._unknowns and self.ctx.kind_of(receiver) in api.LOCK_KINDS
            )
        kind = self.ctx.kind_of(receiver)
        if kind == api.EVENT and method in _EVENT_METHODS and not call.args:
            return True
        if kind in api.LOCK_KINDS and method == "locked" and not call.args:
            return True
        if self.ctx.is_logging_call(call):
            return _log_arguments(method, call)
        if method in ("put", "put_nowait") and self._unbounded_queue(receiver):
            return len(_positional(call)) == 1
        container = self.ctx.container_type(receiver)
        if container is None:
            return (
                method in _APPENDS
                and len(call.args) == 1
                and call.args[0].keyword is None
                and kind in (api.DEQUE, None)
            )
        return self._container_method(receiver, container, method, call)

    def _container_method(
        self, receiver: cst.BaseExpression, container: str, method: str, call: cst.Call
    ) -> bool:
        specs: tuple[_Method, ...] = ()
        if container in _MAPPINGS:
            if container == "collections.Counter":
                specs = _COUNTER_METHODS.get(method, ())
            specs = specs or _MAPPING_METHODS.get(method, ())
        elif container in _SEQUENCES:
            extra = _LIST_METHODS if container == "list" else _DEQUE_METHODS
            specs = extra.get(method, ()) or _SEQUENCE_METHODS.get(method, ())
        elif container in _SETS:
            specs = _SET_METHODS.get(method, ())
        positional = _positional(call)
        if len(positional) != len(call.args) and not (
            method == "update" and container in _MAPPINGS
        ):
            return False  # keywords: only `d.update(a=1)`
        safe = any(self._meets(spec, receiver, positional) for spec in specs)
        if method in MUTATORS:
            self._forget(receiver, growing=method in _GROWERS)
        return safe

    def _meets(
        self, spec: _Method, receiver: cst.BaseExpression, args: list[cst.BaseExpression]
    ) -> bool:
        if len(args) not in spec.arity:
            return False
        if spec.needs == "iterable":
            return self._iterable(args[0])
        if spec.needs == "mapping":
            return isinstance(args[0], cst.Dict) or self.ctx.container_type(args[0]) in _MAPPINGS
        if spec.needs == "nonempty":
            return self._not_empty(receiver)
        if spec.needs == "end":
            return _end_index(args[0]) and self._not_empty(receiver)
        if spec.needs == "key":
            return self._has(receiver, args[0])
        if spec.needs == "index":
            return self._is_index(args[0], receiver)
        return True

    def _unbounded_queue(self, receiver: cst.BaseExpression) -> bool:
        """A `queue` queue with no size limit, by every binding: its `put()`
        never blocks and never raises `Full`."""
        values = [b.value for b in self.ctx.bindings_of_expr(receiver)]
        return bool(values) and all(
            isinstance(v, cst.Call)
            and self.ctx.qualname(v.func) in _UNBOUNDED_QUEUES
            and all(_no_limit(a) for a in v.args)
            for v in values
        )

    # -- what is known -------------------------------------------------------

    def _text(self, expr: cst.BaseExpression) -> str:
        if getattr(expr, "lpar", ()):
            expr = expr.with_changes(lpar=[], rpar=[])
        return " ".join(self.ctx.code_for(expr).split())

    def _literal(self, expr: cst.BaseExpression) -> _Literal:
        """The atom `expr` tests, and whether it says the atom is true."""
        truth = True
        while isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, cst.Not):
            expr, truth = expr.expression, not truth
        sized = self._length_of(expr)
        if sized is not None:
            return ("truthy", self._text(sized)), truth
        if isinstance(expr, cst.Comparison) and len(expr.comparisons) == 1:
            comparison = expr.comparisons[0]
            operator, right = comparison.operator, comparison.comparator
            if isinstance(operator, (cst.In, cst.NotIn)):
                atom = ("in", self._text(expr.left), self._text(right))
                return atom, truth == isinstance(operator, cst.In)
            length = self._length_of(expr.left)
            if length is not None and isinstance(right, cst.Integer):
                counted = ("truthy", self._text(length))
                bound = right.evaluated_value
                if (bound == 0 and isinstance(operator, (cst.Equal, cst.LessThanEqual))) or (
                    bound == 1 and isinstance(operator, cst.LessThan)
                ):
                    return counted, not truth
                if (bound == 0 and isinstance(operator, (cst.NotEqual, cst.GreaterThan))) or (
                    bound == 1 and isinstance(operator, cst.GreaterThanEqual)
                ):
                    return counted, truth
        if self._plain_reference(expr):
            return ("truthy", self._text(expr)), truth
        return ("code", self._text(expr)), truth

    def _assume(self, expr: cst.BaseExpression, truth: bool) -> None:
        """Record that `expr` is true (or false) from here on."""
        while isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, cst.Not):
            expr, truth = expr.expression, not truth
        if isinstance(expr, cst.BooleanOperation):
            conjunction = isinstance(expr.operator, cst.And)
            if conjunction == truth:  # `a and b` true, `a or b` false: both sides
                self._assume(expr.left, truth)
                self._assume(expr.right, truth)
                return
            sides = list(_operands(expr, type(expr.operator)))
            if all(not isinstance(s, cst.BooleanOperation) for s in sides):
                literals = [self._literal(s) for s in sides]
                self._add([(atom, known == truth) for atom, known in literals])
            return
        atom, known = self._literal(expr)
        self._add([(atom, known == truth)])

    @contextmanager
    def _assuming(self, expr: cst.BaseExpression, truth: bool) -> Iterator[None]:
        saved = list(self._known)
        self._assume(expr, truth)
        try:
            yield
        finally:
            self._known = saved

    def _add(self, literals: list[_Literal]) -> None:
        self._known.append(frozenset(literals))

    def _knows(self, literal: _Literal) -> bool:
        """`literal` follows from what is known (by unit propagation)."""
        units: set[_Literal] = set()
        changed = True
        while changed:
            changed = False
            for clause in self._known:
                open_literals = [lit for lit in clause if (lit[0], not lit[1]) not in units]
                if len(open_literals) == 1 and open_literals[0] not in units:
                    units.add(open_literals[0])
                    changed = True
        return literal in units

    def _forget(self, changed: cst.BaseExpression, growing: bool = False) -> None:
        """Drop what was known about `changed` (and anything whose code
        contains it). A container that only `growing` keeps its keys and
        stays not empty: only what said it lacked something goes."""
        text = self._text(changed)
        mention = re.compile(rf"(?<![\w.]){re.escape(text)}(?!\w)")

        def stale(literal: _Literal) -> bool:
            (kind, *parts), truth = literal
            if growing and truth and kind in ("in", "truthy", "index") and parts[-1] == text:
                return False
            return any(mention.search(part) for part in parts)

        self._known = [c for c in self._known if not any(stale(lit) for lit in c)]

    def _not_empty(self, container: cst.BaseExpression) -> bool:
        return self._knows((("truthy", self._text(container)), True))

    def _has(self, container: cst.BaseExpression, key: cst.BaseExpression) -> bool:
        return self._knows((("in", self._text(key), self._text(container)), True))


def _module_definitions(ctx: ModuleContext) -> frozenset[str]:
    """The names the module's `def` and `class` statements bind at its top level."""
    key = ("cannot-raise-definitions", ctx.module)
    found = ctx.memo.get(key)
    if not isinstance(found, frozenset):
        found = ctx.memo[key] = frozenset(
            s.name.value for s in ctx.module.body if isinstance(s, (cst.FunctionDef, cst.ClassDef))
        )
    return found


def _parameters_of(node: cst.FunctionDef) -> list[cst.Param]:
    params = node.params
    return [*params.posonly_params, *params.params, *params.kwonly_params]


def _no_limit(arg: cst.Arg) -> bool:
    """`Queue()`'s `maxsize` argument, when it sets no limit (0 or less)."""
    if arg.keyword is not None and arg.keyword.value != "maxsize":
        return False
    value = arg.value
    if isinstance(value, cst.UnaryOperation) and isinstance(value.operator, cst.Minus):
        return isinstance(value.expression, cst.Integer)
    return isinstance(value, cst.Integer) and value.evaluated_value == 0


def _log_arguments(method: str, call: cst.Call) -> bool:
    """A constant message (`%`-arguments are formatted by logging, which
    catches the errors), and only logging's own keywords."""
    positional = _positional(call)
    message_at = 1 if method == "log" else 0
    if len(positional) <= message_at or not _constant_string(positional[message_at]):
        return False
    return all(a.keyword is None or a.keyword.value in _LOG_KEYWORDS for a in call.args)


def _constant_string(expr: cst.BaseExpression) -> bool:
    if isinstance(expr, cst.SimpleString):
        return True
    return (
        isinstance(expr, cst.ConcatenatedString)
        and _constant_string(expr.left)
        and _constant_string(expr.right)
    )


def _positional(call: cst.Call) -> list[cst.BaseExpression]:
    return [a.value for a in call.args if a.keyword is None]


def _index(expr: cst.Subscript) -> cst.BaseExpression | None:
    if len(expr.slice) != 1 or not isinstance(expr.slice[0].slice, cst.Index):
        return None
    return expr.slice[0].slice.value


def _end_index(expr: cst.BaseExpression) -> bool:
    """`[0]` or `[-1]`: in range of any container that is not empty."""
    if isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, cst.Minus):
        return isinstance(expr.expression, cst.Integer) and expr.expression.evaluated_value == 1
    return isinstance(expr, cst.Integer) and expr.evaluated_value == 0


def _operands(expr: cst.BaseExpression, operator: type) -> Iterator[cst.BaseExpression]:
    """`a and b and c` as a, b, c."""
    if isinstance(expr, cst.BooleanOperation) and isinstance(expr.operator, operator):
        yield from _operands(expr.left, operator)
        yield from _operands(expr.right, operator)
    else:
        yield expr


def _container_of_iteration(iterable: cst.BaseExpression) -> cst.BaseExpression | None:
    """`d` in `for k in d:` and `for k, v in d.items():`."""
    if isinstance(iterable, (cst.Name, cst.Attribute)):
        return iterable
    if isinstance(iterable, cst.Call) and isinstance(iterable.func, cst.Attribute):
        return iterable.func.value
    return None


def _iteration_key(
    iterable: cst.BaseExpression, target: cst.BaseExpression
) -> cst.BaseExpression | None:
    """The loop variable known to be a key of the iterated mapping."""
    if isinstance(iterable, cst.Call) and isinstance(iterable.func, cst.Attribute):
        view = iterable.func.attr.value
        if view == "items" and isinstance(target, cst.Tuple) and len(target.elements) == 2:
            return target.elements[0].value
        if view != "keys":
            return None
    return target if isinstance(target, cst.Name) else None


_OWN_SCOPES = (cst.For, cst.While, cst.FunctionDef, cst.Lambda, cst.ClassDef)


def _own_statements(body: cst.BaseSuite) -> Iterator[cst.CSTNode]:
    """The nodes of a loop body, not those of loops or functions nested in it."""
    pending: list[cst.CSTNode] = [body]
    while pending:
        node = pending.pop()
        yield node
        if node is not body and isinstance(node, _OWN_SCOPES):
            continue
        pending.extend(children(node))

