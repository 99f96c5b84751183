"""The shared lock helpers (analysis/locks.py) and the TL303 fix."""

from __future__ import annotations

import textwrap
from dataclasses import replace
from pathlib import Path

import libcst as cst

from threadlint.analysis.context import ModuleContext
from threadlint.analysis.locks import LockAnalysis, method_call_on, named_like_lock
from threadlint.config import Settings
from threadlint.runner import run

SOURCE = textwrap.dedent(
    """\
    import asyncio
    import threading

    class Queue:
        def __init__(self, client):
            self.mutex = threading.Lock()
            self.not_empty = threading.Condition(self.mutex)
            self.not_full = threading.Condition(self.mutex)
            self.remote = client.lock("x")
            self.alock = asyncio.Lock()

        def put(self):
            with self.not_full:
                self._wake()

        def _wake(self):
            self.not_empty.notify()

        def manual(self, lock):
            lock.acquire()
            self.not_empty.notify()
            lock.release()
            self.not_full.notify()
    """
)


def _analysis() -> LockAnalysis:
    return LockAnalysis(ModuleContext("m.py", cst.parse_module(SOURCE)))


def _calls(analysis: LockAnalysis, method: str) -> list[cst.Call]:
    return [n for n in analysis.ctx.parents if method_call_on(n, (method,)) is not None]


def test_only_thread_locks_are_locks() -> None:
    analysis = _analysis()
    (acquire,) = _calls(analysis, "acquire")
    assert analysis.is_thread_lock(acquire.func.value)  # type: ignore[attr-defined]  # by its name
    attrs = {
        node.attr.value: node
        for node in analysis.ctx.parents
        if isinstance(node, cst.Attribute) and analysis.key(node).startswith("self.")
    }
    assert analysis.is_thread_lock(attrs["mutex"])
    assert analysis.known_condition(attrs["not_empty"])
    assert not analysis.is_thread_lock(attrs["remote"])  # a distributed lock
    assert not analysis.is_thread_lock(attrs["alock"])  # asyncio


def test_conditions_sharing_a_lock_and_helpers_called_under_it() -> None:
    analysis = _analysis()
    notify_in_helper, notify_manual, notify_after = _calls(analysis, "notify")
    keys = analysis.same_lock_keys(notify_in_helper.func.value)  # type: ignore[attr-defined]
    assert keys == {"self.not_empty", "self.mutex"}
    assert analysis.held_here(notify_in_helper) == []
    assert analysis.held_at(notify_in_helper, keys)  # every caller holds self.not_full
    assert [h.key for h in analysis.held_locks(notify_manual)] == ["lock"]
    assert analysis.held_locks(notify_after) == []


def test_named_like_lock_skips_false_friends() -> None:
    assert named_like_lock("_state_lock") and named_like_lock("notEmptyCond")
    assert named_like_lock("mutex") and named_like_lock("_rlock")
    assert not named_like_lock("block") and not named_like_lock("clock")
    assert not named_like_lock("seconds") and not named_like_lock("lockfile")


def test_wait_fix_turns_if_into_while(tmp_path: Path) -> None:
    path = tmp_path / "m.py"
    path.write_text(
        "import threading\n"
        "cond = threading.Condition()\n"
        "def get(items):\n"
        "    with cond:\n"
        "        if not items:\n"
        "            cond.wait()\n"
        "        return items.pop()\n",
        encoding="utf-8",
    )
    settings = replace(Settings(root=str(tmp_path), preview=True), select=("TL303",))
    (diagnostic,) = run([str(path)], settings, jobs=1).diagnostics
    assert diagnostic.fix is not None and not diagnostic.fix.safe
    (edit,) = diagnostic.fix.edits
    lines = path.read_text(encoding="utf-8").splitlines()
    line = lines[edit.line - 1]
    lines[edit.line - 1] = line[: edit.col - 1] + edit.text + line[edit.end_col - 1 :]
    assert lines[4] == "        while not items:"


def test_acquire_without_release_names_what_can_raise(tmp_path: Path) -> None:
    path = tmp_path / "m.py"
    path.write_text(
        "import threading\n"
        "lock = threading.Lock()\n"
        "def bump(state, notify):\n"
        "    lock.acquire()\n"
        "    state.count += 1\n"
        "    notify(state)\n"
        "    lock.release()\n",
        encoding="utf-8",
    )
    settings = replace(Settings(root=str(tmp_path)), select=("TL301",))
    (diagnostic,) = run([str(path)], settings, jobs=1).diagnostics
    assert (
        "(`notify(state)`, line 6, calls `notify`, a callable the function receives)"
        in diagnostic.message
    )


def test_window_failing_only_through_item_shape_is_preview(tmp_path: Path) -> None:
    path = tmp_path / "m.py"
    path.write_text(
        "import threading\n"
        "class Table:\n"
        "    def __init__(self):\n"
        "        self.rows = []\n"
        "        self.lock = threading.Lock()\n"
        "    def mark(self):\n"
        "        self.lock.acquire()\n"
        "        for i in range(len(self.rows)):\n"
        "            self.rows[i].seen = True\n"
        "        self.lock.release()\n",
        encoding="utf-8",
    )
    settings = replace(Settings(root=str(tmp_path)), select=("TL301",))
    assert run([str(path)], settings, jobs=1).diagnostics == []
    (diagnostic,) = run([str(path)], replace(settings, preview=True), jobs=1).diagnostics
    assert "line 9, fails only if an item is not what the code put there" in diagnostic.message
