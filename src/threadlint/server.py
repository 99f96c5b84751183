"""`threadlint server`: a language server (LSP over stdio), built on pygls 2.

The server keeps, for each project an editor has a file of open, the
project's files and their analyses in memory (`threadlint.project.Project`).
An open buffer's text replaces its file's; after a change only that buffer
is analysed again, then the project is linked again, and the diagnostics of
*every* open buffer of the project are published again: a thread started in
one module decides what is racy in another.

- diagnostics on open, change (after a short pause in typing) and save;
- code actions for the fixes threadlint has (quick fixes per finding, and
  `source.fixAll.threadlint` for all safe ones of a file);
- settings from `initializationOptions` and `workspace/didChangeConfiguration`
  (the keys may sit under a `threadlint` table): `select`, `ignore`,
  `extend-select`, `extend-ignore`, `config` (a configuration file),
  `preview`, `jobs`.  Without `config`, each project's own configuration
  applies, as on the command line.

It never stops on bad input: a buffer that does not parse is a TL001
diagnostic, a configuration error is a diagnostic on line 1 of each open file
of that project, an unknown setting is logged, and an internal error is sent
to the client as a `window/logMessage` while the server goes on.

pygls is an optional dependency (`pip install 'threadlint[server]'`); this
module imports it only in `main`.
"""

from __future__ import annotations

import contextlib
import sys
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from threadlint import __version__
from threadlint.config import ConfigError, Settings
from threadlint.diagnostics import Diagnostic, Fix
from threadlint.project import Project, find_project_root, open_project
from threadlint.runner import RunResult, run_source
from threadlint.source_text import encode_source

INSTALL_HINT = (
    "threadlint: error: `threadlint server` needs pygls 2; install the extra: "
    "pip install 'threadlint[server]'"
)

# Saving one of these may change the settings or the files of a project.
CONFIGURATION_FILES = frozenset(
    ["pyproject.toml", "threadlint.toml", ".threadlint.toml", "setup.cfg", ".gitignore"]
)

# Re-lint this long after the last keystroke, not on every one.
CHANGE_DELAY = 0.3


# --- settings from the client ---------------------------------------------


@dataclass(frozen=True)
class ServerOptions:
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    extend_select: tuple[str, ...] = ()
    extend_ignore: tuple[str, ...] = ()
    config: str | None = None
    preview: bool = False
    jobs: int = 1  # in-process: forking a process that runs threads is not safe

    @classmethod
    def from_client(cls, value: Any) -> tuple[ServerOptions, list[str]]:
        """Options from the client's JSON, and a complaint for each value ignored."""
        problems: list[str] = []
        if isinstance(value, Mapping) and isinstance(value.get("threadlint"), Mapping):
            value = value["threadlint"]
        if value is None:
            return cls(), problems
        if not isinstance(value, Mapping):
            return cls(), [f"settings must be an object, got {value!r}"]
        changes: dict[str, Any] = {}
        for key, item in value.items():
            name = str(key).replace("-", "_")
            if name in ("select", "ignore", "extend_select", "extend_ignore"):
                codes = item.split(",") if isinstance(item, str) else item
                if isinstance(codes, list) and all(isinstance(c, str) for c in codes):
                    changes[name] = tuple(c.strip() for c in codes if c.strip())
                    continue
            elif name == "config":
                if item is None or (isinstance(item, str) and item):
                    changes[name] = item
                    continue
            elif name == "preview":
                if isinstance(item, bool):
                    changes[name] = item
                    continue
            elif name == "jobs":
                if isinstance(item, int) and not isinstance(item, bool) and item >= 0:
                    changes[name] = item
                    continue
            else:
                problems.append(f"unknown setting {key!r} ignored")
                continue
            problems.append(f"setting {key!r} has an invalid value {item!r}; ignored")
        return replace(cls(), **changes), problems

    def settings(self) -> Settings:
        """Settings through which each file gets its nearest configuration (or
        `config`), these options over it."""
        from threadlint.cli import build_settings

        # The same settings as the command line's, so the two share the cache.
        return build_settings(
            config=self.config, isolated=False, select=self.select, ignore=self.ignore,
            extend_select=self.extend_select, extend_ignore=self.extend_ignore,
            exclude=(), extend_exclude=(), preview=self.preview, free_threaded=False,
        )


# --- the state: projects and open documents, without LSP plumbing -----------


@dataclass
class _OpenProject:
    project: Project | None  # None: the configuration is broken
    error: str | None = None
    documents: dict[str, str] = field(default_factory=dict)  # path -> member key


class Session:
    """The projects of the open documents, and their findings."""

    def __init__(self, options: ServerOptions | None = None) -> None:
        self.options = options or ServerOptions()
        self._projects: dict[str, _OpenProject] = {}
        self._by_path: dict[str, str] = {}  # open document's path -> project id
        # Internal errors of the last check not tied to an open file (the
        # project link's), for the server to log.
        self.errors: list[str] = []

    def reconfigure(self, options: ServerOptions) -> list[str]:
        """New settings (or configuration files changed): every project is set
        up again when its documents are next updated.  Returns the open paths."""
        self.options = options
        opened = list(self._by_path)
        self._projects.clear()
        self._by_path.clear()
        return opened

    def update(self, path: str, text: bytes | None) -> str:
        """An open document's text (None: as on disk); returns its project id."""
        project_id = self._by_path.get(path)
        if project_id is None:
            project_id = self._open(path)
        state = self._projects[project_id]
        if state.project is None:
            state.documents[path] = ""
            return project_id
        key = state.project.add_file(Path(path), display=path)
        state.documents[path] = key
        state.project.set_buffer(key, text)
        return project_id

    def _open(self, path: str) -> str:
        root = find_project_root(Path(path))
        project_id = str(root) if root is not None else path
        if project_id not in self._projects:
            try:
                settings = self.options.settings()
            except ConfigError as exc:
                self._projects[project_id] = _OpenProject(None, str(exc))
            else:
                try:
                    project = open_project(
                        root, settings, [Path(path)], jobs=self.options.jobs, absolute_paths=True,
                        in_process=self.options.jobs == 1,
                    )
                except ConfigError as exc:  # a nested configuration is broken
                    self._projects[project_id] = _OpenProject(None, str(exc))
                else:
                    self._projects[project_id] = _OpenProject(project)
        self._by_path[path] = project_id
        return project_id

    def close(self, path: str) -> str | None:
        """The document is closed: its file is read from disk again (if any)."""
        project_id = self._by_path.pop(path, None)
        if project_id is None:
            return None
        state = self._projects[project_id]
        key = state.documents.pop(path, None)
        if state.project is not None and key is not None:
            state.project.set_buffer(key, None)
            state.project.remove(key)
        if not state.documents:
            del self._projects[project_id]
            return None
        return project_id

    def saved(self, path: str) -> None:
        """A save may have created or deleted files: look at the project again."""
        project_id = self._by_path.get(path)
        if project_id is not None:
            project = self._projects[project_id].project
            if project is not None:
                project.scan()

    def rescan(self) -> list[str]:
        """Files changed outside the editor: every project looks again."""
        for state in self._projects.values():
            if state.project is not None:
                state.project.scan()
        return list(self._projects)

    def findings(self, project_id: str) -> dict[str, list[Diagnostic]]:
        """The findings of each open document of the project, by path."""
        state = self._projects.get(project_id)
        if state is None:
            return {}
        if state.project is None:
            message = f"not analysed: threadlint configuration error: {state.error}"
            return {path: [Diagnostic(path, 1, 1, "TL001", message)] for path in state.documents}
        try:
            run = state.project.check(state.documents.values())
        except ConfigError as exc:  # the configuration of a file opened since
            message = f"not analysed: threadlint configuration error: {exc}"
            return {path: [Diagnostic(path, 1, 1, "TL001", message)] for path in state.documents}
        out: dict[str, list[Diagnostic]] = {path: [] for path in state.documents}
        for diagnostic in run.diagnostics:
            if diagnostic.path in out:
                out[diagnostic.path].append(diagnostic)
        self.errors = []
        for path, error in run.errors:
            if path in out:
                out[path].append(_internal_error(path, error))
            else:
                self.errors.append(f"{path}: {error}")
        return out


def _internal_error(path: str, error: str) -> Diagnostic:
    last = error.strip().splitlines()[-1] if error.strip() else "unknown error"
    return Diagnostic(path, 1, 1, "TL001", f"not analysed: threadlint internal error: {last}")


def lint_untitled(name: str, text: bytes, options: ServerOptions) -> RunResult:
    """A buffer with no file (an `untitled:` document): linted on its own."""
    settings = options.settings()
    if settings.lookup is not None:  # the configuration of the working directory
        settings = settings.lookup.settings_at(Path.cwd())
    return run_source(text, name, settings)


# --- the LSP server -----------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """`threadlint server`: serve LSP on stdin/stdout until the client exits."""
    args = list(sys.argv[2:] if argv is None else argv)
    if args in (["-h"], ["--help"]):
        print("usage: threadlint server\n\nA language server (LSP) on standard input and "
              "output, for editors.\nSee docs/editors.md.")
        return 0
    if args:
        print(f"threadlint: error: `threadlint server` takes no arguments, got {args[0]!r}",
              file=sys.stderr)
        return 2
    try:
        server = build_server()
    except ImportError:
        print(INSTALL_HINT, file=sys.stderr)
        return 2
    server.start_io()
    return 0


def build_server() -> Any:
    """The pygls server with threadlint's features (raises ImportError without pygls)."""
    import asyncio

    from lsprotocol import types
    from pygls import uris
    from pygls.lsp.server import LanguageServer

    server = LanguageServer("threadlint", __version__)
    session = Session()
    last: dict[str, list[Diagnostic]] = {}  # uri -> findings published
    pending: dict[str, asyncio.TimerHandle] = {}  # project id -> scheduled lint
    # The URI each open file was opened by (not rebuilt from the path: clients
    # differ in how they quote and spell them).
    uri_of: dict[str, str] = {}

    def log(kind: types.MessageType, message: str) -> None:
        # A client that is gone cannot be told anything.
        with contextlib.suppress(Exception):
            server.window_log_message(types.LogMessageParams(type=kind, message=message))

    def guarded(what: str, action: Any, *args: Any) -> Any:
        """Run `action`; an internal error is logged to the client, never fatal."""
        try:
            return action(*args)
        except Exception:
            log(types.MessageType.Error,
                f"threadlint: internal error while {what}:\n{traceback.format_exc()}")
            return None

    def path_of(uri: str) -> str | None:
        if not uri.startswith("file:"):
            return None
        path = uris.to_fs_path(uri)
        return str(Path(path).absolute()) if path else None

    def document_text(uri: str) -> bytes:
        return encode_source(server.workspace.get_text_document(uri).source)

    def publish(project_id: str | None) -> None:
        pending.pop(project_id or "", None)
        if project_id is None:
            return
        for path, found in session.findings(project_id).items():
            send(uri_of.get(path) or uris.from_fs_path(path) or path, found)
        for error in session.errors:
            log(types.MessageType.Error, f"threadlint: internal error while linting {error}")

    def send(uri: str, found: list[Diagnostic]) -> None:
        last[uri] = found
        document = server.workspace.get_text_document(uri)
        server.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(
                uri=uri, version=document.version,
                diagnostics=[to_lsp(document, d, types) for d in found],
            )
        )

    def lint_document(uri: str, schedule: bool) -> None:
        if not is_python(uri):
            return
        path = path_of(uri)
        if path is None:
            result = lint_untitled(uri, document_text(uri), session.options)
            send(uri, [replace(d, path=uri) for d in result.diagnostics])
            return
        uri_of[path] = uri
        project_id = session.update(path, document_text(uri))
        if not schedule:
            publish(project_id)
            return
        handle = pending.pop(project_id, None)
        if handle is not None:
            handle.cancel()
        loop = asyncio.get_running_loop()
        pending[project_id] = loop.call_later(
            CHANGE_DELAY, guarded, "linting", publish, project_id
        )

    def apply_options(value: Any, where: str) -> None:
        options, problems = ServerOptions.from_client(value)
        for problem in problems:
            log(types.MessageType.Warning, f"threadlint: {where}: {problem}")
        relint_all(options)

    def relint_all(options: ServerOptions) -> None:
        project_ids = set()
        for path in session.reconfigure(options):
            uri = uri_of.get(path) or uris.from_fs_path(path) or path
            project_ids.add(session.update(path, document_text(uri)))
        for project_id in sorted(project_ids):
            publish(project_id)

    def is_python(uri: str) -> bool:
        document = server.workspace.get_text_document(uri)
        return document.language_id == "python" or uri.endswith((".py", ".pyi"))

    @server.feature(types.INITIALIZE)
    def initialize(params: types.InitializeParams) -> None:
        options, problems = ServerOptions.from_client(params.initialization_options)
        session.options = options
        for problem in problems:
            log(types.MessageType.Warning, f"threadlint: initializationOptions: {problem}")

    @server.feature(types.INITIALIZED)
    def initialized(params: types.InitializedParams) -> None:
        guarded("asking to watch files", watch_files)

    def watch_files() -> None:
        """Ask the client to report Python and configuration files changed on
        disk (a `git checkout`), if it can: new modules may start threads."""
        workspace = server.client_capabilities.workspace
        watched = workspace.did_change_watched_files if workspace else None
        if not (watched and watched.dynamic_registration):
            return
        patterns = ["**/*.py", *(f"**/{name}" for name in sorted(CONFIGURATION_FILES))]
        server.client_register_capability(types.RegistrationParams(registrations=[
            types.Registration(
                id="threadlint-watched-files",
                method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                register_options=types.DidChangeWatchedFilesRegistrationOptions(
                    watchers=[types.FileSystemWatcher(glob_pattern=p) for p in patterns]
                ),
            )
        ]))

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(params: types.DidOpenTextDocumentParams) -> None:
        guarded("linting an opened file", lint_document, params.text_document.uri, False)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(params: types.DidChangeTextDocumentParams) -> None:
        guarded("linting a changed file", lint_document, params.text_document.uri, True)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(params: types.DidSaveTextDocumentParams) -> None:
        def saved(uri: str) -> None:
            if uri.rsplit("/", 1)[-1] in CONFIGURATION_FILES:
                relint_all(session.options)
                return
            path = path_of(uri)
            if path is not None:
                session.saved(path)
            lint_document(uri, False)

        guarded("linting a saved file", saved, params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(params: types.DidCloseTextDocumentParams) -> None:
        def closed(uri: str) -> None:
            last.pop(uri, None)
            server.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(uri=uri, diagnostics=[])
            )
            path = path_of(uri)
            if path is not None:
                uri_of.pop(path, None)
                publish(session.close(path))

        guarded("closing a file", closed, params.text_document.uri)

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    def did_change_configuration(params: types.DidChangeConfigurationParams) -> None:
        guarded("applying settings", apply_options, params.settings, "settings")

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def did_change_watched_files(params: types.DidChangeWatchedFilesParams) -> None:
        def rescan() -> None:
            names = {change.uri.rsplit("/", 1)[-1] for change in params.changes}
            if names & CONFIGURATION_FILES:
                relint_all(session.options)
                return
            for project_id in session.rescan():
                publish(project_id)

        guarded("reading changed files", rescan)

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(
            code_action_kinds=[types.CodeActionKind.QuickFix, FIX_ALL_KIND],
            resolve_provider=False,
        ),
    )
    def code_action(params: types.CodeActionParams) -> list[types.CodeAction] | None:
        return guarded("computing code actions", code_actions, params)

    def code_actions(params: types.CodeActionParams) -> list[types.CodeAction]:
        uri = params.text_document.uri
        document = server.workspace.get_text_document(uri)
        found = [d for d in last.get(uri, []) if d.fix is not None and d.fix.edits]
        wanted = params.context.only
        actions: list[types.CodeAction] = []
        if wanted is None or any(str(k).startswith("quickfix") for k in wanted):
            first, final = params.range.start.line + 1, params.range.end.line + 1
            for d in found:
                if (d.end_line or d.line) < first or d.line > final:
                    continue
                assert d.fix is not None
                actions.append(types.CodeAction(
                    title=f"{d.code}: {d.fix.description}"
                    + ("" if d.fix.safe else " (changes behaviour)"),
                    kind=types.CodeActionKind.QuickFix,
                    diagnostics=[to_lsp(document, d, types)],
                    is_preferred=d.fix.safe,
                    edit=types.WorkspaceEdit(changes={uri: edits(document, d.fix, types)}),
                ))
        if wanted is None or any(str(k).startswith("source") for k in wanted):
            safe = [d for d in found if d.fix is not None and d.fix.safe]
            action = fix_all(document, uri, safe, types)
            if action is not None:
                actions.append(action)
        return actions

    return server


FIX_ALL_KIND = "source.fixAll.threadlint"


def to_lsp(document: Any, d: Diagnostic, types: Any) -> Any:
    """A threadlint finding as an LSP diagnostic (positions in the client's units)."""
    from threadlint.rules.base import get_rule

    start = _position(document, d.line, d.col)
    end = _position(document, d.end_line, d.end_col) if d.end_line else None
    if end is None or (end.line, end.character) <= (start.line, start.character):
        line = document.lines[d.line - 1] if 0 < d.line <= len(document.lines) else ""
        end = _position(document, d.line, len(line.rstrip("\r\n")) + 1)
    rule = get_rule(d.code)
    return types.Diagnostic(
        range=types.Range(start=start, end=end),
        message=d.message,
        severity=(types.DiagnosticSeverity.Error if d.code == "TL001"
                  else types.DiagnosticSeverity.Warning),
        code=d.code,
        code_description=types.CodeDescription(href=rule.url()) if rule else None,
        source="threadlint",
    )


def _position(document: Any, line: int, col: int) -> Any:
    """1-based line and column (code points) to the client's position.

    Counts the line's code units with the document's codec (UTF-16 unless
    the client chose otherwise): `client_num_units` is the one conversion
    that pygls 2.0 and 2.1 both have.
    """
    from lsprotocol import types

    lines = document.lines
    index = max(line - 1, 0)
    if index >= len(lines):
        return types.Position(line=index, character=0)
    before = lines[index][: max(col - 1, 0)]
    return types.Position(line=index, character=document.position_codec.client_num_units(before))


def edits(document: Any, fix: Fix, types: Any) -> list[Any]:
    return [
        types.TextEdit(
            range=types.Range(
                start=_position(document, e.line, e.col),
                end=_position(document, e.end_line, e.end_col),
            ),
            new_text=e.text,
        )
        for e in fix.edits
    ]


def fix_all(document: Any, uri: str, found: list[Diagnostic], types: Any) -> Any:
    """All safe fixes of the file at once, as `--fix` applies them (one round)."""
    from threadlint.fix import fix_text

    if not found:
        return None
    text = document.source
    fixed, applied, _ = fix_text(text, found)
    if not applied or fixed == text:
        return None
    lines = document.lines
    whole = types.Range(
        start=types.Position(line=0, character=0),
        end=types.Position(line=len(lines), character=0),
    )
    return types.CodeAction(
        title="threadlint: apply all safe fixes",
        kind=FIX_ALL_KIND,
        edit=types.WorkspaceEdit(changes={uri: [types.TextEdit(range=whole, new_text=fixed)]}),
    )
