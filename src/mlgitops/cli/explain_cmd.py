"""`mlgitops explain`."""

from __future__ import annotations

import click

from mlgitops.cli.options import ProjectChoice, format_option, project_options, report_for
from mlgitops.cli.output import echo


@click.command()
@click.argument("model")
@click.option("--env", "environment", metavar="ENV", help="Only this environment (default: every one).")
@project_options(positional=False)
@format_option(("text", "json"), "Output format: text (people) or json (machines).")
def explain(model: str, environment: str | None, project: ProjectChoice, fmt: str) -> int:
    """Show MODEL's resolved serving settings in each environment and, for every
    value, the file:line and layer it came from.

    Layers, lowest first: mlgitops default, project defaults, environment,
    model, deployment (the model's per-environment override).
    """
    from mlgitops.errors import UserError
    from mlgitops.explain import explain as explain_model
    from mlgitops.pipeline import validate_project
    from mlgitops.reporters import render
    from mlgitops.reporters.explain_report import render as render_explanation

    result = validate_project(project.ref())
    if not result.ok or result.resolved is None:
        report = report_for(result.diagnostics, result)
        echo(render(report, "text"), nl=False, err=True)
        raise UserError("the project has errors; fix them first")
    echo(render_explanation(explain_model(result.resolved, model, environment), fmt), nl=False)
    return 0
