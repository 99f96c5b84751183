"""The `threadlint` command: options become Settings; the runner does the work."""

from __future__ import annotations

import sys
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import IO, List, Optional, Tuple

import click

from threadlint import __version__
from threadlint.config import ConfigError, Settings, find_config_file, load_config, validate_codes
from threadlint.diagnostics import Diagnostic
from threadlint.report import FORMATS
from threadlint.report.text import render_with_source
from threadlint.rules.base import all_rules, get_rule
from threadlint.runner import RunResult, run, run_source

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


def _split(values: Tuple[str, ...]) -> List[str]:
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def build_settings(
    *,
    config: Optional[str],
    isolated: bool,
    select: Tuple[str, ...],
    ignore: Tuple[str, ...],
    extend_select: Tuple[str, ...],
    extend_ignore: Tuple[str, ...],
    exclude: Tuple[str, ...],
    extend_exclude: Tuple[str, ...],
    preview: bool,
    free_threaded: bool,
    respect_gitignore: Optional[bool] = None,
) -> Settings:
    """Config file first, then the command line over it."""
    if isolated:
        settings = Settings(root=str(Path.cwd()))
    elif config:
        path = Path(config)
        if not path.is_file():
            raise ConfigError(f"--config: no such file: {config}")
        settings = load_config(path)
    else:
        found = find_config_file(Path.cwd())
        settings = load_config(found) if found else Settings(root=str(Path.cwd()))
    changes = {}
    if select:
        changes["select"] = tuple(validate_codes(_split(select), "--select"))
    if ignore:
        changes["ignore"] = tuple(validate_codes(_split(ignore), "--ignore"))
    if extend_select:
        extra = validate_codes(_split(extend_select), "--extend-select")
        changes["extend_select"] = (*settings.extend_select, *extra)
    if extend_ignore:
        extra = validate_codes(_split(extend_ignore), "--extend-ignore")
        changes["extend_ignore"] = (*settings.extend_ignore, *extra)
    if exclude:
        changes["exclude"] = tuple(_split(exclude))
    if extend_exclude:
        changes["extend_exclude"] = (*settings.extend_exclude, *_split(extend_exclude))
    if preview:
        changes["preview"] = True
    if free_threaded:
        changes["free_threaded"] = True
    if respect_gitignore is not None:
        changes["respect_gitignore"] = respect_gitignore
    return replace(settings, **changes)


def _list_rules() -> None:
    for rule in all_rules():
        flags = []
        if rule.preview:
            flags.append("preview")
        if rule.opt_in:
            flags.append("opt-in")
        if rule.fixable:
            flags.append("fixable")
        suffix = f"  [{', '.join(flags)}]" if flags else ""
        click.echo(f"{rule.code}  {rule.name:<36} {rule.summary}{suffix}")


def _explain(code: str) -> int:
    from threadlint.docs_gen import rule_page

    rule = get_rule(code.upper())
    if rule is None:
        click.echo(f"threadlint: error: unknown rule code '{code}'", err=True)
        return EXIT_ERROR
    click.echo(rule_page(rule), nl=False)
    return EXIT_CLEAN


def _statistics(diagnostics: List[Diagnostic], out: IO[str]) -> None:
    counts = Counter(d.code for d in diagnostics)
    for code, count in sorted(counts.items()):
        rule = get_rule(code)
        name = rule.name if rule else ""
        out.write(f"{count:<5} {code} {name}\n")


def _summary(result: RunResult, quiet: bool) -> None:
    if quiet:
        return
    n = len(result.diagnostics)
    files = len({d.path for d in result.diagnostics})
    fixable = sum(1 for d in result.diagnostics if d.fix is not None and d.fix.safe)
    if n == 0:
        message = f"No problems found in {result.files_checked} file{'s' * (result.files_checked != 1)}."
    else:
        message = f"Found {n} problem{'s' * (n != 1)} in {files} file{'s' * (files != 1)}"
        message += f" ({fixable} fixable with --fix)." if fixable else "."
    click.echo(message, err=True)


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--select", multiple=True, help="Rule codes or prefixes to enable (replaces config).")
@click.option("--ignore", multiple=True, help="Rule codes or prefixes to disable.")
@click.option("--extend-select", multiple=True, help="Codes or prefixes to enable in addition.")
@click.option("--extend-ignore", multiple=True, help="Codes or prefixes to disable in addition.")
@click.option("--exclude", multiple=True, help="Glob patterns to skip (replaces the defaults).")
@click.option("--extend-exclude", multiple=True, help="Glob patterns to skip in addition.")
@click.option(
    "--respect-gitignore/--no-respect-gitignore", default=None, help="Skip files .gitignore ignores."
)
@click.option(
    "--format", "output_format", type=click.Choice(sorted(FORMATS)), default="text",
    show_default=True, help="Output format.",
)
@click.option("--output-file", type=click.Path(dir_okay=False), help="Write the report to a file.")
@click.option("--show-source", is_flag=True, help="Show the offending line under each finding.")
@click.option("--statistics", is_flag=True, help="Count findings per rule at the end.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings.")
@click.option("-j", "--jobs", type=click.IntRange(min=0), default=0,
              help="Worker processes (default: all cores; 1 = in-process).")
@click.option("--config", type=click.Path(), help="Read configuration from this file.")
@click.option("--isolated", is_flag=True, help="Ignore all configuration files.")
@click.option("--stdin-filename", help="The name of the file read from '-' (stdin).")
@click.option("--preview", is_flag=True, help="Also run rules marked preview.")
@click.option("--free-threaded", is_flag=True, help="Lint for a free-threaded (PEP 703) CPython.")
@click.option("--list-rules", is_flag=True, help="List every rule and exit.")
@click.option("--explain", metavar="CODE", help="Show one rule's documentation and exit.")
@click.option("-q", "--quiet", is_flag=True, help="Print findings only, no summary.")
@click.option("-v", "--verbose", is_flag=True, help="Print internal errors in full.")
@click.version_option(__version__, "--version", prog_name="threadlint")
def cli(
    paths: Tuple[str, ...],
    select: Tuple[str, ...],
    ignore: Tuple[str, ...],
    extend_select: Tuple[str, ...],
    extend_ignore: Tuple[str, ...],
    exclude: Tuple[str, ...],
    extend_exclude: Tuple[str, ...],
    respect_gitignore: Optional[bool],
    output_format: str,
    output_file: Optional[str],
    show_source: bool,
    statistics: bool,
    exit_zero: bool,
    jobs: int,
    config: Optional[str],
    isolated: bool,
    stdin_filename: Optional[str],
    preview: bool,
    free_threaded: bool,
    list_rules: bool,
    explain: Optional[str],
    quiet: bool,
    verbose: bool,
) -> None:
    """Find thread-safety bugs in Python code.

    PATHS are files or directories (default: the current directory); '-'
    reads one file from standard input.
    """
    if list_rules:
        _list_rules()
        sys.exit(EXIT_CLEAN)
    if explain:
        sys.exit(_explain(explain))
    try:
        settings = build_settings(
            config=config, isolated=isolated, select=select, ignore=ignore,
            extend_select=extend_select, extend_ignore=extend_ignore, exclude=exclude,
            extend_exclude=extend_exclude, preview=preview, free_threaded=free_threaded,
            respect_gitignore=respect_gitignore,
        )
    except ConfigError as exc:
        click.echo(f"threadlint: error: {exc}", err=True)
        sys.exit(EXIT_ERROR)

    targets = list(paths) or ["."]
    if "-" in targets:
        if targets != ["-"]:
            click.echo("threadlint: error: '-' (stdin) cannot be mixed with other paths", err=True)
            sys.exit(EXIT_ERROR)
        source = click.get_binary_stream("stdin").read()
        result = run_source(source, stdin_filename or "-", settings)
    else:
        missing = [p for p in targets if not Path(p).exists()]
        if missing:
            click.echo(f"threadlint: error: no such file or directory: {missing[0]}", err=True)
            sys.exit(EXIT_ERROR)
        result = run(targets, settings, jobs=jobs)

    out: IO[str]
    if output_file:
        out = open(output_file, "w", encoding="utf-8")
    else:
        out = sys.stdout
    try:
        if output_format == "text" and show_source:
            render_with_source(result.diagnostics, out)
        else:
            FORMATS[output_format](result.diagnostics, out)
        if statistics and output_format == "text":
            _statistics(result.diagnostics, out)
    finally:
        if output_file:
            out.close()

    for path, error in result.errors:
        first = error.strip().splitlines()[-1] if error.strip() else "unknown error"
        click.echo(f"threadlint: internal error while linting {path}: {first}", err=True)
        if verbose:
            click.echo(error, err=True)
    _summary(result, quiet)
    if result.errors:
        sys.exit(EXIT_ERROR)
    if result.diagnostics and not exit_zero:
        sys.exit(EXIT_FINDINGS)
    sys.exit(EXIT_CLEAN)


def main() -> None:
    cli(prog_name="threadlint")
