"""Rule families, one module each; importing this package registers them all."""

from threadlint.rules import tool, lifecycle  # noqa: F401
