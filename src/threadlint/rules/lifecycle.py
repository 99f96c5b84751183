"""TL2xx: thread and executor lifecycle — how threads are created, run and ended."""

from __future__ import annotations

from collections.abc import Sequence

import libcst as cst

from threadlint.analysis import lifecycle_facts as facts
from threadlint.analysis import threading_api as api
from threadlint.analysis.calls import argument, has_keyword
from threadlint.analysis.cannot_raise import CannotRaise, is_docstring
from threadlint.analysis.context import ModuleContext, catches_all, dotted_name, is_none
from threadlint.analysis.locks import method_call_on, small_statements
from threadlint.analysis.spawn import find_spawn, unwrap_target
from threadlint.analysis.stop_protocol import (
    StopEvidence,
    is_stop_name,
    shares_state,
    stop_evidence,
)
from threadlint.analysis.test_code import in_test_code
from threadlint.analysis.thread_lifetime import lifetime, timer_seconds
from threadlint.analysis.walk import children, executed
from threadlint.diagnostics import Edit, Fix
from threadlint.printable import shortened
from threadlint.rules.base import FileRule, register
from threadlint.stdlib_modules import stdlib_module_names

# A Timer in test code with a constant delay shorter than this is a test's helper.
_TEST_TIMER_SECONDS = 60

# Where each thread-starting API takes its argument tuple: (position, keyword).
_ARGS_PARAMETER = {
    "threading.Thread": (3, "args"),
    "threading.Timer": (2, "args"),
    "_thread.start_new_thread": (1, "args"),
    "_thread.start_new": (1, "args"),
    "multiprocessing.Process": (3, "args"),
}
_POOL_ARGS_METHODS = ("apply", "apply_async")

# Expressions that already are (or make) a sequence of arguments.
_SEQUENCES = (cst.Tuple, cst.List, cst.ListComp, cst.GeneratorExp)


@register
class ThreadArgsNotTuple(FileRule):
    """
    ## What it does
    Flags an `args=` argument of `Thread`, `Timer`, `_thread.start_new_thread`,
    `multiprocessing.Process` and pool `apply`/`apply_async` that is not a
    tuple: `args=(x)`, or a bare string or number.

    ## Why is this bad?
    Parentheses without a comma are not a tuple: `(url)` is just `url`. The
    thread unpacks `args` with `*args`, so a string is split into one
    argument per character (`TypeError: takes 1 positional argument but 23
    were given`, raised in the new thread where nobody sees it), and a number
    fails with `TypeError: argument after * must be an iterable`.

    ## Example
    ```python
    t = threading.Thread(target=download, args=(url))
    ```

    ## Use instead
    ```python
    t = threading.Thread(target=download, args=(url,))
    ```

    ## Fix
    `--fix` adds the trailing comma: `args=(url)` becomes `args=(url,)` and
    `args="abc"` becomes `args=("abc",)`.

    ## How to suppress
    `# noqa: TL203` on the line.

    ## Known limits
    A parenthesised name bound to a tuple or list in the same function is
    not flagged; one whose value cannot be seen (a parameter, an attribute)
    is, since the parentheses show the tuple was meant to be written there.
    """

    code = "TL203"
    name = "thread-args-not-tuple"
    summary = "`args=` is not a tuple: `(x)` needs a trailing comma, `(x,)`"
    fixable = True

    def visit_Call(self, node: cst.Call) -> None:
        value = self._args_value(node)
        if value is None or not self._is_mistake(value):
            return
        shown = self.ctx.code_for(_strip_parens(value))
        written = f"({shown})" if value.lpar else shown
        self.report(
            value,
            f"`args` is `{shortened(written)}`, not a tuple: it is unpacked with `*`, "
            f"so the thread gets the wrong arguments; write `({shortened(shown)},)`",
            fix=self._fix(node, value, shown),
        )

    def _args_value(self, node: cst.Call) -> cst.BaseExpression | None:
        qualified = self.ctx.qualname(node.func)
        if qualified in _ARGS_PARAMETER:
            position, keyword = _ARGS_PARAMETER[qualified]
            return argument(node, position, keyword)
        if self.ctx.kind_of_type(node.func) in api.THREAD_KINDS:
            # A Thread subclass without its own __init__ takes Thread's signature.
            local = self.ctx.classes_by_name.get(qualified or "")
            if local is not None and "__init__" not in self.ctx.classes[local].methods:
                return argument(node, 3, "args")
            return None
        if (
            isinstance(node.func, cst.Attribute)
            and node.func.attr.value in _POOL_ARGS_METHODS
            and self.ctx.kind_of(node.func.value) in (api.THREAD_POOL, api.PROCESS_POOL)
        ):
            return argument(node, 1, "args")
        return None

    def _is_mistake(self, value: cst.BaseExpression) -> bool:
        if isinstance(value, (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString)):
            return True
        if isinstance(value, (cst.Integer, cst.Float, cst.Imaginary)):
            return True
        if not value.lpar or isinstance(value, _SEQUENCES):
            return False
        if isinstance(value, cst.Name):
            if value.value == "None":
                return False
            return not self._bound_to_sequence(value)
        return isinstance(value, (cst.Attribute, cst.Subscript, cst.BinaryOperation))

    def _bound_to_sequence(self, name: cst.Name) -> bool:
        bindings = self.ctx.bindings_of(name.value, name)
        return any(
            isinstance(b.value, _SEQUENCES)
            or (isinstance(b.value, cst.Call) and self.ctx.qualname(b.value.func) in ("tuple", "list"))
            for b in bindings
        )

    def _fix(self, call: cst.Call, value: cst.BaseExpression, shown: str) -> Fix:
        # Positions exclude a node's own parentheses, so the edit rewrites the
        # whole call, regenerated by libcst with only this argument changed.
        element = cst.Element(_strip_parens(value), comma=cst.Comma())
        if value.lpar:  # keep the user's parentheses, and any comments inside them
            one_tuple = cst.Tuple(elements=[element], lpar=value.lpar, rpar=value.rpar)
        else:
            one_tuple = cst.Tuple(elements=[element])
        new_args = [
            arg.with_changes(value=one_tuple) if arg.value is value else arg for arg in call.args
        ]
        pos = self.ctx.position(call)
        text = self.ctx.code_for(call.with_changes(args=new_args))
        edit = Edit(pos.start.line, pos.start.column + 1, pos.end.line, pos.end.column + 1, text)
        return Fix("make `args` a one-element tuple", (edit,))


def _strip_parens(node: cst.BaseExpression) -> cst.BaseExpression:
    if node.lpar:
        return node.with_changes(lpar=[], rpar=[])
    return node



# -- shared by the thread rules ---------------------------------------------------


def _line(ctx: ModuleContext, node: cst.CSTNode) -> int:
    return ctx.position(node).start.line


def _thread_creations(ctx: ModuleContext, holder: cst.BaseExpression) -> list[cst.Call] | None:
    """The constructor calls that create the thread `holder` refers to.

    None when some binding of the holder is not a visible constructor (a
    parameter, a value from elsewhere): the thread was not created here.
    """
    if isinstance(holder, cst.Call):
        return [holder]
    if isinstance(holder, cst.Name):
        bindings = ctx.bindings_of(holder.value, holder)
    elif isinstance(holder, cst.Attribute):
        found = ctx.self_attr_bindings(holder)
        if found is None:
            return None
        bindings = found
    else:
        return None
    creations: list[cst.Call] = []
    for binding in bindings:
        value = binding.value
        if is_none(value):
            continue
        if not (isinstance(value, cst.Call) and ctx.kind_of_type(value.func) in api.THREAD_KINDS):
            return None
        if isinstance(ctx.parent(value), cst.WithItem):
            return None  # `with Worker() as w:` — the class's __exit__ may join it
        creations.append(value)
    return creations or None


def _started_thread(ctx: ModuleContext, call: cst.Call) -> cst.BaseExpression | None:
    """The receiver of `X.start()` when X is a Thread or Timer."""
    func = call.func
    if not (isinstance(func, cst.Attribute) and func.attr.value == "start"):
        return None
    if ctx.kind_of(func.value) not in api.THREAD_KINDS:
        return None
    return func.value


def _shown(ctx: ModuleContext, node: cst.CSTNode) -> str:
    return shortened(ctx.code_for(node))


@register
class ThreadNeverJoined(FileRule):
    """
    ## What it does
    Flags the `.start()` of a `Thread` or `Timer` that is not a daemon,
    that nothing in the module joins (no `join()` on the variable, on the
    `self` attribute it is kept in, from any method of the class, or on the
    elements of the list or dict it was added to; `Thread(...).start()` on
    a thread that is never named is never joined), and that can hold up
    interpreter exit: its body runs a loop that nothing ends, serves
    (`serve_forever()`), waits with no timeout (`queue.get()`,
    `event.wait()`), sleeps for more than a second, or it is a `Timer` of
    more than a second. The message names that evidence.

    ## Why is this bad?
    Python waits for every non-daemon thread before the interpreter exits.
    A forgotten thread that loops or waits keeps the program alive after
    the main thread has finished (a hung CLI, a test run that never ends),
    and a long `Timer` delays exit until it fires.

    ## Example
    ```python
    class Poller(threading.Thread):
        def run(self):
            while True:
                poll()

    Poller().start()
    ```

    ## Use instead
    ```python
    Poller(daemon=True).start()
    ```
    A background thread can be a daemon: `Thread(target=poll, daemon=True)`,
    `t.daemon = True`, `self.daemon = True` in a subclass's `__init__`, or
    `daemon = True` in the subclass's body. A thread made with an explicit
    `daemon=False` is not reported: the author asked for a thread that
    keeps the process alive (a supervisor or job runner that a signal
    ends; two such threads of mlflow were judged false on real code).

    ## How to suppress
    `# noqa: TL201` on the line of the `.start()` call.

    ## Known limits
    Only what one module shows is used. A thread that escapes the code that
    made it (returned, passed to a call, stored on another object, kept in
    a list that is itself handed on) is assumed to be joined elsewhere and
    not reported. `join(timeout)` counts as a join, a `Timer` that is
    `cancel()`ed on some path counts as handled, and a join on any path
    counts (joining only the last thread of a loop is not detected). A
    thread subclass that hands `self` to somebody in its methods
    (`registry.add(self)`) is assumed to be joined by them.

    A thread whose body does none of the above is a one-shot job (a flush
    started off-thread, a clean-up, one update of many started by a loop, a
    test's helper that sleeps a moment and releases a lock): it ends by
    itself when its calls return, and is not reported, once or in a loop
    (four such loops of real code were all judged debatable: exit waits at
    most for the work in flight). Nor is a thread whose body the module does not
    show (an imported function, a method of an object of unknown type),
    unless its target is a serving method (`server.serve_forever`) or a
    blocking wait (`event.wait`): it gives no evidence either way. The body
    is followed into the functions and methods of the module it calls, a
    few calls deep; a call that blocks inside another module is not seen.

    A thread ended by a stop protocol is handled, not forgotten, in library
    and test code alike, even when the module does not show who calls the
    stop (its caller may be in another module):

    - its loop tests a flag or an `Event` (`while not self._stop.is_set():`,
      `while self.running:`, `while not exit_flag:`, `if done.wait(1):
      break`) that another function of the module, whatever its name
      (`stop()`, `unsubscribe()`, a command handler), changes: it assigns
      the flag a value that ends the loop, or sets the Event. The flag or
      Event may be an attribute (matched by name), a global, a variable of
      an enclosing function, or (an Event, not a flag: a flag passed is a
      copy) an argument the thread was started with (`args=(self._done,)`);
    - its loop returns on a sentinel taken from its queue (`if item is
      None: return`, `iter(q.get, STOP)`, a quit message), and the module
      puts that sentinel on that queue, inside a loop or more than once
      when several threads are started in a loop (one for each);
    - it waits with no timeout (`event.wait()`, `queue.get()`) on an object
      another function of the module releases (`set()`, `put()`), or whose
      `set` it hands on: `atexit.register(done.set)` and
      `threading._register_atexit(done.set)` release it at exit;
    - a stop method of the class (`stop()`, `close()`, `shutdown()`,
      `__exit__`, ...) puts on a queue, sets an Event or assigns a flag its
      loop reads;
    - it keeps a handle on itself (`self._thread =
      threading.current_thread()`) that the module joins (in `close()`,
      `__del__`);
    - its target is a method of another object (`server.serve_forever`) on
      which the module calls a stop method (`server.shutdown()`,
      `addfinalizer(server.stop)`) — the same variable, not a local of the
      same name in another function — or which the function hands on
      (returns, yields, stores), so that whoever receives it can stop it.

    A loop that reads until its input ends is not one that nothing ends:
    it leaves on an end-of-input exception (`except EOFError: break`,
    `except OSError: return`, a closed connection, `queue.Empty`), inside
    it or around it, or on an empty read (`if not data: break` after
    `data = sock.recv(n)`). It ends when its peer does. A loop that leaves
    on any exception (`except Exception: break`) is still reported, and so
    is one that breaks on a value of unknown meaning.

    Once a loop is ended, by a stop or by the end of its input, the loops
    and sleeps inside it (and in the functions it calls) only pace it
    (`time.sleep(10)` between passes) and are no evidence of their own;
    its blocking waits still are, unless released as above. A stop is not
    checked to be reachable (a `stop()` nothing ever calls still counts),
    and a flag tested in a comparison (`while self.state != "closed":`)
    counts as ended by any assignment elsewhere.

    A `Timer` with a constant interval of at most one second is not
    reported: it runs its function and ends by itself, so exit waits for it
    no longer than that. In test code, the same holds for a constant
    interval shorter than a minute (`Timer(3, stop.set).start()`): the test
    usually waits for what the timer does, and the run ends at most that
    much later.

    A `Timer` whose `cancel()` comes later in the same block (or in the
    body of a `with` there, such as `with lock:`), after a step that can
    raise and outside `try/finally`, is reported too: an exception skips
    the cancel, and the non-daemon timer still fires and holds up
    interpreter exit until it does. The message names that step and the
    delay. Not in test code, where the exception fails the test already.
    """

    code = "TL201"
    name = "thread-never-joined"
    summary = "A non-daemon thread is started and never joined"

    def visit_Call(self, node: cst.Call) -> None:
        receiver = _started_thread(self.ctx, node)
        if receiver is None:
            return
        creations = _thread_creations(self.ctx, receiver)
        if creations is None:
            return
        if any(
            facts.constructor_daemon(self.ctx, c) or facts.chose_non_daemon(c) for c in creations
        ):
            return
        cls = facts.local_thread_class(self.ctx, creations[0].func)
        if facts.publishes_self(self.ctx, cls) or facts.in_thread_helper(self.ctx, node):
            return
        what = "timer" if self.ctx.kind_of(receiver) == api.TIMER else "thread"
        if isinstance(receiver, cst.Call):
            if stop_evidence(self.ctx, receiver, cls) is None:
                self._report_lasting(node, what, f"`{_shown(self.ctx, receiver)}`", receiver, cls, unnamed=True)
            return
        holder = facts.holder_occurrences(self.ctx, receiver)
        if holder is None:
            return
        label, occurrences = holder
        life = lifetime(self.ctx, creations[0], cls)
        if (
            what == "timer"
            and life is not None
            and life.long
            and self._cancelled_on_normal_path_only(node, label, occurrences, life.why)
        ):
            return
        fate = facts.ThreadFate(self.ctx, facts.ThreadMethods(self.ctx, cls))
        if fate.holder_handled(occurrences):
            return
        if stop_evidence(self.ctx, creations[0], cls) or self._stop_called(cls, occurrences):
            return
        created = ", ".join(str(_line(self.ctx, c)) for c in creations)
        where = f"created line {created}"
        if fate.containers:
            where += ", kept in " + ", ".join(f"`{c}`" for c in fate.containers)
        by = " by any method of the class" if label.startswith("self.") else ""
        self._report_lasting(node, what, f"`{label}` ({where})", creations[0], cls, by=by)

    def _report_lasting(
        self,
        start: cst.Call,
        what: str,
        subject: str,
        creation: cst.Call,
        cls: cst.ClassDef | None,
        unnamed: bool = False,
        by: str = "",
    ) -> None:
        """Report an unended thread that can hold up exit: one whose body
        can run for long (the message names the loop, wait, sleep or delay).
        A one-shot thread ends by itself (a flush, a clean-up, a test's
        helper), one whose body is not visible gives no evidence either
        way, and one whose loops and waits the module ends (a flag, an Event or a sentinel it sends, a join of the handle
        the thread keeps on itself) is handled: none of them is reported."""
        ending = "joined or cancelled" if what == "timer" else "joined"
        kept = ": no reference to it is kept" if unnamed else ""
        life = lifetime(self.ctx, creation, cls)
        if life is not None and life.ended_by is not None:
            return
        if what == "timer" and self._short_test_timer(start, creation):
            return
        if life is None or not life.long:
            return
        how_long = "until it fires" if what == "timer" else "as long as it runs (the program hangs at exit)"
        self.report(
            start,
            f"{what} {subject} is started but never {ending}{by} and is not a daemon{kept}, "
            f"and {life.why}: interpreter exit waits for it {how_long}; {_remedy(what)}",
        )

    def _short_test_timer(self, start: cst.Call, creation: cst.Call) -> bool:
        """A Timer of a constant delay shorter than a minute in test code: the
        test run ends at most that much later, and the test normally waits
        for what the timer does (`Timer(2, stop.set)` then `stop.wait()`)."""
        seconds = timer_seconds(self.ctx, creation)
        return (
            seconds is not None
            and seconds < _TEST_TIMER_SECONDS
            and in_test_code(self.ctx, start, self.settings.root)
        )

    def _stop_called(
        self, cls: cst.ClassDef | None, occurrences: Sequence[cst.BaseExpression]
    ) -> StopEvidence | None:
        if cls is None:
            return None
        methods = facts.ThreadMethods(self.ctx, cls).methods
        run = methods.get("run")
        if run is None:
            return None
        for occ in occurrences:
            use = facts.classify(self.ctx, occ)
            if use.kind != "call" or use.call is None or not is_stop_name(use.member):
                continue
            stop = methods.get(use.member)
            if stop is not None and shares_state(stop, run):
                return StopEvidence(f"`{_shown(self.ctx, use.call)}`", use.call)
        return None

    def _cancelled_on_normal_path_only(
        self, start: cst.Call, label: str, occurrences: Sequence[cst.BaseExpression], delay: str
    ) -> bool:
        """A local timer whose only ending is a `cancel()` later in the same
        block, with a step that can raise in between and no `finally`: an
        exception skips the cancel, and the non-daemon timer still fires
        (and holds up exit until it does). Reports it; True when reported.

        Not in test code: an exception there fails the test already, and the
        timer only delays the end of the run by its delay (a watchdog of a
        test's child process, cancelled after `p.join()`)."""
        if in_test_code(self.ctx, start, self.settings.root):
            return False
        uses = [facts.classify(self.ctx, occ) for occ in occurrences]
        cancels = [u.call for u in uses if u.kind == "call" and u.member == "cancel" and u.call]
        others = [
            u for u in uses
            if u.kind not in ("store", "test") and not (u.kind == "call" and u.member in ("cancel", "start"))
        ]
        if not cancels or others or "." in label:
            return False
        # A cancel in a `finally` or an `except` entered after the start runs
        # on the exception path; a `with` (`with lock: job(); t.cancel()`)
        # runs nothing of the body's on it.
        starts = set(self.ctx.ancestors(start))
        if any(
            isinstance(a, (cst.Finally, cst.ExceptHandler)) and a not in starts
            for cancel in cancels
            for a in self.ctx.ancestors(cancel)
        ):
            return False
        step = self._raising_step_before(start, cancels[0])
        if step is None:
            return False
        self.report(
            start,
            f"timer `{label}` is cancelled (line {_line(self.ctx, cancels[0])}) only on the "
            f"normal path: if `{_shown(self.ctx, step)}` (line {_line(self.ctx, step)}) raises, "
            f"the cancel is skipped, and {delay} and not a daemon: it still fires, and "
            f"interpreter exit waits until it does; cancel it in a `finally`",
        )
        return True

    def _raising_step_before(self, start: cst.Call, cancel: cst.Call) -> cst.CSTNode | None:
        """The first statement between the `start()` and the `cancel()` (in the
        start's block) that can raise; None if the cancel is not later in it."""
        statement: cst.CSTNode = start
        for ancestor in self.ctx.ancestors(start):
            if isinstance(ancestor, (cst.IndentedBlock, cst.Module)):
                break
            statement = ancestor
        block = self.ctx.parent(statement)
        if not isinstance(block, (cst.IndentedBlock, cst.Module)) or statement not in block.body:
            return None
        safe = CannotRaise(self.ctx, lambda receiver: False)
        body: list[cst.CSTNode] = list(block.body)
        following = body[body.index(statement) + 1 :]
        while following:
            step = following.pop(0)
            if facts.is_inside(self.ctx, cancel, step):
                if isinstance(step, cst.With) and isinstance(step.body, cst.IndentedBlock):
                    # `with lock: job(); timer.cancel()`: the body's steps come first.
                    following = list(step.body.body)
                    continue
                return None  # reached the cancel with nothing raising on the way
            if not safe.statement(step):
                return step
        return None


def _remedy(what: str) -> str:
    """How to end a forgotten thread or timer, in the message's words."""
    if what == "timer":
        return "`cancel()` it when it is no longer wanted, or make it a daemon"
    return "`join()` it, or pass `daemon=True` if it may be cut off at exit"


@register
class RunCalledDirectly(FileRule):
    """
    ## What it does
    Flags `t.run()` where `t` is a `threading.Thread` or `Timer` (or an
    instance of a local `Thread` subclass).

    ## Why is this bad?
    `run()` is the thread's body, not a way to start it: calling it runs
    the body right here, in the calling thread, and no thread is ever
    started. The program still works, only serially, which hides the bug.

    ## Example
    ```python
    t = threading.Thread(target=download, args=(url,))
    t.run()
    ```

    ## Use instead
    ```python
    t = threading.Thread(target=download, args=(url,))
    t.start()
    ```

    ## How to suppress
    `# noqa: TL204` on the line (for instance a test that runs a thread's
    body synchronously on purpose).

    ## Known limits
    `self.run()` and `super().run()` inside a thread class are its own
    business and are never flagged. Objects whose type cannot be seen (a
    parameter without an annotation) are not checked.
    """

    code = "TL204"
    name = "run-called-directly"
    summary = "`t.run()` runs the thread's body in the calling thread; use `t.start()`"

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not (isinstance(func, cst.Attribute) and func.attr.value == "run"):
            return
        receiver = func.value
        if isinstance(receiver, cst.Name) and receiver.value in ("self", "cls"):
            return
        if isinstance(receiver, cst.Call) and self.ctx.qualname(receiver.func) == "super":
            return
        kind = self.ctx.kind_of(receiver)
        if kind not in api.THREAD_KINDS:
            return
        shown = _shown(self.ctx, receiver)
        creations = _thread_creations(self.ctx, receiver)
        evidence = ""
        call_start = ".start()" if isinstance(receiver, cst.Call) else f"{shown}.start()"
        if creations and not isinstance(receiver, cst.Call):
            evidence = f" (`{shown}` is a {kind} created line {_line(self.ctx, creations[0])})"
        self.report(
            node,
            f"`{shown}.run()` runs the {kind}'s body here, in the calling thread, and starts "
            f"no thread{evidence}: call `{call_start}`",
        )


@register
class ThreadStartedAtImport(FileRule):
    """
    ## What it does
    Flags a `Thread` or `Timer` started (or `_thread.start_new_thread`
    called) at module level, where it runs as a side effect of importing
    the module. Code under `if __name__ == "__main__":` and `__main__.py`
    files are scripts, not imports, and are not flagged.

    ## Why is this bad?
    Importing should not have side effects like starting threads: the
    import lock is held while the module body runs, so a thread that
    imports anything (even implicitly, e.g. via `str.encode` codecs or
    `time.strptime`) blocks until the import finishes, and deadlocks if
    the import waits for the thread. Importers (tests, tools, `pydoc`)
    also get a thread they never asked for.

    ## Example
    ```python
    # metrics.py
    _flusher = threading.Thread(target=flush_forever, daemon=True)
    _flusher.start()
    ```

    ## Use instead
    ```python
    _flusher = None

    def start_flushing():
        global _flusher
        _flusher = threading.Thread(target=flush_forever, daemon=True)
        _flusher.start()
    ```

    ## How to suppress
    `# noqa: TL208` on the line of the `.start()` call.

    ## Known limits
    Whether a module is imported or run as a script is not known; only the
    `__main__` guard and `__main__.py` tell. Threads started in a function
    that the module body calls are not followed.
    """

    code = "TL208"
    name = "thread-started-at-import"
    summary = "A thread is started at module level, as a side effect of importing the module"

    def visit_Call(self, node: cst.Call) -> None:
        if not self.ctx.is_module_level(node) or facts.is_main_guard(self.ctx, node):
            return
        if self.ctx.path.replace("\\", "/").rsplit("/", 1)[-1] == "__main__.py":
            return
        qualified = self.ctx.qualname(node.func)
        if qualified in ("_thread.start_new_thread", "_thread.start_new"):
            self.report(
                node,
                "`_thread.start_new_thread()` at module level starts a thread when the module "
                "is imported, while the import lock is held: start it from a function",
            )
            return
        receiver = _started_thread(self.ctx, node)
        if receiver is None:
            return
        kind = self.ctx.kind_of(receiver)
        self.report(
            node,
            f"{kind} `{_shown(self.ctx, receiver)}` is started at module level: importing the "
            f"module starts it while the import lock is held; start it from a function",
        )


@register
class ThreadInitNotCalled(FileRule):
    """
    ## What it does
    Flags the `__init__` of a `Thread` subclass (directly, or through a
    local base class) that does not call `super().__init__(...)`,
    `threading.Thread.__init__(self, ...)` or its base's `__init__` on
    every path: never at all, only in one branch of an `if` without `else`,
    or after an early `return`.

    ## Why is this bad?
    `Thread.__init__` sets up the thread's internal state. Without it,
    `start()` raises `RuntimeError: thread.__init__() not called`, and
    even `repr()` or `name` of the object fail.

    ## Example
    ```python
    class Worker(threading.Thread):
        def __init__(self, queue):
            self.queue = queue
    ```

    ## Use instead
    ```python
    class Worker(threading.Thread):
        def __init__(self, queue):
            super().__init__()
            self.queue = queue
    ```

    ## How to suppress
    `# noqa: TL205` on the `def __init__` line.

    ## Known limits
    Any call of an `__init__` attribute counts (`super(Worker, self)`,
    `Base.__init__(self)`, a loop over bases), and so does a call of a
    method of the class or of a local base class that makes one, directly
    or through its own helpers (`self._init()`); a `self.helper()` that
    none of the module's classes defines counts too when the class has a
    base from another module. Paths that raise do not create an object,
    so they need no call. Calls inside `try` count as made.
    """

    code = "TL205"
    name = "thread-init-not-called"
    summary = "A `Thread` subclass's `__init__` does not call `Thread.__init__` on every path"

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if node.name.value != "__init__":
            return
        block = self.ctx.parent(node)
        cls = self.ctx.parent(block) if isinstance(block, cst.IndentedBlock) else None
        if not isinstance(cls, cst.ClassDef) or not self.ctx.is_thread_subclass(cls):
            return
        if not isinstance(node.body, cst.IndentedBlock):
            statements: list[cst.BaseStatement] = []
        else:
            statements = list(node.body.body)
        flow = _InitFlow(self.ctx, cls)
        returns_early, falls_through = flow.block(statements)
        if not (returns_early or falls_through):
            return
        name = self.ctx.classes[cls].name
        if flow.calls_anywhere:
            how = (
                f"returns at line {flow.early_return_line} before calling it"
                if returns_early
                else "calls it only on some paths"
            )
        else:
            how = "never calls it"
        self.report(
            node,
            f"`{name}.__init__` {how}: a `Thread` subclass must call `super().__init__()` "
            f"first, else `start()` raises `RuntimeError: thread.__init__() not called`",
        )


class _InitFlow:
    """Which paths through an `__init__` reach its end or a `return`
    without calling a base `__init__`."""

    def __init__(self, ctx: ModuleContext, cls: cst.ClassDef) -> None:
        self.ctx = ctx
        # Helpers may come from a local base class (`self._init()` defined in
        # the base calls `Thread.__init__`); a base we cannot see may define any.
        known = facts.ThreadMethods(ctx, cls)
        self.methods = known.methods
        self.opaque_bases = known.opaque
        self.calls_anywhere = False
        self.early_return_line = 0

    def block(self, statements: list[cst.BaseStatement]) -> tuple[bool, bool]:
        """(some path returns without the call, some path falls through without it)."""
        returns = False
        for statement in statements:
            statement_returns, falls = self.statement(statement)
            returns = returns or statement_returns
            if not falls:
                return returns, False
        return returns, True

    def statement(self, statement: cst.BaseStatement) -> tuple[bool, bool]:
        if isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                if self._calls_init(small):
                    return False, False
                if isinstance(small, cst.Return):
                    self.early_return_line = _line(self.ctx, small)
                    return True, False
                if isinstance(small, cst.Raise):
                    return False, False  # no object is made on this path
            return False, True
        if isinstance(statement, cst.If):
            returns, falls = self.block(_body(statement.body))
            if statement.orelse is None:
                return returns, True
            if isinstance(statement.orelse, cst.If):
                other_returns, other_falls = self.statement(statement.orelse)
            else:
                other_returns, other_falls = self.block(_body(statement.orelse.body))
            return returns or other_returns, falls or other_falls
        if isinstance(statement, (cst.With,)):
            return self.block(_body(statement.body))
        if isinstance(statement, cst.Try):
            returns, falls = self.block(_body(statement.body))
            if statement.finalbody is not None:
                final_returns, final_falls = self.block(_body(statement.finalbody.body))
                return returns or final_returns, falls and final_falls
            return returns, falls
        if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
            return False, True
        # Loops, match: the call may or may not happen; count one inside as made.
        if self._calls_init(statement):
            return False, False
        return False, True

    def _calls_init(self, node: cst.CSTNode) -> bool:
        for call in _calls_outside_defs(node):
            func = call.func
            if not isinstance(func, cst.Attribute):
                continue
            if func.attr.value == "__init__" or (
                isinstance(func.value, cst.Name)
                and func.value.value == "self"
                and self._helper_inits(func.attr.value, set())
            ):
                self.calls_anywhere = True
                return True
        return False

    def _helper_inits(self, name: str, seen: set[str]) -> bool:
        """`self.name()` calls a base `__init__`, itself or through its own helpers."""
        method = self.methods.get(name)
        if method is None:
            return self.opaque_bases
        if name in seen:
            return False
        seen.add(name)
        for call in _calls_outside_defs(method.body):
            func = call.func
            if not isinstance(func, cst.Attribute):
                continue
            if func.attr.value == "__init__":
                return True
            if (
                isinstance(func.value, cst.Name)
                and func.value.value == "self"
                and func.attr.value in self.methods
                and self._helper_inits(func.attr.value, seen)
            ):
                return True
        return False


def _body(block: cst.BaseSuite) -> list[cst.BaseStatement]:
    if isinstance(block, cst.IndentedBlock):
        return list(block.body)
    if isinstance(block, cst.SimpleStatementSuite):
        return [cst.SimpleStatementLine(body=block.body)]
    return []


def _calls_outside_defs(node: cst.CSTNode) -> list[cst.Call]:
    found: list[cst.Call] = []
    stack: list[cst.CSTNode] = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, (cst.FunctionDef, cst.ClassDef, cst.Lambda)) and current is not node:
            continue
        if isinstance(current, cst.Call):
            found.append(current)
        stack.extend(children(current))
    return found


# Return annotations that say the result is not callable.
_PLAIN_RESULT_TYPES = frozenset(
    {"None", "int", "str", "bool", "float", "bytes", "dict", "list", "set", "tuple"}
)
# Expressions that are never callables.
_NOT_CALLABLE = (
    cst.Integer, cst.Float, cst.Imaginary, cst.SimpleString, cst.ConcatenatedString,
    cst.FormattedString, cst.List, cst.Tuple, cst.Dict, cst.Set, cst.ListComp, cst.SetComp,
    cst.DictComp, cst.GeneratorExp, cst.BinaryOperation, cst.Comparison, cst.BooleanOperation,
    cst.UnaryOperation, cst.Await,
)
_DECORATORS_KEEPING_RESULT = frozenset({"staticmethod", "classmethod", "abc.abstractmethod"})


@register
class ThreadTargetCalled(FileRule):
    """
    ## What it does
    Flags a thread target that is called where it should be passed:
    `Thread(target=work())`, `Timer(1, f())`, `executor.submit(f())`,
    `executor.map(f(), xs)`, `asyncio.to_thread(f())`,
    `loop.run_in_executor(None, f())`, `future.add_done_callback(f())`.

    ## Why is this bad?
    The parentheses call the function immediately, in the current thread,
    and the thread gets its *return value* as the target. The work runs
    serially (it "works", just slowly), and then the thread fails with
    `TypeError: 'NoneType' object is not callable` — in the other thread,
    where nobody sees it.

    ## Example
    ```python
    t = threading.Thread(target=download(url))
    future = executor.submit(resize(image))
    ```

    ## Use instead
    ```python
    t = threading.Thread(target=download, args=(url,))
    future = executor.submit(resize, image)
    ```

    ## How to suppress
    `# noqa: TL202` on the line.

    ## Known limits
    A call that returns a callable is fine, and threadlint gives the
    benefit of the doubt:
    - `functools.partial(...)` and `lambda` targets are not calls of the
      target;
    - a function of this module is flagged only when none of its `return`s
      visibly gives a callable (a nested `def`, a `lambda`, a
      `functools.partial`, the name of a function or class, `self.method`),
      it has no decorator that could change its result, and no return
      annotation naming a callable type;
    - a call that is passed a function (`log_errors(work)`) is taken for a
      wrapper and not flagged;
    - a call of a variable or parameter (`task_cls(...)`, `make(...)`) is
      never flagged: its value, often a class whose instances define
      `__call__`, cannot be seen;
    - a function that cannot be seen (imported, a method of an unknown
      object) is flagged only when its name does not suggest a factory
      (`make_*`, `get_*`, `create_*`, `build_*`, `*factory*`, `*handler*`,
      `*callback*`, `*wrapper*`, ...) or a class (`*_cls`, `*_class`,
      `*_type`), and a class that cannot be seen (a `CamelCase` name) is
      never flagged, since its instances may define `__call__`.
    """

    code = "TL202"
    name = "thread-target-called"
    summary = "The thread target is called instead of passed: it runs now, in this thread"

    def visit_Call(self, node: cst.Call) -> None:
        spawn = find_spawn(self.ctx, node)
        if spawn is None or not isinstance(spawn.target, cst.Call):
            return
        called = spawn.target
        if self.ctx.qualname(called.func) in ("functools.partial", "functools.partialmethod"):
            return
        evidence = self._not_callable_evidence(called)
        if evidence is None:
            return
        callee = _shown(self.ctx, called.func)
        self.report(
            called,
            f"`{_shown(self.ctx, called)}` is called here, in this thread, and its result is "
            f"handed to `{spawn.api}` as the callable ({evidence}): pass `{callee}` and its "
            f"arguments separately",
        )

    def _not_callable_evidence(self, call: cst.Call) -> str | None:
        """Why the call's result is taken for a non-callable; None to stay silent."""
        if any(self._is_function_reference(arg.value) for arg in call.args):
            return None  # log_errors(work): a wrapper returning a callable
        func = call.func
        if isinstance(func, cst.Name):
            definitions = facts.definitions_visible(self.ctx, func.value, call)
            if definitions is None:
                if self.ctx.bindings_of(func.value, func):
                    # A variable or parameter: its value (a class, a factory)
                    # cannot be seen, only an imported function's name can tell.
                    return None
                return self._unresolved(func.value)
            if not definitions:
                # A built-in (or a star import): only known ones say what they return.
                if func.value in facts.NON_CALLABLE_BUILTINS and not self.ctx.star_imports:
                    return f"`{func.value}()` returns no callable"
                return None
            return self._definitions_evidence(definitions)
        if isinstance(func, cst.Attribute):
            method = self._method(func)
            if method is not None:
                return self._definitions_evidence([method])
            return self._unresolved(func.attr.value)
        return None

    def _unresolved(self, name: str) -> str | None:
        if name[:1].isupper() or facts.name_suggests_factory(name) or facts.name_suggests_class(name):
            return None
        return f"`{name}` does not look like a factory of callables"

    def _definitions_evidence(self, definitions: list[facts.Definition]) -> str | None:
        lines = []
        for definition in definitions:
            if isinstance(definition, cst.ClassDef):
                if "__call__" in self.ctx.classes[definition].methods or definition.bases:
                    return None
                what = "has no `__call__`"
            elif self._returns_no_callable(definition):
                what = "returns no callable"
            else:
                return None
            line = _line(self.ctx, definition)
            lines.append(f"`{definition.name.value}` (line {line}) {what}")
        return "; ".join(lines) if lines else None

    def _returns_no_callable(self, function: cst.FunctionDef) -> bool:
        for decorator in function.decorators:
            if self.ctx.qualname(decorator.decorator) not in _DECORATORS_KEEPING_RESULT:
                return False
        if function.returns is not None:
            annotation = function.returns.annotation
            if not (isinstance(annotation, cst.Name) and annotation.value in _PLAIN_RESULT_TYPES):
                return False
        return all(not self._may_be_callable(value, function) for value in _return_values(function))

    def _may_be_callable(self, value: cst.BaseExpression, function: cst.FunctionDef) -> bool:
        if isinstance(value, _NOT_CALLABLE) or is_none(value):
            return False
        if isinstance(value, cst.Name) and value.value in ("True", "False"):
            return False
        if isinstance(value, cst.Lambda):
            return True
        if isinstance(value, cst.Call):
            if self.ctx.qualname(value.func) in ("functools.partial", "functools.partialmethod"):
                return True
            name = dotted_name(value.func) or ""
            return facts.name_suggests_factory(name.rsplit(".", 1)[-1])
        if isinstance(value, cst.Name):
            if facts.definitions_visible(self.ctx, value.value, value):
                return True
            if value.value in self.ctx.imports:
                return True
            # A parameter or a variable: callable if the function is named so.
            return (
                facts.name_suggests_factory(function.name.value)
                or self._bound_to_callable(value)
            )
        if isinstance(value, cst.Attribute):
            return (
                self._method(value) is not None
                or facts.name_suggests_factory(function.name.value)
                or facts.name_suggests_factory(value.attr.value)
            )
        return facts.name_suggests_factory(function.name.value)

    def _bound_to_callable(self, name: cst.Name) -> bool:
        return any(
            binding.value is not None and self._is_function_reference(binding.value)
            for binding in self.ctx.bindings_of(name.value, name)
        )

    def _is_function_reference(self, expr: cst.BaseExpression) -> bool:
        if isinstance(expr, cst.Lambda):
            return True
        if isinstance(expr, cst.Call):
            return self.ctx.qualname(expr.func) == "functools.partial"
        if isinstance(expr, cst.Name):
            found = facts.definitions_visible(self.ctx, expr.value, expr) or []
            return bool(found) and all(isinstance(d, cst.FunctionDef) for d in found)
        if isinstance(expr, cst.Attribute):
            return self._method(expr) is not None
        return False

    def _method(self, attr: cst.Attribute) -> cst.FunctionDef | None:
        """`self.m` / `cls.m` / `LocalClass.m` as a method defined in this module."""
        receiver = attr.value
        if not isinstance(receiver, cst.Name):
            return None
        if receiver.value in ("self", "cls"):
            cls = self.ctx.enclosing_class(attr)
        else:
            if facts.definitions_visible(self.ctx, receiver.value, attr) is None:
                return None
            cls = self.ctx.classes_by_name.get(receiver.value)
        seen = set()
        while cls is not None and cls not in seen:
            seen.add(cls)
            info = self.ctx.classes[cls]
            if attr.attr.value in info.methods:
                return info.methods[attr.attr.value]
            local_bases = [b for b in info.bases if b in self.ctx.classes_by_name]
            cls = self.ctx.classes_by_name[local_bases[0]] if local_bases else None
        return None


def _return_values(function: cst.FunctionDef) -> list[cst.BaseExpression]:
    """The values of `return` statements of `function` itself (not nested defs)."""
    values: list[cst.BaseExpression] = []
    stack: list[cst.CSTNode] = [function.body]
    while stack:
        current = stack.pop()
        if isinstance(current, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
            continue
        if isinstance(current, cst.Return) and current.value is not None:
            values.append(current.value)
        stack.extend(children(current))
    return values


_SUBMIT_METHODS = frozenset({"submit", "map"})
_ASYNC_POOL_METHODS = frozenset({"apply_async", "map_async", "starmap_async"})
_FUTURES_EXECUTORS = frozenset({api.THREAD_EXECUTOR, api.PROCESS_EXECUTOR})
_POOLS = frozenset({api.THREAD_POOL, api.PROCESS_POOL})
# Thin forwarding (a closure calling `self.run_listeners()`, which calls a
# helper that catches everything) is followed this many calls deep.
_FORWARDING_DEPTH = 4


@register
class FutureExceptionLost(FileRule):
    """
    ## What it does
    Flags work handed to an executor whose outcome nobody can ever see:
    the `Future` of `executor.submit(...)` thrown away (an expression
    statement, or a local variable never read), the lazy iterator of
    `executor.map(...)` never consumed, or `pool.apply_async(...)` (also
    `map_async`, `starmap_async`) thrown away without an `error_callback`.

    ## Why is this bad?
    An exception raised by the task is stored in its `Future` (or
    `AsyncResult`) and re-raised only by `result()`, `exception()` or when
    the `map` iterator reaches it. Discard it, and the failure vanishes
    without a trace: no traceback, no log line, just missing work.

    ## Example
    ```python
    with ThreadPoolExecutor() as executor:
        for path in paths:
            executor.submit(convert, path)
    ```

    ## Use instead
    ```python
    with ThreadPoolExecutor() as executor:
        futures = [executor.submit(convert, path) for path in paths]
        for future in concurrent.futures.as_completed(futures):
            future.result()  # re-raises the task's exception
    ```

    ## How to suppress
    `# noqa: TL206` on the line; assigning the result to `_` also says the
    result is deliberately ignored.

    ## Known limits
    The receiver must be known to be a `concurrent.futures` executor or a
    `multiprocessing` pool (created in this module, an annotated parameter,
    a `self` attribute), or be named like an executor (`*executor*`) in a
    module that imports `concurrent.futures`. A future stored anywhere
    (a list, an attribute, passed to a call) counts as observed.

    A task that handles its own exceptions is not reported: a function or
    method of this module with a `try` whose handler catches `Exception`,
    `BaseException` or everything (a bare `except:`) and does not just
    raise it again (it logs it, records it in an errors dict or list that
    the caller raises from later, or drops it on purpose): its future never
    holds an exception. The `try` may be nested (inside `with conn.mutex:`,
    under an `if`), and the statements outside it are not checked (a state
    check before it, bookkeeping after it): whoever wrote the catch-all put
    the work that can fail inside it. A handler that catches less
    (`except KeyError`) does not count. A task whose body cannot raise at
    all (`pass`, a docstring, `time.sleep(0.1)`, setting an event: the
    warm-up tasks that start a pool's threads early) is not reported
    either.

    Such a handler is found through thin forwarding, up to four calls deep
    within the module: `functools.partial` (`submit(partial(log_errors,
    task))`: the wrapper is what runs), `submit(context.run, task)` of a
    `contextvars` context (`task` is what runs), a lambda, a closure or nested
    `def`, or a variable bound to one of these, whose body only calls the
    handling function, `self.method` or a method of an object of a class
    of the module, with plain names, attributes and constants as
    arguments, beside statements that plainly cannot raise. An object's
    class is the one its bindings of known class name: after
    `req = Request(...)` or `req = retries.get()`, `req.send` is taken to
    be `Request.send`.

    A callable that is a parameter of the enclosing function (a scheduler's
    `def schedule(self, callback, *args): self._executor.submit(callback,
    *args)`), also through forwarding (`submit(lambda: callback(x))`,
    `partial(callback, x)`, a nested `def` calling it inside `try:` ...
    `finally:` that only releases a semaphore or updates a counter under a
    condition, inside a `with` block, or through `contextvars`'
    `context.run(callback)`), is not reported: guarding it is its callers'
    contract, and its body is not visible here. A discarded future of such
    a scheduler goes unreported even when no caller wraps its callbacks.
    """

    code = "TL206"
    name = "future-exception-lost"
    summary = "The result of `executor.submit`/`map` is discarded: a task's exception is lost"

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not isinstance(func, cst.Attribute):
            return
        method = func.attr.value
        receiver_kind = self._receiver_kind(func.value, method)
        if receiver_kind is None:
            return
        if method in _ASYNC_POOL_METHODS and has_keyword(node, ("error_callback",)):
            return
        discarded = self._discarded(node)
        if discarded is None or self._task_accounted_for(node, method):
            return
        shown = f"{_shown(self.ctx, func)}(...)"
        if method == "map" and receiver_kind in _FUTURES_EXECUTORS:
            what = f"the iterator of `{shown}` is {discarded}: a task's exception is re-raised " \
                   f"only when its result is read, so it is never seen; consume it (`list(...)`)"
        elif method == "submit":
            what = f"the Future of `{shown}` is {discarded}: a task's exception is stored in it " \
                   f"and never seen; keep it and call `result()` (or check `exception()`)"
        else:
            what = f"the result of `{shown}` is {discarded} and there is no `error_callback`: a " \
                   f"task's exception is never seen; call `get()` or pass `error_callback=`"
        self.report(node, what)

    def _receiver_kind(self, receiver: cst.BaseExpression, method: str) -> str | None:
        kind = self.ctx.kind_of(receiver)
        if method in _SUBMIT_METHODS and kind in _FUTURES_EXECUTORS:
            return kind
        if method in _ASYNC_POOL_METHODS and kind in _POOLS:
            return kind
        if kind is None and method in _SUBMIT_METHODS and self._named_executor(receiver):
            return api.THREAD_EXECUTOR
        return None

    def _task_accounted_for(self, call: cst.Call, method: str) -> bool:
        """Nothing here can lose the task's exception: the task handles it
        itself, or the task is a callable the caller handed in."""
        target = argument(call, 0, "fn" if method in _SUBMIT_METHODS else "func")
        if target is None:
            return False
        if method == "submit" and self._context_run(target) and len(call.args) > 1:
            # `submit(ctx.run, task)` of a `contextvars` context runs `task`.
            return self._callable_accounted_for(call.args[1].value, call, 0)
        if method == "submit" and all(arg.keyword is None for arg in call.args):
            # `submit(time.sleep, 0)` runs `time.sleep(0)`, which cannot raise.
            task = cst.Call(func=target, args=call.args[1:])
            if CannotRaise(self.ctx, lambda receiver: False).value(task):
                return True
        return self._callable_accounted_for(target, call, 0)

    def _callable_accounted_for(self, target: cst.BaseExpression, call: cst.Call, depth: int) -> bool:
        """`target` (a callable expression) handles its exceptions, directly or
        through thin forwarding within the module, or is a parameter of a
        function around the submitting `call`.

        A parameter is the enclosing function's callers' to guard (a
        scheduler's `submit(callback)`): its body is not visible here, and
        reporting every such scheduler would bury the real losses."""
        if depth > _FORWARDING_DEPTH:
            return False
        # `submit(partial(log_errors, task))`: the wrapper is what runs.
        target = unwrap_target(self.ctx, target)
        if isinstance(target, cst.Lambda):
            # `lambda: time.sleep(0.1)`, a warm-up task: nothing to lose.
            safe = CannotRaise(self.ctx, lambda receiver: False)
            return safe.value(target.body) or self._forwards(target.body, call, depth)
        if isinstance(target, cst.Name):
            if self._is_parameter(target, call):
                return True
            found = facts.definitions_visible(self.ctx, target.value, target)
            if found is None:
                # A variable: whatever was bound to it is what runs
                # (`job = functools.partial(...)`, `handler = lambda: ...`).
                values = [b.value for b in self.ctx.bindings_of(target.value, target)]
                return bool(values) and all(
                    value is not None and self._callable_accounted_for(value, call, depth + 1)
                    for value in values
                )
            if len(found) == 1 and isinstance(found[0], cst.FunctionDef):
                return self._body_accounted_for(found[0], call, depth)
            return False
        if isinstance(target, cst.Attribute):
            cls = self._class_of(target.value)
            function = self.ctx.method(cls, target.attr.value) if cls is not None else None
            return function is not None and self._body_accounted_for(function, call, depth)
        return False

    def _body_accounted_for(self, function: cst.FunctionDef, call: cst.Call, depth: int) -> bool:
        """The function catches every exception around its work (a `try`
        with a broad handler that does not just re-raise), or only forwards
        to callables that do.

        The `try` may be nested (inside `with conn.mutex:`, under an `if`):
        an author who wrote a catch-all in the task put the work that can
        fail inside it, and what stays outside is the task's bookkeeping."""
        if any(
            isinstance(node, cst.Try) and any(_handles_everything(h) for h in node.handlers)
            for node in executed(function.body)
        ):
            return True
        statements = small_statements(list(function.body.body))
        forwarding = self._forwarding_block(statements, call, depth)
        # None: nothing forwarded and nothing that may raise (a body of
        # `pass`, a constant sleep, a docstring): its future holds no error.
        return forwarding is not False

    def _forwarding_block(self, statements: list[cst.CSTNode], call: cst.Call, depth: int) -> bool | None:
        """True when the block forwards to accounted-for callables beside
        steps that cannot raise; None when it forwards nothing; False when it
        does work of its own that may raise.

        A wrapper may put the forwarding call inside `try:` ... `finally:`
        with bookkeeping in the `finally` (a semaphore or lock released, a
        counter decremented under a condition), or inside a `with` block (a
        context attached around the task): what runs is still the forwarded
        callable."""
        safe = CannotRaise(self.ctx, lambda receiver: False)
        forwarded: bool | None = None
        for statement in statements:
            value = statement.value if isinstance(statement, (cst.Expr, cst.Return)) else None
            if isinstance(value, cst.Call) and self._forwards(value, call, depth):
                forwarded = True
                continue
            if isinstance(statement, cst.Try) and not statement.handlers and statement.orelse is None:
                inner = self._forwarding_block(small_statements(list(statement.body.body)), call, depth)
                if inner is False or not self._bookkeeping(statement.finalbody):
                    return False
                forwarded = forwarded or inner
            elif isinstance(statement, cst.With) and all(
                isinstance(item.item, cst.Call) and all(safe.value(arg.value) for arg in item.item.args)
                for item in statement.items
            ):
                inner = self._forwarding_block(small_statements(list(statement.body.body)), call, depth)
                if inner is False:
                    return False
                forwarded = forwarded or inner
            elif isinstance(statement, cst.Return):
                if statement.value is not None and not safe.value(statement.value):
                    return False
            elif not (is_docstring(statement) or safe.statement(statement)):
                return False  # work of its own that may raise
        return forwarded

    def _bookkeeping(self, block: cst.Finally | None) -> bool:
        """A `finally` that only releases or signals thread locks and updates
        plain state (`slots.release()`; `with cond: self.n -= 1;
        cond.notify_all()`): nothing there raises into the future."""
        if block is None:
            return True
        safe = CannotRaise(self.ctx, lambda receiver: self.ctx.kind_of(receiver) in api.LOCK_KINDS)

        def steps_ok(statements: list[cst.CSTNode]) -> bool:
            for step in small_statements(statements):
                if isinstance(step, cst.With):
                    if not all(self.ctx.kind_of(item.item) in api.LOCK_KINDS for item in step.items):
                        return False
                    if not steps_ok(list(step.body.body)):
                        return False
                elif not (self._releases_lock(step) or safe.statement(step)):
                    return False
            return True

        return steps_ok(list(block.body.body))

    def _releases_lock(self, step: cst.CSTNode) -> bool:
        """`lock.release()` of a thread lock or semaphore, as a statement."""
        lock = method_call_on(step.value, ("release",)) if isinstance(step, cst.Expr) else None
        return lock is not None and self.ctx.kind_of(lock) in api.LOCK_KINDS

    def _forwards(self, expr: cst.BaseExpression, call: cst.Call, depth: int) -> bool:
        """`expr` is a call, with arguments that cannot fail, of a callable
        that is accounted for (`self.run_listeners(message)`)."""
        if not isinstance(expr, cst.Call):
            return False
        safe = CannotRaise(self.ctx, lambda receiver: False)
        if not all(safe.value(arg.value) for arg in expr.args):
            return False
        if self._context_run(expr.func) and expr.args:
            # `context.run(fn, *args)` of `contextvars`: what runs is `fn`.
            return self._callable_accounted_for(expr.args[0].value, call, depth + 1)
        return self._callable_accounted_for(expr.func, call, depth + 1)

    def _context_run(self, func: cst.BaseExpression) -> bool:
        """`ctx.run` on a `contextvars` context (`contextvars.copy_context()`)."""
        if not isinstance(func, cst.Attribute) or func.attr.value != "run":
            return False
        bindings = self.ctx.bindings_of_expr(func.value)
        return bool(bindings) and all(
            isinstance(b.value, cst.Call)
            and self.ctx.qualname(b.value.func) in ("contextvars.copy_context", "contextvars.Context")
            for b in bindings
        )

    def _is_parameter(self, name: cst.Name, call: cst.Call) -> bool:
        """`name` is a parameter of a `def` around the submitting `call` (not
        one of the task's own, which the submit call itself fills); `self`
        and `cls` are the object itself, not a callable handed in."""
        if name.value in ("self", "cls"):
            return False
        scope = facts.resolving_scope(self.ctx, name.value, name)
        if not isinstance(scope, cst.FunctionDef) or not facts.is_inside(self.ctx, call, scope):
            return False
        params = scope.params
        return any(
            param.name.value == name.value
            for param in [*params.posonly_params, *params.params, *params.kwonly_params]
        )

    def _class_of(self, owner: cst.BaseExpression) -> cst.ClassDef | None:
        """The module's class of `self`/`cls`, of a class named directly, or of
        a name or `self` attribute whose bindings of known class all name one
        class of the module (`req = Request(...)`; another binding from a
        queue or a call of unknown type does not change what `req.run` is)."""
        if isinstance(owner, cst.Name):
            if owner.value in ("self", "cls"):
                return self.ctx.enclosing_class(owner)
            found = facts.definitions_visible(self.ctx, owner.value, owner)
            if found is not None:
                classes = [d for d in found if isinstance(d, cst.ClassDef)]
                return classes[0] if len(classes) == 1 == len(found) else None
        known: set[cst.ClassDef] = set()
        if isinstance(owner, cst.Name):
            known.update(self._element_classes(owner))
        for binding in self.ctx.bindings_of_expr(owner):
            type_expr = binding.annotation
            if type_expr is None and isinstance(binding.value, cst.Call):
                type_expr = binding.value.func
            cls = self.ctx.classes_by_name.get(self.ctx.qualname(type_expr) or "") if type_expr else None
            if cls is not None:
                known.add(cls)
        return known.pop() if len(known) == 1 else None

    def _element_classes(self, name: cst.Name) -> set[cst.ClassDef]:
        """The module classes of what a `for` over a local list binds to
        `name`: `for job in jobs:` where `jobs` is built of `Job(...)` (a list
        display or comprehension of them, or `jobs.append(Job(...))`)."""
        loop = next(
            (a for a in self.ctx.ancestors(name)
             if isinstance(a, cst.For) and isinstance(a.target, cst.Name) and a.target.value == name.value),
            None,
        )
        if loop is None or not isinstance(loop.iter, cst.Name):
            return set()
        items = loop.iter
        scope = facts.resolving_scope(self.ctx, items.value, items)
        if not isinstance(scope, cst.FunctionDef):
            return set()
        made: list[cst.BaseExpression] = []
        for binding in self.ctx.bindings_of(items.value, items):
            value = binding.value
            if isinstance(value, cst.List):
                made.extend(e.value for e in value.elements)
            elif isinstance(value, cst.ListComp):
                made.append(value.elt)
            else:
                return set()  # a list from elsewhere: its items are unknown
        for node in executed(scope.body):
            if (
                isinstance(node, cst.Call)
                and isinstance(node.func, cst.Attribute)
                and isinstance(node.func.value, cst.Name)
                and node.func.value.value == items.value
                and node.func.attr.value == "append"
                and len(node.args) == 1
            ):
                made.append(node.args[0].value)
        classes = set()
        for value in made:
            cls = (
                self.ctx.classes_by_name.get(self.ctx.qualname(value.func) or "")
                if isinstance(value, cst.Call) else None
            )
            if cls is None:
                return set()
            classes.add(cls)
        return classes

    def _named_executor(self, receiver: cst.BaseExpression) -> bool:
        if not any(m == "concurrent.futures" or m.startswith("concurrent.futures.")
                   for m in self.ctx.imported_modules):
            return False
        name = receiver.attr.value if isinstance(receiver, cst.Attribute) else (
            receiver.value if isinstance(receiver, cst.Name) else ""
        )
        return "executor" in name.lower()

    def _discarded(self, call: cst.Call) -> str | None:
        parent = self.ctx.parent(call)
        if isinstance(parent, cst.Expr):
            return "discarded"
        if not (isinstance(parent, cst.Assign) and len(parent.targets) == 1):
            return None
        target = parent.targets[0].target
        if not isinstance(target, cst.Name) or target.value == "_":
            return None
        scope = facts.resolving_scope(self.ctx, target.value, target)
        if not isinstance(scope, cst.FunctionDef):
            return None  # a module global may be read by importers
        occurrences = facts.name_occurrences(self.ctx, target.value, scope)
        if all(facts.is_store(self.ctx, occ) for occ in occurrences):
            return f"assigned to `{target.value}`, which is never read"
        return None


def _handles_everything(handler: cst.ExceptHandler) -> bool:
    """A bare `except:`, or one naming `Exception`/`BaseException`, that does
    something with the exception (logs, records, reports) rather than only
    raising again, which would leave it in the future after all."""
    if not catches_all(handler):
        return False
    return not all(isinstance(step, cst.Raise) for step in small_statements(list(handler.body.body)))




_SHUTDOWN_MEMBERS = frozenset({"shutdown", "close", "terminate", "__exit__"})
# Methods by which an owner object says "I clean up after myself".
_OWNER_SHUTDOWNS = ("close", "shutdown", "stop", "terminate", "__exit__", "__del__", "dispose", "cleanup")
# Base classes that are known not to shut down an attribute of their subclass.
_TRANSPARENT_BASES = frozenset({"object", "typing.Generic", "abc.ABC"})


@register
class ExecutorNotShutDown(FileRule):
    """
    ## What it does
    Flags a `ThreadPoolExecutor`, `ProcessPoolExecutor`,
    `multiprocessing.pool.ThreadPool` or `multiprocessing.Pool` created
    outside `with` and kept on an object that outlives it unshut: a `self`
    attribute that no method of the module shuts down (`shutdown()`,
    `close()`, `terminate()`), on an owner that lives on (see below).

    ## Why is this bad?
    The pool's worker threads (or processes) stay alive, idle, as long as
    their owner: for a service, a registry or a thread, that is until the
    interpreter exits. An owner whose `close()` forgets its executor tells
    its users they cleaned up when they did not. Exceptions during shutdown
    and the ordering of cleanup are left to interpreter exit, where they
    are hardest to debug.

    ## Example
    ```python
    class Exporter:
        def __init__(self):
            self._executor = ThreadPoolExecutor(max_workers=8)

        def shutdown(self):
            self._sink.close()
    ```

    ## Use instead
    ```python
    class Exporter:
        def __init__(self):
            self._executor = ThreadPoolExecutor(max_workers=8)

        def shutdown(self):
            self._executor.shutdown(wait=True)
            self._sink.close()
    ```

    ## How to suppress
    `# noqa: TL207` on the line of the constructor.

    ## Known limits
    Executors created at module level or in a class body are long-lived by
    design (one per process) and are not flagged: `concurrent.futures`
    joins their threads at interpreter exit. An executor that escapes —
    returned, passed to a call (`ExitStack.enter_context(ex)`,
    `atexit.register(ex.shutdown)`, `weakref.finalize(obj, ex.shutdown)`),
    stored on another object — is assumed to be shut down elsewhere. For a
    `self` attribute, a shutdown anywhere in the module counts, and a class
    with a base class from a third-party module is not checked (the base
    may shut it down).

    An executor kept only in a function's frame (a local variable, or
    `ThreadPool(4).map(f, xs)` used once and dropped) is not reported: it
    is reclaimed when the frame ends. A `ThreadPoolExecutor` that is
    garbage-collected wakes its idle workers and they exit, a
    `ProcessPoolExecutor`'s manager thread does the same for its processes,
    and a `multiprocessing` pool's finalizer terminates it. `with` is
    tidier there, but nothing is left running (a local in a generator
    whose `finally` waits for its futures was judged false on real code).

    An executor kept on a short-lived object (one made per call, per
    request or per test, a progress bar) is reclaimed with its owner: when
    the owner is garbage-collected, the executor's idle workers exit. So a
    `self` attribute is reported only when the owner outlives that: the
    class (or a related class of the module) has a `close()`, `shutdown()`,
    `stop()`, `__exit__` or `__del__` that forgets the executor, an instance
    of it is made at module level or as a class attribute (it lives as long
    as the program), or it is a `Thread` subclass. The message says which.
    """

    code = "TL207"
    name = "executor-not-shut-down"
    summary = "An executor or pool is created outside `with` and never shut down"

    def visit_Call(self, node: cst.Call) -> None:
        kind = self.ctx.kind_of_type(node.func)
        if kind not in api.EXECUTOR_KINDS:
            return
        target = _self_attribute_target(self.ctx.parent(node), node)
        if target is None:
            return
        shown = _shown(self.ctx, node.func)
        verb = "shut down" if kind in _FUTURES_EXECUTORS else "closed"
        evidence = self._unhandled(target)
        if evidence is None:
            return
        self.report(
            node,
            f"`{shown}(...)` is created outside `with` and {evidence} is never {verb} "
            f"(no `shutdown()`/`close()`, and it is not handed on): its workers stay alive "
            f"as long as its owner; shut it down where the owner is closed",
        )

    def _unhandled(self, target: cst.Attribute) -> str | None:
        """How the executor is held, if nothing shuts it down; else None."""
        holder = facts.holder_occurrences(self.ctx, target)
        cls = self.ctx.enclosing_class(target)
        if holder is None or cls is None or self._opaque(cls):
            return None
        label, attr_occurrences = holder
        if self._any_handles(attr_occurrences):
            return None
        lifetime = self._long_lived_owner(cls)
        if lifetime is None:
            return None  # a short-lived owner: its idle workers exit when it is reclaimed
        return f"`{label}` of `{self.ctx.classes[cls].name}` ({lifetime})"

    def _long_lived_owner(self, cls: cst.ClassDef) -> str | None:
        """Why the owner does not simply go away with its executor, or None.

        An executor whose owner is garbage-collected is reclaimed with it: its
        idle workers exit. That is no leak for a per-call or per-test object.
        It is one when the owner has a shutdown method that forgets the
        executor (the owner's users believe closing it cleans up), or when the
        owner lives as long as the program: an instance made at module level
        or a class attribute, or a Thread subclass (alive while it runs).
        """
        family = self._family(cls)
        for member in family:
            for name in _OWNER_SHUTDOWNS:
                method = self.ctx.classes[member].methods.get(name)
                if method is not None:
                    return (
                        f"its `{name}()` (line {_line(self.ctx, method)}) forgets it"
                    )
        if any(self.ctx.is_thread_subclass(member) for member in family):
            return "the owner is a Thread subclass, alive as long as its thread runs"
        names = {self.ctx.classes[member].name for member in family}
        for node in self.ctx.parents:
            if (
                isinstance(node, cst.Call)
                and isinstance(node.func, cst.Name)
                and node.func.value in names
                and self.ctx.is_module_level(node)
            ):
                return (
                    f"the owner lives as long as the program: `{node.func.value}()` is made "
                    f"at module level, line {_line(self.ctx, node)}"
                )
        return None

    def _family(self, cls: cst.ClassDef) -> list[cst.ClassDef]:
        """The class, its local bases and its local subclasses."""
        related = {cls}
        changed = True
        while changed:
            changed = False
            for node, info in self.ctx.classes.items():
                for base in info.bases:
                    local = self.ctx.classes_by_name.get(base or "")
                    if local is None:
                        continue
                    if (node in related) != (local in related):
                        related.update((node, local))
                        changed = True
        return sorted(related, key=lambda c: _line(self.ctx, c))

    def _any_handles(self, occurrences: Sequence[cst.BaseExpression]) -> bool:
        for occ in occurrences:
            use = facts.classify(self.ctx, occ)
            if use.kind in ("call", "attr") and use.member in _SHUTDOWN_MEMBERS:
                return True
            if use.kind == "value":
                return True  # handed on (returned, passed, `with ex:`)
        return False

    def _opaque(self, cls: cst.ClassDef) -> bool:
        """A base class we cannot see may shut the attribute down."""
        seen = set()
        pending = [cls]
        while pending:
            node = pending.pop()
            if node in seen:
                continue
            seen.add(node)
            for base in self.ctx.classes[node].bases:
                local = self.ctx.classes_by_name.get(base or "")
                if local is not None:
                    pending.append(local)
                elif base is None or (
                    base not in _TRANSPARENT_BASES and base.split(".")[0] not in _STDLIB_TOPS
                ):
                    return True
        return False


_STDLIB_TOPS = stdlib_module_names() - {"concurrent", "multiprocessing"}


def _self_attribute_target(
    parent: cst.CSTNode | None, value: cst.BaseExpression
) -> cst.Attribute | None:
    """`self.x` (or `cls.x`) in `self.x = value`. A local is reclaimed with
    its frame and a module global is long-lived by design: neither is one."""
    if isinstance(parent, cst.Assign) and parent.value is value and len(parent.targets) == 1:
        target = parent.targets[0].target
    elif isinstance(parent, cst.AnnAssign) and parent.value is value:
        target = parent.target
    else:
        return None
    if (
        isinstance(target, cst.Attribute)
        and isinstance(target.value, cst.Name)
        and target.value.value in ("self", "cls")
    ):
        return target
    return None
