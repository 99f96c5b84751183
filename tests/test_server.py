"""`threadlint server`, driven over stdio by a real LSP client (pygls's own).

Each test starts `python -m threadlint server` as a subprocess and talks to
it as an editor would.  The project is the two-module race of
tests/test_partial_runs.py: the thread root in app/main.py, the racy update
in app/workers.py.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Awaitable
from pathlib import Path
from typing import Any, Callable

from cli_helpers import write_tree
from lsprotocol import types
from pygls.lsp.client import LanguageClient
from test_partial_runs import MAIN, RACE_LINE, SAFE_WORKERS, WORKERS

TIMEOUT = 60.0
ARGS_NOT_TUPLE = "import threading\n\nt = threading.Thread(target=print, args=(1))\n"


class Editor:
    """A client session: open documents, and the diagnostics last published."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.client = LanguageClient("threadlint-tests", "1")
        self.published: dict[str, list[types.Diagnostic]] = {}
        self.logs: list[types.LogMessageParams] = []
        self.versions: dict[str, int] = {}
        self._changed = asyncio.Event()

        @self.client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def on_diagnostics(params: types.PublishDiagnosticsParams) -> None:
            self.published[params.uri] = list(params.diagnostics)
            self._changed.set()

        self.registrations: list[types.Registration] = []

        @self.client.feature(types.CLIENT_REGISTER_CAPABILITY)
        def on_register(params: types.RegistrationParams) -> None:
            self.registrations.extend(params.registrations)
            self._changed.set()

        @self.client.feature(types.WINDOW_LOG_MESSAGE)
        def on_log(params: types.LogMessageParams) -> None:
            self.logs.append(params)
            self._changed.set()

    def uri(self, name: str) -> str:
        return (self.root / name).as_uri()

    async def start(
        self,
        options: Any = None,
        command: list[str] | None = None,
        capabilities: types.ClientCapabilities | None = None,
    ) -> None:
        await self.client.start_io(*(command or [sys.executable, "-m", "threadlint", "server"]))
        await asyncio.wait_for(self.client.initialize_async(types.InitializeParams(
            capabilities=capabilities or types.ClientCapabilities(),
            root_uri=self.root.as_uri(),
            initialization_options=options,
        )), TIMEOUT)
        self.client.initialized(types.InitializedParams())

    async def stop(self) -> None:
        await asyncio.wait_for(self.client.shutdown_async(None), TIMEOUT)
        self.client.exit(None)
        await self.client.stop()

    def open(self, name: str, text: str | None = None) -> None:
        if text is None:
            text = (self.root / name).read_text(encoding="utf-8")
        self.versions[name] = 1
        self.published.pop(self.uri(name), None)
        self.client.text_document_did_open(types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=self.uri(name), language_id="python", version=1, text=text
            )
        ))

    def change(self, name: str, text: str) -> None:
        self.versions[name] += 1
        self.client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(
                uri=self.uri(name), version=self.versions[name]
            ),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
        ))

    def save(self, name: str) -> None:
        self.client.text_document_did_save(types.DidSaveTextDocumentParams(
            text_document=types.TextDocumentIdentifier(uri=self.uri(name))
        ))

    def close(self, name: str) -> None:
        self.client.text_document_did_close(types.DidCloseTextDocumentParams(
            text_document=types.TextDocumentIdentifier(uri=self.uri(name))
        ))

    def codes(self, name: str) -> list[tuple[str, int]] | None:
        """(code, 1-based line) of the diagnostics last published for the document."""
        found = self.published.get(self.uri(name))
        if found is None:
            return None
        return sorted((str(d.code), d.range.start.line + 1) for d in found)

    async def until(self, check: Callable[[], bool], what: str) -> None:
        async def wait() -> None:
            while not check():
                self._changed.clear()
                await self._changed.wait()

        try:
            await asyncio.wait_for(wait(), TIMEOUT)
        except asyncio.TimeoutError:
            raise AssertionError(
                f"timed out waiting for {what}; published: {self.published}; logs: {self.logs}"
            ) from None

    async def until_codes(self, name: str, expected: list[tuple[str, int]]) -> None:
        await self.until(lambda: self.codes(name) == expected, f"{name}: {expected}")


def talk(root: Path, scenario: Callable[[Editor], Awaitable[None]], **start: Any) -> Editor:
    """Run one editor session against a fresh server."""

    async def main() -> Editor:
        editor = Editor(root)
        await editor.start(**start)
        try:
            await scenario(editor)
        finally:
            await editor.stop()
        return editor

    return asyncio.run(main())


def project(tmp_path: Path) -> Path:
    return write_tree(tmp_path / "proj", {
        "pyproject.toml": "[project]\nname = 'app'\n",
        "app/__init__.py": "",
        "app/main.py": MAIN,
        "app/workers.py": WORKERS,
        "app/args.py": ARGS_NOT_TUPLE,
    })


def test_diagnostics_need_the_other_module_and_follow_changes_in_it(tmp_path: Path) -> None:
    root = project(tmp_path)

    async def scenario(editor: Editor) -> None:
        # Only workers.py is open: the thread root is read from disk.
        editor.open("app/workers.py")
        await editor.until_codes("app/workers.py", [("TL102", RACE_LINE)])
        message = editor.published[editor.uri("app/workers.py")][0].message
        assert "app/main.py:7" in message
        # Editing the other module (unsaved) decides what is racy here.
        editor.open("app/main.py")
        await editor.until_codes("app/main.py", [])
        no_threads = MAIN.replace(
            "threading.Thread(target=workers.work, args=(i,))", "workers.work(i)"
        )
        editor.change("app/main.py", no_threads)
        await editor.until_codes("app/workers.py", [])
        editor.change("app/main.py", MAIN)
        await editor.until_codes("app/workers.py", [("TL102", RACE_LINE)])
        # A change in the buffer itself.
        editor.change("app/workers.py", SAFE_WORKERS)
        await editor.until_codes("app/workers.py", [])

    talk(root, scenario)


def test_an_unparsable_buffer_is_tl001_and_the_server_goes_on(tmp_path: Path) -> None:
    root = project(tmp_path)

    async def scenario(editor: Editor) -> None:
        editor.open("app/workers.py")
        await editor.until_codes("app/workers.py", [("TL102", RACE_LINE)])
        editor.change("app/workers.py", "def broken(:\n    pass\n")
        await editor.until_codes("app/workers.py", [("TL001", 1)])
        editor.change("app/workers.py", "\x00\xff garbage\n")
        await editor.until(lambda: (editor.codes("app/workers.py") or [("", 0)])[0][0] == "TL001",
                           "TL001 for null bytes")
        editor.change("app/workers.py", WORKERS)
        await editor.until_codes("app/workers.py", [("TL102", RACE_LINE)])

    talk(root, scenario)


def test_save_and_close(tmp_path: Path) -> None:
    root = project(tmp_path)

    async def scenario(editor: Editor) -> None:
        editor.open("app/workers.py")
        await editor.until_codes("app/workers.py", [("TL102", RACE_LINE)])
        # Saved elsewhere (another editor, git): the save re-reads the project.
        (root / "app" / "main.py").write_text(
            MAIN.replace("threading.Thread(target=workers.work, args=(i,))", "workers.work(i)"),
            encoding="utf-8",
        )
        editor.published.clear()
        editor.save("app/workers.py")
        await editor.until_codes("app/workers.py", [])
        # Closing a file clears its diagnostics.
        editor.open("app/args.py")
        await editor.until_codes("app/args.py", [("TL203", 3)])
        editor.close("app/args.py")
        await editor.until_codes("app/args.py", [])

    talk(root, scenario)


def test_files_created_on_disk_are_read_when_the_client_reports_them(tmp_path: Path) -> None:
    root = project(tmp_path)
    unthreaded = MAIN.replace("threading.Thread(target=workers.work, args=(i,))", "workers.work(i)")
    (root / "app" / "main.py").write_text(unthreaded, encoding="utf-8")
    watching = types.ClientCapabilities(workspace=types.WorkspaceClientCapabilities(
        did_change_watched_files=types.DidChangeWatchedFilesClientCapabilities(
            dynamic_registration=True
        )
    ))

    def changed(name: str, kind: types.FileChangeType) -> types.DidChangeWatchedFilesParams:
        return types.DidChangeWatchedFilesParams(
            changes=[types.FileEvent(uri=(root / name).as_uri(), type=kind)]
        )

    async def scenario(editor: Editor) -> None:
        await editor.until(lambda: bool(editor.registrations), "the watcher registration")
        registration = editor.registrations[0]
        assert registration.method == types.WORKSPACE_DID_CHANGE_WATCHED_FILES
        editor.open("app/workers.py")
        await editor.until_codes("app/workers.py", [])
        # `git checkout` brings a module that runs workers on threads.
        (root / "app" / "starter.py").write_text(MAIN, encoding="utf-8")
        editor.client.workspace_did_change_watched_files(
            changed("app/starter.py", types.FileChangeType.Created)
        )
        await editor.until_codes("app/workers.py", [("TL102", RACE_LINE)])
        (root / "app" / "starter.py").unlink()
        editor.client.workspace_did_change_watched_files(
            changed("app/starter.py", types.FileChangeType.Deleted)
        )
        await editor.until_codes("app/workers.py", [])

    talk(root, scenario, capabilities=watching)


def test_code_actions_apply_threadlints_fixes(tmp_path: Path) -> None:
    root = project(tmp_path)
    actions: list[Any] = []

    async def scenario(editor: Editor) -> None:
        editor.open("app/args.py")
        await editor.until_codes("app/args.py", [("TL203", 3)])
        diagnostic = editor.published[editor.uri("app/args.py")][0]
        result = await asyncio.wait_for(editor.client.text_document_code_action_async(
            types.CodeActionParams(
                text_document=types.TextDocumentIdentifier(uri=editor.uri("app/args.py")),
                range=diagnostic.range,
                context=types.CodeActionContext(diagnostics=[diagnostic]),
            )
        ), TIMEOUT)
        actions.extend(result or [])
        # Nothing to fix on a line without a fixable finding.
        elsewhere = await asyncio.wait_for(editor.client.text_document_code_action_async(
            types.CodeActionParams(
                text_document=types.TextDocumentIdentifier(uri=editor.uri("app/args.py")),
                range=types.Range(start=types.Position(line=0, character=0),
                                  end=types.Position(line=0, character=1)),
                context=types.CodeActionContext(
                    diagnostics=[], only=[types.CodeActionKind.QuickFix]
                ),
            )
        ), TIMEOUT)
        assert not elsewhere

    talk(root, scenario)
    quick = [a for a in actions if a.kind == types.CodeActionKind.QuickFix]
    assert len(quick) == 1 and quick[0].title.startswith("TL203: ") and quick[0].is_preferred
    lines = ARGS_NOT_TUPLE.splitlines(keepends=True)
    assert _apply(lines, quick[0].edit.changes[(root / "app/args.py").as_uri()]) == (
        ARGS_NOT_TUPLE.replace("args=(1)", "args=(1,)")
    )
    fix_all = [a for a in actions if a.kind == "source.fixAll.threadlint"]
    assert len(fix_all) == 1
    assert _apply(lines, fix_all[0].edit.changes[(root / "app/args.py").as_uri()]) == (
        ARGS_NOT_TUPLE.replace("args=(1)", "args=(1,)")
    )


def _apply(lines: list[str], edits: list[types.TextEdit]) -> str:
    """Apply LSP text edits (ASCII text: UTF-16 units are characters)."""
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    text = "".join(lines)

    def offset(position: types.Position) -> int:
        if position.line >= len(lines):
            return len(text)
        return starts[position.line] + position.character

    for edit in sorted(edits, key=lambda e: offset(e.range.start), reverse=True):
        text = text[: offset(edit.range.start)] + edit.new_text + text[offset(edit.range.end):]
    return text


def test_settings_from_the_client(tmp_path: Path) -> None:
    root = project(tmp_path)
    write_tree(tmp_path, {"other.toml": 'extend-ignore = ["TL102"]\n'})

    async def scenario(editor: Editor) -> None:
        editor.open("app/workers.py")
        editor.open("app/args.py")
        # initializationOptions: ignore TL203.
        await editor.until_codes("app/workers.py", [("TL102", RACE_LINE)])
        await editor.until_codes("app/args.py", [])
        # didChangeConfiguration, under a `threadlint` table: select TL203 only.
        editor.client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
            settings={"threadlint": {"select": ["TL203"]}}
        ))
        await editor.until_codes("app/workers.py", [])
        await editor.until_codes("app/args.py", [("TL203", 3)])
        # A configuration file named by the client.
        editor.client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
            settings={"config": str(tmp_path / "other.toml")}
        ))
        await editor.until_codes("app/args.py", [("TL203", 3)])
        await editor.until_codes("app/workers.py", [])
        # Bad settings are logged, never fatal; an unknown code is a
        # configuration error shown on the open files.
        editor.client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
            settings={"select": ["XX9"], "colour": "blue", "jobs": "many"}
        ))
        await editor.until_codes("app/args.py", [("TL001", 1)])
        message = editor.published[editor.uri("app/args.py")][0].message
        assert "configuration error" in message and "XX9" in message
        assert any("'colour'" in log.message for log in editor.logs)
        assert any("'jobs'" in log.message for log in editor.logs)
        editor.client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
            settings={}
        ))
        await editor.until_codes("app/workers.py", [("TL102", RACE_LINE)])
        await editor.until_codes("app/args.py", [("TL203", 3)])

    talk(root, scenario, options={"ignore": "TL203"})


def test_an_internal_error_is_logged_and_the_server_goes_on(tmp_path: Path) -> None:
    root = project(tmp_path)
    # The server as shipped, with the project check made to fail once.
    failing_once = (
        "import threadlint.project as p\n"
        "real = p.Project.check\n"
        "calls = []\n"
        "def check(self, scope=None):\n"
        "    calls.append(1)\n"
        "    if len(calls) == 1:\n"
        "        raise RuntimeError('simulated failure')\n"
        "    return real(self, scope)\n"
        "p.Project.check = check\n"
        "from threadlint.server import main\n"
        "raise SystemExit(main([]))\n"
    )

    async def scenario(editor: Editor) -> None:
        editor.open("app/workers.py")
        await editor.until(
            lambda: any("simulated failure" in log.message for log in editor.logs),
            "the error logged",
        )
        error = next(log for log in editor.logs if "simulated failure" in log.message)
        assert error.type == types.MessageType.Error
        editor.change("app/workers.py", WORKERS + "\n")
        await editor.until_codes("app/workers.py", [("TL102", RACE_LINE)])

    talk(root, scenario, command=[sys.executable, "-c", failing_once])


def test_without_pygls_the_server_says_how_to_install_it() -> None:
    code = (
        "import sys\n"
        "sys.modules['pygls'] = None\n"  # as if not installed: importing it fails
        "sys.argv = ['threadlint', 'server']\n"
        "from threadlint.cli import main\n"
        "main()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 2
    assert "pip install 'threadlint[server]'" in done.stderr


def test_the_settings_documented_are_the_settings_accepted() -> None:
    import re

    from threadlint.server import ServerOptions

    page = (Path(__file__).resolve().parent.parent / "docs" / "editors.md").read_text("utf-8")
    section = page.split("## The language server", 1)[1].split("\n## ", 1)[0]
    keys = [k for row in re.findall(r"^\s*\| (`[^|]*`) \|", section, re.MULTILINE)
            for k in re.findall(r"`([^`]+)`", row) if k != "key"]
    assert {"select", "ignore", "extend-select", "extend-ignore", "config"} <= set(keys)
    samples = {"config": "threadlint.toml", "preview": True, "jobs": 2}
    for key in keys:
        options, problems = ServerOptions.from_client({key: samples.get(key, ["TL2"])})
        assert problems == [], key
        assert options != ServerOptions(), key
    _, problems = ServerOptions.from_client({"selekt": ["TL2"]})
    assert problems == ["unknown setting 'selekt' ignored"]


def test_a_failing_project_link_is_logged_and_file_findings_still_shown(tmp_path: Path) -> None:
    root = project(tmp_path)
    link_fails = (
        "import threadlint.link as link\n"
        "def broken(results, settings):\n"
        "    raise ValueError('simulated link failure')\n"
        "link.link_project = broken\n"
        "from threadlint.server import main\n"
        "raise SystemExit(main([]))\n"
    )

    async def scenario(editor: Editor) -> None:
        editor.open("app/args.py")
        # TL203 is a file rule: it does not need the link.
        await editor.until_codes("app/args.py", [("TL203", 3)])
        await editor.until(
            lambda: any("simulated link failure" in log.message for log in editor.logs),
            "the link error logged",
        )

    talk(root, scenario, command=[sys.executable, "-c", link_fails])


def test_columns_are_counted_in_the_clients_utf16_units(tmp_path: Path) -> None:
    # The emoji is one code point but two UTF-16 units (LSP's default).
    text = 'import threading\n\nlabel = "\U0001f60b"; t = threading.Thread(target=print, args=(1))\n'
    root = write_tree(tmp_path / "proj", {"pyproject.toml": "", "emoji.py": text})
    line = text.splitlines()[2]

    async def scenario(editor: Editor) -> None:
        editor.open("emoji.py")
        await editor.until_codes("emoji.py", [("TL203", 3)])
        found = editor.published[editor.uri("emoji.py")][0].range
        # TL203 is reported at the `1`, one code point further in UTF-16.
        assert (found.start.character, found.end.character) == (line.index("1)") + 1,
                                                                line.index("1)") + 2)

    talk(root, scenario)
