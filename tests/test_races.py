"""The concurrency model behind TL1xx: configuration and facts."""

from __future__ import annotations

import pickle
import sys
from dataclasses import replace
from pathlib import Path

from threadlint.config import Settings
from threadlint.runner import run

ENTRY_BY_DECORATOR = """
from flask import Flask

app = Flask(__name__)
hits = 0


@app.route("/")
def index():
    global hits
    hits += 1
    return str(hits)
"""

ENTRY_BY_NAME = """
hits = 0


def on_event(event):
    global hits
    hits += 1
"""


def _lint(tmp_path: Path, source: str, **settings: object) -> list:
    path = tmp_path / "app.py"
    path.write_text(source, encoding="utf-8")
    base = replace(Settings(root=str(tmp_path), select=("TL1",), preview=True), **settings)
    result = run([str(path)], base, jobs=1)
    assert not result.errors
    return [(d.line, d.code) for d in result.diagnostics]


def test_no_root_no_finding(tmp_path: Path) -> None:
    assert _lint(tmp_path, ENTRY_BY_DECORATOR) == []


def test_configured_entry_decorator(tmp_path: Path) -> None:
    found = _lint(tmp_path, ENTRY_BY_DECORATOR, thread_entry_points=("flask.Flask.route",))
    assert found == [(11, "TL102")]


def test_configured_entry_function(tmp_path: Path) -> None:
    assert _lint(tmp_path, ENTRY_BY_NAME) == []
    found = _lint(tmp_path, ENTRY_BY_NAME, thread_entry_points=("app.on_event",))
    assert found == [(7, "TL102")]


def test_configured_thread_safe_type(tmp_path: Path) -> None:
    source = """
import threading
from concurrent.futures import ThreadPoolExecutor
from mylib import AtomicDict


class Table:
    def __init__(self):
        self._lock = threading.Lock()
        self.rows = AtomicDict()

    def read(self):
        with self._lock:
            return self.rows.get("a"), len(self.rows)

    def write(self, n):
        with self._lock:
            self.rows.update({"a": n})
        self.rows.clear()


def main():
    table = Table()
    with ThreadPoolExecutor() as pool:
        for n in range(3):
            pool.submit(table.write, n)
            pool.submit(table.read)
"""
    assert _lint(tmp_path, source) == [(19, "TL101")]
    assert _lint(tmp_path, source, thread_safe_types=("mylib.AtomicDict",)) == []


def test_facts_are_picklable_and_plain(tmp_path: Path) -> None:
    path = tmp_path / "m.py"
    path.write_text(
        ENTRY_BY_NAME + "\nimport threading\nthreading.Thread(target=on_event).start()\n"
    )
    result = run([str(path)], Settings(root=str(tmp_path), select=("TL1",)), jobs=1)
    facts = result.files[0].facts["model"]
    assert pickle.loads(pickle.dumps(facts)) == facts
    assert "libcst" not in repr(facts)


def test_positions_agree_with_libcst() -> None:
    import libcst as cst

    from threadlint.analysis.context import ModuleContext
    from threadlint.analysis.positions import Positions, _cst_key

    source = b'''import os.path as osp
from .pkg.mod import name as alias
import a.b.c


@decorate(flag=True)
def f(x, *, y=None):
    """Doc."""
    global counter
    s = f"{x.attr!r} {osp.join(x, y)}"
    \xc3\xa9 = lambda q: q.attr
    match x:
        case Point(x=0, y=py) as point:
            return point.attr, py
        case {"k": v, **rest}:
            return v, rest
    try:
        pass
    except (KeyError, OSError) as exc:
        print(exc)
    with open(x) as handle:
        if handle.closed:
            pass
        elif (handle.attr.attr):
            pass
    return [n.attr for n in x if n], s, \xc3\xa9
'''
    module = cst.parse_module(source)
    ctx = ModuleContext("t.py", module, "t", source)
    positions = Positions(ctx)
    checked = 0
    for node, parent in ctx.parents.items():
        if _cst_key(node, parent, ctx) is None or isinstance(node, cst.FunctionDef):
            continue
        start = ctx.position(node).start
        assert positions.of(node) == (start.line, start.column + 1), ctx.code_for(node)
        checked += 1
    assert checked > 30
    if sys.version_info < (3, 10):
        # 3.9's own parser cannot read `match`: every position came from libcst.
        assert positions._ast is None
        return
    assert positions._ast is not None
    assert all(len(positions._ast.get(k, [])) == n for k, n in positions._counts.items())


CLOSURES = """
import threading


def run_all(tasks):
    lock = threading.Lock()

    def record(result):
        with lock:
            pass

    def work(task):
        lock.acquire()
        try:
            record(task())
        finally:
            lock.release()

    for task in tasks:
        threading.Thread(target=work, args=(task,)).start()
"""


def test_a_lock_captured_by_closures_is_one_lock(tmp_path: Path) -> None:
    path = tmp_path / "m.py"
    path.write_text(CLOSURES)
    result = run([str(path)], Settings(root=str(tmp_path), select=("TL1",)), jobs=1)
    functions = {f.name: f for f in result.files[0].facts["model"].functions}
    (record,) = functions["record"].acquires
    (work,) = functions["work"].acquires
    assert record.key == work.key == "~m.run_all:lock"


def test_race_findings_have_end_positions(tmp_path: Path) -> None:
    source = """
import threading

class Pool:
    def __init__(self):
        self._lock = threading.Lock()
        self._idle = {}

    def put(self, key, conn):
        with self._lock:
            self._idle[key] = conn

    def get(self, key):
        with self._lock:
            return self._idle.get(key)

    def drop(self, key):
        self._idle.pop(key)
"""
    path = tmp_path / "app.py"
    path.write_text(source, encoding="utf-8")
    base = Settings(root=str(tmp_path), select=("TL1",), preview=True)
    (finding,) = run([str(path)], base, jobs=1).diagnostics
    assert (finding.line, finding.col, finding.end_line, finding.end_col) == (18, 9, 18, 19)
    assert "`Pool` takes `self._lock` in 2 of its methods" in finding.message


def test_concurrent_api_declares_a_package(tmp_path: Path) -> None:
    source = """
hits = 0


def observe():
    global hits
    hits += 1
"""
    assert _lint(tmp_path, source) == []
    assert _lint(tmp_path, source, concurrent_api=("app",)) == [(7, "TL102")]
    assert _lint(tmp_path, source, concurrent_api=("other",)) == []
    assert _lint(tmp_path, source, concurrent_api=("*",)) == [(7, "TL102")]


def test_docstrings_that_declare_thread_safety() -> None:
    from threadlint.analysis.summaries import thread_safe_claim

    def says_thread_safe(docstring: str) -> bool:
        return thread_safe_claim(docstring, frozenset({"add", "get"})) == frozenset()

    for claim in (
        "A thread-safe pool of connections.",
        "Thread safe counter.",
        "Counts events.\n\nInstances are thread-safe and may be shared.",
        "The producer is thread safe and sharing one is faster.",
        "This cache is fully threadsafe.",
    ):
        assert says_thread_safe(claim), claim
    for other in (
        "This class is not thread-safe.",
        "Note: it isn't thread safe; use one per thread.",
        "The callback must be thread-safe if used from several threads.",
        "Thread-safety is left to the caller.",
        "This callback may run on another thread. Callers should ensure that they are thread-safe.",
        "Handlers you register need to be thread safe.",
        "Make sure the factory is thread-safe.",
        "**Not** thread-safe when mutated by several threads. It is thread-safe when"
        " only `notify` calls are occurring at the same time.",
        "The cursor is thread-safe if each thread opens its own.",
        "A pool of connections.",
    ):
        assert not says_thread_safe(other), other


def test_docstring_claims_scoped_to_named_methods() -> None:
    from threadlint.analysis.summaries import thread_safe_claim

    methods = frozenset({"add_lines", "add_arcs", "erase", "merge", "get"})
    scoped = {
        "The methods used while collecting (:meth:`add_lines`, :meth:`~Data.add_arcs`)"
        " are thread-safe.  Other methods may not be.": {"add_lines", "add_arcs"},
        "Only reads race here. ``merge`` and `erase()` are thread safe.": {"merge", "erase"},
        "merge() is thread-safe, and so is add_lines().": {"merge", "add_lines"},
        # Names that are not methods of the class leave the claim whole.
        "The `Data` object is thread-safe.": set(),
        # An English word that is a method name is not a name marked as code.
        "You can get and merge data: the class is thread-safe.": set(),
    }
    for docstring, names in scoped.items():
        assert thread_safe_claim(docstring, methods) == frozenset(names), docstring
    assert thread_safe_claim("Collects data.", methods) is None


ITERATED_WHILE_RESIZED = """
import threading

clients = []
sessions = {}


def accept(conn):
    clients.append(conn)
    sessions[conn] = 1


def broadcast(message):
    for client in clients:
        client.send(message)
    for conn in sessions:
        conn.send(message)


def main(conn):
    threading.Thread(target=accept, args=(conn,)).start()
    threading.Thread(target=broadcast, args=("hi",)).start()
"""


def test_tl104_says_what_a_resize_does_to_each_container(tmp_path: Path) -> None:
    # A list iterator never raises on a resize (it skips or repeats items);
    # only dict and set iterators raise RuntimeError.
    path = tmp_path / "app.py"
    path.write_text(ITERATED_WHILE_RESIZED, encoding="utf-8")
    settings = Settings(root=str(tmp_path), select=("TL104",), preview=True)
    messages = {d.line: d.message for d in run([str(path)], settings, jobs=1).diagnostics}
    assert sorted(messages) == [14, 16]
    assert "skipped or seen twice" in messages[14]
    assert "RuntimeError" not in messages[14]
    assert "RuntimeError: changed size during iteration" in messages[16]
    assert "skipped" not in messages[16]
    # By default only the dict, whose iteration fails visibly.
    default = run([str(path)], Settings(root=str(tmp_path), select=("TL104",)), jobs=1)
    assert [d.line for d in default.diagnostics] == [16]
