"""TL201 and stop protocols: test code is told apart by where it lives."""
from __future__ import annotations

from pathlib import Path

from threadlint.config import Settings
from threadlint.runner import run

HELPER = """\
import threading


class Server:
    def serve(self):
        pass

    def stop(self):
        pass


def start_server():
    server = Server()
    threading.Thread(target=server.serve).start()
    return server


def stop_server(server):
    server.stop()
"""


def _messages(root: Path, path: Path) -> list[str]:
    settings = Settings(root=str(root), select=("TL201",))
    result = run([str(path)], settings, jobs=1)
    assert not result.errors, result.errors
    return [d.message for d in result.diagnostics]


def test_a_stopped_thread_is_handled_in_library_code(tmp_path: Path) -> None:
    module = tmp_path / "pkg" / "helpers.py"
    module.parent.mkdir()
    module.write_text(HELPER, encoding="utf-8")
    assert _messages(tmp_path, module) == []


def test_a_stopped_thread_in_a_tests_folder_can_outlive_its_test(tmp_path: Path) -> None:
    module = tmp_path / "tests" / "helpers.py"
    module.parent.mkdir()
    module.write_text(HELPER, encoding="utf-8")
    [message] = _messages(tmp_path, module)
    assert "is stopped by `server.stop()` (line 19) but never joined" in message
    assert "outlive the test" in message
    assert "interpreter exit waits" not in message
