"""The catalogue of concurrency APIs threadlint understands.

Every rule asks "what kind of object is this?" with the same vocabulary, so
the fully qualified names of the standard library's thread, lock, executor
and queue types live here, in one table, and nowhere else.
"""

from __future__ import annotations

# Kinds: the small vocabulary that rules reason with.
THREAD = "thread"
TIMER = "timer"
THREAD_EXECUTOR = "thread-executor"
PROCESS_EXECUTOR = "process-executor"
THREAD_POOL = "thread-pool"  # multiprocessing.pool.ThreadPool
PROCESS_POOL = "process-pool"  # multiprocessing.Pool
LOCK = "lock"
RLOCK = "rlock"
CONDITION = "condition"
SEMAPHORE = "semaphore"
EVENT = "event"
BARRIER = "barrier"
QUEUE = "queue"
THREAD_LOCAL = "thread-local"
FUTURE = "future"
ASYNCIO_LOCK = "asyncio-lock"
EVENT_LOOP = "event-loop"
DEQUE = "deque"

TYPE_KINDS: dict[str, str] = {
    "threading.Thread": THREAD,
    "threading.Timer": TIMER,
    "threading._Timer": TIMER,
    "concurrent.futures.ThreadPoolExecutor": THREAD_EXECUTOR,
    "concurrent.futures.thread.ThreadPoolExecutor": THREAD_EXECUTOR,
    "concurrent.futures.ProcessPoolExecutor": PROCESS_EXECUTOR,
    "concurrent.futures.process.ProcessPoolExecutor": PROCESS_EXECUTOR,
    "concurrent.futures.InterpreterPoolExecutor": PROCESS_EXECUTOR,
    "multiprocessing.pool.ThreadPool": THREAD_POOL,
    "multiprocessing.dummy.Pool": THREAD_POOL,
    "multiprocessing.Pool": PROCESS_POOL,
    "multiprocessing.pool.Pool": PROCESS_POOL,
    "threading.Lock": LOCK,
    "threading._allocate_lock": LOCK,
    "_thread.allocate_lock": LOCK,
    "_thread.LockType": LOCK,
    "_thread.allocate": LOCK,
    "multiprocessing.Lock": LOCK,
    "threading.RLock": RLOCK,
    "threading._RLock": RLOCK,
    "_thread.RLock": RLOCK,
    "multiprocessing.RLock": RLOCK,
    "threading.Condition": CONDITION,
    "multiprocessing.Condition": CONDITION,
    "threading.Semaphore": SEMAPHORE,
    "threading.BoundedSemaphore": SEMAPHORE,
    "multiprocessing.Semaphore": SEMAPHORE,
    "multiprocessing.BoundedSemaphore": SEMAPHORE,
    "threading.Event": EVENT,
    "multiprocessing.Event": EVENT,
    "threading.Barrier": BARRIER,
    "queue.Queue": QUEUE,
    "queue.LifoQueue": QUEUE,
    "queue.PriorityQueue": QUEUE,
    "queue.SimpleQueue": QUEUE,
    "multiprocessing.Queue": QUEUE,
    "multiprocessing.SimpleQueue": QUEUE,
    "multiprocessing.JoinableQueue": QUEUE,
    "threading.local": THREAD_LOCAL,
    "_threading_local.local": THREAD_LOCAL,
    "concurrent.futures.Future": FUTURE,
    "asyncio.Lock": ASYNCIO_LOCK,
    "asyncio.Condition": ASYNCIO_LOCK,
    "asyncio.Semaphore": ASYNCIO_LOCK,
    "asyncio.BoundedSemaphore": ASYNCIO_LOCK,
    "asyncio.get_event_loop": EVENT_LOOP,
    "asyncio.get_running_loop": EVENT_LOOP,
    "asyncio.new_event_loop": EVENT_LOOP,
    "collections.deque": DEQUE,
}

# What some methods return, by (receiver kind, method): `executor.submit()`
# returns a concurrent.futures Future.
METHOD_RESULT_KINDS: dict[tuple[str, str], str] = {
    (THREAD_EXECUTOR, "submit"): FUTURE,
    (PROCESS_EXECUTOR, "submit"): FUTURE,
}

THREAD_KINDS: frozenset[str] = frozenset({THREAD, TIMER})
# Kinds that make a lockset: only real thread locks (asyncio locks do not).
LOCK_KINDS: frozenset[str] = frozenset({LOCK, RLOCK, CONDITION, SEMAPHORE})
THREAD_EXECUTOR_KINDS: frozenset[str] = frozenset({THREAD_EXECUTOR, THREAD_POOL})
EXECUTOR_KINDS: frozenset[str] = frozenset(
    {THREAD_EXECUTOR, PROCESS_EXECUTOR, THREAD_POOL, PROCESS_POOL}
)
# Objects whose methods may be called from any thread without a lock.
THREAD_SAFE_KINDS: frozenset[str] = frozenset(
    {LOCK, RLOCK, CONDITION, SEMAPHORE, EVENT, BARRIER, QUEUE, THREAD_LOCAL, FUTURE}
)

# Base classes whose subclasses are Thread objects.
THREAD_BASES: frozenset[str] = frozenset({"threading.Thread", "threading.Timer"})

# Modules whose names, when imported, are worth a full analysis of the file.
CONCURRENCY_MODULES: frozenset[str] = frozenset(
    {
        "threading",
        "_thread",
        "concurrent",
        "concurrent.futures",
        "multiprocessing",
        "multiprocessing.pool",
        "multiprocessing.dummy",
        "socketserver",
        "http.server",
        "queue",
    }
)

# Names that make a lock-like object when the type is unknown (RULES.md,
# "Lock held"): matched case-insensitively against the last name segment.
LOCK_NAME_PARTS = ("lock", "mutex", "cond")


def looks_like_lock_name(name: str) -> bool:
    lowered = name.lower()
    return any(part in lowered for part in LOCK_NAME_PARTS)
