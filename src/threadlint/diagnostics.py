"""The finding every rule produces and every reporter prints."""

from __future__ import annotations

from dataclasses import dataclass, field

DOCS_BASE_URL = "https://github.com/threadlint/threadlint/blob/main/docs/rules"


def rule_url(code: str) -> str:
    return f"{DOCS_BASE_URL}/{code}.md"


@dataclass(frozen=True)
class Edit:
    """Replace the text between two 1-based (line, col) positions; end is exclusive."""

    line: int
    col: int
    end_line: int
    end_col: int
    text: str


@dataclass(frozen=True)
class Fix:
    description: str
    edits: tuple[Edit, ...]
    # A safe fix cannot change what the program does; an unsafe one changes
    # behaviour on purpose and is applied only with --unsafe-fixes.
    safe: bool = True


@dataclass(frozen=True)
class Diagnostic:
    path: str
    line: int  # 1-based
    col: int  # 1-based, flake8 style
    code: str
    message: str
    end_line: int = 0
    end_col: int = 0
    fix: Fix | None = field(default=None, compare=False)

    @property
    def sort_key(self) -> tuple[str, int, int, str, str]:
        return (self.path, self.line, self.col, self.code, self.message)
