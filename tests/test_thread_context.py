"""TL501 and TL502: what the messages say, and that the facts they read
survive the results cache."""

from __future__ import annotations

from pathlib import Path

from cli_helpers import run_cli, write_tree

from threadlint.config import Settings
from threadlint.runner import run

BRIDGE = """\
import asyncio
import threading


class Bridge:
    def __init__(self):
        self._loop = asyncio.get_event_loop()

    def start(self):
        threading.Thread(target=self._work, daemon=True).start()

    def _work(self):
        self._notify()

    def _notify(self):
        self._loop.call_soon(print)
"""

TRANSPORT = """\
import signal


def request():
    signal.alarm(5)
"""

POLLER = """\
import threading

from app.transport import request

threading.Thread(target=request, daemon=True).start()
"""


def _messages(root: Path, select: str) -> list[str]:
    result = run([str(root)], Settings(root=str(root), select=(select,)), jobs=1)
    assert not result.errors
    return [f"{d.path}:{d.line}:{d.col}: {d.message}" for d in result.diagnostics]


def test_tl501_names_the_thread_the_object_and_the_remedy(tmp_path: Path) -> None:
    write_tree(tmp_path, {"bridge.py": BRIDGE})
    (message,) = _messages(tmp_path, "TL501")
    assert message.endswith(
        "bridge.py:16:9: `self._loop.call_soon(print)` is not thread-safe, and it runs on a "
        "thread other than its event loop's: `Bridge._notify` is called from `Bridge._work`, "
        "which is started on a thread at line 10; `self._loop` is made by "
        "`asyncio.get_event_loop()` (line 7), and that thread neither made it nor runs its "
        "loop; use `self._loop.call_soon_threadsafe(...)`"
    ), message


def test_tl502_names_the_thread_started_in_another_module(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {"app/__init__.py": "", "app/transport.py": TRANSPORT, "app/poller.py": POLLER},
    )
    (message,) = _messages(tmp_path, "TL502")
    assert "transport.py:5:5: `signal.alarm(5)` runs on a thread other than the main one" in message
    assert "`request` is started on a thread at " in message
    assert "poller.py:5" in message
    assert "only the main thread receives" in message


def test_the_facts_survive_the_cache(tmp_path: Path) -> None:
    write_tree(tmp_path, {"bridge.py": BRIDGE})
    cold = run_cli(["--select", "TL501", "-j1"], tmp_path)
    warm = run_cli(["--select", "TL501", "-j1"], tmp_path)
    assert cold.exit_code == warm.exit_code == 1
    assert list((tmp_path / ".threadlint_cache").rglob("*.json"))
    assert cold.stdout == warm.stdout and "TL501" in warm.stdout
