"""`mlgitops gate`."""

from __future__ import annotations

from pathlib import Path

import click

from mlgitops.cli.failures import reported
from mlgitops.cli.names import complete_models
from mlgitops.cli.options import ProjectChoice, environment_option, format_option, project_options
from mlgitops.cli.output import echo


@click.command()
@click.argument("model", shell_complete=complete_models)
@click.option(
    "--metrics",
    "metrics_path",
    required=True,
    type=click.Path(path_type=Path, readable=False),  # read_metrics says what is wrong with it
    help="JSON file of metric name → number written by the evaluation step.",
)
@environment_option(
    "--env", "The environment the version is headed for (checked to exist; the gates are the model's)."
)
@project_options(positional=False)
@format_option(
    ("text", "json", "github", "markdown"),
    "text: a table; json: a document for machines (the diagnostics document when the gates "
    "cannot be applied); github: the table and an annotation per failed gate; markdown: the "
    "table for a pull request's description.",
)
def gate(model: str, metrics_path: Path, environment: str | None, project: ProjectChoice, fmt: str) -> int:
    """Check an evaluated version of MODEL against the evaluation gates in its spec.

    Prints each gate's metric, the measured value, the threshold and pass or
    FAIL. A metric missing from the file fails its gate. Exits 0 when every
    gate passes, 1 when any fails (or the file cannot be read, is not a regular
    file or is over 16 MiB). CI runs this between evaluation and registration.
    """
    return reported(fmt, lambda: _gate(model, metrics_path, environment, project, fmt))


def _gate(model: str, metrics_path: Path, environment: str | None, project: ProjectChoice, fmt: str) -> int:
    from mlgitops.diagnostics import did_you_mean
    from mlgitops.errors import UserError
    from mlgitops.gate import apply_gates, read_metrics
    from mlgitops.ir.lifecycle import evaluation
    from mlgitops.pipeline import validate_project
    from mlgitops.reporters.gate_report import render

    result = validate_project(project.ref())
    if not result.ok or result.resolved is None:
        # text points at validate; the diagnostics say where no project was found, and a
        # machine format carries them all
        shown = result.root is None or fmt != "text"
        raise UserError(
            "the project has errors; run 'mlgitops validate' to see them", result.diagnostics if shown else []
        )
    models = {m.name: m for m in result.resolved.validated.models}
    if model not in models:
        hint = did_you_mean(model, models)
        raise UserError(f"no model named {model!r}" + (f"; {hint}" if hint else ""))
    spec = models[model].spec.spec
    environments = result.resolved.validated.environment_names
    if environment is not None and environment not in environments:
        hint = did_you_mean(environment, environments)
        raise UserError(f"no environment named {environment!r}" + (f"; {hint}" if hint else ""))
    outcomes = apply_gates(evaluation(spec.evaluation), read_metrics(project.base / metrics_path))
    echo(render(model, outcomes, fmt), nl=False)
    return 0 if all(o.passed for o in outcomes) else 1
