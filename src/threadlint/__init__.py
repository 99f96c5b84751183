"""threadlint: find thread-safety bugs in Python code before they ship."""

__version__ = "0.1.0"
