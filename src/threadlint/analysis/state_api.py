"""What the race model knows about Python's built-in state and its concurrency APIs.

Tables only: which methods mutate a container, which built-ins iterate their
argument, which methods are setup, which servers run a thread per request.
The per-function summaries (`threadlint.analysis.summaries`) read them while
collecting; the project model reads `CONSTRUCTION` and `THREADING_SERVERS`.
"""

from __future__ import annotations

import libcst as cst

# Methods of the built-in containers that change them.
MUTATORS = frozenset(
    {
        "append",
        "extend",
        "insert",
        "pop",
        "remove",
        "clear",
        "add",
        "discard",
        "update",
        "setdefault",
        "popitem",
        "sort",
        "reverse",
        "appendleft",
        "popleft",
        "extendleft",
        "rotate",
        "difference_update",
        "intersection_update",
        "symmetric_difference_update",
    }
)
# Of those, the ones that keep the size (a concurrent iteration survives them).
SIZE_KEEPING = frozenset({"sort", "reverse", "rotate"})
# Mutators that take items away, and those of them that raise when the item
# is already gone (`pop(k)` and `pop()` too, but not `pop(k, default)`).
REMOVERS = frozenset({"pop", "popitem", "popleft", "remove", "clear", "discard"})
RAISING_REMOVERS = frozenset({"popitem", "popleft", "remove"})
# Views that iterate their receiver when they are iterated.
VIEWS = frozenset({"items", "keys", "values"})
# Built-ins that iterate their first argument right away.  Copying a
# built-in container itself (`list(d)`, `sorted(s)`) is one C call, atomic in
# CPython: only their views (`list(d.items())`) count as an iteration.
EAGER_ITERATION = frozenset(
    {"list", "tuple", "set", "frozenset", "sorted", "sum", "min", "max", "any", "all", "dict"}
)
ATOMIC_COPIES = frozenset({"list", "tuple", "set", "frozenset", "sorted", "dict"})
# Built-ins whose result iterates the argument when it is itself iterated.
LAZY_ITERATION = frozenset({"enumerate", "zip", "reversed", "iter", "map", "filter"})
# Setup methods: the object is not yet shared while they run.
CONSTRUCTION = frozenset(
    {
        "__init__",
        "__new__",
        "__post_init__",
        "__setstate__",
        "__init_subclass__",
        "__set_name__",
        "setUp",
        "setUpClass",
        "__del__",
    }
)
CONTAINER_FACTORIES = frozenset(
    {
        "list",
        "dict",
        "set",
        "collections.defaultdict",
        "collections.OrderedDict",
        "collections.Counter",
        "collections.deque",
        "weakref.WeakValueDictionary",
        "weakref.WeakKeyDictionary",
        "weakref.WeakSet",
    }
)
CONTAINER_LITERALS = (cst.List, cst.Dict, cst.Set, cst.ListComp, cst.DictComp, cst.SetComp)
# Threading servers: their request handlers run one thread per request.
THREADING_SERVERS = frozenset(
    {
        "socketserver.ThreadingTCPServer",
        "socketserver.ThreadingUDPServer",
        "socketserver.ThreadingUnixStreamServer",
        "socketserver.ThreadingUnixDatagramServer",
        "http.server.ThreadingHTTPServer",
    }
)
# APIs whose tasks run on pool threads: a target handed to them may run many times at once.
POOLED_APIS = ("executor.", "pool.", "loop.run_in_executor", "asyncio.to_thread")
JOINING_FUNCTIONS = frozenset({"concurrent.futures.wait"})
# Exceptions a lost race raises; a handler catching one shows the race is expected.
RACE_ERRORS = frozenset(
    {
        "KeyError",
        "IndexError",
        "LookupError",
        "RuntimeError",
        "ValueError",
        "Exception",
        "BaseException",
        "StopIteration",
        "AttributeError",
    }
)
