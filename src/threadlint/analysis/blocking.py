"""Which calls block the calling thread (TL306's table).

| what | calls |
|---|---|
| sleeping | `time.sleep` |
| waiting for a thread | `Thread.join()`, `Timer.join()` (a known thread) |
| queues | `Queue.get()` unless `block=False`/`timeout=0`, `put()` on a bounded queue (`maxsize` given) |
| events | `Event.wait()` (not `wait(0)`) |
| conditions | `Condition.wait()`/`wait_for()` on a condition whose lock is not the one held |
| sockets | `socket.create_connection`, `socket.getaddrinfo`, `gethostbyname`...; `accept`, `connect`, `recv*`, `send`, `sendall`, `makefile` on a socket made by `socket.socket`/`create_connection` |
| select | `select.select`, `select.poll().poll()`, `selector.select()` (a `selectors` selector) |
| HTTP | `urllib.request.urlopen`/`urlretrieve`, `http.client` connections' `request`/`getresponse`/`connect`, `requests.*` and `httpx.*` requests (module functions and `Session`/`Client` methods) |
| processes | `subprocess.run`/`call`/`check_call`/`check_output`/`getoutput`/`getstatusoutput`, `Popen.wait()`/`communicate()`, `os.system`, `os.wait`, `os.waitpid` |
| the user | `input()` |

Config `blocking-functions` adds qualified names (`"myapp.rpc.call"`) or
prefixes ending in a dot (`"myapp.rpc."`), matched against what a call's
function resolves to through the module's imports.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import libcst as cst

from threadlint.analysis import threading_api as api
from threadlint.analysis.calls import argument
from threadlint.analysis.context import ModuleContext, is_none

_HTTP_VERBS = ("get", "post", "put", "patch", "delete", "head", "options", "request", "stream", "send")

# Module functions that block, by qualified name -> what they wait for.
BLOCKING_FUNCTIONS: dict[str, str] = {
    "time.sleep": "sleeps",
    "input": "waits for the user's input",
    "builtins.input": "waits for the user's input",
    "socket.create_connection": "connects a socket",
    "socket.getaddrinfo": "resolves a host name",
    "socket.gethostbyname": "resolves a host name",
    "socket.gethostbyname_ex": "resolves a host name",
    "socket.gethostbyaddr": "resolves an address",
    "select.select": "waits in `select()`",
    "urllib.request.urlopen": "makes an HTTP request",
    "urllib.request.urlretrieve": "makes an HTTP request",
    "urllib.urlopen": "makes an HTTP request",
    "subprocess.run": "runs a process to its end",
    "subprocess.call": "runs a process to its end",
    "subprocess.check_call": "runs a process to its end",
    "subprocess.check_output": "runs a process to its end",
    "subprocess.getoutput": "runs a process to its end",
    "subprocess.getstatusoutput": "runs a process to its end",
    "os.system": "runs a process to its end",
    "os.wait": "waits for a child process",
    "os.waitpid": "waits for a child process",
    **{f"requests.{verb}": "makes an HTTP request" for verb in _HTTP_VERBS},
    **{f"httpx.{verb}": "makes an HTTP request" for verb in _HTTP_VERBS},
}

# Objects made by these calls block in these methods.
_BLOCKING_METHODS: dict[str, tuple[frozenset[str], str]] = {
    "socket.socket": (
        frozenset({"accept", "connect", "recv", "recvfrom", "recv_into", "recvmsg", "send", "sendall", "sendto", "makefile"}),
        "does socket I/O",
    ),
    "socket.create_connection": (
        frozenset({"recv", "recvfrom", "recv_into", "recvmsg", "send", "sendall", "makefile"}),
        "does socket I/O",
    ),
    "select.poll": (frozenset({"poll"}), "waits in `poll()`"),
    "select.epoll": (frozenset({"poll"}), "waits in `poll()`"),
    "selectors.DefaultSelector": (frozenset({"select"}), "waits in `select()`"),
    "selectors.SelectSelector": (frozenset({"select"}), "waits in `select()`"),
    "selectors.PollSelector": (frozenset({"select"}), "waits in `select()`"),
    "selectors.EpollSelector": (frozenset({"select"}), "waits in `select()`"),
    "http.client.HTTPConnection": (frozenset({"request", "getresponse", "connect"}), "makes an HTTP request"),
    "http.client.HTTPSConnection": (frozenset({"request", "getresponse", "connect"}), "makes an HTTP request"),
    "requests.Session": (frozenset(_HTTP_VERBS), "makes an HTTP request"),
    "requests.session": (frozenset(_HTTP_VERBS), "makes an HTTP request"),
    "httpx.Client": (frozenset(_HTTP_VERBS), "makes an HTTP request"),
    "subprocess.Popen": (frozenset({"wait", "communicate"}), "waits for a process"),
}


@dataclass(frozen=True)
class Blocking:
    call: cst.Call
    what: str  # "sleeps", "makes an HTTP request"...
    receiver: cst.BaseExpression | None = None  # for Condition.wait: the condition
    # I/O on a connection the object keeps (`self._sock.sendall()`): under the
    # object's own lock, that is one request at a time on a shared
    # connection, by design.
    own_connection: bool = False


def blocking_call(ctx: ModuleContext, call: cst.Call, extra: Sequence[str] = ()) -> Blocking | None:
    """What `call` blocks on, or None for a call not in the table."""
    qualified = ctx.qualname(call.func)
    if qualified is not None:
        if qualified in BLOCKING_FUNCTIONS and _blocks_at_all(call, qualified):
            return Blocking(call, BLOCKING_FUNCTIONS[qualified])
        for name in extra:
            if qualified == name or (name.endswith(".") and qualified.startswith(name)):
                return Blocking(call, f"calls `{qualified}` (configured as blocking)")
    func = call.func
    if not isinstance(func, cst.Attribute):
        return None
    method = func.attr.value
    receiver = func.value
    kind = ctx.kind_of(receiver)
    if kind in api.THREAD_KINDS and method == "join":
        return Blocking(call, "waits for a thread to end")
    if kind == api.EVENT and method == "wait" and not _zero_timeout(call, 0):
        return Blocking(call, "waits for an Event")
    if kind == api.CONDITION and method in ("wait", "wait_for"):
        if not _zero_timeout(call, 0 if method == "wait" else 1):
            return Blocking(call, "waits on a condition", receiver)
    if kind == api.QUEUE:
        return _queue_call(ctx, call, receiver, method)
    maker = _maker(ctx, receiver)
    if maker is not None and maker in _BLOCKING_METHODS:
        methods, what = _BLOCKING_METHODS[maker]
        if method in methods:
            own = (
                isinstance(receiver, cst.Attribute)
                and isinstance(receiver.value, cst.Name)
                and receiver.value.value == "self"
                and maker not in _WAITS
            )
            return Blocking(call, what, own_connection=own)
    return None


# Objects whose methods wait rather than talk to a peer.
_WAITS = frozenset({"subprocess.Popen"})


def _blocks_at_all(call: cst.Call, qualified: str) -> bool:
    """`time.sleep(0)` only yields the GIL."""
    if qualified == "time.sleep":
        seconds = argument(call, 0, "secs")
        return not (isinstance(seconds, (cst.Integer, cst.Float)) and float(seconds.evaluated_value) == 0)
    return True


def _zero_timeout(call: cst.Call, position: int) -> bool:
    timeout = argument(call, position, "timeout")
    return isinstance(timeout, (cst.Integer, cst.Float)) and float(timeout.evaluated_value) == 0


def _queue_call(ctx: ModuleContext, call: cst.Call, receiver: cst.BaseExpression, method: str) -> Blocking | None:
    if method == "get":
        block = argument(call, 0, "block")
        if _is_false(block) or _zero_timeout(call, 1):
            return None
        return Blocking(call, "waits for a queue item")
    if method == "put":
        block = argument(call, 1, "block")
        if _is_false(block) or _zero_timeout(call, 2) or not _bounded(ctx, receiver):
            return None
        return Blocking(call, "waits for room in a bounded queue")
    if method == "join":
        return Blocking(call, "waits for a queue to be drained")
    return None


def _is_false(expr: cst.BaseExpression | None) -> bool:
    return (isinstance(expr, cst.Name) and expr.value == "False") or (
        isinstance(expr, cst.Integer) and expr.value == "0"
    )


def _bounded(ctx: ModuleContext, receiver: cst.BaseExpression) -> bool:
    """The queue was made with a `maxsize` other than 0 (an unbounded put never blocks)."""
    for value in _values(ctx, receiver):
        if isinstance(value, cst.Call):
            size = argument(value, 0, "maxsize")
            if size is not None and not (isinstance(size, cst.Integer) and size.evaluated_value <= 0):
                return True
    return False


def _values(ctx: ModuleContext, expr: cst.BaseExpression) -> list[cst.BaseExpression]:
    return [b.value for b in ctx.bindings_of_expr(expr) if b.value is not None]


def _maker(ctx: ModuleContext, receiver: cst.BaseExpression) -> str | None:
    """The qualified name of the call that made `receiver`, when all its bindings agree."""
    if isinstance(receiver, cst.Call):
        return ctx.qualname(receiver.func)
    makers = {
        ctx.qualname(value.func) if isinstance(value, cst.Call) else None
        for value in _values(ctx, receiver)
        if not is_none(value)
    }
    if len(makers) == 1:
        return makers.pop()
    return None
