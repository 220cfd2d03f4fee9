"""`mlgitops compile` and `mlgitops check`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from mlgitops.cli.options import (
    ProjectChoice,
    format_option,
    progress_options,
    project_options,
    quiet_option,
    report_for,
)
from mlgitops.cli.output import colour_wanted, echo

if TYPE_CHECKING:
    from mlgitops.cli.progress import TerminalProgress


@click.command("compile")
@project_options(positional=True)
@format_option(("text", "json", "github", "sarif"))
@quiet_option
@progress_options
@click.option("--no-cache", is_flag=True, help="Recompile even if no input changed since the last compile.")
@click.option(
    "--strict",
    is_flag=True,
    help="Fail (writing nothing) instead of overwriting a generated file that was edited by hand.",
)
def compile_(
    project: ProjectChoice, fmt: str, quiet: bool, progress: TerminalProgress, no_cache: bool, strict: bool
) -> int:
    """Generate every file the project's models need and write them under the
    project (default output directory: deploy/).

    Validates first; if anything is wrong, nothing is written. Files mlgitops
    generated before and no longer generates are pruned, but only if they lie
    where mlgitops writes, still carry its header and are unchanged since it
    wrote them (others are kept, with a warning); files it did not generate are
    never touched, and no symbolic link is ever followed. The ownership
    manifest is .mlgitops/manifest.json. An interrupted compile is rolled back
    by the next compile, so the tree is never left half-written.

    With --format json, a successful compile prints the diagnostics document
    with a "compile" section (files, written, pruned, unchanged, up_to_date,
    recovered, warnings and the paths written and pruned).
    """
    from mlgitops.pipeline import compile_project
    from mlgitops.reporters import render
    from mlgitops.reporters.compile_report import CompileSummary, compile_json, compile_summary

    result = compile_project(project.ref(), use_cache=not no_cache, strict=strict, progress=progress)
    report = report_for(result.diagnostics, result.validation)
    if quiet:
        report = report.quiet()
    colour = colour_wanted()
    if not result.ok:
        echo(render(report, fmt, colour=colour), nl=False)
        echo("compile failed: nothing was written", err=True)
        return 1
    done = CompileSummary(
        result.file_count, result.written, result.pruned, result.up_to_date, result.recovered, result.vanished
    )
    if fmt == "json":
        echo(compile_json(report, done), nl=False)
    elif fmt == "sarif":  # a log even when clean, so that an upload step always has one
        echo(render(report, fmt), nl=False)
    else:
        if report.diagnostics:
            echo(render(report, fmt, colour=colour), nl=False)
        if fmt == "text" and not quiet:
            echo(compile_summary(done), nl=False)
    return 0


@click.command()
@project_options(positional=True)
@format_option(("text", "json", "github", "sarif"))
@quiet_option
@progress_options
@click.option("--no-diff", is_flag=True, help="List the files that differ without their diffs.")
def check(project: ProjectChoice, fmt: str, quiet: bool, progress: TerminalProgress, no_diff: bool) -> int:
    """Fail if the generated files on disk differ from a fresh compile.

    Compiles in memory (nothing is written) and reports every generated file
    that was edited by hand, is missing, or is stale (generated before, no
    longer generated), with a unified diff. Run it in CI after 'validate'.
    GitHub annotations and SARIF results point at the first changed line.

    Exits 0 when in sync, 1 when anything differs or the specs are invalid.
    """
    from mlgitops.pipeline import check_project
    from mlgitops.reporters import render
    from mlgitops.reporters.compile_report import drift_report

    result = check_project(project.ref(), progress=progress)
    report = report_for(result.diagnostics, result.validation)
    if quiet:
        report = report.quiet()
    colour = colour_wanted()
    if not result.ok:
        echo(render(report, fmt, colour=colour), nl=False)
        return 1
    echo(drift_report(report, result.drift, fmt, show_diff=not no_diff, colour=colour), nl=False)
    return 1 if result.drift else 0
