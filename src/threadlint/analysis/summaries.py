"""The per-module half of the concurrency model: one summary per module.

`collect_model` is the fact collector the per-file stage runs: it builds the
module's tables (`module_scope`), the facts of its classes (lock and
thread-safe attributes, `# guarded-by` comments, `# threadlint: thread-safe`)
and of its globals, and has every function summarised by
`function_walk.FunctionWalker`.  The result, `facts.ModuleFacts`, is plain
data: the project link joins the summaries of all modules
(`threadlint.project_model`) and never reads a file.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import libcst as cst

from threadlint import facts as F
from threadlint.analysis.context import ModuleContext, add_imports, import_bindings
from threadlint.analysis.function_walk import FunctionWalker
from threadlint.analysis.locks import lock_analysis
from threadlint.analysis.module_scope import (
    ClassScope,
    ModuleScope,
    absolute_name,
    annotated,
    container_kind,
    makes_safe,
)
from threadlint.analysis.per_file import register_collector
from threadlint.analysis.walk import children
from threadlint.config import Settings

# ---------------------------------------------------------------------------
# The collector


@register_collector("model")
def collect_model(ctx: ModuleContext, settings: Settings) -> F.ModuleFacts:
    module = ctx.module_name
    is_package = ctx.path.replace("\\", "/").endswith("/__init__.py") or ctx.path == "__init__.py"
    function_nodes: list[cst.FunctionDef] = []
    import_nodes: list[cst.Import | cst.ImportFrom] = []
    for node in ctx.parents:
        if isinstance(node, cst.FunctionDef):
            function_nodes.append(node)
        elif isinstance(node, (cst.Import, cst.ImportFrom)):
            import_nodes.append(node)
    imports, module_imports = _import_table(import_nodes, ctx, module, is_package)
    class_ids = {node: qualified_id(ctx, node, module) for node in ctx.classes}
    function_ids = {node: qualified_id(ctx, node, module) for node in function_nodes}
    nested: dict[cst.CSTNode, dict[str, cst.FunctionDef]] = {}
    for node in function_nodes:
        scope = ctx.enclosing_scope(node)
        nested.setdefault(scope, {})[node.name.value] = node
    module_defs = {name: f"{module}.{name}" for name in nested.get(ctx.module, {})}
    for node in ctx.classes:
        if ctx.enclosing_scope(node) is ctx.module:
            module_defs[node.name.value] = f"{module}.{node.name.value}"

    model = ModuleScope(
        ctx=ctx,
        settings=settings,
        locks=lock_analysis(ctx, settings),
        imports=imports,
        class_ids=class_ids,
        class_facts={},
        module_defs=module_defs,
        nested_defs=nested,
        tracked_globals=set(),
        safe_globals=set(),
        function_ids=function_ids,
    )
    model.pos = ctx.fast_positions()
    module_bindings = ctx.bindings.get(ctx.module, {})
    declared_global: set[str] = set()
    for names in ctx.globals_declared.values():
        declared_global |= names
    list_globals: set[str] = set()
    resize_checked: set[str] = set()
    for name, bindings in module_bindings.items():
        if makes_safe(model, bindings):
            model.safe_globals.add(name)
            continue
        container = container_kind(model, bindings)
        if container == "list":
            list_globals.add(name)
        elif container == "container":
            resize_checked.add(name)
        if container is not None or name in declared_global:
            model.tracked_globals.add(name)

    classes = [_class_facts(model, node) for node in ctx.classes]
    for node in function_nodes:
        FunctionWalker(model, node).run()
    FunctionWalker(model, ctx.module).run()
    return F.ModuleFacts(
        module=module,
        functions=tuple(model.functions),
        classes=tuple(classes),
        imports=tuple(sorted(module_imports.items())),
        safe_globals=frozenset(model.safe_globals),
        list_globals=frozenset(list_globals),
        resize_checked_globals=frozenset(resize_checked),
        guarded_globals=tuple(_guarded_globals(model)),
        servers=tuple(model.servers),
    )


def qualified_id(ctx: ModuleContext, node: cst.FunctionDef | cst.ClassDef, module: str) -> str:
    parts = [node.name.value]
    parts.extend(
        ancestor.name.value
        for ancestor in ctx.ancestors(node)
        if isinstance(ancestor, (cst.FunctionDef, cst.ClassDef))
    )
    return ".".join([module, *reversed(parts)])


def _import_table(
    nodes: Sequence[cst.Import | cst.ImportFrom],
    ctx: ModuleContext,
    module: str,
    is_package: bool,
) -> tuple[dict[str, str], dict[str, str]]:
    """Local name -> absolute dotted name, for all imports and for module-level ones."""
    package = module if is_package else module.rpartition(".")[0]
    everywhere: dict[str, str] = {}
    module_level: dict[str, str] = {}
    for node in nodes:
        table = import_bindings(node, package)
        fallback = any(isinstance(a, cst.ExceptHandler) for a in ctx.ancestors(node))
        add_imports(everywhere, table, fallback)
        if ctx.is_module_level(node):
            add_imports(module_level, table, fallback)
    return everywhere, module_level


def _guard_comment(statement: cst.SimpleStatementLine) -> str | None:
    if statement.trailing_whitespace.comment:
        text = statement.trailing_whitespace.comment.value.lstrip("#").strip()
        if text.startswith("guarded-by:"):
            return (
                text[len("guarded-by:") :].strip().split()[0]
                if text[len("guarded-by:") :].strip()
                else None
            )
    return None


def _lock_key_text(model: ModuleScope, text: str, class_id: str | None) -> str:
    """The lock key for the text of a `# guarded-by:` comment."""
    head, _, rest = text.partition(".")
    if head in ("self",) and rest:
        return text
    if head == "cls" and rest and class_id:
        return f"{class_id}.{rest}"
    expr = cst.parse_expression(text) if text.replace(".", "").replace("_", "").isalnum() else None
    absolute = absolute_name(model, expr) if expr is not None else None
    return absolute or text


def _class_facts(model: ModuleScope, node: cst.ClassDef) -> F.ClassFacts:
    ctx = model.ctx
    info = ctx.classes[node]
    class_id = model.class_ids[node]
    bases = []
    for arg in node.bases:
        if arg.keyword is None:
            absolute = absolute_name(model, arg.value)
            if absolute is not None:
                bases.append(absolute)
    lock_attrs, safe_attrs, lists, resize_checked = set(), set(), set(), set()
    for attr, bindings in info.attrs.items():
        values = [b.value for b in bindings if b.value is not None]
        if any(model.locks.is_thread_lock(v) for v in values if isinstance(v, cst.Call)):
            lock_attrs.add(attr)
        if makes_safe(model, bindings):
            safe_attrs.add(attr)
        else:
            container = container_kind(model, bindings)
            if container == "list":
                lists.add(attr)
            elif container == "container":
                resize_checked.add(attr)
    model.class_facts[node] = ClassScope(methods=set(info.methods), safe_attrs=safe_attrs)
    guarded = []
    for method in info.methods.values():
        for statement in _statements(method):
            lock = _guard_comment(statement)
            if lock is None:
                continue
            for small in statement.body:
                for target in _assigned_targets(small):
                    if (
                        isinstance(target, cst.Attribute)
                        and isinstance(target.value, cst.Name)
                        and target.value.value == "self"
                    ):
                        line = model.pos.of(target)[0]
                        guarded.append(
                            (target.attr.value, _lock_key_text(model, lock, class_id), line)
                        )
    # A class with coroutine methods lives on its event loop's thread: a
    # "thread-safe" in its docstring is about tasks, or copied from a
    # threaded ancestor, and says nothing of threads.
    claim = (
        None
        if _has_coroutines(node)
        else thread_safe_claim(node.get_docstring() or "", frozenset(info.methods))
    )
    return F.ClassFacts(
        id=class_id,
        name=info.name,
        line=model.pos.of(node)[0] if annotated(node, "thread-safe") or guarded else 0,
        bases=tuple(bases),
        methods=frozenset(info.methods),
        thread_safe=annotated(node, "thread-safe"),
        lock_attrs=frozenset(lock_attrs),
        safe_attrs=frozenset(safe_attrs),
        assigned=frozenset(info.attrs),
        lists=frozenset(lists),
        resize_checked=frozenset(resize_checked),
        guarded=tuple(guarded),
        documented_safe=claim is not None,
        documented_methods=claim or frozenset(),
    )


def _has_coroutines(node: cst.ClassDef) -> bool:
    return any(
        isinstance(statement, cst.FunctionDef) and statement.asynchronous is not None
        for statement in node.body.body
    )


# "X is thread-safe", "instances are thread safe", or a sentence that opens
# with the adjective ("A thread-safe pool.", "Thread safe counter."); not a
# requirement on something else ("the callback must be thread-safe").
_SAFE_CLAIM = re.compile(
    r"\b(?:is|are)\s+(?:(?:fully|completely|entirely|always|also|now)\s+)?thread[- ]?safe\b"
    r"|^\W*(?:(?:a|an|the)\s+)?thread[- ]?safe\b",
    re.IGNORECASE,
)
_MENTION = re.compile(r"thread[- ]?safe", re.IGNORECASE)
# Words that turn the claim around ("not thread-safe", "no thread-safety
# guarantee"): one such sentence withdraws the docstring's claims, which are
# then partial ("**Not** thread-safe when mutated ... It is thread-safe when
# only `notify` runs").
_NEGATION = re.compile(r"\b(?:not|no|never|nor|non|un|neither|n't)\b|n't\b", re.IGNORECASE)
# Words that make the sentence a demand on someone else's code ("callers
# should ensure that their callbacks are thread-safe") or a condition ("is
# thread-safe if each thread has its own cursor"), not a promise.
_HEDGE = re.compile(
    r"\b(?:should|must|ensure|needs?|required|make\s+sure|ha(?:ve|s)\s+to"
    r"|if|when|unless|only|provided|as\s+long\s+as|except)\b",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"(?<=[.!?;:])\s+|\n\s*\n")


# A name marked as code: `add`, ``add``, :meth:`add`, :meth:`~Pool.add`, `add()`.
_CODE_NAME = re.compile(r"`+~?(?:[\w.]*\.)?(\w+)(?:\(\))?`+|\b(\w+)\(\)")


def thread_safe_claim(docstring: str, methods: frozenset[str]) -> frozenset[str] | None:
    """What a class docstring promises is thread-safe: None for nothing; the
    whole class (an empty set) for a sentence that calls it thread-safe,
    plainly ("This pool is thread-safe"), in a docstring that nowhere says
    it is not ("This class is not thread-safe", "thread-safety: none") and
    not as a demand or a condition ("callers should ensure that they are
    thread-safe", "thread-safe if ..."); only the methods such a sentence
    names as code ("The methods :meth:`add` and `merge()` are thread-safe.
    Other methods may not be.")."""
    sentences = [s for s in _SENTENCE_END.split(docstring.strip()) if _MENTION.search(s)]
    if any(_NEGATION.search(sentence) for sentence in sentences):
        return None
    named: set[str] = set()
    for sentence in sentences:
        match = _SAFE_CLAIM.search(sentence)
        if match is None or sentence[match.end() : match.end() + 2].lower().startswith("ty"):
            continue
        if _HEDGE.search(sentence):
            continue
        names = {a or b for a, b in _CODE_NAME.findall(sentence)} & methods
        if not names:
            return frozenset()
        named |= names
    return frozenset(named) if named else None


def _guarded_globals(model: ModuleScope) -> Iterable[tuple[str, str, int]]:
    for statement in model.ctx.module.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        lock = _guard_comment(statement)
        if lock is None:
            continue
        for small in statement.body:
            for target in _assigned_targets(small):
                if isinstance(target, cst.Name):
                    line = model.pos.of(target)[0]
                    yield target.value, _lock_key_text(model, lock, None), line


def _statements(function: cst.FunctionDef) -> Iterable[cst.SimpleStatementLine]:
    pending: list[cst.CSTNode] = [function.body]
    while pending:
        node = pending.pop()
        if isinstance(node, cst.SimpleStatementLine):
            yield node
        elif isinstance(node, (cst.FunctionDef, cst.ClassDef)) and node is not function:
            continue
        elif isinstance(
            node,
            (cst.BaseSuite, cst.BaseCompoundStatement, cst.Else, cst.ExceptHandler, cst.Finally),
        ):
            pending.extend(children(node))


def _assigned_targets(small: cst.CSTNode) -> list[cst.BaseExpression]:
    if isinstance(small, cst.Assign):
        return [t.target for t in small.targets]
    if isinstance(small, cst.AnnAssign):
        return [small.target]
    return []
