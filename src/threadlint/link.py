"""The project link: joins every file's summaries and runs the project rules.

The per-file stage (`analysis/per_file.py`) never reads another file; this
stage never reads or parses one: it works on the facts the files produced.
The concurrency model (`threadlint.project_model`) is built once per run
from those facts and shared by every rule that reads it.
"""

from __future__ import annotations

from collections.abc import Sequence

from threadlint.analysis.per_file import FileResult
from threadlint.config import Settings
from threadlint.diagnostics import Diagnostic
from threadlint.project_model import project_model
from threadlint.raising import callee_names, deferred_findings
from threadlint.rules.base import ProjectRule, all_rules


def link_project(results: Sequence[FileResult], settings: Settings) -> list[Diagnostic]:
    rules = [
        rule()
        for rule in all_rules()
        if issubclass(rule, ProjectRule)
        and settings.is_selected(rule.code, preview=rule.preview, opt_in=rule.opt_in)
    ]
    diagnostics = deferred_findings(results, settings)
    for rule in rules:
        diagnostics.extend(rule.check(results, settings))
    return diagnostics


def modules_to_analyse(results: Sequence[FileResult], settings: Settings) -> set[str]:
    """Modules skipped for lack of a concurrency signal that thread code calls into."""
    skipped = {
        r.module_name
        for r in results
        if not r.analysed and r.error is None and not r.skipped and r.module_name
    }
    if not skipped:
        return set()
    # A module declared in `concurrent-api` is concurrent whatever it imports.
    declared = {module for module in skipped if _declares_module(module, settings.concurrent_api)}
    if not any(r.facts.get("model") for r in results if r.facts):
        return declared
    model = project_model(results, settings)
    names: set[str] = set()
    wanted: set[str] = set()
    for fid, function in model.functions.items():
        for spawn in function.spawns:
            names.add(spawn.target[1])
        # A lock named through a package that re-exports it (`pkg.lock`).
        names.update(a.key for a in function.acquires if not a.key.startswith(("~", "?", "self.")))
        if model.is_concurrent(fid):
            names.update(
                call.callee[1] for call in function.calls if call.callee[0] in ("name", "inst")
            )
    for cls in model.classes.values():
        if any(model.is_concurrent(f"{cls.id}.{method}") for method in cls.methods):
            names.update(cls.bases)
    # What a deferred finding's calls run decides it (TL301: can it raise?).
    names.update(callee_names(model, results))
    # A function that starts a thread on a callable it receives is called
    # from modules that need not import threading: analyse the other
    # modules of its own package, where its callers are most likely to be
    # (not the whole top-level package: a test suite's helpers would pull
    # in the whole suite).
    packages = {
        module
        for fid in model.spawners
        for module in [model.module_of(fid)]
        if module is not None and "." in module
    }
    for package in {module.rpartition(".")[0] for module in packages}:
        wanted.update(m for m in skipped if m.rpartition(".")[0] == package)
    for name in names:
        parts = name.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            module = ".".join(parts[:cut])
            if module in skipped:
                wanted.add(module)
                break
    return wanted | declared


def _declares_module(module: str, prefixes: Sequence[str]) -> bool:
    """Does a `concurrent-api` entry cover the module or something in it?"""
    return any(
        prefix == "*"
        or module == prefix
        or module.startswith(prefix + ".")
        or prefix.startswith(module + ".")
        for prefix in (p.rstrip(".") if p != "*" else p for p in prefixes)
    )


