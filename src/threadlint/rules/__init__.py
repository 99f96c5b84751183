"""Rule families, one module each; importing this package registers them all."""

from threadlint.rules import (  # noqa: F401
    coroutines,
    forking,
    gil,
    lifecycle,
    lock_held,
    locks,
    polling,
    races,
    thread_context,
    tool,
)
