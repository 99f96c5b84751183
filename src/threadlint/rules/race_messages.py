"""The wording of race findings: how a location, a function and the evidence
that makes it concurrent are named in messages."""

from __future__ import annotations

from threadlint import facts as F
from threadlint.project_model import Model, Site


def evidence(model: Model, site: Site) -> str:
    """Why this code runs on another thread, for messages: a thread the code
    starts when there is one, else the concurrent API it belongs to."""
    indexes = [index for index, _ in site.roots]
    index = next((i for i in indexes if not model.roots[i].api), indexes[0])
    root = model.roots[index]
    name = model.display_name(site.function)
    if root.api:
        entry = "public method" if model.functions[root.function].cls else "public function"
        if root.function == site.function:
            return f"`{name}` is a {entry}, and {root.description}"
        caller = model.display_name(root.function)
        return f"`{name}` is called from `{caller}`, a {entry}, and {root.description}"
    path, line = root.at
    how = root.description.replace(
        "{at}", f"line {line}" if path == site.path else f"{path}:{line}"
    )
    if root.repeats and "per request" not in how and "entry point" not in how:
        how += " (several may run at once)"
    if root.function == site.function:
        return f"`{name}` {how}"
    caller = model.display_name(root.function)
    return f"`{name}` is called from `{caller}`, which {how}"


def describe(location: F.Location) -> str:
    scope, owner, name = location
    if scope == "self":
        return f"self.{name}"
    if scope == "class":
        return f"{owner.rpartition('.')[2]}.{name}"
    return name
