"""What can raise, joined over the project, and the findings that wait for it.

Each function's summary lists the steps that evidently can raise out of it
(`Function.raises`, see `analysis/raise_evidence.py`) and its calls, with
whether a catch-all handler around the call takes what the callee raises
(`Call.shielded`). The link joins them once: a function can raise when a
step of its own can, or when it calls a function that can, or a callback
slot that can (see `_slot_reason`), to a fixpoint.

A file rule that needs this fact for a finding defers the finding
(`facts.Deferred`): the link reports it when one of the calls it names can
raise, and names why.
"""

from __future__ import annotations

from collections.abc import Sequence

from threadlint import facts as F
from threadlint.analysis.per_file import FileResult
from threadlint.config import Settings
from threadlint.diagnostics import Diagnostic
from threadlint.project_model import Model, call_targets, param_at, project_model

# How many parameters a callback is followed through (`def register(cb):
# self._inner.register(cb)`) to the callables the project passes.
_PARAM_DEPTH = 3


class RaiseModel:
    """Per function of the project: why it can raise, or nothing."""

    def __init__(self, model: Model) -> None:
        self.model = model
        # function -> the evidence at the end of the chain: "raises `KeyError`
        # (pkg/mod.py:12)", "does I/O (pkg/io.py:40)".
        self.why: dict[str, str] = {}
        self.direct: set[str] = set()  # functions whose own step is the evidence
        # Who calls each function (constructors included): for the callables
        # they pass to its parameters.
        self.callers: dict[str, list[F.Call]] = {}
        # attribute -> what the project stores in it (None: not a callable's name).
        self.slots: dict[str, list[F.Callee | None]] = {}
        for fid, function in model.functions.items():
            for line, reason in function.raises[:1]:
                self.why[fid] = f"{reason} ({model.where(fid, line)})"
                self.direct.add(fid)
            for call in function.calls:
                for target in call_targets(model, call):
                    self.callers.setdefault(target, []).append(call)
            for attribute, callee in function.slot_stores:
                self.slots.setdefault(attribute, []).append(callee)
        changed = True
        while changed:
            changed = False
            for fid, function in model.functions.items():
                if fid in self.why:
                    continue
                for call in function.calls:
                    found = self._root(call, window=False)
                    if found is not None:
                        self.why[fid] = found[1]
                        changed = True
                        break

    def call_reason(self, call: F.Call, window: bool = False) -> str | None:
        """Why what the call runs can raise out of it, or None. For a call of
        a deferred finding's `window`, its file rule has judged the handlers
        around it."""
        found = self._root(call, window)
        if found is None:
            return None
        through, root = found
        if through is None:
            return f"it {root}"
        name = self.model.display_name(through)
        return f"`{name}` {root}" if through in self.direct else f"`{name}` reaches code that {root}"

    def _root(self, call: F.Call, window: bool) -> tuple[str | None, str] | None:
        """(the function it runs that can raise, or None for a callback slot;
        the evidence at the end of the chain)."""
        if call.deferred or (call.shielded and not window):
            return None
        targets = call_targets(self.model, call)
        for target in targets:
            if target in self.why:
                return target, self.why[target]
        if not targets:
            slot = self._slot_reason(call.callee)
            if slot is not None:
                return None, slot
        return None

    def _slot_reason(self, callee: F.Callee) -> str | None:
        """`self.on_message(...)` of an attribute the class assigns, not a
        method: a callback slot. It can raise when the project never fills
        it with a callable (its users do), or fills it with one that can."""
        how, target, attribute = callee
        if how == "self":
            owner: str | None = target
        elif how == "inst":
            owner = self.model.resolve(target)[1]
        else:
            return None
        if owner is None or not any(
            attribute in self.model.classes[cid].assigned for cid in self.model.mro(owner)
        ):
            return None
        stored = self.slots.get(attribute, [])
        filled = [value for value in stored if value is not None]
        if not filled:
            # Only `None`, or nothing the project names: a slot for its users.
            return None if stored else f"calls `{attribute}`, a callback attribute its users set"
        for value in filled:
            reason = self._value_reason(attribute, value, _PARAM_DEPTH)
            if reason is not None:
                return reason
        return None

    def _value_reason(self, attribute: str, value: F.Callee, depth: int) -> str | None:
        """Why a callable the project stores in `attribute` (or passes on its
        way there) can raise."""
        if value[0] != "param":
            for target in self.model.callees(value, self.model.subclasses):
                if target in self.why:
                    return self.why[target]
            return None
        _, function_id, name = value
        function = self.model.functions.get(function_id)
        callers = self.callers.get(function_id, [])
        if function is None:
            return None
        if not callers:
            display = self.model.display_name(function_id)
            return (
                f"calls `{attribute}`, a callback its users pass to `{display}` as `{name}`"
            )
        if depth == 0:
            return None
        for call in callers:
            for slot, passed in call.callables:
                if param_at(function, slot) == name:
                    reason = self._value_reason(attribute, passed, depth - 1)
                    if reason is not None:
                        return reason
        return None


def raise_model(model: Model) -> RaiseModel:
    if model.raising is None:
        model.raising = RaiseModel(model)
    assert isinstance(model.raising, RaiseModel)
    return model.raising


def deferred_findings(results: Sequence[FileResult], settings: Settings) -> list[Diagnostic]:
    """The deferred findings one of whose calls can raise, with the reason."""
    waiting = [
        deferred
        for result in results
        if result.facts
        for deferred in result.facts.get("deferred", ())
        if settings.is_selected(deferred.diagnostic.code)
    ]
    if not waiting:
        return []
    model = project_model(results, settings)
    raising = raise_model(model)
    found = []
    for deferred in waiting:
        function = model.functions.get(deferred.function)
        if function is None:
            continue
        by_place = {(call.line, call.col): call for call in function.calls}
        for line, col, text in deferred.calls:
            call = by_place.get((line, col))
            reason = raising.call_reason(call, window=True) if call is not None else None
            if reason is not None:
                diagnostic = deferred.diagnostic
                blame = f" (`{text}`, line {line}, can raise: {reason})"
                found.append(
                    Diagnostic(
                        path=diagnostic.path,
                        line=diagnostic.line,
                        col=diagnostic.col,
                        code=diagnostic.code,
                        message=diagnostic.message.replace(F.BLAME, blame),
                        end_line=diagnostic.end_line,
                        end_col=diagnostic.end_col,
                    )
                )
                break
    return found


def callee_names(model: Model, results: Sequence[FileResult]) -> set[str]:
    """Dotted names that deferred findings' calls reach and the project
    does not resolve: the modules that must be analysed to judge them."""
    # (call, made in a deferred finding's window: its handlers are judged)
    pending: list[tuple[F.Call, bool]] = []
    for result in results:
        for deferred in (result.facts or {}).get("deferred", ()):
            function = model.functions.get(deferred.function)
            if function is not None:
                places = {(line, col) for line, col, _ in deferred.calls}
                pending.extend((c, True) for c in function.calls if (c.line, c.col) in places)
    names: set[str] = set()
    seen: set[str] = set()
    while pending:
        call, window = pending.pop()
        if call.shielded and not window:
            continue
        targets = call_targets(model, call)
        if not targets and call.callee[0] in ("name", "inst"):
            names.add(call.callee[1])
        for target in targets:
            if target not in seen:
                seen.add(target)
                pending.extend((c, False) for c in model.functions[target].calls)
    return names
