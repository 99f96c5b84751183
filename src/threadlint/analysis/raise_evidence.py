"""Steps that evidently can raise, and the handlers that catch what they raise.

`analysis/cannot_raise.py` proves that steps cannot raise; this module is
its other half: the steps whose failure real programs meet, so that a rule
that needs "this can raise" (TL301: a release that an exception skips)
reports on evidence, not on the lack of a proof. A step is evidence when:

- it is a `raise` (a bare `raise` in a handler passes the error on);
- it does I/O: a call of the functions in `_IO_FUNCTIONS` or under the
  modules of `_IO_MODULES` (`open()`, `os.remove()`, `socket.create_connection()`,
  `requests.get()`), or a method named in `_IO_METHODS` (`send`, `recv`,
  `write`, `flush`, `execute`...) on an object whose kind is not known to
  be something else (a lock, a queue, a built-in container);
- it parses outside data: `json.loads()`, `pickle.load()`,
  `struct.unpack()`, `bytes.decode()`;
- it calls a callable the function receives or holds in a local
  (`callback(item)`, `for task in tasks: task()`) or keeps in a container
  (`self._handlers[name](event)`): code of someone else's choosing, with
  errors of its own;
- it takes an item out of an object of unknown type (`items.pop()`,
  `queue.remove(x)`), which raises when the item is missing. A built-in
  container's lookups are judged by `cannot_raise.py` with what the code
  has tested, and the function summaries, which do not know that, leave
  lookups out.

What a function's callees raise is joined at the project link
(`threadlint.raising`): a call of a project function that can raise is
evidence too, as is a callback slot (`self.on_message(...)`) that the
project never fills itself, or fills with code that can raise.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass

import libcst as cst

from threadlint.analysis import threading_api as api
from threadlint.analysis.context import Handler, ModuleContext, catches, catches_all, dotted_name
from threadlint.analysis.walk import executed

# What each kind of evidence raises, for the handlers that catch it.
IO = "io"  # OSError and its subclasses
PARSE = "parse"  # ValueError (UnicodeDecodeError, JSONDecodeError), struct.error, pickle errors
LOOKUP = "lookup"  # KeyError, IndexError, ValueError of a missing item
RAISE = "raise"  # the class the `raise` names
CALL = "call"  # anything: only a catch-all handler takes it

_IO_FUNCTIONS = frozenset({"open", "io.open", "input", "os.fdopen", "os.popen"})
# Every function of these modules does I/O (or starts a process).
_IO_MODULES = (
    "socket.",
    "select.",
    "selectors.",
    "ssl.",
    "shutil.",
    "subprocess.",
    "urllib.request.",
    "http.client.",
    "ftplib.",
    "smtplib.",
    "telnetlib.",
    "requests.",
    "httpx.",
    "urllib3.",
    "sqlite3.",
)
_OS_IO = frozenset(
    {
        "open", "read", "write", "close", "remove", "unlink", "rename", "replace", "mkdir",
        "makedirs", "rmdir", "removedirs", "listdir", "scandir", "stat", "lstat", "chmod",
        "chown", "kill", "killpg", "fsync", "dup2", "waitpid", "link", "symlink", "readlink",
        "truncate", "ftruncate", "utime", "execv", "execve", "execvp", "spawnv", "pipe",
        "fork", "setsid",
    }
)
_IO_METHODS = frozenset(
    {
        "send", "sendall", "sendto", "sendmsg", "sendfile", "recv", "recv_into", "recvfrom",
        "recvmsg", "connect", "connect_ex", "accept", "bind", "listen", "makefile",
        "write", "writelines", "flush", "read", "readline", "readlines", "readinto", "seek",
        "truncate", "request", "urlopen", "getresponse", "execute", "executemany",
        "commit", "rollback", "fetchone", "fetchmany", "fetchall", "sendline", "expect",
    }
)
_PARSE_FUNCTIONS = frozenset(
    {
        "json.load", "json.loads", "pickle.load", "pickle.loads", "marshal.loads",
        "struct.unpack", "struct.unpack_from", "base64.b64decode", "zlib.decompress",
    }
)
_PARSE_METHODS = frozenset({"decode"})
# Methods that raise when the item is missing or the container empty, by
# every container's contract (`list.pop()`, `dict.pop(k)`, `deque.popleft()`).
_TAKING_METHODS = frozenset({"pop", "popleft", "popitem", "remove", "index"})
# Receivers of a known threading kind (locks, queues, threads...): their
# methods named like I/O are not I/O.
_NOT_IO = frozenset({*api.TYPE_KINDS.values(), api.DEQUE})
_OS_ERRORS = frozenset(
    {
        "OSError", "IOError", "EnvironmentError", "error", "timeout", "SSLError",
        "ConnectionError", "ConnectionResetError", "BrokenPipeError", "socket.error",
        "select.error", "herror", "gaierror",
    }
)
_LOOKUP_ERRORS = frozenset({"KeyError", "IndexError", "LookupError", "ValueError"})
_PARSE_ERRORS = frozenset(
    {"ValueError", "UnicodeError", "UnicodeDecodeError", "JSONDecodeError", "error",
     "UnpicklingError", "PickleError", "TypeError"}
)


@dataclass(frozen=True)
class Evidence:
    kind: str
    reason: str  # for messages: "does I/O", "raises `ValueError`"
    caught_by: frozenset[str] = frozenset()  # for RAISE: the class's name


# What an unknown callee may raise: only a catch-all handler takes it.
ANYTHING = Evidence(CALL, "")


def of_step(
    ctx: ModuleContext, node: cst.CSTNode, params: Collection[str] = ()
) -> Evidence | None:
    """The evidence that `node` (a `raise` or a call; not what it contains)
    can raise, or None. `params` are the enclosing function's parameters."""
    if isinstance(node, cst.Raise):
        if node.exc is None:
            return Evidence(CALL, "passes an exception on (`raise`)")
        raised = node.exc.func if isinstance(node.exc, cst.Call) else node.exc
        name = dotted_name(raised) or ""
        last = name.rpartition(".")[2]
        return Evidence(RAISE, f"raises `{last or 'an exception'}`", frozenset({last} - {""}))
    if not isinstance(node, cst.Call):
        return None
    func = node.func
    qualified = ctx.qualname(func) or ""
    if qualified in _IO_FUNCTIONS or qualified.startswith(_IO_MODULES):
        return Evidence(IO, "does I/O")
    module, _, name = qualified.rpartition(".")
    if module == "os" and name in _OS_IO:
        return Evidence(IO, "does I/O")
    if qualified in _PARSE_FUNCTIONS:
        return Evidence(PARSE, "parses data")
    if isinstance(func, cst.Name):
        return _variable_call(ctx, func, params)
    if isinstance(func, cst.Subscript):
        return Evidence(CALL, "calls a callable kept in a container")
    if isinstance(func, cst.Attribute) and not qualified.startswith(("logging.", "threading.")):
        method = func.attr.value
        if (
            (method in _TAKING_METHODS
            and len(node.args) == (0 if method in ("popleft", "popitem") else 1)
            or method == "pop" and not node.args)
            and ctx.kind_of(func.value) not in _NOT_IO
            and ctx.container_type(func.value) is None
        ):
            # Of an object of unknown type: a built-in container's lookups
            # are judged with what the code has tested (`cannot_raise.py`).
            return Evidence(LOOKUP, "fails when the item is missing")
        if method in _IO_METHODS or method in _PARSE_METHODS:
            receiver = func.value
            if isinstance(receiver, (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString)):
                return None  # `"...".join()`-like calls on literals: not I/O
            if ctx.kind_of(receiver) in _NOT_IO or ctx.container_type(receiver) is not None:
                return None
            if method in _PARSE_METHODS:
                return Evidence(PARSE, "decodes data")
            return Evidence(IO, "does I/O")
    return None


def _variable_call(ctx: ModuleContext, func: cst.Name, params: Collection[str]) -> Evidence | None:
    """`callback(x)`, `task()`: a call of a local variable of the function
    (a parameter, a loop variable over received tasks), not of a function
    the module defines or imports."""
    name = func.value
    scope = next(
        (a for a in ctx.ancestors(func) if isinstance(a, (cst.FunctionDef, cst.Lambda))), None
    )
    local = ctx.bindings.get(scope, {}).get(name) if scope is not None else None
    body = scope.body.body if isinstance(scope, cst.FunctionDef) else ()
    if not local or any(
        isinstance(n, (cst.FunctionDef, cst.ClassDef)) and n.name.value == name
        for n in body
    ):
        return None
    if name in params:
        return Evidence(CALL, f"calls `{name}`, a callable the function receives")
    return Evidence(CALL, f"calls `{name}`, a callable the function is given")


def caught(evidence: Evidence, handler: Handler) -> bool:
    """Does the handler take what the evidence raises?"""
    if catches_all(handler):
        return True
    if evidence.kind == IO:
        return catches(handler, _OS_ERRORS)
    if evidence.kind == PARSE:
        return catches(handler, _PARSE_ERRORS)
    if evidence.kind == LOOKUP:
        return catches(handler, _LOOKUP_ERRORS)
    if evidence.kind == RAISE:
        return bool(evidence.caught_by) and catches(handler, evidence.caught_by)
    return False


def passes_on(handler: cst.ExceptHandler | cst.ExceptStarHandler) -> bool:
    """A handler that raises again (`except Exception: log(); raise`) catches nothing."""
    return any(isinstance(n, cst.Raise) for n in executed(handler.body))


def shielded(
    ctx: ModuleContext,
    node: cst.CSTNode,
    evidence: Evidence,
    stop: cst.CSTNode,
    counts: Callable[[cst.CSTNode], bool] | None = None,
) -> bool:
    """Is `node` inside the body of a `try` (below `stop`, and one that
    `counts`) one of whose handlers takes what the evidence raises and does
    not raise again?"""
    child = node
    for ancestor in ctx.ancestors(node):
        if ancestor is stop:
            return False
        if (
            isinstance(ancestor, (cst.Try, cst.TryStar))
            and child is ancestor.body
            and (counts is None or counts(ancestor))
        ):
            if any(caught(evidence, h) and not passes_on(h) for h in ancestor.handlers):
                return True
        child = ancestor
    return False
