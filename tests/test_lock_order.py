"""TL304 beyond the fixtures: what the message names, lock identities, the cache."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from cli_helpers import run_cli, write_tree
from fixture_harness import FIXTURES

from threadlint.config import Settings
from threadlint.lock_graph import LockGraph
from threadlint.project_model import build_model
from threadlint.runner import run

BANK = FIXTURES / "TL304" / "bad_modules"


def _findings(project: Path, *extra: str) -> list[dict]:
    result = run_cli(
        ["--isolated", "--preview", "--select", "TL304", "--format", "json", *extra, "."], project
    )
    return sorted(json.loads(result.stdout), key=lambda d: (d["path"], d["line"]))


def test_message_names_both_orders_with_their_sites_across_modules(tmp_path: Path) -> None:
    shutil.copytree(BANK, tmp_path / "bank_project")
    found = {d["path"]: d["message"] for d in _findings(tmp_path / "bank_project", "--no-cache")}
    store = found["bank/store.py"]
    assert store.startswith(
        "`_store_lock` then `_index_lock` here (through `index.add()`, which takes it at "
        "bank/index.py:10), but `_index_lock` then `_store_lock` at bank/index.py:17 (through "
        "`_vacuum()` -> `store.compact()`, which takes it at line 16): "
    ), store
    # A lock written `self._lock` in another class is named by its class.
    audit = found["bank/audit.py"]
    assert audit.startswith(
        "`_log_lock` then `Account._lock` here (through `Account.settle()`, which takes it at "
        "bank/accounts.py:19), but `Account._lock` then `_log_lock` at bank/accounts.py:16"
    ), audit


def test_warm_cache_finds_the_same_inversions(tmp_path: Path) -> None:
    project = tmp_path / "bank_project"
    shutil.copytree(BANK, project)
    cache = ["--cache-dir", str(tmp_path / "cache")]
    cold = _findings(project, *cache)
    warm = _findings(project, *cache)
    assert len(cold) == 3
    assert warm == cold


def _graph(root: Path) -> LockGraph:
    settings = Settings(root=str(root), preview=True, select=("TL304",))
    return LockGraph(build_model(run([str(root)], settings, jobs=1).files, settings))


def test_self_locks_of_a_class_family_are_one_lock_and_globals_follow_imports(
    tmp_path: Path,
) -> None:
    write_tree(
        tmp_path,
        {
            "app/__init__.py": "from app.locks import big_lock as big_lock\n",
            "app/locks.py": "import threading\nbig_lock = threading.Lock()\n",
            "app/base.py": (
                "import threading\n\n"
                "class Base:\n"
                "    def __init__(self):\n"
                "        self._lock = threading.Lock()\n\n"
                "class Sub(Base):\n"
                "    def run(self):\n"
                "        with self._lock:\n"
                "            pass\n"
            ),
            "app/user.py": (
                "import app\nfrom app import locks\nfrom app.locks import big_lock\n\n"
                "def one():\n    with big_lock:\n        pass\n\n"
                "def two():\n    with locks.big_lock:\n        pass\n\n"
                "def three():\n    with app.big_lock:\n        pass\n"
            ),
        },
    )
    graph = _graph(tmp_path)
    functions = graph.model.functions
    (sub,) = functions["app.base.Sub.run"].acquires
    assert graph.identity(functions["app.base.Sub.run"], sub.key) == "app.base.Base._lock"
    names = {
        graph.identity(functions[f"app.user.{name}"], functions[f"app.user.{name}"].acquires[0].key)
        for name in ("one", "two", "three")
    }
    assert names == {"app.locks.big_lock"}


def test_an_inversion_is_reported_once_however_many_orders_make_it(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "m.py": (
                "import threading\n"
                "a = threading.Lock()\n"
                "b = threading.Lock()\n\n"
                "def one():\n    with a:\n        with b:\n            pass\n\n"
                "def two():\n    with a, b:\n        pass\n\n"
                "def three():\n    with b:\n        with a:\n            pass\n\n"
                "def four():\n    with b:\n        one()\n"
            ),
        },
    )
    (finding,) = _findings(tmp_path, "--no-cache")
    assert (finding["line"], finding["code"]) == (16, "TL304")
    assert "`b` then `a` here, but `a` then `b` at line 7:" in finding["message"]


def test_a_cycle_of_three_that_holds_a_cycle_of_two_is_reported_as_the_two(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "m.py": (
                "import threading\n"
                "a = threading.Lock()\n"
                "b = threading.Lock()\n"
                "c = threading.Lock()\n\n"
                "def one():\n    with a:\n        with b:\n            pass\n\n"
                "def two():\n    with b:\n        with a:\n            pass\n\n"
                "def three():\n    with b:\n        with c:\n            pass\n\n"
                "def four():\n    with c:\n        with a:\n            pass\n"
            ),
        },
    )
    (finding,) = _findings(tmp_path, "--no-cache")
    assert finding["line"] == 13
    assert finding["message"].startswith("`b` then `a` here, but `a` then `b` at line 8: two ")
