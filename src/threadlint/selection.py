"""Which rules run: --select / --ignore by code or prefix, as flake8 and ruff do.

The most specific matching prefix wins, so `--select TL1 --ignore TL101`
keeps TL102 and `--ignore TL1 --extend-select TL101` keeps TL101.  On a tie
the ignore wins.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable, Set

if TYPE_CHECKING:
    from threadlint.config import Settings

ALL = "ALL"


def all_codes() -> Set[str]:
    from threadlint.rules.base import all_rules

    return {rule.code for rule in all_rules()}


def is_known_prefix(code: str) -> bool:
    return code == ALL or any(known.startswith(code) for known in all_codes())


def _longest(code: str, prefixes: Iterable[str]) -> int:
    best = -1
    for prefix in prefixes:
        if prefix == ALL:
            best = max(best, 0)
        elif code.startswith(prefix):
            best = max(best, len(prefix))
    return best


def is_selected(settings: "Settings", code: str, *, preview: bool, opt_in: bool) -> bool:
    if preview and not settings.preview:
        return False
    positive = [*settings.select, *settings.extend_select]
    select_len = _longest(code, positive)
    ignore_len = _longest(code, [*settings.ignore, *settings.extend_ignore])
    if select_len < 0 or ignore_len >= select_len:
        return False
    if opt_in:
        # Opt-in rules are never switched on by a family prefix.
        return select_len == len(code) or ALL in positive
    return True
