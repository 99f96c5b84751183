"""Rule families, one module each; importing this package registers them all."""

from threadlint.rules import coroutines, gil, lifecycle, locks, races, tool  # noqa: F401
