"""`-v`: what the run was told and what it looked at, on stderr before the summary.

A user who wonders why a file got no finding needs to see which configuration
applied, whether the file was linted at all, and whether threadlint analysed
it fully (a file with no sign of threads, locks or executors is only checked
for syntax; see docs/design.md).
"""

from __future__ import annotations

from collections.abc import Sequence

from threadlint.analysis.per_file import FileResult
from threadlint.config import Settings
from threadlint.project_model import project_model
from threadlint.runner import RunResult


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'s' * (count != 1)}"


def run_report(
    result: RunResult,
    *,
    config_files: Sequence[str],
    isolated: bool,
    seconds: float,
) -> list[str]:
    """The lines `-v` prints, without the `threadlint: ` prefix."""
    lines = []
    if isolated:
        lines.append("configuration: none (--isolated)")
    elif config_files:
        lines.extend(f"configuration: {path}" for path in config_files)
    else:
        lines.append("configuration: none found (the defaults apply)")
    found = len(result.files)
    skipped = sum(1 for r in result.files if r.skipped)
    analysed = sum(1 for r in result.files if r.analysed)
    counts = f"{_plural(found, 'file')} found, {found - skipped} linted"
    if skipped:
        counts += f" ({skipped} skipped by `# threadlint: skip-file` or `# flake8: noqa`)"
    counts += (
        f", {analysed} fully analysed (the others show no sign of threads, locks or "
        "executors, or do not parse)"
    )
    lines.append(counts)
    if result.scope is not None:
        lines.append(
            f"findings reported for {_plural(len(result.scope), 'file')} only, linted with "
            "the rest of their project (--no-whole-project lints them alone)"
        )
    if result.settings is not None:
        lines.extend(_concurrency(result.files, result.settings))
    lines.append(f"took {seconds:.2f} s")
    return lines


# Enough to see what threadlint believes without drowning the summary.
_SHOWN = 20


def _concurrency(files: Sequence[FileResult], settings: Settings) -> list[str]:
    """What the race model believes runs on threads: the thread roots it found
    (with where each is started) and the concurrent APIs whose public
    functions it treats as entries from several threads."""
    model = project_model(files, settings)
    threads = [root for root in model.roots if not root.api]
    apis = sorted({root.description for root in model.roots if root.api})
    lines = [f"thread roots: {len(threads)}"]
    for root in threads[:_SHOWN]:
        where = f"{root.at[0]}:{root.at[1]}" if root.at[0] else "its thread"
        lines.append(f"  `{root.function}` {root.description.replace('{at}', where)}")
    if len(threads) > _SHOWN:
        lines.append(f"  ... and {len(threads) - _SHOWN} more")
    lines.append(f"concurrent APIs: {len(apis)}")
    lines.extend(f"  {description}" for description in apis[:_SHOWN])
    if len(apis) > _SHOWN:
        lines.append(f"  ... and {len(apis) - _SHOWN} more")
    return lines
