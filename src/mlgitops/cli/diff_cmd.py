"""`mlgitops diff`."""

from __future__ import annotations

import click

from mlgitops.cli.failures import reported
from mlgitops.cli.options import ProjectChoice, project_options
from mlgitops.cli.output import echo


@click.command()
@project_options(positional=True)
@click.option(
    "--base",
    "base",
    default=None,
    metavar="REF",
    help="Git revision to compare with (a branch, tag or commit; in CI, fetch it first). Default "
    "in a pull request's CI job: its merge base with the target branch.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "markdown", "json", "github"]),
    default="text",
    show_default=True,
    help="text for terminals, markdown for a pull-request comment, json for machines (the "
    "diagnostics document when a side does not validate), github: text and a notice, or "
    "annotations of the problems.",
)
@click.option(
    "--exit-code", is_flag=True, help="Exit 1 when the generated files differ (like git diff --exit-code)."
)
def diff(project: ProjectChoice, base: str | None, fmt: str, exit_code: bool) -> int:
    """Show what the change since REF does to the generated output.

    Compiles the project as it is at REF (read from git objects: the work tree
    and the index are not touched) and as it is now, then reports, per model
    and environment, version and canary changes, replica and resource changes,
    alerts added or removed, new and retired models, and the unified diff of
    every generated file.
    """
    return reported(fmt, lambda: _diff(project, base, fmt, exit_code))


def _diff(project: ProjectChoice, base: str | None, fmt: str, exit_code: bool) -> int:
    import os

    from mlgitops.diffing import diff_project
    from mlgitops.reporters.diff_report import render

    if base is None:
        from mlgitops.ci_base import default_base

        base = default_base(project.base.resolve(), os.environ)
    result = diff_project(project.ref(), base)
    echo(render(result, fmt), nl=False)
    return 1 if exit_code and not result.empty else 0
