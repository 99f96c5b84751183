"""Reading call sites the way Python binds them: positional or keyword."""

from __future__ import annotations

from collections.abc import Sequence

import libcst as cst


def argument(
    call: cst.Call, position: int | None, keyword: str | None
) -> cst.BaseExpression | None:
    """The expression bound to a parameter, by position or keyword, if visible.

    Returns None when the call passes `*args`/`**kwargs` before that position
    (the binding cannot be seen statically) or omits the argument.
    """
    index = 0
    for arg in call.args:
        if arg.keyword is not None:
            if keyword is not None and arg.keyword.value == keyword:
                return arg.value
            continue
        if arg.star:
            if arg.star == "*":
                return None
            continue
        if position is not None and index == position:
            return arg.value
        index += 1
    return None


def has_keyword(call: cst.Call, names: Sequence[str]) -> bool:
    return any(arg.keyword is not None and arg.keyword.value in names for arg in call.args)


def method_call(call: cst.Call) -> str | None:
    """`m` for a call `receiver.m(...)`."""
    if isinstance(call.func, cst.Attribute):
        return call.func.attr.value
    return None


def positional_params(params: cst.Parameters) -> list[cst.Param]:
    """The parameters a caller can bind by position, in order: positional-only
    ones first (`def wrapper(self, /, *args)` binds `self` there)."""
    return [*params.posonly_params, *params.params]
