"""The summary of one function: one ordered walk over its statements.

The walk keeps the set of thread locks held (`with L:` bodies, code between
`L.acquire()` and `L.release()` in the same block) and records

- every access to possibly shared state (`self.x`, `Cls.x`, tracked module
  globals) with its kind and the locks held there;
- every call it makes that the link may resolve, with the locks held;
- every thread root it creates (`find_spawn`), and where it starts and joins
  threads, so that statements before the first start and after the joins
  are known not to run concurrently with them;
- every `if` that tests shared state and then acts on it (TL103).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Union

import libcst as cst

from threadlint import facts as F
from threadlint.analysis import raise_evidence
from threadlint.analysis import threading_api as api
from threadlint.analysis.calls import argument, method_call, positional_params
from threadlint.analysis.cannot_raise import is_docstring
from threadlint.analysis.context import Binding, catches, dotted_name, is_none
from threadlint.analysis.locks import blocking_acquire, method_call_on, small_statements
from threadlint.analysis.module_scope import ModuleScope, absolute_name, annotated, container_kind
from threadlint.analysis.spawn import find_spawn, unwrap_target
from threadlint.analysis.state_api import (
    ATOMIC_COPIES,
    CONTAINER_LITERALS,
    EAGER_ITERATION,
    JOINING_FUNCTIONS,
    LAZY_ITERATION,
    MUTATORS,
    POOLED_APIS,
    RACE_ERRORS,
    RAISING_REMOVERS,
    REMOVERS,
    SIZE_KEEPING,
    THREADING_SERVERS,
    VIEWS,
)
from threadlint.analysis.thread_calls import ThreadCalls
from threadlint.analysis.walk import children, descendants, executed
from threadlint.printable import shortened

Unit = Union[cst.FunctionDef, cst.Lambda, cst.Module]

_LITERALS = (cst.Integer, cst.Float, cst.SimpleString)
_COMPREHENSIONS = (cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)
# What reads a value back after an update (`F.Access.used_line`).
_READ_KINDS = frozenset({F.READ, F.TEST, F.ITEM_READ, F.ITERATE})
_LOCK_METHODS = ("acquire", "release")


@dataclass
class _Rec:
    """An access while its function is being walked (positions are resolved at the end)."""

    node: cst.CSTNode
    location: F.Location
    kind: str
    locks: frozenset[str]
    seq: int
    guard: int | None = None  # index of the `if` whose test reads the location
    resizes: bool = True
    statement: cst.CSTNode | None = None
    tolerated: bool = False
    constant: bool = False
    safe_form: bool = False  # `d.pop(k, None)`, `s.discard(x)`: needs no earlier test
    handlers: int = 0  # `except` handlers around it
    gates: frozenset[F.Location] = frozenset()
    removes: bool = False  # see `F.Access.removes`
    counter: bool = False  # see `F.Access.counter`
    raises: bool = False  # as the action of a check-then-act: see `F.CheckAct.raises`
    # Takes whichever item there is (`popitem()`, `popleft()`, `pop()`): it
    # fails only on an empty container.
    anywhere: bool = False
    logged: bool = False  # an argument of a logging call: shown, never decides anything
    key: str = ""  # see `F.Access.key`


@dataclass
class _IfRec:
    node: cst.If
    locks: frozenset[str]
    tested: set[F.Location]
    seq: int
    handlers: int = 0  # `except` handlers around it
    enclosing: tuple[int, ...] = ()  # indexes of the `if`s around it that test state
    # The reads of its test: each node that reads a location, with it.
    reads: tuple[tuple[cst.CSTNode, F.Location], ...] = ()


@dataclass
class _CallRec:
    callee: F.Callee
    node: cst.CSTNode
    locks: frozenset[str]
    seq: int
    owned: bool
    repeated: bool
    callables: tuple[tuple[str, F.Callee], ...] = ()
    held: bool = False
    gates: frozenset[F.Location] = frozenset()
    arg_classes: tuple[tuple[str, str], ...] = ()
    deferred: bool = False
    shielded: bool = False
    start_at: int = 0


# ---------------------------------------------------------------------------
# Walking one function


def _merge(states: Sequence[frozenset[str]]) -> frozenset[str]:
    """Locks held after branches: those all hold; `?L` for one some branches hold."""
    if not states:
        return frozenset()
    common = frozenset.intersection(*states)
    unsure = {
        key if key.startswith(F.UNKNOWN_LOCK) else F.UNKNOWN_LOCK + key
        for state in states
        for key in state - common
    }
    return common | unsure


class FunctionWalker:
    def __init__(
        self,
        model: ModuleScope,
        unit: Unit,
        unit_id: str | None = None,
        outer: FunctionWalker | None = None,
    ) -> None:
        self.m = model
        self.ctx = model.ctx
        self.unit = unit
        self.recs: list[_Rec] = []
        self.calls: list[_CallRec] = []
        self.spawns: list[tuple[F.Callee, str, cst.Call, bool, int, str, bool]] = []
        self.ifs: list[_IfRec] = []
        self.if_stack: list[int] = []
        self.seq = 0
        self.starts: list[int] = []
        self.joins: list[int] = []
        self.loop_entry: int | None = None
        self.loop_joins = False
        self.repeating: list[cst.CSTNode] = []  # loops and comprehensions around the current node
        self.tolerant = 0  # `try` bodies whose handlers catch what a race raises
        self.logging = 0  # logging calls whose arguments are being walked
        self.handlers = 0  # `except` handlers around the current node
        self.statement: cst.CSTNode | None = None
        self.acquires: list[tuple[int, F.Acquire]] = []  # (seq, ...): phases are known at the end
        # Local names bound to shared state (`pending = self._pending`): what
        # is done to the object through them is done to the state.
        self.aliases: dict[str, F.Location] = {}
        self.foreign_release = 0  # the last release of a lock this function did not take
        # Locations tested by an `if` that leaves the function: what follows
        # runs only when the test went one way.
        self.gates: frozenset[F.Location] = frozenset()
        self.owned: dict[str, str] = {}  # local name -> class of the object it was made as
        # Receivers (`w`, `self.worker`) this function has bound to a new
        # object, up to the current statement, with the innermost loop the
        # object was made in: an object made in the loop that runs a
        # statement is new each time it runs.
        self.made_in: dict[str, cst.CSTNode | None] = {}
        self.class_node: cst.ClassDef | None = None
        self.self_name: str | None = None
        self.cls_name: str | None = None
        if isinstance(unit, cst.Module):
            self.id = unit_id or f"{self.ctx.module_name}.<module>"
            self.name = "<module>"
            self.locals: set[str] = set()
        else:
            if isinstance(unit, cst.FunctionDef):
                self.id = unit_id or model.function_ids[unit]
                self.name = unit.name.value
            else:  # a lambda started on a thread: its id is given by the spawner
                self.id = unit_id or f"{self.ctx.module_name}.<lambda>"
                self.name = "<lambda>"
            declared = self.ctx.globals_declared.get(unit, set())
            self.locals = set(self.ctx.bindings.get(unit, {})) - declared
            self._find_self(outer)
        self.params: tuple[str, ...] = ()
        self.keyword_params: tuple[str, ...] = ()
        self.star = False
        self.returns: list[F.Callee] = []
        self.rebuilds = False
        self.registers: list[tuple[F.Location, F.Callee, int]] = []
        self.invokes: set[F.Location] = set()
        self.drawn: dict[str, F.Location] = {}  # local name -> container it came out of
        # (container, key) as written, of the items this function has read
        # (`run = self._runs[run_id]`), with the block the read is in: a store
        # at such a key inside that block, after the read, replaces a value
        # and leaves the container's size alone.
        self.read_keys: dict[tuple[str, str], cst.CSTNode] = {}
        self.lambdas = 0  # lambdas around the current node: their calls run later
        # Steps that evidently can raise and no handler here takes: (line, why).
        self.raises: list[tuple[int, str]] = []
        # Callables stored in attributes (`client.on_message = handler`):
        # (attribute, callee); None for a value that is not a callable's name.
        self.slot_stores: list[tuple[str, F.Callee | None]] = []
        if isinstance(unit, cst.FunctionDef):
            self._parameters(unit)
        self.outer_locals: set[str] = set()
        for ancestor in self.ctx.ancestors(unit):
            if isinstance(ancestor, (cst.FunctionDef, cst.Lambda)):
                self.outer_locals |= set(
                    self.ctx.bindings.get(ancestor, {})
                ) - self.ctx.globals_declared.get(ancestor, set())
        self.thread_calls = ThreadCalls(self)

    def _container_of(self, expr: cst.BaseExpression) -> F.Location | None:
        """The state a container expression names (`self._callbacks`,
        `list(self._callbacks)`, `HANDLERS.values()`), thread-safe ones
        such as queues included."""
        while isinstance(expr, cst.Call):
            if isinstance(expr.func, cst.Name) and expr.func.value in ("list", "tuple", "reversed"):
                if not expr.args:
                    return None
                expr = expr.args[0].value
            elif isinstance(expr.func, cst.Attribute) and expr.func.attr.value in _DRAWING:
                expr = expr.func.value
            else:
                return None
        if isinstance(expr, cst.Subscript):
            expr = expr.value
        if isinstance(expr, cst.Attribute) and isinstance(expr.value, cst.Name):
            if expr.value.value == self.self_name and self.class_id is not None:
                return ("self", self.class_id, expr.attr.value)
            return None
        if isinstance(expr, cst.Name) and expr.value not in self.locals:
            if expr.value in self.m.ctx.bindings.get(self.ctx.module, {}):
                return ("global", self.ctx.module_name, expr.value)
        return None

    def _callbacks(self, call: cst.Call) -> None:
        """Registration of a callable in a container, and calls of what
        comes out of one: the two halves of a callback list or task queue."""
        func = call.func
        if isinstance(func, cst.Name) and func.value in self.drawn:
            self.invokes.add(self.drawn[func.value])
        elif isinstance(func, cst.Call):
            container = self._container_of(func)
            if container is not None:
                self.invokes.add(container)  # `self._tasks.get()()`
        if (
            isinstance(func, cst.Attribute)
            and func.attr.value in _REGISTERING
            and call.args
            and not call.args[-1].star
        ):
            container = self._container_of(func.value)
            callee = self._callable(unwrap_target(self.ctx, call.args[-1].value))
            if container is not None and callee is not None:
                self.registers.append((container, callee, self.m.pos.of(call)[0]))

    def _parameters(self, unit: cst.FunctionDef) -> None:
        params = unit.params
        positional = [p.name.value for p in positional_params(params)]
        bound = self.self_name or self.cls_name
        if positional and bound is not None and positional[0] == bound:
            positional = positional[1:]
        self.params = tuple(positional)
        self.keyword_params = tuple(p.name.value for p in params.kwonly_params)
        self.star = isinstance(params.star_arg, cst.Param) or params.star_kwarg is not None

    def _callable(self, value: cst.BaseExpression) -> F.Callee | None:
        """The callee an argument or returned value names when it is a
        callable: a received parameter, a function, a method of `self`."""
        if isinstance(value, cst.Name):
            if value.value in self.params or value.value in self.keyword_params:
                return ("param", self.id, value.value)
            return self._named(value.value)
        if isinstance(value, cst.Attribute):
            return self.callee(value)[0]
        return None

    def _callable_arguments(self, call: cst.Call) -> tuple[tuple[str, F.Callee], ...]:
        found = []
        position = 0
        for arg in call.args:
            if arg.star:
                break  # positions after `*args` are unknown
            slot = arg.keyword.value if arg.keyword is not None else str(position)
            if arg.keyword is None:
                position += 1
            callee = self._callable(unwrap_target(self.ctx, arg.value))
            if callee is not None:
                found.append((slot, callee))
        return tuple(found)

    def _find_self(self, outer: FunctionWalker | None) -> None:
        if outer is not None:
            self.class_node, self.self_name, self.cls_name = (
                outer.class_node,
                outer.self_name,
                outer.cls_name,
            )
            return
        method: cst.CSTNode | None = self.unit
        while method is not None:
            parent = self.ctx.parent(method)
            if isinstance(parent, cst.IndentedBlock):
                parent = self.ctx.parent(parent)
            if isinstance(parent, cst.ClassDef) and isinstance(method, cst.FunctionDef):
                self.class_node = parent
                break
            method = self.ctx.enclosing_function(method)
        if self.class_node is None or not isinstance(method, cst.FunctionDef):
            return
        decorators = {dotted_name(d.decorator) for d in method.decorators}
        params = positional_params(method.params)
        if "staticmethod" in decorators or not params:
            return
        first = params[0].name.value
        if "classmethod" in decorators or method.name.value in ("__new__", "__init_subclass__"):
            self.cls_name = first
        else:
            self.self_name = first
        # The object reference must not be rebound inside this unit.
        if self.unit is not method and first in self.locals:
            self.self_name = self.cls_name = None

    @property
    def class_id(self) -> str | None:
        return self.m.class_ids.get(self.class_node) if self.class_node is not None else None

    # -- driver ----------------------------------------------------------------

    def run(self) -> None:
        unit = self.unit
        if isinstance(unit, cst.Module):
            self.block(unit.body, frozenset())
        elif isinstance(unit, cst.FunctionDef):
            held: frozenset[str] = frozenset()
            for decorator, key in self._decorator_locks(unit):
                self._acquired(key, decorator, held)
                held = held | {key}
            self.block(_suite(unit.body), held)
        else:
            self.statement = unit
            self.expr(unit.body, frozenset())
        self.finish()

    def finish(self) -> None:
        ctx = self.ctx
        first_start = min(self.starts) if self.starts else None
        last_start = max(self.starts) if self.starts else None
        joined_at = min(
            (j for j in self.joins if last_start is not None and j > last_start), default=None
        )
        module_unit = isinstance(self.unit, cst.Module)

        def phase(seq: int) -> str:
            if first_start is None:
                return "pre" if module_unit else ""
            if seq < first_start:
                return "pre"
            if joined_at is not None and seq > joined_at:
                return "post"
            return ""

        read_again = self._read_again()
        accesses = []
        for index, rec in enumerate(self.recs):
            if rec.seq <= self.foreign_release:
                rec.locks = rec.locks | {F.UNKNOWN_LOCK}
            line, col = self.m.pos.of(rec.node)
            text = ""
            if rec.kind == F.RMW and rec.statement is not None:
                text = shortened(ctx.code_for(rec.statement), 50)
            accesses.append(
                F.Access(
                    rec.location,
                    rec.kind,
                    line,
                    col,
                    rec.locks,
                    phase(rec.seq),
                    rec.resizes,
                    text,
                    rec.tolerated,
                    rec.constant,
                    rec.guard is not None,
                    *self._end(rec.node),
                    rec.gates - {rec.location},
                    rec.removes,
                    rec.counter,
                    read_again[index] if rec.kind == F.RMW else 0,
                    rec.key,
                    rec.seq,
                )
            )
        checks = []
        action_kinds = (F.REBIND, F.ITEM_WRITE, F.MUTATE, F.RMW, F.ITEM_READ)
        seen: set[tuple[int, F.Location]] = set()
        for rec in self.recs:
            if rec.guard is None or rec.kind not in action_kinds or rec.tolerated or rec.safe_form:
                continue
            if_rec = self.ifs[rec.guard]
            if rec.constant and rec.handlers > if_rec.handlers:
                # `if FLAG: try: probe() except E: FLAG = False`: a failure is
                # memoised; every thread that sees the failure stores the same.
                continue
            reads = self._reads_of(if_rec, rec.location)
            if rec.anywhere and not _tests_emptiness(if_rec.node.test, reads):
                continue  # `if len(d) > limit: d.popitem()` cannot fail or overshoot much
            if (
                (rec.raises or rec.kind == F.ITEM_READ)
                and not rec.anywhere
                and self._picks_by_key(rec.node)
                and not any(
                    self._looks_at_items(node)
                    for node, read in if_rec.reads
                    if read == rec.location
                )
            ):
                # `if pending: pending.remove(job)`: the test says the container
                # is not empty, not that `job` is in it; the action relies on
                # something the test never looked at.
                continue
            if (rec.guard, rec.location) in seen:
                continue
            seen.add((rec.guard, rec.location))
            if_line, if_col = self.m.pos.of(if_rec.node)
            outer = next((i for i in if_rec.enclosing if rec.location in self.ifs[i].tested), None)
            outer_line = self.m.pos.of(self.ifs[outer].node)[0] if outer is not None else 0
            checks.append(
                F.CheckAct(
                    rec.location,
                    if_line,
                    if_col,
                    if_rec.locks,
                    rec.kind,
                    self.m.pos.of(rec.node)[0],
                    rec.locks,
                    phase(if_rec.seq),
                    outer_line,
                    *self._end(if_rec.node.test),
                    rec.raises or rec.kind == F.ITEM_READ,
                    if_rec.seq,
                )
            )
        # Calls from the module body run the program (`main()`): they are
        # not import-time setup unless the module itself starts threads.
        call_phase = phase if not module_unit or self.starts else (lambda seq: "")
        calls = tuple(
            F.Call(
                c.callee,
                self.m.pos.of(c.node)[0],
                c.locks,
                call_phase(c.seq),
                c.owned,
                c.repeated,
                c.callables,
                c.held,
                c.gates,
                c.arg_classes,
                c.deferred,
                self.m.pos.of(c.node)[1],
                *self._end(c.node),
                c.shielded,
                c.seq,
                c.start_at,
            )
            for c in self.calls
        )
        thread_calls, loop_uses = self.thread_calls.facts(phase)
        spawns = tuple(
            F.Spawn(
                target,
                api_name,
                self.m.pos.of(node)[0],
                repeats,
                any(join > seq for join in self.joins),
                self._serial_executor(node) if api_name.startswith("executor.") else "",
                via,
                fresh,
            )
            for target, api_name, node, repeats, seq, via, fresh in self.spawns
        )
        unit = self.unit
        line = 1
        if isinstance(unit, cst.FunctionDef):
            line = self.m.pos.of(unit)[0] if (accesses or spawns or checks) else 0
        elif isinstance(unit, cst.Lambda):
            line = self.m.pos.of(unit)[0]
        self.m.functions.append(
            F.Function(
                id=self.id,
                name=self.name,
                cls=self.class_id,
                line=line,
                is_async=isinstance(unit, cst.FunctionDef) and unit.asynchronous is not None,
                entry=isinstance(unit, cst.FunctionDef) and self._is_entry(unit),
                accesses=tuple(accesses),
                calls=calls,
                spawns=spawns,
                checks=tuple(checks),
                acquires=tuple(replace(a, phase=phase(seq)) for seq, a in self.acquires),
                params=self.params,
                keyword_params=self.keyword_params,
                star=self.star,
                returns=tuple(self.returns),
                rebuilds=self.rebuilds,
                releases_unheld=self.foreign_release > 0,
                registers=tuple(self.registers),
                invokes=frozenset(self.invokes),
                thread_calls=thread_calls,
                loop_uses=loop_uses,
                raises=tuple(self.raises),
                slot_stores=tuple(dict.fromkeys(self.slot_stores)),
                starts=bool(self.starts),
                leaves_running=bool(self.starts) and joined_at is None,
            )
        )

    def _constant_key(self, node: cst.Subscript) -> str:
        """The key of `d["hits"]`, `d[0]`, or `d[key]` where every binding
        of the local `key` is the same constant, as written; "" for any
        other key."""
        if len(node.slice) != 1 or not isinstance(node.slice[0].slice, cst.Index):
            return ""
        key = node.slice[0].slice.value
        if isinstance(key, cst.Name) and key.value in self.locals:
            values = {
                b.value.value if isinstance(b.value, (cst.SimpleString, cst.Integer)) else ""
                for b in self.ctx.bindings_of(key.value, key)
            }
            return values.pop() if len(values) == 1 else ""
        return key.value if isinstance(key, (cst.SimpleString, cst.Integer)) else ""

    def _picks_by_key(self, node: cst.CSTNode) -> bool:
        """Does the access at `node` (a container) name the item it takes by a
        key or a value (`d[k]`, `del d[k]`, `lst.remove(x)`, `d.pop(k)`), not
        by a position a non-empty test vouches for (`lst[0]`, `del lst[-1]`)?"""
        parent = self.ctx.parent(node)
        if isinstance(parent, cst.Subscript) and parent.value is node:
            elements = parent.slice
            key = elements[0].slice if len(elements) == 1 else None
            return not (isinstance(key, cst.Index) and _is_position(key.value))
        if isinstance(parent, cst.Attribute):
            call = self.ctx.parent(parent)
            if isinstance(call, cst.Call) and call.args:
                return not _is_position(call.args[0].value)
        return False

    def _looks_at_items(self, node: cst.CSTNode) -> bool:
        """Does this read of a container in an `if` test look at its items
        (`k in d`, `d.get(k)`, `d[k]`), not only at whether it is empty
        (`if d:`, `not d`, `len(d) > 0`)?"""
        parent = self.ctx.parent(node)
        if isinstance(parent, cst.Arg):
            call = self.ctx.parent(parent)
            return not (
                isinstance(call, cst.Call)
                and isinstance(call.func, cst.Name)
                and call.func.value == "len"
            )
        if isinstance(parent, cst.ComparisonTarget):
            return isinstance(parent.operator, (cst.In, cst.NotIn))
        return not isinstance(parent, (cst.If, cst.BooleanOperation, cst.UnaryOperation))

    @staticmethod
    def _reads_of(if_rec: _IfRec, location: F.Location) -> Callable[[cst.CSTNode], bool]:
        """Whether a node of the `if`'s test reads `location`."""
        nodes = [node for node, read in if_rec.reads if read == location]
        return lambda expr: any(node is expr for node in nodes)

    def _end(self, node: cst.CSTNode) -> tuple[int, int]:
        """Where `node` ends: (line, column), the column 1-based and exclusive.

        The C parser's positions cover only some kinds (libcst's position
        provider would cost more than the whole analysis); for another kind
        (`d[k] += 1`, a subscript) the end of the last covered node inside it
        is as far as is known.  (0, 0) when nothing inside is covered."""
        found = self.m.pos.range_of(node)
        if found is not None:
            return found.end.line, found.end.column + 1
        ends = [
            (inner.end.line, inner.end.column + 1)
            for inner in map(self.m.pos.range_of, descendants(node))
            if inner is not None
        ]
        return max(ends, default=(0, 0))

    def _acquired(
        self, key: str, node: cst.CSTNode, held: frozenset[str], blocking: bool = True
    ) -> None:
        line, col = self.m.pos.of(node)
        self.acquires.append((self.seq, F.Acquire(key, line, col, *self._end(node), held, blocking)))

    def _is_entry(self, node: cst.FunctionDef) -> bool:
        if annotated(node, "thread-entry"):
            return True
        entries = self.m.settings.thread_entry_points
        if not entries:
            return False
        for decorator in node.decorators:
            expr = decorator.decorator
            if isinstance(expr, cst.Call):
                expr = expr.func
            for name in self._decorator_names(expr):
                if name in entries:
                    return True
        return False

    def _decorator_names(self, expr: cst.BaseExpression) -> list[str]:
        """`app.route` as written, through imports, and as `<class of app>.route`."""
        names: list[str] = []
        written = dotted_name(expr)
        if written is None:
            return names
        names.append(written)
        absolute = absolute_name(self.m, expr)
        if absolute:
            names.append(absolute)
        head, _, rest = written.partition(".")
        if rest:
            for binding in self.ctx.bindings.get(self.ctx.module, {}).get(head, []):
                if isinstance(binding.value, cst.Call):
                    made = absolute_name(self.m, binding.value.func)
                    if made:
                        names.append(f"{made}.{rest}")
        return names

    # -- statements --------------------------------------------------------------

    def block(self, statements: Sequence[cst.CSTNode], held: frozenset[str]) -> frozenset[str]:
        for statement in statements:
            held = self.stmt(statement, held)
        return held

    def stmt(self, node: cst.CSTNode, held: frozenset[str]) -> frozenset[str]:
        self.seq += 1
        if isinstance(node, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
            for small in node.body:
                self.statement = small
                held = self.small(small, held)
            return held
        self.statement = node
        if isinstance(node, (cst.FunctionDef, cst.ClassDef)):
            for decorator in node.decorators:
                self.expr(decorator.decorator, held)
            return held
        if isinstance(node, cst.If):
            return self.if_stmt(node, held)
        if isinstance(node, cst.With):
            return self.with_stmt(node, held)
        if isinstance(node, (cst.For, cst.While)):
            return self.loop(node, held)
        if isinstance(node, (cst.Try, cst.TryStar)):
            return self.try_stmt(node, held)
        if isinstance(node, cst.Match):
            self.expr(node.subject, held)
            return _merge([self.block(_suite(case.body), held) for case in node.cases] + [held])
        return held

    def small(self, node: cst.CSTNode, held: frozenset[str]) -> frozenset[str]:
        if isinstance(node, cst.Expr):
            change = self._lock_statement(node.value)
            if change is not None:
                if change[1]:
                    self._acquired(change[0], node.value, held, _waits(node.value))
                return self._apply(held, change)
            self.expr(node.value, held)
        elif isinstance(node, cst.Assign):
            change = self._lock_statement(node.value)
            self.assign([t.target for t in node.targets], node.value, held)
            if change is not None and change[1]:
                self._acquired(change[0], node.value, held, _waits(node.value))
                return self._apply(held, change)
        elif isinstance(node, cst.AnnAssign):
            if node.value is not None:
                self.assign([node.target], node.value, held)
        elif isinstance(node, cst.AugAssign):
            self.expr(node.value, held)
            location = (
                self.location(node.target)
                if isinstance(node.target, (cst.Name, cst.Attribute))
                else None
            )
            if (
                location is not None
                and isinstance(node.operator, cst.AddAssign)
                and self._is_list(location)
            ):
                # `lst += [...]` extends the list in place: a mutation, not a lost update.
                self.use(node.target, F.MUTATE, held)
            else:
                # `x += 1`, `procs += (p,)` rebind the name: an iteration of
                # the old value is not disturbed.  `d[k] += 1` may add a key,
                # and raises `KeyError` when another thread removed it.
                item = isinstance(node.target, cst.Subscript)
                start = len(self.recs)
                self.use(node.target, F.RMW, held, resizes=item)
                counter = not isinstance(node.value, CONTAINER_LITERALS + (cst.Tuple,))
                for rec in self.recs[start:]:
                    if rec.kind == F.RMW:
                        rec.counter, rec.raises = counter, item
        elif isinstance(node, cst.Del):
            start = len(self.recs)
            self.use(node.target, F.REBIND, held)
            for rec in self.recs[start:]:
                if rec.kind in (F.REBIND, F.ITEM_WRITE):
                    rec.removes = True
                    rec.raises = rec.kind == F.ITEM_WRITE
        elif isinstance(node, cst.Return) and node.value is not None:
            returned = self._callable(node.value)
            if returned is not None and returned[0] != "param":
                self.returns.append(returned)
            self.expr(node.value, held)
        elif isinstance(node, (cst.Return, cst.Raise, cst.Assert)):
            if isinstance(node, cst.Raise):
                self._evidence(node)
            for child in children(node):
                if isinstance(child, cst.BaseExpression):
                    self.expr(child, held)
        return held

    def _read_again(self) -> list[int]:
        """Per access, the line where the function next reads its location
        (0: it does not): one pass from the end, not a scan per update.  A
        value only logged (`log.debug("connection %d", self.n)`) decides
        nothing: a lost update of it costs a wrong number in a log line."""
        # The nearest later read (its index, its line): of any item of a
        # location, of the location without a constant key (`d[k]`, `d`),
        # and of one constant key (`d["a"]`, which `d["b"] += 1` does not read).
        nearest_any: dict[F.Location, tuple[int, int]] = {}
        nearest_unkeyed: dict[F.Location, tuple[int, int]] = {}
        nearest_keyed: dict[tuple[F.Location, str], tuple[int, int]] = {}
        none = (len(self.recs), 0)
        lines = [0] * len(self.recs)
        for index in range(len(self.recs) - 1, -1, -1):
            rec = self.recs[index]
            location = rec.location
            if rec.key:
                found = min(
                    nearest_unkeyed.get(location, none),
                    nearest_keyed.get((location, rec.key), none),
                )
            else:
                found = nearest_any.get(location, none)
            lines[index] = found[1]
            if rec.kind in _READ_KINDS and not rec.logged:
                here = (index, self.m.pos.of(rec.node)[0])
                nearest_any[location] = here
                if rec.key:
                    nearest_keyed[(location, rec.key)] = here
                else:
                    nearest_unkeyed[location] = here
        return lines

    def _is_list(self, location: F.Location) -> bool:
        scope, owner, name = location
        if scope == "global":
            return name in self._list_globals()
        for node, class_id in self.m.class_ids.items():
            if class_id == owner:
                attrs = self.ctx.classes[node].attrs.get(name, [])
                return container_kind(self.m, attrs) == "list"
        return False

    def _list_globals(self) -> set[str]:
        bindings = self.ctx.bindings.get(self.ctx.module, {})
        return {
            n
            for n in self.m.tracked_globals
            if container_kind(self.m, bindings.get(n, [])) == "list"
        }

    def _location_of_target(self, target: cst.BaseExpression) -> F.Location | None:
        while isinstance(target, cst.Subscript):
            target = target.value
        return self.location(target)

    def assign(
        self, targets: list[cst.BaseExpression], value: cst.BaseExpression, held: frozenset[str]
    ) -> None:
        start = len(self.recs)
        self.expr(value, held)
        read = {r.location for r in self.recs[start:]}
        self._note_owned(targets, value)
        self.thread_calls.assign(targets, value)
        constant = _idempotent_value(value)
        for target in targets:
            if (
                isinstance(target, cst.Attribute)
                and isinstance(target.value, cst.Name)
                and target.value.value == self.self_name
                and isinstance(value, cst.Call)
                and self.m.locks.created_kind(value) is not None
            ):
                self.rebuilds = True
            if isinstance(target, cst.Name):
                self.aliases.pop(target.value, None)
            if isinstance(target, (cst.Name, cst.Attribute)):
                self._forget_keys(dotted_name(target) or "")
            location = self._location_of_target(target)
            if location is not None and location in read:
                start = len(self.recs)
                self.use(target, F.RMW, held, resizes=isinstance(target, cst.Subscript))
                for rec in self.recs[start:]:
                    rec.counter = isinstance(value, cst.BinaryOperation)
            else:
                if location is not None:
                    self._swapped_out(location)
                start = len(self.recs)
                self.use(target, F.REBIND, held)
                if constant:
                    empties = _empties(value)
                    for rec in self.recs[start:]:
                        rec.constant = rec.kind == F.REBIND
                        rec.removes = rec.constant and empties
        if len(targets) == 1 and isinstance(targets[0], cst.Name):
            drawn_from = (
                self._container_of(value) if isinstance(value, (cst.Call, cst.Subscript)) else None
            )
            if drawn_from is not None:
                self.drawn[targets[0].value] = drawn_from
            else:
                self.drawn.pop(targets[0].value, None)
        for target in targets:
            if isinstance(target, cst.Attribute) and isinstance(
                value, (cst.Name, cst.Attribute, cst.Call, cst.Lambda, cst.IfExp)
            ) and not is_none(value):
                self.slot_stores.append(
                    (target.attr.value, self._callable(unwrap_target(self.ctx, value)))
                )
            if isinstance(target, cst.Subscript) and len(targets) == 1:
                container = self._container_of(target.value)
                callee = self._callable(unwrap_target(self.ctx, value))
                if container is not None and callee is not None:
                    self.registers.append((container, callee, self.m.pos.of(target.value)[0]))
        aliased = self.location(value) if isinstance(value, (cst.Name, cst.Attribute)) else None
        if aliased is not None and len(targets) == 1 and isinstance(targets[0], cst.Name):
            if targets[0].value in self.locals:
                self.aliases[targets[0].value] = aliased

    def _swapped_out(self, location: F.Location) -> None:
        """`pending = self.pending` then `self.pending = []`: the shared name now
        holds a new object, and the local keeps the old one, which no other
        code reaches any more; later uses of the local are not uses of the
        shared state."""
        for name in [name for name, aliased in self.aliases.items() if aliased == location]:
            del self.aliases[name]

    def _note_owned(self, targets: list[cst.BaseExpression], value: cst.BaseExpression) -> None:
        if len(targets) != 1:
            return
        target = targets[0]
        if (
            isinstance(target, cst.Attribute)
            and isinstance(target.value, cst.Name)
            and target.value.value == self.self_name
        ):
            key = f"{self.self_name}.{target.attr.value}"
            if isinstance(value, cst.Call) and self.ctx.kind_of_type(value.func) is None:
                self.made_in[key] = self.repeating[-1] if self.repeating else None
            else:
                self.made_in.pop(key, None)
            return
        if not isinstance(target, cst.Name):
            return
        name = target.value
        if isinstance(value, cst.Call) and name in self.locals:
            made = absolute_name(self.m, value.func)
            if made is not None and self.ctx.kind_of_type(value.func) is None:
                self.owned[name] = made
                self.made_in[name] = self.repeating[-1] if self.repeating else None
                return
        self.owned.pop(name, None)
        self.made_in.pop(name, None)

    def if_stmt(self, node: cst.If, held: frozenset[str]) -> frozenset[str]:
        start = len(self.recs)
        self.expr(node.test, held)
        tested = set()
        reads = []
        for rec in self.recs[start:]:
            if rec.kind in (F.READ, F.ITEM_READ):
                rec.kind = F.TEST
            tested.add(rec.location)
            reads.append((rec.node, rec.location))
        body_held = held
        receiver = _acquire_in_test(node.test, positive=True)
        if receiver is not None:
            key = self.lock_key(receiver)
            if key is not None:
                body_held = held | {key}
                self._acquired(key, receiver, held, _waits(node.test))
        pushed = False
        if tested:
            self.ifs.append(
                _IfRec(
                    node, held, tested, self.seq, self.handlers, tuple(self.if_stack),
                    tuple(reads),
                )
            )
            self.if_stack.append(len(self.ifs) - 1)
            pushed = True
        after_body = self.block(_suite(node.body), body_held)
        if receiver is not None and body_held != held:
            after_body = held if after_body == body_held else after_body
        branches = [after_body]
        if node.orelse is None:
            negated = _acquire_in_test(node.test, positive=False)
            if negated is not None and _escapes(node.body):
                key = self.lock_key(negated)
                if key is not None:
                    branches = [held | {key}]
                    self._acquired(key, negated, held, _waits(node.test))
                    if pushed:
                        self.if_stack.pop()
                    return branches[0]
            if tested and _escapes(node.body):
                self.gates = self.gates | tested
            branches.append(held)
        elif isinstance(node.orelse, cst.If):
            branches.append(self.stmt(node.orelse, held))
        else:
            branches.append(self.block(_suite(node.orelse.body), held))
        if pushed:
            self.if_stack.pop()
        # A branch that leaves (return, raise) does not reach what follows.
        orelse = node.orelse.body if isinstance(node.orelse, cst.Else) else None
        reaching = [
            b for b, suite in zip(branches, [node.body, orelse]) if not (suite and _escapes(suite))
        ]
        return _merge(reaching or branches)

    def with_stmt(self, node: cst.With, held: frozenset[str]) -> frozenset[str]:
        inner = held
        executors = False
        for item in node.items:
            key = None
            if node.asynchronous is None:
                key = self.lock_key(item.item) or self._helper_lock(item.item)
            if key is not None:
                self._acquired(key, item.item, inner)
                inner = inner | {key}
                continue
            self.expr(item.item, held)
            if item.asname is not None:
                self._note_owned([item.asname.name], item.item)
            if self.ctx.kind_of(item.item) in api.EXECUTOR_KINDS:
                executors = True
        after = self.block(_suite(node.body), inner)
        self.seq += 1
        if executors:
            self._join_event()
        # What the body acquired or released manually carries on; the items do not.
        gained = after - inner
        lost = (inner - after) & held
        return (held - lost) | gained

    def loop(self, node: cst.For | cst.While, held: frozenset[str]) -> frozenset[str]:
        outermost = self.loop_entry is None
        if outermost:
            self.loop_entry = self.seq
        if isinstance(node, cst.For):
            self.use(node.iter, F.ITERATE, held)
            self.use(node.target, F.REBIND, held)
            container = self._container_of(node.iter)
            if container is not None and isinstance(node.target, cst.Name):
                self.drawn[node.target.value] = container
        else:
            self.expr(node.test, held)
        self.repeating.append(node)
        after = self.block(_suite(node.body), held)
        self.repeating.pop()
        if node.orelse is not None:
            after = self.block(_suite(node.orelse.body), after)
        self.seq += 1
        if outermost:
            self.loop_entry = None
            if self.loop_joins:
                self.joins.append(self.seq)
                self.loop_joins = False
        return _merge([held, after]) if after != held else held

    def try_stmt(self, node: cst.Try | cst.TryStar, held: frozenset[str]) -> frozenset[str]:
        tolerant = any(catches(handler, RACE_ERRORS) for handler in node.handlers)
        self.tolerant += tolerant
        after_body = self.block(_suite(node.body), held)
        self.tolerant -= tolerant
        ends = [after_body]
        for handler in node.handlers:
            if handler.type is not None:
                self.expr(handler.type, held)
            self.handlers += 1
            ends.append(self.block(_suite(handler.body), held))
            self.handlers -= 1
        if node.orelse is not None:
            ends[0] = self.block(_suite(node.orelse.body), after_body)
        if node.finalbody is None:
            return _merge(ends)
        # `acquire(); try: ... finally: release()`: the finally block starts
        # with what the body holds and its release ends the region.
        return self.block(
            _suite(node.finalbody.body), after_body if len(ends) == 1 else _merge(ends)
        )

    # -- locks -------------------------------------------------------------------

    def lock_key(self, expr: cst.BaseExpression) -> str | None:
        if isinstance(expr, cst.Call) or dotted_name(expr) is None:
            return None
        if not self.m.locks.is_thread_lock(expr) or self._counting_semaphore(expr):
            return None
        underlying = self.m.locks.underlying_lock(expr)
        if underlying is not None and dotted_name(underlying) is not None:
            expr = underlying
        return self._key_of(expr)

    def _replaces(self, node: cst.Subscript, key: tuple[str, str] | None) -> bool:
        """A store at a key this function read before, in a block around the
        store (not `del`, which takes the item away)."""
        if key is None or key not in self.read_keys or isinstance(self.statement, cst.Del):
            return False
        return any(a is self.read_keys[key] for a in self.ctx.ancestors(node))

    def _forget_keys(self, written: str) -> None:
        """`written` (a container or a key) changed: what was read of it is stale."""
        self.read_keys = {k: b for k, b in self.read_keys.items() if written not in k}

    def _item_key(self, node: cst.Subscript) -> tuple[str, str] | None:
        """(container, key) of `container[key]`, as written, for a dotted
        name of a container and a dotted name or a constant of a key."""
        if len(node.slice) != 1 or not isinstance(node.slice[0].slice, cst.Index):
            return None
        key = node.slice[0].slice.value
        container = dotted_name(node.value)
        written = key.value if isinstance(key, (cst.SimpleString, cst.Integer)) else dotted_name(key)
        if container is None or written is None:
            return None
        return container, written

    def _decorator_locks(self, unit: cst.FunctionDef) -> list[tuple[cst.Decorator, str]]:
        """`@_locked` on a method, where `_locked` is a function of this
        module whose wrapper calls the method inside `with self._lock:`: the
        method's body runs holding that lock (not a generator's: its body
        runs when it is iterated, after the wrapper gave the lock back)."""
        if self.self_name is None or self.class_node is None or not unit.decorators:
            return []
        found = []
        for decorator in unit.decorators:
            expr = decorator.decorator
            if not isinstance(expr, cst.Name) or expr.value not in self.m.nested_defs.get(
                self.ctx.module, {}
            ):
                continue
            attribute = self._wrapper_lock(self.m.nested_defs[self.ctx.module][expr.value])
            if attribute is not None and attribute in self.ctx.classes[self.class_node].attrs:
                found.append((decorator, f"self.{attribute}"))
        # A generator's body runs when it is iterated, not inside the wrapper.
        generator = found and any(isinstance(n, cst.Yield) for n in executed(unit.body))
        return [] if generator else found

    def _wrapper_lock(self, decorator: cst.FunctionDef) -> str | None:
        """The attribute `_lock` of `def deco(func): def wrapper(self, ...):
        with self._lock: return func(self, ...)`; None for any other decorator."""
        params = decorator.params.params
        if len(params) != 1:
            return None
        wrapped = params[0].name.value
        for inner in _suite(decorator.body):
            if not isinstance(inner, cst.FunctionDef):
                continue
            positional = positional_params(inner.params)
            if not positional:
                continue
            receiver = positional[0].name.value
            for statement in _suite(inner.body):
                if not isinstance(statement, cst.With) or len(statement.items) != 1:
                    continue
                item = statement.items[0].item
                calls = [
                    n for n in descendants(statement.body)
                    if isinstance(n, cst.Call) and isinstance(n.func, cst.Name)
                    and n.func.value == wrapped
                ]
                if (
                    calls
                    and isinstance(item, cst.Attribute)
                    and isinstance(item.value, cst.Name)
                    and item.value.value == receiver
                    and self.m.locks.is_thread_lock(item)
                ):
                    return item.attr.value
        return None

    def _helper_lock(self, expr: cst.BaseExpression) -> str | None:
        """`with self._locked():` where `_locked` is a `@contextmanager` method
        of this class that yields with a lock held, or a method that returns
        one of the object's locks (`return self._lock`, after creating it
        lazily): that lock."""
        if not (
            isinstance(expr, cst.Call)
            and isinstance(expr.func, cst.Attribute)
            and isinstance(expr.func.value, cst.Name)
            and expr.func.value.value == self.self_name
            and self.class_node is not None
        ):
            return None
        method = self.ctx.classes[self.class_node].methods.get(expr.func.attr.value)
        if method is None:
            return None
        if not any(
            (dotted_name(d.decorator) or "").rpartition(".")[2] == "contextmanager"
            for d in method.decorators
        ):
            return self._returned_lock(method, expr.func.value)
        keys = set()
        for node in self.m.locks.walk(method.body):
            if isinstance(node, cst.Yield):
                held = [h for h in self.m.locks.held_here(node) if self.lock_key(h.expr)]
                if not held:
                    return None
                keys.add(self._key_of(held[-1].expr))
        return keys.pop() if len(keys) == 1 else None

    def _returned_lock(self, method: cst.FunctionDef, receiver: cst.Name) -> str | None:
        """The lock `self.<attr>` that every `return` of the method gives back."""
        params = positional_params(method.params)
        if not params:
            return None
        own = params[0].name.value
        names = set()
        for node in descendants(method.body):
            if isinstance(node, (cst.FunctionDef, cst.Lambda)):
                return None  # a nested function's returns are not the method's
            if isinstance(node, cst.Return):
                value = node.value
                if not (
                    isinstance(value, cst.Attribute)
                    and isinstance(value.value, cst.Name)
                    and value.value.value == own
                ):
                    return None
                names.add(value.attr.value)
        if len(names) != 1:
            return None
        return self.lock_key(cst.Attribute(value=receiver, attr=cst.Name(names.pop())))

    def _key_of(self, expr: cst.BaseExpression) -> str:
        dotted = dotted_name(expr) or ""
        head, _, rest = dotted.partition(".")
        if head == self.self_name and rest:
            return f"self.{rest}"
        if head == self.cls_name and rest and self.class_id:
            return f"{self.class_id}.{rest}"
        if head not in self.locals and head not in self.outer_locals:
            absolute = absolute_name(self.m, expr)
            # `import pkg` ... `pkg.lock` names itself: absolute as written.
            if absolute is not None and (absolute != dotted or head in self.m.imports):
                return absolute
        if head not in self.locals and head in self.outer_locals:
            # A lock captured by a closure is the enclosing function's: one
            # lock, however many closures take it.
            return f"~{self._binder_of(head)}:{dotted}"
        return f"~{self.id}:{dotted}"

    def _binder_of(self, name: str) -> str:
        """The id of the enclosing function that binds `name`."""
        for ancestor in self.ctx.ancestors(self.unit):
            if isinstance(ancestor, cst.FunctionDef) and name in self.ctx.bindings.get(
                ancestor, {}
            ):
                return self.m.function_ids.get(ancestor, self.id)
        return self.id

    def _counting_semaphore(self, expr: cst.BaseExpression) -> bool:
        creation = self.m.locks.creation(expr)
        if creation is None or self.ctx.kind_of(creation) != api.SEMAPHORE:
            return False
        value = argument(creation, 0, "value")
        return value is not None and not (isinstance(value, cst.Integer) and int(value.value) <= 1)

    def _lock_statement(self, value: cst.BaseExpression) -> tuple[str, bool] | None:
        """(key, acquired) for `L.acquire()` / `L.release()` on a thread lock,
        or a call of a helper method that does only that."""
        if not (isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute)):
            return None
        method = value.func.attr.value
        if method not in _LOCK_METHODS:
            return self._helper_lock_change(value)
        key = self.lock_key(value.func.value)
        if key is None:
            return None
        return key, method == "acquire"

    def _helper_lock_change(self, call: cst.Call) -> tuple[str, bool] | None:
        """`self._acquire()`, where the class's `_acquire` does nothing but
        take a lock of its object (`self._lock.acquire()`, maybe behind `if
        self._lock is not None:`, a lock that is optional), or `self._release()`
        that only gives it back: the caller holds the lock from one call to
        the other."""
        func = call.func
        if not (
            isinstance(func, cst.Attribute)
            and isinstance(func.value, cst.Name)
            and func.value.value == self.self_name
            and self.class_node is not None
            and not call.args
        ):
            return None
        helper = self.ctx.method(self.class_node, func.attr.value)
        if helper is None or helper.decorators or not helper.params.params:
            return None
        statement = _only_statement(helper.body)
        if isinstance(statement, cst.If) and statement.orelse is None:
            guarded = _only_statement(statement.body)
            lock = method_call_on(guarded, _LOCK_METHODS) if guarded is not None else None
            if lock is None or not _tests_presence(statement.test, lock):
                return None
            statement = guarded
        if not isinstance(statement, cst.Call):
            return None
        receiver = method_call_on(statement, _LOCK_METHODS)
        if not (
            isinstance(receiver, cst.Attribute)
            and isinstance(receiver.value, cst.Name)
            and receiver.value.value == helper.params.params[0].name.value
            and self.m.locks.is_thread_lock(receiver)
        ):
            return None
        return f"self.{receiver.attr.value}", method_call(statement) == "acquire"

    def _apply(self, held: frozenset[str], change: tuple[str, bool]) -> frozenset[str]:
        key, acquired = change
        if acquired:
            return held | {key}
        if key not in held and F.UNKNOWN_LOCK + key not in held:
            # Released without being taken here: the caller (or an earlier
            # call, `acquire_x()` ... `release_x()`) took it, so the code
            # before this point may run with it held.
            self.foreign_release = max(self.foreign_release, self.seq)
        return held - {key, F.UNKNOWN_LOCK + key}

    # -- expressions -------------------------------------------------------------

    def expr(self, node: cst.CSTNode, held: frozenset[str]) -> None:
        if isinstance(node, (cst.Name, cst.Attribute, cst.Subscript)):
            self.use(node, F.READ, held)
        elif isinstance(node, cst.Call):
            self.call(node, held, iterated=False)
        elif isinstance(node, cst.Lambda):
            self.lambdas += 1
            self.expr(node.body, held)
            self.lambdas -= 1
        elif isinstance(node, _COMPREHENSIONS):
            self.comprehension(node, held)
        elif isinstance(node, (cst.FunctionDef, cst.ClassDef)):
            return
        else:
            for child in children(node):
                self.expr(child, held)

    def comprehension(self, node: cst.BaseComp, held: frozenset[str]) -> None:
        clause: cst.CompFor | None = node.for_in
        first = True
        self.repeating.append(node)
        while clause is not None:
            if first:
                self.use(clause.iter, F.ITERATE, held)
                first = False
            else:
                self.expr(clause.iter, held)
            for condition in clause.ifs:
                self.expr(condition.test, held)
            clause = clause.inner_for_in
        if isinstance(node, cst.DictComp):
            self.expr(node.key, held)
            self.expr(node.value, held)
        else:
            self.expr(node.elt, held)  # type: ignore[attr-defined]
        self.repeating.pop()

    def use(
        self, node: cst.BaseExpression, kind: str, held: frozenset[str], resizes: bool = True
    ) -> None:
        """`node` used as `kind`: record it when it is a location, else look inside."""
        if isinstance(node, (cst.Tuple, cst.List)) and kind == F.REBIND:
            for element in node.elements:
                self.use(element.value, kind, held)
            return
        if isinstance(node, cst.StarredElement):
            self.use(node.value, kind, held)
            return
        if isinstance(node, cst.Subscript):
            key = self._item_key(node)
            if kind == F.REBIND:
                inner = F.ITEM_WRITE
                resizes = not self._replaces(node, key)
            elif kind == F.RMW:
                inner = F.RMW
            elif kind == F.ITERATE:
                inner = F.READ
            else:
                inner = F.ITEM_READ
            if isinstance(node.value, cst.Subscript) and inner != F.ITEM_READ:
                inner = F.ITEM_READ
            for subscript in node.slice:
                self.expr(subscript.slice, held)
            start = len(self.recs)
            self.use(node.value, inner, held, resizes)
            constant = self._constant_key(node)
            for rec in self.recs[start:]:
                if rec.node is node.value:
                    rec.key = constant
            if inner == F.ITEM_READ and key is not None and key not in self.read_keys:
                block = next(
                    (a for a in self.ctx.ancestors(node) if isinstance(a, _BLOCKS)), None
                )
                if block is not None:
                    self.read_keys[key] = block
            return
        if isinstance(node, cst.Call):
            self.call(node, held, iterated=kind == F.ITERATE)
            return
        if isinstance(node, (cst.Name, cst.Attribute)):
            if isinstance(node, cst.Name) and kind in (F.REBIND, F.RMW):
                # `pending = ...`, `n += 1`: the local itself changes, not
                # the object it was bound to.
                if self.aliases.pop(node.value, None) is not None:
                    return
            location = self.location(node)
            if location is not None:
                self.record(node, location, kind, held, resizes)
                return
            if isinstance(node, cst.Attribute):
                self.use(node.value, F.READ, held)
            return
        self.expr(node, held)

    def record(
        self,
        node: cst.CSTNode,
        location: F.Location,
        kind: str,
        held: frozenset[str],
        resizes: bool = True,
    ) -> None:
        guard = None
        for index in reversed(self.if_stack):
            if location in self.ifs[index].tested:
                guard = index
                break
        self.recs.append(
            _Rec(
                node,
                location,
                kind,
                held,
                self.seq,
                guard,
                resizes,
                self.statement,
                self.tolerant > 0,
                handlers=self.handlers,
                gates=self._current_gates(),
                logged=self.logging > 0,
            )
        )

    def location(self, node: cst.BaseExpression) -> F.Location | None:
        if isinstance(node, cst.Attribute):
            base = node.value
            attr = node.attr.value
            if not isinstance(base, cst.Name):
                return None
            class_id = self.class_id
            data = self.m.class_facts.get(self.class_node) if self.class_node is not None else None
            if class_id is not None and data is not None:
                if attr in data.safe_attrs or attr in data.methods:
                    return None
                if base.value == self.self_name:
                    return ("self", class_id, attr)
                if base.value == self.cls_name:
                    return ("class", class_id, attr)
            if base.value in self.locals or base.value in self.outer_locals:
                return None
            target = self.m.module_defs.get(base.value)
            for cls_node, cid in self.m.class_ids.items():
                if cid == target:
                    cls_data = self.m.class_facts.get(cls_node)
                    if cls_data is not None and (
                        attr in cls_data.methods or attr in cls_data.safe_attrs
                    ):
                        return None
                    return ("class", cid, attr)
            return None
        if isinstance(node, cst.Name):
            name = node.value
            if name in self.aliases:
                return self.aliases[name]
            if (
                name not in self.m.tracked_globals
                or name in self.locals
                or name in self.outer_locals
            ):
                return None
            if isinstance(self.unit, cst.Module) and not self.ctx.is_module_level(node):
                return None
            return ("global", self.ctx.module_name, name)
        return None

    # -- calls ---------------------------------------------------------------------

    def _evidence(self, node: cst.Raise | cst.Call) -> None:
        """Note a step that evidently can raise, unless a handler here takes it."""
        if self.lambdas or isinstance(self.unit, cst.Module):
            return
        evidence = raise_evidence.of_step(self.ctx, node, (*self.params, *self.keyword_params))
        if evidence is not None and evidence.kind == raise_evidence.LOOKUP:
            # `items.pop()` may be under `if items:`: this walk does not know
            # what the code tested, so a lookup is no evidence for callers.
            return
        if evidence is not None and not raise_evidence.shielded(
            self.ctx, node, evidence, self.unit
        ):
            self.raises.append((self.m.pos.of(node)[0], evidence.reason))

    def call(self, node: cst.Call, held: frozenset[str], iterated: bool) -> None:
        func = node.func
        self._evidence(node)
        spawn = find_spawn(self.ctx, node)
        spawned_target: cst.BaseExpression | None = None
        if spawn is not None:
            spawned_target = self._spawn(spawn.target, spawn.api, node, spawn.repeats)
        self._events(node)
        self._server(node)
        self.thread_calls.call(node)
        name = func.value if isinstance(func, cst.Name) else None
        logging = self.ctx.is_logging_call(node)
        self.logging += logging
        for index, arg in enumerate(node.args):
            value = arg.value
            if value is spawned_target:
                continue
            if (
                index == 0
                and arg.keyword is None
                and name in EAGER_ITERATION
                and name not in self.locals
            ):
                if name in ATOMIC_COPIES and _copied_whole(value):
                    self.expr(value, held)
                else:
                    self.use(value, F.ITERATE, held)
            elif (
                iterated
                and name in LAZY_ITERATION
                and arg.keyword is None
                and not (name in ("map", "filter") and index == 0)
            ) or (
                index == 0
                and isinstance(func, cst.Attribute)
                and func.attr.value == "join"
                and isinstance(func.value, (cst.SimpleString, cst.FormattedString))
            ):
                self.use(value, F.ITERATE, held)
            else:
                self.expr(value, held)
        self.logging -= logging
        if isinstance(func, cst.Attribute):
            method = func.attr.value
            receiver = func.value
            location = (
                self.location(receiver) if isinstance(receiver, (cst.Name, cst.Attribute)) else None
            )
            if location is not None and method in MUTATORS:
                self._forget_keys(dotted_name(receiver) or "")
                self.record(receiver, location, F.MUTATE, held, method not in SIZE_KEEPING)
                rec = self.recs[-1]
                rec.safe_form = method in ("discard", "setdefault") or (
                    method == "pop" and len(node.args) > 1
                )
                rec.removes = method in REMOVERS
                rec.raises = method in RAISING_REMOVERS or (method == "pop" and len(node.args) < 2)
                rec.anywhere = method in ("popitem", "popleft") or (method == "pop" and not node.args)
            elif location is not None and iterated and method in VIEWS:
                self.record(receiver, location, F.ITERATE, held)
            elif isinstance(receiver, cst.Subscript) and method in MUTATORS:
                self.use(receiver, F.READ, held)
            else:
                self.use(receiver, F.READ, held)
        elif not isinstance(func, cst.Name):
            self.expr(func, held)
        self._callbacks(node)
        callee, owned = self.callee(func)
        callees = [callee] if callee is not None else self._bound_methods(func)
        for callee in callees:
            self.calls.append(
                _CallRec(
                    callee,
                    node,
                    held,
                    self.seq,
                    owned,
                    bool(self.repeating),
                    self._callable_arguments(node),
                    callee[0] == "inst" and self._made_by_self(func),
                    self._current_gates(),
                    self._argument_classes(node),
                    self.lambdas > 0,
                    raise_evidence.shielded(self.ctx, node, raise_evidence.ANYTHING, self.unit),
                    self.loop_entry if self.loop_entry is not None else self.seq,
                )
            )

    def callee(self, func: cst.BaseExpression) -> tuple[F.Callee | None, bool]:
        if isinstance(func, cst.Name):
            return self._named(func.value), False
        if not isinstance(func, cst.Attribute):
            return None, False
        method = func.attr.value
        receiver = func.value
        class_id = self.class_id
        if isinstance(receiver, cst.Name):
            if class_id is not None and receiver.value in (self.self_name, self.cls_name):
                return ("self", class_id, method), False
            if receiver.value in self.owned:
                return ("inst", self.owned[receiver.value], method), True
            if receiver.value in self.locals or receiver.value in self.outer_locals:
                made = self._class_of_local(receiver)
                if made:
                    return ("inst", made, method), False
                if self._plain_parameter(receiver.value):
                    return ("arg", f"{self.id}({receiver.value})", method), False
                return None, False
            module_bindings = self.ctx.bindings.get(self.ctx.module, {})
            if receiver.value in module_bindings and receiver.value not in self.m.imports:
                made = self._class_of_bindings(module_bindings[receiver.value])
                return (("inst", made, method), False) if made else (None, False)
        if (
            isinstance(receiver, cst.Call)
            and class_id is not None
            and self.ctx.qualname(receiver.func) == "super"
        ):
            return ("super", class_id, method), False
        if (
            isinstance(receiver, cst.Attribute)
            and isinstance(receiver.value, cst.Name)
            and receiver.value.value == self.self_name
            and self.class_node is not None
        ):
            made = self._class_of_attr(receiver.attr.value)
            return (("inst", made, method), False) if made else (None, False)
        absolute = absolute_name(self.m, func)
        written = dotted_name(func) or ""
        if absolute is None or (
            absolute == written and written.partition(".")[0] not in self.m.imports
        ):
            return None, False  # not imported or defined here: a builtin, an unknown object
        return ("name", absolute, ""), False

    def _bound_methods(self, func: cst.BaseExpression) -> list[F.Callee]:
        """The methods a local bound only to methods of `self` may call.

        `handler = self._on_init` in one branch and `handler = self._on_data`
        in another (or `self._a if x else self._b`), then `handler(msg)`: the
        call runs one of them, so each is a call edge.  A binding to anything
        else (a parameter, a call's result, a loop variable) leaves the
        callee unknown; `None` calls nothing."""
        if not (
            isinstance(func, cst.Name)
            and self.class_id is not None
            and func.value in self.locals
        ):
            return []
        methods: list[F.Callee] = []
        values = [b.value for b in self.ctx.bindings.get(self.unit, {}).get(func.value, [])]
        while values:
            value = values.pop()
            if isinstance(value, cst.IfExp):
                values += [value.body, value.orelse]
            elif isinstance(value, cst.BooleanOperation):
                values += [value.left, value.right]
            elif isinstance(value, cst.Name) and value.value == "None":
                continue
            elif (
                isinstance(value, cst.Attribute)
                and isinstance(value.value, cst.Name)
                and value.value.value in (self.self_name, self.cls_name)
            ):
                callee: F.Callee = ("self", self.class_id, value.attr.value)
                if callee not in methods:
                    methods.append(callee)
            else:
                return []
        return methods

    def _named(self, name: str) -> F.Callee | None:
        if name in self.locals and name not in self.m.nested_defs.get(self.unit, {}):
            return None
        scope: cst.CSTNode | None = self.unit
        while scope is not None:
            nested = self.m.nested_defs.get(scope, {})
            if name in nested and scope is not self.ctx.module:
                return ("name", self.m.function_ids[nested[name]], "")
            scope = (
                self.ctx.enclosing_function(scope) if not isinstance(scope, cst.Module) else None
            )
        if name in self.m.module_defs:
            return ("name", self.m.module_defs[name], "")
        if name in self.m.imports:
            return ("name", self.m.imports[name], "")
        return None

    def _plain_parameter(self, name: str) -> bool:
        """A parameter of this function without annotation, never rebound."""
        if name not in self.params and name not in self.keyword_params:
            return False
        if isinstance(self.unit, cst.Module):
            return False
        bindings = self.ctx.bindings.get(self.unit, {}).get(name, [])
        return all(b.value is None and b.annotation is None for b in bindings)

    def _argument_classes(self, call: cst.Call) -> tuple[tuple[str, str], ...]:
        found = []
        position = 0
        for arg in call.args:
            if arg.star:
                break
            slot = arg.keyword.value if arg.keyword is not None else str(position)
            if arg.keyword is None:
                position += 1
            value = arg.value
            made: str | None = None
            if isinstance(value, cst.Name) and value.value in self.owned:
                made = self.owned[value.value]
            elif isinstance(value, cst.Call) and self.ctx.kind_of_type(value.func) is None:
                made = absolute_name(self.m, value.func)
            elif (
                isinstance(value, cst.Attribute)
                and isinstance(value.value, cst.Name)
                and value.value.value == self.self_name
            ):
                made = self._class_of_attr(value.attr.value)
            if made:
                found.append((slot, made))
        return tuple(found)

    def _current_gates(self) -> frozenset[F.Location]:
        return self.gates.union(*(self.ifs[i].tested for i in self.if_stack))

    def _made_by_self(self, func: cst.BaseExpression) -> bool:
        """`self.x.m()` where every binding of `self.x` is a constructor call."""
        if not (
            isinstance(func, cst.Attribute)
            and isinstance(func.value, cst.Attribute)
            and isinstance(func.value.value, cst.Name)
            and func.value.value.value == self.self_name
            and self.class_node is not None
        ):
            return False
        bindings = self.ctx.classes[self.class_node].attrs.get(func.value.attr.value, [])
        return bool(bindings) and all(isinstance(b.value, cst.Call) for b in bindings)

    def _class_of_local(self, name: cst.Name) -> str | None:
        bindings = (
            self.ctx.bindings.get(self.unit, {}).get(name.value, [])
            if not isinstance(self.unit, cst.Module)
            else []
        )
        return self._class_of_bindings(bindings)

    def _class_of_attr(self, attr: str) -> str | None:
        if self.class_node is None:
            return None
        return self._class_of_bindings(self.ctx.classes[self.class_node].attrs.get(attr, []))

    def _class_of_bindings(self, bindings: Sequence[Binding]) -> str | None:
        made = set()
        for binding in bindings:
            value = binding.value
            if is_none(value):
                continue
            if isinstance(value, cst.Call) and self.ctx.kind_of_type(value.func) is None:
                made.add(absolute_name(self.m, value.func))
            elif binding.annotation is not None and value is None:
                made.add(absolute_name(self.m, binding.annotation))
            else:
                return None
        return made.pop() if len(made) == 1 else None

    def _spawn(
        self, target: cst.BaseExpression, api_name: str, call: cst.Call, repeats: bool
    ) -> cst.BaseExpression | None:
        """Record a thread root; returns the argument expression not to walk as code."""
        original = target
        target = unwrap_target(self.ctx, target)
        serial = self._serial_executor(call) if api_name.startswith("executor.") else ""
        if api_name in _OFFLOADS and self._awaited_each_period(call):
            # `while True: await loop.run_in_executor(pool, f); await
            # asyncio.sleep(t)`: each round is awaited before the next, so
            # whatever the pool's size the rounds of one such loop run one
            # after another.  A timer loop is a service started once; code
            # that starts it several times makes the root repeat.
            repeats = False
        else:
            repeats = not serial and (
                repeats or bool(self.repeating) or api_name.startswith(POOLED_APIS)
            )
        if not api_name.startswith("threading."):
            self._start_event()
        if isinstance(target, cst.Lambda):
            line = self.m.pos.of(target)[0]
            unit_id = f"{self.id}.<lambda:{line}>"
            FunctionWalker(self.m, target, unit_id, outer=self).run()
            self.spawns.append(
                (("name", unit_id, ""), api_name, call, repeats, self.seq, "", False)
            )
            return original
        via = ""
        callee: F.Callee | None = None
        if isinstance(target, cst.Call):
            # `Thread(target=make_checker(state))`, `pool.submit(Task(job))`:
            # what the call returns runs on the thread.
            callee, _ = self.callee(target.func)
            via = "returned"
        elif isinstance(target, cst.Name) and target.value in self.owned:
            # A task object handed over whole: its `__call__` runs.
            callee = ("inst", self.owned[target.value], "__call__")
        else:
            callee = self._callable(target)
        if callee is not None:
            self.spawns.append((callee, api_name, call, repeats, self.seq, via, self._fresh(target)))
        return None

    def _fresh(self, target: cst.BaseExpression) -> bool:
        """A method of an object this function has just made, in the same
        loop as the start (`w = Worker(); Thread(target=w.run)`, or `self.worker
        = Worker()` first): each start runs on an object of its own."""
        if not isinstance(target, cst.Attribute):
            return False
        receiver = dotted_name(target.value)
        innermost = self.repeating[-1] if self.repeating else None
        return receiver in self.made_in and self.made_in[receiver] is innermost

    def _awaited_each_period(self, call: cst.Call) -> bool:
        """Whether `call` is awaited where it stands, inside a loop of this
        function that also awaits a sleep (a timer loop)."""
        node = self.ctx.parent(call)
        if not isinstance(node, cst.Await):
            return False
        while (node := self.ctx.parent(node)) is not None and node is not self.unit:
            if isinstance(node, (cst.While, cst.For)) and any(
                isinstance(inner, cst.Await)
                and isinstance(inner.expression, cst.Call)
                and self.ctx.qualname(inner.expression.func) in _ASYNC_SLEEPS
                for inner in executed(node.body)
            ):
                return True
        return False

    def _serial_executor(self, call: cst.Call) -> str:
        """The key of the executor `call` submits to when every binding of it
        makes a `ThreadPoolExecutor(max_workers=1)`, else ""."""
        if not isinstance(call.func, cst.Attribute):
            return ""
        receiver = call.func.value
        if isinstance(receiver, cst.Name):
            bindings = self.ctx.bindings_of(receiver.value, receiver)
        elif isinstance(receiver, cst.Attribute):
            bindings = self.ctx.self_attr_bindings(receiver) or []
        else:
            return ""
        made = [b.value for b in bindings if b.value is not None]
        if not made or not all(
            isinstance(value, cst.Call)
            and self.ctx.kind_of(value) == api.THREAD_EXECUTOR
            and _is_one(argument(value, 0, "max_workers"))
            for value in made
        ):
            return ""
        return f"{self.class_id or self.id}:{dotted_name(receiver)}"

    def _start_event(self) -> None:
        self.starts.append(self.loop_entry if self.loop_entry is not None else self.seq)

    def _join_event(self) -> None:
        if self.loop_entry is not None:
            self.loop_joins = True
        else:
            self.joins.append(self.seq)

    def _events(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute):
            method = func.attr.value
            kind = self.ctx.kind_of(func.value)
            if method == "start" and not node.args and kind in (None, api.THREAD, api.TIMER):
                self._start_event()
            elif (
                (
                    method == "join"
                    and _join_arguments(node)
                    and not isinstance(
                        func.value, (cst.SimpleString, cst.FormattedString, cst.ConcatenatedString)
                    )
                )
                or method == "shutdown"
                and kind in (None, *api.EXECUTOR_KINDS)
            ):
                self._join_event()
        elif self.ctx.qualname(func) in JOINING_FUNCTIONS:
            self._join_event()

    def _server(self, node: cst.Call) -> None:
        if len(node.args) < 2:
            return
        handler = argument(node, 1, "RequestHandlerClass")
        if handler is None or dotted_name(handler) is None:
            return
        server = absolute_name(self.m, node.func)
        handler_name = absolute_name(self.m, handler)
        if server is None or handler_name is None or "." not in handler_name:
            return
        if server in THREADING_SERVERS or "." in server:
            self.m.servers.append(F.Server(server, handler_name, self.m.pos.of(node)[0]))


def _idempotent_value(value: cst.BaseExpression) -> bool:
    """A literal, or a fresh empty container (`{}`, `[]`, `set()`): storing it
    twice leaves the same state as storing it once."""
    if isinstance(value, _LITERALS):
        return True
    if isinstance(value, cst.Name):
        return value.value in ("True", "False", "None")
    if isinstance(value, (cst.List, cst.Set, cst.Tuple)):
        return not value.elements
    if isinstance(value, cst.Dict):
        return not value.elements
    return (
        isinstance(value, cst.Call)
        and not value.args
        and isinstance(value.func, cst.Name)
        and value.func.value in ("list", "dict", "set", "tuple")
    )


def _is_position(expr: cst.BaseExpression) -> bool:
    """`0`, `-1`: an index that any non-empty list has."""
    if isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, cst.Minus):
        expr = expr.expression
    return isinstance(expr, cst.Integer)


def _tests_emptiness(test: cst.BaseExpression, reads: Callable[[cst.CSTNode], bool]) -> bool:
    """`if q:`, `if len(q):`, `if len(q) > 0:` (alone or in an `and`), where
    `reads(q)` says `q` reads the container acted on: a test that another
    thread's take can make stale, unlike `if len(d) > 1024:`, after which
    one more take cannot empty the container (nor `if self.ready and
    len(d) > 1024:`, whose bare name is another location)."""
    if isinstance(test, cst.BooleanOperation):
        return isinstance(test.operator, cst.And) and (
            _tests_emptiness(test.left, reads) or _tests_emptiness(test.right, reads)
        )
    if isinstance(test, (cst.Name, cst.Attribute)):
        return reads(test)
    if isinstance(test, cst.Call):
        args = test.args
        return (
            isinstance(test.func, cst.Name)
            and test.func.value == "len"
            and len(args) == 1
            and reads(args[0].value)
        )
    if isinstance(test, cst.Comparison) and len(test.comparisons) == 1:
        target = test.comparisons[0]
        bound = target.comparator
        if not isinstance(bound, cst.Integer) or not _tests_emptiness(test.left, reads):
            return False
        operator, number = target.operator, int(bound.value, 0)
        return (isinstance(operator, (cst.GreaterThan, cst.NotEqual)) and number == 0) or (
            isinstance(operator, cst.GreaterThanEqual) and number == 1
        )
    return False


def _empties(value: cst.BaseExpression) -> bool:
    """`None` or a fresh empty container (of an idempotent value): binding it
    takes every item away from whoever reads the name next."""
    if isinstance(value, cst.Name):
        return value.value == "None"
    return not isinstance(value, _LITERALS)


def _copied_whole(value: cst.BaseExpression) -> bool:
    """`d`, `d.keys()`, `d.values()`, `d.items()`: copied by `list(...)` in one
    C call.  (Copying `d.items()` allocates a tuple per item, and a garbage
    collection started by one could run a finalizer that lets another thread
    in; that is too remote to report the standard snapshot idiom for.)"""
    if isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute) and not value.args:
        if value.func.attr.value not in VIEWS:
            return False
        value = value.func.value
    return isinstance(value, (cst.Name, cst.Attribute))




# Offloads whose result a coroutine awaits, and the sleeps of a timer loop.
_OFFLOADS = frozenset({"loop.run_in_executor", "asyncio.to_thread"})
_ASYNC_SLEEPS = frozenset({"asyncio.sleep", "anyio.sleep", "trio.sleep"})

# Methods that store their (last) argument in a container or queue, and
# methods that take an item out of one (or view its items).
_REGISTERING = frozenset(
    {"append", "add", "appendleft", "insert", "put", "put_nowait", "setdefault"}
)
_DRAWING = frozenset(
    {"get", "get_nowait", "pop", "popleft", "popitem", "values", "copy", "__getitem__"}
)


def _is_one(value: cst.BaseExpression | None) -> bool:
    return isinstance(value, cst.Integer) and value.evaluated_value == 1


def _join_arguments(call: cst.Call) -> bool:
    """`t.join()`, `t.join(5)`, `t.join(timeout=...)`: not `sep.join(parts)`."""
    if not call.args:
        return True
    if len(call.args) != 1:
        return False
    arg = call.args[0]
    if arg.keyword is not None:
        return arg.keyword.value == "timeout"
    return isinstance(arg.value, (cst.Integer, cst.Float))


def _waits(acquire: cst.BaseExpression) -> bool:
    """Can this `acquire()` (or `not acquire()`) wait for ever?"""
    if isinstance(acquire, cst.UnaryOperation) and isinstance(acquire.operator, cst.Not):
        acquire = acquire.expression
    return not isinstance(acquire, cst.Call) or blocking_acquire(acquire)


def _acquire_in_test(test: cst.BaseExpression, positive: bool) -> cst.BaseExpression | None:
    if not positive:
        if not (isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not)):
            return None
        test = test.expression
    if (
        isinstance(test, cst.Call)
        and isinstance(test.func, cst.Attribute)
        and test.func.attr.value == "acquire"
    ):
        return test.func.value
    return None


def _only_statement(body: cst.BaseSuite) -> cst.CSTNode | None:
    """The one step of a body (its docstring aside), an expression by its
    value: `self._lock.acquire()`, an `if`; None for a longer body."""
    steps = [s for s in small_statements(_suite(body)) if not is_docstring(s)]
    if len(steps) != 1:
        return None
    return steps[0].value if isinstance(steps[0], cst.Expr) else steps[0]


def _tests_presence(test: cst.BaseExpression, lock: cst.BaseExpression) -> bool:
    """`if lock:` or `if lock is not None:` on the same expression."""
    written = dotted_name(lock)
    if isinstance(test, cst.Comparison) and len(test.comparisons) == 1:
        target = test.comparisons[0]
        if not (isinstance(target.operator, cst.IsNot) and is_none(target.comparator)):
            return False
        test = test.left
    return written is not None and dotted_name(test) == written


def _escapes(body: cst.BaseSuite) -> bool:
    statements = list(_suite(body))
    if not statements:
        return False
    last = statements[-1]
    if isinstance(last, cst.SimpleStatementLine):
        return bool(last.body) and isinstance(
            last.body[-1], (cst.Return, cst.Raise, cst.Continue, cst.Break)
        )
    return False


# Statement lists: a read in one runs before what follows it in the same list.
_BLOCKS = (cst.IndentedBlock, cst.Module, cst.SimpleStatementSuite)


def _suite(body: cst.BaseSuite) -> Sequence[cst.CSTNode]:
    if isinstance(body, cst.IndentedBlock):
        return body.body
    if isinstance(body, cst.SimpleStatementSuite):
        return [body]  # `if x: y = 1` on one line: its small statements, like a line's
    return []

