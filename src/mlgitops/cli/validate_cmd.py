"""`mlgitops validate`."""

from __future__ import annotations

from pathlib import Path

import click

from mlgitops.cli.options import format_option, project_argument, report_for
from mlgitops.cli.output import echo


@click.command()
@project_argument()
@format_option(("text", "json", "github", "sarif"))
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
def validate(path: Path, fmt: str, strict: bool) -> int:
    """Check the project at PATH (a directory or its mlgitops.yaml; default: the
    current directory) and report every problem at once, each with its
    file:line:col and a hint.

    Checks the YAML itself, the schema of every field, references across
    files (environments, promotion order, duplicate names), secrets written
    as literals, and the project's policies.

    Exits 0 when there are no errors, 1 when there are.
    """
    from mlgitops.codes import Severity
    from mlgitops.pipeline import validate_project
    from mlgitops.reporters import render

    result = validate_project(path)
    report = report_for(result.diagnostics, result)
    echo(render(report, fmt), nl=False)
    failing = {Severity.ERROR, Severity.WARNING} if strict else {Severity.ERROR}
    return 1 if any(d.severity in failing for d in result.diagnostics) else 0
