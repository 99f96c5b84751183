"""Where a function spends its time: the CPU / I/O profile behind TL401.

Under the GIL, threads run Python bytecode one at a time; only waiting (I/O,
sleeping, locks) and C code that releases the GIL overlap.  TL401 therefore
asks of every function handed to a thread: is it *CPU-bound*?  This module
is the one place that answers, from syntax alone, with the tables below.

How a function is profiled (`FunctionProfile`):

- Every call in its body is classified by the callee's qualified name
  (through imports, `self.method` in the class, module functions):

  =================  ====================================================
  ``io``             files, sockets, HTTP clients, subprocesses,
                     databases, sleeping, waiting on locks, queues,
                     events, futures and threads, printing and logging.
  ``gil-releasing``  C code that releases the GIL on large inputs
                     (hashlib, zlib, bz2, lzma, NumPy and other array
                     libraries): threads *do* overlap there.
  ``cpu-heavy``      computation that holds the GIL and grows with its
                     input: ``re``, ``json`` / ``pickle`` (de)serialising,
                     ``copy.deepcopy``, ``difflib``, parsers.
  ``pure``           cheap computation: builtins, ``math``, ``itertools``,
                     container and string methods.
  (a callee)         a function of the linted project: its own profile is
                     followed by TL401 at link time.
  ``unknown``        anything else (third-party code, callables passed in
                     as arguments): "can't tell", which keeps TL401 silent.
  =================  ====================================================

  Each table entry is a qualified name and also matches everything below
  it (``"socket"`` matches ``socket.create_connection``); the longest
  matching entry wins, so ``os.path.join`` (pure) beats ``os`` (io).
  Entries from the configuration (`io-functions`, `gil-releasing-functions`,
  `cpu-heavy-functions`) win over the built-in ones.

- A method call is classified by its receiver: a local bound to a literal
  or a builtin container is pure, one bound to ``open(...)`` is io, to
  ``hashlib.sha256()`` GIL-releasing, to ``re.compile(...)`` cpu-heavy; a
  receiver of a known concurrency kind (queue, lock, event, future, thread,
  executor) waits.  On a receiver of unknown type, only method names that
  belong to builtin strings and containers (`append`, `split`, `items`, ...)
  count as pure; `get`, `put`, `read`, `join`, `update` and the like could be
  I/O or waiting, and are unknown.
- Loops (`for`, `while`, comprehensions) record the work done inside them:
  arithmetic, string building, calls of cpu-heavy functions, and calls of
  project functions.

A function with a call of ``yield`` or ``await`` is not CPU work handed to
a thread (calling it only creates a generator or coroutine), and neither is
the body of a ``raise`` (it runs once, on the way out).

Limits: only files with a concurrency signal are profiled by the per-file
pass; TL401 profiles the other modules of the project on demand when a
thread target calls into them (`profile_file`).  Types are not inferred
beyond a binding's literal or constructor, so most method calls on objects
of the project's own classes are unknown unless the receiver's class is
visible (`self`, or a local bound to `Cls(...)`).
"""

from __future__ import annotations

import builtins
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Union

import libcst as cst

from threadlint.analysis import threading_api as api
from threadlint.analysis.context import ModuleContext, dotted_name, import_bindings, is_none
from threadlint.analysis.per_file import register_collector
from threadlint.analysis.spawn import find_spawn, unwrap_target
from threadlint.analysis.walk import children, walk
from threadlint.config import Settings
from threadlint.printable import shortened
from threadlint.source_text import read_regular_file

IO = "io"
GIL_RELEASING = "gil-releasing"
CPU_HEAVY = "cpu-heavy"
PURE = "pure"
CALLEE = "callee"
UNKNOWN = "unknown"

# -- The tables ------------------------------------------------------------

# Files, sockets, HTTP, subprocesses, databases, sleeping and waiting.
IO_FUNCTIONS: tuple[str, ...] = (
    # builtins and the standard library
    "open", "print", "input", "breakpoint", "help",
    "io", "os", "posix", "nt", "shutil", "tempfile", "glob", "pathlib",
    "socket", "ssl", "select", "selectors", "asyncio", "signal", "mmap",
    "fcntl", "termios", "tty", "pty", "curses", "readline", "getpass",
    "subprocess", "multiprocessing", "threading", "_thread", "queue",
    "concurrent", "sched", "time.sleep", "sys.stdin", "sys.stdout",
    "sys.stderr", "logging", "warnings", "syslog", "faulthandler",
    "http", "urllib.request", "urllib.robotparser", "ftplib", "poplib",
    "imaplib", "smtplib", "telnetlib", "nntplib", "socketserver", "xmlrpc",
    "wsgiref", "webbrowser", "sqlite3", "dbm", "shelve", "zipfile",
    "tarfile", "gzip.open", "bz2.open", "lzma.open", "json.load",
    "json.dump", "pickle.load", "pickle.dump", "marshal.load", "marshal.dump",
    "platform", "ctypes", "tkinter", "smtpd", "asynchat", "asyncore",
    "mailbox", "filecmp", "fileinput", "linecache", "importlib", "runpy",
    "site", "sysconfig", "zipimport", "pkgutil", "locale", "gettext",
    "uuid.getnode", "sys.exit",
    # popular third-party clients
    "requests", "httpx", "urllib3", "aiohttp", "httplib2", "pycurl",
    "boto3", "botocore", "redis", "pymongo", "psycopg2", "psycopg",
    "pymysql", "MySQLdb", "sqlalchemy", "paramiko", "grpc", "kafka",
    "confluent_kafka", "pika", "kombu", "elasticsearch", "google.cloud",
    "azure", "websocket", "websockets", "serial", "zmq", "paho", "docker",
    "kubernetes", "pexpect", "selenium", "playwright", "click.echo",
)

# C code that releases the GIL while it works (on large enough inputs).
GIL_RELEASING_FUNCTIONS: tuple[str, ...] = (
    "hashlib", "zlib", "bz2", "lzma", "_hashlib", "_sha256", "_blake2",
    "numpy", "scipy", "pandas", "numexpr", "numba", "torch", "tensorflow",
    "jax", "cupy", "cv2", "PIL", "skimage", "sklearn", "pyarrow", "polars",
    "zstandard", "zstd", "lz4", "brotli", "blake3", "cryptography", "nacl",
    "bcrypt", "argon2", "scrypt",
)

# Computation that holds the GIL and whose cost grows with its input.
CPU_HEAVY_FUNCTIONS: tuple[str, ...] = (
    "re", "json.loads", "json.dumps", "json.JSONDecoder", "json.JSONEncoder",
    "pickle.loads", "pickle.dumps", "marshal.loads", "marshal.dumps",
    "copy.deepcopy", "difflib", "ast.parse", "ast.literal_eval", "compile",
    "xml.etree.ElementTree.fromstring", "xml.etree.ElementTree.XML",
    "xml.dom.minidom.parseString", "html.parser", "statistics", "base64",
    "binascii", "textwrap", "tokenize", "unicodedata.normalize",
    # third-party parsers and serialisers that hold the GIL
    "yaml", "simplejson", "ujson", "orjson", "msgpack", "markdown",
    "mistune", "bs4", "sympy", "networkx", "pygments",
)

# Cheap computation: neither I/O nor "can't tell".
PURE_FUNCTIONS: tuple[str, ...] = (
    "abs", "all", "any", "ascii", "bin", "bool", "bytearray", "bytes",
    "callable", "chr", "complex", "dict", "divmod", "enumerate", "filter",
    "float", "format", "frozenset", "getattr", "hasattr", "hash", "hex", "id",
    "int", "isinstance", "issubclass", "iter", "len", "list", "map", "max",
    "min", "next", "object", "oct", "ord", "pow", "range", "repr",
    "reversed", "round", "set", "setattr", "delattr", "slice", "sorted",
    "str", "sum", "tuple", "type", "zip", "vars",
    "math", "cmath", "operator", "itertools", "functools.reduce",
    "functools.partial", "functools.cmp_to_key", "collections", "heapq",
    "bisect", "random", "string", "struct", "array", "decimal", "fractions",
    "numbers", "enum", "typing.cast", "colorsys", "keyword", "copy.copy",
    "fnmatch", "unicodedata", "dataclasses.replace", "dataclasses.field",
    "os.path.join", "os.path.basename", "os.path.dirname", "os.path.split",
    "os.path.splitext", "os.path.normpath", "os.path.normcase",
    "os.path.commonprefix", "os.fspath", "time.time", "time.monotonic",
    "time.perf_counter", "time.process_time", "time.time_ns",
    "time.monotonic_ns", "time.perf_counter_ns", "datetime", "calendar",
    "sys.getsizeof", "sys.intern", "csv", "uuid.uuid4", "uuid.UUID",
    "contextlib.suppress", "contextlib.nullcontext",
    *sorted(
        name for name, value in vars(builtins).items()
        if isinstance(value, type) and issubclass(value, BaseException)
    ),
)

# Method names that belong to builtin strings and containers and to no
# common blocking API: pure even on a receiver of unknown type.
PURE_METHODS = frozenset(
    {
        "split", "rsplit", "strip", "lstrip", "rstrip", "lower", "upper",
        "startswith", "endswith", "replace", "find", "rfind", "isdigit",
        "isalpha", "isalnum", "isspace", "isupper", "islower", "isnumeric",
        "isdecimal", "isidentifier", "format", "partition", "rpartition",
        "splitlines", "zfill", "ljust", "rjust", "center", "casefold",
        "title", "capitalize", "swapcase", "expandtabs", "removeprefix",
        "removesuffix", "encode", "decode", "bit_length", "is_integer",
        "conjugate", "append", "extend", "insert", "sort", "reverse",
        "index", "count", "remove", "items", "keys", "values", "setdefault",
        "popitem", "appendleft", "popleft", "union", "intersection",
        "difference", "symmetric_difference", "issubset", "issuperset",
        "isdisjoint", "copy", "discard",
    }
)

# Type names whose values are builtin data (an annotation `x: str`).
_DATA_TYPES = frozenset(
    {
        "str", "bytes", "bytearray", "int", "float", "complex", "bool", "list",
        "dict", "set", "frozenset", "tuple", "typing.List", "typing.Dict",
        "typing.Set", "typing.Tuple", "typing.Sequence", "typing.Mapping",
        "collections.deque", "collections.defaultdict", "collections.Counter",
        "collections.OrderedDict",
    }
)

# Concurrency kinds whose methods block or wait.
_WAITING_KINDS = frozenset(
    {
        api.THREAD, api.TIMER, api.LOCK, api.RLOCK, api.CONDITION, api.SEMAPHORE,
        api.EVENT, api.BARRIER, api.QUEUE, api.FUTURE, *api.EXECUTOR_KINDS,
    }
)

_ARITHMETIC = (
    cst.Add, cst.Subtract, cst.Multiply, cst.Divide, cst.FloorDivide, cst.Modulo,
    cst.Power, cst.LeftShift, cst.RightShift, cst.BitAnd, cst.BitOr, cst.BitXor,
    cst.MatrixMultiply,
)
_STRINGS = (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString)
_LITERALS = (
    *_STRINGS, cst.Integer, cst.Float, cst.Imaginary, cst.List, cst.Tuple, cst.Dict,
    cst.Set, cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp,
    cst.BinaryOperation,
)
_COMPREHENSIONS = (cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)


class Tables:
    """The built-in tables, with the configuration's entries over them."""

    def __init__(self, settings: Settings) -> None:
        self.builtin: dict[str, str] = {}
        for names, category in (
            (PURE_FUNCTIONS, PURE),
            (CPU_HEAVY_FUNCTIONS, CPU_HEAVY),
            (GIL_RELEASING_FUNCTIONS, GIL_RELEASING),
            (IO_FUNCTIONS, IO),
        ):
            for name in names:
                self.builtin[name] = category
        self.user: dict[str, str] = {}
        for names, category in (
            (settings.cpu_heavy_functions, CPU_HEAVY),
            (settings.gil_releasing_functions, GIL_RELEASING),
            (settings.io_functions, IO),
        ):
            for name in names:
                self.user[name.rstrip(".*")] = category

    def category(self, qualified: str, *, builtin: bool = True) -> str | None:
        """The category of the longest entry matching `qualified`, if any."""
        name = qualified
        while name:
            if name in self.user:
                return self.user[name]
            if builtin and name in self.builtin:
                return self.builtin[name]
            name = name.rpartition(".")[0]
        return None


# -- The summaries (plain, picklable data) -----------------------------------


@dataclass(frozen=True)
class Call:
    category: str  # IO, GIL_RELEASING, CPU_HEAVY, CALLEE or UNKNOWN
    name: str  # what is called: a qualified name, or the code as written
    in_loop: bool
    virtual: bool = False  # `self.m()`: a subclass may override m


@dataclass(frozen=True)
class Loop:
    depth: int  # 1 for an outermost loop of the function
    kind: str  # "for", "while", "comprehension"
    arithmetic: int
    strings: int
    floats: bool  # true division, a float or complex literal, complex()
    callees: tuple[str, ...]  # project functions called inside it
    heavy: tuple[str, ...]  # cpu-heavy functions called inside it


@dataclass(frozen=True)
class FunctionProfile:
    qualname: str
    asynchronous: bool = False
    generator: bool = False
    statements: int = 0
    arithmetic: int = 0
    strings: int = 0
    loops: tuple[Loop, ...] = ()
    calls: tuple[Call, ...] = ()  # every call except pure ones


@dataclass(frozen=True)
class ClassFacts:
    bases: tuple[str | None, ...]  # qualified; None where not a name
    methods: tuple[str, ...]


@dataclass(frozen=True)
class SpawnSite:
    line: int
    col: int
    end_line: int
    end_col: int
    api: str  # "threading.Thread", "executor.submit", ...
    shown: str  # the target as written
    target: Call | None  # the callable, classified like a call of it
    inline: FunctionProfile | None  # a lambda's body
    repeated: bool  # many tasks at once: a pool's map, or submitted in a loop


@dataclass
class ModuleProfile:
    functions: dict[str, FunctionProfile] = field(default_factory=dict)
    classes: dict[str, ClassFacts] = field(default_factory=dict)
    ambiguous: set[str] = field(default_factory=set)  # defined more than once
    spawns: list[SpawnSite] = field(default_factory=list)


# -- Collection ------------------------------------------------------------

FunctionNode = Union[cst.FunctionDef, cst.Lambda]


@register_collector("cpu")
def collect(ctx: ModuleContext, settings: Settings) -> ModuleProfile:
    if settings.free_threaded or not settings.is_selected("TL401"):
        return ModuleProfile()  # TL401 is off: spare the work
    return _Collector(ctx, Tables(settings)).run()


def profile_file(path: str, module_name: str, settings: Settings) -> ModuleProfile | None:
    """Profile a module the per-file pass skipped (no concurrency signal)."""
    try:
        module = cst.parse_module(read_regular_file(path))
    except (OSError, cst.ParserSyntaxError, SyntaxError, UnicodeDecodeError, LookupError):
        return None
    return _Collector(ModuleContext(path, module, module_name), Tables(settings)).run(
        spawns=False
    )


class _Collector:
    def __init__(self, ctx: ModuleContext, tables: Tables) -> None:
        self.ctx = ctx
        self.tables = tables
        self.profile = ModuleProfile()
        self.relative = _relative_imports(ctx)
        # Names defined by `def`/`class` at module level.
        self.module_defs: set[str] = set()
        self._qualnames: dict[cst.CSTNode, str] = {}

    def run(self, spawns: bool = True) -> ModuleProfile:
        scopes = [n for n in self.ctx.bindings if isinstance(n, (cst.FunctionDef, cst.ClassDef))]
        for node in scopes:
            if self.ctx.enclosing_scope(node) is self.ctx.module:
                self.module_defs.add(node.name.value)
        for node in scopes:
            qualname = self.qualname_of(node)
            if isinstance(node, cst.ClassDef):
                info = self.ctx.classes[node]
                self._store(self.profile.classes, qualname, ClassFacts(
                    tuple(self.global_name(b) if b else None for b in info.bases),
                    tuple(info.methods),
                ))
            else:
                scanner = _Scanner(self, node, qualname)
                walk(node.body, scanner)
                self._store(self.profile.functions, qualname, scanner.result())
        if spawns:
            self._collect_spawns()
        return self.profile

    def _store(self, table: dict, key: str, value: object) -> None:
        if key in table:
            self.profile.ambiguous.add(key)
        table[key] = value

    def qualname_of(self, node: cst.FunctionDef | cst.ClassDef) -> str:
        if node not in self._qualnames:
            names = [node.name.value]
            for ancestor in self.ctx.ancestors(node):
                if isinstance(ancestor, (cst.FunctionDef, cst.ClassDef)):
                    names.append(ancestor.name.value)
            prefix = [self.ctx.module_name] if self.ctx.module_name else []
            self._qualnames[node] = ".".join([*prefix, *reversed(names)])
        return self._qualnames[node]

    def global_name(self, qualified: str) -> str | None:
        """A module-level name as the project knows it: `Base` is `pkg.mod.Base`."""
        head = qualified.partition(".")[0]
        if head in self.module_defs and head not in self.ctx.imports and self.ctx.module_name:
            return f"{self.ctx.module_name}.{qualified}"
        return self.absolute(qualified)

    def absolute(self, qualified: str) -> str | None:
        """`qualified` with a relative import of this module resolved."""
        head, _, rest = qualified.partition(".")
        if head in self.relative:  # `m.f` after `from . import m`
            return f"{self.relative[head]}.{rest}" if rest else self.relative[head]
        return None if qualified.startswith(".") else qualified

    # -- spawn sites ---------------------------------------------------------

    def _collect_spawns(self) -> None:
        for node in self.ctx.parents:
            if isinstance(node, cst.Call):
                spawn = find_spawn(self.ctx, node)
                if spawn is None or not spawn.confident or spawn.api == "future.add_done_callback":
                    continue
                if self._in_test(node):
                    continue
                repeated = spawn.repeats or self._in_loop(node)
                self._add_spawn(spawn.api, spawn.target, repeated)

    def _in_test(self, node: cst.CSTNode) -> bool:
        """Inside a test (`test_*` / `testFoo`, as pytest and unittest collect
        them): tests start threads to provoke races or to exercise threading
        itself, not to go faster."""
        return any(
            isinstance(ancestor, cst.FunctionDef) and ancestor.name.value.startswith("test")
            for ancestor in self.ctx.ancestors(node)
        )

    def _in_loop(self, node: cst.CSTNode) -> bool:
        """Whether `node` runs in a loop of its function (a pool fed one task at a time)."""
        for ancestor in self.ctx.ancestors(node):
            if isinstance(ancestor, (cst.FunctionDef, cst.Lambda)):
                return False
            if isinstance(ancestor, (cst.For, cst.While, *_COMPREHENSIONS)):
                return True
        return False

    def _add_spawn(self, api_name: str, written: cst.BaseExpression, repeated: bool) -> None:
        target = unwrap_target(self.ctx, written)
        inline: FunctionProfile | None = None
        call: Call | None = None
        if isinstance(target, cst.Lambda):
            scanner = _Scanner(self, target, "<lambda>")
            walk(target.body, scanner)
            inline = scanner.result()
            if _hopeless(inline):
                return
        elif isinstance(target, (cst.Name, cst.Attribute)):
            category, name, virtual = self.classify_callable(target, target)
            if category not in (CALLEE, CPU_HEAVY):
                return  # I/O, GIL-releasing or unknown: nothing to report
            local = self.profile.functions.get(name)
            if local is not None and _hopeless(local):
                return
            call = Call(category, name, False, virtual)
        else:
            return
        # Positions cost more than the parse: only for the few spawns that may be reported.
        pos = self.ctx.position(written)
        self.profile.spawns.append(SpawnSite(
            pos.start.line, pos.start.column + 1, pos.end.line, pos.end.column + 1,
            api_name, shortened(self.ctx.code_for(written), 60), call, inline, repeated,
        ))

    # -- classifying what a call calls -----------------------------------------

    def classify_callable(
        self, func: cst.BaseExpression, at: cst.CSTNode, depth: int = 0
    ) -> tuple[str, str, bool]:
        """(category, name, virtual) of calling the expression `func`."""
        if isinstance(func, cst.Name):
            return self._classify_name(func.value, at)
        if isinstance(func, cst.Attribute):
            return self._classify_attribute(func, at, depth)
        return UNKNOWN, "(an expression)", False

    def _classify_name(self, name: str, at: cst.CSTNode) -> tuple[str, str, bool]:
        scope = self._local_scope_binding(name, at)
        if scope is not None:
            nested = _nested_def(scope, name)
            if nested is not None:
                return CALLEE, self.qualname_of(nested), False
            return UNKNOWN, name, False
        if name in self.relative:
            return self._classify_qualified(self.relative[name])
        if name in self.ctx.imports:
            qualified = self.absolute(self.ctx.imports[name])
            if qualified is None:
                return UNKNOWN, name, False
            return self._classify_qualified(qualified)
        if name in self.module_defs:
            local = f"{self.ctx.module_name}.{name}" if self.ctx.module_name else name
            return self.tables.category(local, builtin=False) or CALLEE, local, False
        if self.ctx.bindings.get(self.ctx.module, {}).get(name):
            return UNKNOWN, name, False  # a module-level variable holding a callable
        return self.tables.category(name) or UNKNOWN, name, False

    def _classify_qualified(self, qualified: str) -> tuple[str, str, bool]:
        return self.tables.category(qualified) or CALLEE, qualified, False

    def _classify_attribute(
        self, func: cst.Attribute, at: cst.CSTNode, depth: int
    ) -> tuple[str, str, bool]:
        method = func.attr.value
        receiver = func.value
        if isinstance(receiver, cst.Name) and receiver.value in ("self", "cls"):
            cls = self.ctx.enclosing_class(func)
            if cls is not None and self._local_scope_binding(receiver.value, at) is not None:
                if method in self.ctx.classes[cls].attrs:
                    return UNKNOWN, f"self.{method}", False  # a callable attribute
                qualified = f"{self.qualname_of(cls)}.{method}"
                return self.tables.category(qualified, builtin=False) or CALLEE, qualified, True
        dotted = dotted_name(func)
        if dotted is not None:
            head = dotted.split(".")[0]
            is_local = self._local_scope_binding(head, at) is not None
            if not is_local and (head in self.ctx.imports or head in self.relative):
                written = dotted if head in self.relative else self.ctx.qualname(func)
                imported = self.absolute(written or dotted)
                if imported is not None:
                    return self._classify_qualified(imported)
            if not is_local and head in self.module_defs and "." not in dotted[len(head) + 1:]:
                local = f"{self.ctx.module_name}.{dotted}" if self.ctx.module_name else dotted
                return self.tables.category(local, builtin=False) or CALLEE, local, False
        shown = dotted_name(func) or f"(...).{method}"
        category, of = self.value_category(receiver, at, depth + 1)
        if category == CALLEE and of is not None:
            # A method of an instance of a project class: `obj = Cls(); obj.m()`.
            return CALLEE, f"{of}.{method}", False
        if category in (IO, GIL_RELEASING, CPU_HEAVY, PURE):
            return category, shown if category != PURE else method, False
        kind = self.ctx.kind_of(receiver)
        if kind in _WAITING_KINDS:
            return IO, shown, False
        if kind == api.DEQUE or method in PURE_METHODS:
            return PURE, method, False
        return UNKNOWN, shown, False

    def value_category(
        self, expr: cst.BaseExpression, at: cst.CSTNode, depth: int
    ) -> tuple[str | None, str | None]:
        """What kind of object `expr` is: (category, class qualname for CALLEE)."""
        if depth > 4:
            return None, None
        if isinstance(expr, _LITERALS):
            return PURE, None
        if isinstance(expr, cst.Call):
            category, name, _ = self.classify_callable(expr.func, at, depth + 1)
            if category == CALLEE:
                return CALLEE, name
            return (category if category != UNKNOWN else None), None
        bindings = None
        if isinstance(expr, cst.Name):
            bindings = self.ctx.bindings_of(expr.value, at)
        elif isinstance(expr, cst.Attribute):
            bindings = self.ctx.self_attr_bindings(expr)
        if not bindings:
            return None, None
        found: set[tuple[str | None, str | None]] = set()
        for binding in bindings:
            if binding.value is not None:
                if is_none(binding.value):
                    continue
                found.add(self.value_category(binding.value, binding.value, depth + 1))
            elif binding.annotation is not None:
                found.add(self._annotation_category(binding.annotation))
            else:
                found.add((None, None))
        return found.pop() if len(found) == 1 else (None, None)

    def _annotation_category(self, annotation: cst.BaseExpression) -> tuple[str | None, None]:
        if isinstance(annotation, cst.Subscript):
            annotation = annotation.value
        qualified = self.ctx.qualname(annotation)
        return (PURE if qualified in _DATA_TYPES else None), None

    def _local_scope_binding(self, name: str, at: cst.CSTNode) -> FunctionNode | None:
        """The enclosing function or lambda that binds `name` locally, if any."""
        for ancestor in self.ctx.ancestors(at):
            if isinstance(ancestor, (cst.FunctionDef, cst.Lambda)):
                if name in self.ctx.globals_declared.get(ancestor, set()):
                    return None
                if name in self.ctx.bindings.get(ancestor, {}) or _nested_def(ancestor, name):
                    return ancestor
        return None


def _hopeless(profile: FunctionProfile) -> bool:
    """Whether this body alone shows it is not CPU-bound work TL401 can report."""
    if profile.asynchronous or profile.generator:
        return True
    if any(c.category in (IO, GIL_RELEASING, UNKNOWN) for c in profile.calls):
        return True
    return not profile.loops and not any(c.category in (CALLEE, CPU_HEAVY) for c in profile.calls)


def _nested_def(scope: FunctionNode, name: str) -> cst.FunctionDef | None:
    if not isinstance(scope, cst.FunctionDef) or not isinstance(scope.body, cst.IndentedBlock):
        return None
    for statement in scope.body.body:
        if isinstance(statement, cst.FunctionDef) and statement.name.value == name:
            return statement
    return None


@dataclass
class _OpenLoop:
    kind: str
    arithmetic: int = 0
    strings: int = 0
    floats: bool = False
    callees: list[str] = field(default_factory=list)
    heavy: list[str] = field(default_factory=list)


# Loops and comprehensions: the nodes whose body runs many times.
_LOOP_KINDS: dict[type, str] = {
    cst.For: "for",
    cst.While: "while",
    cst.ListComp: "comprehension",
    cst.SetComp: "comprehension",
    cst.DictComp: "comprehension",
    cst.GeneratorExp: "comprehension",
}


class _Scanner(cst.CSTVisitor):
    """The profile of one function body (nested defs and classes excluded)."""

    def __init__(self, owner: _Collector, node: FunctionNode, qualname: str) -> None:
        super().__init__()
        self.owner = owner
        self.node = node
        self.qualname = qualname
        self.asynchronous = isinstance(node, cst.FunctionDef) and node.asynchronous is not None
        self.generator = False
        self.statements = 0
        self.arithmetic = 0
        self.strings = 0
        self.calls: list[Call] = []
        self.loops: list[Loop] = []
        self._open: list[_OpenLoop] = []  # loops being visited, innermost last

    def result(self) -> FunctionProfile:
        return FunctionProfile(
            self.qualname, self.asynchronous, self.generator, self.statements,
            self.arithmetic, self.strings, tuple(self.loops), tuple(self.calls),
        )

    # Nested definitions run only when called: they have their own profile.
    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return False

    def visit_Raise(self, node: cst.Raise) -> bool:
        return False

    def visit_Yield(self, node: cst.Yield) -> None:
        self.generator = True

    def visit_Await(self, node: cst.Await) -> None:
        self.asynchronous = True

    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        self.statements += len(node.body)

    def visit_BaseCompoundStatement(self, node: cst.BaseCompoundStatement) -> None:
        self.statements += 1

    # -- loops ---------------------------------------------------------------

    def _enter(self, kind: str) -> None:
        self._open.append(_OpenLoop(kind))

    def _leave(self) -> None:
        loop = self._open.pop()
        if not (loop.arithmetic or loop.strings or loop.callees or loop.heavy):
            return
        self.loops.append(Loop(
            len(self._open) + 1, loop.kind, loop.arithmetic, loop.strings, loop.floats,
            tuple(loop.callees), tuple(loop.heavy),
        ))
        # Work in an inner loop is work of the loops around it too.
        for outer in self._open:
            outer.arithmetic += loop.arithmetic
            outer.strings += loop.strings
            outer.floats = outer.floats or loop.floats

    def on_visit(self, node: cst.CSTNode) -> bool:
        kind = _LOOP_KINDS.get(type(node))
        if kind is not None:
            self._enter(kind)
        return super().on_visit(node)

    def on_leave(self, original_node: cst.CSTNode) -> None:
        super().on_leave(original_node)
        if type(original_node) in _LOOP_KINDS:
            self._leave()

    # -- work ----------------------------------------------------------------

    def _count(self, key: str, floats: bool = False) -> None:
        loop = self._open[-1] if self._open else None
        if key == "arithmetic":
            self.arithmetic += 1
            if loop is not None:
                loop.arithmetic += 1
                loop.floats = loop.floats or floats
        else:
            self.strings += 1
            if loop is not None:
                loop.strings += 1

    def visit_BinaryOperation(self, node: cst.BinaryOperation) -> None:
        if not isinstance(node.operator, _ARITHMETIC):
            return
        if isinstance(node.operator, (cst.Add, cst.Modulo)) and (
            isinstance(node.left, _STRINGS) or isinstance(node.right, _STRINGS)
        ):
            self._count("strings")
            return
        floats = isinstance(node.operator, cst.Divide) or any(
            isinstance(side, (cst.Float, cst.Imaginary)) for side in (node.left, node.right)
        )
        self._count("arithmetic", floats)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        if isinstance(node.operator, (cst.AddAssign, cst.SubtractAssign)) and isinstance(
            node.value, cst.Integer
        ):
            return  # a counter (`n += 1`) is bookkeeping, also of loops that wait
        if isinstance(node.value, _STRINGS):
            self._count("strings")
        else:
            self._count("arithmetic", isinstance(node.value, (cst.Float, cst.Imaginary)))

    def visit_FormattedString(self, node: cst.FormattedString) -> None:
        self._count("strings")

    def visit_With(self, node: cst.With) -> None:
        for item in node.items:
            if isinstance(item.item, cst.Call):
                continue  # classified as a call
            kind = self.owner.ctx.kind_of(item.item)
            category = IO if kind in _WAITING_KINDS else UNKNOWN
            self._record(category, dotted_name(item.item) or "(a context manager)", item.item)

    def visit_Call(self, node: cst.Call) -> None:
        category, name, virtual = self.owner.classify_callable(node.func, node)
        if category == PURE:
            if name in ("join", "format"):
                self._count("strings")
            elif name == "complex" and self._open:
                self._open[-1].floats = True
            self._higher_order(node, name)
            return
        self._record(category, name, node, virtual)

    def _higher_order(self, node: cst.Call, name: str) -> None:
        """`map(f, xs)`, `sorted(xs, key=f)`: the function passed is called too."""
        passed: list[cst.BaseExpression] = []
        for arg in node.args:
            if arg.keyword is not None and arg.keyword.value == "key":
                passed.append(arg.value)
        if name in ("map", "filter", "functools.reduce") and node.args:
            passed.append(node.args[0].value)
        for function in passed:
            if isinstance(function, (cst.Name, cst.Attribute)):
                category, called, virtual = self.owner.classify_callable(function, node)
                if category != PURE:
                    self._record(category, called, node, virtual)

    def _record(self, category: str, name: str, node: cst.CSTNode, virtual: bool = False) -> None:
        in_loop = bool(self._open)
        if in_loop and category == CALLEE:
            self._open[-1].callees.append(name)
        elif in_loop and category == CPU_HEAVY:
            self._open[-1].heavy.append(name)
        self.calls.append(Call(category, name, in_loop, virtual))


def _relative_imports(ctx: ModuleContext) -> dict[str, str]:
    """Local names bound by `from .m import f` / `from . import m`, made absolute."""
    package = ctx.module_name
    if not ctx.path.endswith("__init__.py"):
        package = package.rpartition(".")[0]
    out: dict[str, str] = {}
    for node in _statements(ctx.module):
        if isinstance(node, cst.ImportFrom) and node.relative:
            out.update(import_bindings(node, package))
    return out


# Nodes that hold statements (not expressions) below a module.
_STATEMENT_HOLDERS = (
    cst.BaseCompoundStatement, cst.SimpleStatementLine, cst.BaseSuite, cst.ExceptHandler,
    cst.ExceptStarHandler, cst.Else, cst.Finally, cst.MatchCase,
)


def _statements(node: cst.CSTNode) -> Iterator[cst.BaseSmallStatement]:
    """Every small statement below `node`, through compound statements."""
    for child in children(node):
        if isinstance(child, cst.BaseSmallStatement):
            yield child
        elif isinstance(child, _STATEMENT_HOLDERS):
            yield from _statements(child)

