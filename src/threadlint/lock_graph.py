"""The project's lock-order graph (TL304), joined from every module's summaries.

An *order* is one edge of the graph: lock `outer` is held while lock
`inner` is taken, at one site. Orders come from two places:

- a function's own nested acquisitions (`with a: with b:`, `with a, b:`,
  `b.acquire()` while `a` is held): `facts.Acquire.held`;
- a call made while a lock is held (`facts.Call.locks`) to a function, in
  any module, that takes another lock itself or through its own calls. The
  calls are those the concurrency model resolved (`Model.out_edges`):
  imports and re-exports, `self.m()` through the class hierarchy, methods
  of objects whose class is visible.

Locks are compared by *identity*, a name that means the same object in
every module:

- a module global by its absolute name, followed through re-exports
  (`from pkg.locks import registry_lock` is `pkg.locks.registry_lock`);
- `self.x` by the class of the family that binds `x` (`pkg.mod.Base.x` for
  every subclass), and so is `Cls.x`. Instances of a class cannot be told
  apart statically: one object's `_lock` then another object's `_lock` of
  the same class is one identity, so no inversion of two locks;
- anything else (a parameter's lock, a local, a closure's) has no identity
  and takes part in no order.

Only blocking acquisitions are an order's `inner`: `acquire(False)` or one
with a timeout cannot wait for ever. A lock taken while this thread already
holds it (an `RLock` re-entered; a `Lock` is TL305's business) adds no
order. Orders that run only while no other thread runs (before the function
that starts the threads starts them, after it joined them, and what only
such code calls) are left out, and so are orders of a constructor on the
object it builds, whose locks no other thread can hold yet.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from threadlint import facts as F
from threadlint.project_model import Model, canonical, is_setup

# Calls followed from a lock to the acquisition it reaches: a longer chain
# through method dispatch says less and less about what really runs.
_MAX_DEPTH = 6
_QUIET_PHASES = ("pre", "post")


@dataclass(frozen=True)
class Taken:
    """How running a function takes a lock: at `path:line`, after calling the
    functions in `chain` (ids, outermost first; empty when it takes it itself)."""

    key: str  # the lock as written where it is taken
    path: str
    line: int
    chain: tuple[str, ...] = ()


@dataclass(frozen=True)
class Order:
    """`outer` is held while `inner` is taken, at the site `path:line`."""

    outer: str  # identities
    inner: str
    outer_key: str  # as written in `function`
    inner_key: str  # as written where it is taken
    function: str
    path: str
    line: int
    col: int
    end_line: int
    end_col: int
    through: Taken | None = None  # a call: the chain to the acquisition


@dataclass
class LockGraph:
    model: Model
    orders: dict[tuple[str, str], list[Order]] = field(default_factory=dict)
    _identities: dict[tuple[str | None, str], str | None] = field(default_factory=dict)
    _imports: dict[str, dict[str, str]] = field(default_factory=dict)

    # -- identities ------------------------------------------------------------------

    def identity(self, function: F.Function, key: str) -> str | None:
        """The object a lock key of `function` names, project-wide; None when it
        has no name outside the function (or may not be held at all: `?`)."""
        memo = (function.cls, key) if key.startswith("self.") else (None, key)
        if memo not in self._identities:
            self._identities[memo] = self._identity(function.cls, key)
        return self._identities[memo]

    def _identity(self, cls: str | None, key: str) -> str | None:
        if key.startswith(("~", F.UNKNOWN_LOCK)):
            return None
        if key.startswith("self."):
            if cls is None:
                return None
            path = key[len("self.") :]
            owner = canonical(self.model, ("self", cls, path.partition(".")[0]))[1]
            return f"{owner}.{path}"
        return self._global(key, 0)

    def _global(self, dotted: str, depth: int) -> str:
        """An absolute name through the re-exports of the project's modules,
        and a class attribute by the class that binds it."""
        parts = dotted.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            module = ".".join(parts[:cut])
            facts = self.model.modules.get(module)
            if facts is None:
                continue
            if module not in self._imports:
                self._imports[module] = dict(facts.imports)
            imported = self._imports[module].get(parts[cut])
            if imported is not None and depth < 6:
                return self._global(".".join([imported, *parts[cut + 1 :]]), depth + 1)
            break
        head, _, name = dotted.rpartition(".")
        if head in self.model.classes:
            owner = canonical(self.model, ("class", head, name))[1]
            return f"{owner}.{name}"
        return dotted

    # -- the graph -------------------------------------------------------------------

    def build(self) -> LockGraph:
        takes = self._takes()
        quiet = self._quiet()
        model = self.model
        for fid, function in model.functions.items():
            if fid in quiet:
                continue
            path = model.paths[fid]
            setup = is_setup(function)
            for acquire in function.acquires:
                if not acquire.blocking or acquire.phase in _QUIET_PHASES:
                    continue
                if setup and acquire.key.startswith("self."):
                    continue  # the object being built: no other thread holds its lock
                inner = self.identity(function, acquire.key)
                if inner is None or inner in self._maybe_held(function, acquire.held):
                    continue
                for key in acquire.held:
                    outer = self.identity(function, key)
                    if outer is None or (setup and key.startswith("self.")):
                        continue
                    self._add(
                        Order(
                            outer, inner, key, acquire.key, fid, path, acquire.line,
                            acquire.col, acquire.end_line, acquire.end_col,
                        )
                    )
            for callee, _, call in model.out_edges.get(fid, []):
                if not call.locks or call.phase in _QUIET_PHASES:
                    continue
                held = self._maybe_held(function, call.locks)
                for inner, how in takes.get(callee, {}).items():
                    if inner in held:
                        continue  # taken again by the thread that holds it: re-entry
                    through = Taken(how.key, how.path, how.line, (callee,) + how.chain)
                    for key in call.locks:
                        outer = self.identity(function, key)
                        if outer is None or (setup and key.startswith("self.")):
                            continue
                        self._add(
                            Order(
                                outer, inner, key, how.key, fid, path, call.line, call.col,
                                call.end_line, call.end_col, through,
                            )
                        )
        return self

    def _add(self, order: Order) -> None:
        self.orders.setdefault((order.outer, order.inner), []).append(order)

    def _maybe_held(self, function: F.Function, keys: frozenset[str]) -> set[str]:
        """Identities held, or perhaps held (`?`), at a point with these keys."""
        found = set()
        for key in keys:
            identity = self.identity(function, key.lstrip(F.UNKNOWN_LOCK))
            if identity is not None:
                found.add(identity)
        return found

    def _takes(self) -> dict[str, dict[str, Taken]]:
        """Per function, the locks (identities) running it takes, itself or
        through the functions it calls, each with its shortest chain: found
        from every blocking acquisition back through the callers."""
        model = self.model
        takes: dict[str, dict[str, Taken]] = {}
        frontier: list[tuple[str, str]] = []
        for fid, function in model.functions.items():
            for acquire in function.acquires:
                identity = self.identity(function, acquire.key) if acquire.blocking else None
                if identity is not None and identity not in takes.setdefault(fid, {}):
                    takes[fid][identity] = Taken(acquire.key, model.paths[fid], acquire.line)
                    frontier.append((fid, identity))
        for _ in range(_MAX_DEPTH):
            reached: list[tuple[str, str]] = []
            for fid, identity in frontier:
                how = takes[fid][identity]
                for caller, _, _ in model.edges.get(fid, []):
                    known = takes.setdefault(caller, {})
                    if identity not in known:
                        known[identity] = Taken(how.key, how.path, how.line, (fid,) + how.chain)
                        reached.append((caller, identity))
            frontier = reached
        return takes

    def _quiet(self) -> set[str]:
        """Functions that run only while no other thread runs: every call of
        them is made before the caller starts its threads or after it joined
        them, or by such a function."""
        model = self.model
        quiet: set[str] = set()
        pending = list(model.functions)
        while pending:
            fid = pending.pop()
            if fid in quiet or model.is_concurrent(fid):
                continue
            callers = model.edges.get(fid, [])
            if callers and all(
                call.phase in _QUIET_PHASES or caller in quiet for caller, call, _ in callers
            ):
                quiet.add(fid)
                pending.extend(callee for callee, _, _ in model.out_edges.get(fid, []))
        return quiet

    # -- cycles ----------------------------------------------------------------------

    def inversions(self) -> Iterator[tuple[Order, tuple[Order, ...]]]:
        """Each cycle of two or three locks, once: (the order reported, the
        cycle's other orders, in cycle order from it). Each step of a cycle is
        its first site; the finding goes to the latest of them. A cycle of
        three whose locks already make a cycle of two is that one's."""
        pairs = {
            frozenset(pair) for pair in self.orders if (pair[1], pair[0]) in self.orders
        }
        cycles: list[tuple[str, ...]] = [tuple(sorted(pair)) for pair in pairs]
        successors: dict[str, list[str]] = {}
        for outer, inner in self.orders:
            successors.setdefault(outer, []).append(inner)
        for a, bs in successors.items():
            for b in bs:
                for c in successors.get(b, []):
                    if a < b and a < c and c != a and (c, a) in self.orders:
                        if not any(frozenset(p) in pairs for p in ((a, b), (b, c), (c, a))):
                            cycles.append((a, b, c))
        for cycle in sorted(cycles):
            steps = [
                min(self.orders[(cycle[i], cycle[(i + 1) % len(cycle)])], key=_place)
                for i in range(len(cycle))
            ]
            last = max(range(len(steps)), key=lambda i: _place(steps[i]))
            yield steps[last], tuple(steps[last + 1 :] + steps[:last])


def _place(order: Order) -> tuple[str, int, int]:
    return (order.path, order.line, order.col)
