"""The `threadlint` command: options become Settings; the runner does the work."""

from __future__ import annotations

import contextlib
import io
import os
import sys
import time
import traceback
from collections import Counter
from pathlib import Path
from typing import IO, Any, Callable, TextIO

import click

from threadlint import __version__
from threadlint.baseline import Baseline
from threadlint.baseline import write_baseline as save_baseline
from threadlint.config import ConfigError, Settings, validate_codes
from threadlint.config_lookup import ConfigLookup, Overrides
from threadlint.diagnostics import Diagnostic
from threadlint.fix import applicable, fix_run, unified_diff, write_fixes
from threadlint.printable import printable
from threadlint.project import lint_buffer, lint_paths
from threadlint.report import FORMATS, render_report
from threadlint.rules.base import all_rules, get_rule
from threadlint.runner import RunResult
from threadlint.source_text import SourceCache, SourceText
from threadlint.verbose import run_report

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


def _split(values: tuple[str, ...]) -> list[str]:
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def build_settings(
    *,
    config: str | None,
    isolated: bool,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    extend_select: tuple[str, ...],
    extend_ignore: tuple[str, ...],
    exclude: tuple[str, ...],
    extend_exclude: tuple[str, ...],
    preview: bool,
    free_threaded: bool,
    target_version: str | None = None,
    respect_gitignore: bool | None = None,
) -> Settings:
    """The run's settings: the command line over the defaults, carrying the
    run's `ConfigLookup`, through which each file found gets its own nearest
    configuration (or `config` for all, or none when `isolated`) with the
    command line over it.  Configuration files are read as the files they
    govern are met, so one that governs no file linted is never read."""
    overrides = Overrides(
        select=tuple(validate_codes(_split(select), "--select")),
        ignore=tuple(validate_codes(_split(ignore), "--ignore")),
        extend_select=tuple(validate_codes(_split(extend_select), "--extend-select")),
        extend_ignore=tuple(validate_codes(_split(extend_ignore), "--extend-ignore")),
        exclude=tuple(_split(exclude)),
        extend_exclude=tuple(_split(extend_exclude)),
        preview=preview,
        free_threaded=free_threaded,
        target_version=target_version,
        respect_gitignore=respect_gitignore,
    )
    lookup = ConfigLookup(
        overrides, config=Path(config) if config else None, isolated=isolated
    )
    return lookup.base_settings()


def _list_rules(out: TextIO) -> None:
    for rule in all_rules():
        flags = []
        if rule.preview:
            flags.append("preview")
        if rule.opt_in:
            flags.append("opt-in")
        if rule.fixable:
            flags.append("fixable")
        suffix = f"  [{', '.join(flags)}]" if flags else ""
        out.write(f"{rule.code}  {rule.name:<36} {rule.summary}{suffix}\n")


def _explain(code: str) -> int:
    from threadlint.docs_gen import rule_page

    rule = get_rule(code.upper())
    if rule is None:
        _error(f"unknown rule code '{printable(code)}'")
        return EXIT_ERROR
    page = rule_page(rule)
    _deliver(lambda out: out.write(page), sys.stdout, "standard output")
    return EXIT_CLEAN


def _statistics(diagnostics: list[Diagnostic], out: IO[str]) -> None:
    counts = Counter(d.code for d in diagnostics)
    for code, count in sorted(counts.items()):
        rule = get_rule(code)
        name = rule.name if rule else ""
        out.write(f"{count:<5} {code} {name}\n")


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'s' * (count != 1)}"


def _summary(
    diagnostics: list[Diagnostic],
    files_checked: int,
    *,
    unsafe_fixes: bool,
    fixed: int | None = None,
    baselined: int = 0,
) -> str:
    n = len(diagnostics)
    if fixed:
        message = f"Found {_plural(n + fixed, 'problem')} ({fixed} fixed, {n} remaining)."
    elif n == 0:
        message = f"No problems found in {_plural(files_checked, 'file')}."
    else:
        files = len({d.path for d in diagnostics})
        message = f"Found {_plural(n, 'problem')} in {_plural(files, 'file')}"
        fixable = sum(1 for d in diagnostics if applicable(d.fix, unsafe_fixes))
        hidden = sum(1 for d in diagnostics if d.fix is not None and not applicable(d.fix, unsafe_fixes))
        notes = []
        if fixable:
            notes.append(f"{fixable} fixable with --fix")
        if hidden:
            notes.append(f"{hidden} more with --fix --unsafe-fixes")
        message += f" ({'; '.join(notes)})." if notes else "."
    if baselined:
        message += f" {_plural(baselined, 'known problem')} hidden by the baseline."
    return message


def _use_color(choice: str, stream: IO[str]) -> bool:
    """--color auto: colour a terminal, unless NO_COLOR (FORCE_COLOR forces it)."""
    if choice != "auto":
        return choice == "always"
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def _error(message: str) -> None:
    click.echo(f"threadlint: error: {message}", err=True)


class _OutputFailed(Exception):
    """The report could not be written (a full disk): one line, exit 2."""


def _deliver(write: Callable[[TextIO], object], out: TextIO, where: str) -> None:
    """Write with `write` to `out` and flush it.

    A reader that closed the pipe (`threadlint | head -1`) has seen enough:
    the rest of the output is dropped quietly and the run ends with the
    status it has anyway.  Any other write error (a full disk) is an
    `_OutputFailed` naming `where`.
    """
    try:
        write(out)
        out.flush()
    except BrokenPipeError:
        _silence(out)
    except OSError as exc:
        raise _OutputFailed(f"{where}: cannot write: {exc.strerror or exc}") from None


def _silence(out: TextIO) -> None:
    """Point a stream whose reader is gone at the null device, so that the
    flush at interpreter exit neither fails nor complains."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, out.fileno())
        os.close(null)
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
        pass  # not a file descriptor (tests): nothing is flushed at exit


class _Command(click.Command):
    """The last line of defence: an unexpected error is one line and exit 2,
    its traceback only with -v (per-file errors are handled in the runner)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except _OutputFailed as exc:
            _error(str(exc))
            sys.exit(EXIT_ERROR)
        except BrokenPipeError:
            # A closed pipe anywhere else (stderr): nothing more to say to anyone.
            _silence(sys.stdout)
            sys.exit(EXIT_ERROR)
        except Exception as exc:
            if ctx.params.get("verbose"):
                click.echo(traceback.format_exc(), err=True, nl=False)
            hint = "" if ctx.params.get("verbose") else " (run with -v for the traceback)"
            click.echo(f"threadlint: internal error: {type(exc).__name__}: {exc}{hint}", err=True)
            sys.exit(EXIT_ERROR)


@click.command(cls=_Command, context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--select", multiple=True, help="Rule codes or prefixes to enable (replaces config).")
@click.option("--ignore", multiple=True, help="Rule codes or prefixes to disable.")
@click.option("--extend-select", multiple=True, help="Codes or prefixes to enable in addition.")
@click.option("--extend-ignore", multiple=True, help="Codes or prefixes to disable in addition.")
@click.option("--exclude", multiple=True, help="Glob patterns to skip (replaces the defaults).")
@click.option("--extend-exclude", multiple=True, help="Glob patterns to skip in addition.")
@click.option("--force-exclude", is_flag=True,
              help="Apply excludes to paths named on the command line too (pre-commit, editors).")
@click.option(
    "--whole-project/--no-whole-project", default=True, show_default=True,
    help="With files named (or stdin), analyse the rest of their project too, so that "
    "findings needing other modules are reported in them.",
)
@click.option(
    "--respect-gitignore/--no-respect-gitignore", default=None, help="Skip files .gitignore ignores."
)
@click.option(
    "--format", "--output-format", "output_format", type=click.Choice(sorted(FORMATS)),
    default="text", show_default=True, help="Output format (--output-format: ruff's name).",
)
@click.option("--output-file", type=click.Path(dir_okay=False), help="Write the report to a file.")
@click.option("--show-source", is_flag=True, help="Show the code around each finding, with carets.")
@click.option(
    "--color", type=click.Choice(["auto", "always", "never"]), default="auto", show_default=True,
    help="Colour the text output (auto: when writing to a terminal; NO_COLOR is honoured).",
)
@click.option(
    "--statistics", is_flag=True,
    help="Count findings per rule: after the text report; on stderr for json, sarif, github.",
)
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings.")
@click.option("-j", "--jobs", type=click.IntRange(min=0), default=0,
              help="Worker processes (default: all cores; 1 = in-process).")
@click.option("--no-cache", is_flag=True, help="Neither read nor write the results cache.")
@click.option("--cache-dir", type=click.Path(file_okay=False),
              help="The results cache's directory (default: .threadlint_cache/ at the project root).")
@click.option("--config", type=click.Path(), help="Read configuration from this file.")
@click.option("--isolated", is_flag=True, help="Ignore all configuration files.")
@click.option("--stdin-filename", help="The name of the file read from '-' (stdin).")
@click.option("--preview", is_flag=True, help="Also run rules marked preview.")
@click.option("--free-threaded", is_flag=True, help="Lint for a free-threaded (PEP 703) CPython.")
@click.option(
    "--target-version", metavar="VERSION",
    help="The oldest Python the code runs on (py39, 3.12); default: requires-python.",
)
@click.option("--fix", is_flag=True, help="Apply the safe fixes, then report what remains.")
@click.option("--diff", is_flag=True, help="Print the fixes as a unified diff; change nothing.")
@click.option(
    "--unsafe-fixes", is_flag=True,
    help="With --fix/--diff, also apply fixes that change behaviour on purpose.",
)
@click.option("--baseline", type=click.Path(dir_okay=False),
              help="Report only findings that this baseline file does not list.")
@click.option("--write-baseline", type=click.Path(dir_okay=False),
              help="Write every current finding to this baseline file and exit.")
@click.option("--list-rules", is_flag=True, help="List every rule and exit.")
@click.option("--explain", metavar="CODE", help="Show one rule's documentation and exit.")
@click.option("-q", "--quiet", is_flag=True, help="Print findings only, no summary.")
@click.option(
    "-v", "--verbose", is_flag=True,
    help="Also print the configuration used, the files found and analysed, the time taken, "
    "and internal errors in full.",
)
@click.version_option(__version__, "--version", prog_name="threadlint")
def cli(
    paths: tuple[str, ...],
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    extend_select: tuple[str, ...],
    extend_ignore: tuple[str, ...],
    exclude: tuple[str, ...],
    extend_exclude: tuple[str, ...],
    force_exclude: bool,
    whole_project: bool,
    respect_gitignore: bool | None,
    output_format: str,
    output_file: str | None,
    show_source: bool,
    color: str,
    statistics: bool,
    exit_zero: bool,
    jobs: int,
    no_cache: bool,
    cache_dir: str | None,
    config: str | None,
    isolated: bool,
    stdin_filename: str | None,
    preview: bool,
    free_threaded: bool,
    target_version: str | None,
    fix: bool,
    diff: bool,
    unsafe_fixes: bool,
    baseline: str | None,
    write_baseline: str | None,
    list_rules: bool,
    explain: str | None,
    quiet: bool,
    verbose: bool,
) -> None:
    """Find thread-safety bugs in Python code.

    PATHS are files or directories (default: the current directory); '-'
    reads one file from standard input.
    """
    started = time.perf_counter()
    if list_rules:
        _deliver(_list_rules, sys.stdout, "standard output")
        sys.exit(EXIT_CLEAN)
    if explain:
        sys.exit(_explain(explain))
    try:
        settings = build_settings(
            config=config, isolated=isolated, select=select, ignore=ignore,
            extend_select=extend_select, extend_ignore=extend_ignore, exclude=exclude,
            extend_exclude=extend_exclude, preview=preview, free_threaded=free_threaded,
            target_version=target_version,
            respect_gitignore=respect_gitignore,
        )
        known = Baseline.load(baseline) if baseline else None
    except ConfigError as exc:
        _error(str(exc))
        sys.exit(EXIT_ERROR)
    if write_baseline and (fix or diff):
        _error("--write-baseline cannot be combined with --fix or --diff")
        sys.exit(EXIT_ERROR)
    sources = SourceCache()

    # As ruff: --stdin-filename without paths means stdin (editors rely on it).
    targets = list(paths) or (["-"] if stdin_filename else ["."])
    stdin_name: str | None = None
    if "-" in targets and targets != ["-"]:
        _error("'-' (stdin) cannot be mixed with other paths")
        sys.exit(EXIT_ERROR)
    missing = [p for p in targets if p != "-" and not os.path.lexists(p)]
    if missing:
        _error(f"no such file or directory: {printable(missing[0])}")
        sys.exit(EXIT_ERROR)
    try:
        # Nested configurations are read as the files they govern are met.
        if targets == ["-"]:
            source = sys.stdin.buffer.read()
            stdin_name = stdin_filename or "-"
            sources.put(stdin_name, SourceText.from_bytes(source))
            result = lint_buffer(
                source, stdin_name, settings, jobs=jobs, no_cache=no_cache, cache_dir=cache_dir,
                force_exclude=force_exclude, whole_projects=whole_project,
            )
        else:
            result = lint_paths(
                targets, settings, jobs=jobs, no_cache=no_cache, cache_dir=cache_dir,
                force_exclude=force_exclude, whole_projects=whole_project,
            )
    except ConfigError as exc:
        _error(str(exc))
        sys.exit(EXIT_ERROR)

    _report_errors(result, verbose)
    if write_baseline:
        try:
            count = save_baseline(write_baseline, result.diagnostics, sources)
        except ConfigError as exc:
            _error(str(exc))
            sys.exit(EXIT_ERROR)
        if not quiet:
            click.echo(
                f"Wrote {_plural(count, 'finding')} to the baseline {printable(write_baseline)}.",
                err=True,
            )
        sys.exit(EXIT_ERROR if _lost_findings(result) else EXIT_CLEAN)

    wanted = known.new_findings if known else None
    fixed: int | None = None
    if fix or diff:
        outcome = fix_run(
            result, result.settings or settings, sources, unsafe=unsafe_fixes, wanted=wanted
        )
        for warning in outcome.warnings:
            click.echo(f"threadlint: warning: {printable(warning)}", err=True)
        if not outcome.converged:
            click.echo("threadlint: warning: fixes did not settle after "
                       "several rounds; run --fix again and check the result", err=True)
        changed = outcome.changed_paths(sources)
        if diff:

            def print_diffs(out: TextIO) -> None:
                for path in changed:
                    after = sources.get(path)
                    assert after is not None
                    out.write(unified_diff(path, outcome.originals[path].text, after.text))

            _deliver(print_diffs, sys.stdout, "standard output")
            if not quiet:
                message = (
                    f"Would fix {_plural(outcome.fixed, 'problem')} in {_plural(len(changed), 'file')}."
                    if changed else "No fixes available."
                )
                click.echo(message, err=True)
            sys.exit(
                EXIT_ERROR if _lost_findings(result) else EXIT_FINDINGS if changed else EXIT_CLEAN
            )
        result = outcome.result
        fixed = outcome.fixed
        if stdin_name is not None:
            # As ruff: the fixed source goes to stdout, the findings to stderr.
            fixed_source = sources.get(stdin_name)
            assert fixed_source is not None
            fixed_bytes = fixed_source.to_bytes()
            _deliver(lambda _: sys.stdout.buffer.write(fixed_bytes), sys.stdout, "standard output")
        else:
            problems = write_fixes(outcome, sources, targets)
            for problem in problems:
                _error(printable(problem))
            if problems:
                result.errors.append(("<fix>", "\n".join(problems)))

    diagnostics = result.diagnostics
    baselined = 0
    if known:
        diagnostics, hidden = known.split(diagnostics, sources)
        baselined = len(hidden)

    out: TextIO
    where = "standard output"
    if output_file:
        where = f"--output-file {printable(output_file)}"
        try:
            out = open(output_file, "w", encoding="utf-8")  # noqa: SIM115 - closed below
        except OSError as exc:
            _error(f"{where}: {exc.strerror}")
            sys.exit(EXIT_ERROR)
    elif fix and stdin_name is not None:
        out, where = sys.stderr, "standard error"
    else:
        out = sys.stdout

    def report(stream: TextIO) -> None:
        render_report(
            output_format, diagnostics, stream, sources=sources,
            color=_use_color(color, stream), show_source=show_source, unsafe_fixes=unsafe_fixes,
        )
        if statistics and output_format == "text":
            _statistics(diagnostics, stream)

    try:
        _deliver(report, out, where)
        if statistics and output_format != "text":
            # The machine-readable formats keep stdout one valid document.
            _statistics(diagnostics, sys.stderr)
    finally:
        if output_file:
            with contextlib.suppress(OSError):  # a failure the flush reported
                out.close()

    if verbose:
        config_files = settings.lookup.used if settings.lookup is not None else []
        for line in run_report(result, config_files=config_files, isolated=isolated,
                               seconds=time.perf_counter() - started):
            click.echo(f"threadlint: {line}", err=True)
    if not quiet:
        click.echo(
            _summary(diagnostics, result.files_checked, unsafe_fixes=unsafe_fixes, fixed=fixed,
                     baselined=baselined),
            err=True,
        )
    if _lost_findings(result):
        sys.exit(EXIT_ERROR)
    if diagnostics and not exit_zero:
        sys.exit(EXIT_FINDINGS)
    sys.exit(EXIT_CLEAN)


def _report_errors(result: RunResult, verbose: bool) -> None:
    for file in result.files:
        if file.unreadable is not None:
            _error(f"{printable(file.path)}: cannot read: {file.unreadable}")
    for path, error in result.errors:
        first = error.strip().splitlines()[-1] if error.strip() else "unknown error"
        click.echo(
            f"threadlint: internal error while linting {printable(path)}: {printable(first)}",
            err=True,
        )
        if verbose:
            click.echo(error, err=True)


def _lost_findings(result: RunResult) -> bool:
    """A file could not be read or analysed: the run's findings are incomplete."""
    return bool(result.errors) or any(f.unreadable is not None for f in result.files)


def main() -> None:
    # `threadlint server` is the language server (a directory named `server`
    # is linted as `threadlint ./server`): editors start it by that name.
    if sys.argv[1:2] == ["server"]:
        from threadlint.server import main as serve

        sys.exit(serve(sys.argv[2:]))
    cli(prog_name="threadlint")
