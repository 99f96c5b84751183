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
class NotAnalysed(ToolRule):
    """
    ## What it does
    Reports a file that CPython accepts (or that could not be given to it)
    but that threadlint could not analyse, and why:

    - the parser crashed on it: the worker process analysing it died (a
      crash in libcst's native parser, the operating system ending it for
      memory), and died again when the file was retried alone; or the
      analysis ran out of memory;
    - it is too deeply nested to analyse (a syntax tree more than 400 levels
      deep, such as a 1,000-long `a + b + ...` or `a.b.b...` chain);
    - it is too large: over 2 MB it is only syntax-checked, over 5 MB not
      even that;
    - libcst, the parser threadlint's rules run on, rejects syntax that the
      running CPython accepts.

    A file CPython itself rejects is TL001 instead.

    ## Why is this bad?
    None of the file's thread-safety bugs can be found, and the findings of
    other files that depend on it (calls into it from a thread) may be lost.
    The rest of the run goes on; this finding makes the gap seen, and makes
    the run exit 1, as a syntax error does.

    ## How to suppress
    Exclude the file (`--extend-exclude`; generated code usually should be),
    or `--extend-ignore TL003`.
    """
    code = "TL003"
    name = "not-analysed"
    summary = "A file threadlint could not analyse (parser crash, too deep, too large)"


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
