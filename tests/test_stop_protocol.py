"""TL201 in test code, told apart by where it lives: a stopped thread is
handled there as anywhere (a stop method ends its loop even when nothing
here calls it), and a loop of one-shot threads is a finding nowhere."""
from __future__ import annotations

from pathlib import Path

import pytest

from threadlint.config import Settings
from threadlint.runner import run

STOPPED = """\
import threading


class Server:
    def __init__(self):
        self.serving = True

    def serve(self):
        while self.serving:
            pass

    def stop(self):
        self.serving = False


def start_and_stop():
    server = Server()
    threading.Thread(target=server.serve).start()
    server.stop()
"""

FAN_OUT = """\
import threading


def ping(host):
    return host


def ping_all(hosts):
    for host in hosts:
        threading.Thread(target=ping, args=(host,)).start()
"""


def _messages(root: Path, relative: str, source: str) -> list[str]:
    module = root / relative
    module.parent.mkdir(parents=True)
    module.write_text(source, encoding="utf-8")
    settings = Settings(root=str(root), select=("TL201",))
    result = run([str(module)], settings, jobs=1)
    assert not result.errors, result.errors
    return [d.message for d in result.diagnostics]


@pytest.mark.parametrize("relative", ["pkg/helpers.py", "tests/helpers.py"])
def test_a_stopped_thread_is_handled_in_library_and_test_code(tmp_path: Path, relative: str) -> None:
    assert _messages(tmp_path, relative, STOPPED) == []


def test_a_stop_method_nobody_here_calls_still_ends_the_loop(tmp_path: Path) -> None:
    # The caller of `stop()` may be in another module: the protocol is there.
    assert _messages(tmp_path, "tests/helpers.py", STOPPED.replace("    server.stop()\n", "")) == []


def test_without_the_stop_the_loop_holds_up_exit(tmp_path: Path) -> None:
    unstoppable = STOPPED.replace("    server.stop()\n", "").replace("self.serving = False", "print('stop')")
    [message] = _messages(tmp_path, "tests/helpers.py", unstoppable)
    assert "it runs a loop that nothing here ends (`while self.serving:`, line 9)" in message


@pytest.mark.parametrize("path", ["pkg/net.py", "tests/net.py"])
def test_a_loop_of_one_shot_threads_is_no_finding(tmp_path: Path, path: str) -> None:
    # Each thread runs its calls and ends: exit waits at most for the work
    # in flight, in library code and in tests alike.
    assert _messages(tmp_path, path, FAN_OUT) == []
