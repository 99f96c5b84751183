"""Rule families, one module each; importing this package registers them all."""

from threadlint.rules import gil, lifecycle, lock_held, locks, polling, races, tool  # noqa: F401
