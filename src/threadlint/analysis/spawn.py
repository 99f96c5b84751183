"""Where a callable is handed to another thread: the syntax of thread roots.

`find_spawn(ctx, call)` recognises every call that makes a function run on
a thread other than the caller's (RULES.md, "Thread roots"), and returns the
callable expression as written, so that rules about thread roots (TL202,
TL401, the race rules) agree on what a thread target is.
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from threadlint.analysis import threading_api as api
from threadlint.analysis.calls import argument
from threadlint.analysis.context import ModuleContext, is_none

# Constructors and functions: qualified name -> (position, keyword) of the target.
_FUNCTION_TARGETS = {
    "threading.Thread": (1, "target"),
    "threading.Timer": (1, "function"),
    "_thread.start_new_thread": (0, "function"),
    "_thread.start_new": (0, "function"),
    "asyncio.to_thread": (0, "func"),
}

# Methods by the kind of their receiver: method -> (position, keyword).
_METHOD_TARGETS = {
    api.THREAD_EXECUTOR: {"submit": (0, "fn"), "map": (0, "fn")},
    api.THREAD_POOL: {
        name: (0, "func")
        for name in (
            "apply", "apply_async", "map", "map_async", "imap", "imap_unordered",
            "starmap", "starmap_async",
        )
    },
    # A concurrent.futures callback runs in the thread that completes the future.
    api.FUTURE: {"add_done_callback": (0, "fn")},
}

# Receivers whose type is unknown but whose name says what they are.
_EXECUTOR_NAME_PARTS = ("executor", "thread_pool", "threadpool")

# APIs that run their target many times at once (a pool running a map), so
# the target races with itself.
_REPEATING = {"map", "map_async", "imap", "imap_unordered", "starmap", "starmap_async"}


@dataclass(frozen=True)
class Spawn:
    call: cst.Call
    api: str  # what hands the work over: "threading.Thread", "executor.submit", ...
    target: cst.BaseExpression  # the callable as written (may be a partial or lambda)
    confident: bool  # False when the receiver's type is only guessed from its name
    repeats: bool  # the API itself runs the target concurrently with itself


def find_spawn(ctx: ModuleContext, call: cst.Call) -> Spawn | None:
    # Several rules and collectors ask about every call of the module.
    key = ("spawn", call)
    if key not in ctx.memo:
        ctx.memo[key] = _find_spawn(ctx, call)
    return ctx.memo[key]  # type: ignore[return-value]


def _find_spawn(ctx: ModuleContext, call: cst.Call) -> Spawn | None:
    found = _function_spawn(ctx, call) or _method_spawn(ctx, call)
    if found is None:
        return None
    name, (position, keyword), confident = found
    target = argument(call, position, keyword)
    if target is None:
        return None
    method = name.rsplit(".", 1)[-1]
    return Spawn(call, name, target, confident, method in _REPEATING)


def _function_spawn(ctx: ModuleContext, call: cst.Call) -> tuple[str, tuple[int, str], bool] | None:
    qualified = ctx.qualname(call.func)
    if qualified in _FUNCTION_TARGETS:
        return qualified, _FUNCTION_TARGETS[qualified], True
    if qualified is not None and ctx.kind_of_type(call.func) == api.THREAD:
        local = ctx.classes_by_name.get(qualified)
        if local is not None and "__init__" not in ctx.classes[local].methods:
            return "threading.Thread", _FUNCTION_TARGETS["threading.Thread"], True
        return None
    # super().__init__(target=...) / threading.Thread.__init__(self, None, f) in a subclass.
    cls = ctx.enclosing_class(call)
    if cls is None or not ctx.is_thread_subclass(cls):
        return None
    func = call.func
    if not (isinstance(func, cst.Attribute) and func.attr.value == "__init__"):
        return None
    if isinstance(func.value, cst.Call) and ctx.qualname(func.value.func) == "super":
        return "threading.Thread", (1, "target"), True
    if ctx.qualname(func.value) == "threading.Thread":
        return "threading.Thread", (2, "target"), True
    return None


def _method_spawn(ctx: ModuleContext, call: cst.Call) -> tuple[str, tuple[int, str], bool] | None:
    if not isinstance(call.func, cst.Attribute):
        return None
    method = call.func.attr.value
    receiver = call.func.value
    if method == "run_in_executor":
        executor = argument(call, 0, "executor")
        if executor is None:
            return None
        if is_none(executor):
            return "loop.run_in_executor", (1, "func"), True
        kind = ctx.kind_of(executor)
        if kind == api.THREAD_EXECUTOR:
            return "loop.run_in_executor", (1, "func"), True
        return None
    kind = ctx.kind_of(receiver)
    if kind in _METHOD_TARGETS and method in _METHOD_TARGETS[kind]:
        label = {api.THREAD_EXECUTOR: "executor", api.THREAD_POOL: "pool", api.FUTURE: "future"}[kind]
        return f"{label}.{method}", _METHOD_TARGETS[kind][method], True
    if kind is None and method in ("submit", "map") and _named_like_executor(receiver):
        return f"executor.{method}", _METHOD_TARGETS[api.THREAD_EXECUTOR][method], False
    return None


def _named_like_executor(receiver: cst.BaseExpression) -> bool:
    name = receiver.attr.value if isinstance(receiver, cst.Attribute) else (
        receiver.value if isinstance(receiver, cst.Name) else ""
    )
    lowered = name.lower()
    return any(part in lowered for part in _EXECUTOR_NAME_PARTS)


def unwrap_target(ctx: ModuleContext, target: cst.BaseExpression) -> cst.BaseExpression:
    """The callable that actually runs: `functools.partial(f, x)` is `f`."""
    while isinstance(target, cst.Call) and ctx.qualname(target.func) == "functools.partial":
        inner = argument(target, 0, "func")
        if inner is None:
            break
        target = inner
    return target
