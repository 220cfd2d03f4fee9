"""`mlgitops explain`."""

from __future__ import annotations

import click

from mlgitops.cli.failures import reported
from mlgitops.cli.names import complete_models
from mlgitops.cli.options import ProjectChoice, environment_option, format_option, project_options, report_for
from mlgitops.cli.output import echo


@click.command()
@click.argument("model", shell_complete=complete_models)
@environment_option("--env", "Only this environment (default: every one).")
@project_options(positional=False)
@format_option(
    ("text", "json"),
    "Output format: text (people) or json (machines; the diagnostics document when the project has errors).",
)
def explain(model: str, environment: str | None, project: ProjectChoice, fmt: str) -> int:
    """Show MODEL's resolved serving settings in each environment and, for every
    value, the file:line and layer it came from.

    Layers, lowest first: mlgitops default, project defaults, environment,
    model, deployment (the model's per-environment override).
    """
    return reported(fmt, lambda: _explain(model, environment, project, fmt))


def _explain(model: str, environment: str | None, project: ProjectChoice, fmt: str) -> int:
    from mlgitops.errors import UserError
    from mlgitops.explain import explain as explain_model
    from mlgitops.explain import retirement
    from mlgitops.pipeline import validate_project
    from mlgitops.reporters import render
    from mlgitops.reporters.explain_report import render as render_explanation
    from mlgitops.reporters.explain_report import render_retirement

    result = validate_project(project.ref())
    if not result.ok or result.resolved is None:
        if fmt != "text":
            raise UserError("the project has errors; fix them first", result.diagnostics)
        report = report_for(result.diagnostics, result)
        echo(render(report, "text"), nl=False, err=True)
        raise UserError("the project has errors; fix them first")
    explanations = explain_model(result.resolved, model, environment)
    retired = retirement(result.resolved, model)
    if retired is not None:
        # JSON stays a list of explanations (empty) on stdout; the note goes beside it.
        if fmt == "json":
            echo(render_explanation(explanations, fmt), nl=False)
        echo(render_retirement(retired), nl=False, err=fmt == "json")
        return 0
    echo(render_explanation(explanations, fmt), nl=False)
    return 0
