"""TL0xx: findings about the input or the tool itself."""

from __future__ import annotations

from threadlint.rules.base import ToolRule, register


@register
class SyntaxErrorRule(ToolRule):
    """
    ## What it does
    Reports a file that does not parse (Python 2 code, a truncated file, an
    undecodable file) at the parser's position, with CPython's message.

    ## Why is this bad?
    A file that does not parse cannot be analysed: none of its thread-safety
    bugs can be found. The rest of the run goes on; this finding makes sure
    the gap is seen instead of silently skipped.

    ## How to suppress
    Exclude the file (`--extend-exclude`), or `--extend-ignore TL001`.
    """
    code = "TL001"
    name = "syntax-error"
    summary = "The file does not parse; it was not analysed (the other files still are)"


@register
class UnusedSuppression(ToolRule):
    """
    ## What it does
    Reports a `# noqa: TLnnn` or `# threadlint: ignore[TLnnn]` comment whose
    codes suppress no finding on that line (only codes of enabled rules are
    judged; a blanket `# noqa` and other tools' codes are left alone).

    ## Why is this bad?
    A stale suppression hides the next real finding on that line.

    ## Example
    ```python
    t.start()  # noqa: TL201   <- the thread is joined now; nothing to suppress
    ```

    ## How to suppress
    Remove the comment, or `# noqa: TL002`.
    """
    code = "TL002"
    name = "unused-suppression"
    summary = "A `# noqa: TLnnn` or `# threadlint: ignore[...]` comment that suppresses nothing"
    opt_in = True
